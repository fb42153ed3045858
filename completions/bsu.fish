# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_bsu_global_optspecs
    string join \n C/dir= state-dir= v/verbose q/quiet color= h/help V/version
end

function __fish_bsu_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_bsu_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_bsu_using_subcommand
    set -l cmd (__fish_bsu_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c bsu -n "__fish_bsu_needs_command" -s C -l dir -d 'Project directory holding events.toml and agents/ [default: current directory]' -r -F
complete -c bsu -n "__fish_bsu_needs_command" -l state-dir -d 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]' -r -F
complete -c bsu -n "__fish_bsu_needs_command" -l color -d 'When to use colour (NO_COLOR in the environment means never, unless "always")' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c bsu -n "__fish_bsu_needs_command" -s v -l verbose -d 'Say more on stderr (-v: debug, -vv: trace)'
complete -c bsu -n "__fish_bsu_needs_command" -s q -l quiet -d 'Print only errors (and their hints) on stderr'
complete -c bsu -n "__fish_bsu_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bsu -n "__fish_bsu_needs_command" -s V -l version -d 'Print version'
complete -c bsu -n "__fish_bsu_needs_command" -f -a "run" -d 'Run an event\'s agents, decide, and write reports'
complete -c bsu -n "__fish_bsu_needs_command" -f -a "status" -d 'Show circuit breakers, the response cache and recent runs'
complete -c bsu -n "__fish_bsu_needs_command" -f -a "check" -d 'Validate events.toml and agents/, listing every problem'
complete -c bsu -n "__fish_bsu_needs_command" -f -a "events" -d 'List event strategies in the order they are matched'
complete -c bsu -n "__fish_bsu_needs_command" -f -a "agents" -d 'List agents'
complete -c bsu -n "__fish_bsu_needs_command" -f -a "cache" -d 'Manage the response cache'
complete -c bsu -n "__fish_bsu_needs_command" -f -a "breaker" -d 'Manage circuit breakers'
complete -c bsu -n "__fish_bsu_needs_command" -f -a "state" -d 'Manage the state store (SQLite in the state directory, or a PostgreSQL server)'
complete -c bsu -n "__fish_bsu_needs_command" -f -a "init" -d 'Write a starter events.toml and agents/ in the project directory'
complete -c bsu -n "__fish_bsu_needs_command" -f -a "report" -d 'Render a run\'s JSON report again, in any format'
complete -c bsu -n "__fish_bsu_needs_command" -f -a "diff" -d 'Show what changed between two runs: decision, agents, findings'
complete -c bsu -n "__fish_bsu_needs_command" -f -a "eval" -d 'Measure the panel on labelled changes: precision, recall, decisions, cost'
complete -c bsu -n "__fish_bsu_needs_command" -f -a "completions" -d 'Print shell completions to stdout'
complete -c bsu -n "__fish_bsu_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bsu -n "__fish_bsu_using_subcommand run" -l payload -d 'Event payload as JSON, from a file or - for stdin [default: $GITHUB_EVENT_PATH, else {}]' -r
complete -c bsu -n "__fish_bsu_using_subcommand run" -l base -d 'Base of the change that diff inputs review [default: the payload\'s, else at a terminal the merge-base with the upstream branch]' -r
complete -c bsu -n "__fish_bsu_using_subcommand run" -l head -d 'Head of the change [default: the payload\'s; with --base alone, the working tree]' -r
complete -c bsu -n "__fish_bsu_using_subcommand run" -l input -d 'Supply or override input NAME with the text of FILE, or - for stdin (repeatable)' -r
complete -c bsu -n "__fish_bsu_using_subcommand run" -l agent -d 'Run only these of the event\'s agents (repeatable)' -r
complete -c bsu -n "__fish_bsu_using_subcommand run" -l approve -d 'Let an agent that requires approval run (repeatable)' -r
complete -c bsu -n "__fish_bsu_using_subcommand run" -l context -d 'Run context agents are filtered by [default: ci when CI=true, else cli]' -r
complete -c bsu -n "__fish_bsu_using_subcommand run" -l profile -d 'Deployment profile agents are filtered by' -r -f -a "development\t''
staging\t''
production\t''"
complete -c bsu -n "__fish_bsu_using_subcommand run" -l execution -d 'Run the agents in parallel or in sequence, whatever the event says' -r -f -a "parallel\t''
sequential\t''"
complete -c bsu -n "__fish_bsu_using_subcommand run" -l concurrency -d 'Most agent calls in flight at once' -r
complete -c bsu -n "__fish_bsu_using_subcommand run" -l timeout -d 'Deadline for the whole run, e.g. 90s or 10m' -r
complete -c bsu -n "__fish_bsu_using_subcommand run" -l if-running -d 'When another run of this project and event is in progress: wait, skip, or run alongside it [default: defaults.if_running, else run]' -r -f -a "wait\t'Wait for it to finish (within the run\'s timeout), then run'
skip\t'Do nothing and exit 0'
run\t'Run anyway, alongside it'"
complete -c bsu -n "__fish_bsu_using_subcommand run" -l format -d 'Which reports to write, comma-separated: json, md, junit, sarif [default: reports.formats]' -r -f -a "json\t''
md\t''
junit\t''
sarif\t''
patch\t'Every applicable suggestion as one patch (`git apply`)'
codequality\t'GitLab\'s Code Quality report (artifacts: reports: codequality)'"
complete -c bsu -n "__fish_bsu_using_subcommand run" -l reports-dir -d 'Where to write reports [default: reports.dir from events.toml]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand run" -l fail-on -d 'Exit 3 when the decision is at least this strong' -r -f -a "block\t'Exit 3 only on block'
request_changes\t'Exit 3 on request_changes or block'
manual_review\t'Exit 3 on anything but approve'
never\t'Never exit 3'"
complete -c bsu -n "__fish_bsu_using_subcommand run" -l metrics-file -d 'Write Prometheus text-format metrics of this run to FILE (node_exporter textfile)' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand run" -l publish -d 'Publish the decision: github (sticky comment, review, check run) [default: [publish.github] enabled]' -r -f -a "github\t'The pull request and commit on GitHub'
gitlab\t'The merge request and commit on GitLab (sticky note, commit status)'"
complete -c bsu -n "__fish_bsu_using_subcommand run" -l max-cost -d 'Refuse the run (exit 2, nothing sent) when its projected cost is above USD [default: budget.max_cost_per_run]' -r
complete -c bsu -n "__fish_bsu_using_subcommand run" -l record -d 'Write every model exchange to DIR, one JSON file per request (never the key)' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand run" -l replay -d 'Answer every model request from recordings in DIR: no network, no API key' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand run" -s C -l dir -d 'Project directory holding events.toml and agents/ [default: current directory]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand run" -l state-dir -d 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand run" -l color -d 'When to use colour (NO_COLOR in the environment means never, unless "always")' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c bsu -n "__fish_bsu_using_subcommand run" -l strict -d 'An event no strategy matches is an error, not a run of the default strategy'
complete -c bsu -n "__fish_bsu_using_subcommand run" -l dry-run -d 'Render every prompt and estimate tokens; send nothing and change no state'
complete -c bsu -n "__fish_bsu_using_subcommand run" -l no-cache -d 'Neither read nor write the response cache'
complete -c bsu -n "__fish_bsu_using_subcommand run" -l json -d 'Print the report JSON on stdout instead of the human summary'
complete -c bsu -n "__fish_bsu_using_subcommand run" -l publish-replayed -d 'Let a replayed run publish (--publish, webhooks): a recording is a file anyone may edit, so a replay publishes nothing unless this is given'
complete -c bsu -n "__fish_bsu_using_subcommand run" -s v -l verbose -d 'Say more on stderr (-v: debug, -vv: trace)'
complete -c bsu -n "__fish_bsu_using_subcommand run" -s q -l quiet -d 'Print only errors (and their hints) on stderr'
complete -c bsu -n "__fish_bsu_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bsu -n "__fish_bsu_using_subcommand run" -s V -l version -d 'Print version'
complete -c bsu -n "__fish_bsu_using_subcommand status" -l runs -d 'How many recent runs to list' -r
complete -c bsu -n "__fish_bsu_using_subcommand status" -s C -l dir -d 'Project directory holding events.toml and agents/ [default: current directory]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand status" -l state-dir -d 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand status" -l color -d 'When to use colour (NO_COLOR in the environment means never, unless "always")' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c bsu -n "__fish_bsu_using_subcommand status" -l json -d 'Print JSON on stdout instead of tables'
complete -c bsu -n "__fish_bsu_using_subcommand status" -s v -l verbose -d 'Say more on stderr (-v: debug, -vv: trace)'
complete -c bsu -n "__fish_bsu_using_subcommand status" -s q -l quiet -d 'Print only errors (and their hints) on stderr'
complete -c bsu -n "__fish_bsu_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bsu -n "__fish_bsu_using_subcommand status" -s V -l version -d 'Print version'
complete -c bsu -n "__fish_bsu_using_subcommand check" -s C -l dir -d 'Project directory holding events.toml and agents/ [default: current directory]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand check" -l state-dir -d 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand check" -l color -d 'When to use colour (NO_COLOR in the environment means never, unless "always")' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c bsu -n "__fish_bsu_using_subcommand check" -l json -d 'Print JSON on stdout instead of a table'
complete -c bsu -n "__fish_bsu_using_subcommand check" -s v -l verbose -d 'Say more on stderr (-v: debug, -vv: trace)'
complete -c bsu -n "__fish_bsu_using_subcommand check" -s q -l quiet -d 'Print only errors (and their hints) on stderr'
complete -c bsu -n "__fish_bsu_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bsu -n "__fish_bsu_using_subcommand check" -s V -l version -d 'Print version'
complete -c bsu -n "__fish_bsu_using_subcommand events" -s C -l dir -d 'Project directory holding events.toml and agents/ [default: current directory]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand events" -l state-dir -d 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand events" -l color -d 'When to use colour (NO_COLOR in the environment means never, unless "always")' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c bsu -n "__fish_bsu_using_subcommand events" -l json -d 'Print JSON on stdout instead of a table'
complete -c bsu -n "__fish_bsu_using_subcommand events" -s v -l verbose -d 'Say more on stderr (-v: debug, -vv: trace)'
complete -c bsu -n "__fish_bsu_using_subcommand events" -s q -l quiet -d 'Print only errors (and their hints) on stderr'
complete -c bsu -n "__fish_bsu_using_subcommand events" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bsu -n "__fish_bsu_using_subcommand events" -s V -l version -d 'Print version'
complete -c bsu -n "__fish_bsu_using_subcommand agents" -l context -d 'Only agents allowed to run in this context (ci, cli, github, ...)' -r
complete -c bsu -n "__fish_bsu_using_subcommand agents" -s C -l dir -d 'Project directory holding events.toml and agents/ [default: current directory]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand agents" -l state-dir -d 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand agents" -l color -d 'When to use colour (NO_COLOR in the environment means never, unless "always")' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c bsu -n "__fish_bsu_using_subcommand agents" -l json -d 'Print a JSON array of agents on stdout instead of a table'
complete -c bsu -n "__fish_bsu_using_subcommand agents" -s v -l verbose -d 'Say more on stderr (-v: debug, -vv: trace)'
complete -c bsu -n "__fish_bsu_using_subcommand agents" -s q -l quiet -d 'Print only errors (and their hints) on stderr'
complete -c bsu -n "__fish_bsu_using_subcommand agents" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bsu -n "__fish_bsu_using_subcommand agents" -s V -l version -d 'Print version'
complete -c bsu -n "__fish_bsu_using_subcommand cache; and not __fish_seen_subcommand_from clear prune help" -s C -l dir -d 'Project directory holding events.toml and agents/ [default: current directory]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand cache; and not __fish_seen_subcommand_from clear prune help" -l state-dir -d 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand cache; and not __fish_seen_subcommand_from clear prune help" -l color -d 'When to use colour (NO_COLOR in the environment means never, unless "always")' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c bsu -n "__fish_bsu_using_subcommand cache; and not __fish_seen_subcommand_from clear prune help" -s v -l verbose -d 'Say more on stderr (-v: debug, -vv: trace)'
complete -c bsu -n "__fish_bsu_using_subcommand cache; and not __fish_seen_subcommand_from clear prune help" -s q -l quiet -d 'Print only errors (and their hints) on stderr'
complete -c bsu -n "__fish_bsu_using_subcommand cache; and not __fish_seen_subcommand_from clear prune help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bsu -n "__fish_bsu_using_subcommand cache; and not __fish_seen_subcommand_from clear prune help" -s V -l version -d 'Print version'
complete -c bsu -n "__fish_bsu_using_subcommand cache; and not __fish_seen_subcommand_from clear prune help" -f -a "clear" -d 'Remove every cached response'
complete -c bsu -n "__fish_bsu_using_subcommand cache; and not __fish_seen_subcommand_from clear prune help" -f -a "prune" -d 'Remove expired cached responses'
complete -c bsu -n "__fish_bsu_using_subcommand cache; and not __fish_seen_subcommand_from clear prune help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bsu -n "__fish_bsu_using_subcommand cache; and __fish_seen_subcommand_from clear" -s C -l dir -d 'Project directory holding events.toml and agents/ [default: current directory]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand cache; and __fish_seen_subcommand_from clear" -l state-dir -d 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand cache; and __fish_seen_subcommand_from clear" -l color -d 'When to use colour (NO_COLOR in the environment means never, unless "always")' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c bsu -n "__fish_bsu_using_subcommand cache; and __fish_seen_subcommand_from clear" -l json -d 'Print JSON on stdout instead of a table'
complete -c bsu -n "__fish_bsu_using_subcommand cache; and __fish_seen_subcommand_from clear" -s v -l verbose -d 'Say more on stderr (-v: debug, -vv: trace)'
complete -c bsu -n "__fish_bsu_using_subcommand cache; and __fish_seen_subcommand_from clear" -s q -l quiet -d 'Print only errors (and their hints) on stderr'
complete -c bsu -n "__fish_bsu_using_subcommand cache; and __fish_seen_subcommand_from clear" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bsu -n "__fish_bsu_using_subcommand cache; and __fish_seen_subcommand_from clear" -s V -l version -d 'Print version'
complete -c bsu -n "__fish_bsu_using_subcommand cache; and __fish_seen_subcommand_from prune" -s C -l dir -d 'Project directory holding events.toml and agents/ [default: current directory]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand cache; and __fish_seen_subcommand_from prune" -l state-dir -d 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand cache; and __fish_seen_subcommand_from prune" -l color -d 'When to use colour (NO_COLOR in the environment means never, unless "always")' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c bsu -n "__fish_bsu_using_subcommand cache; and __fish_seen_subcommand_from prune" -l json -d 'Print JSON on stdout instead of a table'
complete -c bsu -n "__fish_bsu_using_subcommand cache; and __fish_seen_subcommand_from prune" -s v -l verbose -d 'Say more on stderr (-v: debug, -vv: trace)'
complete -c bsu -n "__fish_bsu_using_subcommand cache; and __fish_seen_subcommand_from prune" -s q -l quiet -d 'Print only errors (and their hints) on stderr'
complete -c bsu -n "__fish_bsu_using_subcommand cache; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bsu -n "__fish_bsu_using_subcommand cache; and __fish_seen_subcommand_from prune" -s V -l version -d 'Print version'
complete -c bsu -n "__fish_bsu_using_subcommand cache; and __fish_seen_subcommand_from help" -f -a "clear" -d 'Remove every cached response'
complete -c bsu -n "__fish_bsu_using_subcommand cache; and __fish_seen_subcommand_from help" -f -a "prune" -d 'Remove expired cached responses'
complete -c bsu -n "__fish_bsu_using_subcommand cache; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bsu -n "__fish_bsu_using_subcommand breaker; and not __fish_seen_subcommand_from reset help" -s C -l dir -d 'Project directory holding events.toml and agents/ [default: current directory]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand breaker; and not __fish_seen_subcommand_from reset help" -l state-dir -d 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand breaker; and not __fish_seen_subcommand_from reset help" -l color -d 'When to use colour (NO_COLOR in the environment means never, unless "always")' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c bsu -n "__fish_bsu_using_subcommand breaker; and not __fish_seen_subcommand_from reset help" -s v -l verbose -d 'Say more on stderr (-v: debug, -vv: trace)'
complete -c bsu -n "__fish_bsu_using_subcommand breaker; and not __fish_seen_subcommand_from reset help" -s q -l quiet -d 'Print only errors (and their hints) on stderr'
complete -c bsu -n "__fish_bsu_using_subcommand breaker; and not __fish_seen_subcommand_from reset help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bsu -n "__fish_bsu_using_subcommand breaker; and not __fish_seen_subcommand_from reset help" -s V -l version -d 'Print version'
complete -c bsu -n "__fish_bsu_using_subcommand breaker; and not __fish_seen_subcommand_from reset help" -f -a "reset" -d 'Close one breaker (e.g. openai@api.openai.com#1a2b3c4d), or all of them'
complete -c bsu -n "__fish_bsu_using_subcommand breaker; and not __fish_seen_subcommand_from reset help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bsu -n "__fish_bsu_using_subcommand breaker; and __fish_seen_subcommand_from reset" -s C -l dir -d 'Project directory holding events.toml and agents/ [default: current directory]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand breaker; and __fish_seen_subcommand_from reset" -l state-dir -d 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand breaker; and __fish_seen_subcommand_from reset" -l color -d 'When to use colour (NO_COLOR in the environment means never, unless "always")' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c bsu -n "__fish_bsu_using_subcommand breaker; and __fish_seen_subcommand_from reset" -l json -d 'Print the breakers closed as JSON on stdout'
complete -c bsu -n "__fish_bsu_using_subcommand breaker; and __fish_seen_subcommand_from reset" -s v -l verbose -d 'Say more on stderr (-v: debug, -vv: trace)'
complete -c bsu -n "__fish_bsu_using_subcommand breaker; and __fish_seen_subcommand_from reset" -s q -l quiet -d 'Print only errors (and their hints) on stderr'
complete -c bsu -n "__fish_bsu_using_subcommand breaker; and __fish_seen_subcommand_from reset" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bsu -n "__fish_bsu_using_subcommand breaker; and __fish_seen_subcommand_from reset" -s V -l version -d 'Print version'
complete -c bsu -n "__fish_bsu_using_subcommand breaker; and __fish_seen_subcommand_from help" -f -a "reset" -d 'Close one breaker (e.g. openai@api.openai.com#1a2b3c4d), or all of them'
complete -c bsu -n "__fish_bsu_using_subcommand breaker; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bsu -n "__fish_bsu_using_subcommand state; and not __fish_seen_subcommand_from migrate help" -s C -l dir -d 'Project directory holding events.toml and agents/ [default: current directory]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand state; and not __fish_seen_subcommand_from migrate help" -l state-dir -d 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand state; and not __fish_seen_subcommand_from migrate help" -l color -d 'When to use colour (NO_COLOR in the environment means never, unless "always")' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c bsu -n "__fish_bsu_using_subcommand state; and not __fish_seen_subcommand_from migrate help" -s v -l verbose -d 'Say more on stderr (-v: debug, -vv: trace)'
complete -c bsu -n "__fish_bsu_using_subcommand state; and not __fish_seen_subcommand_from migrate help" -s q -l quiet -d 'Print only errors (and their hints) on stderr'
complete -c bsu -n "__fish_bsu_using_subcommand state; and not __fish_seen_subcommand_from migrate help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bsu -n "__fish_bsu_using_subcommand state; and not __fish_seen_subcommand_from migrate help" -s V -l version -d 'Print version'
complete -c bsu -n "__fish_bsu_using_subcommand state; and not __fish_seen_subcommand_from migrate help" -f -a "migrate" -d 'Apply pending schema migrations (automatic on first use; this makes it a step of its own)'
complete -c bsu -n "__fish_bsu_using_subcommand state; and not __fish_seen_subcommand_from migrate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bsu -n "__fish_bsu_using_subcommand state; and __fish_seen_subcommand_from migrate" -s C -l dir -d 'Project directory holding events.toml and agents/ [default: current directory]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand state; and __fish_seen_subcommand_from migrate" -l state-dir -d 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand state; and __fish_seen_subcommand_from migrate" -l color -d 'When to use colour (NO_COLOR in the environment means never, unless "always")' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c bsu -n "__fish_bsu_using_subcommand state; and __fish_seen_subcommand_from migrate" -l json -d 'Print JSON on stdout instead of a table'
complete -c bsu -n "__fish_bsu_using_subcommand state; and __fish_seen_subcommand_from migrate" -s v -l verbose -d 'Say more on stderr (-v: debug, -vv: trace)'
complete -c bsu -n "__fish_bsu_using_subcommand state; and __fish_seen_subcommand_from migrate" -s q -l quiet -d 'Print only errors (and their hints) on stderr'
complete -c bsu -n "__fish_bsu_using_subcommand state; and __fish_seen_subcommand_from migrate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bsu -n "__fish_bsu_using_subcommand state; and __fish_seen_subcommand_from migrate" -s V -l version -d 'Print version'
complete -c bsu -n "__fish_bsu_using_subcommand state; and __fish_seen_subcommand_from help" -f -a "migrate" -d 'Apply pending schema migrations (automatic on first use; this makes it a step of its own)'
complete -c bsu -n "__fish_bsu_using_subcommand state; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bsu -n "__fish_bsu_using_subcommand init" -l ci -d 'Also write a CI pipeline that runs bsu: gitlab (.gitlab-ci.yml)' -r -f -a "gitlab\t'.gitlab-ci.yml: merge-request reviews and scheduled audits'"
complete -c bsu -n "__fish_bsu_using_subcommand init" -s C -l dir -d 'Project directory holding events.toml and agents/ [default: current directory]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand init" -l state-dir -d 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand init" -l color -d 'When to use colour (NO_COLOR in the environment means never, unless "always")' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c bsu -n "__fish_bsu_using_subcommand init" -l force -d 'Overwrite files that already exist'
complete -c bsu -n "__fish_bsu_using_subcommand init" -l json -d 'Print what was written as JSON on stdout'
complete -c bsu -n "__fish_bsu_using_subcommand init" -s v -l verbose -d 'Say more on stderr (-v: debug, -vv: trace)'
complete -c bsu -n "__fish_bsu_using_subcommand init" -s q -l quiet -d 'Print only errors (and their hints) on stderr'
complete -c bsu -n "__fish_bsu_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bsu -n "__fish_bsu_using_subcommand init" -s V -l version -d 'Print version'
complete -c bsu -n "__fish_bsu_using_subcommand report" -l format -d 'The format to print' -r -f -a "json\t''
md\t''
junit\t''
sarif\t''
metrics\t''
patch\t''
codequality\t'GitLab\'s Code Quality report'"
complete -c bsu -n "__fish_bsu_using_subcommand report" -s C -l dir -d 'Project directory holding events.toml and agents/ [default: current directory]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand report" -l state-dir -d 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand report" -l color -d 'When to use colour (NO_COLOR in the environment means never, unless "always")' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c bsu -n "__fish_bsu_using_subcommand report" -s v -l verbose -d 'Say more on stderr (-v: debug, -vv: trace)'
complete -c bsu -n "__fish_bsu_using_subcommand report" -s q -l quiet -d 'Print only errors (and their hints) on stderr'
complete -c bsu -n "__fish_bsu_using_subcommand report" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bsu -n "__fish_bsu_using_subcommand report" -s V -l version -d 'Print version'
complete -c bsu -n "__fish_bsu_using_subcommand diff" -l last -d 'Compare the two newest runs of EVENT in the run history instead' -r
complete -c bsu -n "__fish_bsu_using_subcommand diff" -s C -l dir -d 'Project directory holding events.toml and agents/ [default: current directory]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand diff" -l state-dir -d 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand diff" -l color -d 'When to use colour (NO_COLOR in the environment means never, unless "always")' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c bsu -n "__fish_bsu_using_subcommand diff" -l json -d 'Print the differences as JSON on stdout'
complete -c bsu -n "__fish_bsu_using_subcommand diff" -l exit-code -d 'Exit 1 when the decision changed (like `git diff --exit-code`)'
complete -c bsu -n "__fish_bsu_using_subcommand diff" -s v -l verbose -d 'Say more on stderr (-v: debug, -vv: trace)'
complete -c bsu -n "__fish_bsu_using_subcommand diff" -s q -l quiet -d 'Print only errors (and their hints) on stderr'
complete -c bsu -n "__fish_bsu_using_subcommand diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bsu -n "__fish_bsu_using_subcommand diff" -s V -l version -d 'Print version'
complete -c bsu -n "__fish_bsu_using_subcommand eval; and not __fish_seen_subcommand_from import help" -l agent -d 'Run only these agents (repeatable)' -r
complete -c bsu -n "__fish_bsu_using_subcommand eval; and not __fish_seen_subcommand_from import help" -l concurrency -d 'Cases run at once [default: 4]' -r
complete -c bsu -n "__fish_bsu_using_subcommand eval; and not __fish_seen_subcommand_from import help" -l judge -d 'Match findings to golden ones the location rules leave open by asking this agent, per candidate pair, whether they are the same issue (the only way to match golden findings without a location)' -r
complete -c bsu -n "__fish_bsu_using_subcommand eval; and not __fish_seen_subcommand_from import help" -l tolerance -d 'Lines a finding may be off its golden finding\'s range and still match' -r
complete -c bsu -n "__fish_bsu_using_subcommand eval; and not __fish_seen_subcommand_from import help" -l min-similarity -d 'The least text similarity (0 to 1) of a finding\'s title and detail to the golden description for a match by location' -r
complete -c bsu -n "__fish_bsu_using_subcommand eval; and not __fish_seen_subcommand_from import help" -l markdown -d 'Also write the result as Markdown to FILE' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand eval; and not __fish_seen_subcommand_from import help" -l output -d 'Also write the result as JSON to FILE (a later --baseline)' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand eval; and not __fish_seen_subcommand_from import help" -l baseline -d 'Compare with an earlier eval\'s JSON and show the deltas' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand eval; and not __fish_seen_subcommand_from import help" -l fail-under -d 'Exit 3 when a panel figure is under its floor, e.g. f1=0.4,decision=0.8 (precision, recall, f1, weighted_recall, decision)' -r
complete -c bsu -n "__fish_bsu_using_subcommand eval; and not __fish_seen_subcommand_from import help" -l max-regression -d 'Exit 3 when a panel figure fell more than this below --baseline\'s' -r
complete -c bsu -n "__fish_bsu_using_subcommand eval; and not __fish_seen_subcommand_from import help" -l record -d 'Write every model exchange (agents and judge) to DIR' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand eval; and not __fish_seen_subcommand_from import help" -l replay -d 'Answer every model request from recordings in DIR: no network, no API key' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand eval; and not __fish_seen_subcommand_from import help" -s C -l dir -d 'Project directory holding events.toml and agents/ [default: current directory]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand eval; and not __fish_seen_subcommand_from import help" -l state-dir -d 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand eval; and not __fish_seen_subcommand_from import help" -l color -d 'When to use colour (NO_COLOR in the environment means never, unless "always")' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c bsu -n "__fish_bsu_using_subcommand eval; and not __fish_seen_subcommand_from import help" -l json -d 'Print the result as JSON (the schema is schemas/eval.schema.json)'
complete -c bsu -n "__fish_bsu_using_subcommand eval; and not __fish_seen_subcommand_from import help" -s v -l verbose -d 'Say more on stderr (-v: debug, -vv: trace)'
complete -c bsu -n "__fish_bsu_using_subcommand eval; and not __fish_seen_subcommand_from import help" -s q -l quiet -d 'Print only errors (and their hints) on stderr'
complete -c bsu -n "__fish_bsu_using_subcommand eval; and not __fish_seen_subcommand_from import help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bsu -n "__fish_bsu_using_subcommand eval; and not __fish_seen_subcommand_from import help" -s V -l version -d 'Print version'
complete -c bsu -n "__fish_bsu_using_subcommand eval; and not __fish_seen_subcommand_from import help" -a "import" -d 'Make cases from the withmartian code-review-benchmark\'s golden comments'
complete -c bsu -n "__fish_bsu_using_subcommand eval; and not __fish_seen_subcommand_from import help" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bsu -n "__fish_bsu_using_subcommand eval; and __fish_seen_subcommand_from import" -l diffs -d 'The folder holding each pull request\'s diff as OWNER-REPO-NUMBER.patch (the benchmark does not ship them)' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand eval; and __fish_seen_subcommand_from import" -l into -d 'Where to write the cases' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand eval; and __fish_seen_subcommand_from import" -s C -l dir -d 'Project directory holding events.toml and agents/ [default: current directory]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand eval; and __fish_seen_subcommand_from import" -l state-dir -d 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand eval; and __fish_seen_subcommand_from import" -l color -d 'When to use colour (NO_COLOR in the environment means never, unless "always")' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c bsu -n "__fish_bsu_using_subcommand eval; and __fish_seen_subcommand_from import" -s v -l verbose -d 'Say more on stderr (-v: debug, -vv: trace)'
complete -c bsu -n "__fish_bsu_using_subcommand eval; and __fish_seen_subcommand_from import" -s q -l quiet -d 'Print only errors (and their hints) on stderr'
complete -c bsu -n "__fish_bsu_using_subcommand eval; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bsu -n "__fish_bsu_using_subcommand eval; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c bsu -n "__fish_bsu_using_subcommand eval; and __fish_seen_subcommand_from help" -f -a "import" -d 'Make cases from the withmartian code-review-benchmark\'s golden comments'
complete -c bsu -n "__fish_bsu_using_subcommand eval; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bsu -n "__fish_bsu_using_subcommand completions" -s C -l dir -d 'Project directory holding events.toml and agents/ [default: current directory]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand completions" -l state-dir -d 'Where breaker state, the response cache and run history live [default: the platform state directory, e.g. ~/.local/state/bsu]' -r -F
complete -c bsu -n "__fish_bsu_using_subcommand completions" -l color -d 'When to use colour (NO_COLOR in the environment means never, unless "always")' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour'
never\t'Never colour'"
complete -c bsu -n "__fish_bsu_using_subcommand completions" -s v -l verbose -d 'Say more on stderr (-v: debug, -vv: trace)'
complete -c bsu -n "__fish_bsu_using_subcommand completions" -s q -l quiet -d 'Print only errors (and their hints) on stderr'
complete -c bsu -n "__fish_bsu_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bsu -n "__fish_bsu_using_subcommand completions" -s V -l version -d 'Print version'
complete -c bsu -n "__fish_bsu_using_subcommand help; and not __fish_seen_subcommand_from run status check events agents cache breaker state init report diff eval completions help" -f -a "run" -d 'Run an event\'s agents, decide, and write reports'
complete -c bsu -n "__fish_bsu_using_subcommand help; and not __fish_seen_subcommand_from run status check events agents cache breaker state init report diff eval completions help" -f -a "status" -d 'Show circuit breakers, the response cache and recent runs'
complete -c bsu -n "__fish_bsu_using_subcommand help; and not __fish_seen_subcommand_from run status check events agents cache breaker state init report diff eval completions help" -f -a "check" -d 'Validate events.toml and agents/, listing every problem'
complete -c bsu -n "__fish_bsu_using_subcommand help; and not __fish_seen_subcommand_from run status check events agents cache breaker state init report diff eval completions help" -f -a "events" -d 'List event strategies in the order they are matched'
complete -c bsu -n "__fish_bsu_using_subcommand help; and not __fish_seen_subcommand_from run status check events agents cache breaker state init report diff eval completions help" -f -a "agents" -d 'List agents'
complete -c bsu -n "__fish_bsu_using_subcommand help; and not __fish_seen_subcommand_from run status check events agents cache breaker state init report diff eval completions help" -f -a "cache" -d 'Manage the response cache'
complete -c bsu -n "__fish_bsu_using_subcommand help; and not __fish_seen_subcommand_from run status check events agents cache breaker state init report diff eval completions help" -f -a "breaker" -d 'Manage circuit breakers'
complete -c bsu -n "__fish_bsu_using_subcommand help; and not __fish_seen_subcommand_from run status check events agents cache breaker state init report diff eval completions help" -f -a "state" -d 'Manage the state store (SQLite in the state directory, or a PostgreSQL server)'
complete -c bsu -n "__fish_bsu_using_subcommand help; and not __fish_seen_subcommand_from run status check events agents cache breaker state init report diff eval completions help" -f -a "init" -d 'Write a starter events.toml and agents/ in the project directory'
complete -c bsu -n "__fish_bsu_using_subcommand help; and not __fish_seen_subcommand_from run status check events agents cache breaker state init report diff eval completions help" -f -a "report" -d 'Render a run\'s JSON report again, in any format'
complete -c bsu -n "__fish_bsu_using_subcommand help; and not __fish_seen_subcommand_from run status check events agents cache breaker state init report diff eval completions help" -f -a "diff" -d 'Show what changed between two runs: decision, agents, findings'
complete -c bsu -n "__fish_bsu_using_subcommand help; and not __fish_seen_subcommand_from run status check events agents cache breaker state init report diff eval completions help" -f -a "eval" -d 'Measure the panel on labelled changes: precision, recall, decisions, cost'
complete -c bsu -n "__fish_bsu_using_subcommand help; and not __fish_seen_subcommand_from run status check events agents cache breaker state init report diff eval completions help" -f -a "completions" -d 'Print shell completions to stdout'
complete -c bsu -n "__fish_bsu_using_subcommand help; and not __fish_seen_subcommand_from run status check events agents cache breaker state init report diff eval completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bsu -n "__fish_bsu_using_subcommand help; and __fish_seen_subcommand_from cache" -f -a "clear" -d 'Remove every cached response'
complete -c bsu -n "__fish_bsu_using_subcommand help; and __fish_seen_subcommand_from cache" -f -a "prune" -d 'Remove expired cached responses'
complete -c bsu -n "__fish_bsu_using_subcommand help; and __fish_seen_subcommand_from breaker" -f -a "reset" -d 'Close one breaker (e.g. openai@api.openai.com#1a2b3c4d), or all of them'
complete -c bsu -n "__fish_bsu_using_subcommand help; and __fish_seen_subcommand_from state" -f -a "migrate" -d 'Apply pending schema migrations (automatic on first use; this makes it a step of its own)'
complete -c bsu -n "__fish_bsu_using_subcommand help; and __fish_seen_subcommand_from eval" -f -a "import" -d 'Make cases from the withmartian code-review-benchmark\'s golden comments'
