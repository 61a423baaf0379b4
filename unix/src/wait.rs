//! Calls that may block, made so that a stop wakes them: `fd_read` and `fd_write` on pipes,
//! sockets, terminals and devices, `sock_recv` and `sock_send` (and WasmEdge's `_from` and
//! `_to` forms), `sock_accept`, and connects.
//!
//! The guest sees what it asked for: a blocking descriptor blocks, a non-blocking one says
//! `EAGAIN`. The host first makes each call without waiting (`RWF_NOWAIT` for reads and writes
//! on Linux, in `nowait.rs`; `MSG_DONTWAIT` for sockets), so a call that need not wait stays
//! the one system call it was. Only when that would block does the host ask whether the guest's
//! descriptor is non-blocking (the flags the table keeps, else `F_GETFL`: the host may share
//! the description), and if it is not, wait in [`Stop::wait`] for the descriptor or the stop,
//! and try again. A blocking write cut short (a pipe or socket buffer filled up) goes on until
//! all of it is written, as a blocking `write(2)` does. Regular files, directories and block
//! devices never block: their calls are made as they are.
//!
//! The portable path, for `fd_read` and `fd_write` where there is no `RWF_NOWAIT` (macOS,
//! FreeBSD) and on descriptors that refuse it (terminals), polls before the call instead: a
//! read then takes what is there, but a blocking write bigger than the room the poll saw (or a
//! read another process raced to) may wait in the kernel, where a stop does not reach it.
//!
//! Each of these calls, like `poll_oneoff`, first checks whether the guest was told to stop
//! (`EINTR` then, which the glue turns into a trap): a guest looping on descriptors that are
//! always ready stops at its next call even when its code has no epoch checks.
//!
//! An accept or a connect has no form that does not wait: a blocking listener is polled before
//! `accept4(2)`, and a blocking connect is made non-blocking for its duration (`FIONBIO`), then
//! waited for, as `connect(2)` describes for `EINPROGRESS`.

use crate::stop::Stop;
use crate::table::Entry;
use rustix::event::PollFlags;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::OFlags;
use rustix::io::Errno as E;
use rustix::net::{
    RecvAncillaryBuffer, RecvFlags, ReturnFlags, SendAncillaryBuffer, SendFlags, SocketAddrAny,
};
use std::io::{IoSlice, IoSliceMut};
use wasirun_wasi::{Errno, Fdflags, Filetype};

#[cfg(target_os = "linux")]
mod nowait;

/// Whether calls on a descriptor of this type can wait at all (`poll(2)`: files are always
/// ready).
#[inline]
fn may_block(filetype: Filetype) -> bool {
    !matches!(
        filetype,
        Filetype::RegularFile | Filetype::Directory | Filetype::BlockDevice
    )
}

/// `EINTR` once the guest is told to stop: a call that may block checks before it starts, so
/// that a guest whose descriptors are always ready (and whose code has no epoch checks) still
/// stops at its next such call. One atomic load, no system call.
#[inline]
fn check(stop: &Stop) -> Result<(), Errno> {
    if stop.requested() {
        return Err(Errno::Intr);
    }
    Ok(())
}

/// Whether the guest's descriptor is non-blocking.
pub(crate) fn nonblocking(entry: &Entry) -> Result<bool, Errno> {
    Ok(match entry.flags {
        Some(kept) => kept.contains(Fdflags::NONBLOCK),
        None => rustix::fs::fcntl_getfl(&entry.fd)?.contains(OFlags::NONBLOCK),
    })
}

/// After a call said it would block: `EAGAIN` for a non-blocking descriptor, else a wait for
/// `events` (or the stop).
fn block(stop: &Stop, entry: &Entry, events: PollFlags) -> Result<(), Errno> {
    if nonblocking(entry)? {
        return Err(Errno::Again);
    }
    stop.wait(entry.fd.as_fd(), events)
}

/// For a call with no form that does not wait: a wait for `events` first, unless the guest's
/// descriptor is non-blocking (the call itself then says `EAGAIN`).
fn wait_first(stop: &Stop, entry: &Entry, events: PollFlags) -> Result<(), Errno> {
    if nonblocking(entry)? {
        return Ok(());
    }
    stop.wait(entry.fd.as_fd(), events)
}

/// `fd_read`: `readv(2)`, as the guest's descriptor would block.
#[inline]
pub(crate) fn read(
    stop: &Stop,
    entry: &Entry,
    iovs: &mut [IoSliceMut<'_>],
) -> Result<usize, Errno> {
    if !may_block(entry.filetype()?) {
        return Ok(rustix::io::readv(&entry.fd, iovs)?);
    }
    check(stop)?;
    #[cfg(target_os = "linux")]
    loop {
        match nowait::read(entry.fd.as_fd(), iovs) {
            Err(E::AGAIN) => block(stop, entry, PollFlags::IN)?,
            done if nowait::refused(&done) => break,
            done => return Ok(done?),
        }
    }
    polled_read(stop, entry, iovs)
}

/// The portable `fd_read`: a poll for the descriptor (or the stop) unless it is non-blocking,
/// then `readv(2)`.
fn polled_read(stop: &Stop, entry: &Entry, iovs: &mut [IoSliceMut<'_>]) -> Result<usize, Errno> {
    wait_first(stop, entry, PollFlags::IN)?;
    Ok(rustix::io::readv(&entry.fd, iovs)?)
}

/// `fd_write`: `writev(2)`, as the guest's descriptor would block.
#[inline]
pub(crate) fn write(stop: &Stop, entry: &Entry, iovs: &[IoSlice<'_>]) -> Result<usize, Errno> {
    if !may_block(entry.filetype()?) {
        return Ok(rustix::io::writev(&entry.fd, iovs)?);
    }
    check(stop)?;
    #[cfg(target_os = "linux")]
    {
        let once = |iovs: &[IoSlice<'_>]| nowait::write(entry.fd.as_fd(), iovs);
        let first = once(iovs);
        if !nowait::refused(&first) {
            return finish_write(stop, entry, iovs, first, once);
        }
    }
    polled_write(stop, entry, iovs)
}

/// The portable `fd_write`: a poll for room (or the stop) unless the descriptor is
/// non-blocking, then `writev(2)`.
fn polled_write(stop: &Stop, entry: &Entry, iovs: &[IoSlice<'_>]) -> Result<usize, Errno> {
    wait_first(stop, entry, PollFlags::OUT)?;
    Ok(rustix::io::writev(&entry.fd, iovs)?)
}

/// `sock_recv` and WasmEdge's `sock_recv_from`: `recvmsg(2)` with `flags`, as the guest's
/// socket would block. `MSG_WAITALL` on a blocking stream goes on until the buffers are full,
/// the peer closes or shuts down, or an error comes: bytes, flags, and the sender's address.
pub(crate) fn recv(
    stop: &Stop,
    entry: &Entry,
    mut iovs: &mut [IoSliceMut<'_>],
    flags: RecvFlags,
) -> Result<(usize, ReturnFlags, Option<SocketAddrAny>), Errno> {
    let waitall = flags.contains(RecvFlags::WAITALL)
        && !flags.contains(RecvFlags::PEEK)
        && entry.filetype() == Ok(Filetype::SocketStream);
    let flags = (flags - RecvFlags::WAITALL) | RecvFlags::DONTWAIT;
    check(stop)?;
    let mut total = 0;
    loop {
        let mut control = RecvAncillaryBuffer::new(&mut []);
        match rustix::net::recvmsg(&entry.fd, iovs, &mut control, flags) {
            Err(E::AGAIN) if total > 0 && nonblocking(entry)? => {
                return Ok((total, ReturnFlags::empty(), None));
            }
            Err(E::AGAIN) => block(stop, entry, PollFlags::IN)?,
            Err(_) if total > 0 => return Ok((total, ReturnFlags::empty(), None)),
            Err(e) => return Err(e.into()),
            Ok(msg) => {
                total += msg.bytes;
                let room: usize = iovs.iter().map(|b| b.len()).sum();
                if !waitall || msg.bytes == 0 || msg.bytes >= room {
                    return Ok((total, msg.flags, msg.address));
                }
                IoSliceMut::advance_slices(&mut iovs, msg.bytes);
            }
        }
    }
}

/// `sock_send`, and WasmEdge's `sock_send_to` with `to`: `sendmsg(2)` with `MSG_NOSIGNAL`
/// (`net/make.rs`), as the guest's socket would block.
pub(crate) fn send(
    stop: &Stop,
    entry: &Entry,
    iovs: &[IoSlice<'_>],
    to: Option<&SocketAddrAny>,
) -> Result<usize, Errno> {
    let once = |iovs: &[IoSlice<'_>]| {
        let mut control = SendAncillaryBuffer::default();
        let flags = crate::net::make::SEND | SendFlags::DONTWAIT;
        match to {
            Some(to) => rustix::net::sendmsg_addr(&entry.fd, to, iovs, &mut control, flags),
            None => rustix::net::sendmsg(&entry.fd, iovs, &mut control, flags),
        }
    };
    check(stop)?;
    let first = once(iovs);
    finish_write(stop, entry, iovs, first, once)
}

/// A write whose first try gave `first`: waits and tries again while it would block, and
/// after a short write of a blocking descriptor writes the rest, one buffer at a time.
fn finish_write(
    stop: &Stop,
    entry: &Entry,
    iovs: &[IoSlice<'_>],
    mut first: rustix::io::Result<usize>,
    mut once: impl FnMut(&[IoSlice<'_>]) -> rustix::io::Result<usize>,
) -> Result<usize, Errno> {
    let written = loop {
        match first {
            Err(E::AGAIN) => {
                block(stop, entry, PollFlags::OUT)?;
                first = once(iovs);
            }
            done => break done?,
        }
    };
    let total: usize = iovs.iter().map(|b| b.len()).sum();
    if written == 0 || written >= total || nonblocking(entry)? {
        return Ok(written);
    }
    let mut done = written;
    let mut skip = written;
    for buf in iovs {
        let mut rest: &[u8] = buf;
        let past = skip.min(rest.len());
        rest = &rest[past..];
        skip -= past;
        while !rest.is_empty() {
            match once(&[IoSlice::new(rest)]) {
                Ok(n) => {
                    done += n;
                    rest = &rest[n..];
                }
                Err(E::AGAIN) => stop.wait(entry.fd.as_fd(), PollFlags::OUT)?,
                // What was written is written: the error comes with the next call.
                Err(_) => return Ok(done),
            }
        }
    }
    Ok(done)
}

/// `sock_accept`: `accept4(2)`, close-on-exec and non-blocking when `nonblock` says so, as the
/// guest's listener would block.
pub(crate) fn accept(stop: &Stop, entry: &Entry, nonblock: bool) -> Result<OwnedFd, Errno> {
    check(stop)?;
    wait_first(stop, entry, PollFlags::IN)?;
    Ok(crate::net::make::accept(entry.fd.as_fd(), nonblock)?)
}

/// A connect, as the socket `fd` would block (`nonblocking`): a blocking one is made
/// non-blocking for the call and waited for.
pub(crate) fn connect(
    stop: &Stop,
    fd: BorrowedFd<'_>,
    nonblocking: bool,
    addr: &SocketAddrAny,
) -> Result<(), Errno> {
    check(stop)?;
    if nonblocking {
        return Ok(rustix::net::connect(fd, addr)?);
    }
    rustix::io::ioctl_fionbio(fd, true)?;
    let result = (|| {
        match rustix::net::connect(fd, addr) {
            Err(E::INPROGRESS) => {}
            done => return Ok(done?),
        }
        stop.wait(fd, PollFlags::OUT)?;
        match rustix::net::sockopt::socket_error(fd)? {
            Ok(()) => Ok(()),
            Err(e) => Err(e.into()),
        }
    })();
    rustix::io::ioctl_fionbio(fd, false)?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::fd::OwnedFd;
    use wasirun_wasi::Rights;

    fn entry(fd: OwnedFd, nonblocking: bool) -> Entry {
        let flags = match nonblocking {
            true => Fdflags::NONBLOCK,
            false => Fdflags::empty(),
        };
        let rights = Rights::FD_READ | Rights::FD_WRITE;
        let host = crate::table::Host {
            flags: Some(flags),
            ..crate::table::Host::from(fd)
        };
        Entry::new(host, Filetype::Unknown, rights, Rights::empty())
    }

    /// The path macOS and FreeBSD take for every read and write on a pipe, and Linux for
    /// terminals: data is read without waiting, an empty non-blocking pipe is `EAGAIN`, an
    /// empty blocking one waits until the stop.
    #[test]
    fn polled_reads_and_writes() {
        let stop = Stop::new().unwrap();
        let (read_end, write_end) = rustix::pipe::pipe().unwrap();
        let (reader, writer) = (entry(read_end, false), entry(write_end, false));
        let n = polled_write(&stop, &writer, &[IoSlice::new(b"abc")]).unwrap();
        assert_eq!(n, 3);
        let mut buf = [0u8; 8];
        let n = polled_read(&stop, &reader, &mut [IoSliceMut::new(&mut buf)]).unwrap();
        assert_eq!(&buf[..n], b"abc");

        let (read_end, _write_end) = rustix::pipe::pipe().unwrap();
        rustix::io::ioctl_fionbio(&read_end, true).unwrap();
        let empty = entry(read_end, true);
        let got = polled_read(&stop, &empty, &mut [IoSliceMut::new(&mut buf)]);
        assert_eq!(got, Err(Errno::Again));

        crate::stop::StopHandle::new(std::sync::Arc::clone(&stop)).stop();
        let got = polled_read(&stop, &reader, &mut [IoSliceMut::new(&mut buf)]);
        assert_eq!(got, Err(Errno::Intr));
    }
}
