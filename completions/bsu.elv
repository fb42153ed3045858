
use builtin;
use str;

set edit:completion:arg-completer[bsu] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'bsu'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'bsu'= {
            cand -C 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --dir 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --state-dir 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]'
            cand --color 'When to use colour (NO_COLOR in the environment means never, unless "always")'
            cand -v 'Say more on stderr (-v: debug, -vv: trace)'
            cand --verbose 'Say more on stderr (-v: debug, -vv: trace)'
            cand -q 'Print only errors (and their hints) on stderr'
            cand --quiet 'Print only errors (and their hints) on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand run 'Run an event''s agents, decide, and write reports'
            cand status 'Show circuit breakers, the response cache and recent runs'
            cand check 'Validate events.toml and agents/, listing every problem'
            cand events 'List event strategies in the order they are matched'
            cand agents 'List agents'
            cand cache 'Manage the response cache'
            cand breaker 'Manage circuit breakers'
            cand state 'Manage the state store (SQLite in the state directory, or a PostgreSQL server)'
            cand init 'Write a starter events.toml and agents/ in the project directory'
            cand report 'Render a run''s JSON report again, in any format'
            cand diff 'Show what changed between two runs: decision, agents, findings'
            cand eval 'Measure the panel on labelled changes: precision, recall, decisions, cost'
            cand completions 'Print shell completions to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'bsu;run'= {
            cand --payload 'Event payload as JSON, from a file or - for stdin [default: $GITHUB_EVENT_PATH, else {}]'
            cand --base 'Base of the change that diff inputs review [default: the payload''s, else at a terminal the merge-base with the upstream branch]'
            cand --head 'Head of the change [default: the payload''s; with --base alone, the working tree]'
            cand --input 'Supply or override input NAME with the text of FILE, or - for stdin (repeatable)'
            cand --agent 'Run only these of the event''s agents (repeatable)'
            cand --approve 'Let an agent that requires approval run (repeatable)'
            cand --context 'Run context agents are filtered by [default: ci when CI=true, else cli]'
            cand --profile 'Deployment profile agents are filtered by'
            cand --execution 'Run the agents in parallel or in sequence, whatever the event says'
            cand --concurrency 'Most agent calls in flight at once'
            cand --timeout 'Deadline for the whole run, e.g. 90s or 10m'
            cand --if-running 'When another run of this project and event is in progress: wait, skip, or run alongside it [default: defaults.if_running, else run]'
            cand --format 'Which reports to write, comma-separated: json, md, junit, sarif [default: reports.formats]'
            cand --reports-dir 'Where to write reports [default: reports.dir from events.toml]'
            cand --fail-on 'Exit 3 when the decision is at least this strong'
            cand --metrics-file 'Write Prometheus text-format metrics of this run to FILE (node_exporter textfile)'
            cand --publish 'Publish the decision: github (sticky comment, review, check run) [default: [publish.github] enabled]'
            cand --max-cost 'Refuse the run (exit 2, nothing sent) when its projected cost is above USD [default: budget.max_cost_per_run]'
            cand --record 'Write every model exchange to DIR, one JSON file per request (never the key)'
            cand --replay 'Answer every model request from recordings in DIR: no network, no API key'
            cand -C 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --dir 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --state-dir 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]'
            cand --color 'When to use colour (NO_COLOR in the environment means never, unless "always")'
            cand --strict 'An event no strategy matches is an error, not a run of the default strategy'
            cand --dry-run 'Render every prompt and estimate tokens; send nothing and change no state'
            cand --no-cache 'Neither read nor write the response cache'
            cand --json 'Print the report JSON on stdout instead of the human summary'
            cand --publish-replayed 'Let a replayed run publish (--publish, webhooks): a recording is a file anyone may edit, so a replay publishes nothing unless this is given'
            cand -v 'Say more on stderr (-v: debug, -vv: trace)'
            cand --verbose 'Say more on stderr (-v: debug, -vv: trace)'
            cand -q 'Print only errors (and their hints) on stderr'
            cand --quiet 'Print only errors (and their hints) on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bsu;status'= {
            cand --runs 'How many recent runs to list'
            cand -C 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --dir 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --state-dir 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]'
            cand --color 'When to use colour (NO_COLOR in the environment means never, unless "always")'
            cand --json 'Print JSON on stdout instead of tables'
            cand -v 'Say more on stderr (-v: debug, -vv: trace)'
            cand --verbose 'Say more on stderr (-v: debug, -vv: trace)'
            cand -q 'Print only errors (and their hints) on stderr'
            cand --quiet 'Print only errors (and their hints) on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bsu;check'= {
            cand -C 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --dir 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --state-dir 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]'
            cand --color 'When to use colour (NO_COLOR in the environment means never, unless "always")'
            cand --json 'Print JSON on stdout instead of a table'
            cand -v 'Say more on stderr (-v: debug, -vv: trace)'
            cand --verbose 'Say more on stderr (-v: debug, -vv: trace)'
            cand -q 'Print only errors (and their hints) on stderr'
            cand --quiet 'Print only errors (and their hints) on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bsu;events'= {
            cand -C 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --dir 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --state-dir 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]'
            cand --color 'When to use colour (NO_COLOR in the environment means never, unless "always")'
            cand --json 'Print JSON on stdout instead of a table'
            cand -v 'Say more on stderr (-v: debug, -vv: trace)'
            cand --verbose 'Say more on stderr (-v: debug, -vv: trace)'
            cand -q 'Print only errors (and their hints) on stderr'
            cand --quiet 'Print only errors (and their hints) on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bsu;agents'= {
            cand --context 'Only agents allowed to run in this context (ci, cli, github, ...)'
            cand -C 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --dir 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --state-dir 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]'
            cand --color 'When to use colour (NO_COLOR in the environment means never, unless "always")'
            cand --json 'Print a JSON array of agents on stdout instead of a table'
            cand -v 'Say more on stderr (-v: debug, -vv: trace)'
            cand --verbose 'Say more on stderr (-v: debug, -vv: trace)'
            cand -q 'Print only errors (and their hints) on stderr'
            cand --quiet 'Print only errors (and their hints) on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bsu;cache'= {
            cand -C 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --dir 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --state-dir 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]'
            cand --color 'When to use colour (NO_COLOR in the environment means never, unless "always")'
            cand -v 'Say more on stderr (-v: debug, -vv: trace)'
            cand --verbose 'Say more on stderr (-v: debug, -vv: trace)'
            cand -q 'Print only errors (and their hints) on stderr'
            cand --quiet 'Print only errors (and their hints) on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand clear 'Remove every cached response'
            cand prune 'Remove expired cached responses'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'bsu;cache;clear'= {
            cand -C 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --dir 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --state-dir 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]'
            cand --color 'When to use colour (NO_COLOR in the environment means never, unless "always")'
            cand --json 'Print JSON on stdout instead of a table'
            cand -v 'Say more on stderr (-v: debug, -vv: trace)'
            cand --verbose 'Say more on stderr (-v: debug, -vv: trace)'
            cand -q 'Print only errors (and their hints) on stderr'
            cand --quiet 'Print only errors (and their hints) on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bsu;cache;prune'= {
            cand -C 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --dir 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --state-dir 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]'
            cand --color 'When to use colour (NO_COLOR in the environment means never, unless "always")'
            cand --json 'Print JSON on stdout instead of a table'
            cand -v 'Say more on stderr (-v: debug, -vv: trace)'
            cand --verbose 'Say more on stderr (-v: debug, -vv: trace)'
            cand -q 'Print only errors (and their hints) on stderr'
            cand --quiet 'Print only errors (and their hints) on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bsu;cache;help'= {
            cand clear 'Remove every cached response'
            cand prune 'Remove expired cached responses'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'bsu;cache;help;clear'= {
        }
        &'bsu;cache;help;prune'= {
        }
        &'bsu;cache;help;help'= {
        }
        &'bsu;breaker'= {
            cand -C 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --dir 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --state-dir 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]'
            cand --color 'When to use colour (NO_COLOR in the environment means never, unless "always")'
            cand -v 'Say more on stderr (-v: debug, -vv: trace)'
            cand --verbose 'Say more on stderr (-v: debug, -vv: trace)'
            cand -q 'Print only errors (and their hints) on stderr'
            cand --quiet 'Print only errors (and their hints) on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand reset 'Close one breaker (e.g. openai@api.openai.com#1a2b3c4d), or all of them'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'bsu;breaker;reset'= {
            cand -C 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --dir 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --state-dir 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]'
            cand --color 'When to use colour (NO_COLOR in the environment means never, unless "always")'
            cand --json 'Print the breakers closed as JSON on stdout'
            cand -v 'Say more on stderr (-v: debug, -vv: trace)'
            cand --verbose 'Say more on stderr (-v: debug, -vv: trace)'
            cand -q 'Print only errors (and their hints) on stderr'
            cand --quiet 'Print only errors (and their hints) on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bsu;breaker;help'= {
            cand reset 'Close one breaker (e.g. openai@api.openai.com#1a2b3c4d), or all of them'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'bsu;breaker;help;reset'= {
        }
        &'bsu;breaker;help;help'= {
        }
        &'bsu;state'= {
            cand -C 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --dir 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --state-dir 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]'
            cand --color 'When to use colour (NO_COLOR in the environment means never, unless "always")'
            cand -v 'Say more on stderr (-v: debug, -vv: trace)'
            cand --verbose 'Say more on stderr (-v: debug, -vv: trace)'
            cand -q 'Print only errors (and their hints) on stderr'
            cand --quiet 'Print only errors (and their hints) on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand migrate 'Apply pending schema migrations (automatic on first use; this makes it a step of its own)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'bsu;state;migrate'= {
            cand -C 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --dir 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --state-dir 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]'
            cand --color 'When to use colour (NO_COLOR in the environment means never, unless "always")'
            cand --json 'Print JSON on stdout instead of a table'
            cand -v 'Say more on stderr (-v: debug, -vv: trace)'
            cand --verbose 'Say more on stderr (-v: debug, -vv: trace)'
            cand -q 'Print only errors (and their hints) on stderr'
            cand --quiet 'Print only errors (and their hints) on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bsu;state;help'= {
            cand migrate 'Apply pending schema migrations (automatic on first use; this makes it a step of its own)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'bsu;state;help;migrate'= {
        }
        &'bsu;state;help;help'= {
        }
        &'bsu;init'= {
            cand --ci 'Also write a CI pipeline that runs bsu: gitlab (.gitlab-ci.yml)'
            cand -C 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --dir 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --state-dir 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]'
            cand --color 'When to use colour (NO_COLOR in the environment means never, unless "always")'
            cand --force 'Overwrite files that already exist'
            cand --json 'Print what was written as JSON on stdout'
            cand -v 'Say more on stderr (-v: debug, -vv: trace)'
            cand --verbose 'Say more on stderr (-v: debug, -vv: trace)'
            cand -q 'Print only errors (and their hints) on stderr'
            cand --quiet 'Print only errors (and their hints) on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bsu;report'= {
            cand --format 'The format to print'
            cand -C 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --dir 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --state-dir 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]'
            cand --color 'When to use colour (NO_COLOR in the environment means never, unless "always")'
            cand -v 'Say more on stderr (-v: debug, -vv: trace)'
            cand --verbose 'Say more on stderr (-v: debug, -vv: trace)'
            cand -q 'Print only errors (and their hints) on stderr'
            cand --quiet 'Print only errors (and their hints) on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bsu;diff'= {
            cand --last 'Compare the two newest runs of EVENT in the run history instead'
            cand -C 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --dir 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --state-dir 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]'
            cand --color 'When to use colour (NO_COLOR in the environment means never, unless "always")'
            cand --json 'Print the differences as JSON on stdout'
            cand --exit-code 'Exit 1 when the decision changed (like `git diff --exit-code`)'
            cand -v 'Say more on stderr (-v: debug, -vv: trace)'
            cand --verbose 'Say more on stderr (-v: debug, -vv: trace)'
            cand -q 'Print only errors (and their hints) on stderr'
            cand --quiet 'Print only errors (and their hints) on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bsu;eval'= {
            cand --agent 'Run only these agents (repeatable)'
            cand --concurrency 'Cases run at once [default: 4]'
            cand --judge 'Match findings to golden ones the location rules leave open by asking this agent, per candidate pair, whether they are the same issue (the only way to match golden findings without a location)'
            cand --tolerance 'Lines a finding may be off its golden finding''s range and still match'
            cand --min-similarity 'The least text similarity (0 to 1) of a finding''s title and detail to the golden description for a match by location'
            cand --markdown 'Also write the result as Markdown to FILE'
            cand --output 'Also write the result as JSON to FILE (a later --baseline)'
            cand --baseline 'Compare with an earlier eval''s JSON and show the deltas'
            cand --fail-under 'Exit 3 when a panel figure is under its floor, e.g. f1=0.4,decision=0.8 (precision, recall, f1, weighted_recall, decision)'
            cand --max-regression 'Exit 3 when a panel figure fell more than this below --baseline''s'
            cand --record 'Write every model exchange (agents and judge) to DIR'
            cand --replay 'Answer every model request from recordings in DIR: no network, no API key'
            cand -C 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --dir 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --state-dir 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]'
            cand --color 'When to use colour (NO_COLOR in the environment means never, unless "always")'
            cand --json 'Print the result as JSON (the schema is schemas/eval.schema.json)'
            cand -v 'Say more on stderr (-v: debug, -vv: trace)'
            cand --verbose 'Say more on stderr (-v: debug, -vv: trace)'
            cand -q 'Print only errors (and their hints) on stderr'
            cand --quiet 'Print only errors (and their hints) on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand import 'Make cases from the withmartian code-review-benchmark''s golden comments'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'bsu;eval;import'= {
            cand --diffs 'The folder holding each pull request''s diff as OWNER-REPO-NUMBER.patch (the benchmark does not ship them)'
            cand --into 'Where to write the cases'
            cand -C 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --dir 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --state-dir 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]'
            cand --color 'When to use colour (NO_COLOR in the environment means never, unless "always")'
            cand -v 'Say more on stderr (-v: debug, -vv: trace)'
            cand --verbose 'Say more on stderr (-v: debug, -vv: trace)'
            cand -q 'Print only errors (and their hints) on stderr'
            cand --quiet 'Print only errors (and their hints) on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bsu;eval;help'= {
            cand import 'Make cases from the withmartian code-review-benchmark''s golden comments'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'bsu;eval;help;import'= {
        }
        &'bsu;eval;help;help'= {
        }
        &'bsu;completions'= {
            cand -C 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --dir 'Project directory holding events.toml and agents/ [default: current directory]'
            cand --state-dir 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]'
            cand --color 'When to use colour (NO_COLOR in the environment means never, unless "always")'
            cand -v 'Say more on stderr (-v: debug, -vv: trace)'
            cand --verbose 'Say more on stderr (-v: debug, -vv: trace)'
            cand -q 'Print only errors (and their hints) on stderr'
            cand --quiet 'Print only errors (and their hints) on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'bsu;help'= {
            cand run 'Run an event''s agents, decide, and write reports'
            cand status 'Show circuit breakers, the response cache and recent runs'
            cand check 'Validate events.toml and agents/, listing every problem'
            cand events 'List event strategies in the order they are matched'
            cand agents 'List agents'
            cand cache 'Manage the response cache'
            cand breaker 'Manage circuit breakers'
            cand state 'Manage the state store (SQLite in the state directory, or a PostgreSQL server)'
            cand init 'Write a starter events.toml and agents/ in the project directory'
            cand report 'Render a run''s JSON report again, in any format'
            cand diff 'Show what changed between two runs: decision, agents, findings'
            cand eval 'Measure the panel on labelled changes: precision, recall, decisions, cost'
            cand completions 'Print shell completions to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'bsu;help;run'= {
        }
        &'bsu;help;status'= {
        }
        &'bsu;help;check'= {
        }
        &'bsu;help;events'= {
        }
        &'bsu;help;agents'= {
        }
        &'bsu;help;cache'= {
            cand clear 'Remove every cached response'
            cand prune 'Remove expired cached responses'
        }
        &'bsu;help;cache;clear'= {
        }
        &'bsu;help;cache;prune'= {
        }
        &'bsu;help;breaker'= {
            cand reset 'Close one breaker (e.g. openai@api.openai.com#1a2b3c4d), or all of them'
        }
        &'bsu;help;breaker;reset'= {
        }
        &'bsu;help;state'= {
            cand migrate 'Apply pending schema migrations (automatic on first use; this makes it a step of its own)'
        }
        &'bsu;help;state;migrate'= {
        }
        &'bsu;help;init'= {
        }
        &'bsu;help;report'= {
        }
        &'bsu;help;diff'= {
        }
        &'bsu;help;eval'= {
            cand import 'Make cases from the withmartian code-review-benchmark''s golden comments'
        }
        &'bsu;help;eval;import'= {
        }
        &'bsu;help;completions'= {
        }
        &'bsu;help;help'= {
        }
    ]
    $completions[$command]
}
