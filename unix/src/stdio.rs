//! The guest's stdin, stdout and stderr: [`Stdio`], what each is made of, and the threads that
//! pump in-memory streams.
//!
//! Whatever the embedder hands in, the guest gets a host descriptor: the host's own stream, a
//! file, a pipe or socket end, `/dev/null`, or, for any [`Read`] or [`Write`], one end of a
//! pipe whose other end a host thread (a pump) copies from the reader or into the writer. So
//! every stream is a descriptor `poll(2)` waits on: `poll_oneoff`, `O_NONBLOCK`
//! (`fd_fdstat_set_flags`), `EAGAIN` and a stop's wake-up work on in-memory stdio exactly as on a
//! terminal or a pipe, and a guest call never waits on the embedder's reader or writer, only
//! on the pipe. A call costs what it costs on any pipe, with no allocation; the pump copies
//! through a 16 KiB buffer on its own stack.
//!
//! An output pump ends when the guest's end closes, which is when the system is dropped (the
//! fd table owns the only copy of it): the system's drop waits for its output pumps, so once
//! the system is gone (once the `wasirun` crate's `Command::run` has returned, for instance)
//! everything the guest wrote is in the writer. An input pump ends at the reader's
//! end of file or error (the guest then reads end of file), or at its first write after the
//! system dropped the guest's end; the drop does not wait for it, since the reader may block for
//! ever. Pumps block `SIGPIPE` on their own thread, so such a write is `EPIPE`, never a signal.

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{Mode, OFlags};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// One of the guest's standard streams, for [`Builder::stdin`](crate::Builder::stdin),
/// [`stdout`](crate::Builder::stdout) and [`stderr`](crate::Builder::stderr).
///
/// ```
/// use wasirun_unix::{Builder, Capture, Stdio};
///
/// let out = Capture::new();
/// let (reader, writer) = std::io::pipe()?;
/// let system = Builder::new()
///     .stdin(Stdio::bytes("input the guest reads\n"))
///     .stdout(Stdio::writer(out.clone()))
///     .stderr(Stdio::fd(writer))
///     .build()?;
/// // `reader` gets what the guest writes to stderr, `out` what it writes to stdout.
/// # drop((system, reader));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Stdio(Kind);

enum Kind {
    Inherit,
    Null,
    Fd(OwnedFd),
    Reader(Arc<Mutex<dyn Read + Send>>),
    Writer(Arc<Mutex<dyn Write + Send>>),
}

impl Stdio {
    /// The host process's own stream (the default): a duplicate of its fd 0, 1 or 2, whose
    /// file status flags (`O_NONBLOCK`, `O_APPEND`) are put back as they were when the system is
    /// dropped, since the host shares them. A host stream that is closed reads as `/dev/null`.
    pub fn inherit() -> Self {
        Stdio(Kind::Inherit)
    }

    /// `/dev/null`: reads see end of file, writes are discarded.
    pub fn null() -> Self {
        Stdio(Kind::Null)
    }

    /// Any descriptor: a `std::fs::File`, one end of a `std::io::pipe()` (a `PipeReader` for
    /// stdin, a `PipeWriter` for stdout or stderr), a `TcpStream`, a `UnixStream`, an
    /// `OwnedFd`. The guest gets a duplicate of it for each system built; its file status flags
    /// are put back on drop, as for [`inherit`](Self::inherit).
    pub fn fd(fd: impl Into<OwnedFd>) -> Self {
        Stdio(Kind::Fd(fd.into()))
    }

    /// A stdin that reads `reader` to its end: the guest reads a pipe that a host thread fills
    /// (see the module docs).
    pub fn reader(reader: impl Read + Send + 'static) -> Self {
        Stdio(Kind::Reader(Arc::new(Mutex::new(reader))))
    }

    /// A stdin of these bytes, then end of file.
    pub fn bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self::reader(std::io::Cursor::new(bytes.into()))
    }

    /// A stdout or stderr into `writer`: the guest writes a pipe that a host thread empties
    /// into it. Once the system is dropped, all the guest wrote is in `writer`. Should
    /// `writer` fail, the rest of the output is read and discarded, so the guest never sees
    /// the failure. [`Capture`] keeps it in memory.
    pub fn writer(writer: impl Write + Send + 'static) -> Self {
        Stdio(Kind::Writer(Arc::new(Mutex::new(writer))))
    }
}

impl Default for Stdio {
    fn default() -> Self {
        Stdio::inherit()
    }
}

impl std::fmt::Debug for Stdio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            Kind::Inherit => "Stdio::inherit",
            Kind::Null => "Stdio::null",
            Kind::Fd(_) => "Stdio::fd",
            Kind::Reader(_) => "Stdio::reader",
            Kind::Writer(_) => "Stdio::writer",
        })
    }
}

/// Output kept in memory, for [`Stdio::writer`]: clones share one buffer.
///
/// ```
/// use std::io::Write;
/// use wasirun_unix::Capture;
///
/// let out = Capture::with_limit(5);
/// out.clone().write_all(b"hello, world")?;
/// assert_eq!(out.contents(), b"hello");
/// assert_eq!(out.to_string_lossy(), "hello");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Capture {
    buf: Arc<Mutex<Vec<u8>>>,
    limit: usize,
}

impl Capture {
    /// A capture that keeps everything.
    pub fn new() -> Self {
        Self::with_limit(usize::MAX)
    }

    /// A capture that keeps the first `limit` bytes and discards the rest: a guest cannot
    /// fill the host's memory through it.
    pub fn with_limit(limit: usize) -> Self {
        Capture {
            buf: Arc::default(),
            limit,
        }
    }

    /// What was written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.lock().clone()
    }

    /// What was written so far, as UTF-8 (invalid sequences replaced).
    pub fn to_string_lossy(&self) -> String {
        String::from_utf8_lossy(&self.lock()).into_owned()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        self.buf.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for Capture {
    fn default() -> Self {
        Self::new()
    }
}

impl Write for Capture {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let limit = self.limit;
        let mut buf = self.lock();
        let room = limit.saturating_sub(buf.len()).min(data.len());
        buf.extend_from_slice(&data[..room]);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A guest stream as made for one system.
pub(crate) struct Made {
    /// The guest's descriptor.
    pub fd: OwnedFd,
    /// A descriptor of the host description the guest shares, with the flags to put back.
    pub restore: Option<(OwnedFd, OFlags)>,
    /// The output pump to wait for when the system is dropped.
    pub pump: Option<JoinHandle<()>>,
}

/// Makes stream `n` (0, 1 or 2) of a system from `stdio`.
pub(crate) fn make(n: usize, stdio: &Stdio) -> std::io::Result<Made> {
    let shared = |fd: OwnedFd| -> std::io::Result<Made> {
        let flags = rustix::fs::fcntl_getfl(&fd)?;
        let restore = dup(fd.as_fd())?;
        Ok(Made {
            fd,
            restore: Some((restore, flags)),
            pump: None,
        })
    };
    match &stdio.0 {
        Kind::Inherit => {
            let host = match n {
                0 => rustix::stdio::stdin(),
                1 => rustix::stdio::stdout(),
                _ => rustix::stdio::stderr(),
            };
            shared(dup_stdio(host)?)
        }
        Kind::Fd(fd) => shared(dup(fd.as_fd())?),
        Kind::Null => {
            let access = if n == 0 {
                OFlags::RDONLY
            } else {
                OFlags::WRONLY
            };
            let null = rustix::fs::open("/dev/null", access | OFlags::CLOEXEC, Mode::empty())?;
            Ok(Made {
                fd: dup(null.as_fd())?,
                restore: None,
                pump: None,
            })
        }
        Kind::Reader(reader) => {
            let (guest, pump) = std::io::pipe()?;
            let (guest, pump) = (dup(guest.as_fd())?, dup(pump.as_fd())?);
            let reader = Arc::clone(reader);
            spawn("wasirun-stdin", move || pump_in(reader, pump))?;
            Ok(Made {
                fd: guest,
                restore: None,
                pump: None,
            })
        }
        Kind::Writer(writer) => {
            let (pump, guest) = std::io::pipe()?;
            let (pump, guest) = (dup(pump.as_fd())?, dup(guest.as_fd())?);
            let writer = Arc::clone(writer);
            let name = if n == 1 {
                "wasirun-stdout"
            } else {
                "wasirun-stderr"
            };
            let pump = spawn(name, move || pump_out(pump, writer))?;
            Ok(Made {
                fd: guest,
                restore: None,
                pump: Some(pump),
            })
        }
    }
}

/// The buffer each pump copies through.
const CHUNK: usize = 16 << 10;

/// Copies `reader` into the pipe until either ends.
fn pump_in(reader: Arc<Mutex<dyn Read + Send>>, pipe: OwnedFd) {
    let mut pipe = std::fs::File::from(pipe);
    let mut buf = [0u8; CHUNK];
    loop {
        let read = reader
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .read(&mut buf);
        let n = match read {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        if pipe.write_all(&buf[..n]).is_err() {
            return;
        }
    }
}

/// Copies the pipe into `writer` until the guest's end closes; after a failed write, only
/// reads.
fn pump_out(pipe: OwnedFd, writer: Arc<Mutex<dyn Write + Send>>) {
    let mut pipe = std::fs::File::from(pipe);
    let mut buf = [0u8; CHUNK];
    let mut failed = false;
    loop {
        let n = match pipe.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        if !failed {
            let mut writer = writer.lock().unwrap_or_else(|e| e.into_inner());
            failed = writer
                .write_all(&buf[..n])
                .and_then(|()| writer.flush())
                .is_err();
        }
    }
}

/// Starts a pump thread with `SIGPIPE` blocked, so that a write to a closed pipe is `EPIPE`.
fn spawn(name: &str, pump: impl FnOnce() + Send + 'static) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.into())
        .stack_size(CHUNK + (64 << 10))
        .spawn(move || {
            block_sigpipe();
            pump();
        })
}

fn block_sigpipe() {
    // SAFETY: the set is initialised by sigemptyset before use, and pthread_sigmask only
    // changes this thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// The output pumps of a system: dropping it waits for each to finish. A system declares it
/// after its fd table, so that the guest's ends are closed (and the pumps see end of file)
/// first.
#[derive(Default)]
pub(crate) struct Pumps(pub Vec<JoinHandle<()>>);

impl Drop for Pumps {
    fn drop(&mut self) {
        for pump in self.0.drain(..) {
            let _ = pump.join();
        }
    }
}

/// A descriptor of our own for a host stdio stream, numbered 3 or more so that it never takes
/// the place of a closed 0, 1 or 2: closing it leaves the host's stream alone. A closed host
/// stream becomes `/dev/null`.
fn dup_stdio(host: BorrowedFd<'_>) -> rustix::io::Result<OwnedFd> {
    match dup(host) {
        Err(rustix::io::Errno::BADF) => {
            let null = rustix::fs::open(
                "/dev/null",
                OFlags::RDWR | OFlags::CLOEXEC | OFlags::NOCTTY,
                Mode::empty(),
            )?;
            dup(null.as_fd())
        }
        other => other,
    }
}

/// A duplicate numbered 3 or more (see [`dup_stdio`]), close-on-exec.
pub(crate) fn dup(fd: BorrowedFd<'_>) -> rustix::io::Result<OwnedFd> {
    rustix::io::fcntl_dupfd_cloexec(fd, 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writer_gets_everything_once_the_guest_end_closes() {
        let out = Capture::new();
        let made = make(1, &Stdio::writer(out.clone())).unwrap();
        let data = vec![7u8; 300_000];
        let mut guest = std::fs::File::from(made.fd);
        guest.write_all(&data).unwrap();
        drop(guest);
        drop(Pumps(made.pump.into_iter().collect()));
        assert_eq!(out.contents(), data);
    }

    #[test]
    fn a_reader_ends_in_end_of_file() {
        let made = make(0, &Stdio::bytes("abc")).unwrap();
        let mut read = String::new();
        std::fs::File::from(made.fd)
            .read_to_string(&mut read)
            .unwrap();
        assert_eq!(read, "abc");
    }

    #[test]
    fn an_input_pump_whose_pipe_is_closed_ends_without_a_signal() {
        // A reader that never ends: the pump writes until the pipe is closed, then stops.
        let made = make(0, &Stdio::reader(std::io::repeat(1))).unwrap();
        drop(made.fd);
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
