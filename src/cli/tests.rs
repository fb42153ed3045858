use super::*;
use clap::CommandFactory;

#[test]
fn cli_definition_is_consistent() {
    Cli::command().debug_assert();
}

/// A table of command lines and whether clap takes them.
#[test]
fn command_lines() {
    let cases: &[(&str, bool)] = &[
        ("bsu check", true),
        ("bsu check --json", true),
        ("bsu -C proj events --json", true),
        ("bsu events -C proj", true),
        ("bsu agents --context ci --json", true),
        ("bsu run pull_request.opened --dry-run", true),
        (
            "bsu run --agent a --agent b --format json,md --fail-on request_changes",
            true,
        ),
        (
            "bsu run x --timeout 90s --concurrency 4 --execution sequential",
            true,
        ),
        ("bsu run x --timeout soon", false),
        ("bsu run x --timeout 0s", false),
        ("bsu run x --timeout 300000000000years", false),
        ("bsu run x --timeout 365days", true),
        ("bsu run x --concurrency 0", false),
        ("bsu run x --format pdf", false),
        ("bsu run x --profile prod", false),
        ("bsu -v -v status --json --runs 3", true),
        ("bsu -q -v status", false),
        ("bsu cache clear", true),
        ("bsu cache clear --json", true),
        ("bsu cache prune --json", true),
        ("bsu breaker reset --json", true),
        ("bsu init --json", true),
        ("bsu cache prune", true),
        ("bsu cache", false),
        ("bsu breaker reset", true),
        ("bsu breaker reset openai@api.openai.com", true),
        ("bsu completions zsh", true),
        ("bsu completions tcsh", false),
        ("bsu --color never init", true),
        ("bsu --color sometimes check", false),
        ("bsu", false),
    ];
    for (line, ok) in cases {
        let got = Cli::try_parse_from(line.split_whitespace());
        assert_eq!(got.is_ok(), *ok, "{line}: {got:?}");
    }
}
