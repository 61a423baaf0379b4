//! Preview 1's socket calls: `sock_accept`, `sock_recv`, `sock_send`, `sock_shutdown` on
//! descriptors that are sockets (preview 1 cannot create them: the host preopens them, or the
//! guest makes them with `path_open` URLs or the WasmEdge functions). On anything else they are
//! `ENOTSOCK`, before any rights check.

use crate::rights;
use crate::system::UnixSystem;
use crate::table::{Entry, Host};
use rustix::fd::AsFd;
use rustix::net::{RecvFlags, ReturnFlags, Shutdown, SocketAddrAny};
use std::io::{IoSlice, IoSliceMut};
use wasirun_wasi::{Errno, Fd, Fdflags, Riflags, Rights, Roflags, Sdflags, Siflags, Size};

/// `sock_accept`: `accept4(2)` with `SOCK_CLOEXEC`, and `SOCK_NONBLOCK` for `NONBLOCK` (or
/// their equivalents where there is no `accept4`: `net/make.rs`), the only flag that applies
/// (others are `EINVAL`). The table is checked for room first, so that a full table does not
/// take a connection only to drop it. The new socket inherits the listening socket's
/// read-only-ness and inheriting rights.
pub(crate) fn accept(sys: &mut UnixSystem, fd: Fd, flags: Fdflags) -> Result<Fd, Errno> {
    if !(flags - Fdflags::NONBLOCK).is_empty() {
        return Err(Errno::Inval);
    }
    let listener = sys.table.socket(fd, Rights::SOCK_ACCEPT)?;
    sys.table.reserve()?;
    let nonblock = flags.contains(Fdflags::NONBLOCK);
    let socket = crate::wait::accept(&sys.stop, listener, nonblock)?;
    let filetype = crate::fs::stat::fd_filetype(socket.as_fd())?;
    let host = Host {
        flags: Some(flags),
        ..Host::from(socket)
    };
    let allowed = rights::applicable(filetype, false);
    let asked = (listener.inheriting, listener.inheriting);
    let entry = Entry::beneath(listener, host, filetype, allowed, asked, sys.table.strict);
    sys.table.insert(entry)
}

/// `sock_recv`: `recvmsg(2)` into the iovecs; `RECV_PEEK` and `RECV_WAITALL` are `MSG_PEEK` and
/// `MSG_WAITALL`, and a datagram cut to fit comes back with `RECV_DATA_TRUNCATED`.
pub(crate) fn recv(
    sys: &mut UnixSystem,
    fd: Fd,
    iovs: &mut [IoSliceMut<'_>],
    flags: Riflags,
) -> Result<(Size, Roflags), Errno> {
    recv_from(sys, fd, iovs, flags).map(|(n, f, _)| (n, f))
}

/// [`recv`], with the sender's address (for datagrams; `None` on a connected stream).
pub(crate) fn recv_from(
    sys: &mut UnixSystem,
    fd: Fd,
    iovs: &mut [IoSliceMut<'_>],
    flags: Riflags,
) -> Result<(Size, Roflags, Option<SocketAddrAny>), Errno> {
    let entry = sys.table.socket(fd, Rights::FD_READ)?;
    let mut host = RecvFlags::empty();
    host.set(RecvFlags::PEEK, flags.contains(Riflags::RECV_PEEK));
    host.set(RecvFlags::WAITALL, flags.contains(Riflags::RECV_WAITALL));
    let total: usize = iovs.iter().map(|b| b.len()).sum();
    let (bytes, returned, address) = crate::wait::recv(&sys.stop, entry, iovs, host)?;
    let mut out = Roflags::empty();
    if returned.contains(ReturnFlags::TRUNC) {
        out |= Roflags::RECV_DATA_TRUNCATED;
    }
    Ok((crate::fs::file::size(bytes.min(total)), out, address))
}

/// `sock_send`: `sendmsg(2)` from the iovecs, with `MSG_NOSIGNAL` (`SO_NOSIGPIPE` on macOS)
/// so that a closed peer is `EPIPE` for the guest rather than `SIGPIPE` for the host. The witx
/// defines no send flag: anything else than 0 is `EINVAL`.
pub(crate) fn send(
    sys: &mut UnixSystem,
    fd: Fd,
    iovs: &[IoSlice<'_>],
    flags: Siflags,
) -> Result<Size, Errno> {
    if flags != 0 {
        return Err(Errno::Inval);
    }
    let entry = sys.table.socket(fd, Rights::FD_WRITE)?;
    let n = crate::wait::send(&sys.stop, entry, iovs, None)?;
    Ok(crate::fs::file::size(n))
}

/// `sock_shutdown`: `shutdown(2)`; no direction at all is `EINVAL`.
pub(crate) fn shutdown(sys: &mut UnixSystem, fd: Fd, how: Sdflags) -> Result<(), Errno> {
    let entry = sys.table.socket(fd, Rights::SOCK_SHUTDOWN)?;
    let how = match (how.contains(Sdflags::RD), how.contains(Sdflags::WR)) {
        (true, true) => Shutdown::Both,
        (true, false) => Shutdown::Read,
        (false, true) => Shutdown::Write,
        (false, false) => return Err(Errno::Inval),
    };
    Ok(rustix::net::shutdown(&entry.fd, how)?)
}
