//! One thing wrong with the configuration, located as precisely as we can.

use serde::Serialize;

/// A configuration problem: the file (or environment variable), the line and
/// column when known, and a message that says what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Problem {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl Problem {
    pub(crate) fn file(file: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            file: file.into(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    /// A problem at a byte span of `source`, converted to a 1-based line and column.
    pub(crate) fn at(
        file: impl Into<String>,
        source: &str,
        span: std::ops::Range<usize>,
        message: impl Into<String>,
    ) -> Self {
        let (line, column) = line_col(source, span.start);
        Problem {
            file: file.into(),
            line: Some(line),
            column: Some(column),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

/// 1-based line and column (in characters) of byte `offset` in `source`.
pub(crate) fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column() {
        let src = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 6), (2, 1));
        // "bé = " is 6 bytes but 5 characters.
        assert_eq!(line_col(src, 12), (2, 6));
        assert_eq!(line_col(src, 999), (3, 1));
    }
}
