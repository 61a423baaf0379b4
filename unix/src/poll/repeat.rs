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
//! So such a call first looks for what is ready now; if the kernel says a watched descriptor is
//! ready, it waits for something else (another descriptor, a deadline of the guest's, a stop)
//! for at most [`Builder::spin_wait`](crate::Builder::spin_wait) (1 ms unless set), and then
//! answers as any call does, with everything ready by then, the ignored readiness included.
//!
//! Every answer stays true; only when it comes changes. A zero or expired deadline never
//! waits, so a guest asking not to block is answered at once. Regular files, always ready, are
//! not held back. What this costs a guest whose own code waits for time to pass without a
//! clock subscription (reading the clock between polls on a writable socket) is at most the
//! wait per poll. Calls on descriptors of another system stacked over this one (an in-memory
//! file system mounted over it) do not reach this table: such a call between two polls is not
//! seen, and costs at most the wait too.

use wasirun_wasi::{Errno, Size, Timestamp};

/// What `poll_oneoff` remembers between calls.
pub(crate) struct Repeats {
    /// The longest hold, in nanoseconds; 0 never holds.
    wait: Timestamp,
    /// The table's touch count ([`crate::table::Table::touches`]) when the last call returned
    /// events; `None` when it returned none, failed, or none was made.
    answered_at: Option<u64>,
}

impl Repeats {
    /// Holding for at most `wait` nanoseconds (0: never).
    pub(crate) fn new(wait: Timestamp) -> Self {
        Repeats {
            wait,
            answered_at: None,
        }
    }

    /// At the start of a call, with the table's touch count: how long the call may hold back
    /// an answer the guest ignored last time, `None` when it may not (the guest touched a
    /// descriptor since, or the last call answered nothing).
    pub(crate) fn hold(&self, touches: u64) -> Option<Timestamp> {
        (self.wait > 0 && self.answered_at == Some(touches)).then_some(self.wait)
    }

    /// At the end of a call, with what it returned and the table's touch count then.
    pub(crate) fn answered(&mut self, result: &Result<Size, Errno>, touches: u64) {
        self.answered_at = matches!(result, Ok(n) if *n > 0).then_some(touches);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_only_after_events_and_no_touch() {
        let mut r = Repeats::new(1_000_000);
        assert_eq!(r.hold(0), None, "nothing answered yet");
        r.answered(&Ok(1), 7);
        assert_eq!(r.hold(7), Some(1_000_000));
        assert_eq!(r.hold(8), None, "a descriptor was touched since");
        r.answered(&Ok(0), 7);
        assert_eq!(r.hold(7), None, "the last call timed out");
        r.answered(&Err(Errno::Intr), 7);
        assert_eq!(r.hold(7), None, "the last call failed");
    }

    #[test]
    fn zero_never_holds() {
        let mut r = Repeats::new(0);
        r.answered(&Ok(1), 7);
        assert_eq!(r.hold(7), None);
    }
}
