//! A guest polling again for readiness it ignored: `poll_oneoff` holds the answer back.
//!
//! `poll_oneoff` is level-triggered, as `poll(2)` is: a socket that can take more bytes is
//! writable at every call. An event loop that keeps write interest on every connection (mio,
//! under tokio, registers each socket for reading and writing and subscribes to both at every
//! turn) is told "writable" at once each time, ignores it, and polls again: a busy loop that
//! takes a core while the guest waits for input, and on a loaded machine takes it from the
//! threads that would send that input.
//!
//! A single-threaded guest that made no call on any descriptor since the last `poll_oneoff`
//! answered it did not act on that answer. Told the same again at once, it would only spin.
//! So such a call first looks for what is ready now. If something ready was not in the last
//! answer, that is news, and the call answers at once. If everything ready was (and the kernel
//! says some watched descriptor is), it waits for something else (another descriptor, a
//! deadline of the guest's, a stop) for at most
//! [`Builder::spin_wait`](crate::Builder::spin_wait) (1 ms unless set), and then answers
//! with everything ready by then, the ignored readiness included. The last answer's descriptor
//! events are remembered up to [`TOLD`]; after an answer with more, the next call is not held.

use wasirun_wasi::{Errno, Eventtype, Fd, Size, Timestamp};

/// How many descriptor events of an answer are remembered.
pub(crate) const TOLD: usize = 8;

/// The descriptor events of one answer, up to [`TOLD`] of them.
#[derive(Clone, Copy)]
pub(crate) struct Told {
    pairs: [(Fd, Eventtype); TOLD],
    /// How many pairs are in use; `TOLD + 1` when the answer had more than `TOLD`.
    len: usize,
}

impl Told {
    /// None yet.
    pub(crate) fn new() -> Self {
        Told {
            pairs: [(Fd(0), Eventtype::Clock); TOLD],
            len: 0,
        }
    }

    /// One more: `fd` was told ready for `what` (`FdRead` or `FdWrite`).
    pub(crate) fn push(&mut self, fd: Fd, what: Eventtype) {
        match self.pairs.get_mut(self.len) {
            Some(pair) => *pair = (fd, what),
            None => self.len = TOLD,
        }
        self.len += 1;
    }

    /// Whether `fd` was told ready for `what`.
    pub(crate) fn contains(&self, fd: Fd, what: Eventtype) -> bool {
        self.pairs[..self.len.min(TOLD)].contains(&(fd, what))
    }

    /// Whether every descriptor event of the answer is here.
    fn complete(&self) -> bool {
        self.len <= TOLD
    }
}

/// What `poll_oneoff` remembers between calls.
pub(crate) struct Repeats {
    /// The longest hold, in nanoseconds; 0 never holds.
    wait: Timestamp,
    /// The table's touch count ([`crate::table::Table::touches`]) when the last call returned
    /// events; `None` when it returned none, failed, told more than [`TOLD`] descriptor
    /// events, or none was made.
    answered_at: Option<u64>,
    /// The last answer's descriptor events.
    told: Told,
}

impl Repeats {
    /// Holding for at most `wait` nanoseconds (0: never).
    pub(crate) fn new(wait: Timestamp) -> Self {
        Repeats {
            wait,
            answered_at: None,
            told: Told::new(),
        }
    }

    /// At the start of a call, with the table's touch count: how long the call may hold back
    /// readiness the guest ignored last time, and what that readiness was; `None` when it may
    /// not (the guest touched a descriptor since, or the last call answered nothing).
    pub(crate) fn hold(&self, touches: u64) -> Option<(Timestamp, &Told)> {
        (self.wait > 0 && self.answered_at == Some(touches)).then_some((self.wait, &self.told))
    }

    /// At the end of a call, with what it returned, its descriptor events and the table's
    /// touch count then.
    pub(crate) fn answered(&mut self, result: &Result<Size, Errno>, told: Told, touches: u64) {
        let events = matches!(result, Ok(n) if *n > 0);
        self.answered_at = (events && told.complete()).then_some(touches);
        self.told = told;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(fd: u32, what: Eventtype) -> Told {
        let mut told = Told::new();
        told.push(Fd(fd), what);
        told
    }

    #[test]
    fn holds_only_after_events_and_no_touch() {
        let mut r = Repeats::new(1_000_000);
        assert!(r.hold(0).is_none(), "nothing answered yet");
        r.answered(&Ok(1), one(3, Eventtype::FdWrite), 7);
        let (wait, told) = r.hold(7).unwrap();
        assert_eq!(wait, 1_000_000);
        assert!(told.contains(Fd(3), Eventtype::FdWrite));
        assert!(!told.contains(Fd(3), Eventtype::FdRead));
        assert!(!told.contains(Fd(4), Eventtype::FdWrite));
        assert!(r.hold(8).is_none(), "a descriptor was touched since");
        r.answered(&Ok(0), Told::new(), 7);
        assert!(r.hold(7).is_none(), "the last call timed out");
        r.answered(&Err(Errno::Intr), Told::new(), 7);
        assert!(r.hold(7).is_none(), "the last call failed");
    }

    #[test]
    fn an_answer_with_more_than_told_is_not_held() {
        let mut r = Repeats::new(1_000_000);
        let mut told = Told::new();
        for fd in 0..TOLD as u32 {
            told.push(Fd(fd), Eventtype::FdRead);
        }
        r.answered(&Ok(TOLD as Size), told, 7);
        assert!(r.hold(7).is_some());
        told.push(Fd(99), Eventtype::FdRead);
        told.push(Fd(100), Eventtype::FdRead);
        r.answered(&Ok(TOLD as Size + 2), told, 7);
        assert!(r.hold(7).is_none());
    }

    #[test]
    fn zero_never_holds() {
        let mut r = Repeats::new(0);
        r.answered(&Ok(1), one(3, Eventtype::FdWrite), 7);
        assert!(r.hold(7).is_none());
    }
}
