//! Writing a store exactly as ZenML does: PyYAML's `yaml.dump` with its
//! default settings (block style, keys sorted, `allow_unicode=False`,
//! width 80, indent 2), for a map of maps of strings.
//!
//! ZenML reads its store with PyYAML's `safe_load`, which follows YAML
//! 1.1: a plain `yes`, `on`, `1_000`, `0x1F`, `12:30`, `2001-12-14`, `=` or
//! `<<` is not a string there. PyYAML's emitter knows which strings to
//! quote and how; no maintained Rust crate reproduces its choices (the
//! YAML 1.2 emitters quote differently, and none escapes non-ASCII as
//! `"\xE9"`), so this module ports the parts of PyYAML 6's `emitter.py`,
//! `serializer.py` and `resolver.py` that a map of maps of strings goes
//! through: the implicit resolvers, `analyze_scalar`, `choose_scalar_style`,
//! the plain, single- and double-quoted writers with their line folding,
//! and the simple (`key:`) and complex (`? key`) block mapping keys. The
//! tests compare it byte for byte with PyYAML over a generated corpus.

use std::collections::BTreeMap;

/// PyYAML's default line width.
const BEST_WIDTH: usize = 80;
/// PyYAML's default indentation step.
const BEST_INDENT: usize = 2;

/// One top-level entry of a store, `name` mapped to `values`, as
/// `yaml.dump` writes it inside the whole store's dump. Entries do not
/// depend on each other: a store is its entries in order, or `{}\n` when
/// there are none.
pub fn entry(name: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = Writer::default();
    out.mapping_key(name);
    if values.is_empty() {
        out.indicator("{}", true, false, false);
    } else {
        out.indent = BEST_INDENT;
        for (key, value) in values {
            out.mapping_key(key);
            out.scalar(value, false);
        }
    }
    out.indent = 0;
    out.write_indent();
    out.text
}

/// What an empty store dumps as.
pub const EMPTY: &str = "{}\n";

/// The emitter's state: where it is on the line and what it last wrote.
struct Writer {
    text: String,
    indent: usize,
    column: usize,
    whitespace: bool,
    indention: bool,
}

impl Default for Writer {
    fn default() -> Self {
        Writer {
            text: String::new(),
            indent: 0,
            column: 0,
            whitespace: true,
            indention: true,
        }
    }
}

/// What `analyze_scalar` finds out about a string.
struct Analysis {
    empty: bool,
    multiline: bool,
    allow_block_plain: bool,
    allow_single_quoted: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
}

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_space_or_break(c: char) -> bool {
    matches!(c, '\0' | ' ' | '\t' | '\r') || is_break(c)
}

impl Writer {
    /// A key of a block mapping at the current indent, and its `:`.
    fn mapping_key(&mut self, key: &str) {
        self.write_indent();
        let analysis = analyze(key);
        // `check_simple_key`: short, not empty, on one line. The length
        // counts the tag the serializer gives every string, `!!str`, even
        // though it is not written.
        if key.chars().count() + "!!str".len() < 128 && !analysis.empty && !analysis.multiline {
            self.scalar_with(key, &analysis, true);
            self.indicator(":", false, false, false);
        } else {
            self.indicator("?", true, false, true);
            self.scalar_with(key, &analysis, false);
            self.write_indent();
            self.indicator(":", true, false, true);
        }
    }

    fn scalar(&mut self, value: &str, simple_key: bool) {
        let analysis = analyze(value);
        self.scalar_with(value, &analysis, simple_key);
    }

    /// `expect_scalar`: `choose_scalar_style` and `process_scalar`, one
    /// indentation step in (where a folded scalar's lines continue).
    fn scalar_with(&mut self, text: &str, analysis: &Analysis, simple_key: bool) {
        self.indent += BEST_INDENT;
        let implicit = !resolves_to_non_string(text);
        let style = if implicit
            && !(simple_key && (analysis.empty || analysis.multiline))
            && analysis.allow_block_plain
        {
            Style::Plain
        } else if analysis.allow_single_quoted && !(simple_key && analysis.multiline) {
            Style::Single
        } else {
            Style::Double
        };
        let split = !simple_key;
        match style {
            Style::Plain => self.write_plain(text, split),
            Style::Single => self.write_single_quoted(text, split),
            Style::Double => self.write_double_quoted(text, split),
        }
        self.indent -= BEST_INDENT;
    }

    fn write(&mut self, data: &str) {
        self.column += data.chars().count();
        self.text.push_str(data);
    }

    fn indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        whitespace: bool,
        indention: bool,
    ) {
        if !self.whitespace && need_whitespace {
            self.write(" ");
        }
        self.write(indicator);
        self.whitespace = whitespace;
        self.indention = self.indention && indention;
    }

    fn write_indent(&mut self) {
        let indent = self.indent;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.write_line_break(None);
        }
        if self.column < indent {
            self.whitespace = true;
            let spaces = " ".repeat(indent - self.column);
            self.write(&spaces);
        }
    }

    fn write_line_break(&mut self, data: Option<char>) {
        self.whitespace = true;
        self.indention = true;
        self.column = 0;
        self.text.push(data.unwrap_or('\n'));
    }

    /// A run of line breaks inside a scalar: a first `\n` is doubled (a
    /// single one would fold into a space), then the indentation.
    fn write_breaks(&mut self, breaks: &[char]) {
        if breaks[0] == '\n' {
            self.write_line_break(None);
        }
        for &br in breaks {
            self.write_line_break(Some(br));
        }
        self.write_indent();
    }

    fn write_plain(&mut self, text: &str, split: bool) {
        if text.is_empty() {
            return;
        }
        if !self.whitespace {
            self.write(" ");
        }
        self.whitespace = false;
        self.indention = false;
        let chars: Vec<char> = text.chars().collect();
        let (mut spaces, mut breaks) = (false, false);
        let (mut start, mut end) = (0, 0);
        while end <= chars.len() {
            let ch = chars.get(end).copied();
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end && self.column > BEST_WIDTH && split {
                        self.write_indent();
                        self.whitespace = false;
                        self.indention = false;
                    } else {
                        self.write(&collect(&chars[start..end]));
                    }
                    start = end;
                }
            } else if breaks {
                if !ch.is_some_and(is_break) {
                    self.write_breaks(&chars[start..end]);
                    self.whitespace = false;
                    self.indention = false;
                    start = end;
                }
            } else if ch.is_none_or(|c| c == ' ' || is_break(c)) {
                self.write(&collect(&chars[start..end]));
                start = end;
            }
            if let Some(c) = ch {
                spaces = c == ' ';
                breaks = is_break(c);
            }
            end += 1;
        }
    }

    fn write_single_quoted(&mut self, text: &str, split: bool) {
        self.indicator("'", true, false, false);
        let chars: Vec<char> = text.chars().collect();
        let (mut spaces, mut breaks) = (false, false);
        let (mut start, mut end) = (0, 0);
        while end <= chars.len() {
            let ch = chars.get(end).copied();
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end
                        && self.column > BEST_WIDTH
                        && split
                        && start != 0
                        && end != chars.len()
                    {
                        self.write_indent();
                    } else {
                        self.write(&collect(&chars[start..end]));
                    }
                    start = end;
                }
            } else if breaks {
                if !ch.is_some_and(is_break) {
                    self.write_breaks(&chars[start..end]);
                    start = end;
                }
            } else if ch.is_none_or(|c| c == ' ' || c == '\'' || is_break(c)) && start < end {
                self.write(&collect(&chars[start..end]));
                start = end;
            }
            if ch == Some('\'') {
                self.write("''");
                start = end + 1;
            }
            if let Some(c) = ch {
                spaces = c == ' ';
                breaks = is_break(c);
            }
            end += 1;
        }
        self.indicator("'", false, false, false);
    }

    fn write_double_quoted(&mut self, text: &str, split: bool) {
        self.indicator("\"", true, false, false);
        let chars: Vec<char> = text.chars().collect();
        let (mut start, mut end) = (0, 0);
        while end <= chars.len() {
            let ch = chars.get(end).copied();
            let escaped = ch.is_none_or(|c| {
                matches!(
                    c,
                    '"' | '\\' | '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}'
                ) || !(' '..='~').contains(&c)
            });
            if escaped {
                if start < end {
                    self.write(&collect(&chars[start..end]));
                    start = end;
                }
                if let Some(c) = ch {
                    let data = match escape_replacement(c) {
                        Some(short) => format!("\\{short}"),
                        None if (c as u32) <= 0xFF => format!("\\x{:02X}", c as u32),
                        None if (c as u32) <= 0xFFFF => format!("\\u{:04X}", c as u32),
                        None => format!("\\U{:08X}", c as u32),
                    };
                    self.write(&data);
                    start = end + 1;
                }
            }
            if 0 < end
                && end + 1 < chars.len()
                && (ch == Some(' ') || start >= end)
                // `end - start` is -1 right after an escape.
                && (self.column + end) as isize - start as isize > BEST_WIDTH as isize
                && split
            {
                let data = collect(&chars[start.min(end)..end]) + "\\";
                if start < end {
                    start = end;
                }
                self.write(&data);
                self.write_indent();
                self.whitespace = false;
                self.indention = false;
                if chars[start] == ' ' {
                    self.write("\\");
                }
            }
            end += 1;
        }
        self.indicator("\"", false, false, false);
    }
}

fn collect(chars: &[char]) -> String {
    chars.iter().collect()
}

/// PyYAML's `ESCAPE_REPLACEMENTS`.
fn escape_replacement(c: char) -> Option<char> {
    Some(match c {
        '\0' => '0',
        '\x07' => 'a',
        '\x08' => 'b',
        '\t' => 't',
        '\n' => 'n',
        '\x0B' => 'v',
        '\x0C' => 'f',
        '\r' => 'r',
        '\x1B' => 'e',
        '"' => '"',
        '\\' => '\\',
        '\u{85}' => 'N',
        '\u{A0}' => '_',
        '\u{2028}' => 'L',
        '\u{2029}' => 'P',
        _ => return None,
    })
}

/// PyYAML's `analyze_scalar`, for block context and `allow_unicode=False`.
fn analyze(scalar: &str) -> Analysis {
    if scalar.is_empty() {
        return Analysis {
            empty: true,
            multiline: false,
            allow_block_plain: true,
            allow_single_quoted: true,
        };
    }
    let chars: Vec<char> = scalar.chars().collect();
    let mut block_indicators = scalar.starts_with("---") || scalar.starts_with("...");
    let (mut line_breaks, mut special_characters) = (false, false);
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let mut preceded_by_whitespace = true;
    let mut followed_by_whitespace = chars.len() == 1 || is_space_or_break(chars[1]);
    let (mut previous_space, mut previous_break) = (false, false);
    for (index, &ch) in chars.iter().enumerate() {
        if index == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(ch) {
                block_indicators = true;
            }
            if (ch == '?' || ch == ':' || ch == '-') && followed_by_whitespace {
                block_indicators = true;
            }
        } else if (ch == ':' && followed_by_whitespace) || (ch == '#' && preceded_by_whitespace) {
            block_indicators = true;
        }
        if is_break(ch) {
            line_breaks = true;
        }
        if !(ch == '\n' || (' '..='~').contains(&ch)) {
            // Printable non-ASCII is "unicode", which `allow_unicode=False`
            // makes special too; everything else is special anyway.
            special_characters = true;
        }
        if ch == ' ' {
            if index == 0 {
                leading_space = true;
            }
            if index == chars.len() - 1 {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break(ch) {
            if index == 0 {
                leading_break = true;
            }
            if index == chars.len() - 1 {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_space_or_break(ch);
        followed_by_whitespace = index + 2 >= chars.len() || is_space_or_break(chars[index + 2]);
    }
    let mut allow_block_plain = true;
    let mut allow_single_quoted = true;
    if leading_space || leading_break || trailing_space || trailing_break {
        allow_block_plain = false;
    }
    if break_space {
        allow_block_plain = false;
        allow_single_quoted = false;
    }
    if space_break || special_characters {
        allow_block_plain = false;
        allow_single_quoted = false;
    }
    if line_breaks || block_indicators {
        allow_block_plain = false;
    }
    Analysis {
        empty: false,
        multiline: line_breaks,
        allow_block_plain,
        allow_single_quoted,
    }
}

/// Whether PyYAML's implicit resolvers give `value`, written plain, a tag
/// other than `str` (`re.match` with `$`, which also matches before a
/// final line break).
fn resolves_to_non_string(value: &str) -> bool {
    let resolves = |v: &str| {
        is_bool(v)
            || is_float(v)
            || is_int(v)
            || is_null(v)
            || is_timestamp(v)
            || matches!(v, "<<" | "=" | "!" | "&" | "*")
    };
    resolves(value) || value.strip_suffix('\n').is_some_and(resolves)
}

fn is_bool(v: &str) -> bool {
    matches!(
        v,
        "yes"
            | "Yes"
            | "YES"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

fn is_null(v: &str) -> bool {
    matches!(v, "" | "~" | "null" | "Null" | "NULL")
}

/// A tiny cursor for the resolvers' regular expressions.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn new(v: &'a str) -> Self {
        Cursor { rest: v.as_bytes() }
    }

    fn eat(&mut self, accept: impl Fn(u8) -> bool) -> bool {
        match self.rest.first() {
            Some(&b) if accept(b) => {
                self.rest = &self.rest[1..];
                true
            }
            _ => false,
        }
    }

    fn eat_all(&mut self, accept: impl Fn(u8) -> bool) -> usize {
        let n = self.rest.iter().take_while(|&&b| accept(b)).count();
        self.rest = &self.rest[n..];
        n
    }

    fn eat_str(&mut self, s: &str) -> bool {
        match self.rest.strip_prefix(s.as_bytes()) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn done(&self) -> bool {
        self.rest.is_empty()
    }

    fn sign(&mut self) {
        self.eat(|b| b == b'-' || b == b'+');
    }

    /// `(?::[0-5]?[0-9])+`
    fn sexagesimal(&mut self) -> bool {
        let mut groups = 0;
        loop {
            let save = self.rest;
            if !self.eat(|b| b == b':') {
                break;
            }
            let digits = self.eat_all(|b| b.is_ascii_digit());
            let ok = match digits {
                1 => true,
                2 => save[1] <= b'5',
                _ => false,
            };
            if !ok {
                self.rest = save;
                break;
            }
            groups += 1;
        }
        groups > 0
    }
}

fn digit(b: u8) -> bool {
    b.is_ascii_digit()
}

fn digit_(b: u8) -> bool {
    b.is_ascii_digit() || b == b'_'
}

/// `[eE][-+][0-9]+`, optional.
fn exponent(c: &mut Cursor) {
    let save = c.rest;
    if c.eat(|b| b == b'e' || b == b'E')
        && c.eat(|b| b == b'-' || b == b'+')
        && c.eat_all(digit) > 0
    {
        return;
    }
    c.rest = save;
}

fn is_float(v: &str) -> bool {
    let alternatives: [fn(&mut Cursor) -> bool; 5] = [
        // [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
        |c| {
            c.sign();
            c.eat(digit)
                && {
                    c.eat_all(digit_);
                    c.eat(|b| b == b'.')
                }
                && {
                    c.eat_all(digit_);
                    exponent(c);
                    true
                }
        },
        // \.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
        |c| {
            c.eat(|b| b == b'.') && c.eat(digit) && {
                c.eat_all(digit_);
                exponent(c);
                true
            }
        },
        // [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
        |c| {
            c.sign();
            c.eat(digit)
                && {
                    c.eat_all(digit_);
                    c.sexagesimal()
                }
                && c.eat(|b| b == b'.')
                && {
                    c.eat_all(digit_);
                    true
                }
        },
        // [-+]?\.(?:inf|Inf|INF)
        |c| {
            c.sign();
            c.eat(|b| b == b'.') && (c.eat_str("inf") || c.eat_str("Inf") || c.eat_str("INF"))
        },
        // \.(?:nan|NaN|NAN)
        |c| c.eat(|b| b == b'.') && (c.eat_str("nan") || c.eat_str("NaN") || c.eat_str("NAN")),
    ];
    alternatives.iter().any(|alt| {
        let mut c = Cursor::new(v);
        alt(&mut c) && c.done()
    })
}

fn is_int(v: &str) -> bool {
    let alternatives: [fn(&mut Cursor) -> bool; 5] = [
        // [-+]?0b[0-1_]+
        |c| {
            c.sign();
            c.eat_str("0b") && c.eat_all(|b| matches!(b, b'0' | b'1' | b'_')) > 0
        },
        // [-+]?0[0-7_]+
        |c| {
            c.sign();
            c.eat(|b| b == b'0') && c.eat_all(|b| matches!(b, b'0'..=b'7' | b'_')) > 0
        },
        // [-+]?(?:0|[1-9][0-9_]*)
        |c| {
            c.sign();
            c.eat(|b| b == b'0')
                || (c.eat(|b| matches!(b, b'1'..=b'9')) && {
                    c.eat_all(digit_);
                    true
                })
        },
        // [-+]?0x[0-9a-fA-F_]+
        |c| {
            c.sign();
            c.eat_str("0x") && c.eat_all(|b| b.is_ascii_hexdigit() || b == b'_') > 0
        },
        // [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
        |c| {
            c.sign();
            c.eat(|b| matches!(b, b'1'..=b'9')) && {
                c.eat_all(digit_);
                c.sexagesimal()
            }
        },
    ];
    alternatives.iter().any(|alt| {
        let mut c = Cursor::new(v);
        alt(&mut c) && c.done()
    })
}

fn is_timestamp(v: &str) -> bool {
    let digits = |c: &mut Cursor, min: usize, max: usize| {
        let n = c
            .rest
            .iter()
            .take(max)
            .take_while(|b| b.is_ascii_digit())
            .count();
        c.rest = &c.rest[n..];
        n >= min
    };
    // [0-9]{4}-[0-9]{2}-[0-9]{2}
    let mut c = Cursor::new(v);
    if digits(&mut c, 4, 4)
        && c.eat(|b| b == b'-')
        && digits(&mut c, 2, 2)
        && c.eat(|b| b == b'-')
        && digits(&mut c, 2, 2)
        && c.done()
    {
        return true;
    }
    // [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}
    //   (?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?
    let mut c = Cursor::new(v);
    let blank = |b: u8| b == b' ' || b == b'\t';
    if !(digits(&mut c, 4, 4)
        && c.eat(|b| b == b'-')
        && digits(&mut c, 1, 2)
        && c.eat(|b| b == b'-')
        && digits(&mut c, 1, 2)
        && (c.eat(|b| b == b'T' || b == b't') || c.eat_all(blank) > 0)
        && digits(&mut c, 1, 2)
        && c.eat(|b| b == b':')
        && digits(&mut c, 2, 2)
        && c.eat(|b| b == b':')
        && digits(&mut c, 2, 2))
    {
        return false;
    }
    let save = c.rest;
    if c.eat(|b| b == b'.') {
        c.eat_all(digit);
    } else {
        c.rest = save;
    }
    if c.done() {
        return true;
    }
    c.eat_all(blank);
    if c.eat(|b| b == b'Z') {
        return c.done();
    }
    if c.eat(|b| b == b'-' || b == b'+') && digits(&mut c, 1, 2) {
        let save = c.rest;
        if !(c.eat(|b| b == b':') && digits(&mut c, 2, 2)) {
            c.rest = save;
        }
        return c.done();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// PyYAML, the oracle: the corpus of `tests/peers/yaml_corpus.py`,
    /// with what `yaml.dump` writes for each string as a name, a key and a
    /// value.
    fn pyyaml_corpus() -> Vec<serde_json::Value> {
        let python = std::env::var("SECMAN_TEST_ZENML_PYTHON").expect(
            "SECMAN_TEST_ZENML_PYTHON is not set: run the tests with `bash scripts/test.sh`, \
             which installs ZenML 0.52.0, PyYAML and Hypothesis",
        );
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/peers/yaml_corpus.py"
        );
        let output = std::process::Command::new(python)
            .arg(script)
            .output()
            .expect("cannot run the corpus script");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }

    #[test]
    fn ten_thousand_strings_are_written_as_pyyaml_writes_them_and_read_back() {
        let corpus = pyyaml_corpus();
        assert!(corpus.len() >= 10_000, "{}", corpus.len());
        let one = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
        let mut wrong = Vec::new();
        for case in &corpus {
            let s = case["s"].as_str().unwrap();
            for (form, ours) in [
                ("as_name", entry(s, &one("k", "dg=="))),
                ("as_key", entry("n", &one(s, "dg=="))),
                ("as_value", entry("n", &one("k", s))),
            ] {
                let theirs = case[form].as_str().unwrap();
                if ours != theirs {
                    wrong.push(format!("{form} {s:?}: secman {ours:?}, PyYAML {theirs:?}"));
                }
                // And what PyYAML wrote reads back as the same strings.
                let store = Store::parse(theirs.to_string()).unwrap();
                let (name, key, value) = match form {
                    "as_name" => (s, "k", "dg=="),
                    "as_key" => ("n", s, "dg=="),
                    _ => ("n", "k", s),
                };
                let read = store
                    .get(name)
                    .unwrap_or_else(|e| panic!("{theirs:?}: {e:?}"));
                if read != Some(one(key, value)) && !(value.is_empty() && form == "as_value") {
                    wrong.push(format!("read {form} {s:?}: {read:?}"));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "{} of {} differ, e.g.:\n{}",
            wrong.len(),
            corpus.len() * 3,
            wrong[..wrong.len().min(20)].join("\n")
        );
    }

    fn dump(name: &str, pairs: &[(&str, &str)]) -> String {
        let values = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        entry(name, &values)
    }

    #[test]
    fn strings_yaml_1_1_reads_otherwise_are_quoted_as_pyyaml_quotes_them() {
        assert_eq!(
            dump(
                "yes",
                &[
                    ("on", "djE="),
                    ("clé", "djI="),
                    ("zenml_schema_name", "arbitrary")
                ]
            ),
            "'yes':\n  \"cl\\xE9\": djI=\n  'on': djE=\n  zenml_schema_name: arbitrary\n"
        );
        for (plain_in_yaml_1_1_is_not_a_string, quoted) in [
            ("1_000", "'1_000'"),
            ("1__", "'1__'"),
            ("2001-12-14", "'2001-12-14'"),
            ("12:30", "'12:30'"),
            ("=", "'='"),
            ("<<", "'<<'"),
            ("0x1F", "'0x1F'"),
            ("0b1_0", "'0b1_0'"),
            ("017", "'017'"),
            ("+.inf", "'+.inf'"),
            (".NaN", "'.NaN'"),
            ("1.5e+3", "'1.5e+3'"),
            ("190:20:30.15", "'190:20:30.15'"),
            ("2001-12-14 21:59:43.10 -5", "'2001-12-14 21:59:43.10 -5'"),
            ("Null", "'Null'"),
            ("~", "'~'"),
            ("", "''"),
        ] {
            assert_eq!(
                dump("n", &[("k", plain_in_yaml_1_1_is_not_a_string)]),
                format!("n:\n  k: {quoted}\n"),
                "{plain_in_yaml_1_1_is_not_a_string}"
            );
        }
        for string in ["1e3", "12:60", "0o17", "1.5e3", "yess", "0x", "2001-1-1"] {
            assert_eq!(dump("n", &[("k", string)]), format!("n:\n  k: {string}\n"));
        }
    }

    #[test]
    fn long_keys_take_the_complex_form() {
        let long = "a".repeat(123);
        assert_eq!(
            dump(&long, &[("k", "v"), ("k2", "v2")]),
            format!("? {long}\n: k: v\n  k2: v2\n")
        );
        assert_eq!(
            dump("b", &[(&long, "dmFs")]),
            format!("b:\n  ? {long}\n  : dmFs\n")
        );
    }

    #[test]
    fn long_quoted_values_fold_like_pyyaml() {
        let value = "a b ".repeat(30);
        assert_eq!(
            dump("b", &[("z", &value)]),
            "b:\n  z: 'a b a b a b a b a b a b a b a b a b a b a b a b a b a b a b a b a b a b a b\n    a b a b a b a b a b a b a b a b a b a b a b '\n"
        );
    }
}
