//! A storage folder's quota: how much a flavor may write there.
//!
//! One call of a hostile flavor once wrote 1 GiB into the filesystem that
//! holds every manager's store. wasmtime-wasi has no hook for how much a
//! guest writes, so the three ways a flavor writes file contents are
//! wrapped where they are linked (see `link`): `descriptor.write`, and the
//! streams `descriptor.write-via-stream` and `append-via-stream` return,
//! which are replaced in the resource table by a [`QuotaStream`] around
//! them. Each write is charged before it is done; the first write of a
//! call measures what the folder holds (a walk that stops at
//! [`MAX_ENTRIES`]), so that rewriting a store in every call of a long
//! `secret copy` is charged for what it holds, not for what it wrote
//! before. A write past the quota fails as a full disk would (`ENOSPC`),
//! and the call ends with an error that names the quota.
//!
//! Links are refused too (`descriptor.symlink-at` and `link-at`): a link a
//! flavor plants may lead the next program that walks its folder anywhere.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use wasmtime::component::{Linker, Resource, ResourceTable};
use wasmtime_wasi::filesystem::{WasiFilesystemCtxView, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::filesystem::types::{
    Descriptor, DescriptorFlags, ErrorCode, Host as _, HostDescriptor, OpenFlags, PathFlags,
};
use wasmtime_wasi::p2::{DynOutputStream, OutputStream, Pollable, StreamError, StreamResult};

use super::sandbox::SandboxState;

/// The most files and folders a storage folder is walked through to
/// measure it; a folder with more counts as full.
pub const MAX_ENTRIES: usize = 100_000;

/// What a file or folder costs on disk however little it holds: a block.
const ENTRY_BYTES: u64 = 4096;

/// The version of `wasi:filesystem` wasmtime-wasi defines, which the
/// linker resolves every 0.2 import to.
const FILESYSTEM_TYPES: &str = "wasi:filesystem/types@0.2.12";

/// What a flavor may still write into its storage folder in this call.
#[derive(Clone, Debug, Default)]
pub struct Quota(Arc<Mutex<State>>);

#[derive(Debug, Default)]
struct State {
    /// The folder, and the most it may hold; none for a flavor that is
    /// built in, or has no storage.
    folder: Option<(PathBuf, u64)>,
    /// What may still be written in this call, once measured.
    remaining: Option<u64>,
    /// Whether a write was refused.
    hit: bool,
}

impl Quota {
    /// A quota of `limit` bytes on `folder`.
    pub fn new(folder: PathBuf, limit: u64) -> Quota {
        Quota(Arc::new(Mutex::new(State {
            folder: Some((folder, limit)),
            ..State::default()
        })))
    }

    /// A call starts: what the folder holds is measured again at its
    /// first write.
    pub fn new_call(&self) {
        let mut state = self.0.lock().unwrap();
        state.remaining = None;
        state.hit = false;
    }

    /// Whether a write was refused in this call: the folder and its quota.
    pub fn hit(&self) -> Option<(PathBuf, u64)> {
        let state = self.0.lock().unwrap();
        state.folder.clone().filter(|_| state.hit)
    }

    /// Charges a write of `bytes`: whether it may be done.
    fn charge(&self, bytes: u64) -> bool {
        let mut state = self.0.lock().unwrap();
        let Some((folder, limit)) = &state.folder else {
            return true;
        };
        let remaining = match state.remaining {
            Some(remaining) => remaining,
            None => limit.saturating_sub(usage(folder)),
        };
        if bytes > remaining {
            state.remaining = Some(remaining);
            state.hit = true;
            return false;
        }
        state.remaining = Some(remaining - bytes);
        true
    }
}

/// What `folder` holds: the sizes of its files, links not followed; the
/// most there is if it holds more than [`MAX_ENTRIES`] entries, or a
/// folder or file the walk cannot read (one buried deeper than a path can
/// name, say).
fn usage(folder: &Path) -> u64 {
    let mut total = 0u64;
    let mut entries = 0usize;
    let mut stack = vec![folder.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(read) = std::fs::read_dir(&dir) else {
            return u64::MAX;
        };
        for entry in read.flatten() {
            entries += 1;
            if entries > MAX_ENTRIES {
                return u64::MAX;
            }
            let Ok(meta) = entry.metadata() else {
                return u64::MAX;
            };
            total = total.saturating_add(meta.len().max(ENTRY_BYTES));
            if meta.is_dir() {
                stack.push(entry.path());
            }
        }
    }
    total
}

/// The error a write past the quota gets: a full disk.
fn no_space() -> StreamError {
    StreamError::LastOperationFailed(std::io::Error::from_raw_os_error(libc::ENOSPC).into())
}

/// A stream into a file, charged to the quota as it is written.
struct QuotaStream {
    inner: DynOutputStream,
    quota: Quota,
}

#[async_trait::async_trait]
impl Pollable for QuotaStream {
    async fn ready(&mut self) {
        self.inner.ready().await
    }
}

#[async_trait::async_trait]
impl OutputStream for QuotaStream {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        if !self.quota.charge(bytes.len() as u64) {
            return Err(no_space());
        }
        self.inner.write(bytes)
    }

    fn flush(&mut self) -> StreamResult<()> {
        self.inner.flush()
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        self.inner.check_write()
    }

    async fn blocking_write_and_flush(&mut self, bytes: Bytes) -> StreamResult<()> {
        if !self.quota.charge(bytes.len() as u64) {
            return Err(no_space());
        }
        self.inner.blocking_write_and_flush(bytes).await
    }

    fn write_zeroes(&mut self, count: usize) -> StreamResult<()> {
        if !self.quota.charge(count as u64) {
            return Err(no_space());
        }
        self.inner.write_zeroes(count)
    }

    async fn write_ready(&mut self) -> StreamResult<usize> {
        self.inner.write_ready().await
    }

    async fn cancel(&mut self) {
        self.inner.cancel().await
    }
}

/// Puts a [`QuotaStream`] around the stream `stream` in `table`.
fn wrap(
    table: &mut ResourceTable,
    stream: &Resource<DynOutputStream>,
    quota: Quota,
) -> wasmtime::Result<()> {
    let slot = table.get_mut(stream)?;
    let inner = std::mem::replace(slot, Box::new(wasmtime_wasi::p2::pipe::ClosedOutputStream));
    *slot = Box::new(QuotaStream { inner, quota });
    Ok(())
}

/// A stream into a file that `open` makes, charged to `state`'s quota:
/// what `write-via-stream` and `append-via-stream` return.
fn charged_stream(
    state: &mut SandboxState,
    open: impl FnOnce(
        &mut WasiFilesystemCtxView<'_>,
    ) -> wasmtime_wasi::p2::FsResult<Resource<DynOutputStream>>,
) -> wasmtime::Result<(Result<Resource<DynOutputStream>, ErrorCode>,)> {
    let quota = state.quota.clone();
    let mut view = state.filesystem();
    match open(&mut view) {
        Ok(stream) => {
            wrap(view.table, &stream, quota)?;
            Ok((Ok(stream),))
        }
        Err(error) => Ok((Err(view.convert_error_code(error)?),)),
    }
}

/// Redefines, in a linker that has `wasi:filesystem/types`, the functions
/// that write file contents (charged to the quota) and `symlink-at`
/// (refused).
pub fn shadow_writes(linker: &mut Linker<SandboxState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut types = linker.instance(FILESYSTEM_TYPES)?;
    types.func_wrap_async(
        "[method]descriptor.write",
        |mut store, (fd, buffer, offset): (Resource<Descriptor>, Vec<u8>, u64)| {
            Box::new(async move {
                let quota = store.data().quota.clone();
                if !quota.charge(buffer.len() as u64) {
                    return Ok((Err(ErrorCode::InsufficientSpace),));
                }
                let mut view = store.data_mut().filesystem();
                match HostDescriptor::write(&mut view, fd, buffer, offset).await {
                    Ok(written) => Ok((Ok(written),)),
                    Err(error) => Ok((Err(view.convert_error_code(error)?),)),
                }
            })
        },
    )?;
    types.func_wrap(
        "[method]descriptor.write-via-stream",
        |mut store, (fd, offset): (Resource<Descriptor>, u64)| {
            charged_stream(store.data_mut(), |view| {
                HostDescriptor::write_via_stream(view, fd, offset)
            })
        },
    )?;
    types.func_wrap(
        "[method]descriptor.append-via-stream",
        |mut store, (fd,): (Resource<Descriptor>,)| {
            charged_stream(store.data_mut(), |view| {
                HostDescriptor::append_via_stream(view, fd)
            })
        },
    )?;
    // Each new file or folder costs what a small one holds on disk, so that
    // a flavor cannot exhaust the filesystem's inodes with empty ones.
    types.func_wrap_async(
        "[method]descriptor.create-directory-at",
        |mut store, (fd, path): (Resource<Descriptor>, String)| {
            Box::new(async move {
                if !store.data().quota.charge(ENTRY_BYTES) {
                    return Ok((Err(ErrorCode::InsufficientSpace),));
                }
                let mut view = store.data_mut().filesystem();
                match HostDescriptor::create_directory_at(&mut view, fd, path).await {
                    Ok(()) => Ok((Ok(()),)),
                    Err(error) => Ok((Err(view.convert_error_code(error)?),)),
                }
            })
        },
    )?;
    types.func_wrap_async(
        "[method]descriptor.open-at",
        |mut store,
         (fd, path_flags, path, open_flags, flags): (
            Resource<Descriptor>,
            PathFlags,
            String,
            OpenFlags,
            DescriptorFlags,
        )| {
            Box::new(async move {
                if open_flags.contains(OpenFlags::CREATE) && !store.data().quota.charge(ENTRY_BYTES)
                {
                    return Ok((Err(ErrorCode::InsufficientSpace),));
                }
                let mut view = store.data_mut().filesystem();
                match HostDescriptor::open_at(&mut view, fd, path_flags, path, open_flags, flags)
                    .await
                {
                    Ok(opened) => Ok((Ok(opened),)),
                    Err(error) => Ok((Err(view.convert_error_code(error)?),)),
                }
            })
        },
    )?;
    types.func_wrap(
        "[method]descriptor.symlink-at",
        |_store, (_fd, _target, _link): (Resource<Descriptor>, String, String)| {
            Ok((Err::<(), _>(ErrorCode::NotPermitted),))
        },
    )?;
    types.func_wrap(
        "[method]descriptor.link-at",
        |_store,
         _: (
            Resource<Descriptor>,
            PathFlags,
            String,
            Resource<Descriptor>,
            String,
        )| { Ok((Err::<(), _>(ErrorCode::NotPermitted),)) },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_charged_against_what_the_folder_holds_at_each_call() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("store.yaml"), vec![b'x'; 6000]).unwrap();
        let quota = Quota::new(dir.path().to_path_buf(), 10_000);
        quota.new_call();
        assert!(quota.charge(3000));
        assert!(!quota.charge(1001));
        assert_eq!(quota.hit(), Some((dir.path().to_path_buf(), 10_000)));
        // A new call: measured again, and the refusal forgotten.
        quota.new_call();
        assert_eq!(quota.hit(), None);
        assert!(quota.charge(4000));
        // An empty file costs a block.
        std::fs::write(dir.path().join("empty"), b"").unwrap();
        quota.new_call();
        assert!(!quota.charge(1));
        assert!(Quota::default().charge(u64::MAX));
    }
}
