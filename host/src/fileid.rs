//! Knowing that a file was not written since it was checked, without
//! reading it again.
//!
//! A [`Record`] holds a file's sha256 and its identity: device, inode,
//! size, modification and change times. The change time is set by the
//! kernel on every write, rename onto it or change of mode, and a process
//! cannot set it back, so a file whose identity still matches holds the
//! bytes that were hashed. A file changed within the clock's granularity of
//! being recorded could keep its times: such a record is not trusted (see
//! [`Identity::settled`]), as git does for its index.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What the host recorded about a file it checked: its sha256, and which
/// file it was.
#[derive(Debug, PartialEq, Eq)]
pub struct Record {
    /// The file's digest.
    pub sha256: String,
    /// The file as it was then.
    pub identity: Identity,
}

/// Which file it is, and whether it was written since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Identity {
    /// The identity of the file `meta` describes.
    pub fn of(meta: &fs::Metadata) -> Identity {
        Identity {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }
}

impl Record {
    /// Reads a record written by [`Record::render`].
    pub fn parse(text: &str) -> Option<Record> {
        let mut words = text.split_whitespace();
        let sha256 = words.next()?.to_string();
        let mut number = || words.next()?.parse::<i64>().ok();
        let identity = Identity {
            dev: number()? as u64,
            ino: number()? as u64,
            size: number()? as u64,
            mtime: (number()?, number()?),
            ctime: (number()?, number()?),
        };
        Some(Record { sha256, identity })
    }

    /// One line of text.
    pub fn render(&self) -> String {
        let i = &self.identity;
        format!(
            "{} {} {} {} {} {} {} {}\n",
            self.sha256, i.dev, i.ino, i.size, i.mtime.0, i.mtime.1, i.ctime.0, i.ctime.1
        )
    }
}

impl Identity {
    /// Whether the file's last change is far enough in the past that a
    /// later write would change its times: two seconds covers file systems
    /// that keep whole seconds.
    pub fn settled(&self) -> bool {
        let changed = UNIX_EPOCH + Duration::new(self.ctime.0.max(0) as u64, self.ctime.1 as u32);
        SystemTime::now()
            .duration_since(changed)
            .is_ok_and(|age| age >= Duration::from_secs(2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let record = Record {
            sha256: "ab".into(),
            identity: Identity {
                dev: 1,
                ino: 2,
                size: 3,
                mtime: (4, 5),
                ctime: (6, 7),
            },
        };
        assert_eq!(Record::parse(&record.render()), Some(record));
        assert_eq!(Record::parse("ab 1 2"), None);
    }

    #[test]
    fn only_a_file_changed_long_enough_ago_is_settled() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, "x").unwrap();
        let fresh = Identity::of(&fs::metadata(&path).unwrap());
        assert!(!fresh.settled());
        let old = Identity {
            ctime: (fresh.ctime.0 - 3, 0),
            ..fresh
        };
        assert!(old.settled());
    }
}
