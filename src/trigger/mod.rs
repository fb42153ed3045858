//! Which event a run is, from the command line or from GitHub Actions'
//! trigger (CONTRACT.md, "GitHub Actions"): `pull_request` and
//! `pull_request_target` become `pull_request.<action>`, `push` stays `push`,
//! `schedule` picks the strategy bound to the cron entry that fired,
//! `workflow_dispatch` may name the event in its inputs, `merge_group` and
//! others become `<name>.<action>`, and `issue_comment` runs `/bsu run EVENT`
//! from an allowed author on a pull request.

mod gitlab;

use serde_json::Value;

use crate::config::Config;
use crate::env::Env;
use crate::error::{Error, Result};

/// What to run, or why not to run at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Trigger {
    Run {
        event: String,
    },
    /// Nothing to do (a comment that is no `/bsu` command, or from an author
    /// who may not run one): exit 0, saying why.
    Ignore(String),
    /// `/bsu dismiss ID [reason]` on pull request `number` by `by`: mark the
    /// finding dismissed in the ledger; no agent is called.
    Dismiss {
        number: u64,
        id: String,
        reason: String,
        by: String,
    },
}

fn run(event: String) -> Trigger {
    Trigger::Run { event }
}

/// An event name from a comment or dispatch input: a plain word, nothing else.
fn checked_event(name: &str, from: &str) -> Result<String> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-*".contains(c))
        && !name.contains('*');
    if ok {
        Ok(name.to_string())
    } else {
        Err(Error::Usage(format!(
            "{from} names event {:?}; an event is letters, digits, '.', '_' and '-'",
            crate::text::one_line(name, 80)
        )))
    }
}

pub(crate) fn resolve(
    named: Option<&str>,
    payload: &Value,
    env: &Env,
    config: &Config,
) -> Result<Trigger> {
    if let Some(name) = named {
        if name.trim().is_empty() {
            return Err(Error::Usage("the event name is empty".into()));
        }
        return Ok(run(name.to_string()));
    }
    // A GitLab note webhook (`--payload`): a `/bsu` command on a merge request.
    if payload["object_kind"] == "note" {
        return gitlab::note_command(payload);
    }
    let Some(github) = env.get("GITHUB_EVENT_NAME") else {
        if env.in_gitlab_ci() {
            return gitlab::resolve(env, config);
        }
        return Err(Error::Usage(
            "no event given: name one, e.g. `bsu run pull_request.opened` (`bsu events` lists them); \
             inside GitHub Actions GITHUB_EVENT_NAME names it, inside GitLab CI CI_PIPELINE_SOURCE"
                .into(),
        ));
    };
    let action = payload
        .get("action")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty());
    let with_action = |name: &str| match action {
        Some(a) => format!("{name}.{a}"),
        None => name.to_string(),
    };
    Ok(match github {
        // Its trust is `untrusted_head`'s call, whatever names the event.
        "pull_request_target" => run(with_action("pull_request")),
        "schedule" => run(schedule(payload, config)?),
        "workflow_dispatch" => match payload
            .pointer("/inputs/event")
            .and_then(Value::as_str)
            .map(str::trim)
        {
            Some(e) if !e.is_empty() => run(checked_event(e, "workflow_dispatch input `event`")?),
            _ => run("workflow_dispatch".into()),
        },
        "issue_comment" => slash_command(payload, config)?,
        other => run(with_action(other)),
    })
}

/// Why the checked-out code may be a stranger's while the job holds
/// secrets, whatever name the event was run under: a privileged trigger
/// (`pull_request_target`, `issue_comment`, `workflow_run`, read from
/// `GITHUB_EVENT_NAME`), or a pull request whose head repository is not its
/// base repository (a fork). `None`: the code is the repository's own.
pub(crate) fn untrusted_head(payload: &Value, env: &Env) -> Option<String> {
    if let Some(name @ ("pull_request_target" | "issue_comment" | "workflow_run")) =
        env.get("GITHUB_EVENT_NAME")
    {
        return Some(format!(
            "this is a {name} run (GITHUB_EVENT_NAME): the job has the repository's secrets and \
             the code may come from a fork"
        ));
    }
    let repo = |side: &str| {
        payload
            .pointer(&format!("/pull_request/{side}/repo/full_name"))
            .and_then(Value::as_str)
    };
    match (repo("head"), repo("base")) {
        (Some(head), Some(base)) if !head.eq_ignore_ascii_case(base) => Some(format!(
            "the pull request's head is in {head}, not in {base} (a fork), and this job has secrets"
        )),
        _ => None,
    }
}

/// The strategy bound to the cron entry that fired (`github.event.schedule`).
fn schedule(payload: &Value, config: &Config) -> Result<String> {
    let Some(cron) = payload
        .get("schedule")
        .and_then(Value::as_str)
        .map(str::trim)
    else {
        return Err(Error::Usage(
            "a schedule run's payload says no `schedule`; run bsu with the event's payload \
             (GITHUB_EVENT_PATH), or name the event: `bsu run scheduled.weekly`"
                .into(),
        ));
    };
    let norm = |c: &str| c.split_whitespace().collect::<Vec<_>>().join(" ");
    config
        .strategies
        .iter()
        .find(|s| s.schedule.iter().any(|c| norm(c) == norm(cron)))
        .map(|s| s.name.clone())
        .ok_or_else(|| {
            Error::Usage(format!(
                "no strategy is bound to the schedule {cron:?}; add `schedule = [\"{cron}\"]` to the \
                 [events.\"...\"] table that should run then (a schedule never falls through to the \
                 default strategy)"
            ))
        })
}

/// `/bsu run EVENT` in a pull request's comment, from an allowed author.
fn slash_command(payload: &Value, config: &Config) -> Result<Trigger> {
    let body = payload
        .pointer("/comment/body")
        .and_then(Value::as_str)
        .unwrap_or("");
    if is_own(body) {
        return Ok(Trigger::Ignore(OWN.into()));
    }
    let Some(words) = slash_words(body) else {
        return Ok(Trigger::Ignore("the comment holds no /bsu command".into()));
    };
    // GitHub sends `"pull_request": null` on a plain issue: only an object is a pull request.
    if !payload
        .pointer("/issue/pull_request")
        .is_some_and(Value::is_object)
    {
        return Ok(Trigger::Ignore(
            "/bsu commands are honoured on pull requests only".into(),
        ));
    }
    let association = payload
        .pointer("/comment/author_association")
        .and_then(Value::as_str)
        .unwrap_or("NONE")
        .to_ascii_uppercase();
    let allowed = &config.triggers.slash_command_associations;
    if !allowed.contains(&association) {
        return Ok(Trigger::Ignore(format!(
            "the comment's author is {association}; /bsu commands are honoured from {} \
             ([triggers] slash_command_associations)",
            allowed.join(", ")
        )));
    }
    let author = payload.pointer("/issue/user/login").and_then(Value::as_str);
    let by = payload
        .pointer("/comment/user/login")
        .and_then(Value::as_str);
    let number = payload.pointer("/issue/number").and_then(Value::as_u64);
    command(words, number, (by, author))
}

/// The `/bsu` words of a comment on change `number` by `by` (its author
/// `author`): run an event, or dismiss a finding.
pub(super) fn command(
    words: &str,
    number: Option<u64>,
    (by, author): (Option<&str>, Option<&str>),
) -> Result<Trigger> {
    let mut parts = words.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some("run"), Some(event)) => Ok(run(checked_event(event, "the /bsu command")?)),
        (Some("dismiss"), Some(id)) => Ok(dismiss(
            id,
            parts.collect::<Vec<_>>().join(" "),
            number,
            (by, author),
        )),
        _ => Ok(Trigger::Ignore(
            "the /bsu command is not understood; write `/bsu run EVENT` or `/bsu dismiss ID [reason]`"
                .into(),
        )),
    }
}

/// Why bsu's own sticky comment or note is never a command: it quotes what
/// models wrote, which can spell one.
pub(super) const OWN: &str =
    "the comment is bsu's own sticky comment: a command in it is model text, not a person's";

/// Is `body` bsu's own sticky comment (or note)?
pub(super) fn is_own(body: &str) -> bool {
    body.starts_with(crate::vocab::STICKY_MARKER)
}

/// The `/bsu` words of a comment's body, when a line starts with `/bsu`.
pub(super) fn slash_words(body: &str) -> Option<&str> {
    body.lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("/bsu"))
        .filter(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
}

/// `/bsu dismiss ID [reason]`: an id is ten hex digits.
fn dismiss(
    id: &str,
    reason: String,
    number: Option<u64>,
    (login, author): (Option<&str>, Option<&str>),
) -> Trigger {
    let id = id.trim_start_matches('#').to_ascii_lowercase();
    if id.len() != 10 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Trigger::Ignore(format!(
            "/bsu dismiss: {:?} is not a finding id (ten hex digits, as the comment shows)",
            crate::text::one_line(&id, 40)
        ));
    }
    let Some(number) = number else {
        return Trigger::Ignore("/bsu dismiss: the payload names no pull request".into());
    };
    // A pull request's author cannot dismiss findings on it: that would be
    // the change suppressing its own review.
    if login.is_none() || login == author {
        return Trigger::Ignore(
            "/bsu dismiss: the pull request's author (or an unnamed one) cannot dismiss \
             findings on it; ask a reviewer"
                .into(),
        );
    }
    let by = login.map_or_else(String::new, |l| crate::text::one_line(l, 60));
    Trigger::Dismiss {
        number,
        id,
        reason: crate::text::one_line(&reason, 200),
        by,
    }
}
