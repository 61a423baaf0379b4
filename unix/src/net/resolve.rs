//! `sock_getaddrinfo` (WasmEdge): the host's resolver, `getaddrinfo(3)` from the C library, so
//! that the guest resolves names as host programs do (`/etc/hosts`, `nsswitch.conf`, DNS) and
//! service names (`http`) work.
//!
//! - `node` and `service` may end in one NUL (guests add it), which is dropped; a NUL inside,
//!   bytes that are not UTF-8, more than 1,024 bytes (`NI_MAXHOST`), or both empty are
//!   `EINVAL`.
//! - The hints' flags, family, socket type and protocol go to the resolver; `unix` is
//!   `EAFNOSUPPORT`. Results are IPv4 and IPv6 stream and datagram entries, in the resolver's
//!   order, as many as the guest's list holds.
//! - The call blocks the instance while it resolves, as `getaddrinfo` does a C program.
//!
//! Resolver failures become errnos here (the resolver has its own codes): no such name or no
//! address for it (`EAI_NONAME`, `EAI_NODATA`, `EAI_ADDRFAMILY`) is `ENOENT`; a temporary
//! failure (`EAI_AGAIN`) `EAGAIN`; a permanent one (`EAI_FAIL`) `EIO`; an unsupported family
//! (`EAI_FAMILY`) `EAFNOSUPPORT`, socket type (`EAI_SOCKTYPE`) `EPROTOTYPE`, service for the
//! type (`EAI_SERVICE`) `EPROTONOSUPPORT`; bad flags `EINVAL`; no memory `ENOMEM`; a system
//! error its errno.

use std::ffi::CString;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use wasirun_wasi::sockaddr::AddrInfo;
use wasirun_wasi::wasmedge::types::{AddressFamily, Addrinfo, Aiflags, Protocol, SockType};
use wasirun_wasi::{Errno, Size};

/// Resolves into `res`; the number of results filled.
pub(crate) fn getaddrinfo(
    node: &[u8],
    service: &[u8],
    hints: &Addrinfo,
    res: &mut [AddrInfo],
) -> Result<Size, Errno> {
    let (node, service) = (c_string(node)?, c_string(service)?);
    if node.is_none() && service.is_none() {
        return Err(Errno::Inval);
    }
    // SAFETY: an all-zero addrinfo is a valid "no hints" value (null pointers, zero ints).
    let mut c_hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    c_hints.ai_flags = flags(hints.flags);
    c_hints.ai_family = match hints.family {
        AddressFamily::Unspec => libc::AF_UNSPEC,
        AddressFamily::Inet4 => libc::AF_INET,
        AddressFamily::Inet6 => libc::AF_INET6,
        AddressFamily::Unix => return Err(Errno::Afnosupport),
    };
    c_hints.ai_socktype = match hints.socktype {
        SockType::Any => 0,
        SockType::Dgram => libc::SOCK_DGRAM,
        SockType::Stream => libc::SOCK_STREAM,
    };
    c_hints.ai_protocol = match hints.protocol {
        Protocol::Ip => 0,
        Protocol::Tcp => libc::IPPROTO_TCP,
        Protocol::Udp => libc::IPPROTO_UDP,
    };
    let mut list: *mut libc::addrinfo = std::ptr::null_mut();
    let as_ptr = |s: &Option<CString>| s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
    // SAFETY: node and service are NUL-terminated or null, the hints are initialized, and
    // `list` receives a list that is freed below with freeaddrinfo.
    let rc = unsafe { libc::getaddrinfo(as_ptr(&node), as_ptr(&service), &c_hints, &mut list) };
    if rc != 0 {
        return Err(resolver_errno(rc));
    }
    let mut filled = 0;
    let mut cur = list;
    while !cur.is_null() && filled < res.len() {
        // SAFETY: `cur` is a node of the list getaddrinfo returned, not yet freed.
        let ai = unsafe { &*cur };
        cur = ai.ai_next;
        let socktype = match ai.ai_socktype {
            libc::SOCK_STREAM => SockType::Stream,
            libc::SOCK_DGRAM => SockType::Dgram,
            _ => continue,
        };
        let protocol = match ai.ai_protocol {
            libc::IPPROTO_TCP => Protocol::Tcp,
            libc::IPPROTO_UDP => Protocol::Udp,
            _ => Protocol::Ip,
        };
        // SAFETY: ai_addr points at ai_addrlen bytes of a sockaddr of family ai_family.
        let Some(addr) = (unsafe { socket_addr(ai) }) else {
            continue;
        };
        res[filled] = AddrInfo {
            socktype,
            protocol,
            addr,
        };
        filled += 1;
    }
    // SAFETY: `list` came from getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(list) };
    Ok(filled as Size)
}

/// The longest `node` or `service` taken, NUL included: the C library's `NI_MAXHOST`. A DNS
/// name has at most 253 bytes, so this cuts no real name, and no guest length sizes the copy
/// made to add the NUL.
const NAME_MAX: usize = 1025;

/// The bytes without one trailing NUL, as a C string; `None` when empty.
fn c_string(bytes: &[u8]) -> Result<Option<CString>, Errno> {
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    if bytes.len() >= NAME_MAX {
        return Err(Errno::Inval);
    }
    if bytes.is_empty() {
        return Ok(None);
    }
    std::str::from_utf8(bytes).map_err(|_| Errno::Inval)?;
    CString::new(bytes).map(Some).map_err(|_| Errno::Inval)
}

fn flags(f: Aiflags) -> i32 {
    [
        (Aiflags::PASSIVE, libc::AI_PASSIVE),
        (Aiflags::CANONNAME, libc::AI_CANONNAME),
        (Aiflags::NUMERICHOST, libc::AI_NUMERICHOST),
        (Aiflags::NUMERICSERV, libc::AI_NUMERICSERV),
        (Aiflags::V4MAPPED, libc::AI_V4MAPPED),
        (Aiflags::ALL, libc::AI_ALL),
        (Aiflags::ADDRCONFIG, libc::AI_ADDRCONFIG),
    ]
    .into_iter()
    .filter(|(w, _)| f.contains(*w))
    .fold(0, |acc, (_, c)| acc | c)
}

/// # Safety
/// `ai.ai_addr` must point at `ai.ai_addrlen` readable bytes of a sockaddr of `ai.ai_family`.
unsafe fn socket_addr(ai: &libc::addrinfo) -> Option<SocketAddr> {
    let len = ai.ai_addrlen as usize;
    match ai.ai_family {
        libc::AF_INET if len >= size_of::<libc::sockaddr_in>() => {
            // SAFETY: the caller's promise, and the length is checked.
            let sin = unsafe { &*(ai.ai_addr as *const libc::sockaddr_in) };
            let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            Some(SocketAddrV4::new(ip, u16::from_be(sin.sin_port)).into())
        }
        libc::AF_INET6 if len >= size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above.
            let sin6 = unsafe { &*(ai.ai_addr as *const libc::sockaddr_in6) };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            let port = u16::from_be(sin6.sin6_port);
            Some(SocketAddrV6::new(ip, port, sin6.sin6_flowinfo, sin6.sin6_scope_id).into())
        }
        _ => None,
    }
}

/// The codes for "no address for that name" besides `EAI_NONAME`, which each C library numbers
/// its own way: glibc's `EAI_NODATA` (-5) and `EAI_ADDRFAMILY` (-9, under `__USE_GNU`, which
/// the libc crate leaves out; musl has the same numbers); macOS's `EAI_ADDRFAMILY` (1) and
/// `EAI_NODATA` (7). FreeBSD's `<netdb.h>` retired both (RFC 3493): its resolver says
/// `EAI_NONAME` for them.
#[cfg(target_os = "linux")]
const NO_ADDRESS: [i32; 2] = [libc::EAI_NODATA, -9];
#[cfg(target_vendor = "apple")]
const NO_ADDRESS: [i32; 2] = [1, libc::EAI_NODATA];
#[cfg(target_os = "freebsd")]
const NO_ADDRESS: [i32; 0] = [];

fn resolver_errno(rc: i32) -> Errno {
    match rc {
        libc::EAI_NONAME => Errno::Noent,
        _ if NO_ADDRESS.contains(&rc) => Errno::Noent,
        libc::EAI_AGAIN => Errno::Again,
        libc::EAI_FAIL => Errno::Io,
        libc::EAI_FAMILY => Errno::Afnosupport,
        libc::EAI_SOCKTYPE => Errno::Prototype,
        libc::EAI_SERVICE => Errno::Protonosupport,
        libc::EAI_BADFLAGS => Errno::Inval,
        libc::EAI_MEMORY => Errno::Nomem,
        libc::EAI_OVERFLOW => Errno::Overflow,
        libc::EAI_SYSTEM => std::io::Error::last_os_error().into(),
        _ => Errno::Io,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hints(family: AddressFamily) -> Addrinfo {
        Addrinfo {
            flags: Aiflags::empty(),
            family,
            socktype: SockType::Stream,
            protocol: Protocol::Ip,
            addrlen: 0,
            addr: 0,
            canonname: 0,
            canonnamelen: 0,
            next: 0,
        }
    }

    #[test]
    fn numeric_and_local_names() {
        let mut res = [AddrInfo::default(); 8];
        let n = getaddrinfo(
            b"127.0.0.1\0",
            b"80\0",
            &hints(AddressFamily::Unspec),
            &mut res,
        );
        assert_eq!(n, Ok(1));
        assert_eq!(res[0].addr, "127.0.0.1:80".parse().unwrap());
        assert_eq!(res[0].socktype, SockType::Stream);
        let n = getaddrinfo(
            b"localhost",
            b"8080",
            &hints(AddressFamily::Inet4),
            &mut res,
        )
        .unwrap();
        assert!(n >= 1 && res[..n as usize].iter().all(|r| r.addr.is_ipv4()));
        let mut one = [AddrInfo::default(); 1];
        assert_eq!(
            getaddrinfo(b"localhost", b"1", &hints(AddressFamily::Unspec), &mut one),
            Ok(1)
        );
    }

    #[test]
    fn ipv6() {
        let mut res = [AddrInfo::default(); 4];
        let mut h = hints(AddressFamily::Inet6);
        h.socktype = SockType::Dgram;
        let n = getaddrinfo(b"::1", b"53", &h, &mut res).unwrap();
        assert_eq!(n, 1);
        assert_eq!(res[0].addr, "[::1]:53".parse().unwrap());
        assert_eq!(
            (res[0].socktype, res[0].protocol),
            (SockType::Dgram, Protocol::Udp)
        );
        // An IPv4 address with V4MAPPED for IPv6: the mapped address.
        h.flags = Aiflags::V4MAPPED;
        let n = getaddrinfo(b"127.0.0.1", b"53", &h, &mut res).unwrap();
        assert_eq!(n, 1);
        assert_eq!(res[0].addr, "[::ffff:127.0.0.1]:53".parse().unwrap());
    }

    #[test]
    fn errors() {
        let mut res = [AddrInfo::default(); 1];
        let h = hints(AddressFamily::Unspec);
        assert_eq!(getaddrinfo(b"", b"\0", &h, &mut res), Err(Errno::Inval));
        assert_eq!(getaddrinfo(b"a\0b", b"1", &h, &mut res), Err(Errno::Inval));
        let long = vec![b'a'; NAME_MAX];
        assert_eq!(getaddrinfo(&long, b"1", &h, &mut res), Err(Errno::Inval));
        assert_eq!(getaddrinfo(b"x", &long, &h, &mut res), Err(Errno::Inval));
        assert_eq!(
            getaddrinfo(b"x", b"1", &hints(AddressFamily::Unix), &mut res),
            Err(Errno::Afnosupport)
        );
        let mut numeric = h;
        numeric.flags = Aiflags::NUMERICHOST;
        assert_eq!(
            getaddrinfo(b"localhost", b"1", &numeric, &mut res),
            Err(Errno::Noent)
        );
    }
}
