//! The kernel's resolver: `openat2(2)` with `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS` (Linux
//! 5.6 and later), which refuses with `EXDEV` any step above the starting directory, absolute
//! symlinks included, atomically with respect to concurrent renames.

use super::{ESCAPE, create_mode};
use rustix::fd::{BorrowedFd, OwnedFd};
use rustix::fs::{OFlags, ResolveFlags};
use rustix::io::Errno as E;
use std::sync::atomic::{AtomicBool, Ordering};
use wasirun_wasi::Errno;

/// Set once `openat2` says `ENOSYS`: the kernel will not grow it during this run.
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

/// `openat2` beneath `root`; `None` when it is not available and the walk must answer.
pub(super) fn beneath(
    root: BorrowedFd<'_>,
    path: &[u8],
    flags: OFlags,
    follow: bool,
) -> Option<Result<OwnedFd, Errno>> {
    if NO_OPENAT2.load(Ordering::Relaxed) {
        return None;
    }
    let flags = if follow {
        flags
    } else {
        flags | OFlags::NOFOLLOW
    };
    let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
    // `EAGAIN` means a rename raced with the lookup; the kernel asks us to try again.
    for _ in 0..8 {
        return match rustix::fs::openat2(root, path, flags, create_mode(flags), resolve) {
            Ok(fd) => Some(Ok(fd)),
            Err(E::AGAIN) => continue,
            // The one error RESOLVE_BENEATH adds: the path tried to leave `root`.
            Err(E::XDEV) => Some(Err(ESCAPE)),
            Err(E::NOSYS) => {
                NO_OPENAT2.store(true, Ordering::Relaxed);
                None
            }
            // Some seccomp filters hide openat2 behind EPERM. A real EPERM (a sealed or
            // immutable file) comes back from the walk the same.
            Err(E::PERM) => None,
            Err(e) => Some(Err(e.into())),
        };
    }
    None
}
