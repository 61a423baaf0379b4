//! The network policy: which addresses the guest may connect to and bind, when it makes sockets
//! itself (the WasmEdge functions, `path_open` socket URLs). Sockets the host preopens
//! (`--listen`, `--dial`) are the host's choice and are not checked.
//!
//! By default nothing is allowed: a refused `connect` or `bind` is `EACCES`, as Linux answers
//! when a security module says no. Rules are `HOST_OR_CIDR[:PORTS]`:
//!
//! - `10.0.0.0/8`, `127.0.0.1`, `[::1]:8080`, `[fd00::/8]:1000-2000`, `::1` (an IPv6 address
//!   without brackets takes no ports), `*` for any address;
//! - a host name (`localhost:8080`) stands for the addresses it resolves to when the rule is
//!   made;
//! - `PORTS` is a port, a range `N-M`, or a comma-separated list of them; no ports: all of them.
//!   Binding port 0 (any free port) needs a rule allowing port 0, or all ports.
//!
//! IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`) are checked as the IPv4 address they are.
//! Unix-domain sockets reach the host's file system outside the sandbox: only
//! [`Policy::allow_all`] allows them.
//!
//! Name lookups (`sock_getaddrinfo`) make the host query its resolver, and so the network's
//! nameservers, on the guest's behalf: refused (`EACCES`) unless [`Policy::allow_name_lookup`]
//! or [`Policy::allow_all`].

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

/// What the guest may reach.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    all: bool,
    name_lookup: bool,
    connect: Vec<Rule>,
    bind: Vec<Rule>,
}

/// One rule: a network and the ports in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// `None`: any address.
    net: Option<(IpAddr, u8)>,
    /// Inclusive ranges; empty: every port.
    ports: Vec<(u16, u16)>,
}

/// A rule that does not parse or resolve.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RuleError(String);

impl Policy {
    /// Allows everything, Unix-domain sockets included (`--allow-network`).
    pub fn allow_all(&mut self) -> &mut Self {
        self.all = true;
        self
    }

    /// Allows name lookups through the host's resolver (`--allow-name-lookup`).
    pub fn allow_name_lookup(&mut self) -> &mut Self {
        self.name_lookup = true;
        self
    }

    /// Allows connecting to what `rule` describes (`--allow-connect`).
    pub fn allow_connect(&mut self, rule: &str) -> Result<&mut Self, RuleError> {
        self.connect.extend(Rule::parse(rule)?);
        Ok(self)
    }

    /// Allows binding what `rule` describes (`--allow-bind`).
    pub fn allow_bind(&mut self, rule: &str) -> Result<&mut Self, RuleError> {
        self.bind.extend(Rule::parse(rule)?);
        Ok(self)
    }

    /// Whether the guest may connect to `addr` (or send a datagram to it).
    pub fn allows_connect(&self, addr: &SocketAddr) -> bool {
        self.all || self.connect.iter().any(|r| r.matches(addr))
    }

    /// Whether the guest may bind `addr`.
    pub fn allows_bind(&self, addr: &SocketAddr) -> bool {
        self.all || self.bind.iter().any(|r| r.matches(addr))
    }

    /// Whether the guest may have the host resolve names (`sock_getaddrinfo`).
    pub fn allows_name_lookup(&self) -> bool {
        self.all || self.name_lookup
    }

    /// Whether the guest may bind or connect Unix-domain sockets.
    pub fn allows_unix(&self) -> bool {
        self.all
    }
}

impl Rule {
    /// The rules `s` stands for: one, or one per address of a host name.
    pub fn parse(s: &str) -> Result<Vec<Rule>, RuleError> {
        let err = |why: &str| RuleError(format!("network rule {s:?}: {why}"));
        // A bare IPv6 address or network: no ports.
        let bare_v6 = !s.starts_with('[') && s.matches(':').count() > 1;
        let (host, ports) = if bare_v6 {
            (s, Vec::new())
        } else if s.starts_with('[') || s.contains(':') {
            let (host_part, port_part) = match s.strip_prefix('[') {
                Some(rest) => {
                    let (h, after) = rest.split_once(']').ok_or_else(|| err("no `]`"))?;
                    (h, after.strip_prefix(':').unwrap_or(after))
                }
                None => s.rsplit_once(':').unwrap_or((s, "")),
            };
            (
                host_part,
                parse_ports(port_part).ok_or_else(|| err("bad ports"))?,
            )
        } else {
            (s, Vec::new())
        };
        if host == "*" {
            return Ok(vec![Rule { net: None, ports }]);
        }
        if let Some((ip, len)) = host.split_once('/') {
            let ip: IpAddr = ip.parse().map_err(|_| err("bad network address"))?;
            let len: u8 = len
                .parse()
                .ok()
                .filter(|l| *l <= full(&ip))
                .ok_or_else(|| err("bad prefix length"))?;
            // An IPv4-mapped network is the IPv4 network it maps.
            let (ip, len) = match ip.to_canonical() {
                v4 @ IpAddr::V4(_) if ip.is_ipv6() => (v4, len.saturating_sub(96)),
                same => (same, len),
            };
            return Ok(vec![Rule {
                net: Some((ip, len)),
                ports,
            }]);
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            let ip = ip.to_canonical();
            return Ok(vec![Rule {
                net: Some((ip, full(&ip))),
                ports,
            }]);
        }
        if host.is_empty() {
            return Err(err("no host (use `*` for any)"));
        }
        let addrs = (host, 0)
            .to_socket_addrs()
            .map_err(|e| err(&format!("cannot resolve: {e}")))?;
        let mut rules: Vec<Rule> = Vec::new();
        for a in addrs {
            let ip = a.ip().to_canonical();
            let rule = Rule {
                net: Some((ip, full(&ip))),
                ports: ports.clone(),
            };
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
        Ok(rules)
    }

    fn matches(&self, addr: &SocketAddr) -> bool {
        let port = addr.port();
        let port_ok = self.ports.is_empty()
            || self
                .ports
                .iter()
                .any(|(lo, hi)| (*lo..=*hi).contains(&port));
        port_ok
            && match self.net {
                None => true,
                Some((net, len)) => in_network(addr.ip().to_canonical(), net, len),
            }
    }
}

fn full(ip: &IpAddr) -> u8 {
    if ip.is_ipv4() { 32 } else { 128 }
}

fn in_network(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    let (a, b, bits) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(a.to_bits()), u128::from(b.to_bits()), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (a.to_bits(), b.to_bits(), 128),
        _ => return false,
    };
    let shift = bits - u32::from(len);
    shift >= bits || (a >> shift) == (b >> shift)
}

/// `80`, `1000-2000`, `80,443`; empty is `None` (a `:` with nothing after it).
fn parse_ports(s: &str) -> Option<Vec<(u16, u16)>> {
    s.split(',')
        .map(|p| match p.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi) = (lo.parse().ok()?, hi.parse().ok()?);
                (lo <= hi).then_some((lo, hi))
            }
            None => p.parse().ok().map(|p| (p, p)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn nothing_by_default() {
        let p = Policy::default();
        assert!(!p.allows_connect(&sa("127.0.0.1:80")));
        assert!(!p.allows_bind(&sa("0.0.0.0:0")));
        assert!(!p.allows_unix());
    }

    #[test]
    fn rules() {
        let mut p = Policy::default();
        p.allow_connect("10.0.0.0/8:80,443").unwrap();
        p.allow_connect("[::1]:1000-2000").unwrap();
        p.allow_connect("fd00::/8").unwrap();
        p.allow_bind("127.0.0.1").unwrap();
        assert!(p.allows_connect(&sa("10.1.2.3:443")));
        assert!(p.allows_connect(&sa("[::ffff:10.1.2.3]:80")));
        assert!(!p.allows_connect(&sa("10.1.2.3:8080")));
        assert!(!p.allows_connect(&sa("11.0.0.1:80")));
        assert!(p.allows_connect(&sa("[::1]:1500")));
        assert!(!p.allows_connect(&sa("[::1]:999")));
        assert!(p.allows_connect(&sa("[fd12::1]:1")));
        assert!(p.allows_bind(&sa("127.0.0.1:0")));
        assert!(!p.allows_bind(&sa("127.0.0.2:0")));
        assert!(!p.allows_connect(&sa("127.0.0.1:1")));
    }

    #[test]
    fn names_and_wildcards() {
        let mut p = Policy::default();
        p.allow_connect("localhost:22").unwrap();
        p.allow_bind("*:8000-8999").unwrap();
        assert!(p.allows_connect(&sa("127.0.0.1:22")));
        assert!(p.allows_bind(&sa("[::]:8080")));
        assert!(!p.allows_bind(&sa("0.0.0.0:0")));
        for bad in [
            "",
            "10.0.0.0/33",
            "1.2.3.4:x",
            "1.2.3.4:9-1",
            "[::1",
            ":80",
            "1.2.3.4:",
        ] {
            assert!(Rule::parse(bad).is_err(), "{bad:?}");
        }
        let mut all = Policy::default();
        all.allow_all();
        assert!(all.allows_unix() && all.allows_connect(&sa("1.1.1.1:1")));
    }
}
