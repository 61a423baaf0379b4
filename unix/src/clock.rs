//! Clocks: `clock_res_get` and `clock_time_get` on `clock_getres(2)` and `clock_gettime(2)`.

use rustix::time::{ClockId, Timespec};
use wasirun_wasi::{Clockid, Errno, Timestamp};

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
