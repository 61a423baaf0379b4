//! The guest's resource limits: memory, tables and instances through the library's
//! [`wasirun::Limits`] (wasmtime's `StoreLimits`), time through a watchdog thread (`--timeout`) and fuel (`--fuel`).
//!
//! A timeout is one thread, the [`Watchdog`]: it sleeps until the deadline, then stops the
//! guest through the Unix system's [`StopHandle`], as [`signals`] does for SIGINT, SIGTERM and
//! SIGHUP. The handle wakes a guest blocked in a host call (`poll_oneoff`, a read, an accept)
//! and makes that call, and any later one, trap; the guest unwinds and its store is dropped,
//! and with it the system: host descriptors closed, stdio flags put back. wasirun then reports
//! why it stopped the guest ([`Stopper::failure`]).
//!
//! A guest running its own code makes no host call to trap in, and its code has no epoch
//! checks: they would cost it up to 15% on compute (`cargo bench --bench limits`) for every
//! run, timed out or not. Such a guest is ended with the process, [`GRACE`] after the stop
//! ([`Stopper::last_resort`]), as is one in a call nothing wakes (a name lookup in the system
//! resolver): wasirun puts the parent's stdio file status flags back as they were when it
//! started, says its [`Farewell`] (the `--trace-summary` table), and exits with the same message
//! and status as an unwound guest. Nothing is lost that an unwound guest would have kept: the
//! guest's output and the trace are written unbuffered, and the kernel closes the host
//! descriptors. Embedders, who cannot end their process, get epoch checks instead
//! ([`StopHandle::arm`]).

pub mod signals;

use crate::status::{Failure, Status};
use rustix::fd::BorrowedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;
use wasirun_unix::StopHandle;

/// How long a stopped guest may take to unwind before wasirun ends the process itself.
pub const GRACE: Duration = Duration::from_millis(50);

/// A size in bytes: digits with an optional `K`, `M`, `G` or `T` suffix (powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let (digits, shift) = match s.as_bytes().last().map(u8::to_ascii_uppercase) {
        Some(b'K') => (&s[..s.len() - 1], 10),
        Some(b'M') => (&s[..s.len() - 1], 20),
        Some(b'G') => (&s[..s.len() - 1], 30),
        Some(b'T') => (&s[..s.len() - 1], 40),
        _ => (s, 0),
    };
    let bad = || format!("{s:?} is not a size (bytes, or a number with K, M, G or T)");
    let n: u64 = digits.parse().map_err(|_| bad())?;
    n.checked_mul(1 << shift).ok_or_else(bad)
}

/// A duration: a number with `ms`, `s`, `m` or `h` (`500ms`, `30s`, `2m`); a bare number is
/// seconds. Zero is refused: it would stop every guest before its first instruction.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration (500ms, 30s, 2m, 1h)");
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.checked_mul(60).ok_or_else(bad)?),
        "h" => Duration::from_secs(n.checked_mul(3600).ok_or_else(bad)?),
        _ => return Err(bad()),
    };
    if d.is_zero() {
        return Err(format!("{s:?}: a timeout must be more than zero"));
    }
    Ok(d)
}

/// `Duration`'s form for messages: `500ms`, `30s`.
pub fn show_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// The failure a timeout ends the guest with.
pub fn timed_out(timeout: Duration) -> Failure {
    Failure::new(
        Status::Timeout,
        format!("the guest ran past --timeout {}", show_duration(timeout)),
    )
}

/// The failure fuel exhaustion ends the guest with.
pub fn out_of_fuel(fuel: u64) -> Failure {
    Failure::new(
        Status::OutOfFuel,
        format!("the guest used all its fuel (--fuel {fuel})"),
    )
}

/// Why wasirun stopped the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// It ran past `--timeout`.
    Timeout(Duration),
    /// wasirun got this signal (SIGINT, SIGTERM or SIGHUP).
    Signal(i32),
}

/// Whoever ends the process first: the guest's thread once the guest has unwound, or a
/// [`Stopper::last_resort`].
static EXITING: AtomicBool = AtomicBool::new(false);

/// Claims the process's exit: `false` when another thread has already, and will exit.
pub fn claim_exit() -> bool {
    !EXITING.swap(true, Ordering::SeqCst)
}

/// What wasirun says once, after the guest and before the process ends, whichever thread ends
/// it: the guest's thread after the run, or a [last resort](Stopper::last_resort). Each part
/// is told how the run ended (the `--trace-summary` table ignores it, a recording logs it).
#[derive(Clone, Default)]
pub struct Farewell(Arc<Mutex<Parts>>);

/// A [`Farewell`]'s parts, in the order they were added, until it is said.
#[derive(Default)]
struct Parts {
    said: bool,
    parts: Vec<Say>,
}

/// One part of a [`Farewell`].
type Say = Box<dyn FnOnce(&Result<i32, Failure>) + Send>;

impl Farewell {
    /// Adds `say`, said after the parts added before it.
    pub fn add(&self, say: impl FnOnce(&Result<i32, Failure>) + Send + 'static) {
        self.lock().parts.push(Box::new(say));
    }

    /// Says every part, told that the run `ended` so, unless it was said already (a second
    /// caller waits for the first to finish).
    pub fn say(&self, ended: &Result<i32, Failure>) {
        let mut parts = self.lock();
        if std::mem::replace(&mut parts.said, true) {
            return;
        }
        for say in std::mem::take(&mut parts.parts) {
            say(ended);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Parts> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// This run's way to stop the guest: the system's handle, the first reason it was used for,
/// and what a last resort puts back and says.
#[derive(Clone)]
pub struct Stopper {
    handle: StopHandle,
    reason: Arc<OnceLock<Reason>>,
    stdio: StdioFlags,
    farewell: Farewell,
}

impl Stopper {
    /// A stopper for the guest `handle` stops; a last resort puts `stdio` back and says
    /// `farewell`.
    pub fn new(handle: StopHandle, stdio: StdioFlags, farewell: Farewell) -> Self {
        Stopper {
            handle,
            reason: Arc::new(OnceLock::new()),
            stdio,
            farewell,
        }
    }

    /// Stops the guest for `reason` (the first reason given is the one reported).
    pub fn stop(&self, reason: Reason) {
        let _ = self.reason.set(reason);
        self.handle.stop();
    }

    /// Why the guest was stopped, if it was.
    pub fn reason(&self) -> Option<Reason> {
        self.reason.get().copied()
    }

    /// The failure a stop for `reason` ends the run with.
    pub fn failure(reason: Reason) -> Failure {
        match reason {
            Reason::Timeout(timeout) => timed_out(timeout),
            Reason::Signal(sig) => Failure::new(
                Status::Signal(sig),
                format!("the guest was stopped by {}", signal_name(sig)),
            ),
        }
    }

    /// After a stop the guest has not unwound from: puts the parent's stdio flags back, says
    /// the farewell, reports the stop and exits, unless the guest's thread is exiting already.
    pub fn last_resort(&self) {
        let Some(reason) = self.reason() else { return };
        if !claim_exit() {
            return;
        }
        self.stdio.restore();
        let failure = Self::failure(reason);
        self.farewell.say(&Err(failure.clone()));
        eprintln!("{failure}");
        std::process::exit(failure.status.code());
    }
}

/// A signal's name for messages.
fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        _ => "a signal",
    }
}

/// The parent's stdio file status flags (`O_NONBLOCK`, `O_APPEND`) as wasirun found them.
#[derive(Clone, Copy, Debug)]
pub struct StdioFlags([Option<rustix::fs::OFlags>; 3]);

impl StdioFlags {
    /// The flags of fds 0, 1 and 2 now (`None` for one that is closed).
    pub fn save() -> Self {
        StdioFlags([0, 1, 2].map(|fd| {
            // SAFETY: fds 0-2 are only borrowed for the call; a closed one is EBADF.
            let fd = unsafe { BorrowedFd::borrow_raw(fd) };
            rustix::fs::fcntl_getfl(fd).ok()
        }))
    }

    /// Puts the saved flags back.
    pub fn restore(&self) {
        for (fd, flags) in self.0.iter().enumerate() {
            if let Some(flags) = flags {
                // SAFETY: as in `save`; fd is 0, 1 or 2.
                let fd = unsafe { BorrowedFd::borrow_raw(fd as i32) };
                let _ = rustix::fs::fcntl_setfl(fd, *flags);
            }
        }
    }
}

/// The `--timeout` thread; dropping it (the guest finished) stops it.
pub struct Watchdog {
    done: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Starts the thread: `timeout` from now it stops the guest, and [`GRACE`] later, if the
    /// guest has not unwound, it takes the [last resort](Stopper::last_resort).
    pub fn start(stopper: &Stopper, timeout: Duration) -> std::io::Result<Self> {
        let (done, wait) = mpsc::channel::<()>();
        let stopper = stopper.clone();
        let thread = std::thread::Builder::new()
            .name("wasirun-timeout".into())
            .spawn(move || {
                if wait.recv_timeout(timeout) != Err(RecvTimeoutError::Timeout) {
                    return;
                }
                stopper.stop(Reason::Timeout(timeout));
                if wait.recv_timeout(GRACE) != Err(RecvTimeoutError::Timeout) {
                    return;
                }
                stopper.last_resort();
            })?;
        Ok(Watchdog {
            done: Some(done),
            thread: Some(thread),
        })
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.done.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("x").is_err());
        assert!(parse_size("99999999999T").is_err());
    }

    #[test]
    fn a_farewell_is_said_once_whoever_says_it() {
        let said = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = Arc::clone(&said);
        let farewell = Farewell::default();
        farewell.add(move |ended| {
            assert_eq!(ended.as_ref().ok(), Some(&3));
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let other = farewell.clone();
        std::thread::spawn(move || other.say(&Ok(3)))
            .join()
            .unwrap();
        farewell.say(&Ok(4));
        assert_eq!(said.load(Ordering::SeqCst), 1);
        Farewell::default().say(&Ok(0));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("1d").is_err());
        assert_eq!(show_duration(Duration::from_millis(500)), "500ms");
        assert_eq!(show_duration(Duration::from_secs(2)), "2s");
    }
}
