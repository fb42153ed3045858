//! Git's C-style quoting of path names (`quote_c_style` with
//! `core.quotepath=off`), used to find the exact `diff --git` header git
//! writes for a name it listed NUL-separated. Never used to parse a name:
//! names come from `-z` output only.

/// `name` as git writes it in a patch header: as is, or in double quotes
/// with `"`, `\`, control characters and DEL escaped when any is present.
pub(super) fn quote(name: &[u8]) -> Vec<u8> {
    let needs = |b: u8| b < 0x20 || b == b'"' || b == b'\\' || b == 0x7f;
    if !name.iter().any(|b| needs(*b)) {
        return name.to_vec();
    }
    let mut out = vec![b'"'];
    for &b in name {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0b => out.extend_from_slice(b"\\v"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b if needs(b) => out.extend_from_slice(format!("\\{b:03o}").as_bytes()),
            b => out.push(b),
        }
    }
    out.push(b'"');
    out
}

/// The `diff --git` line git writes for a pair of names (without its newline).
pub(super) fn header(old: &[u8], new: &[u8]) -> Vec<u8> {
    let mut a = b"a/".to_vec();
    a.extend_from_slice(old);
    let mut b = b"b/".to_vec();
    b.extend_from_slice(new);
    let mut out = b"diff --git ".to_vec();
    out.extend(quote(&a));
    out.push(b' ');
    out.extend(quote(&b));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_as_git_quotes_them() {
        assert_eq!(header(b"x.sh", b"y.sh"), b"diff --git a/x.sh b/y.sh");
        assert_eq!(
            header(b"a\" blob 48", b"a\" blob 48"),
            b"diff --git \"a/a\\\" blob 48\" \"b/a\\\" blob 48\""
        );
        assert_eq!(quote(b"new\nline"), b"\"new\\nline\"");
        assert_eq!(quote(b"back\\slash"), b"\"back\\\\slash\"");
        assert_eq!(quote("caf é".as_bytes()), "caf é".as_bytes());
        assert_eq!(quote(b"\xff\xfe.txt"), b"\xff\xfe.txt");
        assert_eq!(quote(b"del\x7f\x01"), b"\"del\\177\\001\"");
    }
}
