//! What the socket tests share (`sockets_wasmedge.rs`, `sockets_path_open.rs`): finding the
//! guests, running wasirun with a timeout and reading the guest's `label: value` lines as they
//! come, and the host's side of a TCP connection. Each test binary uses part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub const WASIRUN: &str = env!("CARGO_BIN_EXE_wasirun");

/// How long a guest may run, and a host peer wait, before the test gives up on it: a hang is a
/// failure, not a stuck run.
pub const TIMEOUT: Duration = Duration::from_secs(60);

// Finding the guests.

/// A Rust guest, `tests/guests/rust/src/bin/NAME.rs`, as `cargo xtask test` builds it.
pub fn rust(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/guests/rust/wasm32-wasip1/release")
        .join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "test guest {} is missing: build the guests with `cargo xtask test` \
         (`cargo xtask guests` builds only them)",
        path.display()
    );
    path
}

// Running wasirun.

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Out {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// The value of the guest's line `label: value`.
    pub fn value(&self, label: &str) -> &str {
        self.values(label)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no line {label:?} in the guest's output:\n{self}"))
    }

    /// The values of every line `label: value`.
    pub fn values(&self, label: &str) -> Vec<&str> {
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
pub fn assert_checks_ok(out: &Out, scenario: &str) {
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
pub fn spawn(args: &[&str]) -> Running {
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
pub struct Running {
    pub child: Child,
    lines: Receiver<String>,
    /// What the guest printed so far.
    seen: String,
    stderr: Option<JoinHandle<String>>,
    started: Instant,
}

impl Running {
    pub fn left(&self) -> Duration {
        TIMEOUT.saturating_sub(self.started.elapsed())
    }

    /// Reads the guest's lines until one is `label: value`; its value.
    pub fn wait_for(&mut self, label: &str) -> String {
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
    pub fn kill(&mut self) -> Out {
        let _ = self.child.kill();
        let status = self.child.wait().expect("waiting for wasirun");
        self.collect(status.code().unwrap_or(-1))
    }

    pub fn collect(&mut self, status: i32) -> Out {
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
    pub fn finish(mut self) -> Out {
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
pub fn listener() -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let addr = l.local_addr().unwrap();
    (l, addr)
}

/// A connection accepted by `l`, waiting at most [`TIMEOUT`] for it.
pub fn accept(l: &TcpListener) -> std::io::Result<(TcpStream, SocketAddr)> {
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
pub fn echo_once(l: TcpListener) -> JoinHandle<std::io::Result<(Vec<u8>, SocketAddr)>> {
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
pub fn assert_no_connection(l: &TcpListener) {
    l.set_nonblocking(true).unwrap();
    let r = l.accept();
    assert!(
        r.as_ref()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
        "a connection reached the host: {r:?}"
    );
}
