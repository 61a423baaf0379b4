//! `random_get`: a ChaCha CSPRNG in user space (rand's `ThreadRng`), seeded and periodically
//! reseeded from `getrandom(2)`, as wasmtime does: a system call per `random_get` costs about a
//! microsecond on virtual machines, and Go and Rust programs call it for every hash seed. Or
//! the [`Random`] source the embedder gives [`Builder::random`](crate::Builder::random).

use rand::Rng;
use std::sync::{Arc, Mutex};
use wasirun_wasi::Errno;

/// Where `random_get`'s bytes come from instead of the host's generator
/// ([`Builder::random`](crate::Builder::random)). Any `FnMut(&mut [u8]) + Send` closure is one;
/// [`SeededRandom`] repeats the same bytes for the same seed.
pub trait Random: Send {
    /// Fills `buf`.
    fn fill(&mut self, buf: &mut [u8]);
}

impl<F: FnMut(&mut [u8]) + Send> Random for F {
    fn fill(&mut self, buf: &mut [u8]) {
        self(buf)
    }
}

/// Bytes that depend on the seed alone (splitmix64), for tests and replays that must be
/// repeatable. Not cryptographically secure: a guest that makes keys with it makes guessable
/// ones.
///
/// ```
/// use wasirun_unix::{Random, SeededRandom};
///
/// let (mut a, mut b) = (SeededRandom::new(7), SeededRandom::new(7));
/// let (mut x, mut y) = ([0u8; 12], [0u8; 12]);
/// a.fill(&mut x);
/// b.fill(&mut y);
/// assert_eq!(x, y);
/// ```
#[derive(Clone, Debug)]
pub struct SeededRandom(u64);

impl SeededRandom {
    /// The generator for `seed`.
    pub fn new(seed: u64) -> Self {
        SeededRandom(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl Random for SeededRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let word = self.next().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

/// A source the systems of one builder share.
pub(crate) type Shared = Arc<Mutex<dyn Random>>;

/// `random_get` from `source`, or the host's generator.
#[inline]
pub(crate) fn get(source: Option<&Shared>, buf: &mut [u8]) -> Result<(), Errno> {
    match source {
        None => rand::rng().fill_bytes(buf),
        Some(source) => source.lock().unwrap_or_else(|e| e.into_inner()).fill(buf),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn fills_everything() {
        let mut buf = vec![0u8; 100_000];
        super::get(None, &mut buf).unwrap();
        // 100 000 random bytes without a single long zero run.
        assert!(buf.windows(64).all(|w| w.iter().any(|&b| b != 0)));
        super::get(None, &mut []).unwrap();
    }

    #[test]
    fn a_seed_repeats_and_another_differs() {
        use super::{Arc, Mutex, Random, SeededRandom};
        let bytes = |seed| {
            let mut buf = [0u8; 21];
            SeededRandom::new(seed).fill(&mut buf);
            buf
        };
        assert_eq!(bytes(1), bytes(1));
        assert_ne!(bytes(1), bytes(2));
        let source: super::Shared = Arc::new(Mutex::new(|b: &mut [u8]| b.fill(9)));
        let mut buf = [0u8; 3];
        super::get(Some(&source), &mut buf).unwrap();
        assert_eq!(buf, [9; 3]);
    }
}
