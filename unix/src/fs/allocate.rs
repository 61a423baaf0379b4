//! `fd_allocate`, as `posix_fallocate(3)` promises it: afterwards the file is at least
//! `offset + len` long, the new bytes read as zeros, and the blocks are reserved where the
//! system can. Each Unix reserves its own way ([`reserve`]); where it cannot, [`grow`] extends
//! the size with `ftruncate(2)`, which gives the same file without reserving.
//!
//! - Linux: `fallocate(2)` with mode 0; file systems without it say `EOPNOTSUPP`.
//! - FreeBSD: `posix_fallocate(2)`; ZFS refuses it with `EINVAL` (`EOPNOTSUPP` since
//!   FreeBSD 14), which after the checks here can only mean that.
//! - macOS has neither: `fcntl(F_PREALLOCATE)` reserves the blocks past the end of the file
//!   (`fcntl(2)`), then [`grow`] sets the size. Holes below the end stay holes.

use rustix::fd::BorrowedFd;
use wasirun_wasi::{Errno, Filesize};

/// `fd_allocate` on `fd`. A length of 0 is `EINVAL` and an end past the largest file offset
/// `EFBIG`, as `posix_fallocate` says.
pub(crate) fn allocate(fd: BorrowedFd<'_>, offset: Filesize, len: Filesize) -> Result<(), Errno> {
    if reserve(fd, offset, len)? {
        return Ok(());
    }
    grow(fd, offset, len)
}

/// The portable part: makes the file at least `offset + len` long, never shorter.
pub(crate) fn grow(fd: BorrowedFd<'_>, offset: Filesize, len: Filesize) -> Result<(), Errno> {
    let end = end(offset, len)?;
    let stat = rustix::fs::fstat(fd)?;
    if end > u64::try_from(stat.st_size).unwrap_or(0) {
        rustix::fs::ftruncate(fd, end)?;
    }
    Ok(())
}

/// Where the allocation ends: `EINVAL` for no length, `EFBIG` past `i64::MAX` (`off_t`).
fn end(offset: Filesize, len: Filesize) -> Result<Filesize, Errno> {
    if len == 0 {
        return Err(Errno::Inval);
    }
    offset
        .checked_add(len)
        .filter(|&end| i64::try_from(end).is_ok())
        .ok_or(Errno::Fbig)
}

/// Reserves and sizes with `fallocate(2)`; `false` when the file system cannot.
#[cfg(target_os = "linux")]
fn reserve(fd: BorrowedFd<'_>, offset: Filesize, len: Filesize) -> Result<bool, Errno> {
    use rustix::fs::FallocateFlags;
    match rustix::fs::fallocate(fd, FallocateFlags::empty(), offset, len) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::OPNOTSUPP) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Reserves and sizes with `posix_fallocate(2)`; `false` when the file system cannot.
#[cfg(target_os = "freebsd")]
fn reserve(fd: BorrowedFd<'_>, offset: Filesize, len: Filesize) -> Result<bool, Errno> {
    use rustix::fs::FallocateFlags;
    use rustix::io::Errno as E;
    end(offset, len)?;
    match rustix::fs::fallocate(fd, FallocateFlags::empty(), offset, len) {
        Ok(()) => Ok(true),
        Err(E::INVAL | E::OPNOTSUPP) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Reserves the blocks between the end of the file and `offset + len` with
/// `fcntl(F_PREALLOCATE)`: all of them or none (`F_ALLOCATEALL`), counted from the physical
/// end of the file (`F_PEOFPOSMODE`). No room is `ENOSPC`; a file system that cannot reserve
/// is no error. `false`: [`grow`] still sets the size.
#[cfg(target_vendor = "apple")]
fn reserve(fd: BorrowedFd<'_>, offset: Filesize, len: Filesize) -> Result<bool, Errno> {
    use rustix::fd::AsRawFd;
    let end = end(offset, len)?;
    let size = u64::try_from(rustix::fs::fstat(fd)?.st_size).unwrap_or(0);
    if end <= size {
        return Ok(false);
    }
    let mut store = libc::fstore_t {
        fst_flags: libc::F_ALLOCATEALL,
        fst_posmode: libc::F_PEOFPOSMODE,
        fst_offset: 0,
        fst_length: (end - size) as libc::off_t,
        fst_bytesalloc: 0,
    };
    // SAFETY: `store` is a valid fstore_t that lives across the call, as F_PREALLOCATE reads
    // and writes it.
    let rc = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_PREALLOCATE, &mut store) };
    if rc == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOSPC) {
        return Err(Errno::Nospc);
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::fd::AsFd;

    fn file(test: &str) -> (std::path::PathBuf, std::fs::File) {
        let path =
            std::env::temp_dir().join(format!("wasirun-alloc-{test}-{}", std::process::id()));
        let file = std::fs::File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        (path, file)
    }

    /// The fallback macOS always takes, and Linux on file systems without `fallocate`.
    #[test]
    fn grow_extends_and_never_shrinks() {
        let (path, f) = file("grow");
        std::fs::write(&path, b"0123456789").unwrap();
        grow(f.as_fd(), 2, 3).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"0123456789");
        grow(f.as_fd(), 8, 4).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"0123456789\0\0");
        assert_eq!(grow(f.as_fd(), 0, 0), Err(Errno::Inval));
        assert_eq!(grow(f.as_fd(), u64::MAX, 1), Err(Errno::Fbig));
        assert_eq!(grow(f.as_fd(), i64::MAX as u64, 1), Err(Errno::Fbig));
        assert_eq!(f.metadata().unwrap().len(), 12);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn allocate_grows_as_grow_does() {
        let (path, f) = file("allocate");
        allocate(f.as_fd(), 0, 100).unwrap();
        assert_eq!(f.metadata().unwrap().len(), 100);
        allocate(f.as_fd(), 10, 10).unwrap();
        assert_eq!(f.metadata().unwrap().len(), 100);
        assert_eq!(allocate(f.as_fd(), 0, 0), Err(Errno::Inval));
        let _ = std::fs::remove_file(&path);
    }
}
