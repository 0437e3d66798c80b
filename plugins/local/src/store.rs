//! The `secrets.yaml` file: secret name -> key -> stored value.
//!
//! A store is read as a list of top-level entries, each kept as the exact
//! text it was read from. A command parses only the entry it needs, and
//! writes back every other entry byte for byte: a store that ZenML wrote
//! still reads in ZenML exactly as before, except for the secret the
//! command changed, which is written as ZenML writes it ([`pyyaml`]).
//!
//! Finding the entries is a scan of the lines that start at column 0,
//! which is all a file written by PyYAML's block style needs: a line
//! `name:` (plain, `'single'` or `"double"` quoted) or `? name` then `:`
//! starts an entry, and indented, blank and comment lines continue it. A
//! file with anything else (flow style, several documents, anchors, keys
//! spanning lines) is parsed whole instead and written back the way ZenML
//! would write it. Neither ever puts the file's content in an error: it
//! holds secrets.

use std::collections::BTreeMap;
use std::ops::Range;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use crate::pyyaml;

/// One secret's stored values: key -> base64 value, plus the schema.
pub type Values = BTreeMap<String, String>;

/// Where and how a file departs from the store layout.
#[derive(Debug, PartialEq, Eq)]
pub struct FormatError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What was expected there.
    pub expected: &'static str,
}

/// A store, as read from its file.
#[derive(Debug, Default)]
pub struct Store {
    /// The file's text, which `Text::Read` entries point into.
    source: String,
    /// What comes before the first entry (comments).
    prefix: Range<usize>,
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    name: String,
    text: Text,
}

#[derive(Debug)]
enum Text {
    /// Unchanged since it was read: these bytes of the source.
    Read(Range<usize>),
    /// Set by this command, to be written as ZenML writes it.
    Set(Values),
}

impl Store {
    /// Reads a store. An empty file, or an empty document, is an empty
    /// store (ZenML creates the file empty).
    pub fn parse(source: String) -> Result<Store, FormatError> {
        let source = match index(source) {
            Ok(store) => return Ok(store),
            Err(source) => source,
        };
        let entries = parse_whole(&source)?
            .into_iter()
            .map(|(name, values)| Entry {
                name,
                text: Text::Set(values),
            })
            .collect();
        Ok(Store {
            source: String::new(),
            prefix: 0..0,
            entries,
        })
    }

    /// The names of the secrets, in file order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.name.as_str())
    }

    /// Whether a secret called `name` exists.
    pub fn contains(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// The values of secret `name`, parsing only its entry.
    pub fn get(&self, name: &str) -> Result<Option<Values>, FormatError> {
        let Some(at) = self.position(name) else {
            return Ok(None);
        };
        match &self.entries[at].text {
            Text::Set(values) => Ok(Some(values.clone())),
            Text::Read(span) => {
                let chunk = &self.source[span.clone()];
                let first_line = || self.source[..span.start].matches('\n').count();
                let shift = |mut e: FormatError| {
                    e.line += first_line();
                    e
                };
                let mut parsed = parse_whole(chunk).map_err(shift)?;
                match parsed.remove(name) {
                    Some(values) if parsed.is_empty() => Ok(Some(values)),
                    // The scan and the parser disagree on this entry.
                    _ => Err(FormatError {
                        line: first_line() + 1,
                        column: 1,
                        expected: "one secret name at the start of the line",
                    }),
                }
            }
        }
    }

    /// Sets secret `name` to `values`: in its place if it exists, else
    /// where ZenML's sorted dump would put it.
    pub fn set(&mut self, name: &str, values: Values) {
        let text = Text::Set(values);
        match self.position(name) {
            Some(at) => self.entries[at].text = text,
            None => {
                let at = self
                    .entries
                    .iter()
                    .position(|e| e.name.as_str() > name)
                    .unwrap_or(self.entries.len());
                self.entries.insert(
                    at,
                    Entry {
                        name: name.to_string(),
                        text,
                    },
                );
            }
        }
    }

    /// Removes secret `name`; whether it was there.
    pub fn remove(&mut self, name: &str) -> bool {
        match self.position(name) {
            Some(at) => {
                self.entries.remove(at);
                true
            }
            None => false,
        }
    }

    /// The file's new text: the entries read, as they were read, and the
    /// ones set, as ZenML writes them.
    pub fn render(&self) -> String {
        if self.entries.is_empty() {
            return pyyaml::EMPTY.to_string();
        }
        let mut text = String::with_capacity(self.source.len() + 256);
        text.push_str(&self.source[self.prefix.clone()]);
        for entry in &self.entries {
            match &entry.text {
                Text::Read(span) => text.push_str(&self.source[span.clone()]),
                Text::Set(values) => text.push_str(&pyyaml::entry(&entry.name, values)),
            }
            if !text.ends_with('\n') {
                text.push('\n');
            }
        }
        text
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.name == name)
    }
}

/// Finds the entries of a file in PyYAML's block layout, or gives the
/// text back for any other layout (which [`parse_whole`] then reads).
///
/// Each entry's own lines are checked only as far as their shape: the
/// lines at the entry's indentation must be keys (`key: ...`, `? key`,
/// `: ...`), deeper ones continue a value. What the values are is for the
/// parser, when the entry is read.
fn index(source: String) -> Result<Store, String> {
    match entries(&source) {
        Some((entries, first)) => Ok(Store {
            prefix: 0..first,
            entries,
            source,
        }),
        None => Err(source),
    }
}

/// The entries of `source`, and where the first one starts.
fn entries(source: &str) -> Option<(Vec<Entry>, usize)> {
    let bytes = source.as_bytes();
    let mut entries: Vec<(String, Range<usize>)> = Vec::new();
    // An entry `? name` waits for its `:` line.
    let mut awaiting_value = false;
    // The indentation of the current entry's keys, once seen.
    let mut indent: Option<usize> = None;
    // ZenML writes names sorted: duplicates are then neighbours.
    let mut sorted = true;
    let mut start = 0;
    while start < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i + 1);
        let spaces = bytes[start..end].iter().take_while(|&&b| b == b' ').count();
        let first = bytes.get(start + spaces).copied();
        if matches!(first, None | Some(b'\n' | b'\r' | b'#')) {
            // Blank and comment lines go with what precedes them.
        } else if spaces > 0 {
            if entries.is_empty() || awaiting_value {
                return None;
            }
            let at = *indent.get_or_insert(spaces);
            if spaces < at || (spaces == at && !is_key_start(&bytes[start + spaces..end])) {
                return None;
            }
        } else {
            let mut line = &source[start..end];
            line = line.strip_suffix('\n').unwrap_or(line);
            line = line.strip_suffix('\r').unwrap_or(line);
            if awaiting_value {
                // `? name` is followed by `:` and the value.
                if line != ":" && !line.starts_with(": ") {
                    return None;
                }
                awaiting_value = false;
            } else {
                let name = match line.strip_prefix("? ") {
                    Some(key) => {
                        awaiting_value = true;
                        whole_scalar(key)?
                    }
                    None => {
                        let (name, after) = key_scalar(line)?;
                        if !is_blank_or_comment(after.strip_prefix(':')?) {
                            return None;
                        }
                        name
                    }
                };
                if let Some((last, _)) = entries.last() {
                    sorted &= *last < name;
                }
                entries.push((name, start..start));
                indent = None;
            }
        }
        if let Some((_, span)) = entries.last_mut() {
            span.end = end;
        }
        start = end;
    }
    if awaiting_value {
        return None;
    }
    if entries.is_empty() && !is_blank_or_comment_lines(source) {
        // `{}`, `~`, `---`: the parser knows what those are.
        return None;
    }
    // Duplicate names: the parser decides which one counts.
    if !sorted {
        let mut names = std::collections::HashSet::with_capacity(entries.len());
        if !entries.iter().all(|(name, _)| names.insert(name.as_str())) {
            return None;
        }
    }
    let first = entries.first().map_or(source.len(), |(_, s)| s.start);
    let entries = entries
        .into_iter()
        .map(|(name, span)| Entry {
            name,
            text: Text::Read(span),
        })
        .collect();
    Some((entries, first))
}

/// Whether a line at an entry's indentation can start a key of its map:
/// not a sequence item, a flow collection or a tab. (The parser reads the
/// entry when it is needed; this only tells a map from something else,
/// quickly.)
fn is_key_start(line: &[u8]) -> bool {
    !matches!(
        line,
        [b'-', b' ' | b'\n' | b'\r', ..] | [b'-'] | [b'[' | b'{' | b'\t', ..]
    )
}

/// A key that is all of `text` (after `? `): quoted, or plain.
fn whole_scalar(text: &str) -> Option<String> {
    match text.as_bytes().first()? {
        b'\'' | b'"' => {
            let (name, after) = key_scalar(text)?;
            is_blank_or_comment(after).then_some(name)
        }
        _ => {
            let plain = format!("{text}:");
            let (name, after) = plain_key(&plain)?;
            (after == ":").then_some(name)
        }
    }
}

fn is_blank_or_comment(rest: &str) -> bool {
    let rest = rest.trim_start_matches(' ');
    rest.is_empty() || rest.starts_with('#')
}

fn is_blank_or_comment_lines(text: &str) -> bool {
    text.lines()
        .all(|l| is_blank_or_comment(l.trim_end_matches('\r')))
}

/// A key written on one line, as YAML reads it, and what follows it: a
/// plain scalar up to `:` (then a space or the end), or a quoted one.
fn key_scalar(line: &str) -> Option<(String, &str)> {
    match line.as_bytes().first()? {
        b'\'' => single_quoted(&line[1..]),
        b'"' => double_quoted(&line[1..]),
        _ => plain_key(line),
    }
}

fn plain_key(line: &str) -> Option<(String, &str)> {
    let first = line.chars().next()?;
    let second = line[first.len_utf8()..].chars().next();
    let indicator = "[]{},#&*!|>'\"%@`".contains(first)
        || ("-?:".contains(first) && second.is_none_or(|c| c == ' '));
    if indicator || first == '\t' {
        return None;
    }
    let end = line
        .match_indices(':')
        .map(|(i, _)| i)
        .find(|&i| matches!(line.as_bytes().get(i + 1), None | Some(b' ')))?;
    let key = &line[..end];
    if key.ends_with(' ') || key.contains(" #") || key.contains('\t') {
        return None;
    }
    Some((key.to_string(), &line[end..]))
}

fn single_quoted(body: &str) -> Option<(String, &str)> {
    let mut text = String::new();
    let mut rest = body;
    loop {
        let quote = rest.find('\'')?;
        text.push_str(&rest[..quote]);
        rest = &rest[quote + 1..];
        match rest.strip_prefix('\'') {
            Some(after) => {
                text.push('\'');
                rest = after;
            }
            None => return Some((text, rest)),
        }
    }
}

fn double_quoted(body: &str) -> Option<(String, &str)> {
    let mut text = String::new();
    let mut chars = body.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Some((text, &body[at + 1..])),
            '\\' => {
                let (_, escape) = chars.next()?;
                let hex = |chars: &mut std::str::CharIndices, n: usize| -> Option<char> {
                    let digits: String = chars.by_ref().take(n).map(|(_, c)| c).collect();
                    if digits.len() != n {
                        return None;
                    }
                    char::from_u32(u32::from_str_radix(&digits, 16).ok()?)
                };
                text.push(match escape {
                    '0' => '\0',
                    'a' => '\x07',
                    'b' => '\x08',
                    't' | '\t' => '\t',
                    'n' => '\n',
                    'v' => '\x0B',
                    'f' => '\x0C',
                    'r' => '\r',
                    'e' => '\x1B',
                    ' ' => ' ',
                    '"' => '"',
                    '/' => '/',
                    '\\' => '\\',
                    'N' => '\u{85}',
                    '_' => '\u{A0}',
                    'L' => '\u{2028}',
                    'P' => '\u{2029}',
                    'x' => hex(&mut chars, 2)?,
                    'u' => hex(&mut chars, 4)?,
                    'U' => hex(&mut chars, 8)?,
                    _ => return None,
                });
            }
            c => text.push(c),
        }
    }
    None
}

/// Parses a whole file (or one entry's text) with a YAML parser. Reading
/// walks saphyr-parser's events, which is about twice as fast as a serde
/// deserializer over libyaml.
fn parse_whole(text: &str) -> Result<BTreeMap<String, Values>, FormatError> {
    let mut events = Events {
        parser: Parser::new_from_str(text),
        last: Span::default(),
    };
    let mut store = BTreeMap::new();
    events.expect(|e| matches!(e, Event::StreamStart), "the start of the file")?;
    match events.next("a document")? {
        Event::StreamEnd => return Ok(store),
        Event::DocumentStart(_) => {}
        _ => return Err(events.error("a document")),
    }
    match events.next("a map of secret names")? {
        Event::MappingStart(..) => {}
        Event::Scalar(value, ScalarStyle::Plain, ..) if is_null(&value) => {
            events.expect(
                |e| matches!(e, Event::DocumentEnd),
                "the end of the document",
            )?;
            return Ok(store);
        }
        _ => return Err(events.error("a map of secret names")),
    }
    loop {
        let name = match events.next("a secret name")? {
            Event::MappingEnd => break,
            Event::Scalar(name, ..) => name.into_owned(),
            _ => return Err(events.error("a secret name")),
        };
        events.expect(
            |e| matches!(e, Event::MappingStart(..)),
            "a map of keys to values",
        )?;
        let mut values = BTreeMap::new();
        loop {
            let key = match events.next("a key")? {
                Event::MappingEnd => break,
                Event::Scalar(key, ..) => key.into_owned(),
                _ => return Err(events.error("a key")),
            };
            match events.next("a value")? {
                // ZenML skips `None` values when it writes; do the same
                // when reading one.
                Event::Scalar(value, ScalarStyle::Plain, ..) if is_null(&value) => {}
                Event::Scalar(value, ..) => {
                    values.insert(key, value.into_owned());
                }
                _ => return Err(events.error("a text value")),
            }
        }
        store.insert(name, values);
    }
    events.expect(
        |e| matches!(e, Event::DocumentEnd),
        "the end of the document",
    )?;
    events.expect(
        |e| matches!(e, Event::StreamEnd),
        "the end of the file (one document)",
    )?;
    Ok(store)
}

fn is_null(plain: &str) -> bool {
    matches!(plain, "" | "~" | "null" | "Null" | "NULL")
}

/// The parser's events, remembering where the last one was.
struct Events<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    last: Span,
}

impl<'a> Events<'a> {
    fn next(&mut self, expected: &'static str) -> Result<Event<'a>, FormatError> {
        match self.parser.next() {
            Some(Ok((event, span))) => {
                self.last = span;
                Ok(event)
            }
            Some(Err(e)) => Err(FormatError {
                line: e.marker().line(),
                column: e.marker().col() + 1,
                expected,
            }),
            None => Err(self.error(expected)),
        }
    }

    fn expect(
        &mut self,
        is: impl FnOnce(&Event<'a>) -> bool,
        expected: &'static str,
    ) -> Result<(), FormatError> {
        let event = self.next(expected)?;
        if is(&event) {
            Ok(())
        } else {
            Err(self.error(expected))
        }
    }

    fn error(&self, expected: &'static str) -> FormatError {
        FormatError {
            line: self.last.start.line(),
            column: self.last.start.col() + 1,
            expected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> Values {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn parse(text: &str) -> Store {
        Store::parse(text.to_string()).unwrap()
    }

    const ZENML: &str = "'1_000':\n  k: dg==\n  zenml_schema_name: arbitrary\n\
                         db_creds:\n  password: czNjcjN0\n  username: YWRtaW4=\n  zenml_schema_name: arbitrary\n\
                         'on':\n  token: '1234'\n  \"cl\\xE9\": eA==\n  none:\n  zenml_schema_name: arbitrary\n";

    #[test]
    fn reads_what_pyyaml_writes_entry_by_entry() {
        let store = parse(ZENML);
        assert!(!store.source.is_empty(), "the scan reads this layout");
        assert_eq!(
            store.names().collect::<Vec<_>>(),
            ["1_000", "db_creds", "on"]
        );
        assert_eq!(
            store.get("on").unwrap().unwrap(),
            values(&[
                ("token", "1234"),
                ("clé", "eA=="),
                ("zenml_schema_name", "arbitrary")
            ])
        );
        assert_eq!(store.get("nope").unwrap(), None);
    }

    #[test]
    fn untouched_entries_are_written_back_byte_for_byte() {
        let mut store = parse(ZENML);
        assert_eq!(store.render(), ZENML);
        store.set(
            "db_creds",
            values(&[("k", "dg=="), ("zenml_schema_name", "arbitrary")]),
        );
        store.set(
            "yes",
            values(&[("k", "dg=="), ("zenml_schema_name", "arbitrary")]),
        );
        store.set(
            "a",
            values(&[("k", "dg=="), ("zenml_schema_name", "arbitrary")]),
        );
        assert!(store.remove("1_000"));
        assert_eq!(
            store.render(),
            "a:\n  k: dg==\n  zenml_schema_name: arbitrary\n\
             db_creds:\n  k: dg==\n  zenml_schema_name: arbitrary\n\
             'on':\n  token: '1234'\n  \"cl\\xE9\": eA==\n  none:\n  zenml_schema_name: arbitrary\n\
             'yes':\n  k: dg==\n  zenml_schema_name: arbitrary\n"
        );
        for name in ["a", "db_creds", "on", "yes"] {
            assert!(store.remove(name));
        }
        assert_eq!(store.render(), "{}\n");
    }

    #[test]
    fn long_names_in_the_complex_form_are_entries_too() {
        let long = "n".repeat(130);
        let text = format!("? {long}\n: k: dg==\n  zenml_schema_name: arbitrary\nz:\n  k: dg==\n");
        let store = parse(&text);
        assert!(!store.source.is_empty());
        assert_eq!(store.get(&long).unwrap().unwrap()["k"], "dg==");
        assert_eq!(store.render(), text);
    }

    #[test]
    fn other_layouts_are_parsed_whole() {
        for text in [
            "{a: {k: dg==}}\n",
            "---\na:\n  k: dg==\n",
            "a: &x\n  k: dg==\n",
            "? \"long \\\n  key\"\n: k: dg==\n",
        ] {
            let store = parse(text);
            assert!(store.source.is_empty(), "{text:?}");
        }
        assert_eq!(parse("{a: {k: dg==}}\n").render(), "a:\n  k: dg==\n");
    }

    #[test]
    fn empty_files_and_documents_are_empty_stores() {
        for text in ["", "\n", "{}\n", "---\n", "~\n", "null\n", "# comment\n"] {
            assert_eq!(parse(text).names().count(), 0, "{text:?}");
        }
    }

    #[test]
    fn other_shapes_are_errors_with_a_position() {
        for (text, line) in [
            ("- a\n- b\n", 1),
            ("a: b\n", 1),
            ("a:\n  b: c\n  - d\n", 3),
            ("a:\n  b: c\n - d\n", 3),
            ("a: {b: c}\n---\nx: {}\n", 2),
            ("a: &x {b: c}\nd: *x\n", 2),
        ] {
            let error = Store::parse(text.to_string()).unwrap_err();
            assert_eq!(error.line, line, "{text:?}: {error:?}");
        }
        // A value is checked when its entry is read (as ZenML reads it),
        // with its line in the file.
        let store = parse("a:\n  k: dg==\nb:\n  k: [1]\n");
        assert_eq!(store.get("b").unwrap_err().line, 4);
        assert!(store.get("a").is_ok());
    }
}
