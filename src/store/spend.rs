//! Spend: what runs cost, per project, for daily and monthly budgets and
//! `bsu status`. A run reserves its projected cost in the same transaction
//! that checks the budget, so two processes cannot both squeeze under the
//! line; when it finishes its reservation becomes its actual cost.

use rusqlite::{params, Connection};

use super::immediate;

/// A budget and the UTC window it covers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Window {
    pub limit_usd: f64,
    pub from_ms: i64,
    /// When the window ends and the budget frees up.
    pub until_ms: i64,
}

/// Why a reservation was refused: the window, what is spent in it, what was asked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Refused {
    pub window: Window,
    pub spent_usd: f64,
}

/// What spend counts against a budget: what was spent, and reservations
/// whose lease has not run out (a run killed before settling stops holding
/// its reservation when its lease ends).
const COUNTED: &str = "(reserved = 0 OR lease_until_ms > ?3)";

/// Check every window and reserve `usd` for `run_id` until `lease_until_ms`
/// (the run's deadline and a margin), in one transaction.
pub(crate) fn reserve(
    conn: &mut Connection,
    project: &str,
    run_id: &str,
    usd: f64,
    (now_ms, lease_until_ms): (i64, i64),
    windows: &[Window],
) -> rusqlite::Result<Result<(), Refused>> {
    immediate(conn, |tx| {
        for w in windows {
            let spent: f64 = tx.query_row(
                &format!(
                    "SELECT COALESCE(SUM(usd), 0) FROM spend WHERE project = ?1 AND at_ms >= ?2 \
                     AND {COUNTED}"
                ),
                params![project, w.from_ms, now_ms],
                |r| r.get(0),
            )?;
            if spent + usd > w.limit_usd {
                return Ok(Err(Refused {
                    window: *w,
                    spent_usd: spent,
                }));
            }
        }
        tx.execute(
            "INSERT INTO spend (run_id, project, at_ms, usd, provider, model, reserved, lease_until_ms) VALUES (?1, ?2, ?3, ?4, '', '', 1, ?5)",
            params![run_id, project, now_ms, usd, lease_until_ms],
        )?;
        Ok(Ok(()))
    })
}

/// One agent's actual cost, as the run's history keeps it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Spent {
    pub agent: String,
    pub provider: String,
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub usd: f64,
}

/// Replace `run_id`'s reservation with what it cost, per agent, inside a
/// transaction the caller holds (the run's end).
pub(crate) fn settle_tx(
    tx: &rusqlite::Transaction<'_>,
    project: &str,
    run_id: &str,
    now_ms: i64,
    actual: &[Spent],
) -> rusqlite::Result<()> {
    {
        tx.execute(
            "DELETE FROM spend WHERE run_id = ?1 AND reserved = 1",
            params![run_id],
        )?;
        for s in actual {
            tx.execute(
                "INSERT INTO spend (run_id, project, at_ms, usd, provider, model, reserved, agent, input_tokens, output_tokens)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, ?9)",
                params![
                    run_id,
                    project,
                    now_ms,
                    s.usd,
                    s.provider,
                    s.model,
                    s.agent,
                    i64::try_from(s.input_tokens).unwrap_or(i64::MAX),
                    i64::try_from(s.output_tokens).unwrap_or(i64::MAX)
                ],
            )?;
        }
        Ok(())
    }
}

/// A reservation not (yet) settled.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct Reservation {
    pub run_id: String,
    pub project: String,
    pub usd: f64,
    /// Unix ms; `null` for one made before leases existed (never counted).
    pub lease_until_ms: Option<i64>,
    /// The lease ran out: the run died before settling, and this no longer counts.
    pub expired: bool,
}

/// Reservations not settled, newest first.
pub(crate) fn reservations(conn: &Connection, now_ms: i64) -> rusqlite::Result<Vec<Reservation>> {
    conn.prepare(
        "SELECT run_id, project, usd, lease_until_ms FROM spend WHERE reserved = 1
         ORDER BY at_ms DESC LIMIT 50",
    )?
    .query_map([], |r| {
        let lease: Option<i64> = r.get(3)?;
        Ok(Reservation {
            run_id: r.get(0)?,
            project: r.get(1)?,
            usd: r.get(2)?,
            lease_until_ms: lease,
            expired: lease.is_none_or(|l| l <= now_ms),
        })
    })?
    .collect()
}

/// Spend since `from_ms` by provider and model (every project), largest first.
pub(crate) fn by_model(
    conn: &Connection,
    from_ms: i64,
) -> rusqlite::Result<Vec<(String, String, f64)>> {
    conn.prepare(
        "SELECT provider, model, SUM(usd) FROM spend WHERE reserved = 0 AND at_ms >= ?1
         GROUP BY provider, model ORDER BY SUM(usd) DESC",
    )?
    .query_map([from_ms], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
    .collect()
}

/// The start of the UTC day and month holding `now_ms`, and their ends.
pub(crate) fn day_and_month(now_ms: i64) -> ((i64, i64), (i64, i64)) {
    const DAY: i64 = 86_400_000;
    let day_start = now_ms - now_ms.rem_euclid(DAY);
    let days = day_start.div_euclid(DAY);
    let (y, m, _) = civil(days);
    let month_start = days_from_civil(y, m, 1) * DAY;
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let month_end = days_from_civil(ny, nm, 1) * DAY;
    ((day_start, day_start + DAY), (month_start, month_end))
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant).
fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_days_and_months() {
        // 2026-11-28T18:00:00Z
        let now = 1_795_888_800_000;
        let ((d0, d1), (m0, m1)) = day_and_month(now);
        assert_eq!(d0, 1_795_824_000_000, "2026-11-28T00:00Z");
        assert_eq!(d1 - d0, 86_400_000);
        assert_eq!(m0, 1_793_491_200_000, "2026-11-01T00:00Z");
        assert_eq!(m1, 1_796_083_200_000, "2026-12-01T00:00Z");
        let dec = day_and_month(1_798_761_600_000 - 1).1; // 2026-12-31T23:59:59.999Z
        assert_eq!(dec.1, 1_798_761_600_000, "2027-01-01T00:00Z");
    }
}
