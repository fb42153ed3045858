//! `bsu status`'s table of recent runs, fitted to the width it is printed
//! at without breaking a word: an event name, a decision or a run id is one
//! word people copy. The report's path, the longest cell, gets the room the
//! others leave; when that is too little to be of use (80 columns, say) the
//! column is left out and the newest run's report is named under the table.

use crate::store::runs::RunRecord;
use crate::text::{display_path, middle_ellipsis, one_line};

/// The least room worth giving a report's path: its folder's start and its
/// file name's end, around an ellipsis.
const LEAST_PATH: usize = 24;

/// The table's header, its rows, and the line under it.
#[derive(Debug, PartialEq)]
pub(super) struct Fitted {
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    /// `Newest report: PATH`, when the report column is left out.
    pub below: Option<String>,
}

/// Width of a table with `columns` columns of `content` characters in all:
/// a border and a space each side of every cell.
fn framed(columns: usize, content: usize) -> usize {
    content + 3 * columns + 1
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// The widest word of a column, its header's included.
fn least(header: &str, cells: impl Iterator<Item = String>) -> usize {
    cells
        .flat_map(|c| c.split_whitespace().map(chars).collect::<Vec<_>>())
        .chain([chars(header)])
        .max()
        .unwrap_or(0)
}

/// `runs` as a table `avail` columns wide.
pub(super) fn fit(runs: &[RunRecord], avail: usize) -> Fitted {
    let started = |r: &RunRecord| {
        r.started_at
            .get(..19)
            .unwrap_or(&r.started_at)
            .replace('T', " ")
    };
    let decision = |r: &RunRecord| {
        let d = one_line(&r.decision, 20);
        if r.replayed {
            format!("{d} (replay)")
        } else {
            d
        }
    };
    let duration = |r: &RunRecord| format!("{:.1}s", r.duration_ms as f64 / 1000.0);
    let run = |r: &RunRecord| one_line(&r.run_id, 24);
    let event = |r: &RunRecord| one_line(&r.event, 60);
    let report = |r: &RunRecord| r.report.as_deref().map(|p| one_line(&display_path(p), 500));

    let fixed = least("started", runs.iter().map(started))
        + least("decision", runs.iter().map(decision))
        + least("duration", runs.iter().map(duration))
        + least("run", runs.iter().map(run));
    let events = runs.iter().map(event).map(|e| chars(&e)).max().unwrap_or(0);
    let events = events.max(chars("event"));
    let path_room = avail.saturating_sub(framed(6, fixed + events));
    let with_report = path_room >= LEAST_PATH;
    let event_room = if with_report {
        events
    } else {
        avail.saturating_sub(framed(5, fixed)).max(chars("event"))
    };
    let rows = runs
        .iter()
        .map(|r| {
            let mut row = vec![
                started(r),
                middle_ellipsis(&event(r), event_room),
                decision(r),
                duration(r),
                run(r),
            ];
            if with_report {
                row.push(report(r).map_or_else(|| "-".into(), |p| middle_ellipsis(&p, path_room)));
            }
            row
        })
        .collect();
    let mut header = vec!["started", "event", "decision", "duration", "run"];
    let below = if with_report {
        header.push("report");
        None
    } else {
        let label = "Newest report: ";
        runs.first().and_then(report).map(|p| {
            let room = avail.saturating_sub(chars(label)).max(LEAST_PATH);
            format!("{label}{}", middle_ellipsis(&p, room))
        })
    };
    Fitted {
        header,
        rows,
        below,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(event: &str, decision: &str, report: Option<&str>) -> RunRecord {
        RunRecord {
            run_id: "0f07b9b39da3".into(),
            event: event.into(),
            decision: decision.into(),
            started_at: "2026-12-08T00:02:52.816Z".into(),
            duration_ms: 1234,
            report: report.map(String::from),
            cost_usd: None,
            tokens: 0,
            project: "/p".into(),
            started_ms: 0,
            dry_run: false,
            replayed: true,
            strategy: String::new(),
            head_sha: None,
        }
    }

    const PATH: &str =
        "/nowhere/reports/20261208T000252.816Z-pull_request.opened-0f07b9b39da3.json";

    /// Every cell's longest word and the frame fit `avail`.
    fn fits_whole(f: &Fitted, avail: usize) -> bool {
        let widest = |i: usize| {
            f.rows
                .iter()
                .flat_map(|r| r[i].split_whitespace().map(chars).collect::<Vec<_>>())
                .chain([chars(f.header[i])])
                .max()
                .unwrap()
        };
        let content: usize = (0..f.header.len()).map(widest).sum();
        framed(f.header.len(), content) <= avail
    }

    #[test]
    fn at_80_columns_no_word_is_broken_and_the_newest_report_is_named_below() {
        let runs = [
            run("pull_request.opened", "request_changes", Some(PATH)),
            run("pull_request.synchronize", "approve", None),
        ];
        let f = fit(&runs, 80);
        assert_eq!(
            f.header,
            ["started", "event", "decision", "duration", "run"]
        );
        assert!(fits_whole(&f, 80), "{f:?}");
        assert_eq!(f.rows[0][1], "pull_request.opened");
        assert_eq!(f.rows[0][2], "request_changes (replay)");
        assert_eq!(f.rows[1][1], "pull_requ…nchronize");
        let below = f.below.unwrap();
        assert!(below.starts_with("Newest report: /nowhere/"), "{below}");
        assert!(
            below.ends_with("-0f07b9b39da3.json") && chars(&below) <= 80,
            "{below}"
        );
    }

    #[test]
    fn wide_enough_the_report_is_a_column_whole_or_cut_in_its_middle() {
        let runs = [run("pull_request.opened", "approve", Some(PATH))];
        let wide = fit(&runs, 200);
        assert_eq!(wide.header.last(), Some(&"report"));
        assert_eq!(wide.rows[0][5], PATH);
        assert_eq!(wide.below, None);
        let middling = fit(&runs, 120);
        assert!(fits_whole(&middling, 120), "{middling:?}");
        assert!(middling.rows[0][5].contains('…'), "{middling:?}");
        // No report: a dash, and nothing below.
        let none = fit(&[run("push", "approve", None)], 80);
        assert_eq!(none.below, None);
    }
}
