//! Files a flavor reads, such as a credentials file: asked for in its
//! `capabilities.files`, granted by the user, and given read-only as a copy.
//!
//! A granted file is opened by the host when the command starts, by what
//! it is (see `resolve`: no link a flavor could have planted is followed,
//! nothing on a kernel filesystem, a regular file of at most
//! [`MAX_FILE_BYTES`]), and copied into a private folder (0700) that holds
//! nothing else and that no exit leaves behind (see `scratch`). That
//! folder is mounted read-only at the path of the file's folder on the
//! host, so the flavor finds the file where the variable or its home says
//! it is, and sees none of its neighbours.
//!
//! Keys and credentials of other programs (SSH, GPG, cloud CLIs, kubectl,
//! git, docker, password stores, browsers: [`OTHER_PROGRAMS`]) reach a
//! flavor only through a grant that names their path, which the user typed:
//! `--yes` never grants one, and a `$NAME` grant or a link that leads to
//! one gives nothing.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

use super::resolve::{self, Refused};
use super::scratch::Copies;

use anyhow::{Context, Result, bail};

use super::untrusted::is_env_name;
use crate::text::quote;

/// The most files a flavor may ask for.
pub const MAX_FILES: usize = 16;
/// The largest file a flavor is given.
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// The longest path a flavor may ask for.
const MAX_PATH: usize = 255;

/// One file a flavor asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileAsk {
    /// `$NAME`: the file environment variable NAME names.
    Variable(String),
    /// `~/PATH`: a file in the user's home.
    Home(String),
    /// `/PATH`: a file by its absolute path.
    Absolute(String),
}

impl FileAsk {
    /// Reads an entry of `capabilities.files`.
    pub fn parse(text: &str) -> Result<FileAsk, String> {
        let path_ok = |path: &str| {
            !path.is_empty()
                && path.len() <= MAX_PATH
                && path.split('/').all(|part| {
                    !part.is_empty()
                        && part != "."
                        && part != ".."
                        && part
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
                })
        };
        if let Some(name) = text.strip_prefix('$') {
            if is_env_name(name) && name.len() <= 128 {
                return Ok(FileAsk::Variable(name.into()));
            }
        } else if let Some(path) = text.strip_prefix("~/") {
            if path_ok(path) {
                return Ok(FileAsk::Home(path.into()));
            }
        } else if let Some(path) = text.strip_prefix('/')
            && path_ok(path)
        {
            return Ok(FileAsk::Absolute(text.into()));
        }
        Err(format!(
            "`{}` is not `$NAME`, `~/PATH` or `/PATH` (a path of letters, digits, `.`, `_` \
             and `-`, without `.` or `..` parts, at most {MAX_PATH} bytes)",
            quote(text, 80)
        ))
    }

    /// Where the file is on this machine, and the variable the flavor sees
    /// to find it: (`NAME`, path) or (`HOME`, home). `None` when the
    /// variable is unset or empty, or there is no home.
    fn locate(&self) -> Result<Option<(PathBuf, (String, String))>> {
        match self {
            FileAsk::Variable(name) => {
                let Some(value) = std::env::var_os(name).filter(|v| !v.is_empty()) else {
                    return Ok(None);
                };
                let path = std::path::absolute(&value)
                    .with_context(|| format!("cannot make the path in ${name} absolute"))?;
                let path = normalise(&path);
                let shown = path
                    .to_str()
                    .with_context(|| format!("the path in ${name} is not valid UTF-8"))?
                    .to_string();
                Ok(Some((path, (name.clone(), shown))))
            }
            FileAsk::Home(rest) => {
                let Some(home) = user_home() else {
                    return Ok(None);
                };
                let home = normalise(&home);
                let shown = home
                    .to_str()
                    .context("the home folder's path is not valid UTF-8")?
                    .to_string();
                Ok(Some((home.join(rest), ("HOME".into(), shown))))
            }
            FileAsk::Absolute(path) => Ok(Some((PathBuf::from(path), Default::default()))),
        }
    }
}

/// `path` without `.` and `..` parts, as the flavor will resolve it.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Where keys and credentials of other programs live, in the user's home
/// (a file or a folder), and whose they are.
pub const OTHER_PROGRAMS: &[(&str, &str)] = &[
    (".ssh", "ssh"),
    (".gnupg", "GnuPG"),
    (".aws", "the AWS CLI"),
    (".config/gcloud", "gcloud"),
    (".azure", "the Azure CLI"),
    (".oci", "the OCI CLI"),
    (".kube", "kubectl"),
    (".netrc", "netrc (curl, git, ftp)"),
    (".git-credentials", "git"),
    (".config/git", "git"),
    (".config/gh", "the GitHub CLI"),
    (".docker", "docker"),
    (".password-store", "pass"),
    (".local/share/keyrings", "the desktop keyring"),
    (".mozilla", "Firefox"),
    (".config/google-chrome", "Chrome"),
    (".config/chromium", "Chromium"),
    (".config/BraveSoftware", "Brave"),
    (".config/microsoft-edge", "Edge"),
    (".pgpass", "PostgreSQL"),
    (".my.cnf", "MySQL"),
    (".npmrc", "npm"),
    (".pypirc", "PyPI's tools"),
    (".cargo/credentials", "cargo"),
    (".cargo/credentials.toml", "cargo"),
    (".terraform.d", "Terraform"),
    (".vault-token", "Vault"),
    (".config/op", "1Password's CLI"),
    (".s3cfg", "s3cmd"),
    (".boto", "boto"),
    (".config/rclone", "rclone"),
    (".config/containers", "podman"),
    ("containers/auth.json", "podman"),
    (".config/doctl", "doctl"),
    (".pulumi", "Pulumi"),
    (".databrickscfg", "Databricks"),
    (".kaggle", "Kaggle"),
    (".cache/huggingface", "Hugging Face"),
    (".huggingface", "Hugging Face"),
    (".config/hcloud", "hcloud"),
    (".config/ngrok", "ngrok"),
    (".config/github-copilot", "GitHub Copilot"),
    (".snowflake", "Snowflake"),
    (".dbt", "dbt"),
    (".config/heroku", "Heroku"),
    (".netlify", "Netlify"),
    (".config/vercel", "Vercel"),
    (".terraformrc", "Terraform"),
    (".m2", "Maven"),
    (".gradle", "Gradle"),
    (".ivy2", "Ivy"),
    (".config/zenml", "ZenML"),
    (".config/secman", "secman"),
    (".local/share/secman", "secman"),
    (".gitconfig", "git"),
    (".viminfo", "vim"),
    (".lesshst", "less"),
    (".dbshell", "the MongoDB shell"),
];

/// Absolute paths that hold other programs' or the system's secrets.
const SYSTEM_SECRETS: &[(&str, &str)] = &[
    ("/etc/shadow", "the system's passwords"),
    ("/etc/gshadow", "the system's passwords"),
    ("/etc/sudoers", "sudo"),
    ("/etc/ssh", "the SSH server"),
    ("/etc/ssl/private", "TLS servers"),
    ("/etc/letsencrypt", "Let's Encrypt"),
    ("/etc/kubernetes", "Kubernetes"),
    ("/etc/rancher", "k3s"),
    ("/var/lib/kubelet", "the kubelet"),
    ("/etc/krb5.keytab", "Kerberos"),
    ("/etc/wireguard", "WireGuard"),
    ("/etc/NetworkManager/system-connections", "NetworkManager"),
    ("/root", "the root user"),
    ("/run/secrets", "the container runtime"),
    ("/var/run/secrets", "the container runtime"),
];

/// Whose keys or credentials `path` (absolute) holds, if another
/// program's: a place of [`OTHER_PROGRAMS`] under any folder (the user's
/// home or another's), a history file, or a place of the system's.
pub fn belongs_to(path: &Path) -> Option<&'static str> {
    let parts: Vec<_> = path.components().collect();
    for start in 0..parts.len() {
        let rest: PathBuf = parts[start..].iter().collect();
        if let Some((_, owner)) = OTHER_PROGRAMS.iter().find(|(p, _)| rest.starts_with(p)) {
            return Some(owner);
        }
    }
    if path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.to_ascii_lowercase().contains("history"))
    {
        return Some("a program's history");
    }
    SYSTEM_SECRETS
        .iter()
        .find(|(p, _)| path.starts_with(p))
        .map(|(_, owner)| *owner)
}

impl FileAsk {
    /// What the user should know before granting this file, if anything:
    /// that it holds another program's keys or credentials, is a kernel
    /// file, or is whatever a variable names when secman runs.
    pub fn caution(&self) -> Option<String> {
        let path = match self {
            FileAsk::Variable(name) => {
                return Some(format!(
                    "it is whatever file ${name} names when secman runs"
                ));
            }
            FileAsk::Home(rest) => Path::new("/").join(rest),
            FileAsk::Absolute(path) => PathBuf::from(path),
        };
        if ["/proc", "/sys", "/dev"]
            .iter()
            .any(|k| path.starts_with(k))
        {
            return Some(
                "it is on a kernel filesystem, which describes processes and devices (and is \
                 refused when opened)"
                    .into(),
            );
        }
        belongs_to(&path).map(|owner| format!("it holds keys or credentials of {owner}"))
    }
}

/// The user's home folder, absolute, as `HOME` (or the system) says.
fn user_home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(dirs::home_dir)
        .filter(|h| h.is_absolute())
}

/// The granted files of one sandbox, copied into a private folder.
pub struct GrantedFiles {
    /// The copies, removed when dropped.
    _copies: Copies,
    /// (folder on the host holding copies, the path it is mounted at).
    pub mounts: Vec<(PathBuf, String)>,
    /// Variables the flavor sees to find the files: set only for a file
    /// that was copied, to the path of its copy.
    pub env: Vec<(String, String)>,
}

/// What a sandbox's file grants are judged against.
pub struct FileRules<'a> {
    /// The flavor, for messages.
    pub flavor: &'a str,
    /// Whether it is built into secman (its own credentials are its to
    /// read: `~/.aws` for `aws`).
    pub builtin: bool,
    /// secman's own folders: nothing inside is ever given.
    pub forbidden: &'a [PathBuf],
    /// Folders a flavor can write (every manager's storage): no link in
    /// them is followed.
    pub writable: &'a [PathBuf],
}

/// Copies the files of `granted` (entries of `capabilities.files`) that
/// exist, as `rules` allow.
pub fn copy_granted(granted: &[String], rules: &FileRules) -> Result<GrantedFiles> {
    let mut env: Vec<(String, String)> = Vec::new();
    // Folder inside -> (file name -> contents).
    let mut folders: BTreeMap<PathBuf, Vec<(std::ffi::OsString, Vec<u8>)>> = BTreeMap::new();
    for entry in granted {
        let ask = FileAsk::parse(entry).map_err(anyhow::Error::msg)?;
        let Some((path, variable)) = ask.locate()? else {
            continue;
        };
        let Some(contents) = read_granted(&ask, entry, &path, rules)? else {
            continue;
        };
        let (Some(folder), Some(name)) = (path.parent(), path.file_name()) else {
            continue;
        };
        if !variable.0.is_empty() && !env.iter().any(|(n, _)| *n == variable.0) {
            env.push(variable);
        }
        folders
            .entry(folder.to_path_buf())
            .or_default()
            .push((name.to_os_string(), contents));
    }
    if folders.is_empty() {
        return Ok(GrantedFiles {
            _copies: Copies::default(),
            mounts: Vec::new(),
            env,
        });
    }
    // In the user's runtime folder (memory, private) where there is one.
    let (mut copies, root) = dirs::runtime_dir()
        .and_then(|dir| Copies::new_folder(&dir).ok())
        .map_or_else(|| Copies::new_folder(&std::env::temp_dir()), Ok)
        .context("cannot make a private folder for the files granted to the flavor")?;
    let mut mounts = Vec::new();
    for (index, (folder, files)) in folders.into_iter().enumerate() {
        let inside = folder
            .to_str()
            .with_context(|| format!("the path {} is not valid UTF-8", folder.display()))?
            .to_string();
        // Each path is recorded before it is made (see `scratch`).
        let copy = root.join(index.to_string());
        copies.track(&copy)?;
        std::fs::create_dir(&copy).context("cannot copy the files granted to the flavor")?;
        for (name, contents) in files {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true).mode(0o400);
            let path = copy.join(&name);
            copies.track(&path)?;
            let mut file = options
                .open(&path)
                .context("cannot copy the files granted to the flavor")?;
            std::io::Write::write_all(&mut file, &contents)
                .context("cannot copy the files granted to the flavor")?;
        }
        mounts.push((copy, inside));
    }
    Ok(GrantedFiles {
        _copies: copies,
        mounts,
        env,
    })
}

/// The contents of the file `entry` (`ask`) names at `path`, or `None` if
/// there is no such file.
fn read_granted(
    ask: &FileAsk,
    entry: &str,
    path: &Path,
    rules: &FileRules,
) -> Result<Option<Vec<u8>>> {
    let flavor = rules.flavor;
    let what = || {
        format!(
            "file {} granted to flavor `{flavor}` as `{entry}`",
            path.display()
        )
    };
    let opened = match resolve::open_regular(path, rules.writable) {
        Ok(opened) => opened,
        Err(Refused::Missing) => return Ok(None),
        Err(Refused::NotRegular) => bail!("{} is not a regular file: point it at one", what()),
        Err(Refused::FlavorLink(link)) => bail!(
            "{} goes through the link {}, inside a storage folder that a flavor can write, which \
             secman does not follow: put the file itself there, or grant it where it is",
            what(),
            link.display()
        ),
        Err(Refused::PseudoFile(kind)) => bail!(
            "{} is on the kernel's `{kind}` filesystem, which describes processes and devices \
             and is never given to a flavor",
            what()
        ),
        Err(Refused::Changed) => bail!(
            "{} changed while secman opened it (a link or a folder on its path was replaced): \
             run the command again, and check what else can write there",
            what()
        ),
        Err(Refused::Io(e)) => return Err(e).with_context(|| format!("cannot read {}", what())),
    };
    if opened.meta.len() > MAX_FILE_BYTES {
        bail!(
            "{} is {} bytes, over the {} MiB a flavor is given",
            what(),
            opened.meta.len(),
            MAX_FILE_BYTES >> 20
        );
    }
    if let Some(own) = rules
        .forbidden
        .iter()
        .find(|dir| std::fs::canonicalize(dir).is_ok_and(|dir| opened.real.starts_with(dir)))
    {
        bail!(
            "{} is inside secman's own folder {}, which no flavor is given",
            what(),
            own.display()
        );
    }
    // Another program's keys only where the grant names them itself.
    let named = match ask {
        FileAsk::Variable(_) => false,
        _ => belongs_to(path).is_some(),
    };
    if !rules.builtin
        && !named
        && let Some(owner) = belongs_to(&opened.real)
    {
        bail!(
            "{} is {}, which holds keys or credentials of {owner}: a flavor gets such a file \
             only through a grant of its own path (`secman flavor grant {flavor} --allow-file \
             PATH`, if the flavor asks for that path)",
            what(),
            opened.real.display()
        );
    }
    let mut contents = Vec::with_capacity(opened.meta.len() as usize);
    opened
        .file
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut contents)
        .with_context(|| format!("cannot read {}", what()))?;
    if contents.len() as u64 > MAX_FILE_BYTES {
        bail!(
            "{} grew over {} MiB while it was read",
            what(),
            MAX_FILE_BYTES >> 20
        );
    }
    Ok(Some(contents))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn entries_are_a_variable_a_home_path_or_an_absolute_path() {
        assert_eq!(
            FileAsk::parse("$GOOGLE_APPLICATION_CREDENTIALS"),
            Ok(FileAsk::Variable("GOOGLE_APPLICATION_CREDENTIALS".into()))
        );
        assert_eq!(
            FileAsk::parse("~/.aws/credentials"),
            Ok(FileAsk::Home(".aws/credentials".into()))
        );
        assert_eq!(
            FileAsk::parse("/var/run/secrets/token"),
            Ok(FileAsk::Absolute("/var/run/secrets/token".into()))
        );
        for bad in [
            "",
            "$",
            "$1A",
            "$A-B",
            "~",
            "~/",
            "~/../etc/passwd",
            "~/.ssh/../x",
            "/",
            "//etc",
            "/etc/./passwd",
            "relative",
            "~/a b",
            "/etc/passwd\u{202e}",
            "~/a/",
            "~user/x",
        ] {
            assert!(FileAsk::parse(bad).is_err(), "{bad:?} was taken");
        }
        assert!(FileAsk::parse(&format!("/{}", "a".repeat(MAX_PATH + 1))).is_err());
    }

    fn rules<'a>(forbidden: &'a [PathBuf], writable: &'a [PathBuf]) -> FileRules<'a> {
        FileRules {
            flavor: "gcp",
            builtin: false,
            forbidden,
            writable,
        }
    }

    #[test]
    fn only_the_granted_files_are_copied_and_nothing_in_secmans_folders() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        std::fs::create_dir(&keys).unwrap();
        std::fs::write(keys.join("sa.json"), b"{}").unwrap();
        std::fs::write(keys.join("id_rsa"), b"private").unwrap();
        let granted = [format!("{}/sa.json", keys.display())];
        let files = copy_granted(&granted, &rules(&[], &[])).unwrap();
        assert_eq!(files.mounts.len(), 1);
        let (copy, inside) = &files.mounts[0];
        assert_eq!(inside, keys.to_str().unwrap());
        let names: Vec<_> = std::fs::read_dir(copy)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [OsStr::new("sa.json")]);
        assert_eq!(std::fs::read(copy.join("sa.json")).unwrap(), b"{}");
        let copy = copy.clone();
        drop(files);
        assert!(!copy.exists(), "the copy outlived its sandbox");

        let missing = [format!("{}/none.json", keys.display())];
        assert!(
            copy_granted(&missing, &rules(&[], &[]))
                .unwrap()
                .mounts
                .is_empty()
        );

        let own = [dir.path().to_path_buf()];
        let refused = copy_granted(&granted, &rules(&own, &[])).err().unwrap();
        assert!(
            format!("{refused:#}").contains("inside secman's own folder"),
            "{refused:#}"
        );

        let folder = [format!("{}", dir.path().join("keys").display())];
        let refused = copy_granted(&folder, &rules(&[], &[])).err().unwrap();
        assert!(
            format!("{refused:#}").contains("not a regular file"),
            "{refused:#}"
        );
    }

    #[test]
    fn other_programs_keys_are_known_wherever_they_are() {
        for (path, owner) in [
            ("/home/u/.ssh/id_rsa", "ssh"),
            ("/home/bob/.kube/config", "kubectl"),
            ("/tmp/x/bobhome/.aws/credentials", "the AWS CLI"),
            ("/run/user/1000/containers/auth.json", "podman"),
            (
                "/home/u/.local/share/fish/fish_history",
                "a program's history",
            ),
            ("/etc/shadow", "the system's passwords"),
            ("/etc/kubernetes/admin.conf", "Kubernetes"),
        ] {
            assert_eq!(belongs_to(Path::new(path)), Some(owner), "{path}");
        }
        for path in [
            "/home/u/keys/sa.json",
            "/home/u/.sshx",
            "/home/u/.config/tool/token",
        ] {
            assert_eq!(belongs_to(Path::new(path)), None, "{path}");
        }
        for entry in [
            "~/.ssh/id_ed25519",
            "~/.docker/config.json",
            "$KEY_FILE",
            "/var/run/secrets/token",
            "/proc/self/environ",
        ] {
            assert!(
                FileAsk::parse(entry).unwrap().caution().is_some(),
                "{entry}"
            );
        }
        assert!(
            FileAsk::parse("~/.config/tool/token")
                .unwrap()
                .caution()
                .is_none()
        );
    }
}
