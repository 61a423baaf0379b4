//! Go's net/http server under wasirun against the same program run natively, in the same run:
//! `tests/guests/go/httpserver` (built by `cargo xtask test` into `target/guests/go/`, both
//! `httpserver.wasm` and the native `httpserver`) loaded by `wrk` on `/`.
//!
//! The native server gets its listening socket as fd 3 from this bench (bound to
//! 127.0.0.1:0, then `dup2`ed into place before `exec`); the wasm one from `wasirun --listen`.
//! Each is warmed up with a short `wrk` run, then measured with `wrk -t2 -c32 -dNs`, one after
//! the other so that they never share the CPU.
//!
//! `cargo bench -p wasirun --bench http` prints requests per second of both and the ratio
//! wasirun / native (1 is native speed), and of the native server on one thread
//! (`GOMAXPROCS=1`), as Go on wasip1 runs. `WASIRUN_BENCH_SECS` sets N (default 10). Needs
//! `wrk` (Debian: `apt-get install wrk`); without it the bench says so and does nothing.
//!
//! The wasirun server runs again under the limits an untrusted guest is given ([`LIMITS`]:
//! memory, table and store caps, and `--timeout`'s watchdog) and recorded (`--record FILE`, the
//! log in the temp dir), plain, limited and recorded taking turns twice: the ratios limited /
//! plain and recorded / plain of the mean requests/s, limited / native, and the log's bytes per
//! request (its size over every request the recorded servers answered, warm-ups included). The
//! table's wasirun row is the first plain run.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const WASIRUN: &str = env!("CARGO_BIN_EXE_wasirun");

/// wrk's threads and connections.
const WRK_THREADS: u32 = 2;
const WRK_CONNECTIONS: u32 = 32;

/// How long a warm-up lasts.
const WARMUP_SECS: u64 = 2;

/// The limits-on runs' flags: what a server from an untrusted source would be run with. Not
/// `--fuel`: a budget of instructions ends a server once spent, so it bounds batch runs, and
/// what it costs compiled code is `--bench limits`' to measure.
const LIMITS: &[&str] = &[
    "--max-memory",
    "1G",
    "--max-table-elements",
    "100000",
    "--max-instances",
    "1",
    "--max-tables",
    "1",
    "--max-memories",
    "1",
    "--timeout",
    "1h",
];

/// How long a server may take to answer its first request (wasirun compiles the 10 MB module
/// the first time, then maps it from its cache).
const START_TIMEOUT: Duration = Duration::from_secs(180);

/// A server process, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Waits until `GET /` answers `hello`.
    fn wait_ready(&mut self, name: &str) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("waiting for the server") {
                panic!("{name}: the server exited before it answered: {status}");
            }
            if get_root(self.addr).is_ok_and(|body| body.ends_with("\r\n\r\nhello\n")) {
                return;
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "{name}: no answer from {} within {START_TIMEOUT:?}",
                self.addr
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// One `GET /` on a fresh connection; the whole response.
fn get_root(addr: SocketAddr) -> std::io::Result<String> {
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    conn.write_all(b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    conn.read_to_string(&mut response)?;
    Ok(response)
}

/// The native server, its listener (127.0.0.1, a port the kernel picks) as fd 3, on
/// `gomaxprocs` threads (0: Go's default, one per CPU).
fn spawn_native(binary: &Path, gomaxprocs: usize) -> Server {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("binding the listener");
    let addr = listener.local_addr().unwrap();
    // The lowest free descriptor from 3 up. When it is 3, the child only has to keep it open
    // across exec; when it is above 3, fd 3 is taken (by something close-on-exec), so the
    // child's fd 3 is open and dup2 can replace it.
    let fd = rustix::io::fcntl_dupfd_cloexec(&listener, 3).expect("duplicating the listener");
    let raw = fd.as_raw_fd();
    let mut cmd = Command::new(binary);
    cmd.stdin(Stdio::null()).stdout(Stdio::null());
    if gomaxprocs > 0 {
        cmd.env("GOMAXPROCS", gomaxprocs.to_string());
    }
    // SAFETY: the closure runs in the forked child before exec and makes only async-signal-safe
    // system calls (fcntl, dup2), allocating nothing. `raw` is open there (the child has a copy
    // of every descriptor of the parent until exec); so is 3 when it differs from `raw` (see
    // above), which makes the OwnedFd that names it for dup2 valid; it is never dropped.
    unsafe {
        cmd.pre_exec(move || {
            let src = BorrowedFd::borrow_raw(raw);
            if raw == 3 {
                rustix::io::fcntl_setfd(src, rustix::io::FdFlags::empty())?;
            } else {
                let mut three = std::mem::ManuallyDrop::new(OwnedFd::from_raw_fd(3));
                rustix::io::dup2(src, &mut three)?;
            }
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
    // The child has its own copies now.
    drop(fd);
    drop(listener);
    Server { child, addr }
}

/// The wasm server under wasirun with `flags`, on a loopback port free a moment ago.
fn spawn_wasirun<F: AsRef<OsStr>>(module: &Path, flags: &[F]) -> Server {
    let addr = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("finding a free port");
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasirun-bench-http-cache");
    let child = Command::new(WASIRUN)
        .args(flags)
        // Non-blocking, as --listen makes it by default: Go's net.FileListener never sets
        // O_NONBLOCK itself.
        .arg("--listen")
        .arg(addr.to_string())
        .arg(module)
        .env("XDG_CACHE_HOME", cache)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {WASIRUN}: {e}"));
    Server { child, addr }
}

/// What one wrk run measured.
struct Wrk {
    requests_per_sec: f64,
    latency: String,
    /// Requests completed (wrk's "N requests in").
    requests: u64,
    /// wrk's `Socket errors` and `Non-2xx or 3xx responses` lines, if any.
    errors: Vec<String>,
}

/// `wrk -t2 -c32 -dSECSs http://ADDR/`.
fn wrk(addr: SocketAddr, secs: u64) -> Wrk {
    let out = Command::new("wrk")
        .arg(format!("-t{WRK_THREADS}"))
        .arg(format!("-c{WRK_CONNECTIONS}"))
        .arg(format!("-d{secs}s"))
        .arg(format!("http://{addr}/"))
        .output()
        .expect("running wrk");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "wrk failed: {}\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut wrk = Wrk {
        requests_per_sec: f64::NAN,
        latency: String::new(),
        requests: 0,
        errors: Vec::new(),
    };
    for line in stdout.lines() {
        let line = line.trim();
        if let Some((n, _)) = line.split_once(" requests in ") {
            wrk.requests = n.trim().parse().unwrap_or(0);
        } else if let Some(rate) = line.strip_prefix("Requests/sec:") {
            wrk.requests_per_sec = rate.trim().parse().unwrap_or(f64::NAN);
        } else if let Some(latency) = line.strip_prefix("Latency") {
            // "Latency   1.23ms  456.00us  12.34ms   90.00%": the mean is the first field.
            wrk.latency = latency.split_whitespace().next().unwrap_or("").to_string();
        } else if line.starts_with("Socket errors") || line.starts_with("Non-2xx") {
            wrk.errors.push(line.to_string());
        }
    }
    assert!(
        wrk.requests_per_sec.is_finite(),
        "no Requests/sec in wrk's output:\n{stdout}"
    );
    wrk
}

/// Warms `server` up, then measures it; `result.requests` counts the warm-up's too. Stops the
/// server with SIGTERM, so that a recording one writes the rest of its log.
fn measure(name: &str, mut server: Server, secs: u64) -> Wrk {
    server.wait_ready(name);
    let warmup = wrk(server.addr, WARMUP_SECS.min(secs));
    let mut result = wrk(server.addr, secs);
    if let Some(status) = server.child.try_wait().expect("waiting for the server") {
        panic!("{name}: the server exited under load: {status}");
    }
    result.requests += warmup.requests;
    // SAFETY: a signal to our own child, not yet waited for.
    unsafe { libc::kill(server.child.id() as libc::pid_t, libc::SIGTERM) };
    let stopped = Instant::now();
    while server
        .child
        .try_wait()
        .expect("waiting for the server")
        .is_none()
        && stopped.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    result
}

fn main() {
    if Command::new("wrk")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        println!(
            "http bench: wrk is missing; install it (Debian: `apt-get install wrk`) and rerun"
        );
        return;
    }
    let guests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/guests/go");
    let native: PathBuf = guests.join("httpserver");
    let wasm: PathBuf = guests.join("httpserver.wasm");
    if !native.exists() || !wasm.exists() {
        println!(
            "http bench: {} or {} is missing: `cargo xtask test` builds them \
             (`cargo xtask test --test sockets_go` runs only the socket tests after)",
            native.display(),
            wasm.display()
        );
        return;
    }
    let secs = match std::env::var("WASIRUN_BENCH_SECS") {
        Ok(s) => s
            .parse()
            .unwrap_or_else(|_| panic!("WASIRUN_BENCH_SECS={s:?}: want whole seconds")),
        Err(_) => 10,
    };

    let native_run = measure("native", spawn_native(&native, 0), secs);
    // Go on wasip1 runs every goroutine on one thread: the same Go natively on one thread
    // tells the cost of WebAssembly and the host apart from the cost of one core.
    let native_one = measure("native, GOMAXPROCS=1", spawn_native(&native, 1), secs);
    // Plain, limited and recorded take turns, twice, each recorded run into a log of its own.
    let logs = std::env::temp_dir().join(format!("wasirun-bench-http-{}", std::process::id()));
    std::fs::create_dir_all(&logs).unwrap();
    let mut plain = Vec::new();
    let mut limited = Vec::new();
    let mut recorded = Vec::new();
    let mut log_bytes = 0;
    let no_flags: &[&str] = &[];
    for round in 0..2 {
        plain.push(measure("wasirun", spawn_wasirun(&wasm, no_flags), secs));
        limited.push(measure(
            "wasirun, limits on",
            spawn_wasirun(&wasm, LIMITS),
            secs,
        ));
        let log = logs.join(format!("http-{round}.log"));
        recorded.push(measure(
            "wasirun --record",
            spawn_wasirun(&wasm, &[OsStr::new("--record"), log.as_os_str()]),
            secs,
        ));
        log_bytes += std::fs::metadata(&log).map_or(0, |m| m.len());
    }
    std::fs::remove_dir_all(&logs).unwrap();
    let mean =
        |runs: &[Wrk]| runs.iter().map(|r| r.requests_per_sec).sum::<f64>() / runs.len() as f64;
    let (plain_mean, limited_mean, recorded_mean) = (mean(&plain), mean(&limited), mean(&recorded));
    let recorded_requests: u64 = recorded.iter().map(|r| r.requests).sum();
    let wasirun_run = plain.swap_remove(0);

    println!(
        "Go net/http GET / ({WRK_THREADS} wrk threads, {WRK_CONNECTIONS} connections, {secs} s \
         each, after {}s of warm-up); ratio = wasirun / native",
        WARMUP_SECS.min(secs)
    );
    println!(
        "{:<24} {:>12} {:>14}",
        "server", "requests/s", "mean latency"
    );
    for (name, run) in [
        ("native", &native_run),
        ("native, GOMAXPROCS=1", &native_one),
        ("wasirun", &wasirun_run),
    ] {
        println!(
            "{name:<24} {:>12.0} {:>14}",
            run.requests_per_sec, run.latency
        );
        for error in &run.errors {
            println!("{:<24} {error}", "");
        }
    }
    println!(
        "{:<24} {:>12.3}",
        "ratio wasirun / native",
        wasirun_run.requests_per_sec / native_run.requests_per_sec
    );
    println!(
        "{:<24} {:>12.3}",
        "ratio to GOMAXPROCS=1",
        wasirun_run.requests_per_sec / native_one.requests_per_sec
    );
    println!();
    println!(
        "limits on ({}), taking turns with plain twice:",
        LIMITS.join(" ")
    );
    against_plain(
        "wasirun, limits",
        "limited",
        &limited,
        plain_mean,
        limited_mean,
    );
    println!(
        "{:<24} {:>12.3}",
        "ratio limited / native",
        limited_mean / native_run.requests_per_sec
    );
    println!();
    println!("recording (--record), plain and recorded taking turns twice:");
    against_plain(
        "wasirun --record",
        "recorded",
        &recorded,
        plain_mean,
        recorded_mean,
    );
    // The probes of wait_ready (one request each) aside.
    println!(
        "{:<24} {:>12.0}   ({log_bytes} bytes over {recorded_requests} requests)",
        "log bytes per request",
        log_bytes as f64 / recorded_requests.max(1) as f64
    );
}

/// The rows of runs of a variant (`label (1)`, ...) with their errors, then the means of plain
/// and of the variant (`name`), and their ratio.
fn against_plain(label: &str, name: &str, runs: &[Wrk], plain_mean: f64, mean: f64) {
    for (k, run) in runs.iter().enumerate() {
        println!(
            "{:<24} {:>12.0} {:>14}",
            format!("{label} ({})", k + 1),
            run.requests_per_sec,
            run.latency
        );
        for error in &run.errors {
            println!("{:<24} {error}", "");
        }
    }
    println!(
        "{:<24} {:>12.0} {:>14.0}",
        format!("mean plain, {name}"),
        plain_mean,
        mean
    );
    println!(
        "{:<24} {:>12.3}",
        format!("ratio {name} / plain"),
        mean / plain_mean
    );
}
