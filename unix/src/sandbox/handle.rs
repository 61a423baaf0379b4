//! Directory handles, as each Unix opens them: the descriptors the resolver holds for each
//! directory it passes through, and that the `*at` calls act in. They only look names up,
//! which takes search (`x`) permission, never read permission, so a directory the guest may
//! pass through but not list still resolves.
//!
//! - Linux and FreeBSD (14 and later): `O_PATH`, which opens without any access check on the
//!   directory itself and, with `O_NOFOLLOW`, can open a symlink itself.
//! - macOS: `O_SEARCH` (`O_EXEC | O_DIRECTORY` in `<sys/fcntl.h>`), open for search only.
//!
//! `open(2)` with `O_NOFOLLOW` on a symlink is `ELOOP` on Linux and macOS, `EMLINK` on FreeBSD
//! (its `open(2)`, ERRORS): [`nofollow_error`] makes it `ELOOP` everywhere, the errno the
//! guest sees and the walk looks for.

use rustix::fs::OFlags;
use rustix::io::Errno as E;

/// The flags that open a directory as a handle.
#[cfg(any(target_os = "linux", target_os = "freebsd"))]
pub(crate) const DIR: OFlags = OFlags::PATH.union(OFlags::DIRECTORY);

/// The flags that open a directory as a handle: `O_SEARCH`, which rustix does not name.
#[cfg(target_vendor = "apple")]
pub(crate) const DIR: OFlags = OFlags::from_bits_retain(libc::O_SEARCH as _);

/// Whether an open with `flags` and `O_NOFOLLOW` opens a symlink itself rather than fail.
#[cfg(any(target_os = "linux", target_os = "freebsd"))]
pub(super) fn opens_symlinks(flags: OFlags) -> bool {
    flags.contains(OFlags::PATH)
}

/// Whether an open with `flags` and `O_NOFOLLOW` opens a symlink itself rather than fail:
/// never on macOS (only `O_SYMLINK` does, which the resolver does not use).
#[cfg(target_vendor = "apple")]
pub(super) fn opens_symlinks(_flags: OFlags) -> bool {
    false
}

/// The errno of an `O_NOFOLLOW` open that met a symlink, as Linux says it.
#[inline]
pub(super) fn nofollow_error(e: E) -> E {
    #[cfg(target_os = "freebsd")]
    if e == E::MLINK {
        return E::LOOP;
    }
    e
}
