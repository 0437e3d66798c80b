//! Opening a granted file by what it is, not by its path.
//!
//! A path is a promise about a file only until someone changes it. A
//! flavor can change the folders it can write (its storage folder, and any
//! other manager's it runs in), so a link it plants there, or a rename it
//! makes in a second secman process between a check and a copy, could turn
//! a granted path into any file of the user's. So the host:
//!
//! - walks the path one part at a time (`openat` with `O_NOFOLLOW`),
//!   following a symbolic link only where no flavor can write: a link
//!   inside a flavor-writable folder is refused;
//! - opens the last part itself with `O_NOFOLLOW` and without blocking (a
//!   FIFO would wait for a writer);
//! - judges what was opened: a regular file (by `fstat`), on a filesystem
//!   that is not a kernel's window onto processes or devices (by `fstatfs`
//!   and the device of `/dev`: `/proc/self/environ` says it is a regular
//!   file of size 0), at the path the kernel gives for the open file
//!   (`/proc/self/fd/N`), which every later check uses: the path as
//!   written is never looked at a second time.

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// The most symbolic links one path may go through (Linux's own limit).
const MAX_LINKS: usize = 40;

/// A file opened for reading, and what the kernel says it is.
pub struct Opened {
    /// The open file.
    pub file: File,
    /// Its metadata, from the open file.
    pub meta: std::fs::Metadata,
    /// Its path as the kernel knows the open file.
    pub real: PathBuf,
}

/// Why a file was not opened.
#[derive(Debug)]
pub enum Refused {
    /// No such file (or a folder on the way is missing).
    Missing,
    /// A symbolic link inside a folder a flavor can write.
    FlavorLink(PathBuf),
    /// Not a regular file.
    NotRegular,
    /// On a kernel filesystem (proc, sys, dev and their kin), named.
    PseudoFile(&'static str),
    /// The path changed while it was opened.
    Changed,
    /// Any other failure.
    Io(io::Error),
}

impl From<io::Error> for Refused {
    fn from(e: io::Error) -> Refused {
        if e.kind() == io::ErrorKind::NotFound {
            Refused::Missing
        } else {
            Refused::Io(e)
        }
    }
}

/// Opens the regular file at `path` (absolute) for reading, following no
/// symbolic link inside any of the folders in `writable`.
pub fn open_regular(path: &Path, writable: &[PathBuf]) -> Result<Opened, Refused> {
    if !path.is_absolute() {
        return Err(Refused::Io(io::Error::other("the path is not absolute")));
    }
    // Folders as the kernel names them: the walk builds real paths.
    let writable: Vec<PathBuf> = writable
        .iter()
        .map(|w| std::fs::canonicalize(w).unwrap_or_else(|_| w.clone()))
        .collect();
    // Parts still to walk, the next one last.
    let mut todo: Vec<OsString> = parts(path);
    let mut dir = open_at(None, OsStr::new("/"), libc::O_PATH | libc::O_DIRECTORY)?;
    let mut real = PathBuf::from("/");
    let mut links = 0;
    while let Some(part) = todo.pop() {
        if part == ".." {
            dir = open_at(Some(&dir), &part, libc::O_PATH | libc::O_DIRECTORY)?;
            real.pop();
            continue;
        }
        let last = todo.is_empty();
        let node = open_at(Some(&dir), &part, libc::O_PATH | libc::O_NOFOLLOW)?;
        let kind = fstat(&node)?.st_mode & libc::S_IFMT;
        if kind == libc::S_IFLNK {
            if writable.iter().any(|w| real.starts_with(w)) {
                return Err(Refused::FlavorLink(real.join(&part)));
            }
            links += 1;
            if links > MAX_LINKS {
                return Err(Refused::Io(io::Error::from_raw_os_error(libc::ELOOP)));
            }
            let target = read_link_at(&dir, &part)?;
            if target.is_absolute() {
                dir = open_at(None, OsStr::new("/"), libc::O_PATH | libc::O_DIRECTORY)?;
                real = PathBuf::from("/");
            }
            todo.extend(parts(&target));
            continue;
        }
        if !last {
            if kind != libc::S_IFDIR {
                return Err(Refused::Missing);
            }
            dir = node;
            real.push(&part);
            continue;
        }
        if kind != libc::S_IFREG {
            return Err(Refused::NotRegular);
        }
        // The last part, opened for reading: not a link, not blocking.
        let fd = open_at(
            Some(&dir),
            &part,
            libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY,
        )
        .map_err(|e| match e {
            Refused::Io(e) if e.raw_os_error() == Some(libc::ELOOP) => Refused::Changed,
            other => other,
        })?;
        let (was, now) = (fstat(&node)?, fstat(&fd)?);
        if (was.st_dev, was.st_ino) != (now.st_dev, now.st_ino) {
            return Err(Refused::Changed);
        }
        real.push(&part);
        return judge(File::from(fd), &real);
    }
    Err(Refused::NotRegular)
}

/// Checks what was opened, by the open file alone.
fn judge(file: File, walked: &Path) -> Result<Opened, Refused> {
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(Refused::NotRegular);
    }
    if let Some(kind) = pseudo_filesystem(&file, &meta)? {
        return Err(Refused::PseudoFile(kind));
    }
    // The kernel's name for what is open: a folder on the way renamed
    // since the walk shows here.
    let real = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()))?;
    if real != walked {
        return Err(Refused::Changed);
    }
    Ok(Opened { file, meta, real })
}

/// The kind of kernel filesystem `file` is on, if it is on one: files
/// there describe processes, devices or the kernel (and may read as
/// anything whatever their size says).
fn pseudo_filesystem(file: &File, meta: &std::fs::Metadata) -> io::Result<Option<&'static str>> {
    // SAFETY: `statfs` is plain data; `fstatfs` fills it for a valid fd.
    let fs = unsafe {
        let mut fs: libc::statfs = std::mem::zeroed();
        if libc::fstatfs(file.as_raw_fd(), &mut fs) != 0 {
            return Err(io::Error::last_os_error());
        }
        fs
    };
    if let Some(kind) = pseudo_kind(fs.f_type as i64) {
        return Ok(Some(kind));
    }
    // devtmpfs says it is tmpfs: tell it by the device of `/dev` itself,
    // where `/dev` is a filesystem of its own.
    let device = |path: &str| std::fs::metadata(path).map(|m| m.dev()).ok();
    let dev = device("/dev");
    Ok((dev.is_some() && dev != device("/") && dev == Some(meta.dev())).then_some("dev"))
}

/// The name of the kernel filesystem with magic number `magic`
/// (`linux/magic.h`), if it is one.
fn pseudo_kind(magic: i64) -> Option<&'static str> {
    Some(match magic {
        0x9fa0 => "proc",
        0x6265_6572 => "sys",
        0x6462_6720 => "debugfs",
        0x7472_6163 => "tracefs",
        0x7363_6673 => "securityfs",
        0x0027_e0eb => "cgroup",
        0x6367_7270 => "cgroup2",
        0xcafe_4a11 => "bpf",
        0x6265_6570 => "configfs",
        0xde5e_81e4 => "efivarfs",
        0x6165_676c => "pstore",
        0x1cd1 => "devpts",
        0x4249_4e4d => "binfmt_misc",
        0xf97c_ff8c => "selinuxfs",
        0x4341_5d53 => "smackfs",
        0x6573_5543 => "fusectl",
        0x6e73_6673 => "nsfs",
        0x1980_0202 => "mqueue",
        _ => return None,
    })
}

/// The parts of `path` to walk, the first one last; `.` dropped.
fn parts(path: &Path) -> Vec<OsString> {
    let mut parts: Vec<OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part.to_os_string()),
            Component::ParentDir => Some("..".into()),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect();
    parts.reverse();
    parts
}

fn open_at(dir: Option<&OwnedFd>, name: &OsStr, flags: libc::c_int) -> Result<OwnedFd, Refused> {
    let name = CString::new(name.as_bytes()).map_err(|e| Refused::Io(io::Error::other(e)))?;
    let at = dir.map_or(libc::AT_FDCWD, AsRawFd::as_raw_fd);
    // SAFETY: a valid directory fd (or AT_FDCWD) and a NUL-terminated name;
    // the fd returned is owned here.
    let fd = unsafe { libc::openat(at, name.as_ptr(), flags | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error().into());
    }
    // SAFETY: `fd` was just opened and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn fstat(fd: &OwnedFd) -> Result<libc::stat, Refused> {
    // SAFETY: `stat` is plain data; `fstat` fills it for a valid fd.
    unsafe {
        let mut stat: libc::stat = std::mem::zeroed();
        if libc::fstat(fd.as_raw_fd(), &mut stat) != 0 {
            return Err(io::Error::last_os_error().into());
        }
        Ok(stat)
    }
}

fn read_link_at(dir: &OwnedFd, name: &OsStr) -> Result<PathBuf, Refused> {
    let name = CString::new(name.as_bytes()).map_err(|e| Refused::Io(io::Error::other(e)))?;
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: a valid directory fd, a NUL-terminated name and a buffer of
    // the length given.
    let len = unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if len < 0 {
        return Err(io::Error::last_os_error().into());
    }
    buf.truncate(len as usize);
    Ok(PathBuf::from(
        <OsString as std::os::unix::ffi::OsStringExt>::from_vec(buf),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::symlink;

    fn read(opened: Opened) -> String {
        let mut text = String::new();
        (&opened.file).read_to_string(&mut text).unwrap();
        text
    }

    #[test]
    fn a_regular_file_opens_through_the_users_own_links() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().canonicalize().unwrap();
        std::fs::create_dir(real.join("dotfiles")).unwrap();
        std::fs::write(real.join("dotfiles/config"), "mine").unwrap();
        symlink("dotfiles", real.join("tool")).unwrap();
        let opened = open_regular(&real.join("tool/config"), &[]).unwrap();
        assert_eq!(opened.real, real.join("dotfiles/config"));
        assert_eq!(read(opened), "mine");
        let opened = open_regular(&real.join("dotfiles/../tool/./config"), &[]).unwrap();
        assert_eq!(read(opened), "mine");
    }

    #[test]
    fn a_link_inside_a_flavor_writable_folder_is_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().canonicalize().unwrap();
        let store = real.join("store");
        std::fs::create_dir(&store).unwrap();
        std::fs::write(real.join("id_rsa"), "private").unwrap();
        symlink("../id_rsa", store.join("creds.json")).unwrap();
        std::fs::create_dir(store.join("sub")).unwrap();
        symlink(&real, store.join("sub/up")).unwrap();
        for path in [store.join("creds.json"), store.join("sub/up/id_rsa")] {
            assert!(
                matches!(
                    open_regular(&path, std::slice::from_ref(&store)),
                    Err(Refused::FlavorLink(_))
                ),
                "{}",
                path.display()
            );
        }
        // Elsewhere, the same link is the user's and is followed.
        assert_eq!(
            read(open_regular(&store.join("creds.json"), &[]).unwrap()),
            "private"
        );
    }

    #[test]
    fn a_path_swapped_while_it_is_opened_never_gives_the_file_outside() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().canonicalize().unwrap();
        let store = real.join("store");
        std::fs::create_dir_all(store.join("sub")).unwrap();
        std::fs::write(real.join("outside"), "OUTSIDE").unwrap();
        std::fs::write(real.join("creds.json"), "OUTSIDE").unwrap();
        std::fs::write(store.join("sub/creds.json"), "GRANTED").unwrap();
        // A second process of the flavor's swaps the file, and the folder
        // above it, for links out, and back, as fast as it can.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let swapper = {
            let (store, stop) = (store.clone(), stop.clone());
            std::thread::spawn(move || {
                let sub = store.join("sub");
                let (parked, link) = (store.join("parked"), store.join("link"));
                symlink(store.parent().unwrap(), &link).unwrap();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let creds = sub.join("creds.json");
                    let _ = std::fs::rename(&creds, store.join("real.json"));
                    let _ = symlink("../../outside", &creds);
                    let _ = std::fs::remove_file(&creds);
                    let _ = std::fs::rename(store.join("real.json"), &creds);
                    let _ = std::fs::rename(&sub, &parked);
                    let _ = std::fs::rename(&link, &sub);
                    let _ = std::fs::rename(&sub, &link);
                    let _ = std::fs::rename(&parked, &sub);
                }
            })
        };
        let path = store.join("sub/creds.json");
        for _ in 0..2000 {
            if let Ok(opened) = open_regular(&path, std::slice::from_ref(&store)) {
                assert_eq!(read(opened), "GRANTED");
            }
        }
        // Each swap ends where it began: the file opens again.
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        swapper.join().unwrap();
        let opened = open_regular(&path, std::slice::from_ref(&store)).unwrap();
        assert_eq!(read(opened), "GRANTED");
    }

    #[test]
    fn kernel_files_and_special_files_are_refused() {
        for path in ["/proc/self/environ", "/proc/self/maps", "/proc/version"] {
            assert!(
                matches!(
                    open_regular(Path::new(path), &[]),
                    Err(Refused::PseudoFile("proc"))
                ),
                "{path}"
            );
        }
        if Path::new("/sys/kernel/mm/transparent_hugepage/enabled").exists() {
            assert!(matches!(
                open_regular(
                    Path::new("/sys/kernel/mm/transparent_hugepage/enabled"),
                    &[]
                ),
                Err(Refused::PseudoFile("sys"))
            ));
        }
        assert!(matches!(
            open_regular(Path::new("/dev/null"), &[]),
            Err(Refused::NotRegular)
        ));
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            open_regular(dir.path(), &[]),
            Err(Refused::NotRegular)
        ));
        assert!(matches!(
            open_regular(&dir.path().join("none/x"), &[]),
            Err(Refused::Missing)
        ));
    }
}
