//! Making and accepting sockets, the way each Unix allows: close-on-exec and non-blocking set
//! atomically where the kernel takes them as flags (`SOCK_CLOEXEC` and `SOCK_NONBLOCK` in
//! `socket(2)`, `accept4(2)`: Linux, FreeBSD), after the call elsewhere (macOS, which has
//! neither: a thread that forks and execs meanwhile may pass the socket on, as with Rust's own
//! sockets there).
//!
//! A send to a peer that closed must be `EPIPE` for the guest, never `SIGPIPE` for the host:
//! `MSG_NOSIGNAL` on each send where there is one ([`SEND`]), the socket option `SO_NOSIGPIPE`
//! set once here on macOS, which has no `MSG_NOSIGNAL`.

#[cfg(target_vendor = "apple")]
use rustix::fd::AsFd;
use rustix::fd::{BorrowedFd, OwnedFd};
use rustix::io::Result;
use rustix::net::{AddressFamily, SendFlags, SocketType};

/// The flags every send adds to the guest's.
#[cfg(not(target_vendor = "apple"))]
pub(crate) const SEND: SendFlags = SendFlags::NOSIGNAL;

/// The flags every send adds to the guest's: none on macOS, where the socket has
/// `SO_NOSIGPIPE` instead.
#[cfg(target_vendor = "apple")]
pub(crate) const SEND: SendFlags = SendFlags::empty();

/// `socket(2)`, close-on-exec, and non-blocking when `nonblock` says so.
pub(crate) fn socket(family: AddressFamily, kind: SocketType, nonblock: bool) -> Result<OwnedFd> {
    #[cfg(not(target_vendor = "apple"))]
    {
        use rustix::net::SocketFlags;
        let mut flags = SocketFlags::CLOEXEC;
        flags.set(SocketFlags::NONBLOCK, nonblock);
        rustix::net::socket_with(family, kind, flags, None)
    }
    #[cfg(target_vendor = "apple")]
    {
        let fd = rustix::net::socket(family, kind, None)?;
        set_after(fd.as_fd(), nonblock)?;
        Ok(fd)
    }
}

/// `accept4(2)` on `listener`: the connection close-on-exec, and non-blocking when `nonblock`
/// says so, whatever the listener is. On macOS, `accept(2)` then the flags: there the
/// connection inherits the listener's `O_NONBLOCK`, which `FIONBIO` sets either way.
pub(crate) fn accept(listener: BorrowedFd<'_>, nonblock: bool) -> Result<OwnedFd> {
    #[cfg(not(target_vendor = "apple"))]
    {
        use rustix::net::SocketFlags;
        let mut flags = SocketFlags::CLOEXEC;
        flags.set(SocketFlags::NONBLOCK, nonblock);
        rustix::net::accept_with(listener, flags)
    }
    #[cfg(target_vendor = "apple")]
    {
        let fd = rustix::net::accept(listener)?;
        set_after(fd.as_fd(), nonblock)?;
        Ok(fd)
    }
}

/// What the flags of `socket` and `accept4` do, after the call: close-on-exec, `O_NONBLOCK`
/// as `nonblock` says (`FIONBIO`), and on macOS `SO_NOSIGPIPE`.
#[cfg_attr(not(target_vendor = "apple"), allow(dead_code))]
fn set_after(fd: BorrowedFd<'_>, nonblock: bool) -> Result<()> {
    rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::CLOEXEC)?;
    rustix::io::ioctl_fionbio(fd, nonblock)?;
    #[cfg(target_vendor = "apple")]
    rustix::net::sockopt::set_socket_nosigpipe(fd, true)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::fd::AsFd;
    use rustix::fs::OFlags;
    use rustix::io::FdFlags;

    fn flags(fd: BorrowedFd<'_>) -> (bool, bool) {
        let cloexec = rustix::io::fcntl_getfd(fd)
            .unwrap()
            .contains(FdFlags::CLOEXEC);
        let nonblock = rustix::fs::fcntl_getfl(fd)
            .unwrap()
            .contains(OFlags::NONBLOCK);
        (cloexec, nonblock)
    }

    #[test]
    fn sockets_and_connections_are_cloexec_and_nonblocking_as_asked() {
        let listener = socket(AddressFamily::INET, SocketType::STREAM, true).unwrap();
        assert_eq!(flags(listener.as_fd()), (true, true));
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        rustix::net::bind(&listener, &addr).unwrap();
        rustix::net::listen(&listener, 4).unwrap();
        let local = rustix::net::getsockname(&listener).unwrap();
        for nonblock in [false, true] {
            let dial = socket(AddressFamily::INET, SocketType::STREAM, false).unwrap();
            assert_eq!(flags(dial.as_fd()), (true, false));
            rustix::net::connect(&dial, &local).unwrap();
            let conn = accept(listener.as_fd(), nonblock).unwrap();
            assert_eq!(flags(conn.as_fd()), (true, nonblock));
        }
    }

    /// The macOS way, on a socket made without flags: the same flags after the fact.
    #[test]
    fn flags_set_after_the_call() {
        let fd = rustix::net::socket(AddressFamily::INET, SocketType::DGRAM, None).unwrap();
        assert_eq!(flags(fd.as_fd()), (false, false));
        set_after(fd.as_fd(), true).unwrap();
        assert_eq!(flags(fd.as_fd()), (true, true));
        set_after(fd.as_fd(), false).unwrap();
        assert_eq!(flags(fd.as_fd()), (true, false));
    }
}
