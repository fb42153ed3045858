//! docs/reference.md, generated: every command and flag from the clap
//! definitions, every key of events.toml and of agent files from the JSON
//! Schemas. A test keeps the committed page fresh
//! (`BSU_UPDATE_REFERENCE=1 cargo test reference` rewrites it).

use std::fmt::Write as _;

use clap::CommandFactory;
use serde_json::Value;

use crate::cli::Cli;

/// The whole page.
pub(super) fn render() -> String {
    let mut s = String::from(
        "# bsu reference\n\n\
         Generated from the command-line definitions and the JSON Schemas in `schemas/`; do \
         not edit it by hand (`BSU_UPDATE_REFERENCE=1 cargo test reference` writes it again). \
         The rules behind these flags and keys — the decision, how a reply is read, exit \
         codes, fail-closed, bounds, secrets — are in [CONTRACT.md](CONTRACT.md).\n\n",
    );
    commands(&mut s);
    for (name, title) in [
        ("events.schema.json", "events.toml"),
        ("agent.schema.json", "agents/<id>.toml"),
    ] {
        let schema: Value = serde_json::from_str(
            &super::schemas::all()
                .into_iter()
                .find(|(n, _)| *n == name)
                .map(|(_, text)| text)
                .unwrap_or_default(),
        )
        .unwrap_or_default();
        let _ = writeln!(s, "## {title}\n");
        keys(&mut s, &schema, &schema, "", 0);
    }
    s
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn commands(s: &mut String) {
    let mut cmd = Cli::command();
    cmd.build();
    s.push_str("## Commands\n\n");
    let globals: Vec<&clap::Arg> = cmd.get_arguments().filter(|a| a.is_global_set()).collect();
    for sub in cmd.get_subcommands().filter(|c| c.get_name() != "help") {
        write_command(s, sub, &format!("bsu {}", sub.get_name()));
        for nested in sub.get_subcommands().filter(|c| c.get_name() != "help") {
            write_command(
                s,
                nested,
                &format!("bsu {} {}", sub.get_name(), nested.get_name()),
            );
        }
    }
    s.push_str("### Global options\n\n| flag | what it does |\n|---|---|\n");
    for a in globals {
        row(s, a);
    }
    s.push('\n');
}

fn write_command(s: &mut String, c: &clap::Command, name: &str) {
    let about = c.get_about().map(|a| a.to_string()).unwrap_or_default();
    let _ = writeln!(s, "### `{name}`\n\n{about}\n");
    let args: Vec<&clap::Arg> = c
        .get_arguments()
        .filter(|a| !a.is_global_set() && !a.is_hide_set())
        .filter(|a| !matches!(a.get_id().as_str(), "help" | "version"))
        .collect();
    if args.is_empty() {
        return;
    }
    // Flags under their headings, in the order --help shows them.
    let mut headings: Vec<Option<&str>> = Vec::new();
    for a in &args {
        if !headings.contains(&a.get_help_heading()) {
            headings.push(a.get_help_heading());
        }
    }
    for h in headings {
        if let Some(h) = h {
            let _ = writeln!(s, "{h}:\n");
        }
        s.push_str("| argument | what it does |\n|---|---|\n");
        for a in args.iter().filter(|a| a.get_help_heading() == h) {
            row(s, a);
        }
        s.push('\n');
    }
}

fn row(s: &mut String, a: &clap::Arg) {
    let names = match (a.get_long(), a.get_short()) {
        (Some(l), Some(sh)) => format!("-{sh}, --{l}"),
        (Some(l), None) => format!("--{l}"),
        (None, Some(sh)) => format!("-{sh}"),
        (None, None) => a.get_id().as_str().to_uppercase(),
    };
    let value = match a.get_value_names() {
        Some(v) if a.get_num_args().is_none_or(|n| n.takes_values()) && a.get_long().is_some() => {
            format!(" <{}>", v.join(" "))
        }
        _ => String::new(),
    };
    let help = a
        .get_long_help()
        .or(a.get_help())
        .map(|h| h.to_string())
        .unwrap_or_default();
    let mut extra = Vec::new();
    let values: Vec<String> = a
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| format!("`{}`", v.get_name()))
        .collect();
    if !values.is_empty() && a.get_action().takes_values() {
        extra.push(format!("one of {}", values.join(", ")));
    }
    if let Some(env) = a.get_env() {
        extra.push(format!("env `{}`", env.to_string_lossy()));
    }
    let defaults: Vec<String> = a
        .get_default_values()
        .iter()
        .map(|d| d.to_string_lossy().into_owned())
        .collect();
    if !defaults.is_empty() && a.get_action().takes_values() {
        extra.push(format!("default `{}`", defaults.join(",")));
    }
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!(" ({})", extra.join("; "))
    };
    let _ = writeln!(
        s,
        "| `{}` | {}{extra} |",
        cell(&format!("{names}{value}")),
        cell(&help)
    );
}

/// The object a property's schema describes, following `$ref` and `anyOf: [X, null]`.
fn resolve<'a>(root: &'a Value, v: &'a Value) -> &'a Value {
    if let Some(r) = v.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/$defs/");
        return root.pointer(&format!("/$defs/{name}")).unwrap_or(v);
    }
    if let Some(any) = v.get("anyOf").and_then(Value::as_array) {
        if let Some(x) = any
            .iter()
            .find(|x| x.get("type") != Some(&Value::from("null")))
        {
            return resolve(root, x);
        }
    }
    v
}

/// A short name of a schema's type.
fn type_name(root: &Value, v: &Value) -> String {
    let r = resolve(root, v);
    if let Some(e) = r.get("enum").and_then(Value::as_array) {
        let names: Vec<String> = e
            .iter()
            .filter_map(Value::as_str)
            .map(|x| format!("`{x}`"))
            .collect();
        return format!("one of {}", names.join(", "));
    }
    if let Some(one) = r.get("oneOf").and_then(Value::as_array) {
        let names: Vec<String> = one
            .iter()
            .flat_map(|x| {
                x.get("enum")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_else(|| x.get("const").cloned().into_iter().collect())
            })
            .filter_map(|x| x.as_str().map(|s| format!("`{s}`")))
            .collect();
        if !names.is_empty() {
            return format!("one of {}", names.join(", "));
        }
    }
    match r.get("type") {
        Some(Value::String(t)) if t == "array" => {
            format!(
                "array of {}",
                r.get("items")
                    .map_or("values".into(), |i| type_name(root, i))
            )
        }
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "value".into(),
    }
}

fn description(root: &Value, v: &Value) -> String {
    v.get("description")
        .or_else(|| resolve(root, v).get("description"))
        .and_then(Value::as_str)
        .map(|d| cell(d.trim()))
        .unwrap_or_default()
}

/// The keys of `obj` as a table; nested tables get a heading of their own.
fn keys(s: &mut String, root: &Value, obj: &Value, path: &str, depth: usize) {
    let obj = resolve(root, obj);
    let Some(props) = obj.get("properties").and_then(Value::as_object) else {
        return;
    };
    let mut tables = Vec::new();
    let mut rows = String::new();
    for (k, v) in props {
        let r = resolve(root, v);
        let full = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        let is_table = r.get("properties").is_some();
        let is_map = r.get("type").is_some_and(|t| {
            t == "object"
                || t.as_array()
                    .is_some_and(|a| a.contains(&Value::from("object")))
        }) && r.get("additionalProperties").is_some_and(Value::is_object);
        if (is_table || is_map) && depth < 3 {
            tables.push((full, v, is_map));
        } else {
            let _ = writeln!(
                rows,
                "| `{k}` | {} | {} |",
                cell(&type_name(root, v)),
                description(root, v)
            );
        }
    }
    if !rows.is_empty() {
        s.push_str("| key | type | what it does |\n|---|---|---|\n");
        s.push_str(&rows);
        s.push('\n');
    }
    for (full, v, is_map) in tables {
        let r = resolve(root, v);
        let (title, inner) = if is_map {
            (
                format!("{full}.NAME"),
                r.get("additionalProperties").unwrap_or(r),
            )
        } else {
            (full.clone(), v)
        };
        let _ = writeln!(s, "### `[{title}]`\n");
        let d = description(root, v);
        if !d.is_empty() {
            let _ = writeln!(s, "{d}\n");
        }
        keys(s, root, inner, &title, depth + 1);
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// The contract's command list and `bsu run` flag list name exactly what the binary has.
    #[test]
    fn the_contract_lists_every_command_and_run_flag() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/CONTRACT.md");
        let contract = std::fs::read_to_string(path).unwrap();
        let block = |after: &str| -> String {
            let start = contract
                .find(after)
                .unwrap_or_else(|| panic!("no {after:?}"));
            let rest = &contract[start..];
            let open = rest.find("```\n").unwrap() + 4;
            let close = rest[open..].find("```").unwrap();
            rest[open..open + close].to_string()
        };
        let cmd = crate::cli::Cli::command();
        let listed = block("## Commands");
        for sub in cmd.get_subcommands().filter(|c| c.get_name() != "help") {
            assert!(
                listed.contains(&format!("bsu {} ", sub.get_name()))
                    || listed.contains(&format!("bsu {}|", sub.get_name())),
                "CONTRACT.md's command list lacks `bsu {}`",
                sub.get_name()
            );
        }
        let flags: std::collections::BTreeSet<String> = block("`bsu run` flags:")
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("--"))
            .map(|l| l.split([' ', '=']).next().unwrap_or("").to_string())
            .collect();
        let run = cmd.find_subcommand("run").unwrap();
        let real: std::collections::BTreeSet<String> = run
            .get_arguments()
            .filter(|a| !a.is_global_set())
            .filter_map(|a| a.get_long().map(str::to_string))
            .filter(|l| l != "help")
            .collect();
        assert_eq!(
            flags, real,
            "CONTRACT.md's `bsu run` flags and the binary's differ"
        );
    }

    /// docs/reference.md must match the CLI and the schemas.
    #[test]
    fn committed_reference_is_fresh() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reference.md");
        let fresh = super::render();
        if std::env::var_os("BSU_UPDATE_REFERENCE").is_some_and(|v| v == "1") {
            std::fs::write(&path, &fresh).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "docs/reference.md is stale; run `BSU_UPDATE_REFERENCE=1 cargo test reference`"
        );
        for must in [
            "### `bsu run`",
            "### `bsu report`",
            "### `bsu diff`",
            "`--publish-replayed`",
            "### `[secrets]`",
        ] {
            assert!(fresh.contains(must), "{must} is missing");
        }
    }
}
