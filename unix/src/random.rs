//! `random_get`: a ChaCha CSPRNG in user space (rand's `ThreadRng`), seeded and periodically
//! reseeded from `getrandom(2)`, as wasmtime does: a system call per `random_get` costs about a
//! microsecond on virtual machines, and Go and Rust programs call it for every hash seed.

use rand::Rng;
use wasirun_wasi::Errno;

/// Fills `buf` with cryptographically secure random bytes.
pub(crate) fn get(buf: &mut [u8]) -> Result<(), Errno> {
    rand::rng().fill_bytes(buf);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn fills_everything() {
        let mut buf = vec![0u8; 100_000];
        super::get(&mut buf).unwrap();
        // 100 000 random bytes without a single long zero run.
        assert!(buf.windows(64).all(|w| w.iter().any(|&b| b != 0)));
        super::get(&mut []).unwrap();
    }
}
