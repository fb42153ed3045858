//! The JSON Schemas bsu publishes in `schemas/`, generated from the Rust
//! types (schemars): `events.toml`, agent files, the JSON report,
//! `bsu status --json`, eval cases' `expect.toml` and `bsu eval --json`. A test keeps the committed files in step; `bsu init`
//! writes the two file schemas into a new project for its `#:schema` lines.

/// (file name, schema text) of every published schema.
pub(crate) fn all() -> Vec<(&'static str, String)> {
    let (events, agent) = crate::config::file_schemas();
    let pretty = |s: &schemars::Schema| {
        let mut text = serde_json::to_string_pretty(s).expect("schemas are JSON");
        text.push('\n');
        text
    };
    vec![
        ("events.schema.json", pretty(&events)),
        ("agent.schema.json", pretty(&agent)),
        (
            "report.schema.json",
            pretty(&schemars::schema_for!(crate::report::Report)),
        ),
        (
            "status.schema.json",
            pretty(&schemars::schema_for!(super::status::StatusJson)),
        ),
        (
            "expect.schema.json",
            pretty(&schemars::schema_for!(crate::evaluate::case::ExpectFile)),
        ),
        (
            "eval.schema.json",
            pretty(&schemars::schema_for!(crate::evaluate::EvalJson)),
        ),
    ]
}

#[cfg(test)]
mod tests {
    /// The committed schemas must match the types. Regenerate them with
    /// `BSU_UPDATE_SCHEMAS=1 cargo test schemas`.
    #[test]
    fn committed_schemas_are_fresh() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
        let update = std::env::var_os("BSU_UPDATE_SCHEMAS").is_some_and(|v| v == "1");
        let mut stale = Vec::new();
        for (name, text) in super::all() {
            let path = dir.join(name);
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &text).unwrap();
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                stale.push(path.display().to_string());
            }
        }
        assert!(
            stale.is_empty(),
            "stale schemas: {stale:?}; run `BSU_UPDATE_SCHEMAS=1 cargo test schemas`"
        );
    }

    #[test]
    fn the_example_project_validates_against_its_schemas() {
        // Every key the example uses is one the schema knows (deny_unknown_fields
        // makes the schema closed, so a misspelt key in an editor is flagged).
        let all = super::all();
        let events: serde_json::Value = serde_json::from_str(&all[0].1).unwrap();
        assert_eq!(events["additionalProperties"], false);
        for key in [
            "defaults",
            "providers",
            "events",
            "inputs",
            "publish",
            "github",
        ] {
            assert!(events["properties"].get(key).is_some(), "{key}");
        }
    }
}
