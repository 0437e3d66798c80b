//! A flavor's stdout or stderr: kept in memory, up to a cap.
//!
//! Like wasmtime-wasi's `MemoryOutputPipe`, but it remembers that the cap
//! was hit, so the host can report the output limit by name rather than
//! whatever the guest made of its failed write.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// Captured output with a cap; clones share the buffer.
#[derive(Clone)]
pub struct CappedOutput {
    buffer: Arc<Mutex<Vec<u8>>>,
    cap: usize,
    overflowed: Arc<AtomicBool>,
}

impl CappedOutput {
    /// An empty buffer that takes at most `cap` bytes.
    pub fn new(cap: usize) -> CappedOutput {
        CappedOutput {
            buffer: Arc::default(),
            cap,
            overflowed: Arc::default(),
        }
    }

    /// What was written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.buffer.lock().unwrap().clone()
    }

    /// Whether a write was refused because the cap was reached.
    pub fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Relaxed)
    }

    /// Takes as much of `bytes` as fits; the rest marks the overflow.
    fn take(&self, bytes: &[u8]) -> usize {
        let mut buffer = self.buffer.lock().unwrap();
        let fits = bytes.len().min(self.cap - buffer.len());
        buffer.extend_from_slice(&bytes[..fits]);
        if fits < bytes.len() {
            self.overflowed.store(true, Ordering::Relaxed);
        }
        fits
    }
}

#[async_trait::async_trait]
impl OutputStream for CappedOutput {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        if self.take(&bytes) < bytes.len() {
            return Err(StreamError::Trap(wasmtime::format_err!(
                "output limit reached"
            )));
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        let used = self.buffer.lock().unwrap().len();
        if used < self.cap {
            Ok(self.cap - used)
        } else {
            // Full: no write will ever succeed again.
            self.overflowed.store(true, Ordering::Relaxed);
            Err(StreamError::Closed)
        }
    }
}

#[async_trait::async_trait]
impl Pollable for CappedOutput {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for CappedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.take(buf) {
            0 if !buf.is_empty() => Poll::Ready(Err(io::ErrorKind::StorageFull.into())),
            taken => Poll::Ready(Ok(taken)),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for CappedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}
