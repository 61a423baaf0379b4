//! Sockets the guest makes with `path_open` from URLs (`wasirun --sockets path_open`), with
//! real peers on the host's loopback interface.
//!
//! The guest is `tests/guests/rust/src/bin/path_open_sock.rs`; `cargo xtask test` builds it
//! (`cargo xtask test --test sockets_path_open` runs only these tests). Each test plays the
//! other end, a server for the guest's dial or a client of its listener, and checks both what
//! the guest printed and what the host saw. Without an `--allow-*` flag that covers it, a
//! socket URL is `EACCES`; a URL without a port is `EINVAL`; without `--sockets path_open` the
//! URL is only a file name.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;

mod sockets;

use sockets::*;

/// A port that was free a moment ago, for the guest's `tcp+listen://` URL.
fn free_port() -> u16 {
    listener().1.port()
}

/// Runs the guest's `scenario` with `ARGS...` under `wasirun FLAGS...`.
fn run_guest(flags: &[&str], scenario: &str, args: &[&str]) -> Out {
    spawn(&strs(&guest_args(flags, scenario, args))).finish()
}

/// `FLAGS... path_open_sock.wasm SCENARIO ARGS...`.
fn guest_args(flags: &[&str], scenario: &str, args: &[&str]) -> Vec<String> {
    let wasm = rust("path_open_sock");
    let mut v: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
    v.push(wasm.to_str().unwrap().to_string());
    v.push(scenario.to_string());
    v.extend(args.iter().map(|s| s.to_string()));
    v
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// `dial PORT`: the guest dials the host's server (allowed by `--allow-connect
/// 127.0.0.1:PORT`), sends "hello" and reads the echo; the host saw the guest's bytes.
#[test]
fn guest_dials_a_host_server() {
    let (l, addr) = listener();
    let port = addr.port().to_string();
    let allow = format!("127.0.0.1:{port}");
    let server = echo_once(l);
    let out = run_guest(
        &["--sockets", "path_open", "--allow-connect", &allow],
        "dial",
        &[&port],
    );
    assert_checks_ok(&out, "dial");
    assert_eq!(out.value("reply"), "hello", "{out}");
    let (got, peer) = server.join().unwrap().unwrap();
    assert_eq!(got, b"hello");
    assert_eq!(peer.ip(), Ipv4Addr::LOCALHOST);
}

/// `listen PORT`: the guest listens (allowed by `--allow-bind 127.0.0.1`), the host connects
/// once it says so, sends "ping" and gets it back.
#[test]
fn guest_listens_for_a_host_client() {
    let port = free_port().to_string();
    let args = guest_args(
        &["--sockets", "path_open", "--allow-bind", "127.0.0.1"],
        "listen",
        &[&port],
    );
    let mut running = spawn(&strs(&args));
    assert_eq!(running.wait_for("listening"), "ok");
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port.parse::<u16>().unwrap()));
    let mut client = TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    client.write_all(b"ping").unwrap();
    let mut back = [0u8; 4];
    client.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"ping");
    let out = running.finish();
    assert_checks_ok(&out, "listen");
}

/// `nonblock-dial PORT`: a non-blocking dial (`?nonblock=1` and the NONBLOCK fdflag) becomes
/// writable; `poll_oneoff` reports FD_WRITE with no error.
#[test]
fn guest_nonblocking_dial_becomes_writable() {
    let (l, addr) = listener();
    let port = addr.port().to_string();
    let allow = format!("127.0.0.1:{port}");
    let server = echo_once(l);
    let out = run_guest(
        &["--sockets", "path_open", "--allow-connect", &allow],
        "nonblock-dial",
        &[&port],
    );
    assert_checks_ok(&out, "nonblock-dial");
    assert_eq!(out.value("event error"), "0", "{out}");
    let (got, _) = server.join().unwrap().unwrap();
    assert_eq!(got, b"hi");
}

/// `refused PORT`: with no `--allow-*` flag, dialing and listening are `EACCES`, and nothing
/// reaches the host's listener.
#[test]
fn policy_refuses_a_url_without_allow_flags() {
    let (l, addr) = listener();
    let port = addr.port().to_string();
    let out = run_guest(&["--sockets", "path_open"], "refused", &[&port]);
    assert_checks_ok(&out, "refused");
    assert_eq!(out.value("path_open(dial)"), "ACCES", "{out}");
    assert_no_connection(&l);
}

/// `refused PORT`: an `--allow-connect` for another port does not cover this one.
#[test]
fn policy_refuses_a_url_outside_the_allowed_port() {
    let (l, addr) = listener();
    let port = addr.port().to_string();
    let other = format!("127.0.0.1:{}", if addr.port() == 1 { 2 } else { 1 });
    let out = run_guest(
        &["--sockets", "path_open", "--allow-connect", &other],
        "refused",
        &[&port],
    );
    assert_checks_ok(&out, "refused");
    assert_no_connection(&l);
}

/// `no-port`: `tcp+dial://127.0.0.1` is not a socket URL wasirun can use: `EINVAL`, even with
/// every address allowed.
#[test]
fn url_without_a_port_is_invalid() {
    let out = run_guest(
        &["--sockets", "path_open", "--allow-network"],
        "no-port",
        &[],
    );
    assert_checks_ok(&out, "no-port");
}

/// `not-a-socket PORT`: without `--sockets path_open` (the default `auto`, and `none`) the URL
/// is a file name below fd 3, which is not open: a file error, and no connection.
#[test]
fn without_sockets_path_open_a_url_is_a_file_name() {
    let (l, addr) = listener();
    let port = addr.port().to_string();
    for flags in [
        &["--allow-network"][..],
        &["--sockets", "none", "--allow-network"],
    ] {
        let out = run_guest(flags, "not-a-socket", &[&port]);
        assert_checks_ok(&out, "not-a-socket");
        assert_eq!(
            out.value("path_open(dial) outcome"),
            "BADF",
            "{flags:?}: {out}"
        );
    }
    assert_no_connection(&l);
}

/// `not-a-socket PORT` with a preopened directory at fd 3: the URL is looked up there as a
/// path, and there is no such file.
#[test]
fn without_sockets_path_open_a_url_is_looked_up_in_the_directory() {
    let (l, addr) = listener();
    let port = addr.port().to_string();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sockets-path-open-dir");
    std::fs::create_dir_all(&dir).unwrap();
    let out = run_guest(
        &["--dir", dir.to_str().unwrap(), "--allow-network"],
        "not-a-socket",
        &[&port],
    );
    assert_checks_ok(&out, "not-a-socket");
    assert_eq!(out.value("path_open(dial) outcome"), "NOENT", "{out}");
    assert_no_connection(&l);
}
