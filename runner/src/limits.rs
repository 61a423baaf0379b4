//! The guest's resource limits: memory, tables and instances through wasmtime's
//! [`StoreLimits`], time through epoch interruption (`--timeout`) and fuel (`--fuel`).
//!
//! A timeout is one thread, the [`Watchdog`]: it sleeps until the deadline, then bumps the
//! engine's epoch once, which traps the guest at its next loop header or function entry (the
//! store's deadline is one epoch away, so the compiled checks cost a load and a compare, and
//! nothing ticks while the guest runs). A guest blocked in a host call (`poll_oneoff`, a blocking
//! read) sees no epoch: if it has not stopped [`GRACE`] after the deadline, the watchdog ends
//! the process itself with the same message and status, after putting the parent's stdio file
//! status flags back as they were when wasirun started. [`signals`] does the same for SIGINT,
//! SIGTERM and SIGHUP.

pub mod signals;

use crate::status::{Failure, Status};
use rustix::fd::BorrowedFd;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;
use wasmtime::{Engine, StoreLimits, StoreLimitsBuilder};

/// How long a timed-out guest may take to reach an epoch check before the watchdog ends the
/// process (a guest blocked in a host call never reaches one).
pub const GRACE: Duration = Duration::from_millis(50);

/// The limits the command line asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes each linear memory may grow to (`--max-memory`).
    pub max_memory: u64,
    /// Elements each table may grow to (`--max-table-elements`).
    pub max_table_elements: u64,
    /// Instances in the store (`--max-instances`).
    pub max_instances: usize,
    /// Tables in the store (`--max-tables`).
    pub max_tables: usize,
    /// Linear memories in the store (`--max-memories`).
    pub max_memories: usize,
    /// A failed `memory.grow` or `table.grow` traps instead of returning -1.
    pub trap_on_grow_failure: bool,
}

impl Limits {
    /// The wasmtime limiter for a store.
    pub fn store_limits(&self) -> StoreLimits {
        StoreLimitsBuilder::new()
            .memory_size(usize::try_from(self.max_memory).unwrap_or(usize::MAX))
            .table_elements(usize::try_from(self.max_table_elements).unwrap_or(usize::MAX))
            .instances(self.max_instances)
            .tables(self.max_tables)
            .memories(self.max_memories)
            .trap_on_grow_failure(self.trap_on_grow_failure)
            .build()
    }
}

/// Whether `err`, from instantiating, says a limit refused the module's initial memory or
/// table, or its count of instances, tables or memories.
pub fn is_limit_error(err: &wasmtime::Error) -> bool {
    err.chain().any(|e| {
        let e = e.to_string();
        e.contains("exceeds memory limits")
            || e.contains("exceeds table limits")
            || e.starts_with("resource limit exceeded")
    })
}

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
    /// Starts the thread: `timeout` from now it bumps `engine`'s epoch, and [`GRACE`] later,
    /// if the guest still runs, it restores `stdio`, reports [`timed_out`] and exits.
    pub fn start(engine: &Engine, timeout: Duration, stdio: StdioFlags) -> std::io::Result<Self> {
        let (done, wait) = mpsc::channel::<()>();
        let engine = engine.clone();
        let thread = std::thread::Builder::new()
            .name("wasirun-timeout".into())
            .spawn(move || {
                if wait.recv_timeout(timeout) != Err(RecvTimeoutError::Timeout) {
                    return;
                }
                engine.increment_epoch();
                if wait.recv_timeout(GRACE) != Err(RecvTimeoutError::Timeout) {
                    return;
                }
                stdio.restore();
                let failure = timed_out(timeout);
                eprintln!("{failure}");
                std::process::exit(failure.status.code());
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
