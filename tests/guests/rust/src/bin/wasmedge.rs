//! The WasmEdge sockets extension (`sock_open`, `sock_bind`, ..., `sock_getaddrinfo`), called
//! the way real WasmEdge programs call it: through the `wasmedge_wasi_socket` crate (0.5),
//! which mixes the two shapes under the plain names (`sock_accept` and `sock_getlocaladdr` in
//! the v1 shape, `sock_recv_from` in the v2 one).
//!
//! Scenarios (`wasmedge SCENARIO [ARGS]`, no preopen); the host side is
//! `runner/tests/sockets_wasmedge.rs`:
//!
//! - `tcp-echo-server PORT`: binds a TCP listener to 127.0.0.1:PORT (0: a free port), prints
//!   `listening: ADDR`, accepts one client (`accepted: PEER`), echoes what it sends until the
//!   client shuts down writing (`echo until the end: ok N` bytes), then closes.
//! - `tcp-client HOST:PORT`: connects (a name goes through `sock_getaddrinfo`), sends
//!   [`GREETING`], shuts down writing and reads until the peer closes: it wants the greeting
//!   back (`received`).
//! - `udp HOST:PORT`: binds a UDP socket to 127.0.0.1:0 (`local: ADDR`), sends `ping` to
//!   HOST:PORT, receives one datagram and prints it (`received`) and who sent it (`from`).
//! - `getaddrinfo`: resolves `localhost`, service `80`: with the crate's default hints (IPv4,
//!   stream, TCP) one `inet4 result: ADDR ...` line each; with no family, `any result: ...`;
//!   with room for one result, exactly one; and through the crate's own `nslookup`.
//! - `sockopt`: sets and reads back SO_REUSEADDR, SO_RCVBUF, SO_SNDBUF, SO_KEEPALIVE,
//!   SO_RCVTIMEO, SO_SNDTIMEO, and TCP_NODELAY (level 6, option 15: the Go guests' extension,
//!   which the crate lacks, so called raw); reads SO_TYPE (stream and datagram), SO_ERROR and
//!   SO_ACCEPTCONN (before and after listening on 127.0.0.1:0).
//! - `local-peer-addr HOST:PORT`: connects and prints the socket's `local` and `peer`
//!   addresses.
//!
//! A failed step prints `LABEL error: TEXT` (what the program itself would show, such as
//! `Permission denied (os error 2)`), then its check line with the errno's name, and ends the
//! scenario with status 1: `bind 127.0.0.1:0: ACCES  <-- FAIL, want ok` is how a bind refused
//! by the host's network policy looks.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::Duration;
use wasirun_test_guests::*;
use wasmedge_wasi_socket::socket::{
    AddressFamily, Socket, SocketOptLevel, SocketOptName, SocketType, WasiAddrinfo, WasiSockaddr,
};
use wasmedge_wasi_socket::{TcpListener, TcpStream, UdpSocket};

/// What `tcp-client` sends.
const GREETING: &[u8] = b"hello from the guest\n";

fn main() {
    let mut g = Guest::start_without_preopen();
    match g.scenario.as_str() {
        "tcp-echo-server" => tcp_echo_server(&mut g),
        "tcp-client" => tcp_client(&mut g),
        "udp" => udp(&mut g),
        "getaddrinfo" => getaddrinfo(&mut g),
        "sockopt" => sockopt(&mut g),
        "local-peer-addr" => local_peer_addr(&mut g),
        _ => g.unknown(),
    }
    g.finish()
}

/// A value a check line does not show (a socket).
struct It<T>(T);

impl<T> Show for It<T> {
    fn show(&self) -> Option<String> {
        None
    }
}

fn tcp_echo_server(g: &mut Guest) {
    let addr = format!("127.0.0.1:{}", g.arg(0));
    let label = format!("bind {addr}");
    let It(listener) = g.must(
        &label,
        from_io(&label, TcpListener::bind(addr.as_str(), false)).map(It),
    );
    let local = g.must(
        "listener local_addr",
        from_io("listener local_addr", listener.local_addr()),
    );
    g.report("listening", local);
    let It((mut stream, peer)) =
        g.must("accept", from_io("accept", listener.accept(false)).map(It));
    g.report("accepted", peer);
    g.ok(
        "echo until the end",
        from_io("echo until the end", echo(&mut stream)),
    );
}

/// Sends back what `stream` receives until its end; how many bytes that was.
fn echo(stream: &mut TcpStream) -> io::Result<usize> {
    let mut buf = [0u8; 4096];
    let mut total = 0;
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(total);
        }
        stream.write_all(&buf[..n])?;
        total += n;
    }
}

fn tcp_client(g: &mut Guest) {
    let target = g.arg(0).to_string();
    let label = format!("connect {target}");
    let It(mut stream) = g.must(
        &label,
        from_io(&label, TcpStream::connect(target.as_str())).map(It),
    );
    g.ok("send", from_io("send", stream.write_all(GREETING)));
    g.ok(
        "shutdown(Write)",
        from_io("shutdown(Write)", stream.shutdown(Shutdown::Write)),
    );
    let mut got = Vec::new();
    let r = from_io("recv until the end", stream.read_to_end(&mut got));
    g.eq("recv until the end", r, Ok(GREETING.len()));
    g.eq("received", Bytes(got), Bytes(GREETING.to_vec()));
}

fn udp(g: &mut Guest) {
    let target = g.arg(0).to_string();
    let It(sock) = g.must(
        "bind udp 127.0.0.1:0",
        from_io("bind udp 127.0.0.1:0", UdpSocket::bind("127.0.0.1:0")).map(It),
    );
    let local = g.must(
        "udp local_addr",
        from_io("udp local_addr", sock.as_ref().get_local()),
    );
    g.report("local", local);
    let label = format!("send_to {target}");
    // A step, not a check: the receive below would wait for ever after a failed send.
    let sent = g.must(
        &label,
        from_io(&label, sock.send_to(b"ping", target.as_str())),
    );
    g.eq("sent", sent, 4);
    let mut buf = [0u8; 64];
    let It((n, from)) = g.must(
        "recv_from",
        from_io("recv_from", sock.recv_from(&mut buf)).map(It),
    );
    g.report("received", format!("{:?}", Bytes(buf[..n].to_vec())));
    g.report("from", from);
}

/// One `sock_getaddrinfo` result, read from the bytes the host wrote (the crate's enums would
/// be undefined behaviour for a value they do not list).
struct Found {
    family: u8,
    socktype: u8,
    protocol: u8,
    addrlen: u32,
    /// The address the host wrote for a family the crate knows.
    addr: Option<SocketAddr>,
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.addr {
            Some(a) => write!(f, "{a}")?,
            None => write!(f, "?")?,
        }
        write!(
            f,
            " family={} socktype={} protocol={} addrlen={}",
            self.family, self.socktype, self.protocol, self.addrlen
        )
    }
}

/// What a lookup found.
struct Results(Vec<Found>);

impl Show for Results {
    fn show(&self) -> Option<String> {
        Some(format!("{} results", self.0.len()))
    }
}

/// `sock_getaddrinfo(node, service)` with the crate's default hints (no flags, stream, TCP)
/// and `family`, room for `max` results.
fn lookup(node: &str, service: &str, family: AddressFamily, max: usize) -> io::Result<Results> {
    let mut hints = WasiAddrinfo::default();
    hints.ai_family = family;
    let mut sockaddrs: Vec<WasiSockaddr> = Vec::new();
    let mut buffers: Vec<[u8; 26]> = Vec::new();
    let mut canonnames: Vec<String> = Vec::new();
    let infos = WasiAddrinfo::get_addrinfo(
        node,
        service,
        &hints,
        max,
        &mut sockaddrs,
        &mut buffers,
        &mut canonnames,
    )?;
    let mut found = Vec::new();
    for (i, info) in infos.iter().enumerate() {
        // SAFETY: both records are plain memory the crate allocated, read byte by byte at the
        // offsets of their `#[repr(C)]` layouts (family, socktype, protocol at 2, 3, 4 of the
        // `packed(4)` addrinfo; the family at 0 of the sockaddr).
        let (family, socktype, protocol, sa_family) = unsafe {
            let p = (info as *const WasiAddrinfo).cast::<u8>();
            let sa = (&sockaddrs[i] as *const WasiSockaddr).cast::<u8>();
            (*p.add(2), *p.add(3), *p.add(4), *sa)
        };
        let b = &buffers[i];
        let port = u16::from_be_bytes([b[0], b[1]]);
        let addr = match sa_family {
            1 => Some(SocketAddr::from((
                Ipv4Addr::new(b[2], b[3], b[4], b[5]),
                port,
            ))),
            2 => {
                let ip: [u8; 16] = b[2..18].try_into().expect("16 bytes");
                Some(SocketAddr::from((Ipv6Addr::from(ip), port)))
            }
            _ => None,
        };
        found.push(Found {
            family,
            socktype,
            protocol,
            addrlen: info.ai_addrlen,
            addr,
        });
    }
    Ok(Results(found))
}

fn getaddrinfo(g: &mut Guest) {
    for (name, family) in [
        ("inet4", AddressFamily::Inet4),
        ("any", AddressFamily::Unspec),
    ] {
        let label = format!("getaddrinfo localhost 80 ({name} hints)");
        let found = g.ok(
            &label,
            from_io(&label, lookup("localhost", "80", family, 10)),
        );
        for f in found.map(|r| r.0).unwrap_or_default() {
            g.report(&format!("{name} result"), f);
        }
    }
    let label = "getaddrinfo localhost 80 (room for 1)";
    let found = g.ok(
        label,
        from_io(label, lookup("localhost", "80", AddressFamily::Unspec, 1)),
    );
    if let Some(found) = found {
        g.eq("room for 1: results", found.0.len(), 1);
        for f in found.0 {
            g.report("room for 1 result", f);
        }
    }
    let found = g.ok(
        "nslookup localhost http",
        from_io(
            "nslookup localhost http",
            wasmedge_wasi_socket::nslookup("localhost", "http"),
        )
        .map(It),
    );
    for a in found.map(|It(v)| v).unwrap_or_default() {
        g.report("nslookup result", a);
    }
}

mod raw {
    // The crate's own declarations of these two are private; these are the same imports
    // with the same types.
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    unsafe extern "C" {
        pub fn sock_setsockopt(fd: u32, level: i32, name: i32, value: *const i32, len: u32) -> u32;
        pub fn sock_getsockopt(
            fd: u32,
            level: i32,
            name: i32,
            value: *mut i32,
            len: *mut u32,
        ) -> u32;
    }
}

/// TCP_NODELAY as the Go guests ask for it: level 6 (IPPROTO_TCP), option 15.
const TCP_LEVEL: i32 = 6;
const TCP_NODELAY: i32 = 15;

fn set_nodelay(fd: u32, on: bool) -> R<()> {
    let value = i32::from(on);
    // SAFETY: a pointer to a live i32 and its size.
    raw_result(unsafe { raw::sock_setsockopt(fd, TCP_LEVEL, TCP_NODELAY, &value, 4) } as i32)
}

fn nodelay(fd: u32) -> R<i32> {
    let mut value = -1;
    let mut len = 4u32;
    // SAFETY: pointers to a live i32 and a live u32 holding its size.
    raw_result(
        unsafe { raw::sock_getsockopt(fd, TCP_LEVEL, TCP_NODELAY, &mut value, &mut len) } as i32,
    )?;
    Ok(value)
}

fn sockopt(g: &mut Guest) {
    use SocketOptLevel::SolSocket;
    let It(s) = g.must(
        "sock_open(INET4, STREAM)",
        from_io(
            "sock_open(INET4, STREAM)",
            Socket::new(AddressFamily::Inet4, SocketType::Stream),
        )
        .map(It),
    );
    let kind = |r: io::Result<SocketType>| from_io("SO_TYPE", r).map(|t| format!("{t:?}"));
    g.eq("SO_TYPE", kind(s.r#type()), Ok("Stream".to_string()));
    g.eq("SO_ERROR", from_io("SO_ERROR", s.take_error()), Ok(()));

    g.eq(
        "SO_REUSEADDR at first",
        from_io("SO_REUSEADDR", s.reuse_address()),
        Ok(false),
    );
    let set = |name, value: i32| from_io("setsockopt", s.setsockopt(SolSocket, name, value));
    g.ok("set SO_REUSEADDR 1", set(SocketOptName::SoReuseaddr, 1));
    g.eq(
        "SO_REUSEADDR",
        from_io("SO_REUSEADDR", s.reuse_address()),
        Ok(true),
    );

    g.ok("set SO_RCVBUF 65536", set(SocketOptName::SoRcvbuf, 65536));
    let rcvbuf = from_io("SO_RCVBUF", s.recv_buffer_size());
    g.that(
        "SO_RCVBUF",
        rcvbuf.is_ok_and(|n| n >= 65536),
        rcvbuf,
        "at least 65536 (Linux doubles it)",
    );
    g.ok("set SO_SNDBUF 65536", set(SocketOptName::SoSndbuf, 65536));
    let sndbuf = from_io("SO_SNDBUF", s.send_buffer_size());
    g.that(
        "SO_SNDBUF",
        sndbuf.is_ok_and(|n| n >= 65536),
        sndbuf,
        "at least 65536 (Linux doubles it)",
    );

    g.eq(
        "SO_KEEPALIVE at first",
        from_io("SO_KEEPALIVE", s.keepalive()),
        Ok(false),
    );
    g.ok("set SO_KEEPALIVE 1", set(SocketOptName::SoKeepalive, 1));
    g.eq(
        "SO_KEEPALIVE",
        from_io("SO_KEEPALIVE", s.keepalive()),
        Ok(true),
    );

    let timeout = Duration::from_millis(1500);
    g.ok(
        "set SO_RCVTIMEO 1.5 s",
        from_io("SO_RCVTIMEO", s.set_recv_timeout(Some(timeout))),
    );
    g.eq(
        "SO_RCVTIMEO",
        from_io("SO_RCVTIMEO", s.get_recv_timeout()),
        Ok(Some(timeout)),
    );
    g.ok(
        "set SO_SNDTIMEO 1.5 s",
        from_io("SO_SNDTIMEO", s.set_send_timeout(Some(timeout))),
    );
    g.eq(
        "SO_SNDTIMEO",
        from_io("SO_SNDTIMEO", s.get_send_timeout()),
        Ok(Some(timeout)),
    );

    let fd = s.as_raw_fd() as u32;
    g.eq("TCP_NODELAY at first", nodelay(fd), Ok(0));
    g.ok("set TCP_NODELAY 1", set_nodelay(fd, true));
    g.that(
        "TCP_NODELAY",
        nodelay(fd).is_ok_and(|v| v != 0),
        nodelay(fd),
        "not 0",
    );

    g.eq(
        "SO_ACCEPTCONN before listening",
        from_io("SO_ACCEPTCONN", s.is_listener()),
        Ok(false),
    );
    let any: SocketAddr = "127.0.0.1:0".parse().expect("an address");
    g.must(
        "bind 127.0.0.1:0",
        from_io("bind 127.0.0.1:0", s.bind(&any)),
    );
    g.must("listen", from_io("listen", s.listen(8)));
    g.eq(
        "SO_ACCEPTCONN listening",
        from_io("SO_ACCEPTCONN", s.is_listener()),
        Ok(true),
    );

    let It(d) = g.must(
        "sock_open(INET4, DGRAM)",
        from_io(
            "sock_open(INET4, DGRAM)",
            Socket::new(AddressFamily::Inet4, SocketType::Datagram),
        )
        .map(It),
    );
    g.eq(
        "SO_TYPE of the datagram socket",
        kind(d.r#type()),
        Ok("Datagram".to_string()),
    );
}

fn local_peer_addr(g: &mut Guest) {
    let target = g.arg(0).to_string();
    let label = format!("connect {target}");
    let It(stream) = g.must(
        &label,
        from_io(&label, TcpStream::connect(target.as_str())).map(It),
    );
    if let Some(a) = g.ok("local_addr", from_io("local_addr", stream.local_addr())) {
        g.report("local", a);
    }
    if let Some(a) = g.ok("peer_addr", from_io("peer_addr", stream.peer_addr())) {
        g.report("peer", a);
    }
}
