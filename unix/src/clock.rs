//! Clocks: `clock_res_get` and `clock_time_get` on `clock_getres(2)` and `clock_gettime(2)`,
//! or on a [`Clock`] the embedder gives [`Builder::clock`](crate::Builder::clock).
//!
//! A host clock is read inline; an injected one costs one indirect call, and a clock the
//! embedder did not replace stays the host's. `poll_oneoff` waits in host time whatever the
//! clocks say: a relative timeout is that many host nanoseconds, an absolute one is measured
//! from the injected clock's `now` (see `poll.rs`).

use rustix::time::{ClockId, Timespec};
use std::sync::{Arc, Mutex};
use wasirun_wasi::{Clockid, Errno, Timestamp};

/// A clock the guest reads instead of the host's, through `clock_time_get` and
/// `clock_res_get` ([`Builder::clock`](crate::Builder::clock)). Any
/// `FnMut() -> Timestamp + Send` closure is one, with a resolution of 1 ns.
///
/// ```
/// use wasirun_unix::Clock;
/// use wasirun_wasi::{Errno, Timestamp};
///
/// /// A clock that moves 1 ms at every read, from 2026-01-01: runs that read it are repeatable.
/// struct Stepping(Timestamp);
///
/// impl Clock for Stepping {
///     fn now(&mut self) -> Result<Timestamp, Errno> {
///         self.0 += 1_000_000;
///         Ok(self.0)
///     }
///     fn resolution(&self) -> Timestamp {
///         1_000_000
///     }
/// }
///
/// let mut clock = Stepping(1_767_225_600_000_000_000);
/// assert_eq!(clock.now(), Ok(1_767_225_600_001_000_000));
/// ```
pub trait Clock: Send {
    /// The time now in nanoseconds: since 1970-01-01T00:00:00Z for the realtime clock, from
    /// any fixed point for the others. An error (`EOVERFLOW` for a time before 1970, say) is
    /// what `clock_time_get` returns.
    fn now(&mut self) -> Result<Timestamp, Errno>;

    /// What `clock_res_get` says, in nanoseconds (0 is reported as 1: the witx wants a
    /// supported clock's resolution non-zero).
    fn resolution(&self) -> Timestamp {
        1
    }
}

impl<F: FnMut() -> Timestamp + Send> Clock for F {
    fn now(&mut self) -> Result<Timestamp, Errno> {
        Ok(self())
    }
}

/// A clock the systems of one builder share.
pub(crate) type Shared = Arc<Mutex<dyn Clock>>;

/// The system's clocks: the host's, except those the embedder replaced (an uncontended lock
/// and an indirect call each).
#[derive(Default)]
pub(crate) struct Clocks {
    custom: [Option<Shared>; 4],
}

impl Clocks {
    /// Replaces the clock `id`.
    pub fn set(&mut self, id: Clockid, clock: Shared) {
        self.custom[index(id)] = Some(clock);
    }

    /// Whether `id` is the host's own clock.
    #[inline]
    pub fn is_host(&self, id: Clockid) -> bool {
        self.custom[index(id)].is_none()
    }

    /// `clock_res_get`.
    pub fn res_get(&mut self, id: Clockid) -> Result<Timestamp, Errno> {
        match &self.custom[index(id)] {
            None => res_get(id),
            Some(clock) => Ok(lock(clock).resolution().max(1)),
        }
    }

    /// `clock_time_get`.
    #[inline]
    pub fn time_get(&mut self, id: Clockid, precision: Timestamp) -> Result<Timestamp, Errno> {
        match &mut self.custom[index(id)] {
            None => time_get(id, precision),
            Some(clock) => lock(clock).now(),
        }
    }
}

fn lock(clock: &Shared) -> std::sync::MutexGuard<'_, dyn Clock + 'static> {
    clock.lock().unwrap_or_else(|e| e.into_inner())
}

#[inline]
fn index(id: Clockid) -> usize {
    match id {
        Clockid::Realtime => 0,
        Clockid::Monotonic => 1,
        Clockid::ProcessCputimeId => 2,
        Clockid::ThreadCputimeId => 3,
    }
}

/// The host clock behind a WASI clock. All four exist on Linux; the CPU-time clocks measure the
/// whole host process and the calling host thread.
pub(crate) fn host_clock(id: Clockid) -> ClockId {
    match id {
        Clockid::Realtime => ClockId::Realtime,
        Clockid::Monotonic => ClockId::Monotonic,
        Clockid::ProcessCputimeId => ClockId::ProcessCPUTime,
        Clockid::ThreadCputimeId => ClockId::ThreadCPUTime,
    }
}

/// `clock_res_get`: never 0, as the witx requires of a supported clock.
pub(crate) fn res_get(id: Clockid) -> Result<Timestamp, Errno> {
    let res = timestamp(rustix::time::clock_getres(host_clock(id)))?;
    Ok(res.max(1))
}

/// `clock_time_get`. The precision is a hint we have no use for: every read is as precise as
/// the host clock.
#[inline]
pub(crate) fn time_get(id: Clockid, _precision: Timestamp) -> Result<Timestamp, Errno> {
    now(host_clock(id))
}

/// The time on a host clock, in nanoseconds.
#[inline]
pub(crate) fn now(clock: ClockId) -> Result<Timestamp, Errno> {
    timestamp(rustix::time::clock_gettime(clock))
}

/// Nanoseconds in a `Timespec`: `EOVERFLOW` before the epoch or after 2554.
#[inline]
pub(crate) fn timestamp(ts: Timespec) -> Result<Timestamp, Errno> {
    let secs = u64::try_from(ts.tv_sec).map_err(|_| Errno::Overflow)?;
    let nanos = u64::try_from(ts.tv_nsec).map_err(|_| Errno::Overflow)?;
    secs.checked_mul(1_000_000_000)
        .and_then(|ns| ns.checked_add(nanos))
        .ok_or(Errno::Overflow)
}

/// A `Timespec` of `ns` nanoseconds.
#[inline]
pub(crate) fn timespec(ns: Timestamp) -> Timespec {
    Timespec {
        tv_sec: (ns / 1_000_000_000) as i64,
        tv_nsec: (ns % 1_000_000_000) as _,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_clock_reads() {
        for id in Clockid::ALL {
            assert!(res_get(id).unwrap() > 0, "{id}");
            assert!(time_get(id, 0).unwrap() > 0, "{id}");
        }
        let a = time_get(Clockid::Monotonic, 0).unwrap();
        let b = time_get(Clockid::Monotonic, 0).unwrap();
        assert!(b >= a);
        // After 2020.
        assert!(time_get(Clockid::Realtime, 0).unwrap() > 1_577_836_800_000_000_000);
    }

    #[test]
    fn an_injected_clock_replaces_only_its_own() {
        let mut clocks = Clocks::default();
        let mut t = 0;
        clocks.set(
            Clockid::Monotonic,
            Arc::new(Mutex::new(move || {
                t += 5;
                t
            })),
        );
        assert_eq!(clocks.time_get(Clockid::Monotonic, 0), Ok(5));
        assert_eq!(clocks.time_get(Clockid::Monotonic, 0), Ok(10));
        assert_eq!(clocks.res_get(Clockid::Monotonic), Ok(1));
        assert!(!clocks.is_host(Clockid::Monotonic));
        assert!(clocks.is_host(Clockid::Realtime));
        assert!(clocks.time_get(Clockid::Realtime, 0).unwrap() > 1_577_836_800_000_000_000);
    }

    #[test]
    fn conversions() {
        assert_eq!(
            timestamp(timespec(1_234_567_890_123)).unwrap(),
            1_234_567_890_123
        );
        assert_eq!(timestamp(timespec(u64::MAX)).unwrap(), u64::MAX);
        let before_epoch = Timespec {
            tv_sec: -1,
            tv_nsec: 0,
        };
        assert_eq!(timestamp(before_epoch), Err(Errno::Overflow));
    }
}
