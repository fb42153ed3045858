//! The panel's findings, capped: past `MAX_PANEL_FINDINGS` across every
//! agent's reading, only the most severe are read, as one reply's past
//! `read::MAX_FINDINGS`. Everything after reading tells findings apart
//! (the panel's agreement, the ledger's ids, the report's merge): compared
//! in pairs, 256 agents of 200 findings each took 24 to 27 s, and a larger
//! panel would take minutes, at a pull request's word (a prompt can ask
//! every agent for its most).

use super::{Ambiguity, Reading, Severity, Verdict, VerdictDecision};

/// The most findings a panel's readings give that are read: ten replies
/// of the most findings one reply gives.
pub(crate) const MAX_PANEL_FINDINGS: usize = 2_000;

/// Keep the `MAX_PANEL_FINDINGS` most severe findings across `readings`.
/// A reading that lost some was not read whole: it says so, and by the
/// rule for a reply not read whole it can no longer approve (its verdict
/// stands when it is stricter than `comment` or holds a critical finding;
/// otherwise it has none).
pub(crate) fn cap_panel(mut readings: Vec<&mut Reading>) {
    let count = |r: &Reading| r.verdict().map_or(0, |v| v.findings.len());
    let before: Vec<usize> = readings.iter().map(|r| count(r)).collect();
    let given: usize = before.iter().sum();
    if given <= MAX_PANEL_FINDINGS {
        return;
    }
    keep_most_severe(
        readings
            .iter_mut()
            .filter_map(|r| r.verdict_mut())
            .collect(),
        MAX_PANEL_FINDINGS,
    );
    let why = format!(
        "the panel's replies give {given} findings; bsu reads the {MAX_PANEL_FINDINGS} most \
         severe"
    );
    for (r, before) in readings.into_iter().zip(before) {
        if count(r) < before {
            let whole = std::mem::replace(r, Reading::Absent);
            *r = not_read_whole(whole, why.clone());
        }
    }
}

/// `reading`, with `why` part of it was not read.
fn not_read_whole(reading: Reading, why: String) -> Reading {
    let (verdict, mut ambiguity) = match reading {
        Reading::Clear(v) => {
            let decisions = vec![v.decision];
            (
                v,
                Ambiguity {
                    decisions,
                    unreadable: Vec::new(),
                },
            )
        }
        Reading::Ambiguous(v, a) => (v, a),
        other => return other,
    };
    ambiguity.unreadable.push(why);
    let critical = verdict
        .findings
        .iter()
        .any(|f| f.severity == Severity::Critical);
    if verdict.decision <= VerdictDecision::Comment && !critical {
        Reading::Unreadable(ambiguity)
    } else {
        Reading::Ambiguous(verdict, ambiguity)
    }
}

/// Keep `max` findings across `verdicts`, the most severe (in their order
/// among equals): none more severe than one kept is dropped, so no
/// critical finding is lost to the cap.
pub(super) fn keep_most_severe(mut verdicts: Vec<&mut Verdict>, max: usize) {
    let mut all: Vec<(Severity, usize, usize)> = verdicts
        .iter()
        .enumerate()
        .flat_map(|(vi, v)| {
            v.findings
                .iter()
                .enumerate()
                .map(move |(fi, f)| (f.severity, vi, fi))
        })
        .collect();
    all.sort_by(|a, b| b.0.cmp(&a.0).then((a.1, a.2).cmp(&(b.1, b.2))));
    let kept: std::collections::HashSet<(usize, usize)> = all
        .into_iter()
        .take(max)
        .map(|(_, vi, fi)| (vi, fi))
        .collect();
    for (vi, v) in verdicts.iter_mut().enumerate() {
        let mut fi = 0;
        v.findings.retain(|_| {
            fi += 1;
            kept.contains(&(vi, fi - 1))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::read;
    use super::*;

    /// A reply of `high` high findings then `low` low ones, deciding `decision`.
    fn reply(decision: &str, high: usize, low: usize) -> Reading {
        let f = |i: usize, severity: &str| serde_json::json!({"title": format!("{severity} {i}"), "severity": severity});
        let findings: Vec<serde_json::Value> = (0..high)
            .map(|i| f(i, "high"))
            .chain((0..low).map(|i| f(i, "low")))
            .collect();
        read(&serde_json::json!({"decision": decision, "findings": findings}).to_string())
    }

    fn count(r: &Reading) -> usize {
        r.verdict().map_or(0, |v| v.findings.len())
    }

    #[test]
    fn a_panel_past_the_cap_keeps_its_most_severe_and_says_who_lost_some() {
        // Eleven replies of 200 findings (10 high, 190 low): 2,200.
        let mut readings: Vec<Reading> =
            (0..11).map(|_| reply("request_changes", 10, 190)).collect();
        readings.push(reply("approve", 0, 0));
        cap_panel(readings.iter_mut().collect());
        let kept: usize = readings.iter().map(count).sum();
        assert_eq!(kept, MAX_PANEL_FINDINGS);
        let highs: usize = readings
            .iter()
            .filter_map(Reading::verdict)
            .flat_map(|v| &v.findings)
            .filter(|f| f.severity == Severity::High)
            .count();
        assert_eq!(
            highs, 110,
            "no finding more severe than one kept is dropped"
        );
        // The lows of the last replies go first: the eleventh loses its
        // 190, the tenth its last 10.
        let counts: Vec<usize> = readings.iter().map(count).collect();
        assert_eq!(
            counts,
            [200, 200, 200, 200, 200, 200, 200, 200, 200, 190, 10, 0]
        );
        let said = |r: &Reading| match r {
            Reading::Ambiguous(_, a) => a.unreadable.clone(),
            _ => Vec::new(),
        };
        let why = "the panel's replies give 2200 findings; bsu reads the 2000 most severe";
        assert_eq!(said(&readings[9]), [why]);
        assert_eq!(said(&readings[10]), [why]);
        assert!(matches!(readings[8], Reading::Clear(_)));
        assert!(matches!(readings[11], Reading::Clear(_)), "it lost nothing");
    }

    #[test]
    fn an_approving_reply_that_lost_findings_has_no_verdict() {
        let mut readings: Vec<Reading> =
            (0..10).map(|_| reply("request_changes", 200, 0)).collect();
        readings.push(reply("approve", 0, 5));
        cap_panel(readings.iter_mut().collect());
        assert!(matches!(readings[10], Reading::Unreadable(_)));
        assert_eq!(readings.iter().map(count).sum::<usize>(), 2_000);
    }

    #[test]
    fn a_panel_within_the_cap_is_untouched() {
        let mut readings: Vec<Reading> = (0..10).map(|_| reply("approve", 0, 200)).collect();
        let before = readings.clone();
        cap_panel(readings.iter_mut().collect());
        assert_eq!(readings, before);
    }
}
