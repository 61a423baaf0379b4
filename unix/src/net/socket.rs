//! Making sockets the host asked for (`--listen`, `--dial`) or the guest did (`path_open`
//! socket URLs, [`SocketUrls`](crate::SocketUrls)): `socket(2)`, the options, then `bind(2)` + `listen(2)` or `connect(2)`.

use super::policy::Policy;
use super::spec::{Proto, Role, Spec};
use crate::stop::Stop;
use rustix::event::PollFlags;
use rustix::fd::{AsFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketType, sockopt};
use std::net::SocketAddr;

/// Makes the socket `spec` describes, trying each address the host resolves to until one
/// works; the last error otherwise.
///
/// - For the guest (`guest` given): the policy may refuse an address with `EACCES`, and a
///   non-blocking dial returns at once, the connection possibly still in progress (`SO_ERROR`
///   tells how it ended once the socket is writable); a blocking dial waits for the connection
///   or the stop ([`Stop::wait`]).
/// - For the host (no policy): a dial is connected before this returns, so that a refused one
///   is an error at start; `nonblock` then applies to the connected socket.
pub fn open(spec: &Spec, role: Role, guest: Option<(&Policy, &Stop)>) -> std::io::Result<OwnedFd> {
    let mut last = std::io::Error::from(Errno::ADDRNOTAVAIL);
    for addr in spec.addrs(role)? {
        if let Some((policy, _)) = guest {
            let allowed = match role {
                Role::Listen => policy.allows_bind(&addr),
                Role::Dial => policy.allows_connect(&addr),
            };
            if !allowed {
                last = Errno::ACCESS.into();
                continue;
            }
        }
        match open_one(spec, role, &addr, guest.map(|(_, stop)| stop)) {
            Ok(fd) => return Ok(fd),
            Err(e) => last = e.into(),
        }
    }
    Err(last)
}

/// One address: `stop` is the guest's, `None` for the host's sockets.
fn open_one(
    spec: &Spec,
    role: Role,
    addr: &SocketAddr,
    stop: Option<&Stop>,
) -> Result<OwnedFd, Errno> {
    let connect_first = stop.is_none() && role == Role::Dial;
    // A guest's blocking dial connects without blocking, and waits where a stop wakes it.
    let waited = stop.filter(|_| role == Role::Dial && !spec.nonblock);
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::INET,
        SocketAddr::V6(_) => AddressFamily::INET6,
    };
    let kind = match spec.proto {
        Proto::Tcp => SocketType::STREAM,
        Proto::Udp => SocketType::DGRAM,
    };
    let nonblock = (spec.nonblock && !connect_first) || waited.is_some();
    let fd = super::make::socket(family, kind, nonblock)?;
    if spec.proto == Proto::Tcp && role == Role::Dial {
        sockopt::set_tcp_nodelay(&fd, spec.nodelay)?;
    }
    match role {
        Role::Listen => {
            sockopt::set_socket_reuseaddr(&fd, spec.reuseaddr)?;
            rustix::net::bind(&fd, addr)?;
            if spec.proto == Proto::Tcp {
                // Accepted connections inherit TCP_NODELAY from the listener on Linux.
                sockopt::set_tcp_nodelay(&fd, spec.nodelay)?;
                rustix::net::listen(&fd, spec.backlog)?;
            }
        }
        Role::Dial => match (rustix::net::connect(&fd, addr), waited) {
            (Ok(()), _) => {}
            (Err(Errno::INPROGRESS), Some(stop)) => {
                // A stop is EINTR, which the glue turns into a trap.
                stop.wait(fd.as_fd(), PollFlags::OUT)
                    .map_err(|_| Errno::INTR)?;
                sockopt::socket_error(&fd)??;
            }
            (Err(Errno::INPROGRESS), None) if spec.nonblock && !connect_first => {}
            (Err(e), _) => return Err(e),
        },
    }
    if waited.is_some() {
        rustix::io::ioctl_fionbio(&fd, false)?;
    }
    if spec.nonblock && connect_first {
        rustix::io::ioctl_fionbio(&fd, true)?;
    }
    Ok(fd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn listen_then_dial() {
        let spec = Spec::parse_flag("127.0.0.1:0?backlog=4", Role::Listen).unwrap();
        let listener = TcpListener::from(open(&spec, Role::Listen, None).unwrap());
        let port = listener.local_addr().unwrap().port();
        let spec = Spec::parse_flag(&format!("tcp4://127.0.0.1:{port}"), Role::Dial).unwrap();
        let conn = open(&spec, Role::Dial, None).unwrap();
        // Connected before it is handed over, then non-blocking (the flags' default).
        let flags = rustix::fs::fcntl_getfl(&conn).unwrap();
        assert!(flags.contains(rustix::fs::OFlags::NONBLOCK));
        let conn = std::net::TcpStream::from(conn);
        let (peer, _) = listener.accept().unwrap();
        assert_eq!(peer.peer_addr().unwrap(), conn.local_addr().unwrap());
        assert!(conn.nodelay().unwrap());
    }

    #[test]
    fn refused_by_policy() {
        let spec = Spec::parse_flag("127.0.0.1:1", Role::Dial).unwrap();
        let stop = Stop::new().unwrap();
        let e = open(&spec, Role::Dial, Some((&Policy::default(), &stop))).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(Errno::ACCESS.raw_os_error()));
    }
}
