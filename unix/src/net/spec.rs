//! Socket addresses as the host writes them: the values of `--listen` and `--dial`, and the
//! socket URLs a guest opens with `path_open`.
//!
//! - Flags: `HOST:PORT`, `:PORT` (every interface to listen, loopback to dial), or a URL
//!   `tcp://HOST:PORT`, `tcp4://...`, `tcp6://...` (`udp`, `udp4`, `udp6` too).
//! - `path_open`: the scheme names the role, `tcp+listen://HOST:PORT`, `tcp+dial://...`, with
//!   `tcp4`, `tcp6`, `udp`, `udp4`, `udp6` in front of `+`.
//! - Options after `?`, joined by `&`: `reuseaddr=0|1` (default 1 to listen), `nonblock=0|1`,
//!   `backlog=N` (default 128), `nodelay=0|1` (TCP, default 1, as Go sets it).
//! - `nonblock` defaults to 1 for the flags: guests with their own scheduler (Go's
//!   `net.FileListener`, tokio) take a preopened socket as it is and expect it non-blocking, as
//!   wasi-go and wasmtime hand them out. For `path_open` it defaults to 0: the guest asks with
//!   the `NONBLOCK` fdflag, as for a file.
//!   An unknown option, or a value that is not one, is an error: a typo must not be ignored.
//! - IPv6 hosts go in brackets: `[::1]:8080`. A host name is resolved when the socket is made.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

/// Stream (TCP) or datagram (UDP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// Which addresses a host name may resolve to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// IPv4 or IPv6 (`tcp://`, or no scheme).
    Any,
    /// IPv4 only (`tcp4://`).
    V4,
    /// IPv6 only (`tcp6://`).
    V6,
}

/// Whether the socket waits for peers or reaches one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Bound, and listening for TCP.
    Listen,
    /// Connected.
    Dial,
}

/// A socket to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    /// TCP or UDP.
    pub proto: Proto,
    /// The address family the host must resolve to.
    pub family: Family,
    /// The host: an IP address or a name; empty for `:PORT`.
    pub host: String,
    /// The port.
    pub port: u16,
    /// `SO_REUSEADDR` before binding.
    pub reuseaddr: bool,
    /// `O_NONBLOCK` from the start; a non-blocking dial may still be in progress when the
    /// socket is handed over.
    pub nonblock: bool,
    /// The `listen(2)` backlog.
    pub backlog: i32,
    /// `TCP_NODELAY`.
    pub nodelay: bool,
}

/// Why a socket address does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SpecError(String);

fn bad(what: impl fmt::Display) -> SpecError {
    SpecError(what.to_string())
}

impl Spec {
    /// A `--listen` or `--dial` value.
    pub fn parse_flag(s: &str, role: Role) -> Result<Spec, SpecError> {
        let (proto, family, rest) = match s.split_once("://") {
            Some((scheme, rest)) => {
                let (proto, family) = scheme_proto(scheme).ok_or_else(|| {
                    bad(format!(
                        "unknown scheme {scheme:?}: use tcp, tcp4, tcp6, udp, udp4 or udp6"
                    ))
                })?;
                (proto, family, rest)
            }
            None => (Proto::Tcp, Family::Any, s),
        };
        Spec::parse_rest(proto, family, rest, role, true)
    }

    /// A `path_open` socket URL: `tcp+listen://...` and friends. `None` when `s` is not one
    /// (a plain path); an error when it is one, badly written.
    pub fn parse_url(s: &str) -> Option<Result<(Role, Spec), SpecError>> {
        let (scheme, rest) = s.split_once("://")?;
        let (proto, role) = scheme.split_once('+')?;
        let (proto, family) = scheme_proto(proto)?;
        let role = match role {
            "listen" => Role::Listen,
            "dial" => Role::Dial,
            _ => return None,
        };
        Some(Spec::parse_rest(proto, family, rest, role, false).map(|spec| (role, spec)))
    }

    fn parse_rest(
        proto: Proto,
        family: Family,
        rest: &str,
        role: Role,
        nonblock: bool,
    ) -> Result<Spec, SpecError> {
        let (hostport, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (host, port) = split_host_port(hostport)?;
        let mut spec = Spec {
            proto,
            family,
            host: host.to_string(),
            port,
            reuseaddr: role == Role::Listen,
            nonblock,
            backlog: 128,
            nodelay: true,
        };
        for option in query.split('&').filter(|o| !o.is_empty()) {
            let (key, value) = option
                .split_once('=')
                .ok_or_else(|| bad(format!("option {option:?} has no value")))?;
            match key {
                "reuseaddr" => spec.reuseaddr = boolean(key, value)?,
                "nonblock" => spec.nonblock = boolean(key, value)?,
                "nodelay" => spec.nodelay = boolean(key, value)?,
                "backlog" => {
                    spec.backlog = value
                        .parse()
                        .ok()
                        .filter(|b| *b >= 0)
                        .ok_or_else(|| bad(format!("backlog {value:?} is not a count")))?;
                }
                _ => {
                    return Err(bad(format!(
                        "unknown option {key:?}: use reuseaddr, nonblock, backlog or nodelay"
                    )));
                }
            }
        }
        Ok(spec)
    }

    /// The addresses to try, in the resolver's order: the host's (resolved by the system's
    /// `getaddrinfo`), of the family asked for. No host means every interface (`0.0.0.0`, or
    /// `::` for IPv6 only) to listen, and loopback to dial.
    pub fn addrs(&self, role: Role) -> std::io::Result<Vec<SocketAddr>> {
        let ip = |v4: Ipv4Addr, v6: Ipv6Addr| match self.family {
            Family::V6 => IpAddr::V6(v6),
            Family::Any | Family::V4 => IpAddr::V4(v4),
        };
        if self.host.is_empty() {
            let any = match role {
                Role::Listen => ip(Ipv4Addr::UNSPECIFIED, Ipv6Addr::UNSPECIFIED),
                Role::Dial => ip(Ipv4Addr::LOCALHOST, Ipv6Addr::LOCALHOST),
            };
            return Ok(vec![SocketAddr::new(any, self.port)]);
        }
        let found: Vec<SocketAddr> = (self.host.as_str(), self.port)
            .to_socket_addrs()?
            .filter(|a| match self.family {
                Family::Any => true,
                Family::V4 => a.is_ipv4(),
                Family::V6 => a.is_ipv6(),
            })
            .collect();
        if found.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{} has no address of the family asked for", self.host),
            ));
        }
        Ok(found)
    }
}

fn scheme_proto(scheme: &str) -> Option<(Proto, Family)> {
    Some(match scheme {
        "tcp" => (Proto::Tcp, Family::Any),
        "tcp4" => (Proto::Tcp, Family::V4),
        "tcp6" => (Proto::Tcp, Family::V6),
        "udp" => (Proto::Udp, Family::Any),
        "udp4" => (Proto::Udp, Family::V4),
        "udp6" => (Proto::Udp, Family::V6),
        _ => return None,
    })
}

fn boolean(key: &str, value: &str) -> Result<bool, SpecError> {
    match value {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(bad(format!("{key}={value:?}: use 0 or 1"))),
    }
}

/// `HOST:PORT`, `[V6]:PORT` or `:PORT`.
fn split_host_port(s: &str) -> Result<(&str, u16), SpecError> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| bad(format!("{s:?}: no `]` after the IPv6 address")))?;
        let port = after
            .strip_prefix(':')
            .ok_or_else(|| bad(format!("{s:?}: no `:PORT`")))?;
        (host, port)
    } else {
        let (host, port) = s
            .rsplit_once(':')
            .ok_or_else(|| bad(format!("{s:?}: no `:PORT`")))?;
        if host.contains(':') {
            return Err(bad(format!("{s:?}: put an IPv6 address in brackets")));
        }
        (host, port)
    };
    let port = port
        .parse()
        .map_err(|_| bad(format!("{s:?}: {port:?} is not a port (0 to 65535)")))?;
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        let s = Spec::parse_flag("127.0.0.1:8080", Role::Listen).unwrap();
        assert_eq!(
            (s.proto, s.family, s.host.as_str(), s.port),
            (Proto::Tcp, Family::Any, "127.0.0.1", 8080)
        );
        assert!(s.reuseaddr && s.nonblock && s.nodelay && s.backlog == 128);
        let s = Spec::parse_flag(":9", Role::Dial).unwrap();
        assert_eq!((s.host.as_str(), s.port, s.reuseaddr), ("", 9, false));
        let s = Spec::parse_flag(
            "tcp6://[::1]:80?backlog=5&nonblock=1&reuseaddr=0&nodelay=0",
            Role::Listen,
        )
        .unwrap();
        assert_eq!(
            (s.family, s.host.as_str(), s.backlog),
            (Family::V6, "::1", 5)
        );
        assert!(s.nonblock && !s.reuseaddr && !s.nodelay);
        for bad in [
            "8080",
            "::1:80",
            "h:99999",
            "ftp://h:1",
            "tcp://h:1?x=1",
            "h:1?nonblock=2",
            "[::1]80",
            "h:1?backlog=-1",
            "h:1?nodelay",
        ] {
            assert!(Spec::parse_flag(bad, Role::Dial).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls() {
        let (role, s) = Spec::parse_url("tcp4+dial://localhost:80?nodelay=0")
            .unwrap()
            .unwrap();
        assert_eq!((role, s.family, s.nodelay), (Role::Dial, Family::V4, false));
        let (role, s) = Spec::parse_url("udp+listen://:53").unwrap().unwrap();
        assert_eq!(
            (role, s.proto, s.port, s.nonblock),
            (Role::Listen, Proto::Udp, 53, false)
        );
        assert!(Spec::parse_url("file.txt").is_none());
        assert!(Spec::parse_url("tcp+sing://h:1").is_none());
        assert!(Spec::parse_url("tcp+dial://h").unwrap().is_err());
    }

    #[test]
    fn addresses() {
        let s = Spec::parse_flag(":7", Role::Listen).unwrap();
        assert_eq!(
            s.addrs(Role::Listen).unwrap(),
            ["0.0.0.0:7".parse().unwrap()]
        );
        assert_eq!(
            s.addrs(Role::Dial).unwrap(),
            ["127.0.0.1:7".parse().unwrap()]
        );
        let s = Spec::parse_flag("tcp4://localhost:7", Role::Dial).unwrap();
        assert!(s.addrs(Role::Dial).unwrap().iter().all(|a| a.is_ipv4()));
    }
}
