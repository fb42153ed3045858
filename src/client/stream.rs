//! A reply read as it is streamed, for a call that must say when its reply
//! starts: the primer of cache-aware fan-out (`engine::prime`), whose group
//! goes as soon as the provider has read the shared prefix, not when the
//! primer's whole reply is in. The engine scopes the primer's calls with
//! `when_started`; `Client::send` then asks for a stream (`stream: true`),
//! calls the hook on the first bytes of a successful reply, and reads the
//! server-sent events back into the body the same request would have had
//! unstreamed, so replies, usage and errors are read by one parser. A
//! server that answers whole anyway is read as before.

use std::sync::Arc;

/// Called once a scoped call's reply starts.
pub(crate) type Hook = Arc<dyn Fn() + Send + Sync>;

tokio::task_local! {
    static STARTED: Hook;
}

/// Run `fut` with its calls streamed, `hook` called as each reply starts.
pub(crate) async fn when_started<F: std::future::Future>(hook: Hook, fut: F) -> F::Output {
    STARTED.scope(hook, fut).await
}

/// The current task's hook, when its calls are to be streamed.
pub(super) fn hook() -> Option<Hook> {
    STARTED.try_with(Hook::clone).ok()
}

/// One server-sent event: its `event:` name ("" when none) and its data
/// lines joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    pub name: String,
    pub data: String,
}

/// The events of a whole stream (the WHATWG rules bsu needs: `event:` and
/// `data:` fields, one optional space after the colon, comments and other
/// fields ignored, CRLF or LF line ends, an event ended by a blank line).
pub(crate) fn events(body: &[u8]) -> Vec<Event> {
    let text = String::from_utf8_lossy(body);
    let mut out = Vec::new();
    let (mut name, mut data, mut any) = (String::new(), Vec::<&str>::new(), false);
    for line in text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
        if line.is_empty() {
            if any {
                out.push(Event {
                    name: std::mem::take(&mut name),
                    data: data.join("\n"),
                });
            }
            (data, any) = (Vec::new(), false);
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => name = value.to_string(),
            "data" => {
                data.push(value);
                any = true;
            }
            _ => {}
        }
    }
    if any {
        out.push(Event {
            name,
            data: data.join("\n"),
        });
    }
    out
}

/// Why a stream could not be read back into a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Broken {
    /// The server sent an error event: the error's body, as an unstreamed
    /// error reply would carry it.
    Error(String),
    /// The stream ended before its last event, or held something unreadable.
    Cut(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_split_as_the_standard_says() {
        let body = b": keep-alive\r\nevent: message_start\r\ndata: {\"a\":1}\r\n\r\n\
                     data:{\"b\":2}\ndata: more\nid: 7\n\ndata: [DONE]";
        assert_eq!(
            events(body),
            vec![
                Event {
                    name: "message_start".into(),
                    data: "{\"a\":1}".into()
                },
                Event {
                    name: String::new(),
                    data: "{\"b\":2}\nmore".into()
                },
                Event {
                    name: String::new(),
                    data: "[DONE]".into()
                },
            ]
        );
        assert!(events(b"").is_empty());
        assert!(events(b"event: ping\n\n").is_empty());
    }
}
