
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'bsu' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'bsu'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'bsu' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment means never, unless "always")')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run an event''s agents, decide, and write reports')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show circuit breakers, the response cache and recent runs')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate events.toml and agents/, listing every problem')
            [CompletionResult]::new('events', 'events', [CompletionResultType]::ParameterValue, 'List event strategies in the order they are matched')
            [CompletionResult]::new('agents', 'agents', [CompletionResultType]::ParameterValue, 'List agents')
            [CompletionResult]::new('cache', 'cache', [CompletionResultType]::ParameterValue, 'Manage the response cache')
            [CompletionResult]::new('breaker', 'breaker', [CompletionResultType]::ParameterValue, 'Manage circuit breakers')
            [CompletionResult]::new('state', 'state', [CompletionResultType]::ParameterValue, 'Manage the state store (SQLite in the state directory, or a PostgreSQL server)')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a starter events.toml and agents/ in the project directory')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'Render a run''s JSON report again, in any format')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what changed between two runs: decision, agents, findings')
            [CompletionResult]::new('eval', 'eval', [CompletionResultType]::ParameterValue, 'Measure the panel on labelled changes: precision, recall, decisions, cost')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions to stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'bsu;run' {
            [CompletionResult]::new('--payload', '--payload', [CompletionResultType]::ParameterName, 'Event payload as JSON, from a file or - for stdin [default: $GITHUB_EVENT_PATH, else {}]')
            [CompletionResult]::new('--base', '--base', [CompletionResultType]::ParameterName, 'Base of the change that diff inputs review [default: the payload''s, else at a terminal the merge-base with the upstream branch]')
            [CompletionResult]::new('--head', '--head', [CompletionResultType]::ParameterName, 'Head of the change [default: the payload''s; with --base alone, the working tree]')
            [CompletionResult]::new('--input', '--input', [CompletionResultType]::ParameterName, 'Supply or override input NAME with the text of FILE, or - for stdin (repeatable)')
            [CompletionResult]::new('--agent', '--agent', [CompletionResultType]::ParameterName, 'Run only these of the event''s agents (repeatable)')
            [CompletionResult]::new('--approve', '--approve', [CompletionResultType]::ParameterName, 'Let an agent that requires approval run (repeatable)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Run context agents are filtered by [default: ci when CI=true, else cli]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Deployment profile agents are filtered by')
            [CompletionResult]::new('--execution', '--execution', [CompletionResultType]::ParameterName, 'Run the agents in parallel or in sequence, whatever the event says')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Most agent calls in flight at once')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the whole run, e.g. 90s or 10m')
            [CompletionResult]::new('--if-running', '--if-running', [CompletionResultType]::ParameterName, 'When another run of this project and event is in progress: wait, skip, or run alongside it [default: defaults.if_running, else run]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Which reports to write, comma-separated: json, md, junit, sarif [default: reports.formats]')
            [CompletionResult]::new('--reports-dir', '--reports-dir', [CompletionResultType]::ParameterName, 'Where to write reports [default: reports.dir from events.toml]')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Exit 3 when the decision is at least this strong')
            [CompletionResult]::new('--metrics-file', '--metrics-file', [CompletionResultType]::ParameterName, 'Write Prometheus text-format metrics of this run to FILE (node_exporter textfile)')
            [CompletionResult]::new('--publish', '--publish', [CompletionResultType]::ParameterName, 'Publish the decision: github (sticky comment, review, check run) [default: [publish.github] enabled]')
            [CompletionResult]::new('--max-cost', '--max-cost', [CompletionResultType]::ParameterName, 'Refuse the run (exit 2, nothing sent) when its projected cost is above USD [default: budget.max_cost_per_run]')
            [CompletionResult]::new('--record', '--record', [CompletionResultType]::ParameterName, 'Write every model exchange to DIR, one JSON file per request (never the key)')
            [CompletionResult]::new('--replay', '--replay', [CompletionResultType]::ParameterName, 'Answer every model request from recordings in DIR: no network, no API key')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment means never, unless "always")')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'An event no strategy matches is an error, not a run of the default strategy')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Render every prompt and estimate tokens; send nothing and change no state')
            [CompletionResult]::new('--no-cache', '--no-cache', [CompletionResultType]::ParameterName, 'Neither read nor write the response cache')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the report JSON on stdout instead of the human summary')
            [CompletionResult]::new('--publish-replayed', '--publish-replayed', [CompletionResultType]::ParameterName, 'Let a replayed run publish (--publish, webhooks): a recording is a file anyone may edit, so a replay publishes nothing unless this is given')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bsu;status' {
            [CompletionResult]::new('--runs', '--runs', [CompletionResultType]::ParameterName, 'How many recent runs to list')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment means never, unless "always")')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of tables')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bsu;check' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment means never, unless "always")')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of a table')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bsu;events' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment means never, unless "always")')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of a table')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bsu;agents' {
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Only agents allowed to run in this context (ci, cli, github, ...)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment means never, unless "always")')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON array of agents on stdout instead of a table')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bsu;cache' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment means never, unless "always")')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('clear', 'clear', [CompletionResultType]::ParameterValue, 'Remove every cached response')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Remove expired cached responses')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'bsu;cache;clear' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment means never, unless "always")')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of a table')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bsu;cache;prune' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment means never, unless "always")')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of a table')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bsu;cache;help' {
            [CompletionResult]::new('clear', 'clear', [CompletionResultType]::ParameterValue, 'Remove every cached response')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Remove expired cached responses')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'bsu;cache;help;clear' {
            break
        }
        'bsu;cache;help;prune' {
            break
        }
        'bsu;cache;help;help' {
            break
        }
        'bsu;breaker' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment means never, unless "always")')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('reset', 'reset', [CompletionResultType]::ParameterValue, 'Close one breaker (e.g. openai@api.openai.com#1a2b3c4d), or all of them')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'bsu;breaker;reset' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment means never, unless "always")')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the breakers closed as JSON on stdout')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bsu;breaker;help' {
            [CompletionResult]::new('reset', 'reset', [CompletionResultType]::ParameterValue, 'Close one breaker (e.g. openai@api.openai.com#1a2b3c4d), or all of them')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'bsu;breaker;help;reset' {
            break
        }
        'bsu;breaker;help;help' {
            break
        }
        'bsu;state' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment means never, unless "always")')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Apply pending schema migrations (automatic on first use; this makes it a step of its own)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'bsu;state;migrate' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment means never, unless "always")')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of a table')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bsu;state;help' {
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Apply pending schema migrations (automatic on first use; this makes it a step of its own)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'bsu;state;help;migrate' {
            break
        }
        'bsu;state;help;help' {
            break
        }
        'bsu;init' {
            [CompletionResult]::new('--ci', '--ci', [CompletionResultType]::ParameterName, 'Also write a CI pipeline that runs bsu: gitlab (.gitlab-ci.yml)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment means never, unless "always")')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite files that already exist')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print what was written as JSON on stdout')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bsu;report' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The format to print')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment means never, unless "always")')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bsu;diff' {
            [CompletionResult]::new('--last', '--last', [CompletionResultType]::ParameterName, 'Compare the two newest runs of EVENT in the run history instead')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment means never, unless "always")')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the differences as JSON on stdout')
            [CompletionResult]::new('--exit-code', '--exit-code', [CompletionResultType]::ParameterName, 'Exit 1 when the decision changed (like `git diff --exit-code`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bsu;eval' {
            [CompletionResult]::new('--agent', '--agent', [CompletionResultType]::ParameterName, 'Run only these agents (repeatable)')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Cases run at once [default: 4]')
            [CompletionResult]::new('--judge', '--judge', [CompletionResultType]::ParameterName, 'Match findings to golden ones the location rules leave open by asking this agent, per candidate pair, whether they are the same issue (the only way to match golden findings without a location)')
            [CompletionResult]::new('--tolerance', '--tolerance', [CompletionResultType]::ParameterName, 'Lines a finding may be off its golden finding''s range and still match')
            [CompletionResult]::new('--min-similarity', '--min-similarity', [CompletionResultType]::ParameterName, 'The least text similarity (0 to 1) of a finding''s title and detail to the golden description for a match by location')
            [CompletionResult]::new('--markdown', '--markdown', [CompletionResultType]::ParameterName, 'Also write the result as Markdown to FILE')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Also write the result as JSON to FILE (a later --baseline)')
            [CompletionResult]::new('--baseline', '--baseline', [CompletionResultType]::ParameterName, 'Compare with an earlier eval''s JSON and show the deltas')
            [CompletionResult]::new('--fail-under', '--fail-under', [CompletionResultType]::ParameterName, 'Exit 3 when a panel figure is under its floor, e.g. f1=0.4,decision=0.8 (precision, recall, f1, weighted_recall, decision)')
            [CompletionResult]::new('--max-regression', '--max-regression', [CompletionResultType]::ParameterName, 'Exit 3 when a panel figure fell more than this below --baseline''s')
            [CompletionResult]::new('--record', '--record', [CompletionResultType]::ParameterName, 'Write every model exchange (agents and judge) to DIR')
            [CompletionResult]::new('--replay', '--replay', [CompletionResultType]::ParameterName, 'Answer every model request from recordings in DIR: no network, no API key')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment means never, unless "always")')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as JSON (the schema is schemas/eval.schema.json)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Make cases from the withmartian code-review-benchmark''s golden comments')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'bsu;eval;import' {
            [CompletionResult]::new('--diffs', '--diffs', [CompletionResultType]::ParameterName, 'The folder holding each pull request''s diff as OWNER-REPO-NUMBER.patch (the benchmark does not ship them)')
            [CompletionResult]::new('--into', '--into', [CompletionResultType]::ParameterName, 'Where to write the cases')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment means never, unless "always")')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bsu;eval;help' {
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Make cases from the withmartian code-review-benchmark''s golden comments')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'bsu;eval;help;import' {
            break
        }
        'bsu;eval;help;help' {
            break
        }
        'bsu;completions' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Project directory holding events.toml and agents/ [default: current directory]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR in the environment means never, unless "always")')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (-v: debug, -vv: trace)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (and their hints) on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'bsu;help' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run an event''s agents, decide, and write reports')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show circuit breakers, the response cache and recent runs')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate events.toml and agents/, listing every problem')
            [CompletionResult]::new('events', 'events', [CompletionResultType]::ParameterValue, 'List event strategies in the order they are matched')
            [CompletionResult]::new('agents', 'agents', [CompletionResultType]::ParameterValue, 'List agents')
            [CompletionResult]::new('cache', 'cache', [CompletionResultType]::ParameterValue, 'Manage the response cache')
            [CompletionResult]::new('breaker', 'breaker', [CompletionResultType]::ParameterValue, 'Manage circuit breakers')
            [CompletionResult]::new('state', 'state', [CompletionResultType]::ParameterValue, 'Manage the state store (SQLite in the state directory, or a PostgreSQL server)')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a starter events.toml and agents/ in the project directory')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'Render a run''s JSON report again, in any format')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what changed between two runs: decision, agents, findings')
            [CompletionResult]::new('eval', 'eval', [CompletionResultType]::ParameterValue, 'Measure the panel on labelled changes: precision, recall, decisions, cost')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions to stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'bsu;help;run' {
            break
        }
        'bsu;help;status' {
            break
        }
        'bsu;help;check' {
            break
        }
        'bsu;help;events' {
            break
        }
        'bsu;help;agents' {
            break
        }
        'bsu;help;cache' {
            [CompletionResult]::new('clear', 'clear', [CompletionResultType]::ParameterValue, 'Remove every cached response')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Remove expired cached responses')
            break
        }
        'bsu;help;cache;clear' {
            break
        }
        'bsu;help;cache;prune' {
            break
        }
        'bsu;help;breaker' {
            [CompletionResult]::new('reset', 'reset', [CompletionResultType]::ParameterValue, 'Close one breaker (e.g. openai@api.openai.com#1a2b3c4d), or all of them')
            break
        }
        'bsu;help;breaker;reset' {
            break
        }
        'bsu;help;state' {
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Apply pending schema migrations (automatic on first use; this makes it a step of its own)')
            break
        }
        'bsu;help;state;migrate' {
            break
        }
        'bsu;help;init' {
            break
        }
        'bsu;help;report' {
            break
        }
        'bsu;help;diff' {
            break
        }
        'bsu;help;eval' {
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Make cases from the withmartian code-review-benchmark''s golden comments')
            break
        }
        'bsu;help;eval;import' {
            break
        }
        'bsu;help;completions' {
            break
        }
        'bsu;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
