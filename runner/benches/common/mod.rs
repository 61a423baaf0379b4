//! What the call-loop benchmarks share: timing a guest loop. Each bench uses part of it.
#![allow(dead_code)]

use rustix::time::ClockId;
use std::time::{Duration, Instant};

/// How many timed runs each figure is the median of.
pub const RUNS: usize = 5;

/// Nanoseconds per iteration of `run(calls)` (a guest loop of `calls` iterations), the median
/// of [`RUNS`] runs after a warm-up of 100.
pub fn median_ns(calls: i32, mut run: impl FnMut(i32)) -> f64 {
    run(100);
    let mut runs: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            run(calls);
            start.elapsed().as_nanos() as f64 / f64::from(calls)
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[RUNS / 2]
}

/// This thread's CPU time: what the guest's own code took, whatever else runs on the machine.
pub fn cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// The median of `v`.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
