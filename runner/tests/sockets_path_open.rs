//! Sockets the guest makes with `path_open` from URLs (`wasirun --sockets path_open`), with
//! real peers on the host's loopback interface.
//!
//! The guest is `tests/guests/rust/src/bin/path_open_sock.rs`; `cargo xtask test` builds it
//! (`cargo xtask test --test sockets_path_open` runs only these tests). Each test plays the
//! other end, a server for the guest's dial or a client of its listener, and checks both what
//! the guest printed and what the host saw. Without an `--allow-*` flag that covers it, a
//! socket URL is `EACCES`; a URL without a port is `EINVAL`; without `--sockets path_open` the
//! URL is only a file name.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const WASIRUN: &str = env!("CARGO_BIN_EXE_wasirun");

/// How long a guest may run, and a host peer wait, before the test gives up on it: a hang is a
/// failure, not a stuck run.
const TIMEOUT: Duration = Duration::from_secs(60);

// Finding the guests.

/// A Rust guest, `tests/guests/rust/src/bin/NAME.rs`, as `cargo xtask test` builds it.
fn rust(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/guests/rust/wasm32-wasip1/release")
        .join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "test guest {} is missing: build the guests with `cargo xtask test` \
         (`cargo xtask test --test sockets_path_open` runs only these tests)",
        path.display()
    );
    path
}

// Running wasirun.

/// What a run printed and how it ended.
#[derive(Debug)]
struct Out {
    status: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    /// The value of the guest's line `label: value`.
    fn value(&self, label: &str) -> &str {
        self.values(label)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no line {label:?} in the guest's output:\n{self}"))
    }

    /// The values of every line `label: value`.
    fn values(&self, label: &str) -> Vec<&str> {
        let prefix = format!("{label}: ");
        self.stdout
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix))
            .collect()
    }
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "status {}", self.status)?;
        writeln!(f, "--- stdout\n{}", self.stdout)?;
        write!(f, "--- stderr\n{}", self.stderr)
    }
}

/// Asserts that a guest ran every check of `scenario` and all of them passed: status 0, no
/// `FAIL` line, and the summary line last.
#[track_caller]
fn assert_checks_ok(out: &Out, scenario: &str) {
    let failures: Vec<&str> = out.stdout.lines().filter(|l| l.contains("FAIL")).collect();
    assert!(
        out.status == 0 && failures.is_empty(),
        "{scenario}: {} failed checks:\n{}\n\n{out}",
        failures.len(),
        failures.join("\n")
    );
    let last = out.stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!("{scenario}: ")) && last.ends_with(" checks ok"),
        "{scenario}: the guest did not finish: {out}"
    );
}

/// Starts `wasirun ARGS...`, its compile cache in a directory of the tests (never the user's).
fn spawn(args: &[&str]) -> Running {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasirun-sockets-cache");
    let mut child = Command::new(WASIRUN)
        .args(args)
        .env("XDG_CACHE_HOME", cache)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {WASIRUN}: {e}"));
    // Lines come through a channel so that waiting for one can time out.
    let (tx, lines) = channel();
    let stdout = child.stdout.take().expect("a stdout pipe");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stderr = child.stderr.take().expect("a stderr pipe");
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    Running {
        child,
        lines,
        seen: String::new(),
        stderr: Some(stderr),
        started: Instant::now(),
    }
}

/// A wasirun process running; killed if the test ends (or panics) before it does.
struct Running {
    child: Child,
    lines: Receiver<String>,
    /// What the guest printed so far.
    seen: String,
    stderr: Option<JoinHandle<String>>,
    started: Instant,
}

impl Running {
    fn left(&self) -> Duration {
        TIMEOUT.saturating_sub(self.started.elapsed())
    }

    /// Reads the guest's lines until one is `label: value`; its value.
    fn wait_for(&mut self, label: &str) -> String {
        let prefix = format!("{label}: ");
        loop {
            match self.lines.recv_timeout(self.left()) {
                Ok(line) => {
                    self.seen.push_str(&line);
                    self.seen.push('\n');
                    if let Some(v) = line.strip_prefix(&prefix) {
                        return v.to_string();
                    }
                }
                Err(e) => {
                    let why = match e {
                        RecvTimeoutError::Timeout => "waited too long",
                        RecvTimeoutError::Disconnected => "the guest's output ended",
                    };
                    let out = self.kill();
                    panic!("{why} for a line {label:?}: {out}");
                }
            }
        }
    }

    /// Kills wasirun; what it printed.
    fn kill(&mut self) -> Out {
        let _ = self.child.kill();
        let status = self.child.wait().expect("waiting for wasirun");
        self.collect(status.code().unwrap_or(-1))
    }

    fn collect(&mut self, status: i32) -> Out {
        let mut stdout = std::mem::take(&mut self.seen);
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            stdout.push_str(&line);
            stdout.push('\n');
        }
        let stderr = self
            .stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        Out {
            status,
            stdout,
            stderr,
        }
    }

    /// Waits for wasirun to exit (killing it past [`TIMEOUT`]); what it printed.
    fn finish(mut self) -> Out {
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("waiting for wasirun") {
                break status;
            }
            if self.left().is_zero() {
                let out = self.kill();
                panic!("wasirun ran for more than {TIMEOUT:?} and was killed: {out}");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        self.collect(
            status
                .code()
                .expect("wasirun exited, not killed by a signal"),
        )
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// The host's peers.

/// A TCP listener on a free loopback port.
fn listener() -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let addr = l.local_addr().unwrap();
    (l, addr)
}

/// A connection accepted by `l`, waiting at most [`TIMEOUT`] for it.
fn accept(l: &TcpListener) -> std::io::Result<(TcpStream, SocketAddr)> {
    l.set_nonblocking(true)?;
    let start = Instant::now();
    loop {
        match l.accept() {
            Ok((s, peer)) => {
                s.set_nonblocking(false)?;
                s.set_read_timeout(Some(TIMEOUT))?;
                s.set_write_timeout(Some(TIMEOUT))?;
                return Ok((s, peer));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && start.elapsed() < TIMEOUT => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(e),
        }
    }
}

/// A host TCP server that accepts one connection, reads it to its end, sends it all back and
/// closes: what it received and from whom.
fn echo_once(l: TcpListener) -> JoinHandle<std::io::Result<(Vec<u8>, SocketAddr)>> {
    std::thread::spawn(move || {
        let (mut s, peer) = accept(&l)?;
        let mut got = Vec::new();
        s.read_to_end(&mut got)?;
        s.write_all(&got)?;
        Ok((got, peer))
    })
}

/// Asserts that `l` has no connection waiting: the guest's connect never reached it.
#[track_caller]
fn assert_no_connection(l: &TcpListener) {
    l.set_nonblocking(true).unwrap();
    let r = l.accept();
    assert!(
        r.as_ref()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
        "a connection reached the host: {r:?}"
    );
}

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
