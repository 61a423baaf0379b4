//! [`Summary`]: calls, errors and time per function, printed as a table like `strace -c`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// What a [`Summary`] holds for one function.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    /// How many calls.
    pub calls: u64,
    /// How many of them failed (an errno, including those the glue refused while decoding).
    pub errors: u64,
    /// Time spent in the system's method, summed over the calls.
    pub time: Duration,
}

/// Calls, errors and time per function, counted by the tracers it is given to
/// ([`super::Tracer::summarize`], [`super::Tracer::summary_only`]). Clones share the counts, so
/// one summary can serve several tracers (threads, instances); `Display` writes the table.
#[derive(Clone, Debug, Default)]
pub struct Summary(Arc<Mutex<HashMap<&'static str, Stat>>>);

impl Summary {
    /// An empty summary.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one call of `function`.
    pub fn record(&self, function: &'static str, failed: bool, elapsed: Duration) {
        // A thread that panicked while holding the lock left whole numbers behind: count on.
        let mut stats = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let stat = stats.entry(function).or_default();
        stat.calls += 1;
        stat.errors += u64::from(failed);
        stat.time += elapsed;
    }

    /// Every function called so far with its counts, the most time first (then the most
    /// calls, then by name).
    pub fn stats(&self) -> Vec<(&'static str, Stat)> {
        let stats = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut all: Vec<_> = stats.iter().map(|(f, s)| (*f, *s)).collect();
        all.sort_by(|(fa, a), (fb, b)| {
            b.time
                .cmp(&a.time)
                .then(b.calls.cmp(&a.calls))
                .then(fa.cmp(fb))
        });
        all
    }
}

/// The table: `% time`, seconds, microseconds per call, calls, errors, function, one line per
/// function and a total, in `strace -c`'s columns.
impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stats = self.stats();
        let rule = "------ ----------- ----------- --------- --------- ----------------";
        let total = stats.iter().fold(Stat::default(), |t, (_, s)| Stat {
            calls: t.calls + s.calls,
            errors: t.errors + s.errors,
            time: t.time + s.time,
        });
        writeln!(
            f,
            "% time     seconds  usecs/call     calls    errors function"
        )?;
        writeln!(f, "{rule}")?;
        for (name, s) in &stats {
            let share = if total.time.is_zero() {
                0.0
            } else {
                100.0 * s.time.as_secs_f64() / total.time.as_secs_f64()
            };
            row(f, share, s, name)?;
        }
        writeln!(f, "{rule}")?;
        let share = if total.time.is_zero() { 0.0 } else { 100.0 };
        row(f, share, &total, "total")
    }
}

fn row(f: &mut fmt::Formatter<'_>, share: f64, s: &Stat, name: &str) -> fmt::Result {
    let per_call = s.time.as_micros() / u128::from(s.calls.max(1));
    writeln!(
        f,
        "{share:6.2} {:11.6} {per_call:11} {:9} {:9} {name}",
        s.time.as_secs_f64(),
        s.calls,
        s.errors
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_sorts_by_time_and_totals() {
        let summary = Summary::new();
        let shared = summary.clone();
        for _ in 0..3 {
            summary.record("fd_write", false, Duration::from_micros(100));
        }
        shared.record("path_open", true, Duration::from_micros(500));
        shared.record("path_open", false, Duration::from_micros(400));
        summary.record("proc_exit", false, Duration::ZERO);
        assert_eq!(
            summary.to_string(),
            "\
% time     seconds  usecs/call     calls    errors function
------ ----------- ----------- --------- --------- ----------------
 75.00    0.000900         450         2         1 path_open
 25.00    0.000300         100         3         0 fd_write
  0.00    0.000000           0         1         0 proc_exit
------ ----------- ----------- --------- --------- ----------------
100.00    0.001200         200         6         1 total
"
        );
    }

    #[test]
    fn an_empty_summary_is_the_header_and_a_zero_total() {
        assert_eq!(
            Summary::new().to_string(),
            "\
% time     seconds  usecs/call     calls    errors function
------ ----------- ----------- --------- --------- ----------------
------ ----------- ----------- --------- --------- ----------------
  0.00    0.000000           0         0         0 total
"
        );
    }
}
