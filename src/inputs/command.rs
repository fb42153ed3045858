//! A `command` input: argv run in the project root without a shell, with a
//! timeout and an output cap. Its exit code is part of the input (a failing
//! lint is information); a command that could not start, timed out or had
//! its output cut has not been seen whole.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;

use super::{Context, Gathered, Item, SourceInfo};
use crate::config::inputs::InputKind;
use crate::process::Group;

pub(crate) async fn run(
    ctx: &Context<'_>,
    name: &str,
    argv: &[String],
    timeout: Duration,
    max_bytes: u64,
) -> Gathered {
    let mut g = Gathered {
        name: name.to_string(),
        kind: InputKind::Command,
        source: SourceInfo {
            argv: argv.to_vec(),
            ..SourceInfo::default()
        },
        items: Vec::new(),
        excluded: Vec::new(),
        unseen: Vec::new(),
        exit_code: None,
    };
    let shown = argv.join(" ");
    match output(ctx, argv, timeout, max_bytes).await {
        Err(why) => g.unseen.push(format!("{name}: `{shown}` {why}")),
        Ok(Ran { out, err, code }) => {
            g.exit_code = code;
            for (what, (_, cut)) in [("stdout", &out), ("stderr", &err)] {
                if *cut {
                    g.unseen.push(format!(
                        "{name}: {what} of `{shown}` was cut at {max_bytes} bytes"
                    ));
                }
            }
            let code_text = code.map_or("killed by a signal".to_string(), |c| {
                format!("exit code {c}")
            });
            let text = format!(
                "$ {shown}\n[{code_text}]\n--- stdout ---\n{}\n--- stderr ---\n{}\n",
                out.0.trim_end(),
                err.0.trim_end()
            );
            g.items.push(Item {
                path: name.to_string(),
                label: code_text,
                text,
                rank: 0,
                hunks: None,
            });
        }
    }
    g
}

/// What a command that finished printed (each stream, and whether it was
/// cut) and its exit code (`None`: killed by a signal).
struct Ran {
    out: (String, bool),
    err: (String, bool),
    code: Option<i32>,
}

/// Why a command gave no complete output; reads after "`argv`".
#[derive(Debug, thiserror::Error)]
enum NotRun {
    #[error("could not start ({0})")]
    Start(std::io::Error),
    #[error("has no output pipes")]
    NoPipes,
    #[error("did not finish within {}", humantime::format_duration(*.0))]
    Timeout(Duration),
}

/// Run `argv` in its own process group with the secrets scrubbed, within
/// `timeout`; or why it did not finish.
async fn output(
    ctx: &Context<'_>,
    argv: &[String],
    timeout: Duration,
    max_bytes: u64,
) -> Result<Ran, NotRun> {
    let mut cmd = tokio::process::Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .current_dir(ctx.root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    crate::process::scrub(&mut cmd, ctx.scrub);
    // The command and everything it starts die with `_group`: on its
    // timeout, the run's deadline, a signal, or any early return.
    let (mut child, _group) = Group::spawn(&mut cmd).map_err(NotRun::Start)?;
    let (Some(out), Some(err)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(NotRun::NoPipes);
    };
    let read = async {
        let (o, e) = tokio::join!(capped(out, max_bytes), capped(err, max_bytes));
        let status = child.wait().await;
        (o, e, status)
    };
    let (out, err, status) = tokio::time::timeout(timeout, read)
        .await
        .map_err(|_| NotRun::Timeout(timeout))?;
    Ok(Ran {
        out,
        err,
        code: status.ok().and_then(|s| s.code()),
    })
}

/// Read at most `max` bytes; true when there was more. The rest is drained
/// so the child never blocks on a full pipe.
async fn capped(mut r: impl tokio::io::AsyncRead + Unpin, max: u64) -> (String, bool) {
    let mut kept = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let mut cut = false;
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = (max as usize).saturating_sub(kept.len());
                if n > room {
                    cut = true;
                }
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
    (String::from_utf8_lossy(&kept).into_owned(), cut)
}
