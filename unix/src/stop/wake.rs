//! The descriptor a stop makes readable, for every blocking wait to watch beside its own: an
//! eventfd on Linux (one descriptor), a pipe elsewhere. It is never read: once signalled it
//! stays readable, so a wait that starts after the stop returns at once too.

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};

/// The wake descriptor.
pub(crate) struct Wake {
    /// What waits poll for `POLLIN`.
    read: OwnedFd,
    /// What [`Wake::signal`] writes to: the eventfd itself, or the pipe's write end.
    #[cfg(not(target_os = "linux"))]
    write: OwnedFd,
}

impl Wake {
    /// A new, unsignalled descriptor, close-on-exec and non-blocking (a signal never blocks).
    #[cfg(target_os = "linux")]
    pub fn new() -> rustix::io::Result<Wake> {
        use rustix::event::{EventfdFlags, eventfd};
        let read = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        Ok(Wake { read })
    }

    /// A new, unsignalled descriptor, close-on-exec and non-blocking (a signal never blocks).
    #[cfg(not(target_os = "linux"))]
    pub fn new() -> rustix::io::Result<Wake> {
        use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
        use rustix::io::{FdFlags, fcntl_setfd};
        let (read, write) = rustix::pipe::pipe()?;
        for fd in [&read, &write] {
            fcntl_setfd(fd, FdFlags::CLOEXEC)?;
            fcntl_setfl(fd, fcntl_getfl(fd)? | OFlags::NONBLOCK)?;
        }
        Ok(Wake { read, write })
    }

    /// The descriptor to poll for `POLLIN`.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }

    /// Makes the descriptor readable, for good. Async-signal-safe: one `write(2)`.
    pub fn signal(&self) {
        #[cfg(target_os = "linux")]
        let (fd, bytes) = (&self.read, 1u64.to_ne_bytes());
        #[cfg(not(target_os = "linux"))]
        let (fd, bytes) = (&self.write, [1u8]);
        // A full eventfd counter or pipe (EAGAIN) is readable already.
        let _ = rustix::io::retry_on_intr(|| rustix::io::write(fd, &bytes));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::event::{PollFd, PollFlags, poll};
    use rustix::time::Timespec;

    fn readable(wake: &Wake) -> bool {
        let mut fds = [PollFd::from_borrowed_fd(wake.fd(), PollFlags::IN)];
        let zero = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        poll(&mut fds, Some(&zero)).unwrap() == 1
    }

    #[test]
    fn readable_once_signalled_and_for_good() {
        let wake = Wake::new().unwrap();
        assert!(!readable(&wake));
        wake.signal();
        assert!(readable(&wake));
        wake.signal();
        assert!(readable(&wake));
    }
}
