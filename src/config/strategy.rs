//! Event strategies and how an event name picks one:
//! exact name > longest matching glob (`*` matches any run of characters) > `default`.
//!
//! Matching is pure and knows nothing of files; `settle` checks at load time
//! that no two globs of equal length can both match one name, so resolution
//! never has to break a tie.

use serde::Serialize;

use super::Execution;

/// How a strategy's name matches events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pattern {
    Exact(String),
    Glob(String),
    Default,
}

impl Pattern {
    pub(crate) fn parse(name: &str) -> Pattern {
        if name == "default" {
            Pattern::Default
        } else if name.contains('*') {
            Pattern::Glob(name.to_string())
        } else {
            Pattern::Exact(name.to_string())
        }
    }
}

/// One `[events."<name>"]` table, settled.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Strategy {
    pub name: String,
    #[serde(skip)]
    pub pattern: Pattern,
    pub description: Option<String>,
    pub agents: Vec<String>,
    /// `None`: use `defaults.execution`.
    pub execution: Option<Execution>,
    /// `None`: use `defaults.prime_cache`.
    pub prime_cache: Option<super::PrimeCache>,
    pub required: Vec<String>,
    pub stop_on_failure: bool,
    /// Inputs every agent of the event reads (the shared part of each prompt).
    pub inputs: Vec<String>,
    /// Cron expressions of GitHub's `schedule` trigger this strategy answers.
    pub schedule: Vec<String>,
    /// Run only when these hold.
    pub when: super::triggers::Filters,
    /// Do not run when any of these holds.
    pub skip: super::triggers::Filters,
    /// The check run's name: `check_name`, else `bsu / NAME`.
    pub check_name: String,
    /// What of the payload its prompts carry.
    pub payload: PayloadView,
    /// The verifier agent (`verify`), if any.
    pub verify: Option<String>,
    /// Its noise budget: its own keys over `[publish]`'s.
    pub noise: super::publish::Noise,
}

/// Which view of the payload a strategy's prompts carry.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PayloadView {
    /// The fields a reviewer reads, for pull request, push and comment
    /// payloads; any other payload as it is.
    #[default]
    Compact,
    /// The payload as it came.
    Full,
}

impl std::fmt::Display for PayloadView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PayloadView::Compact => "compact",
            PayloadView::Full => "full",
        })
    }
}

/// Which kind of rule picked the strategy; a run reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StrategyMatch {
    Exact,
    Glob,
    Default,
}

/// Orders strategies the way they are tried: exact (by name), globs longest
/// first (then by name), then `default`.
pub(crate) fn match_order(a: &Strategy, b: &Strategy) -> std::cmp::Ordering {
    fn rank(p: &Pattern) -> (u8, std::cmp::Reverse<usize>) {
        match p {
            Pattern::Exact(_) => (0, std::cmp::Reverse(0)),
            Pattern::Glob(g) => (1, std::cmp::Reverse(g.chars().count())),
            Pattern::Default => (2, std::cmp::Reverse(0)),
        }
    }
    rank(&a.pattern)
        .cmp(&rank(&b.pattern))
        .then_with(|| a.name.cmp(&b.name))
}

/// The strategy for `event` among `strategies` (any order).
pub(crate) fn resolve<'a>(
    strategies: &'a [Strategy],
    event: &str,
) -> Option<(&'a Strategy, StrategyMatch)> {
    if let Some(s) = strategies
        .iter()
        .find(|s| matches!(&s.pattern, Pattern::Exact(n) if n == event))
    {
        return Some((s, StrategyMatch::Exact));
    }
    let glob = strategies
        .iter()
        .filter_map(|s| match &s.pattern {
            Pattern::Glob(g) if glob_matches(g, event) => Some((g.chars().count(), s)),
            _ => None,
        })
        // Equal lengths cannot both match (checked at load); `name` keeps it deterministic anyway.
        .max_by(|(la, a), (lb, b)| la.cmp(lb).then_with(|| b.name.cmp(&a.name)));
    if let Some((_, s)) = glob {
        return Some((s, StrategyMatch::Glob));
    }
    // A GitLab merge-request event runs its GitHub twin's strategy, so one
    // strategy file serves both.
    if let Some(twin) = github_twin(event) {
        if let Some(found) = resolve(strategies, twin).filter(|(_, m)| *m != StrategyMatch::Default)
        {
            return Some(found);
        }
    }
    strategies
        .iter()
        .find(|s| s.pattern == Pattern::Default)
        .map(|s| (s, StrategyMatch::Default))
}

/// The GitHub event a GitLab merge-request event stands for.
pub(crate) fn github_twin(event: &str) -> Option<&'static str> {
    match event {
        "merge_request.open" => Some("pull_request.opened"),
        "merge_request.update" => Some("pull_request.synchronize"),
        "merge_request.reopen" => Some("pull_request.reopened"),
        _ => None,
    }
}

/// Does `glob` (only `*` is special) match all of `text`?
pub(crate) fn glob_matches(glob: &str, text: &str) -> bool {
    let g: Vec<char> = glob.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Classic two-pointer wildcard match with backtracking to the last star.
    let (mut gi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if gi < g.len() && g[gi] == '*' {
            star = Some((gi, ti));
            gi += 1;
        } else if gi < g.len() && g[gi] == t[ti] {
            gi += 1;
            ti += 1;
        } else if let Some((sg, st)) = star {
            gi = sg + 1;
            ti = st + 1;
            star = Some((sg, st + 1));
        } else {
            return false;
        }
    }
    g[gi..].iter().all(|&c| c == '*')
}

/// Is there a name both globs match? Used to reject equal-length globs whose
/// precedence would otherwise be a coin toss.
pub(crate) fn globs_overlap(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // seen[i][j]: state (i, j) already explored without success.
    let mut seen = vec![vec![false; b.len() + 1]; a.len() + 1];
    let mut stack = vec![(0usize, 0usize)];
    while let Some((i, j)) = stack.pop() {
        if seen[i][j] {
            continue;
        }
        seen[i][j] = true;
        if i == a.len() && j == b.len() {
            return true;
        }
        let a_star = i < a.len() && a[i] == '*';
        let b_star = j < b.len() && b[j] == '*';
        if a_star {
            stack.push((i + 1, j)); // a's star matches nothing more
            if j < b.len() {
                stack.push((i, j + 1)); // a's star swallows b's next symbol
            }
        }
        if b_star {
            stack.push((i, j + 1));
            if i < a.len() {
                stack.push((i + 1, j));
            }
        }
        if !a_star && !b_star && i < a.len() && j < b.len() && a[i] == b[j] {
            stack.push((i + 1, j + 1));
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strategy(name: &str) -> Strategy {
        Strategy {
            name: name.into(),
            pattern: Pattern::parse(name),
            description: None,
            agents: vec!["a".into()],
            execution: None,
            required: vec![],
            stop_on_failure: false,
            prime_cache: None,
            inputs: vec![],
            schedule: vec![],
            when: Default::default(),
            skip: Default::default(),
            check_name: format!("bsu / {name}"),
            payload: PayloadView::Compact,
            verify: None,
            noise: Default::default(),
        }
    }

    fn pick(names: &[&str], event: &str) -> Option<(String, StrategyMatch)> {
        let all: Vec<Strategy> = names.iter().map(|n| strategy(n)).collect();
        resolve(&all, event).map(|(s, m)| (s.name.clone(), m))
    }

    #[test]
    fn exact_beats_glob_beats_default() {
        let names = ["default", "pull_request.*", "pull_request.opened", "*"];
        assert_eq!(
            pick(&names, "pull_request.opened"),
            Some(("pull_request.opened".into(), StrategyMatch::Exact))
        );
        assert_eq!(
            pick(&names, "pull_request.closed"),
            Some(("pull_request.*".into(), StrategyMatch::Glob))
        );
        assert_eq!(
            pick(&names, "push"),
            Some(("*".into(), StrategyMatch::Glob))
        );
        assert_eq!(
            pick(&["default", "pull_request.*"], "push"),
            Some(("default".into(), StrategyMatch::Default))
        );
        assert_eq!(pick(&["pull_request.*"], "push"), None);
    }

    #[test]
    fn longest_glob_wins() {
        let names = ["scheduled.*", "scheduled.weekly*", "*"];
        assert_eq!(
            pick(&names, "scheduled.weekly_agents").unwrap().0,
            "scheduled.weekly*"
        );
        assert_eq!(pick(&names, "scheduled.daily").unwrap().0, "scheduled.*");
    }

    #[test]
    fn the_word_default_is_not_an_exact_event() {
        assert_eq!(
            pick(&["default"], "default"),
            Some(("default".into(), StrategyMatch::Default))
        );
    }

    #[test]
    fn glob_matching() {
        let yes = [
            ("*", ""),
            ("*", "abc"),
            ("a*", "a"),
            ("a*c", "abbbc"),
            ("*.opened", "pull_request.opened"),
            ("a*b*c", "aXbYbZc"),
            ("**", "x"),
        ];
        let no = [
            ("a*", "b"),
            ("a*c", "ab"),
            ("*.opened", "opened"),
            ("abc", "ab"),
            ("", "a"),
        ];
        for (g, t) in yes {
            assert!(glob_matches(g, t), "{g} should match {t}");
        }
        for (g, t) in no {
            assert!(!glob_matches(g, t), "{g} should not match {t}");
        }
    }

    #[test]
    fn glob_overlap() {
        assert!(globs_overlap("a*", "*b")); // "ab"
        assert!(globs_overlap("pull_*", "*_request*"));
        assert!(globs_overlap("*x", "*y*"));
        assert!(!globs_overlap("a*", "b*"));
        assert!(!globs_overlap("*a", "*b"));
        assert!(!globs_overlap("ab*c", "ab*d"));
        assert!(globs_overlap("scheduled.*", "scheduled.*"));
    }

    #[test]
    fn match_order_is_exact_then_long_globs_then_default() {
        let mut all: Vec<Strategy> = ["default", "*", "b", "scheduled.*", "a", "pr.*"]
            .iter()
            .map(|n| strategy(n))
            .collect();
        all.sort_by(match_order);
        let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "scheduled.*", "pr.*", "*", "default"]);
    }
}
