//! The descriptor a stop makes readable, for every blocking wait to watch beside its own: an
//! eventfd on Linux (one descriptor), a pipe elsewhere (macOS and FreeBSD have no eventfd
//! wasirun can count on). It is never read: once signalled it stays readable, so a wait that
//! starts after the stop returns at once too.
//!
//! Both kinds compile everywhere they can, so that the Linux tests exercise the pipe too.

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};

/// The wake descriptor of this platform.
#[cfg(target_os = "linux")]
pub(crate) type Wake = EventWake;

/// The wake descriptor of this platform.
#[cfg(not(target_os = "linux"))]
pub(crate) type Wake = PipeWake;

/// An eventfd (`eventfd(2)`): its counter, once above zero, keeps it readable.
#[cfg(target_os = "linux")]
pub(crate) struct EventWake {
    fd: OwnedFd,
}

#[cfg(target_os = "linux")]
impl EventWake {
    /// A new, unsignalled descriptor, close-on-exec and non-blocking (a signal never blocks).
    pub fn new() -> rustix::io::Result<Self> {
        use rustix::event::{EventfdFlags, eventfd};
        let fd = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        Ok(EventWake { fd })
    }

    /// The descriptor to poll for `POLLIN`.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Makes the descriptor readable, for good. Async-signal-safe: one `write(2)`.
    pub fn signal(&self) {
        // A full counter (EAGAIN) is readable already.
        let _ = rustix::io::retry_on_intr(|| rustix::io::write(&self.fd, &1u64.to_ne_bytes()));
    }
}

/// A pipe: a byte written to it keeps its read end readable.
pub(crate) struct PipeWake {
    /// What waits poll for `POLLIN`.
    read: OwnedFd,
    /// What [`PipeWake::signal`] writes to.
    write: OwnedFd,
}

// Only the platform's kind is used outside the tests.
#[cfg_attr(target_os = "linux", allow(dead_code))]
impl PipeWake {
    /// A new, unsignalled descriptor, close-on-exec and non-blocking (a signal never blocks).
    /// `pipe2(2)` is not on macOS: the flags are set after `pipe(2)`, which is no race here,
    /// as no other thread can exec before the system is built.
    pub fn new() -> rustix::io::Result<Self> {
        use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
        use rustix::io::{FdFlags, fcntl_setfd};
        let (read, write) = rustix::pipe::pipe()?;
        for fd in [&read, &write] {
            fcntl_setfd(fd, FdFlags::CLOEXEC)?;
            fcntl_setfl(fd, fcntl_getfl(fd)? | OFlags::NONBLOCK)?;
        }
        Ok(PipeWake { read, write })
    }

    /// The descriptor to poll for `POLLIN`.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }

    /// Makes the descriptor readable, for good. Async-signal-safe: one `write(2)`.
    pub fn signal(&self) {
        // A full pipe (EAGAIN) is readable already.
        let _ = rustix::io::retry_on_intr(|| rustix::io::write(&self.write, &[1u8]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::event::{PollFd, PollFlags, poll};
    use rustix::time::Timespec;

    fn readable(fd: BorrowedFd<'_>) -> bool {
        let mut fds = [PollFd::from_borrowed_fd(fd, PollFlags::IN)];
        let zero = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        poll(&mut fds, Some(&zero)).unwrap() == 1
    }

    #[test]
    fn readable_once_signalled_and_for_good() {
        let wake = Wake::new().unwrap();
        assert!(!readable(wake.fd()));
        wake.signal();
        assert!(readable(wake.fd()));
        wake.signal();
        assert!(readable(wake.fd()));
    }

    /// The pipe, which Linux does not use: readable once signalled, and a signal into a full
    /// pipe returns at once rather than block.
    #[test]
    fn the_pipe_wakes_and_never_blocks() {
        let wake = PipeWake::new().unwrap();
        assert!(!readable(wake.fd()));
        for _ in 0..100_000 {
            wake.signal();
        }
        assert!(readable(wake.fd()));
        let flags = rustix::io::fcntl_getfd(&wake.write).unwrap();
        assert!(flags.contains(rustix::io::FdFlags::CLOEXEC));
    }
}
