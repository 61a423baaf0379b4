//! `random_get` on `getrandom(2)`.

use rustix::rand::GetRandomFlags;
use wasirun_wasi::Errno;

/// Fills `buf` from the kernel's CSPRNG. `getrandom` may return fewer bytes than asked (above
/// 32 MiB, or when a signal arrives): loop until the buffer is full. It blocks only until the
/// pool is first initialized at boot, which the witx allows.
pub(crate) fn get(buf: &mut [u8]) -> Result<(), Errno> {
    let mut filled = 0;
    while filled < buf.len() {
        match rustix::rand::getrandom(&mut buf[filled..], GetRandomFlags::empty()) {
            Ok(n) => filled += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
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
