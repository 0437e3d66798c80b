//! The one door for what a flavor says.
//!
//! A flavor is code from anyone, so every byte it sends is hostile input:
//! its `flavor-info` (names, help text, defaults, what it asks for), its
//! answers (secrets, listings), its errors, its logs and its output. This
//! module is where that text is checked or made harmless before it reaches
//! a grant, a file, a shell or a terminal, so that a reviewer reads one
//! place rather than every `println!`:
//!
//! - [`check_info`] refuses a description the host cannot act on safely:
//!   hidden characters, oversized fields, malformed variable names or host
//!   patterns, too many of anything;
//! - [`check_secret`] and [`check_names`] hold answers to the rules the
//!   user's own input follows;
//! - [`escape`] makes any text safe to show: control characters, bidi
//!   overrides and invisible characters become visible escapes.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use super::files::{FileAsk, MAX_FILES};
use super::info::{FlavorInfo, OptionKind, RESERVED_OPTIONS, is_flavor_name};
use super::outbound::HostPattern;
use crate::secret::{Secret, validate_name};

/// The most a `flavor-info` may weigh as it crosses into the host.
pub const MAX_INFO_BYTES: usize = 64 << 10;
/// The most options a flavor may declare.
pub const MAX_OPTIONS: usize = 64;
/// The most hosts, or environment variables, a flavor may ask for.
pub const MAX_ASKS: usize = 32;
/// The longest one-line text (a version, a name, a default).
const MAX_SHORT_TEXT: usize = 256;
/// The longest help text (a description).
const MAX_LONG_TEXT: usize = 1024;
/// The longest error message of a flavor the host passes on.
pub const MAX_MESSAGE: usize = 2048;

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

/// A flavor's error message as the host passes it on: escaped, and cut to
/// [`MAX_MESSAGE`] bytes.
pub fn message(text: String) -> String {
    if text.len() <= MAX_MESSAGE && !text.chars().any(is_hidden) {
        return text;
    }
    quote(&text, MAX_MESSAGE)
}

/// Checks one field of text: no hidden characters, at most `max` bytes.
fn check_text(field: &str, text: &str, max: usize) -> Result<(), String> {
    if let Some(c) = text.chars().find(|&c| is_hidden(c)) {
        return Err(format!(
            "its {field} `{}` holds the character U+{:04X}, which could disguise what the \
             terminal shows",
            quote(text, 80),
            c as u32
        ));
    }
    if text.len() > max {
        return Err(format!(
            "its {field} is {} bytes long, over the {max} secman takes",
            text.len()
        ));
    }
    Ok(())
}

/// Whether `name` is an environment variable name a shell takes as is:
/// `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `name` can name an option: `--option NAME=VALUE`.
fn is_option_name(name: &str) -> bool {
    is_env_name(name) && name.len() <= 64
}

/// Checks that a flavor's description of itself is one the host can show
/// and act on, naming the first thing that is not.
pub fn check_info(info: &FlavorInfo) -> Result<(), String> {
    if !is_flavor_name(&info.name) {
        return Err(format!(
            "its name `{}` is not a flavor name (lowercase letters, digits, `_` and `-`, \
             starting with a letter, at most 64)",
            quote(&info.name, 80)
        ));
    }
    check_text("version", &info.version, MAX_SHORT_TEXT)?;
    check_text("description", &info.description, MAX_LONG_TEXT)?;

    if info.options.len() > MAX_OPTIONS {
        return Err(format!(
            "it declares {} options, over the {MAX_OPTIONS} secman takes",
            info.options.len()
        ));
    }
    let mut seen = BTreeSet::new();
    for option in &info.options {
        if !is_option_name(&option.name) {
            return Err(format!(
                "its option name `{}` is not a name (letters, digits and `_`, not starting with \
                 a digit, at most 64)",
                quote(&option.name, 80)
            ));
        }
        let name = &option.name;
        if RESERVED_OPTIONS.contains(&name.as_str()) {
            return Err(format!(
                "it declares option `{name}`, which the host reserves"
            ));
        }
        if !seen.insert(name.as_str()) {
            return Err(format!("it declares option `{name}` twice"));
        }
        check_text(
            &format!("help of option `{name}`"),
            &option.description,
            MAX_LONG_TEXT,
        )?;
        if let Some(default) = &option.default {
            check_text(
                &format!("default of option `{name}`"),
                default,
                MAX_SHORT_TEXT,
            )?;
        }
        if option.kind == OptionKind::StorageFile && !info.capabilities.storage {
            return Err(format!(
                "option `{name}` names a storage file, but the flavor asks for no storage"
            ));
        }
    }

    let asked = &info.capabilities;
    if asked.outbound_hosts.len() > MAX_ASKS || asked.environment.len() > MAX_ASKS {
        return Err(format!(
            "it asks for {} hosts and {} environment variables, over the {MAX_ASKS} of each \
             secman takes",
            asked.outbound_hosts.len(),
            asked.environment.len()
        ));
    }
    for host in &asked.outbound_hosts {
        HostPattern::parse(host).map_err(|e| format!("it asks for a host it cannot have: {e}"))?;
    }
    for var in &asked.environment {
        if !is_env_name(var) || var.len() > 128 {
            return Err(format!(
                "it asks for environment variable `{}`, which is not a variable name \
                 (letters, digits and `_`, not starting with a digit)",
                quote(var, 80)
            ));
        }
    }
    if asked.files.len() > MAX_FILES {
        return Err(format!(
            "it asks for {} files, over the {MAX_FILES} secman takes",
            asked.files.len()
        ));
    }
    for file in &asked.files {
        FileAsk::parse(file).map_err(|e| format!("it asks for a file it cannot have: {e}"))?;
    }
    Ok(())
}

/// Checks a secret a flavor returned for `asked`: the secret asked for, its
/// schema known, its keys unique and valid as the user's own input would
/// have to be. Messages name keys, never values.
pub fn check_secret(
    asked: &str,
    name: String,
    schema: String,
    values: Vec<(String, String)>,
) -> Result<Secret, String> {
    if name != asked {
        return Err(format!(
            "it was asked for secret `{asked}` and returned one called `{}`",
            quote(&name, 80)
        ));
    }
    let mut map = BTreeMap::new();
    for (key, value) in values {
        if key.chars().any(is_hidden) {
            return Err(format!(
                "it returned secret `{asked}` with key `{}`, which holds a character that \
                 shows as nothing",
                quote(&key, 80)
            ));
        }
        if map.contains_key(&key) {
            return Err(format!(
                "it returned secret `{asked}` with key `{}` twice",
                quote(&key, 80)
            ));
        }
        map.insert(key, value);
    }
    let secret = Secret {
        name,
        schema,
        values: map,
    };
    secret.validate().map_err(|e| {
        format!(
            "it returned secret `{asked}` in a form secman does not accept: {}",
            escape(&e.to_string())
        )
    })?;
    Ok(secret)
}

/// Variables that make a shell, the dynamic loader or a common tool run
/// code or look elsewhere for what it runs, compared without case (zsh ties
/// `path` to `PATH`).
const DANGEROUS_VARIABLES: &[&str] = &[
    "PATH",
    "IFS",
    "CDPATH",
    "ENV",
    "BASH_ENV",
    "SHELLOPTS",
    "BASHOPTS",
    "GLOBIGNORE",
    "PROMPT_COMMAND",
    "PS0",
    "PS1",
    "PS2",
    "PS3",
    "PS4",
    "PROMPT",
    "RPROMPT",
    "PSVAR",
    "HOME",
    "SHELL",
    "ZDOTDIR",
    "FPATH",
    "MANPATH",
    "MODULE_PATH",
    "MAILPATH",
    "HISTFILE",
    "TMPDIR",
    "EDITOR",
    "VISUAL",
    "PAGER",
    "BROWSER",
    "LESSOPEN",
    "LESSCLOSE",
    "TERM",
    "NODE_OPTIONS",
    "NODE_PATH",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PYTHONHOME",
    "PERL5OPT",
    "PERL5LIB",
    "PERLLIB",
    "RUBYOPT",
    "RUBYLIB",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "CLASSPATH",
    "OPENSSL_CONF",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "CURL_CA_BUNDLE",
    "REQUESTS_CA_BUNDLE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "SUDO_ASKPASS",
];
/// Prefixes of such variables.
const DANGEROUS_PREFIXES: &[&str] = &[
    "LD_",
    "DYLD_",
    "BASH_FUNC_",
    "GCONV_",
    "MALLOC_",
    "LC_",
    "GIT_",
    "SSH_",
    "XDG_",
    "SECMAN_",
];

/// The `.env` line that sets `value` under `prefix` + `key` (uppercased),
/// for a shell's `eval` or an `.env` file, or why there is none.
///
/// The flavor chooses the keys, so a variable name is never a key alone:
/// the user's prefix (by default the secret's name) comes first, and the
/// names that change how a shell, the dynamic loader or a common tool
/// behave are refused besides. The value is single-quoted and must stay on
/// one line (line-based `.env` readers would take a second line as another
/// variable).
pub fn env_line(prefix: &str, key: &str, value: &str) -> Result<String, String> {
    if !is_env_name(prefix) {
        return Err(format!(
            "the prefix `{}` does not start a shell variable name (letters, digits and `_`, \
             not starting with a digit)",
            quote(prefix, 80)
        ));
    }
    let name = env_name(prefix, key)?;
    if value.contains(['\n', '\r', '\0']) {
        return Err(format!(
            "the value of key `{key}` spans lines, which an .env reader would take as more \
             variables"
        ));
    }
    Ok(format!("{name}='{}'\n", value.replace('\'', r"'\''")))
}

/// The variable `prefix` + `key` (uppercased) names, or why it may not be
/// set: not a variable name, or one that changes how a shell, the dynamic
/// loader or a common tool behaves.
pub fn env_name(prefix: &str, key: &str) -> Result<String, String> {
    let name = format!("{prefix}{}", key.to_ascii_uppercase());
    if !is_env_name(&name) {
        return Err(format!(
            "key `{}` cannot be part of a shell variable name (letters, digits and `_`)",
            quote(key, 80)
        ));
    }
    let upper = name.to_ascii_uppercase();
    if DANGEROUS_VARIABLES.contains(&upper.as_str())
        || DANGEROUS_PREFIXES.iter().any(|p| upper.starts_with(p))
    {
        return Err(format!(
            "`{name}` would set a variable that changes how a shell or the programs it starts \
             behave: choose another prefix"
        ));
    }
    Ok(name)
}

/// The prefix of a secret's variables when the user names none: its name,
/// uppercased, each character a variable name cannot hold made `_`, then
/// `_` (`db-creds` gives `DB_CREDS_`).
pub fn env_prefix(secret: &str) -> String {
    let mut prefix: String = secret
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if prefix.starts_with(|c: char| c.is_ascii_digit()) {
        prefix.insert(0, '_');
    }
    prefix + "_"
}

/// Splits a listing into the names secman can address and a note on the
/// rest: how many, and the first few, escaped.
pub fn check_names(names: Vec<String>) -> (Vec<String>, Option<String>) {
    let (valid, invalid): (Vec<String>, Vec<String>) =
        names.into_iter().partition(|n| validate_name(n).is_ok());
    if invalid.is_empty() {
        return (valid, None);
    }
    let mut shown: Vec<String> = invalid.iter().take(5).map(|n| quote(n, 80)).collect();
    if invalid.len() > shown.len() {
        shown.push(format!("and {} more", invalid.len() - shown.len()));
    }
    let note = format!(
        "{} name(s) that are not secret names secman can address, left out: {}",
        invalid.len(),
        shown.join(", ")
    );
    (valid, Some(note))
}

#[cfg(test)]
mod tests {
    use super::super::info::{Capabilities, OptionSpec};
    use super::*;

    fn info() -> FlavorInfo {
        FlavorInfo {
            name: "fine".into(),
            version: "1.0.0".into(),
            description: "A flavor".into(),
            options: vec![OptionSpec {
                name: "region".into(),
                description: "Where".into(),
                required: false,
                default: Some("eu".into()),
                sensitive: false,
                kind: OptionKind::Text,
            }],
            capabilities: Capabilities {
                outbound_hosts: vec!["*.example.com".into()],
                environment: vec!["TOKEN".into()],
                storage: true,
                files: vec!["$KEY_FILE".into(), "~/.config/tool/credentials".into()],
            },
            scoped: false,
        }
    }

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

    #[test]
    fn messages_are_escaped_and_capped() {
        assert_eq!(message("not found".into()), "not found");
        assert_eq!(message("a\nb".into()), "a\\nb");
        assert!(message("x".repeat(100_000)).len() <= MAX_MESSAGE + 3);
    }

    #[test]
    fn a_well_formed_info_passes() {
        assert_eq!(check_info(&info()), Ok(()));
    }

    #[test]
    fn hidden_characters_anywhere_in_info_are_refused() {
        let cases: [fn(&mut FlavorInfo); 9] = [
            |i| i.version = "1.0\u{1b}[2J".into(),
            |i| i.description = "nice\u{202E}".into(),
            |i| i.options[0].description = "help\r".into(),
            |i| i.options[0].default = Some("eu\u{200B}".into()),
            |i| i.capabilities.environment = vec!["TOKEN\u{1b}[1A".into()],
            |i| i.capabilities.environment = vec!["A-B".into()],
            |i| i.capabilities.environment = vec!["1A".into()],
            |i| i.options[0].name = "re gion".into(),
            |i| i.name = "Fine\u{1b}".into(),
        ];
        for (n, case) in cases.iter().enumerate() {
            let mut info = info();
            case(&mut info);
            let err = check_info(&info).unwrap_err();
            assert!(!err.contains('\u{1b}') && !err.contains('\r'), "{n}: {err}");
        }
    }

    #[test]
    fn oversized_info_is_refused() {
        let mut many = info();
        many.options = (0..=MAX_OPTIONS)
            .map(|i| OptionSpec {
                name: format!("o{i}"),
                ..info().options[0].clone()
            })
            .collect();
        assert!(check_info(&many).unwrap_err().contains("options"));
        let mut long = info();
        long.description = "x".repeat(MAX_LONG_TEXT + 1);
        assert!(check_info(&long).unwrap_err().contains("bytes long"));
        let mut hosts = info();
        hosts.capabilities.outbound_hosts = vec!["a.example.com".into(); MAX_ASKS + 1];
        assert!(check_info(&hosts).is_err());
        let mut files = info();
        files.capabilities.files = vec!["~/.aws/config".into(); MAX_FILES + 1];
        assert!(check_info(&files).unwrap_err().contains("files"));
    }

    #[test]
    fn files_outside_the_three_forms_are_refused() {
        for bad in [
            "~/.ssh/../.ssh/id_rsa",
            "id_rsa",
            "~/a\u{202e}b",
            "$HOME/.ssh",
        ] {
            let mut asks = info();
            asks.capabilities.files = vec![bad.into()];
            let err = check_info(&asks).unwrap_err();
            assert!(err.contains("a file it cannot have"), "{bad}: {err}");
        }
    }

    #[test]
    fn answers_must_be_the_secret_asked_for_with_unique_valid_keys() {
        let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
            p.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let ok = check_secret("db", "db".into(), "arbitrary".into(), pairs(&[("k", "v")]));
        assert_eq!(ok.unwrap().values["k"], "v");
        let other = check_secret(
            "db",
            "other".into(),
            "arbitrary".into(),
            pairs(&[("k", "v")]),
        );
        assert!(other.unwrap_err().contains("`other`"));
        let twice = check_secret(
            "db",
            "db".into(),
            "arbitrary".into(),
            pairs(&[("k", "secret-one"), ("k", "secret-two")]),
        );
        let err = twice.unwrap_err();
        assert!(
            err.contains("twice") && !err.contains("secret-one"),
            "{err}"
        );
        let injected = check_secret(
            "db",
            "db".into(),
            "arbitrary".into(),
            pairs(&[("x;rm -rf ~", "v")]),
        );
        assert!(injected.unwrap_err().contains("not a valid key"));
        let schema = check_secret("db", "db".into(), "basic_auth".into(), pairs(&[("k", "v")]));
        assert!(schema.is_err());
        let none = check_secret("db", "db".into(), "arbitrary".into(), vec![]);
        assert!(none.is_err());
    }

    #[test]
    fn invisible_characters_are_hidden_too() {
        for c in [
            '\u{FE0F}',
            '\u{3164}',
            '\u{2800}',
            '\u{034F}',
            '\u{17B4}',
            '\u{E0100}',
        ] {
            assert!(is_hidden(c), "U+{:04X}", c as u32);
        }
        for c in ['a', 'é', '日', ' ', '✓'] {
            assert!(!is_hidden(c), "{c}");
        }
        let lookalike = check_secret(
            "db",
            "db".into(),
            "arbitrary".into(),
            vec![("password\u{FE0F}".into(), "v".into())],
        );
        assert!(lookalike.unwrap_err().contains("shows as nothing"));
    }

    #[test]
    fn env_lines_set_only_prefixed_variables_on_one_line() {
        assert_eq!(env_prefix("db-creds.prod"), "DB_CREDS_PROD_");
        assert_eq!(env_prefix("1db"), "_1DB_");
        assert_eq!(
            env_line("DB_", "password", "it's").unwrap(),
            "DB_PASSWORD='it'\\''s'\n"
        );
        // A key can no longer name a dangerous variable by itself...
        for key in ["PATH", "PROMPT_COMMAND", "RPS1", "LD_PRELOAD"] {
            assert!(
                env_line("DB_", key, "x").unwrap().starts_with("DB_"),
                "{key}"
            );
        }
        // ...and a prefix that would let it is refused too.
        for (prefix, key) in [
            ("LD_", "preload"),
            ("", "PATH"),
            ("PS", "1"),
            ("BASH_", "env"),
        ] {
            assert!(env_line(prefix, key, "x").is_err(), "{prefix}{key}");
        }
        assert!(
            env_line("DB_", "clé", "x")
                .unwrap_err()
                .contains("cannot be part")
        );
        assert!(
            env_line("DB_", "k", "a\nLD_PRELOAD=/x")
                .unwrap_err()
                .contains("spans lines")
        );
    }

    #[test]
    fn listings_keep_only_names_secman_can_address() {
        let (valid, note) = check_names(vec![
            "ok".into(),
            "two\nlines".into(),
            "a/b".into(),
            "--help".into(),
        ]);
        assert_eq!(valid, ["ok"]);
        assert_eq!(
            note.unwrap(),
            "3 name(s) that are not secret names secman can address, left out: two\\nlines, \
             a/b, --help"
        );
        let (_, note) = check_names((0..1000).map(|i| format!("bad/{i}")).collect());
        assert!(note.unwrap().ends_with("bad/4, and 995 more"));
    }
}
