//! A compute-bound program for the `limits` benchmark (what `--timeout` and `--fuel` cost):
//! ordinary compiled Rust, with its loops and calls, not a hand-written micro-loop.
//!
//! `compute N`: a prime sieve up to N, a sort of N pseudo-random numbers, N inserts into a
//! `BTreeMap`, and a hash over N formatted numbers. It prints nothing (the benchmark runs it
//! many times); `black_box` keeps the compiler from dropping the work.

use std::collections::BTreeMap;
use std::fmt::Write;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let mut sum = sieve(n) as u64;
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut values: Vec<u64> = (0..n).map(|_| next()).collect();
    values.sort_unstable();
    sum = sum.wrapping_add(values[n / 2]);
    let mut map = BTreeMap::new();
    for i in 0..n {
        *map.entry(next() % (n as u64 / 4 + 1)).or_insert(0u64) += i as u64;
    }
    sum = sum.wrapping_add(map.len() as u64);
    let mut text = String::new();
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for v in values.iter().step_by(4) {
        text.clear();
        write!(text, "{v:x}").unwrap();
        for b in text.bytes() {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    std::hint::black_box(sum ^ hash);
}

/// How many primes are below `n`.
fn sieve(n: usize) -> usize {
    let mut composite = vec![false; n + 1];
    let mut count = 0;
    for i in 2..=n {
        if !composite[i] {
            count += 1;
            let mut j = i * i;
            while j <= n {
                composite[j] = true;
                j += i;
            }
        }
    }
    count
}
