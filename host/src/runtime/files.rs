//! Files a flavor reads, such as a credentials file: asked for in its
//! `capabilities.files`, granted by the user, and given read-only as a copy.
//!
//! A granted file is read by the host when the command starts (a regular
//! file of at most [`MAX_FILE_BYTES`], opened without blocking) and copied
//! into a private folder (0700) that holds nothing else. That folder is
//! mounted read-only at the path of the file's folder on the host, so the
//! flavor finds the file where the variable or its home says it is, and
//! sees none of its neighbours: a link, a later change or a sibling such
//! as `~/.ssh` is never reached. The copy is removed when the sandbox is
//! dropped.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::untrusted::{is_env_name, quote};

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
                let Some(home) = std::env::var_os("HOME")
                    .filter(|h| !h.is_empty())
                    .map(PathBuf::from)
                    .or_else(dirs::home_dir)
                    .filter(|h| h.is_absolute())
                else {
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

/// The granted files of one sandbox, copied into a private folder.
pub struct GrantedFiles {
    /// The copies, removed when dropped.
    _copies: Option<tempfile::TempDir>,
    /// (folder on the host holding copies, the path it is mounted at).
    pub mounts: Vec<(PathBuf, String)>,
    /// Variables the flavor sees to find the files.
    pub env: Vec<(String, String)>,
}

/// Copies the files of `granted` (entries of `capabilities.files`) that
/// exist, refusing any inside `forbidden` (secman's own folders).
pub fn copy_granted(flavor: &str, granted: &[String], forbidden: &[&Path]) -> Result<GrantedFiles> {
    let mut env: Vec<(String, String)> = Vec::new();
    // Folder inside -> (file name -> contents).
    let mut folders: BTreeMap<PathBuf, Vec<(std::ffi::OsString, Vec<u8>)>> = BTreeMap::new();
    for entry in granted {
        let ask = FileAsk::parse(entry).map_err(anyhow::Error::msg)?;
        let Some((path, variable)) = ask.locate()? else {
            continue;
        };
        if !variable.0.is_empty() && !env.iter().any(|(n, _)| *n == variable.0) {
            env.push(variable);
        }
        let Some(contents) = read_granted(flavor, entry, &path, forbidden)? else {
            continue;
        };
        let (Some(folder), Some(name)) = (path.parent(), path.file_name()) else {
            continue;
        };
        folders
            .entry(folder.to_path_buf())
            .or_default()
            .push((name.to_os_string(), contents));
    }
    if folders.is_empty() {
        return Ok(GrantedFiles {
            _copies: None,
            mounts: Vec::new(),
            env,
        });
    }
    // In the user's runtime folder (memory, private) where there is one.
    let make = |dir: PathBuf| {
        tempfile::Builder::new()
            .prefix("secman-files-")
            .tempdir_in(dir)
    };
    let copies = dirs::runtime_dir()
        .and_then(|dir| make(dir).ok())
        .map_or_else(|| make(std::env::temp_dir()), Ok)
        .context("cannot make a private folder for the files granted to the flavor")?;
    let mut mounts = Vec::new();
    for (index, (folder, files)) in folders.into_iter().enumerate() {
        let inside = folder
            .to_str()
            .with_context(|| format!("the path {} is not valid UTF-8", folder.display()))?
            .to_string();
        let copy = copies.path().join(index.to_string());
        std::fs::create_dir(&copy).context("cannot copy the files granted to the flavor")?;
        for (name, contents) in files {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true).mode(0o400);
            std::io::Write::write_all(&mut options.open(copy.join(&name))?, &contents)
                .context("cannot copy the files granted to the flavor")?;
        }
        mounts.push((copy, inside));
    }
    Ok(GrantedFiles {
        _copies: Some(copies),
        mounts,
        env,
    })
}

/// The contents of the file `entry` names at `path`, or `None` if there is
/// no such file.
fn read_granted(
    flavor: &str,
    entry: &str,
    path: &Path,
    forbidden: &[&Path],
) -> Result<Option<Vec<u8>>> {
    let what = || {
        format!(
            "file {} granted to flavor `{flavor}` as `{entry}`",
            path.display()
        )
    };
    // Opened without blocking: a FIFO would wait for a writer.
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", what())),
    };
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read {}", what()))?;
    if !meta.is_file() {
        bail!("{} is not a regular file: point it at one", what());
    }
    if meta.len() > MAX_FILE_BYTES {
        bail!(
            "{} is {} bytes, over the {} MiB a flavor is given",
            what(),
            meta.len(),
            MAX_FILE_BYTES >> 20
        );
    }
    let real = std::fs::canonicalize(path).with_context(|| format!("cannot read {}", what()))?;
    if let Some(own) = forbidden
        .iter()
        .find(|dir| std::fs::canonicalize(dir).is_ok_and(|dir| real.starts_with(dir)))
    {
        bail!(
            "{} is inside secman's own folder {}, which no flavor is given",
            what(),
            own.display()
        );
    }
    let mut contents = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE_BYTES + 1)
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

    #[test]
    fn only_the_granted_files_are_copied_and_nothing_in_secmans_folders() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        std::fs::create_dir(&keys).unwrap();
        std::fs::write(keys.join("sa.json"), b"{}").unwrap();
        std::fs::write(keys.join("id_rsa"), b"private").unwrap();
        let granted = [format!("{}/sa.json", keys.display())];
        let files = copy_granted("gcp", &granted, &[]).unwrap();
        assert_eq!(files.mounts.len(), 1);
        let (copy, inside) = &files.mounts[0];
        assert_eq!(inside, keys.to_str().unwrap());
        let names: Vec<_> = std::fs::read_dir(copy)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [OsStr::new("sa.json")]);
        assert_eq!(std::fs::read(copy.join("sa.json")).unwrap(), b"{}");

        let missing = [format!("{}/none.json", keys.display())];
        assert!(
            copy_granted("gcp", &missing, &[])
                .unwrap()
                .mounts
                .is_empty()
        );

        let refused = copy_granted("gcp", &granted, &[dir.path()]).err().unwrap();
        assert!(
            format!("{refused:#}").contains("inside secman's own folder"),
            "{refused:#}"
        );

        let folder = [format!("{}", dir.path().join("keys").display())];
        let refused = copy_granted("gcp", &folder, &[]).err().unwrap();
        assert!(
            format!("{refused:#}").contains("not a regular file"),
            "{refused:#}"
        );
    }
}
