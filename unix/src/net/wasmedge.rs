//! The WasmEdge sockets extension (`witx/wasmedge/`) on the host's sockets: the guest makes,
//! binds, connects and queries sockets itself, within the network [`Policy`](super::Policy).
//!
//! - `sock_open` makes a socket with `SOCK_CLOEXEC`: `inet4`, `inet6` or `unix`; `unspec` is
//!   `EAFNOSUPPORT`; type `any` is a stream.
//! - `sock_bind` and `sock_connect` check the policy first (`EACCES`); a non-blocking connect
//!   answers `EINPROGRESS`, and `SO_ERROR` (`sock_getsockopt`) tells how it ended; a blocking
//!   one waits, and a stop wakes it ([`wait`](crate::wait)).
//! - `sock_send_to` checks the destination as a connect.
//! - Socket options: see [`sockopt`](super::sockopt).
//! - `sock_getaddrinfo`: `EACCES` unless the policy allows name lookups; then see
//!   [`resolve`](super::resolve).

use super::sock;
use crate::system::UnixSystem;
use crate::table::Entry;
use rustix::fd::AsFd;
use rustix::net::{AddressFamily as Af, SocketAddrAny, SocketAddrUnix, SocketType};
use std::io::{IoSlice, IoSliceMut};
use std::net::SocketAddr;
use wasirun_wasi::sockaddr::{self, Address};
use wasirun_wasi::wasmedge::types::{
    AddressFamily, Addrinfo, IpVersion, Port, SockOptLevel, SockOptName, SockType,
};
use wasirun_wasi::{
    Errno, Fd, Fdflags, Riflags, Rights, Roflags, Siflags, Size, Wasmedge, abi::Chained,
};

impl Wasmedge for UnixSystem {
    fn sock_open(&mut self, af: AddressFamily, socktype: SockType) -> Result<Fd, Errno> {
        open(self, af, socktype)
    }
    fn sock_bind(&mut self, fd: Fd, addr: &[u8], port: Port) -> Result<(), Errno> {
        bind(self, fd, addr, port)
    }
    fn sock_connect(&mut self, fd: Fd, addr: &[u8], port: Port) -> Result<(), Errno> {
        connect(self, fd, addr, port)
    }
    fn sock_listen(&mut self, fd: Fd, backlog: u32) -> Result<(), Errno> {
        let entry = self.table.get(fd, Rights::empty())?;
        autobind_allowed(self, entry)?;
        let backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
        Ok(rustix::net::listen(&entry.fd, backlog)?)
    }
    fn sock_accept_v1(&mut self, fd: Fd) -> Result<Fd, Errno> {
        sock::accept(self, fd, Fdflags::empty())
    }
    fn sock_accept_v2(&mut self, fd: Fd, flags: Fdflags) -> Result<Fd, Errno> {
        sock::accept(self, fd, flags)
    }
    fn sock_recv_v2(
        &mut self,
        fd: Fd,
        ri_data: &mut [IoSliceMut<'_>],
        ri_flags: Riflags,
    ) -> Result<(Size, Roflags), Errno> {
        sock::recv(self, fd, ri_data, ri_flags)
    }
    fn sock_send_v2(
        &mut self,
        fd: Fd,
        si_data: &[IoSlice<'_>],
        si_flags: Siflags,
    ) -> Result<Size, Errno> {
        sock::send(self, fd, si_data, si_flags)
    }
    fn sock_recv_from_v1(
        &mut self,
        fd: Fd,
        ri_data: &mut [IoSliceMut<'_>],
        addr: &mut [u8],
        ri_flags: Riflags,
    ) -> Result<(Size, Roflags), Errno> {
        let (n, flags, from) = sock::recv_from(self, fd, ri_data, ri_flags)?;
        if let Some(from) = from {
            sockaddr::encode_raw(&address(&from)?.0.guest(), addr)?;
        }
        Ok((n, flags))
    }
    fn sock_recv_from_v2(
        &mut self,
        fd: Fd,
        ri_data: &mut [IoSliceMut<'_>],
        addr: &mut [u8],
        ri_flags: Riflags,
    ) -> Result<(Port, Size, Roflags), Errno> {
        let (n, flags, from) = sock::recv_from(self, fd, ri_data, ri_flags)?;
        let mut port = 0;
        if let Some(from) = from {
            let (from, p) = address(&from)?;
            sockaddr::encode_block(&from.guest(), addr)?;
            port = p;
        }
        Ok((port, n, flags))
    }
    fn sock_send_to(
        &mut self,
        fd: Fd,
        si_data: &[IoSlice<'_>],
        addr: &[u8],
        port: Port,
        si_flags: Siflags,
    ) -> Result<Size, Errno> {
        send_to(self, fd, si_data, addr, port, si_flags)
    }
    fn sock_getsockopt(
        &mut self,
        fd: Fd,
        level: SockOptLevel,
        name: SockOptName,
        value: &mut [u8],
    ) -> Result<Size, Errno> {
        let entry = self.table.get(fd, Rights::empty())?;
        super::sockopt::get(entry.fd.as_fd(), level, name, value)
    }
    fn sock_setsockopt(
        &mut self,
        fd: Fd,
        level: SockOptLevel,
        name: SockOptName,
        value: &[u8],
    ) -> Result<(), Errno> {
        let entry = self.table.get(fd, Rights::empty())?;
        super::sockopt::set(entry.fd.as_fd(), level, name, value)
    }
    fn sock_getlocaladdr_v1(
        &mut self,
        fd: Fd,
        addr: &mut [u8],
    ) -> Result<(IpVersion, Port), Errno> {
        let (a, port) = address(&rustix::net::getsockname(&self.table.entry(fd)?.fd)?)?;
        Ok((sockaddr::encode_raw(&a.guest(), addr)?, port))
    }
    fn sock_getlocaladdr_v2(&mut self, fd: Fd, addr: &mut [u8]) -> Result<Port, Errno> {
        let (a, port) = address(&rustix::net::getsockname(&self.table.entry(fd)?.fd)?)?;
        sockaddr::encode_block(&a.guest(), addr)?;
        Ok(port)
    }
    fn sock_getpeeraddr_v1(&mut self, fd: Fd, addr: &mut [u8]) -> Result<(IpVersion, Port), Errno> {
        let (a, port) = address(&peer(self, fd)?)?;
        Ok((sockaddr::encode_raw(&a.guest(), addr)?, port))
    }
    fn sock_getpeeraddr_v2(&mut self, fd: Fd, addr: &mut [u8]) -> Result<Port, Errno> {
        let (a, port) = address(&peer(self, fd)?)?;
        sockaddr::encode_block(&a.guest(), addr)?;
        Ok(port)
    }
    fn sock_getaddrinfo(
        &mut self,
        node: &[u8],
        service: &[u8],
        hints: Addrinfo,
        res: &mut [<Addrinfo as Chained>::Value],
    ) -> Result<Size, Errno> {
        if !self.net.policy.allows_name_lookup() {
            return Err(Errno::Acces);
        }
        super::resolve::getaddrinfo(node, service, &hints, res)
    }
    fn stop_requested(&mut self) -> bool {
        self.stop.requested()
    }
}

/// `sock_open`.
fn open(sys: &mut UnixSystem, af: AddressFamily, socktype: SockType) -> Result<Fd, Errno> {
    let family = match af {
        AddressFamily::Inet4 => Af::INET,
        AddressFamily::Inet6 => Af::INET6,
        AddressFamily::Unix => Af::UNIX,
        AddressFamily::Unspec => return Err(Errno::Afnosupport),
    };
    let kind = match socktype {
        SockType::Dgram => SocketType::DGRAM,
        SockType::Stream | SockType::Any => SocketType::STREAM,
    };
    sys.table.reserve()?;
    let socket = super::make::socket(family, kind, false)?;
    let entry: Entry = crate::fd::host_entry(socket)?;
    sys.table.insert(entry)
}

/// The host address a guest's address buffer and port stand for, if the policy allows it.
fn host_addr(
    sys: &UnixSystem,
    buf: &[u8],
    port: Port,
    allowed: impl Fn(&SocketAddr) -> bool,
) -> Result<SocketAddrAny, Errno> {
    match sockaddr::decode(buf, port)? {
        Address::Ip(ip) if allowed(&ip) => Ok(ip.into()),
        Address::Unix(path) if sys.net.policy.allows_unix() => {
            Ok(SocketAddrUnix::new(path).map_err(Errno::from)?.into())
        }
        _ => Err(Errno::Acces),
    }
}

/// `sock_bind`.
fn bind(sys: &mut UnixSystem, fd: Fd, buf: &[u8], port: Port) -> Result<(), Errno> {
    let addr = host_addr(sys, buf, port, |a| sys.net.policy.allows_bind(a))?;
    let entry = sys.table.get(fd, Rights::empty())?;
    Ok(rustix::net::bind(&entry.fd, &addr)?)
}

/// `listen(2)` on an internet stream socket never bound binds it first, to the wildcard
/// address and a free port: a bind like any other, under the policy (`EACCES`), as `bind` to
/// `0.0.0.0:0` would be. Found writing the `host_calls` fuzz target's network check: under the
/// default policy a guest could listen on a port of every interface. (Linux refuses to listen
/// on a Unix socket never bound, `EINVAL`.)
fn autobind_allowed(sys: &UnixSystem, entry: &Entry) -> Result<(), Errno> {
    if rustix::net::sockopt::socket_type(&entry.fd)? != SocketType::STREAM {
        return Ok(());
    }
    match SocketAddr::try_from(rustix::net::getsockname(&entry.fd)?) {
        Ok(ip) if ip.port() == 0 && !sys.net.policy.allows_bind(&ip) => Err(Errno::Acces),
        _ => Ok(()),
    }
}

/// `sock_connect`.
fn connect(sys: &mut UnixSystem, fd: Fd, buf: &[u8], port: Port) -> Result<(), Errno> {
    let addr = host_addr(sys, buf, port, |a| sys.net.policy.allows_connect(a))?;
    let entry = sys.table.get(fd, Rights::empty())?;
    let nonblocking = crate::wait::nonblocking(entry)?;
    crate::wait::connect(&sys.stop, entry.fd.as_fd(), nonblocking, &addr)
}

/// `sock_send_to`: `sendmsg(2)` to the address, with `MSG_NOSIGNAL`; no send flag is defined.
fn send_to(
    sys: &mut UnixSystem,
    fd: Fd,
    iovs: &[IoSlice<'_>],
    buf: &[u8],
    port: Port,
    flags: Siflags,
) -> Result<Size, Errno> {
    if flags != 0 {
        return Err(Errno::Inval);
    }
    let addr = host_addr(sys, buf, port, |a| sys.net.policy.allows_connect(a))?;
    let entry = sys.table.get(fd, Rights::FD_WRITE)?;
    let n = crate::wait::send(&sys.stop, entry, iovs, Some(&addr))?;
    Ok(crate::fs::file::size(n))
}

fn peer(sys: &UnixSystem, fd: Fd) -> Result<SocketAddrAny, Errno> {
    rustix::net::getpeername(&sys.table.entry(fd)?.fd)?.ok_or(Errno::Notconn)
}

/// A host socket address, owned.
enum HostAddr {
    Ip(SocketAddr),
    Unix(Vec<u8>),
}

impl HostAddr {
    fn guest(&self) -> Address<'_> {
        match self {
            HostAddr::Ip(ip) => Address::Ip(*ip),
            HostAddr::Unix(path) => Address::Unix(path),
        }
    }
}

/// A host socket address as the guest sees it, with the port apart.
fn address(addr: &SocketAddrAny) -> Result<(HostAddr, Port), Errno> {
    match SocketAddr::try_from(addr.clone()) {
        Ok(ip) => Ok((HostAddr::Ip(ip), Port::from(ip.port()))),
        Err(_) => {
            let unix = SocketAddrUnix::try_from(addr.clone()).map_err(|_| Errno::Afnosupport)?;
            let path = unix.path_bytes().unwrap_or_default().to_vec();
            Ok((HostAddr::Unix(path), 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Builder, Policy};

    /// The reproducer from the fuzzer: `sock_open` then `sock_listen`, with no `sock_bind`.
    #[test]
    fn listen_without_bind_is_a_bind_under_the_policy() {
        for af in [AddressFamily::Inet4, AddressFamily::Inet6] {
            let mut sys = Builder::new().build().unwrap();
            let fd = sys.sock_open(af, SockType::Stream).unwrap();
            assert_eq!(sys.sock_listen(fd, 1), Err(Errno::Acces), "{af:?}");
            let mut all = Policy::default();
            all.allow_all();
            let mut sys = Builder::new().policy(all).build().unwrap();
            let fd = sys.sock_open(af, SockType::Stream).unwrap();
            assert_eq!(sys.sock_listen(fd, 1), Ok(()), "{af:?}");
        }
        let mut port0 = Policy::default();
        port0.allow_bind("0.0.0.0:0").unwrap();
        let mut sys = Builder::new().policy(port0).build().unwrap();
        let fd = sys
            .sock_open(AddressFamily::Inet4, SockType::Stream)
            .unwrap();
        assert_eq!(sys.sock_listen(fd, 1), Ok(()));
        // No autobind, the kernel's answers: a Unix socket never bound, a datagram socket.
        let fd = sys
            .sock_open(AddressFamily::Unix, SockType::Stream)
            .unwrap();
        assert_eq!(sys.sock_listen(fd, 1), Err(Errno::Inval));
        let fd = sys
            .sock_open(AddressFamily::Inet4, SockType::Dgram)
            .unwrap();
        assert_eq!(sys.sock_listen(fd, 1), Err(Errno::Notsup));
    }
}
