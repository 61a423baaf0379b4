//! Calls on open files: read, write, seek, sync, advise, allocate, truncate.
//!
//! The hot ones (read, write, pread, pwrite, seek, tell) are a table lookup, a rights check and
//! one system call: nothing is allocated. Reads and writes that may block go through
//! [`wait`](crate::wait), so that a stop wakes them; with data ready they are still one call.

use crate::system::UnixSystem;
use rustix::fs::{Advice as HostAdvice, FallocateFlags, SeekFrom};
use rustix::io::Errno as E;
use std::io::{IoSlice, IoSliceMut};
use std::num::NonZeroU64;
use wasirun_wasi::{Advice, Errno, Fd, Filedelta, Filesize, Rights, Size, Whence};

/// A byte count for the guest. Linux moves at most 2 GiB per call (`MAX_RW_COUNT`), so this
/// never saturates in practice.
#[inline]
pub(crate) fn size(n: usize) -> Size {
    Size::try_from(n).unwrap_or(Size::MAX)
}

/// `fd_read`: `readv(2)`; on a descriptor that may block, without waiting first (see
/// [`wait`](crate::wait)).
#[inline]
pub(crate) fn read(
    sys: &mut UnixSystem,
    fd: Fd,
    iovs: &mut [IoSliceMut<'_>],
) -> Result<Size, Errno> {
    let entry = sys.table.get(fd, Rights::FD_READ)?;
    Ok(size(crate::wait::read(&sys.stop, entry, iovs)?))
}

/// `fd_write`: `writev(2)`; on a descriptor that may block, without waiting first (see
/// [`wait`](crate::wait)).
#[inline]
pub(crate) fn write(sys: &mut UnixSystem, fd: Fd, iovs: &[IoSlice<'_>]) -> Result<Size, Errno> {
    let entry = sys.table.get(fd, Rights::FD_WRITE)?;
    Ok(size(crate::wait::write(&sys.stop, entry, iovs)?))
}

/// `fd_pread`: `preadv(2)`, which needs `FD_SEEK` besides `FD_READ` (witx).
#[inline]
pub(crate) fn pread(
    sys: &mut UnixSystem,
    fd: Fd,
    iovs: &mut [IoSliceMut<'_>],
    offset: Filesize,
) -> Result<Size, Errno> {
    let entry = sys.table.get(fd, Rights::FD_READ | Rights::FD_SEEK)?;
    Ok(size(rustix::io::preadv(&entry.fd, iovs, offset)?))
}

/// `fd_pwrite`: `pwritev(2)`, which needs `FD_SEEK` besides `FD_WRITE` (witx). On a file opened
/// with `APPEND`, Linux appends whatever the offset (see BUGS in `pwrite(2)`).
#[inline]
pub(crate) fn pwrite(
    sys: &mut UnixSystem,
    fd: Fd,
    iovs: &[IoSlice<'_>],
    offset: Filesize,
) -> Result<Size, Errno> {
    let entry = sys.table.get(fd, Rights::FD_WRITE | Rights::FD_SEEK)?;
    Ok(size(rustix::io::pwritev(&entry.fd, iovs, offset)?))
}

/// `fd_seek`: `lseek(2)`. Seeking by 0 from the current position only needs `FD_TELL` (witx).
/// A negative absolute offset is `EINVAL`, as `lseek` says of a negative result.
#[inline]
pub(crate) fn seek(
    sys: &mut UnixSystem,
    fd: Fd,
    offset: Filedelta,
    whence: Whence,
) -> Result<Filesize, Errno> {
    let needed = match (whence, offset) {
        (Whence::Cur, 0) => Rights::FD_TELL,
        _ => Rights::FD_SEEK,
    };
    let entry = sys.table.get(fd, needed)?;
    let pos = match whence {
        Whence::Set => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::Inval)?),
        Whence::Cur => SeekFrom::Current(offset),
        Whence::End => SeekFrom::End(offset),
    };
    Ok(rustix::fs::seek(&entry.fd, pos)?)
}

/// `fd_tell`: `lseek(fd, 0, SEEK_CUR)`.
#[inline]
pub(crate) fn tell(sys: &mut UnixSystem, fd: Fd) -> Result<Filesize, Errno> {
    let entry = sys.table.get(fd, Rights::FD_TELL)?;
    Ok(rustix::fs::seek(&entry.fd, SeekFrom::Current(0))?)
}

/// `fd_sync`: `fsync(2)`.
pub(crate) fn sync(sys: &mut UnixSystem, fd: Fd) -> Result<(), Errno> {
    let entry = sys.table.get(fd, Rights::FD_SYNC)?;
    Ok(rustix::fs::fsync(&entry.fd)?)
}

/// `fd_datasync`: `fdatasync(2)`.
pub(crate) fn datasync(sys: &mut UnixSystem, fd: Fd) -> Result<(), Errno> {
    let entry = sys.table.get(fd, Rights::FD_DATASYNC)?;
    Ok(rustix::fs::fdatasync(&entry.fd)?)
}

/// `fd_advise`: `posix_fadvise(2)`; a length of 0 means "to the end of the file", as there.
pub(crate) fn advise(
    sys: &mut UnixSystem,
    fd: Fd,
    offset: Filesize,
    len: Filesize,
    advice: Advice,
) -> Result<(), Errno> {
    let entry = sys.table.get(fd, Rights::FD_ADVISE)?;
    let advice = match advice {
        Advice::Normal => HostAdvice::Normal,
        Advice::Sequential => HostAdvice::Sequential,
        Advice::Random => HostAdvice::Random,
        Advice::Willneed => HostAdvice::WillNeed,
        Advice::Dontneed => HostAdvice::DontNeed,
        Advice::Noreuse => HostAdvice::NoReuse,
    };
    Ok(rustix::fs::fadvise(
        &entry.fd,
        offset,
        NonZeroU64::new(len),
        advice,
    )?)
}

/// `fd_allocate`: `posix_fallocate(3)`: afterwards the file is at least `offset + len` long.
/// On file systems without `fallocate(2)` (`EOPNOTSUPP`), glibc writes zeros to reserve the
/// blocks; we extend the size with `ftruncate`, which gives the same file without reserving.
pub(crate) fn allocate(
    sys: &mut UnixSystem,
    fd: Fd,
    offset: Filesize,
    len: Filesize,
) -> Result<(), Errno> {
    let entry = sys.table.get(fd, Rights::FD_ALLOCATE)?;
    match rustix::fs::fallocate(&entry.fd, FallocateFlags::empty(), offset, len) {
        Err(E::OPNOTSUPP) => {
            let end = offset.checked_add(len).ok_or(Errno::Fbig)?;
            if len == 0 {
                return Err(Errno::Inval);
            }
            let stat = rustix::fs::fstat(&entry.fd)?;
            if end > u64::try_from(stat.st_size).unwrap_or(0) {
                rustix::fs::ftruncate(&entry.fd, end)?;
            }
            Ok(())
        }
        other => Ok(other?),
    }
}

/// `fd_filestat_set_size`: `ftruncate(2)`, new bytes read as zeros.
pub(crate) fn set_size(sys: &mut UnixSystem, fd: Fd, size: Filesize) -> Result<(), Errno> {
    let entry = sys.table.get(fd, Rights::FD_FILESTAT_SET_SIZE)?;
    Ok(rustix::fs::ftruncate(&entry.fd, size)?)
}
