//! Go's net/http under wasirun on sockets the host hands over: `--listen` gives the guest a
//! listening socket, `--dial` a connected one, as fd 3 (there is no `--dir`).
//!
//! The guests are `tests/guests/go/httpserver` and `httpclient`, built by `cargo xtask test`
//! into `target/guests/go/`; a missing guest fails its test with a message saying so.
//!
//! The server test is about the instance as a whole, not one call: Go's runtime on wasip1 is a
//! single thread that parks every goroutine in one `poll_oneoff` over all its fds and timers,
//! so a host call that blocks on one socket (a read that ignores `FDFLAGS_NONBLOCK`, a poll
//! that waits on one fd) stalls every other connection and the timers with it. The test holds
//! an idle connection open the whole time, sends a thousand requests from eight threads around
//! it, then checks that a 10 ms ticker kept ticking.
//!
//! Go's `net.FileListener` and `net.FileConn` never set `O_NONBLOCK` on the descriptor they
//! are given: `os.NewFile` reads the flags (`fd_fdstat_get`) and `net` registers the fd with
//! its poller as it is. A preopened socket must therefore start non-blocking, as wasmtime's
//! `--tcplisten` and wasi-go's `--listen` make theirs; a blocking one stops the whole
//! instance in the first `sock_accept` or `fd_read` on it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const WASIRUN: &str = env!("CARGO_BIN_EXE_wasirun");

/// How long a test may run before it kills wasirun and fails: a hang is a failure, not a stuck
/// run. Compiling the 10 MB Go guest the first time (then it is cached) is most of it.
const TIMEOUT: Duration = Duration::from_secs(120);

/// The longest the host waits on one socket read or write.
const IO_TIMEOUT: Duration = Duration::from_secs(30);

const REQUESTS: usize = 1_000;
const THREADS: usize = 8;

/// A built Go guest, `tests/guests/go/NAME/`; fails the test when it is missing.
fn go_guest(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/guests/go")
        .join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "test guest {} is missing: build the guests with `cargo xtask test` \
         (`cargo xtask test --test sockets_go` runs only these tests)",
        path.display()
    );
    path
}

/// wasirun with `args`, its compile cache in a directory of the tests (never the user's).
fn wasirun(args: &[&str], module: &Path) -> Command {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasirun-sockets-go-cache");
    let mut cmd = Command::new(WASIRUN);
    cmd.args(args)
        .arg(module)
        .env("XDG_CACHE_HOME", cache)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// A loopback port nobody listens on (free when this returns; wasirun binds it right after).
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("binding a loopback port")
        .port()
}

/// A wasirun process that is killed when dropped, so that a failed assertion leaves nothing
/// running; its stdout and stderr are read on threads, for the failure messages.
struct Server {
    child: Child,
    output: Option<(JoinHandle<String>, JoinHandle<String>)>,
}

impl Server {
    fn spawn(mut cmd: Command) -> Server {
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("starting {WASIRUN}: {e}"));
        let mut stdout = child.stdout.take().expect("a stdout pipe");
        let mut stderr = child.stderr.take().expect("a stderr pipe");
        let read = |r: &mut dyn Read| {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        };
        let stdout = std::thread::spawn(move || read(&mut stdout));
        let stderr = std::thread::spawn(move || read(&mut stderr));
        Server {
            child,
            output: Some((stdout, stderr)),
        }
    }

    /// Panics, with what wasirun printed, when it has exited.
    fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().expect("waiting for wasirun") {
            panic!("wasirun exited early, {status}\n{}", self.kill());
        }
    }

    /// Kills wasirun (if it still runs) and returns what it printed.
    fn kill(&mut self) -> Printed {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let join = |h: Option<JoinHandle<String>>| h.and_then(|h| h.join().ok());
        let (stdout, stderr) = self.output.take().unzip();
        Printed {
            stdout: join(stdout).unwrap_or_default(),
            stderr: join(stderr).unwrap_or_default(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.output.is_some() {
            let printed = self.kill();
            if std::thread::panicking() {
                eprintln!("what wasirun printed:\n{printed}");
            }
        }
    }
}

/// What wasirun printed.
struct Printed {
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Printed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "--- stdout\n{}", self.stdout)?;
        write!(f, "--- stderr\n{}", self.stderr)
    }
}

/// A response: status code, `Connection: close` or not, body.
#[derive(Debug)]
struct Response {
    status: u16,
    close: bool,
    body: String,
}

/// Writes `GET path` on `conn` (with `Connection: close` when `close`) and reads the response,
/// which must carry a `Content-Length` (Go's server sets it on small bodies).
fn get(conn: &mut BufReader<TcpStream>, path: &str, close: bool) -> std::io::Result<Response> {
    let connection = if close { "close" } else { "keep-alive" };
    write!(
        conn.get_mut(),
        "GET {path} HTTP/1.1\r\nHost: wasirun-test\r\nConnection: {connection}\r\n\r\n"
    )?;
    let bad = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    let mut line = String::new();
    conn.read_line(&mut line)?;
    let status = line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("bad status line {line:?}")))?;
    let mut length = None;
    let mut close = false;
    loop {
        line.clear();
        if conn.read_line(&mut line)? == 0 {
            return Err(bad("the connection ended in the headers".into()));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| bad(format!("bad header {header:?}")))?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse::<usize>().ok();
        } else if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        }
    }
    let length = length.ok_or_else(|| bad("no Content-Length".into()))?;
    let mut body = vec![0; length];
    conn.read_exact(&mut body)?;
    let body = String::from_utf8(body).map_err(|e| bad(e.to_string()))?;
    Ok(Response {
        status,
        close,
        body,
    })
}

fn connect(addr: SocketAddr) -> std::io::Result<BufReader<TcpStream>> {
    let conn = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    conn.set_read_timeout(Some(IO_TIMEOUT))?;
    conn.set_write_timeout(Some(IO_TIMEOUT))?;
    conn.set_nodelay(true)?;
    Ok(BufReader::new(conn))
}

/// `GET path` on a fresh connection; the body of a 200.
fn fetch(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    let response = get(&mut connect(addr)?, path, true)?;
    if response.status != 200 {
        return Err(std::io::Error::other(format!("{path}: {response:?}")));
    }
    Ok(response.body)
}

/// `GET path` on a fresh connection, parsed as the number the server prints.
fn fetch_number(server: &mut Server, addr: SocketAddr, path: &str) -> u64 {
    let body = fetch(addr, path).unwrap_or_else(|e| {
        server.assert_running();
        panic!("GET {path}: {e}")
    });
    body.trim()
        .parse()
        .unwrap_or_else(|_| panic!("GET {path}: not a number: {body:?}"))
}

#[test]
fn go_http_server_on_a_listen_socket_serves_concurrent_clients() {
    let module = go_guest("httpserver");
    let port = free_port();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listen = format!("127.0.0.1:{port}");
    let mut server = Server::spawn(wasirun(&["--listen", &listen], &module));
    let started = Instant::now();

    // wasirun listens before the guest starts, so a connection can succeed long before Go
    // accepts it: the server is up when a request gets its answer.
    loop {
        match fetch(addr, "/") {
            Ok(body) if body == "hello\n" => break,
            Ok(body) => panic!("GET /: {body:?}, want \"hello\\n\""),
            Err(e) => {
                server.assert_running();
                assert!(
                    started.elapsed() < TIMEOUT,
                    "the server did not answer within {TIMEOUT:?}: {e} (a blocking listener \
                     stops Go in sock_accept: see this file's header)"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    // Never written to: a goroutine of the guest sits in a read on it all along.
    let idle = TcpStream::connect(addr).expect("connecting the idle connection");

    // Each thread alternates between its own keep-alive connection and a fresh connection per
    // request (`Connection: close`), so that accepts, reads and closes interleave.
    let per_thread = REQUESTS / THREADS;
    let load_started = Instant::now();
    let (done, results) = mpsc::channel();
    for thread in 0..THREADS {
        let done = done.clone();
        std::thread::spawn(move || {
            let result = (|| -> Result<usize, String> {
                let mut kept: Option<BufReader<TcpStream>> = None;
                for i in 0..per_thread {
                    if started.elapsed() > TIMEOUT {
                        return Err(format!("out of time after {i} requests"));
                    }
                    let close = i % 2 == 1;
                    let response = if close {
                        connect(addr).and_then(|mut c| get(&mut c, "/", true))
                    } else {
                        let conn = match &mut kept {
                            Some(c) => c,
                            None => kept.insert(connect(addr).map_err(|e| e.to_string())?),
                        };
                        get(conn, "/", false)
                    }
                    .map_err(|e| format!("request {i} (close: {close}): {e}"))?;
                    if response.status != 200 || response.body != "hello\n" {
                        return Err(format!("request {i}: {response:?}"));
                    }
                    if !close && response.close {
                        return Err(format!("request {i}: the server closed a keep-alive"));
                    }
                }
                Ok(per_thread)
            })();
            let _ = done.send((thread, result));
        });
    }
    drop(done);
    let mut served = 0;
    let mut failures = Vec::new();
    for (thread, result) in results {
        match result {
            Ok(n) => served += n,
            Err(e) => failures.push(format!("thread {thread}: {e}")),
        }
    }
    server.assert_running();
    assert!(
        failures.is_empty(),
        "{served} of {} requests served; failures:\n{}",
        per_thread * THREADS,
        failures.join("\n")
    );
    assert_eq!(served, per_thread * THREADS);
    let load = load_started.elapsed();

    // A quiet second, the idle connection still open: the guest waits on its sockets and its
    // timer together, and only the timer can wake it.
    std::thread::sleep(Duration::from_secs(1));

    // Uptime first: the ticks are read after it, so they can only be more.
    let uptime_ms = fetch_number(&mut server, addr, "/uptime-ms");
    let ticks = fetch_number(&mut server, addr, "/ticks");
    assert!(
        ticks >= uptime_ms / 10 / 3,
        "the 10 ms ticker fired {ticks} times in {uptime_ms} ms of uptime (want at least \
         {}): the timer goroutine was starved, the instance blocked on one socket",
        uptime_ms / 10 / 3
    );
    eprintln!("{served} requests in {load:?}; {ticks} ticks in {uptime_ms} ms of uptime");

    drop(idle);
    drop(server);
}

#[test]
fn go_http_client_on_a_dial_socket_gets_a_response() {
    let module = go_guest("httpclient");
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("binding a loopback port");
    let addr = listener.local_addr().unwrap();

    // One connection, one request: its head is sent back to the test.
    let (seen, request) = mpsc::channel();
    std::thread::spawn(move || {
        let result = (|| -> std::io::Result<String> {
            let (conn, _) = listener.accept()?;
            conn.set_read_timeout(Some(IO_TIMEOUT))?;
            let mut conn = BufReader::new(conn);
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if conn.read_line(&mut line)? == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let body = "hello from the host";
            write!(
                conn.get_mut(),
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )?;
            Ok(head)
        })();
        let _ = seen.send(result);
    });

    let mut client = Server::spawn(wasirun(&["--dial", &addr.to_string()], &module));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = client.child.try_wait().expect("waiting for wasirun") {
            break status;
        }
        assert!(
            started.elapsed() < TIMEOUT,
            "wasirun ran for more than {TIMEOUT:?}\n{}",
            client.kill()
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let printed = client.kill();
    assert!(
        status.success() && printed.stdout == "status: 200 OK\nbody: hello from the host\n",
        "httpclient: {status}\n{printed}"
    );

    let head = request
        .recv_timeout(IO_TIMEOUT)
        .expect("the host's server thread never answered")
        .expect("the host's server thread failed");
    let mut lines = head.lines();
    assert_eq!(
        lines.next(),
        Some("GET /hello HTTP/1.1"),
        "request:\n{head}"
    );
    assert!(
        lines.any(|l| l.eq_ignore_ascii_case("host: wasirun-dial")),
        "no `Host: wasirun-dial` in the request:\n{head}"
    );
}
