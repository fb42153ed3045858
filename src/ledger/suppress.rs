//! `.bsu/suppressions.toml`, read from the base branch only (a pull request
//! cannot suppress findings on itself): findings a repository has decided
//! not to hear about, by id or by path glob and title words, each with a
//! reason and an optional expiry date.

use serde::Deserialize;

/// Where the file is, in the repository.
pub(crate) const PATH: &str = ".bsu/suppressions.toml";

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct File {
    #[serde(default)]
    pub suppress: Vec<Rule>,
}

/// One `[[suppress]]`: `id`, or `path` (a glob) with an optional `title`
/// (words the title contains, any case); `reason` is required.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Rule {
    pub id: Option<String>,
    pub path: Option<String>,
    pub title: Option<String>,
    pub reason: String,
    /// `YYYY-MM-DD` (UTC): the last day the rule holds.
    pub expires: Option<String>,
}

/// The rules in force today, or why the file was not usable.
#[derive(Debug, Default)]
pub(crate) struct Suppressions {
    rules: Vec<(Rule, Option<globset::GlobMatcher>)>,
}

impl Suppressions {
    /// Parse the file's text; `today` is `YYYY-MM-DD` (UTC). Expired rules
    /// are left out. A rule with neither `id` nor `path`, or a bad glob or
    /// date, makes the whole file an error: a suppression that cannot be
    /// read is never guessed at.
    pub(crate) fn parse(text: &str, today: &str) -> Result<Suppressions, String> {
        let file: File =
            toml::from_str(text).map_err(|e| crate::text::one_line(&e.to_string(), 300))?;
        let mut rules = Vec::new();
        for (i, r) in file.suppress.into_iter().enumerate() {
            let n = i + 1;
            if r.id.is_none() && r.path.is_none() {
                return Err(format!("suppression {n} names neither an id nor a path"));
            }
            if r.reason.trim().is_empty() {
                return Err(format!("suppression {n} gives no reason"));
            }
            if let Some(date) = &r.expires {
                let ok = date.len() == 10
                    && date.bytes().enumerate().all(|(i, b)| match i {
                        4 | 7 => b == b'-',
                        _ => b.is_ascii_digit(),
                    });
                if !ok {
                    return Err(format!(
                        "suppression {n}: expires = {date:?} is not YYYY-MM-DD"
                    ));
                }
                if date.as_str() < today {
                    continue;
                }
            }
            let glob = match &r.path {
                Some(p) => Some(
                    globset::GlobBuilder::new(p)
                        .literal_separator(true)
                        .build()
                        .map_err(|e| format!("suppression {n}: path {p:?} is not a glob ({e})"))?
                        .compile_matcher(),
                ),
                None => None,
            };
            rules.push((r, glob));
        }
        Ok(Suppressions { rules })
    }

    /// The reason a finding is suppressed, if a rule matches it.
    pub(crate) fn matches(&self, id: &str, file: Option<&str>, title: &str) -> Option<String> {
        let title = title.to_lowercase();
        self.rules.iter().find_map(|(r, glob)| {
            let by_id = r.id.as_deref().is_some_and(|i| i.eq_ignore_ascii_case(id));
            let by_path = match (glob, file) {
                (Some(g), Some(f)) => {
                    g.is_match(f)
                        && r.title
                            .as_deref()
                            .is_none_or(|t| title.contains(&t.to_lowercase()))
                }
                _ => false,
            };
            (by_id || by_path).then(|| format!("suppressed ({PATH}): {}", r.reason.trim()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_by_id_or_path_and_title_until_they_expire() {
        let text = r#"
[[suppress]]
id = "0123456789"
reason = "accepted risk"

[[suppress]]
path = "gen/**"
title = "Unused"
reason = "generated"

[[suppress]]
path = "**"
reason = "old"
expires = "2020-01-01"
"#;
        let s = Suppressions::parse(text, "2026-12-06").unwrap();
        assert_eq!(
            s.matches("0123456789", None, "x").as_deref(),
            Some("suppressed (.bsu/suppressions.toml): accepted risk")
        );
        assert!(s
            .matches("x", Some("gen/a/b.rs"), "unused import")
            .is_some());
        assert!(s.matches("x", Some("gen/a.rs"), "SQL injection").is_none());
        assert!(
            s.matches("x", Some("src/a.rs"), "unused import").is_none(),
            "expired"
        );
    }

    #[test]
    fn a_rule_that_cannot_be_read_fails_the_file() {
        for bad in [
            "[[suppress]]\nreason = \"r\"\n",
            "[[suppress]]\nid = \"x\"\nreason = \" \"\n",
            "[[suppress]]\npath = \"a\"\nreason = \"r\"\nexpires = \"soon\"\n",
            "[[suppress]]\npath = \"a[\"\nreason = \"r\"\n",
            "[[suppress]]\nid = \"x\"\nreason = \"r\"\nwhy = 1\n",
        ] {
            assert!(Suppressions::parse(bad, "2026-12-06").is_err(), "{bad}");
        }
    }
}
