//! Text that may come from anyone, made safe to show.
//!
//! A secret's name, a flavor's message, a key: anything that reaches a
//! terminal may hold characters that change what the terminal shows
//! (escape sequences, bidi overrides) or that show as nothing. This leaf
//! module knows those characters and escapes them visibly; every module
//! may use it, and it uses none.

use std::borrow::Cow;

/// Whether `c` could change what a terminal shows without being seen, or
/// be seen as nothing at all: a control character (C0, DEL, C1), a line or
/// paragraph separator, a Unicode format character (category Cf: bidi
/// overrides and isolates, zero-width characters, the byte order mark, tag
/// characters), a default-ignorable character (variation selectors, the
/// combining grapheme joiner, Hangul and Mongolian fillers), or another
/// character that shows as nothing (the blank Braille pattern, the Khitan
/// filler).
///
/// The sets are Unicode's (as of 15.1), listed here rather than pulled in
/// with a table crate: they are short and change rarely.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{0600}'..='\u{0605}'
                | '\u{061C}'
                | '\u{06DD}'
                | '\u{070F}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08E2}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFFB}'
                | '\u{110BD}'
                | '\u{110CD}'
                | '\u{13430}'..='\u{1343F}'
                | '\u{16FE4}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// `text` safe to show on one line: every hidden character (see
/// [`is_hidden`]), line breaks included, becomes a visible escape such as
/// `\n` or `\u{1b}`. Escaping twice changes nothing more.
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_except(text, &[])
}

/// Like [`escape`], but keeps line breaks and tabs: for output of several
/// lines.
pub fn escape_lines(text: &str) -> Cow<'_, str> {
    escape_except(text, &['\n', '\t'])
}

fn escape_except<'a>(text: &'a str, kept: &[char]) -> Cow<'a, str> {
    let hides = |c: char| is_hidden(c) && !kept.contains(&c);
    if !text.chars().any(hides) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            c if !hides(c) => escaped.push(c),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            c => escaped.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(escaped)
}

/// `text` escaped and cut to at most `max` bytes, for quoting untrusted
/// text inside a message.
pub fn quote(text: &str, max: usize) -> String {
    let escaped = escape(text);
    if escaped.len() <= max {
        return escaped.into_owned();
    }
    let mut end = max;
    while !escaped.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &escaped[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_are_escaped_visibly_and_only_once() {
        assert_eq!(escape("plain café"), "plain café");
        assert_eq!(escape("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escape("x\r\ny\t"), "x\\r\\ny\\t");
        assert_eq!(escape("evil\u{202E}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(escape("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(
            escape("zero\u{200B}width\u{E0041}"),
            "zero\\u{200b}width\\u{e0041}"
        );
        let once = escape("a\u{1b}b\u{2066}").into_owned();
        assert_eq!(escape(&once), once);
        assert_eq!(escape_lines("one\ntwo\t\u{1b}"), "one\ntwo\t\\u{1b}");
    }

    #[test]
    fn quotes_are_escaped_and_cut() {
        assert_eq!(quote("abc", 10), "abc");
        assert_eq!(quote(&"é".repeat(10), 5), "éé...");
        assert_eq!(quote("\u{1b}", 100), "\\u{1b}");
    }
}
