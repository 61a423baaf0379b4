//! `wasirun record` and `wasirun replay`: a replay from the log alone, with the preopened
//! directory gone, prints the same stdout and ends with the same status; other arguments than
//! the recorded ones are a divergence; a truncated or corrupted log is a clear error.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const WASIRUN: &str = env!("CARGO_BIN_EXE_wasirun");

/// A built test guest (`cargo xtask guests`).
fn guest(path: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/guests")
        .join(path);
    assert!(
        p.exists(),
        "test guest {} is missing: run `cargo xtask guests`",
        p.display()
    );
    p
}

fn rust(name: &str) -> PathBuf {
    guest(&format!("rust/wasm32-wasip1/release/{name}.wasm"))
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasirun-record-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn wasirun(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(WASIRUN).args(args).output().unwrap()
}

/// Records `module args` with `pre` preopened as `/pre` into `log`, removes `pre`, replays:
/// both outputs, the recorded first.
fn record_then_replay(pre: &Path, log: &Path, module: &Path, args: &[&str]) -> (Output, Output) {
    let mut rec: Vec<&std::ffi::OsStr> = vec![
        "record".as_ref(),
        "-o".as_ref(),
        log.as_os_str(),
        "--dir".as_ref(),
    ];
    let dir = format!("{}::/pre", pre.display());
    rec.push(dir.as_ref());
    rec.push(module.as_os_str());
    rec.extend(args.iter().map(std::ffi::OsStr::new));
    let recorded = wasirun(&rec);
    fs::remove_dir_all(pre).unwrap();
    let replayed = wasirun(&["replay".as_ref(), log.as_os_str()]);
    (recorded, replayed)
}

fn assert_same(recorded: &Output, replayed: &Output) {
    assert_eq!(
        replayed.status.code(),
        recorded.status.code(),
        "replay: {}",
        String::from_utf8_lossy(&replayed.stderr)
    );
    assert!(!recorded.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&replayed.stdout),
        String::from_utf8_lossy(&recorded.stdout)
    );
}

#[test]
fn rust_files_replay_without_the_directory() {
    let dir = scratch("files");
    let pre = dir.join("pre");
    fs::create_dir_all(pre.join("sub")).unwrap();
    fs::write(pre.join("hello.txt"), "Hello, WASI!\n").unwrap();
    fs::write(pre.join("sub/one"), "1").unwrap();
    fs::write(pre.join("sub/two"), "22").unwrap();
    let log = dir.join("run.log");
    let (recorded, replayed) = record_then_replay(&pre, &log, &rust("fs"), &["read", "/pre"]);
    assert_eq!(
        recorded.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&recorded.stderr)
    );
    assert_same(&recorded, &replayed);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rust_clocks_and_random_replay_the_same() {
    for scenario in ["clocks", "random"] {
        let dir = scratch(scenario);
        let pre = dir.join("pre");
        fs::create_dir_all(&pre).unwrap();
        let log = dir.join("run.log");
        let (recorded, replayed) = record_then_replay(&pre, &log, &rust("clocks"), &[scenario]);
        assert_eq!(
            recorded.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&recorded.stderr)
        );
        assert_same(&recorded, &replayed);
        fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn c_directory_listing_replays_without_the_directory() {
    let dir = scratch("c");
    let pre = dir.join("pre");
    fs::create_dir_all(&pre).unwrap();
    fs::write(pre.join("input.txt"), "from the host\n").unwrap();
    let log = dir.join("run.log");
    let (recorded, replayed) = record_then_replay(&pre, &log, &guest("c/posix_fs.wasm"), &["/pre"]);
    assert_eq!(
        recorded.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&recorded.stderr)
    );
    assert_same(&recorded, &replayed);
    fs::remove_dir_all(&dir).unwrap();
}

/// A recorded run of `clocks random`, for the tests that spoil or misuse it.
fn recorded_log(name: &str) -> (PathBuf, PathBuf) {
    let dir = scratch(name);
    let log = dir.join("run.log");
    let out = wasirun(&[
        "record".as_ref(),
        "-o".as_ref(),
        log.as_os_str(),
        rust("clocks").as_os_str(),
        "random".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    (dir, log)
}

#[test]
fn other_arguments_are_a_divergence() {
    let (dir, log) = recorded_log("args");
    let module = rust("clocks");
    let out = wasirun(&[
        "replay".as_ref(),
        log.as_os_str(),
        module.as_os_str(),
        "--".as_ref(),
        "clocks".as_ref(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(70), "{stderr}");
    assert!(stderr.contains("divergence at call"), "{stderr}");
    assert!(stderr.contains("the arguments given"), "{stderr}");
    // The recorded arguments replay.
    let same = wasirun(&[
        "replay".as_ref(),
        log.as_os_str(),
        module.as_os_str(),
        "--".as_ref(),
        "random".as_ref(),
    ]);
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn truncated_and_corrupted_logs_are_clear_errors() {
    let (dir, log) = recorded_log("spoiled");
    let bytes = fs::read(&log).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", vec![], "not a wasirun log"),
        ("magic only", bytes[..8].to_vec(), "truncated in block 0"),
        ("cut", bytes[..bytes.len() - 3].to_vec(), "truncated"),
        (
            "flipped",
            {
                let mut b = bytes.clone();
                let last = b.len() - 1;
                b[last] ^= 0x55;
                b
            },
            "fails its checksum",
        ),
        (
            "header flipped",
            {
                let mut b = bytes.clone();
                b[20] ^= 0x01;
                b
            },
            "block 0",
        ),
    ];
    for (what, spoiled, expected) in cases {
        let path = dir.join("spoiled.log");
        fs::write(&path, &spoiled).unwrap();
        let out = wasirun(&[
            "replay".as_ref(),
            path.as_os_str(),
            rust("clocks").as_os_str(),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        assert_ne!(out.status.code(), Some(0), "{what}: {stderr}");
        assert!(stderr.contains(expected), "{what}: {stderr}");
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn replay_trace_prints_the_recorded_calls() {
    let (dir, log) = recorded_log("trace");
    let out = wasirun(&["replay".as_ref(), "--trace".as_ref(), log.as_os_str()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(r#"args_get("clocks.wasm\x00random\x00") = 0"#),
        "{stderr}"
    );
    assert!(
        stderr.contains(r#"fd_write(1, [iov("random_get("#),
        "{stderr}"
    );
    fs::remove_dir_all(&dir).unwrap();
}

/// Go's net/http server on `--listen`, recorded while a client sends requests and then
/// stopped by SIGTERM: the replay, with no socket at all, answers every call from the log
/// (each response the server wrote is checked against the log's length and CRC-32), prints
/// the same stdout and stops where the recording was stopped.
#[test]
fn go_http_server_replays_without_the_network() {
    use std::io::{Read, Write};
    use std::net::{Ipv4Addr, TcpListener, TcpStream};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let dir = scratch("http");
    let log = dir.join("http.log");
    let module = guest("go/httpserver.wasm");
    // The compile cache the Go socket tests use: the module compiles once.
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasirun-sockets-go-cache");
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let server = Command::new(WASIRUN)
        .args(["record", "-o"])
        .arg(&log)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg(&module)
        .env("XDG_CACHE_HOME", &cache)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut answered = 0;
    while answered < 20 {
        let Ok(mut conn) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
            assert!(Instant::now() < deadline, "the server did not start");
            std::thread::sleep(Duration::from_millis(100));
            continue;
        };
        conn.write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        conn.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        answered += 1;
    }
    // SAFETY: kill(2) on our own child's pid, which has not been waited for.
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    let recorded = server.wait_with_output().unwrap();
    let replayed = Command::new(WASIRUN)
        .arg("replay")
        .arg(&log)
        .env("XDG_CACHE_HOME", &cache)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&replayed.stderr);
    assert!(!stderr.contains("divergence"), "{stderr}");
    assert!(
        stderr.ends_with("wasirun: the guest was stopped by SIGTERM\n"),
        "{stderr}"
    );
    assert_eq!(recorded.status.code(), Some(143));
    assert_eq!(replayed.status.code(), Some(143), "{stderr}");
    assert_eq!(replayed.stdout, recorded.stdout, "{stderr}");
    fs::remove_dir_all(&dir).unwrap();
}

/// A `tests/data/limits/` guest.
fn limits_data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/limits")
        .join(name)
}

/// Records `module` under `--timeout 300ms`, stdin a pipe nobody writes, then replays it: both
/// outputs, the recorded first.
fn record_timed_out(name: &str, module: &Path) -> (Output, Output) {
    let dir = scratch(name);
    let log = dir.join("run.log");
    let (stdin, _writer) = rustix::pipe::pipe().unwrap();
    let recorded = Command::new(WASIRUN)
        .args(["record", "--no-cache", "--timeout", "300ms", "-o"])
        .arg(&log)
        .arg(module)
        .stdin(std::process::Stdio::from(stdin))
        .output()
        .unwrap();
    let replayed = wasirun(&["replay".as_ref(), log.as_os_str()]);
    fs::remove_dir_all(&dir).unwrap();
    (recorded, replayed)
}

/// A run stopped in its own code (no host call to trap in: the last resort ended it) and one
/// stopped blocked in a read both replay to the same status and message: the log's end says
/// how the run ended, and the replay stops the spinning guest once it reaches it.
#[test]
fn a_timed_out_run_replays_with_its_status_and_message() {
    for (name, module) in [("spin", "spin_nonblock.wat"), ("block", "block.wat")] {
        let (recorded, replayed) = record_timed_out(name, &limits_data(module));
        let message = "wasirun: the guest ran past --timeout 300ms\n";
        assert_eq!(recorded.status.code(), Some(124), "{module}: {recorded:?}");
        assert_eq!(String::from_utf8_lossy(&recorded.stderr), message);
        assert_eq!(replayed.status.code(), Some(124), "{module}: {replayed:?}");
        assert_eq!(
            String::from_utf8_lossy(&replayed.stderr),
            message,
            "{module}"
        );
    }
}

/// A guest's own exit status is the log's end too, and the replay's.
#[test]
fn an_exit_status_replays() {
    let dir = scratch("exit");
    let log = dir.join("run.log");
    let module = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/exit42.wat");
    let recorded = wasirun(&[
        "record".as_ref(),
        "-o".as_ref(),
        log.as_os_str(),
        module.as_os_str(),
    ]);
    assert_eq!(recorded.status.code(), Some(42), "{recorded:?}");
    let replayed = wasirun(&["replay".as_ref(), log.as_os_str()]);
    assert_eq!(replayed.status.code(), Some(42), "{replayed:?}");
    assert!(replayed.stderr.is_empty(), "{replayed:?}");
    fs::remove_dir_all(&dir).unwrap();
}
