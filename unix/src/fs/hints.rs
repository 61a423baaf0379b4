//! `fd_advise` and `fd_datasync`, which each Unix spells its own way.
//!
//! - Linux and FreeBSD: `posix_fadvise(2)` and `fdatasync(2)`.
//! - macOS has neither. Advice goes to `fcntl(2)`: `WILLNEED` reads the range ahead
//!   (`F_RDADVISE`), `SEQUENTIAL` and `NORMAL` turn read-ahead on for the file and `RANDOM`
//!   off (`F_RDAHEAD`, for the whole open file, not the range); `DONTNEED` and `NOREUSE` have
//!   no counterpart and are taken without effect, as POSIX lets an implementation ignore
//!   advice. `fdatasync` is `fsync(2)`, which syncs the metadata too: more than asked, never
//!   less.

use rustix::fd::BorrowedFd;
use wasirun_wasi::{Advice, Errno, Filesize};

/// `posix_fadvise(2)`: a length of 0 means "to the end of the file", as there.
#[cfg(not(target_vendor = "apple"))]
pub(crate) fn advise(
    fd: BorrowedFd<'_>,
    offset: Filesize,
    len: Filesize,
    advice: Advice,
) -> Result<(), Errno> {
    use rustix::fs::Advice as Host;
    let advice = match advice {
        Advice::Normal => Host::Normal,
        Advice::Sequential => Host::Sequential,
        Advice::Random => Host::Random,
        Advice::Willneed => Host::WillNeed,
        Advice::Dontneed => Host::DontNeed,
        Advice::Noreuse => Host::NoReuse,
    };
    let len = std::num::NonZeroU64::new(len);
    Ok(rustix::fs::fadvise(fd, offset, len, advice)?)
}

/// The advice through `fcntl(2)`, as the module says. A pipe or socket is `ESPIPE` and an
/// offset or length past `off_t` `EINVAL`, as `posix_fadvise` answers.
#[cfg(target_vendor = "apple")]
pub(crate) fn advise(
    fd: BorrowedFd<'_>,
    offset: Filesize,
    len: Filesize,
    advice: Advice,
) -> Result<(), Errno> {
    use rustix::fd::AsRawFd;
    let offset = libc::off_t::try_from(offset).map_err(|_| Errno::Inval)?;
    let len = libc::off_t::try_from(len).map_err(|_| Errno::Inval)?;
    let stat = rustix::fs::fstat(fd)?;
    if rustix::fs::FileType::from_raw_mode(stat.st_mode) == rustix::fs::FileType::Fifo {
        return Err(Errno::Spipe);
    }
    let fcntl = |cmd: libc::c_int, arg: *const libc::c_void, on: libc::c_int| {
        // SAFETY: `arg` is null or points at a radvisory that outlives the call, as the
        // command expects; `on` is the int F_RDAHEAD takes.
        let rc = unsafe {
            match cmd {
                libc::F_RDADVISE => libc::fcntl(fd.as_raw_fd(), cmd, arg),
                _ => libc::fcntl(fd.as_raw_fd(), cmd, on),
            }
        };
        match rc {
            -1 => Err(Errno::from(std::io::Error::last_os_error())),
            _ => Ok(()),
        }
    };
    match advice {
        Advice::Willneed => {
            let len = match len {
                0 => (stat.st_size - offset).max(0),
                len => len,
            };
            let ra = libc::radvisory {
                ra_offset: offset,
                ra_count: libc::c_int::try_from(len).unwrap_or(libc::c_int::MAX),
            };
            fcntl(libc::F_RDADVISE, (&raw const ra).cast(), 0)
        }
        Advice::Normal | Advice::Sequential => fcntl(libc::F_RDAHEAD, std::ptr::null(), 1),
        Advice::Random => fcntl(libc::F_RDAHEAD, std::ptr::null(), 0),
        Advice::Dontneed | Advice::Noreuse => Ok(()),
    }
}

/// `fdatasync(2)`.
#[cfg(not(target_vendor = "apple"))]
pub(crate) fn datasync(fd: BorrowedFd<'_>) -> Result<(), Errno> {
    Ok(rustix::fs::fdatasync(fd)?)
}

/// `fsync(2)`: macOS has no `fdatasync`.
#[cfg(target_vendor = "apple")]
pub(crate) fn datasync(fd: BorrowedFd<'_>) -> Result<(), Errno> {
    Ok(rustix::fs::fsync(fd)?)
}
