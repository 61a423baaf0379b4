//! The process: arguments, environment, exit, signals, yielding.

use crate::builder::Error;
use crate::system::UnixSystem;
use wasirun_wasi::{Errno, Exitcode, Signal, Size};

/// Strings as the guest reads them: NUL-terminated, back to back, in one buffer, so that
/// `args_get` and `environ_get` are a single copy.
pub(crate) struct Strings {
    buf: Vec<u8>,
    count: usize,
}

impl Strings {
    /// Packs `items`; `Error::Nul` when one holds a NUL byte (`what` says which kind).
    pub fn new(items: &[Vec<u8>], what: &str) -> Result<Strings, Error> {
        let mut buf = Vec::with_capacity(items.iter().map(|s| s.len() + 1).sum());
        for item in items {
            if item.contains(&0) {
                return Err(Error::Nul {
                    what: format!("{what} ({})", String::from_utf8_lossy(item)),
                });
            }
            buf.extend_from_slice(item);
            buf.push(0);
        }
        Ok(Strings {
            buf,
            count: items.len(),
        })
    }

    /// The number of strings and the bytes they take, NULs included.
    pub fn sizes(&self) -> (Size, Size) {
        (to_size(self.count), to_size(self.buf.len()))
    }

    /// Copies the strings into `out`, which the glue sized from [`Strings::sizes`].
    pub fn copy_to(&self, out: &mut [u8]) -> Result<(), Errno> {
        if out.len() != self.buf.len() {
            return Err(Errno::Inval);
        }
        out.copy_from_slice(&self.buf);
        Ok(())
    }
}

/// Sizes beyond 4 GiB cannot reach a 32-bit guest anyway; saturate rather than wrap.
fn to_size(n: usize) -> Size {
    Size::try_from(n).unwrap_or(Size::MAX)
}

/// `proc_exit`: records the status ([`UnixSystem::exit_code`]); the glue then ends the
/// instance.
pub(crate) fn exit(sys: &mut UnixSystem, rval: Exitcode) {
    sys.exit_code = Some(rval);
}

/// `proc_raise`: `ENOSYS`. Raising a signal would act on the host process, which the guest
/// does not own (a `SIGKILL` would end the runtime); wasmtime dropped the call for the same
/// reason, and WASI preview 2 has no equivalent.
pub(crate) fn raise(_sig: Signal) -> Result<(), Errno> {
    Err(Errno::Nosys)
}

/// `sched_yield`.
pub(crate) fn sched_yield() -> Result<(), Errno> {
    rustix::thread::sched_yield();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_pack_back_to_back() {
        let s = Strings::new(&[b"a".to_vec(), b"bc".to_vec(), Vec::new()], "x").unwrap();
        assert_eq!(s.sizes(), (3, 6));
        let mut out = [0xff; 6];
        s.copy_to(&mut out).unwrap();
        assert_eq!(&out, b"a\0bc\0\0");
        assert_eq!(s.copy_to(&mut [0; 5]), Err(Errno::Inval));
        assert!(Strings::new(&[b"a\0b".to_vec()], "x").is_err());
    }
}
