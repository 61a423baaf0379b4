//! Sockets the guest makes itself, through the WasmEdge sockets extension, and sockets the host
//! preopens for it (`--listen`), with real peers on the host's loopback interface.
//!
//! The guests are `tests/guests/rust/src/bin/wasmedge.rs` (the `wasmedge_wasi_socket` crate,
//! as real WasmEdge programs use it) and `tokio_server.rs` (tokio over a `--listen` socket);
//! `cargo xtask test` builds them (`cargo xtask test --test sockets_wasmedge` runs only these
//! tests). Each test plays the other end: a client of the guest's server, a server for the
//! guest's client, a UDP peer; and checks both what the guest printed and what the host saw.
//!
//! The network policy is checked from the guest's side: without an `--allow-*` flag that
//! covers it, a bind or connect the guest makes is `EACCES` (`Permission denied`), and nothing
//! reaches the host's peer.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

mod sockets;

use sockets::*;

/// The exit status of a module that does not link (runner/src/status.rs, `EX_UNAVAILABLE`).
const LINK_FAILURE: i32 = 69;

/// Runs `wasirun ARGS...` to the end.
fn run(args: &[&str]) -> Out {
    spawn(args).finish()
}

/// Asserts that the guest's step `label` was refused by the network policy: `EACCES`, and the
/// text a Rust program shows for it.
#[track_caller]
fn assert_refused(out: &Out, label: &str) {
    assert_eq!(out.status, 1, "{out}");
    assert!(
        out.value(label).starts_with("ACCES"),
        "{label} was not refused with EACCES: {out}"
    );
    assert!(
        out.value(&format!("{label} error"))
            .starts_with("Permission denied"),
        "{out}"
    );
}

// TCP.

/// `tcp-echo-server 0`: the guest binds (allowed by `--allow-bind 127.0.0.1`), listens and
/// accepts the host's client; 200 000 bytes come back as they went, and the guest saw the
/// client's address.
#[test]
fn guest_tcp_server_echoes_a_host_client() {
    let wasm = rust("wasmedge");
    let mut running = spawn(&[
        "--allow-bind",
        "127.0.0.1",
        wasm.to_str().unwrap(),
        "tcp-echo-server",
        "0",
    ]);
    let addr: SocketAddr = running.wait_for("listening").parse().unwrap();
    assert_eq!(addr.ip(), Ipv4Addr::LOCALHOST);
    assert_ne!(addr.port(), 0);
    let mut client = TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    // Written from another thread: the echo comes back while it is sent, and neither side
    // must wait for the other's buffers.
    let writer = {
        let mut client = client.try_clone().unwrap();
        let data = data.clone();
        std::thread::spawn(move || {
            client.write_all(&data)?;
            client.shutdown(std::net::Shutdown::Write)
        })
    };
    let mut got = Vec::new();
    let r = client.read_to_end(&mut got);
    let out = running.finish();
    assert_checks_ok(&out, "tcp-echo-server");
    r.unwrap();
    writer.join().unwrap().unwrap();
    assert!(got == data, "{} bytes came back, not the same", got.len());
    assert_eq!(out.value("echo until the end"), "ok 200000");
    assert_eq!(
        out.value("accepted"),
        client.local_addr().unwrap().to_string()
    );
}

/// `tcp-client`: the guest connects to the host's server (allowed by `--allow-connect
/// 127.0.0.1:PORT`), sends its greeting and reads it back.
#[test]
fn guest_tcp_client_reaches_a_host_server() {
    let (l, addr) = listener();
    let server = echo_once(l);
    let wasm = rust("wasmedge");
    let out = run(&[
        "--allow-connect",
        &format!("127.0.0.1:{}", addr.port()),
        wasm.to_str().unwrap(),
        "tcp-client",
        &addr.to_string(),
    ]);
    assert_checks_ok(&out, "tcp-client");
    let (got, _) = server.join().unwrap().unwrap();
    assert_eq!(got, b"hello from the guest\n");
}

/// `tcp-client localhost:PORT`: the crate resolves the name with `sock_getaddrinfo`, then
/// connects to what it found.
#[test]
fn guest_tcp_client_resolves_localhost() {
    let (l, addr) = listener();
    let server = echo_once(l);
    let wasm = rust("wasmedge");
    let out = run(&[
        "--allow-name-lookup",
        "--allow-connect",
        &format!("127.0.0.1:{}", addr.port()),
        wasm.to_str().unwrap(),
        "tcp-client",
        &format!("localhost:{}", addr.port()),
    ]);
    assert_checks_ok(&out, "tcp-client");
    let (got, _) = server.join().unwrap().unwrap();
    assert_eq!(got, b"hello from the guest\n");
}

/// `local-peer-addr`: `sock_getlocaladdr` and `sock_getpeeraddr` (the crate's v1 shape) of a
/// connected socket are what the host's end sees, reversed.
#[test]
fn guest_local_and_peer_addresses_match_the_host() {
    let (l, addr) = listener();
    let server = echo_once(l);
    let wasm = rust("wasmedge");
    let out = run(&[
        "--allow-connect",
        "127.0.0.1",
        wasm.to_str().unwrap(),
        "local-peer-addr",
        &addr.to_string(),
    ]);
    assert_checks_ok(&out, "local-peer-addr");
    let (_, guest_end) = server.join().unwrap().unwrap();
    assert_eq!(out.value("peer"), addr.to_string());
    assert_eq!(out.value("local"), guest_end.to_string());
}

// UDP.

/// `udp`: the guest binds a UDP socket, sends a datagram to the host's (`sock_send_to`), and
/// receives the reply with its sender (`sock_recv_from`, v2 shape).
#[test]
fn guest_udp_round_trip() {
    let host = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    host.set_read_timeout(Some(TIMEOUT)).unwrap();
    let addr = host.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        let (n, from) = host.recv_from(&mut buf)?;
        host.send_to(b"pong", from)?;
        Ok::<_, std::io::Error>((buf[..n].to_vec(), from))
    });
    let wasm = rust("wasmedge");
    let out = run(&[
        "--allow-bind",
        "127.0.0.1",
        "--allow-connect",
        &addr.to_string(),
        wasm.to_str().unwrap(),
        "udp",
        &addr.to_string(),
    ]);
    assert_checks_ok(&out, "udp");
    let (got, from) = peer.join().unwrap().unwrap();
    assert_eq!(got, b"ping");
    assert_eq!(out.value("local"), from.to_string());
    assert_eq!(out.value("received"), "b\"pong\"");
    assert_eq!(out.value("from"), addr.to_string());
}

// Name resolution.

/// `getaddrinfo`: `localhost` resolves to loopback addresses with the port of the service;
/// with room for one result the host writes exactly one.
#[test]
fn guest_getaddrinfo_resolves_localhost() {
    let wasm = rust("wasmedge");
    let out = run(&["--allow-name-lookup", wasm.to_str().unwrap(), "getaddrinfo"]);
    assert_checks_ok(&out, "getaddrinfo");
    let addr = |v: &str| v.split(' ').next().unwrap_or_default().to_string();
    let inet4: Vec<String> = out.values("inet4 result").into_iter().map(addr).collect();
    assert!(inet4.contains(&"127.0.0.1:80".to_string()), "{out}");
    assert!(inet4.iter().all(|a| a == "127.0.0.1:80"), "{out}");
    let any: Vec<String> = out.values("any result").into_iter().map(addr).collect();
    assert!(!any.is_empty(), "{out}");
    assert!(
        any.iter().all(|a| a == "127.0.0.1:80" || a == "[::1]:80"),
        "{out}"
    );
    let one: Vec<String> = out
        .values("room for 1 result")
        .into_iter()
        .map(addr)
        .collect();
    assert_eq!(one.len(), 1, "{out}");
    assert!(any.contains(&one[0]), "{out}");
    assert!(
        out.values("nslookup result").contains(&"127.0.0.1:80"),
        "{out}"
    );
}

// Socket options.

/// `sockopt`: each option set reads back as set; SO_TYPE, SO_ERROR and SO_ACCEPTCONN say
/// what the socket is. `--sockets wasmedge` links the functions as `auto` does.
#[test]
fn guest_socket_options_read_back() {
    let wasm = rust("wasmedge");
    let out = run(&[
        "--sockets",
        "wasmedge",
        "--allow-bind",
        "127.0.0.1",
        wasm.to_str().unwrap(),
        "sockopt",
    ]);
    assert_checks_ok(&out, "sockopt");
}

// The network policy.

/// Without `--allow-bind`, the guest's bind is `EACCES`.
#[test]
fn policy_refuses_a_bind_without_allow_bind() {
    let wasm = rust("wasmedge");
    let out = run(&[wasm.to_str().unwrap(), "tcp-echo-server", "0"]);
    assert_refused(&out, "bind 127.0.0.1:0");
}

/// `--allow-bind 127.0.0.1:1-2` does not allow port 0 (any free port), nor another address.
#[test]
fn policy_refuses_a_bind_outside_the_allowed_ports() {
    let wasm = rust("wasmedge");
    let out = run(&[
        "--allow-bind",
        "127.0.0.1:1-2",
        "--allow-bind",
        "127.0.0.2",
        wasm.to_str().unwrap(),
        "tcp-echo-server",
        "0",
    ]);
    assert_refused(&out, "bind 127.0.0.1:0");
}

/// Without `--allow-connect`, the guest's connect is `EACCES`, and the host's listener, which
/// would have accepted it, sees nothing.
#[test]
fn policy_refuses_a_connect_without_allow_connect() {
    let (l, addr) = listener();
    let wasm = rust("wasmedge");
    let out = run(&[wasm.to_str().unwrap(), "tcp-client", &addr.to_string()]);
    assert_refused(&out, &format!("connect {addr}"));
    assert_no_connection(&l);
}

/// `--allow-connect 127.0.0.1:1-2` allows those two ports only; `--allow-bind` allows no
/// connect.
#[test]
fn policy_refuses_a_connect_outside_the_allowed_ports() {
    let (l, addr) = listener();
    let wasm = rust("wasmedge");
    let out = run(&[
        "--allow-connect",
        "127.0.0.1:1-2",
        "--allow-bind",
        "127.0.0.1",
        wasm.to_str().unwrap(),
        "tcp-client",
        &addr.to_string(),
    ]);
    assert_refused(&out, &format!("connect {addr}"));
    assert_no_connection(&l);
}

/// A datagram is a connect for the policy: `--allow-bind` alone lets the guest bind its UDP
/// socket, not send to the host's.
#[test]
fn policy_refuses_a_datagram_without_allow_connect() {
    let host = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let addr = host.local_addr().unwrap();
    let wasm = rust("wasmedge");
    let out = run(&[
        "--allow-bind",
        "127.0.0.1",
        wasm.to_str().unwrap(),
        "udp",
        &addr.to_string(),
    ]);
    assert_refused(&out, &format!("send_to {addr}"));
    host.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 16];
    assert!(
        host.recv_from(&mut buf).is_err(),
        "a datagram reached the host"
    );
}

/// Without `--allow-name-lookup` (or `--allow-network`) `sock_getaddrinfo` is `EACCES`: the host
/// queries no resolver for the guest.
#[test]
fn guest_getaddrinfo_is_refused_without_allow_name_lookup() {
    let wasm = rust("wasmedge");
    let out = run(&[wasm.to_str().unwrap(), "getaddrinfo"]);
    assert_refused(&out, "getaddrinfo localhost 80 (inet4 hints)");
    let out = run(&["--allow-network", wasm.to_str().unwrap(), "getaddrinfo"]);
    assert_checks_ok(&out, "getaddrinfo");
}

/// `--sockets none`: a module that imports the WasmEdge functions does not link.
#[test]
fn sockets_none_leaves_the_wasmedge_imports_unlinked() {
    let wasm = rust("wasmedge");
    let out = run(&["--sockets", "none", wasm.to_str().unwrap(), "getaddrinfo"]);
    assert_eq!(out.status, LINK_FAILURE, "{out}");
    assert!(
        out.stderr.starts_with("wasirun: ") && out.stderr.contains("wasi_snapshot_preview1::sock_"),
        "{out}"
    );
    assert_eq!(out.stdout, "", "the guest ran");
}

// tokio over a preopened listener.

/// A port that was free a moment ago, for `--listen` (which needs one before the guest runs).
fn free_port() -> u16 {
    listener().1.port()
}

/// Connects to `addr`, retrying while wasirun has not made its listener yet.
fn connect_when_listening(addr: SocketAddr, running: &mut Running) -> TcpStream {
    let start = Instant::now();
    loop {
        match TcpStream::connect(addr) {
            Ok(s) => {
                s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                return s;
            }
            Err(e) if start.elapsed() < TIMEOUT => {
                if let Ok(Some(_)) = running.child.try_wait() {
                    let out = running.kill();
                    panic!("wasirun exited before listening ({e}): {out}");
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("connecting to {addr}: {e}"),
        }
    }
}

/// `tokio_server 20` on `--listen 127.0.0.1:PORT` (fd 3): 20 host clients connect at once and
/// are answered last first, which only a server serving them concurrently can do, while the
/// guest's interval task keeps ticking.
#[test]
fn tokio_serves_concurrent_clients_on_a_preopened_listener() {
    const CLIENTS: usize = 20;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()));
    let wasm = rust("tokio_server");
    let mut running = spawn(&[
        "--listen",
        &addr.to_string(),
        wasm.to_str().unwrap(),
        &CLIENTS.to_string(),
    ]);
    let mut clients: Vec<TcpStream> = (0..CLIENTS)
        .map(|_| connect_when_listening(addr, &mut running))
        .collect();
    for (i, client) in clients.iter_mut().enumerate().rev() {
        let line = format!("line from client {i}\n");
        client.write_all(line.as_bytes()).unwrap();
        let mut back = String::new();
        let r = BufReader::new(&*client).read_line(&mut back);
        if let Err(e) = r {
            let out = running.kill();
            panic!("client {i}: no echo ({e}): {out}");
        }
        assert_eq!(back, line, "client {i}");
        if i == CLIENTS - 1 {
            // The guest runs (it answered): long enough for its ticker to tick while every
            // other connection waits.
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let out = running.finish();
    assert_eq!(out.status, 0, "{out}");
    assert_eq!(out.value("served"), CLIENTS.to_string(), "{out}");
    assert_eq!(out.value("failed"), "0", "{out}");
    let ticks: u64 = out.value("ticks").parse().unwrap();
    assert!(ticks > 0, "the interval never ticked: {out}");
}
