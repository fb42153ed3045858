//! Every JSON object a reply holds, found in one bounded pass.
//!
//! Each `{` may start an object. One that parses is read once: the objects
//! nested in it are taken from its tree, not parsed again from their own
//! `{` (a `{` inside a string of it can only start `{}` or nothing), and the
//! scan goes on after it. One that does not parse is charged for what the
//! parser read before it stopped. The parsing of a reply is bounded by
//! `BUDGET` times its length: a reply of nested, unterminated objects made
//! every `{` read to the end of it (60 levels over 8 MB took 12.7 s), and
//! one of nested, closed objects kept a tree per level (1.9 GB for 2 MB).
//! Where the budget runs out the scan stops, and the reader counts what it
//! did not read against the reply (fail-closed).

use std::cell::RefCell;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// How many times its length a reply's parsing may read. A reply read whole
/// costs about once its length (its objects once, the `{` of prose and code
/// a few bytes each).
const BUDGET: usize = 8;

/// The least budget, for short replies: 1 MiB.
const LEAST_BUDGET: usize = 1 << 20;

/// What the scan found: the spans of the objects that parsed (in order,
/// none inside another), and where it stopped, if it did.
pub(super) struct Scanned {
    spans: Vec<(usize, usize)>,
    pub stopped_at: Option<usize>,
}

impl Scanned {
    /// Whether byte `pos` lies strictly inside an object that parsed.
    pub(super) fn covers(&self, pos: usize) -> bool {
        let after = self.spans.partition_point(|(start, _)| *start < pos);
        after > 0 && pos < self.spans[after - 1].1
    }
}

/// Hand `visit` every object of `reply` that parses, nested ones included,
/// in the order of their `{`.
pub(super) fn objects(reply: &str, mut visit: impl FnMut(&Map<String, Value>)) -> Scanned {
    let budget = reply.len().saturating_mul(BUDGET).max(LEAST_BUDGET);
    let newlines: Vec<usize> = reply.match_indices('\n').map(|(i, _)| i).collect();
    let (mut spent, mut resume) = (0usize, 0usize);
    let mut spans = Vec::new();
    for (i, _) in reply.match_indices('{') {
        if i < resume {
            continue;
        }
        if spent > budget {
            return Scanned {
                spans,
                stopped_at: Some(i),
            };
        }
        SHADOWED.with_borrow_mut(Vec::clear);
        let mut stream = serde_json::Deserializer::from_str(&reply[i..]).into_iter::<Tracked>();
        match stream.next() {
            Some(Ok(Tracked(value))) => {
                let end = i + stream.byte_offset();
                spent += end - i;
                walk(&value, &mut visit);
                // What a key given twice hid is read too.
                for hidden in SHADOWED.with_borrow_mut(std::mem::take) {
                    walk(&hidden, &mut visit);
                }
                spans.push((i, end));
                resume = end;
            }
            Some(Err(e)) => spent += stopped(&newlines, i, &e).saturating_sub(i),
            None => {}
        }
    }
    Scanned {
        spans,
        stopped_at: None,
    }
}

thread_local! {
    /// The values a key given twice in an object replaced, in the parse
    /// under way: a parsed object keeps only the last, and what it hid (a
    /// stricter verdict among them) must not go unread.
    static SHADOWED: RefCell<Vec<Value>> = const { RefCell::new(Vec::new()) };
}

/// A JSON value as serde_json builds it, but for a key given twice in an
/// object: the value it replaces goes to `SHADOWED`, and a `decision` key
/// given twice is kept as the list of every value it was given, which no
/// verdict reads as a word (so the object is unreadable, not the last
/// word).
struct Tracked(Value);

impl<'de> Deserialize<'de> for Tracked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TrackedVisitor).map(Tracked)
    }
}

struct TrackedVisitor;

impl<'de> Visitor<'de> for TrackedVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Tracked(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut obj = Map::new();
        while let Some((key, Tracked(v))) = map.next_entry::<String, Tracked>()? {
            let decision = key.trim().eq_ignore_ascii_case("decision");
            match obj.remove(&key) {
                None => {
                    obj.insert(key, v);
                }
                Some(old) if decision => {
                    let mut all = match old {
                        Value::Array(a) if a.len() > 1 && a.iter().all(Value::is_string) => a,
                        other => vec![other],
                    };
                    all.push(v);
                    obj.insert(key, Value::Array(all));
                }
                Some(old) => {
                    SHADOWED.with_borrow_mut(|s| s.push(old));
                    obj.insert(key, v);
                }
            }
        }
        Ok(Value::Object(obj))
    }
}

/// Every object in `value`, itself first.
fn walk(value: &Value, visit: &mut impl FnMut(&Map<String, Value>)) {
    match value {
        Value::Object(map) => {
            visit(map);
            map.values().for_each(|v| walk(v, visit));
        }
        Value::Array(items) => items.iter().for_each(|v| walk(v, visit)),
        _ => {}
    }
}

/// The byte where a parse of `reply[i..]` stopped with `e`: serde_json
/// gives a line and a byte column within it, counted from `i`.
fn stopped(newlines: &[usize], i: usize, e: &serde_json::Error) -> usize {
    let start = match e.line() {
        0 | 1 => i,
        line => {
            let first = newlines.partition_point(|n| *n < i);
            newlines.get(first + line - 2).map_or(i, |n| n + 1)
        }
    };
    start + e.column()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(reply: &str) -> (Vec<String>, Scanned) {
        let mut keys = Vec::new();
        let scanned = objects(reply, |m| {
            keys.push(m.keys().cloned().collect::<Vec<_>>().join(","))
        });
        (keys, scanned)
    }

    #[test]
    fn nested_objects_come_from_the_tree_and_the_scan_goes_on_after_it() {
        let reply = "x {\"a\": {\"b\": [{\"c\": 1}]}, \"s\": \"{}\"} y {\"d\": 2} {bad";
        let (keys, scanned) = found(reply);
        assert_eq!(keys, ["a,s", "b", "c", "d"]);
        assert_eq!(scanned.stopped_at, None);
        let inner = reply.find("\"c\"").unwrap();
        assert!(scanned.covers(inner));
        assert!(!scanned.covers(reply.find('y').unwrap()));
        assert!(!scanned.covers(reply.find("bad").unwrap()));
    }

    #[test]
    fn where_a_failed_parse_stopped_is_found_across_lines() {
        let reply = "ab\n{\"a\":\n [1,\n  2 x";
        let i = reply.find('{').unwrap();
        let e = serde_json::from_str::<Value>(&reply[i..]).unwrap_err();
        let newlines: Vec<usize> = reply.match_indices('\n').map(|(n, _)| n).collect();
        let at = stopped(&newlines, i, &e);
        assert!((reply.len() - 2..=reply.len()).contains(&at), "{at}: {e}");
    }

    #[test]
    fn nested_unterminated_objects_stop_the_scan_within_its_budget() {
        // Every `{` here starts a parse that reads to the end and fails.
        let reply = format!("{}{}", "{\"k\":[".repeat(60), "0,".repeat(300_000));
        let (keys, scanned) = found(&reply);
        assert!(keys.is_empty());
        let at = scanned.stopped_at.expect("stopped");
        // Each parse read about the whole reply: about BUDGET of them.
        let tried = reply[..at].matches('{').count();
        assert!((BUDGET..=BUDGET + 2).contains(&tried), "{tried}");
    }
}
