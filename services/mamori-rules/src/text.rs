//! The lexical layer: rule files into logical rules (comments, blank lines,
//! backslash continuations), a rule into header tokens and options, and
//! Suricata's string escapes.
//!
//! Hand-written because Suricata's grammar is not a regular tokenizer's: a
//! `;` ends an option unless escaped, even inside quotes, and quotes are
//! stripped per keyword.

use crate::error::{invalid, KwResult, RuleErrorKind};

/// Longest logical rule we accept (after joining continuation lines). Suricata
/// reads rules into a fixed 8 KiB buffer; we allow more but not without bound.
pub const MAX_RULE_LEN: usize = 64 * 1024;

/// One logical line of a rules file.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// An enabled rule: its first physical line (1-based) and joined text.
    Rule { line: u32, text: String },
    /// A commented-out line that looks like a rule (`# alert ...`).
    Disabled { line: u32 },
    /// A logical rule longer than [`MAX_RULE_LEN`].
    TooLong { line: u32 },
    /// A rule-like line starting with a space or tab, which Suricata ignores
    /// without a word; we report it instead of loading or hiding it.
    Indented { line: u32 },
}

/// Splits a rules file into logical lines. Comments and blank lines are
/// dropped; lines ending in `\` are joined with the next one.
pub fn logical_lines(src: &str) -> Vec<Line> {
    let mut out = Vec::new();
    let mut pending: Option<(u32, String)> = None;
    let mut too_long = false;
    for (idx, raw) in src.lines().enumerate() {
        let lineno = u32::try_from(idx.saturating_add(1)).unwrap_or(u32::MAX);
        let trimmed_end = raw.trim_end();
        match pending.as_mut() {
            Some((_, buf)) => {
                let (part, cont) = strip_continuation(trimmed_end);
                if buf.len().saturating_add(part.len()) > MAX_RULE_LEN {
                    too_long = true;
                } else {
                    buf.push_str(part);
                }
                if !cont {
                    if let Some((start, text)) = pending.take() {
                        out.push(finish(start, text, too_long));
                        too_long = false;
                    }
                }
            }
            None => {
                let t = trimmed_end.trim_start();
                if t.is_empty() {
                    continue;
                }
                if raw.starts_with([' ', '\t']) && !t.starts_with('#') {
                    out.push(Line::Indented { line: lineno });
                    continue;
                }
                if let Some(comment) = t.strip_prefix('#') {
                    if looks_like_rule(comment) {
                        out.push(Line::Disabled { line: lineno });
                    }
                    continue;
                }
                let (part, cont) = strip_continuation(t);
                let mut buf = String::new();
                if part.len() > MAX_RULE_LEN {
                    too_long = true;
                } else {
                    buf.push_str(part);
                }
                if cont {
                    pending = Some((lineno, buf));
                } else {
                    out.push(finish(lineno, buf, too_long));
                    too_long = false;
                }
            }
        }
    }
    // A continuation on the last line: Suricata parses what it has.
    if let Some((start, text)) = pending.take() {
        out.push(finish(start, text, too_long));
    }
    out
}

fn finish(line: u32, text: String, too_long: bool) -> Line {
    if too_long {
        Line::TooLong { line }
    } else {
        Line::Rule { line, text }
    }
}

fn strip_continuation(s: &str) -> (&str, bool) {
    match s.strip_suffix('\\') {
        Some(rest) => (rest, true),
        None => (s, false),
    }
}

/// `# alert tcp ...` counts as a disabled rule; prose comments do not.
fn looks_like_rule(comment: &str) -> bool {
    let c = comment.trim_start();
    let word = c.split_whitespace().next().unwrap_or("");
    crate::header::Action::parse(word).is_ok() && c.contains('(') && c.contains("sid")
}

/// A rule split into its seven header tokens and the option text inside the
/// parentheses.
#[derive(Debug, PartialEq, Eq)]
pub struct RuleParts<'a> {
    pub header: Vec<&'a str>,
    pub options: &'a str,
}

/// Splits `action proto src sp dir dst dp (options)`.
pub fn split_rule(text: &str) -> KwResult<RuleParts<'_>> {
    let open = text.find('(').ok_or(RuleErrorKind::Syntax("no option list \"(...)\""))?;
    let (head, rest) = text.split_at(open);
    // Suricata splits the header on whitespace, so `any(msg...` is a port.
    if !head.ends_with(char::is_whitespace) {
        return Err(RuleErrorKind::Syntax("no space before the option list"));
    }
    let rest = rest.trim_end();
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or(RuleErrorKind::Syntax("option list does not end with \")\""))?;
    let header = split_header(head)?;
    Ok(RuleParts { header, options: inner })
}

/// Whitespace splits header tokens except inside `[...]`, where Suricata
/// allows spaces after commas.
fn split_header(head: &str) -> KwResult<Vec<&str>> {
    let mut tokens = Vec::with_capacity(7);
    let mut depth: u32 = 0;
    let mut start: Option<usize> = None;
    for (i, c) in head.char_indices() {
        match c {
            '[' => {
                depth = depth.saturating_add(1);
                start.get_or_insert(i);
            }
            ']' => {
                depth = depth.saturating_sub(1);
                start.get_or_insert(i);
            }
            c if c.is_whitespace() && depth == 0 => {
                if let Some(s) = start.take() {
                    tokens.push(head.get(s..i).unwrap_or(""));
                }
            }
            _ => {
                start.get_or_insert(i);
            }
        }
        if tokens.len() > 7 {
            return Err(RuleErrorKind::Syntax("header has more than 7 fields"));
        }
    }
    if let Some(s) = start {
        tokens.push(head.get(s..).unwrap_or(""));
    }
    if depth != 0 {
        return Err(RuleErrorKind::Syntax("unbalanced brackets in header"));
    }
    if tokens.len() != 7 {
        return Err(RuleErrorKind::Syntax("header needs 7 fields: action proto src port dir dst port"));
    }
    Ok(tokens)
}

/// One `keyword[:value];` option. `value` is trimmed but still quoted and
/// escaped exactly as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawOption<'a> {
    pub keyword: &'a str,
    pub value: Option<&'a str>,
}

/// Most options we accept in one rule; ET's longest has under 100.
pub const MAX_OPTIONS: usize = 1024;

/// Splits the text between the parentheses into options. A `;` ends an
/// option unless preceded by a backslash; the final option must end in `;`.
pub fn split_options(body: &str) -> KwResult<Vec<RawOption<'_>>> {
    let mut out = Vec::with_capacity(memchr_count(body.as_bytes(), b';').min(MAX_OPTIONS));
    let mut rest = body;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        if out.len() >= MAX_OPTIONS {
            return Err(RuleErrorKind::TooLarge("too many options"));
        }
        let kw_end = rest.find([':', ';']).ok_or(RuleErrorKind::Syntax("option without terminating \";\""))?;
        let keyword = rest.get(..kw_end).unwrap_or("").trim();
        if keyword.is_empty() {
            return Err(RuleErrorKind::Syntax("empty option name"));
        }
        if !keyword.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')) {
            return Err(RuleErrorKind::Syntax("malformed option name"));
        }
        let sep = rest.as_bytes().get(kw_end).copied();
        let after = rest.get(kw_end.saturating_add(1)..).unwrap_or("");
        if sep == Some(b';') {
            out.push(RawOption { keyword, value: None });
            rest = after;
            continue;
        }
        let end = find_unescaped_semicolon(after).ok_or(RuleErrorKind::Syntax("option without terminating \";\""))?;
        let value = after.get(..end).unwrap_or("").trim();
        out.push(RawOption { keyword, value: Some(value) });
        rest = after.get(end.saturating_add(1)..).unwrap_or("");
    }
    Ok(out)
}

fn memchr_count(hay: &[u8], b: u8) -> usize {
    hay.iter().filter(|&&x| x == b).count()
}

fn find_unescaped_semicolon(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, b) in s.bytes().enumerate() {
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if b == b';' {
            return Some(i);
        }
    }
    None
}

/// Strips one pair of surrounding double quotes, if present.
pub fn strip_quotes(v: &str) -> Option<&str> {
    let inner = v.strip_prefix('"')?.strip_suffix('"')?;
    // An odd run of backslashes before the last quote escapes it.
    let trailing = inner.bytes().rev().take_while(|&b| b == b'\\').count();
    if trailing % 2 == 1 {
        None
    } else {
        Some(inner)
    }
}

/// Value of a keyword whose value Suricata requires to be quoted.
pub fn quoted(v: &str) -> KwResult<&str> {
    strip_quotes(v).ok_or_else(|| invalid("value must be in double quotes"))
}

/// Value of a keyword with optional quotes.
pub fn maybe_quoted(v: &str) -> &str {
    strip_quotes(v).unwrap_or(v)
}

/// Resolves `\"`, `\;`, `\\` and `\:`. Other escapes are an error when
/// `strict` (content), kept verbatim otherwise (msg, reference text).
pub fn unescape(s: &str, strict: bool) -> KwResult<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            if strict && c == '"' {
                return Err(invalid("unescaped '\"'"));
            }
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(e @ ('"' | ';' | '\\' | ':')) => out.push(e),
            Some(other) if !strict => {
                out.push('\\');
                out.push(other);
            }
            Some(other) => return Err(invalid(format!("invalid escape \"\\{other}\""))),
            None if strict => return Err(invalid("trailing backslash")),
            None => out.push('\\'),
        }
    }
    Ok(out)
}

/// Splits a comma-separated parameter list, trimming each item.
pub fn params(v: &str) -> impl Iterator<Item = &str> {
    v.split(',').map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_blank_lines_and_continuations() {
        let src = "# a comment\n\n#alert tcp any any -> any any (sid:9;)\nalert tcp any any -> any any ( \\\nmsg:\"x\"; \\\nsid:2;)\n  \nalert ip any any -> any any (sid:3;)\n\talert ip any any -> any any (sid:4;)\n   # indented comment\n";
        let lines = logical_lines(src);
        assert_eq!(
            lines,
            vec![
                Line::Disabled { line: 3 },
                Line::Rule { line: 4, text: "alert tcp any any -> any any ( msg:\"x\"; sid:2;)".into() },
                Line::Rule { line: 8, text: "alert ip any any -> any any (sid:3;)".into() },
                Line::Indented { line: 9 },
            ]
        );
    }

    #[test]
    fn prose_comment_is_not_a_disabled_rule() {
        assert!(logical_lines("# alert the admin when this file changes\n").is_empty());
    }

    #[test]
    fn crlf_lines() {
        let lines = logical_lines("alert ip any any -> any any (sid:1;)\r\n");
        assert_eq!(lines, vec![Line::Rule { line: 1, text: "alert ip any any -> any any (sid:1;)".into() }]);
    }

    #[test]
    fn header_with_spaces_in_brackets() {
        let p = split_rule("alert tcp [1.2.3.4, 5.6.7.8] any -> $HOME_NET [80, 443] (sid:1;)").unwrap();
        assert_eq!(p.header, vec!["alert", "tcp", "[1.2.3.4, 5.6.7.8]", "any", "->", "$HOME_NET", "[80, 443]"]);
        assert_eq!(p.options, "sid:1;");
    }

    #[test]
    fn header_field_count_checked() {
        assert!(split_rule("alert tcp any any -> any (sid:1;)").is_err());
        assert!(split_rule("alert tcp any any -> any any sid:1;").is_err());
        assert!(split_rule("alert tcp any any -> any any (sid:1;").is_err());
        assert!(split_rule("alert tcp any any -> any any(sid:1;)").is_err());
    }

    #[test]
    fn options_with_escapes() {
        let o = split_options(r#"msg:"a\;b"; nocase; content:"x|3b|"; sid: 5 ;"#).unwrap();
        assert_eq!(
            o,
            vec![
                RawOption { keyword: "msg", value: Some(r#""a\;b""#) },
                RawOption { keyword: "nocase", value: None },
                RawOption { keyword: "content", value: Some("\"x|3b|\"") },
                RawOption { keyword: "sid", value: Some("5") },
            ]
        );
    }

    #[test]
    fn option_needs_terminator() {
        assert!(split_options("msg:\"x\"; sid:1").is_err());
        assert!(split_options("msg:\"x\"; nocase").is_err());
    }

    #[test]
    fn unescape_rules() {
        assert_eq!(unescape(r#"a\"b\;c\\d\:e"#, true).unwrap(), "a\"b;c\\d:e");
        assert!(unescape(r"a\x", true).is_err());
        assert_eq!(unescape(r"a\x", false).unwrap(), r"a\x");
        assert!(unescape("a\"b", true).is_err());
    }

    #[test]
    fn quotes() {
        assert_eq!(strip_quotes("\"abc\""), Some("abc"));
        assert_eq!(strip_quotes("\"abc\\\""), None);
        assert_eq!(strip_quotes(r#""abc\\""#), Some(r"abc\\"));
        assert_eq!(strip_quotes("\""), None);
        assert_eq!(maybe_quoted("/x/i"), "/x/i");
    }
}
