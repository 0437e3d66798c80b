//! The `secrets.yaml` file: secret name -> key -> stored value.
//!
//! Reading walks saphyr-parser's events, which is about twice as fast as a
//! serde deserializer over libyaml and matters for stores of thousands of
//! secrets. Writing uses serde_norway, whose emitter quotes every string
//! that YAML 1.1 (PyYAML, hence ZenML) would read as something else.
//! Neither ever puts the file's content in an error: it holds secrets.

use std::collections::BTreeMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// A whole store, sorted at both levels as ZenML writes it.
pub type Store = BTreeMap<String, BTreeMap<String, String>>;

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

/// Parses a store. An empty file, or an empty document, is an empty store
/// (ZenML creates the file empty).
pub fn parse(text: &str) -> Result<Store, FormatError> {
    let mut events = Events {
        parser: Parser::new_from_str(text),
        last: Span::default(),
    };
    let mut store = Store::new();
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

/// Renders a store the way ZenML's `yaml.dump` lays it out: block style,
/// keys sorted.
pub fn render(store: &Store) -> Result<String, serde_norway::Error> {
    serde_norway::to_string(store)
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

    fn store(entries: &[(&str, &[(&str, &str)])]) -> Store {
        entries
            .iter()
            .map(|(name, values)| {
                let values = values
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                (name.to_string(), values)
            })
            .collect()
    }

    #[test]
    fn reads_what_pyyaml_writes() {
        let text = "db_creds:\n  password: czNjcjN0\n  username: YWRtaW4=\n  zenml_schema_name: arbitrary\n\
                    'on':\n  token: '1234'\n  other: \"x\"\n  none:\n  zenml_schema_name: arbitrary\n";
        assert_eq!(
            parse(text).unwrap(),
            store(&[
                (
                    "db_creds",
                    &[
                        ("password", "czNjcjN0"),
                        ("username", "YWRtaW4="),
                        ("zenml_schema_name", "arbitrary")
                    ]
                ),
                (
                    "on",
                    &[
                        ("token", "1234"),
                        ("other", "x"),
                        ("zenml_schema_name", "arbitrary")
                    ]
                ),
            ])
        );
    }

    #[test]
    fn empty_files_and_documents_are_empty_stores() {
        for text in ["", "\n", "{}\n", "---\n", "~\n", "null\n", "# comment\n"] {
            assert_eq!(parse(text), Ok(Store::new()), "{text:?}");
        }
    }

    #[test]
    fn other_shapes_are_errors_with_a_position() {
        for (text, line) in [
            ("- a\n- b\n", 1),
            ("a: b\n", 1),
            ("a:\n  b: [1, 2]\n", 2),
            ("a:\n  b: c\n  - d\n", 3),
            ("a: {b: c}\n---\nx: {}\n", 2),
            ("a: &x {b: c}\nd: *x\n", 2),
        ] {
            let error = parse(text).unwrap_err();
            assert_eq!(error.line, line, "{text:?}: {error:?}");
        }
    }

    #[test]
    fn what_is_written_reads_back() {
        let original = store(&[
            ("a b", &[("k", "yes"), ("n", "0123"), ("e", "")]),
            ("z", &[("k", "v")]),
        ]);
        assert_eq!(parse(&render(&original).unwrap()).unwrap(), original);
    }
}
