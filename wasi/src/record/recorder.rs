//! [`Recorder`]: the system wrapper that writes every call into a log. Its per-function code is
//! generated (`generated/<package>/record.rs`); this is what that code calls.

use super::format::{Call, Header, LogError, MAGIC, write_frame};
use super::value::{Args, Logged};
use crate::abi::GuestValue;
use crate::preview1::types::Errno;
use std::io::{self, IoSliceMut, Write};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// A block is written once it holds this many bytes (and at the end, and before the guest
/// exits): large enough that the frames cost nothing, small enough that a guest killed without
/// a chance to flush loses little.
pub const BLOCK_SIZE: usize = 64 * 1024;

/// A system that passes every call to the system it wraps and appends it to a log: the
/// function, its arguments (scalars, paths, the sizes of the buffers the guest handed out, the
/// bytes it wrote as their length and CRC-32) and everything it got back (the errno or the
/// results, and every byte written into its buffers). A [`Replayer`](super::Replayer) reading
/// the log answers the same guest the same way, without the host.
///
/// Writing the log never fails a guest's call: the first error is kept, nothing more is
/// written, and [`Recorder::finish`] returns it.
///
/// How the run ended (its exit status, and why when it was stopped) is the log's last entry,
/// written through an [`Ending`], which may come from another thread while the guest still
/// runs (a host ending a guest that does not unwind in time).
///
/// ```
/// use wasirun_wasi::record::{Header, Recorder};
/// use wasirun_wasi::{Errno, Nosys, System, SystemDelegate};
///
/// struct Clock;
/// impl SystemDelegate for Clock {
///     fn delegate(&mut self) -> impl System {
///         Nosys
///     }
///     fn clock_time_get(
///         &mut self,
///         _: wasirun_wasi::Clockid,
///         _: wasirun_wasi::Timestamp,
///     ) -> Result<wasirun_wasi::Timestamp, Errno> {
///         Ok(42)
///     }
/// }
///
/// let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
/// let header = Header::new("app.wasm", b"\0asm\x01\0\0\0");
/// let mut recorder = Recorder::new(Clock, SharedVec(log.clone()), header)?;
/// let system: &mut dyn System = &mut recorder;
/// assert_eq!(system.clock_time_get(wasirun_wasi::Clockid::Monotonic, 1), Ok(42));
/// recorder.finish()?;
/// assert!(log.lock().unwrap().starts_with(b"WASIRUN\n"));
///
/// # struct SharedVec(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
/// # impl std::io::Write for SharedVec {
/// #     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().write(b) }
/// #     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
/// # }
/// # Ok::<(), wasirun_wasi::record::LogError>(())
/// ```
pub struct Recorder<S> {
    inner: S,
    log: Log,
    shared: SharedLog,
}

/// The recorder's own buffers, used on the guest's thread only.
struct Log {
    full_writes: bool,
    args: Vec<u8>,
    ok: Vec<u8>,
    outputs: Vec<u8>,
    calls: u64,
}

/// The log's writer and the block being filled, shared with the [`Ending`]s.
struct Shared {
    out: Box<dyn Write + Send>,
    block: Vec<u8>,
    error: Option<io::Error>,
    ended: bool,
}

impl Shared {
    fn flush(&mut self) {
        if self.error.is_none() && !self.block.is_empty() {
            let written = write_frame(&mut self.out, &self.block).and_then(|()| self.out.flush());
            self.error = written.err();
        }
        self.block.clear();
    }
}

/// The recorder's hold on the shared log: dropping it writes what is left.
struct SharedLog(Arc<Mutex<Shared>>);

impl SharedLog {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        lock(&self.0)
    }
}

/// The shared log, locked: a thread that panicked holding the lock left whole blocks, so
/// writing goes on.
fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Drop for SharedLog {
    fn drop(&mut self) {
        self.lock().flush();
    }
}

/// Writes how the recorded run ended as the log's last entry, from any thread: the exit
/// status, and the message a stopped or failed run ended with. Nothing is logged after it.
#[derive(Clone)]
pub struct Ending(Arc<Mutex<Shared>>);

impl Ending {
    /// Ends the log: `status` and `message` (empty for a guest's own exit), written and
    /// flushed at once; what the recorder had not written yet goes first. A second ending is
    /// ignored.
    pub fn end(&self, status: i32, message: &str) {
        let mut shared = lock(&self.0);
        if shared.ended {
            return;
        }
        let call = Call {
            function: super::END,
            args: &[],
            errno: 0,
            ok: &status.to_le_bytes(),
            out: message.as_bytes(),
        };
        // Encoding into a Vec cannot fail.
        let _ = postcard::to_io(&call, &mut shared.block);
        shared.flush();
        shared.ended = true;
    }
}

impl<S> Recorder<S> {
    /// Wraps `inner`, writing the log to `log`, which starts with `header` (written at once).
    pub fn new(
        inner: S,
        log: impl Write + Send + 'static,
        header: Header,
    ) -> Result<Self, LogError> {
        let mut out: Box<dyn Write + Send> = Box::new(log);
        out.write_all(MAGIC)?;
        let bytes = postcard::to_allocvec(&header).map_err(io::Error::other)?;
        write_frame(&mut out, &bytes)?;
        Ok(Recorder {
            inner,
            log: Log {
                full_writes: header.full_writes,
                args: Vec::with_capacity(256),
                ok: Vec::with_capacity(64),
                outputs: Vec::with_capacity(256),
                calls: 0,
            },
            shared: SharedLog(Arc::new(Mutex::new(Shared {
                out,
                block: Vec::with_capacity(BLOCK_SIZE + 1024),
                error: None,
                ended: false,
            }))),
        })
    }

    /// A handle that writes how the run ended (see [`Ending`]).
    pub fn ending(&self) -> Ending {
        Ending(Arc::clone(&self.shared.0))
    }

    /// The wrapped system.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The wrapped system, mutable.
    pub fn inner_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// How many calls the log holds so far.
    pub fn calls(&self) -> u64 {
        self.log.calls
    }

    /// Writes what is left of the log and flushes it, and unwraps the system; the first error
    /// writing the log, if any. Dropping a recorder writes what is left too, without a word on
    /// failure.
    pub fn finish(self) -> Result<S, LogError> {
        let Recorder { inner, shared, .. } = self;
        let mut log = shared.lock();
        log.flush();
        match log.error.take() {
            Some(e) => Err(e.into()),
            None => Ok(inner),
        }
    }

    /// Writes the block and flushes the log (generated code calls this before the guest
    /// exits).
    #[doc(hidden)]
    pub fn flush(&mut self) {
        self.shared.lock().flush();
    }

    /// Starts encoding the arguments of a call (generated code calls this).
    #[doc(hidden)]
    pub fn args(&mut self, function: &'static str, names: &'static [&'static str]) -> Args {
        let mut buf = std::mem::take(&mut self.log.args);
        buf.clear();
        Args {
            function,
            names,
            buf,
            full_writes: self.log.full_writes,
        }
    }

    /// Starts encoding what a call wrote into guest buffers (generated code calls this).
    #[doc(hidden)]
    pub fn outputs(&mut self) -> Outputs {
        let mut buf = std::mem::take(&mut self.log.outputs);
        buf.clear();
        Outputs { buf }
    }

    /// Logs that the wrapped system asked to stop the guest, when `stop` (generated code calls
    /// this from `stop_requested`), and returns `stop`.
    #[doc(hidden)]
    pub fn record_stop(&mut self, stop: bool) -> bool {
        if stop {
            let args = self.args(super::STOP, &[]);
            let outputs = self.outputs();
            self.commit(args, &Ok::<(), Errno>(()), outputs);
            self.flush();
        }
        stop
    }

    /// Appends a call (generated code calls this).
    #[doc(hidden)]
    pub fn commit<T: Logged>(&mut self, args: Args, result: &Result<T, Errno>, outputs: Outputs) {
        let log = &mut self.log;
        log.ok.clear();
        let errno = match result {
            Ok(v) => {
                v.log(&mut log.ok);
                0
            }
            Err(e) => *e as u16,
        };
        let call = Call {
            function: args.function,
            args: &args.buf,
            errno,
            ok: &log.ok,
            out: &outputs.buf,
        };
        let mut shared = self.shared.lock();
        if !shared.ended {
            // Encoding into a Vec cannot fail.
            let _ = postcard::to_io(&call, &mut shared.block);
            log.calls += 1;
            if shared.block.len() >= BLOCK_SIZE {
                shared.flush();
            }
        }
        drop(shared);
        log.args = args.buf;
        log.outputs = outputs.buf;
    }
}

/// What one call wrote into guest buffers, one byte string per output parameter (generated
/// code fills it).
#[doc(hidden)]
pub struct Outputs {
    buf: Vec<u8>,
}

impl Outputs {
    fn len(&mut self, len: usize) {
        // A byte string's length, as postcard writes it before the bytes.
        let _ = postcard::to_io(&len, &mut self.buf);
    }

    /// The first `limit` bytes across `iovs`.
    pub fn iovecs(&mut self, iovs: &[IoSliceMut<'_>], limit: usize) {
        let total = iovs.iter().map(|b| b.len()).sum::<usize>().min(limit);
        self.len(total);
        let mut left = total;
        for b in iovs {
            let n = left.min(b.len());
            self.buf.extend_from_slice(&b[..n]);
            left -= n;
        }
    }

    /// The first `limit` bytes of `buf`.
    pub fn bytes(&mut self, buf: &[u8], limit: usize) {
        let b = &buf[..limit.min(buf.len())];
        self.len(b.len());
        self.buf.extend_from_slice(b);
    }

    /// The first `limit` records, in their witx layout.
    pub fn records<T: GuestValue>(&mut self, records: &[T], limit: usize) {
        self.values(records, limit);
    }

    /// The first `limit` values.
    pub fn values<T: Logged>(&mut self, values: &[T], limit: usize) {
        let mut bytes = Vec::new();
        values.iter().take(limit).for_each(|v| v.log(&mut bytes));
        self.len(bytes.len());
        self.buf.extend_from_slice(&bytes);
    }
}
