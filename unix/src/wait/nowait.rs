//! Linux's reads and writes that never wait: `preadv2(2)` and `pwritev2(2)` with `RWF_NOWAIT`
//! at the current position, so that a read or write with data or room ready stays the one
//! system call it was. macOS and FreeBSD have no such flag: there the portable path of
//! [`super`] polls first, which Linux also takes for descriptors that refuse `RWF_NOWAIT`
//! (terminals: `EOPNOTSUPP`; kernels before 4.14: `ENOSYS`).

use rustix::fd::BorrowedFd;
use rustix::io::{Errno as E, ReadWriteFlags};
use std::io::{IoSlice, IoSliceMut};

/// `preadv2`'s and `pwritev2`'s offset for "the current position", as `read(2)` uses it.
const CURRENT: u64 = u64::MAX;

/// Whether the descriptor refused the flag, and the portable path must answer.
pub(super) fn refused(e: &rustix::io::Result<usize>) -> bool {
    matches!(e, Err(E::OPNOTSUPP | E::NOSYS))
}

/// One read that says `EAGAIN` rather than wait.
#[inline]
pub(super) fn read(fd: BorrowedFd<'_>, iovs: &mut [IoSliceMut<'_>]) -> rustix::io::Result<usize> {
    rustix::io::preadv2(fd, iovs, CURRENT, ReadWriteFlags::NOWAIT)
}

/// One write that says `EAGAIN` rather than wait.
#[inline]
pub(super) fn write(fd: BorrowedFd<'_>, iovs: &[IoSlice<'_>]) -> rustix::io::Result<usize> {
    rustix::io::pwritev2(fd, iovs, CURRENT, ReadWriteFlags::NOWAIT)
}
