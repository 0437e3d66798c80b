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
//! - `crate::text` makes any text safe to show: control characters, bidi
//!   overrides and invisible characters become visible escapes.

use std::collections::{BTreeMap, BTreeSet};

use super::files::{FileAsk, MAX_FILES};
use super::info::{FlavorInfo, OptionKind, RESERVED_OPTIONS, is_flavor_name};
use super::outbound::HostPattern;
use crate::secret::{Secret, check_name};
use crate::text::{escape, is_hidden, quote};

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
/// code, read settings or look elsewhere for what it runs, compared without
/// case (zsh ties `path` to `PATH`). The rules below catch most by their
/// shape; these are the ones whose names say nothing.
const CONFIGURATION_VARIABLES: &[&str] = &[
    "IFS",
    "ENV",
    "SHELLOPTS",
    "BASHOPTS",
    "GLOBIGNORE",
    "PS0",
    "PS1",
    "PS2",
    "PS3",
    "PS4",
    "PROMPT",
    "RPROMPT",
    "RPS1",
    "RPS2",
    "PSVAR",
    "MAIL",
    "VISUAL",
    "TERM",
    "CLASSPATH",
    "CC",
    "CXX",
    "CPP",
    "LD",
    "AR",
    "AS",
    "NM",
    "GOROOT",
    "GOTOOLCHAIN",
    "GOAUTH",
    "GOBIN",
    "GOINSECURE",
    "GONOSUMDB",
    "GONOSUMCHECK",
    "GOPRIVATE",
    "GOSUMDB",
    "GOEXPERIMENT",
    "GOCACHE",
    "GOMODCACHE",
    "GOWORK",
    "GOVCS",
    "GODEBUG",
    "GOTELEMETRY",
    "HOSTALIASES",
    "LOCALDOMAIN",
    "TCLLIBPATH",
    "EXINIT",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "BROWSER",
    "TZ",
    "PGHOST",
    "PGHOSTADDR",
    "PGSERVICE",
    "PGSSLMODE",
    "PGSSLROOTCERT",
    "PGSSLCERT",
    "PGSSLKEY",
    "PGSSLCRL",
    "MYSQL_HOST",
    "MYSQL_UNIX_PORT",
    "MYSQL_TCP_PORT",
    "POSIXLY_CORRECT",
    "TIMEFORMAT",
    "EXECIGNORE",
    "COMP_WORDBREAKS",
    "GITHUB_API_URL",
    "GITHUB_SERVER_URL",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "FCEDIT",
    "MAGIC",
    "LOCALE_ARCHIVE",
    "PREFIX",
];
/// Prefixes of the variables of tools that read settings, plugins or
/// code from their environment, and of secman's own.
const CONFIGURATION_PREFIXES: &[&str] = &[
    "LD_",
    "DYLD_",
    "BASH_FUNC_",
    "GCONV_",
    "GLIBC_",
    "MALLOC_",
    "LC_",
    "GIT_",
    "SSH_",
    "XDG_",
    "SECMAN_",
    "HIST",
    "LESS",
    "TERM",
    "SUDO_",
    "TMUX",
    "PYTHON",
    "NODE_",
    "NPM_",
    "YARN_",
    "PNPM_",
    "BUN_",
    "DENO_",
    "RUBY",
    "GEM_",
    "BUNDLE_",
    "PERL",
    "JAVA",
    "_JAVA",
    "JDK_",
    "MAVEN_",
    "GRADLE_",
    "PHP",
    "LUA_",
    "R_",
    "JULIA_",
    "DOTNET_",
    "CORECLR_",
    "COREHOST_",
    "PIP_",
    "PIPENV_",
    "POETRY_",
    "UV_",
    "CONDA",
    "CARGO_",
    "RUSTUP_",
    "RUSTC",
    "RUSTDOC",
    "KUBE",
    "DOCKER_",
    "HELM_",
    "CLOUDSDK_",
    "TF_",
    "ANSIBLE_",
    "VAGRANT_",
    "OPENSSL_",
    "SSL_",
    "CURL_",
    "GRPC_",
    "GPG",
    "GNUPG",
    "GTK_",
    "GDK_",
    "GIO_",
    "GSETTINGS",
    "QT_",
    "DBUS_",
    "ELECTRON_",
    "CHROME_",
    "SYSTEMD_",
    "VIM",
    "EMACS",
    "AWS_ENDPOINT",
    "AWS_CONTAINER_",
    "AWS_EC2_METADATA",
    "RES_",
    "RESOLV_",
    "AWS_CLI_",
    "AWS_USE_",
    "AWS_IGNORE_",
    "BASH_",
    "ZSH",
    "KRB5",
    "XAUTH",
    "GCE_METADATA",
    "GOOGLE_API_USE",
    "CONTAINER_",
    "BUILDKIT_",
    "COMPLUS_",
    "MPL",
    "DEBUGINFOD",
    "ZENML_",
    "MLFLOW_",
    "WANDB_",
    "HF_",
    "HUGGINGFACE_",
    "PODMAN_",
    "CONSUL_",
    "NOMAD_",
    "OLLAMA_",
];
/// Words that, ending any `_`-separated part of a name, make the variable
/// point a program at a file, a folder, a command, settings or a proxy:
/// `KUBECONFIG`, `PYTHONPATH`, `PGPASSFILE`, `GIT_SSH_COMMAND`,
/// `NETRC`, `MANPAGER`, `SUDO_ASKPASS`, `AWS_PROFILE`, `HTTPS_PROXY`.
const CONFIGURATION_ENDINGS: &[&str] = &[
    "PATH",
    "HOME",
    "CONFIG",
    "CONF",
    "CFG",
    "RC",
    "INIT",
    "OPT",
    "OPTS",
    "OPTIONS",
    "FLAGS",
    "ARGS",
    "FILE",
    "FILES",
    "DIR",
    "LIB",
    "LIBS",
    "PLUGIN",
    "PLUGINS",
    "PRELOAD",
    "COMMAND",
    "CMD",
    "EXEC",
    "PROGRAM",
    "SHELL",
    "EDITOR",
    "PAGER",
    "BROWSER",
    "STARTUP",
    "PROFILE",
    "PROXY",
    "ENV",
    "ENVIRON",
    "ASKPASS",
    "HELPER",
    "INCLUDE",
    "LOADER",
    "CREDENTIALS",
    "BUNDLE",
    "MODULES",
    "ENGINES",
    "SOCK",
    "SOCKET",
    "WRAPPER",
    "RSH",
    "SSH",
    "ADDR",
    "HOST",
    "ENDPOINT",
    "ENDPOINTS",
    "SERVER",
    "CACERT",
    "CAPATH",
    "SSLMODE",
    "VERIFY",
    "CCNAME",
    "AUTHORITY",
    "BACKEND",
    "KEYTAB",
];
/// Whole parts that do the same, where a suffix match would be too broad
/// (`WEBHOOK` is a secret, `HOOK` a command).
const CONFIGURATION_PARTS: &[&str] = &[
    "HOOK", "HOOKS", "RUN", "SCRIPT", "CA", "CERTS", "EDIT", "BASE", "PROG",
];

/// Whether programs read the variable `name` as configuration: a file,
/// folder, command, proxy or setting to use, rather than a value.
pub fn is_configuration_variable(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    CONFIGURATION_VARIABLES.contains(&upper.as_str())
        || CONFIGURATION_PREFIXES.iter().any(|p| upper.starts_with(p))
        || upper.split('_').any(|part| {
            CONFIGURATION_PARTS.contains(&part)
                || CONFIGURATION_ENDINGS.iter().any(|end| part.ends_with(end))
        })
}

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
/// set: not a variable name, or one that programs read as configuration
/// (see [`is_configuration_variable`]).
pub fn env_name(prefix: &str, key: &str) -> Result<String, String> {
    let name = format!("{prefix}{}", key.to_ascii_uppercase());
    if !is_env_name(&name) {
        return Err(format!(
            "key `{}` cannot be part of a shell variable name (letters, digits and `_`)",
            quote(key, 80)
        ));
    }
    if is_configuration_variable(&name) {
        return Err(format!(
            "`{name}` would set a variable that programs read as configuration (a file, a \
             command, a proxy or a setting to use), which a flavor's key never chooses, \
             whatever the prefix"
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

/// Splits a listing into the names secman can address (every name but the
/// empty one: any name a store holds is shown escaped, never dropped) and
/// a note on the empty ones.
pub fn check_names(names: Vec<String>) -> (Vec<String>, Option<String>) {
    let total = names.len();
    let valid: Vec<String> = names
        .into_iter()
        .filter(|n| check_name(n).is_ok())
        .collect();
    let empty = total - valid.len();
    let note = (empty > 0).then(|| format!("{empty} empty name(s), which no secret has, left out"));
    (valid, note)
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
        for key in ["IFS", "PS1", "RPS1"] {
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
        // Whatever the prefix, no name that points a program at its code or
        // settings: the keys a hostile flavor would pick with the default
        // prefix of a secret named `aws`, `kube`, `pip`, ...
        for (prefix, key) in [
            ("AWS_", "config_file"),
            ("AWS_", "shared_credentials_file"),
            ("AWS_", "profile"),
            ("AWS_", "ca_bundle"),
            ("AWS_", "endpoint_url_sts"),
            ("KUBE", "config"),
            ("", "kubeconfig"),
            ("PIP_", "index_url"),
            ("NPM_", "config_userconfig"),
            ("", "npm_config_globalconfig"),
            ("PYTHON", "userbase"),
            ("", "pythonstartup"),
            ("DOCKER_", "host"),
            ("", "git_ssh_command"),
            ("", "gnupghome"),
            ("", "pgpassfile"),
            ("", "netrc"),
            ("", "wgetrc"),
            ("", "inputrc"),
            ("", "manpager"),
            ("", "google_application_credentials"),
            ("", "cloudsdk_python"),
            ("", "rustc_wrapper"),
            ("", "gotoolchain"),
            ("", "goflags"),
            ("", "perl5opt"),
            ("", "rubyopt"),
            ("", "java_tool_options"),
            ("", "phprc"),
            ("", "tf_cli_config_file"),
            ("", "https_proxy"),
            ("", "no_proxy"),
            ("", "requests_ca_bundle"),
            ("", "node_extra_ca_certs"),
            ("", "glibc_tunables"),
            ("", "histfile"),
            ("", "lessopen"),
            ("", "sudo_askpass"),
            ("", "openssl_conf"),
            ("", "bash_env"),
            ("", "zdotdir"),
            ("", "tmpdir"),
            ("DB_", "init_script"),
            ("RSYNC_", "rsh"),
            ("", "rsync_connect_prog"),
            ("", "cvs_rsh"),
            ("", "svn_ssh"),
            ("", "fcedit"),
            ("VAULT_", "addr"),
            ("", "consul_http_addr"),
            ("", "openai_base_url"),
            ("", "openai_api_base"),
            ("", "gh_host"),
            ("", "github_api_url"),
            ("", "hf_endpoint"),
            ("", "mlflow_tracking_uri"),
            ("", "zenml_store_url"),
            ("", "pghost"),
            ("", "pgsslrootcert"),
            ("", "vault_cacert"),
            ("", "vault_skip_verify"),
            ("", "krb5ccname"),
            ("", "xauthority"),
            ("", "container_host"),
            ("", "mplbackend"),
            ("", "socks5_server"),
            ("", "bash_xtracefd"),
            ("", "tz"),
            ("", "azure_authority_host"),
            ("", "gce_metadata_host"),
            ("", "magic"),
            ("", "locale_archive"),
            ("", "prefix"),
        ] {
            let why = env_name(prefix, key).unwrap_err();
            assert!(
                why.contains("read as configuration"),
                "{prefix}{key}: {why}"
            );
        }
        // Values keep their usual names.
        for (prefix, key) in [
            ("", "aws_access_key_id"),
            ("", "aws_secret_access_key"),
            ("", "aws_session_token"),
            ("", "aws_region"),
            ("DB_", "password"),
            ("", "pgpassword"),
            ("", "database_url"),
            ("SLACK_", "webhook_url"),
            ("", "github_token"),
            ("", "azure_client_secret"),
            ("STRIPE_", "api_key"),
            ("", "credit_card"),
        ] {
            assert!(env_name(prefix, key).is_ok(), "{prefix}{key}");
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
    fn listings_keep_every_name_a_store_holds() {
        let names = vec![
            "ok".to_string(),
            "two\nlines".into(),
            "a/b".into(),
            "--help".into(),
            "my secret".into(),
            "".into(),
        ];
        let (valid, note) = check_names(names);
        assert_eq!(valid, ["ok", "two\nlines", "a/b", "--help", "my secret"]);
        assert_eq!(
            note.unwrap(),
            "1 empty name(s), which no secret has, left out"
        );
        assert_eq!(check_names(vec!["x".into()]).1, None);
    }
}
