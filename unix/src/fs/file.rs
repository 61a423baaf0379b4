//! Calls on open files: read, write, seek, sync, advise, allocate, truncate.
//!
//! The hot ones (read, write, pread, pwrite, seek, tell) are a table lookup, a rights check and
//! one system call: nothing is allocated. Reads and writes that may block go through
//! [`wait`](crate::wait), so that a stop wakes them; with data ready they are still one call.

use crate::system::UnixSystem;
use rustix::fd::AsFd;
use rustix::fs::SeekFrom;
use std::io::{IoSlice, IoSliceMut};
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

/// `fd_pread`: `pread(2)` for one buffer, `preadv(2)` for more; it needs `FD_SEEK` besides
/// `FD_READ` (witx). One buffer is the usual case, and the vectored call costs more there
/// (Linux copies and checks the iovec array first: about 100 ns, a fifth of a cached 64-byte
/// read on the machine the README's benchmarks ran on).
#[inline]
pub(crate) fn pread(
    sys: &mut UnixSystem,
    fd: Fd,
    iovs: &mut [IoSliceMut<'_>],
    offset: Filesize,
) -> Result<Size, Errno> {
    let entry = sys.table.get(fd, Rights::FD_READ | Rights::FD_SEEK)?;
    let n = match iovs {
        [one] => rustix::io::pread(&entry.fd, &mut one[..], offset)?,
        _ => rustix::io::preadv(&entry.fd, iovs, offset)?,
    };
    Ok(size(n))
}

/// `fd_pwrite`: `pwrite(2)` for one buffer, `pwritev(2)` for more (as [`pread`]); it needs
/// `FD_SEEK` besides `FD_WRITE` (witx). On a file opened with `APPEND`, Linux appends whatever
/// the offset (see BUGS in `pwrite(2)`).
#[inline]
pub(crate) fn pwrite(
    sys: &mut UnixSystem,
    fd: Fd,
    iovs: &[IoSlice<'_>],
    offset: Filesize,
) -> Result<Size, Errno> {
    let entry = sys.table.get(fd, Rights::FD_WRITE | Rights::FD_SEEK)?;
    let n = match iovs {
        [one] => rustix::io::pwrite(&entry.fd, one, offset)?,
        _ => rustix::io::pwritev(&entry.fd, iovs, offset)?,
    };
    Ok(size(n))
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

/// `fd_datasync`: `fdatasync(2)`, or what the system has instead (`hints.rs`).
pub(crate) fn datasync(sys: &mut UnixSystem, fd: Fd) -> Result<(), Errno> {
    let entry = sys.table.get(fd, Rights::FD_DATASYNC)?;
    super::hints::datasync(entry.fd.as_fd())
}

/// `fd_advise`: `posix_fadvise(2)`, or what the system has instead (`hints.rs`).
pub(crate) fn advise(
    sys: &mut UnixSystem,
    fd: Fd,
    offset: Filesize,
    len: Filesize,
    advice: Advice,
) -> Result<(), Errno> {
    let entry = sys.table.get(fd, Rights::FD_ADVISE)?;
    super::hints::advise(entry.fd.as_fd(), offset, len, advice)
}

/// `fd_allocate`: `posix_fallocate(3)`, as each Unix has it (see `allocate.rs`).
pub(crate) fn allocate(
    sys: &mut UnixSystem,
    fd: Fd,
    offset: Filesize,
    len: Filesize,
) -> Result<(), Errno> {
    let entry = sys.table.get(fd, Rights::FD_ALLOCATE)?;
    super::allocate::allocate(entry.fd.as_fd(), offset, len)
}

/// `fd_filestat_set_size`: `ftruncate(2)`, new bytes read as zeros.
pub(crate) fn set_size(sys: &mut UnixSystem, fd: Fd, size: Filesize) -> Result<(), Errno> {
    let entry = sys.table.get(fd, Rights::FD_FILESTAT_SET_SIZE)?;
    Ok(rustix::fs::ftruncate(&entry.fd, size)?)
}
