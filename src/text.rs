//! Small text helpers shared by every layer that shows text to people.
//!
//! Model replies, payloads and event names are attacker-controlled: whatever
//! of them reaches a terminal, a table or a one-line reason goes through
//! `one_line` or `clean_block` first, so no escape sequence, carriage return
//! or newline can move the cursor, recolour the screen or forge a line.

/// `s` cut to at most `max` characters, with `…` when something was cut.
pub(crate) fn ellipsize(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((end, _)) => format!("{}…", &s[..end]),
    }
}

/// `s` cut to at most `max` bytes, on a character boundary, ending in `…`
/// when cut (limits such as GitHub's 64 KB annotation message are bytes).
pub(crate) fn ellipsize_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// `s` cut to at most `max` characters by taking out its middle (`…`), which
/// keeps both the start and the end of a path readable.
pub(crate) fn middle_ellipsis(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max || max < 3 {
        return s.to_string();
    }
    let keep = max - 1;
    let head = keep / 2;
    let tail = keep - head;
    let start: String = s.chars().take(head).collect();
    let end: String = s.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

/// `path` as people want to read it: relative to the current directory when
/// it is inside it, else with the home directory written `~`.
pub(crate) fn display_path(path: &str) -> String {
    let p = std::path::Path::new(path);
    if let Ok(cwd) = std::env::current_dir() {
        if let Ok(rel) = p.strip_prefix(&cwd) {
            return rel.display().to_string();
        }
    }
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        if let Ok(rel) = p.strip_prefix(std::path::Path::new(&home)) {
            return format!("~/{}", rel.display());
        }
    }
    path.to_string()
}

/// Characters that must never reach a terminal or a one-line field: C0 and C1
/// controls (ESC, CSI, BEL, CR, ...), line and paragraph separators, and the
/// bidirectional overrides that make text read differently than it is.
fn hostile(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}')
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `s` on one line: every control character and line break becomes a space,
/// runs of spaces fold to one, and the result is cut to `max` characters.
pub(crate) fn one_line(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max * 4));
    let mut space = false;
    for c in s.trim().chars() {
        if hostile(c) || c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    ellipsize(&out, max)
}

/// `s` with its lines kept (`\r\n` and lone `\r` become `\n`, tabs stay) and
/// every other control character removed.
pub(crate) fn clean_block(s: &str) -> String {
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    s.chars()
        .filter(|c| *c == '\n' || *c == '\t' || !hostile(*c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_limits_cut_on_a_character_boundary() {
        let s = "é".repeat(100); // 200 bytes
        let cut = ellipsize_bytes(&s, 51);
        assert!(cut.len() <= 51, "{}", cut.len());
        assert!(cut.ends_with('…'));
        assert_eq!(ellipsize_bytes("short", 51), "short");
    }

    #[test]
    fn cuts_by_characters() {
        assert_eq!(ellipsize("héllo", 5), "héllo");
        assert_eq!(ellipsize("héllo", 2), "hé…");
        assert_eq!(ellipsize("", 0), "");
    }

    #[test]
    fn middles_are_cut_out_of_long_paths() {
        assert_eq!(middle_ellipsis("abcdefghij", 7), "abc…hij");
        assert_eq!(middle_ellipsis("short", 7), "short");
        assert_eq!(
            middle_ellipsis("/a/very/long/path/report.json", 15)
                .chars()
                .count(),
            15
        );
    }

    #[test]
    fn one_line_removes_escapes_and_breaks() {
        assert_eq!(
            one_line("a\r\nDecision: APPROVE\x1b[2K\x1b]0;t\x07 b\u{202e}c", 100),
            "a Decision: APPROVE [2K ]0;t b c"
        );
        assert_eq!(one_line("  x \n\n y  ", 100), "x y");
        assert_eq!(one_line("abcdef", 3), "abc…");
    }

    #[test]
    fn clean_block_keeps_lines_only() {
        assert_eq!(clean_block("a\rb\r\nc\x1b[31m\td\u{9b}"), "a\nb\nc[31m\td");
    }
}

/// A markdown fence for `text`: longer than any run of backticks in it (and
/// at least three), so text from a pull request or a model cannot close the
/// block early. Finds the backticks by byte search, not character by
/// character: inputs are packed into every agent's prompt through this.
pub(crate) fn fence(text: &str) -> String {
    let (mut longest, mut rest) = (0, text);
    while let Some(at) = rest.find('`') {
        let run = rest[at..].bytes().take_while(|&b| b == b'`').count();
        longest = longest.max(run);
        rest = &rest[at + run..];
    }
    "`".repeat(longest.max(2) + 1)
}

#[cfg(test)]
mod fence_tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_fence_is_longer_than_every_backtick_run(text in "(`{0,9}|[a-zé€ \n]{0,5}){0,40}") {
            let fence = super::fence(&text);
            let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
            prop_assert_eq!(fence.len(), longest.max(2) + 1);
            prop_assert!(fence.bytes().all(|b| b == b'`'));
        }
    }

    #[test]
    fn fences() {
        assert_eq!(super::fence(""), "```");
        assert_eq!(super::fence("a ```` b ` c"), "`````");
        assert_eq!(super::fence("é````"), "`````");
    }
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `text` with every @-mention made inert (a zero-width space after the
/// `@`), so text a model wrote cannot notify users or teams. Addresses
/// (`a@b.c`) are left alone: a mention starts a word.
pub(crate) fn defang_mentions(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut prev: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        let starts_word = prev.is_none_or(|p| !(p.is_alphanumeric() || p == '_' || p == '`'));
        if c == '@' && starts_word && chars.peek().is_some_and(|n| n.is_ascii_alphanumeric()) {
            out.push('\u{200B}');
        }
        prev = Some(c);
    }
    out
}

/// `defang_mentions` on every line outside fenced code blocks (a line of
/// three or more backticks, indented at most three spaces, opens one; a
/// line of at least as many closes it). GitHub notifies no one from code,
/// and code — a one-click suggestion — must reach it unchanged.
pub(crate) fn defang_outside_fences(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut open: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let lead = body.len() - body.trim_start_matches(' ').len();
        let ticks = body[lead..].chars().take_while(|c| *c == '`').count();
        let fence = lead <= 3 && ticks >= 3;
        match open {
            Some(n) => {
                out.push_str(line);
                if fence && ticks >= n && body[lead + ticks..].trim().is_empty() {
                    open = None;
                }
            }
            None => {
                out.push_str(&defang_mentions(line));
                if fence {
                    open = Some(ticks);
                }
            }
        }
    }
    out
}

/// `text` with no line that GitLab would take for a quick action: a line
/// that starts with `/` and a letter (`/approve`, `/merge`, `/label`, in
/// prose or in code, which GitLab does not reliably pass over) gets a
/// zero-width space before its `/`. GitLab carries out a note's quick
/// actions with the rights of the token that posted it.
pub(crate) fn inert_quick_actions(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if is_quick_action(line) {
            out.push('\u{200B}');
        }
        out.push_str(line);
    }
    out
}

/// Does `line` start as a GitLab quick action does: `/` and a letter?
pub(crate) fn is_quick_action(line: &str) -> bool {
    let mut chars = line.chars();
    chars.next() == Some('/') && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
}

/// `text` safe inside a Slack message: `&`, `<` and `>` escaped (so no
/// `<!channel>`, `<@U123>` or masked `<url|label>` link can be formed) and
/// @-mentions made inert; links stay visible as plain URLs.
pub(crate) fn slack_escape(text: &str) -> String {
    defang_mentions(
        &text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;"),
    )
}

#[cfg(test)]
mod mention_tests {
    use super::*;

    #[test]
    fn no_line_starts_a_gitlab_quick_action() {
        assert_eq!(
            inert_quick_actions("ok\n/approve\n/merge now\r\n  /label x\n/ not\n/1\nend /close"),
            "ok\n\u{200B}/approve\n\u{200B}/merge now\r\n  /label x\n/ not\n/1\nend /close"
        );
        assert_eq!(inert_quick_actions("/Unapprove"), "\u{200B}/Unapprove");
    }

    #[test]
    fn code_fences_keep_their_at_signs_and_the_rest_is_defanged() {
        let text = "hi @a\n````suggestion\n@Override\n```\nx @b\n````\nbye @c\n";
        assert_eq!(
            defang_outside_fences(text),
            "hi @\u{200B}a\n````suggestion\n@Override\n```\nx @b\n````\nbye @\u{200B}c\n"
        );
    }

    #[test]
    fn mentions_are_inert_and_slack_controls_escaped() {
        assert_eq!(
            defang_mentions("ping @org/team and @user, not a@b.c"),
            "ping @\u{200B}org/team and @\u{200B}user, not a@b.c"
        );
        assert_eq!(
            slack_escape("<!channel> <https://evil|Click to approve> & @here"),
            "&lt;!channel&gt; &lt;https://evil|Click to approve&gt; &amp; @\u{200B}here"
        );
    }
}
