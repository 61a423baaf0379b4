//! The guest's limits, end to end: `--max-memory`, `--max-table-elements`, the instance, table
//! and memory counts, `--memory64`, `--trap-on-grow-failure`, `--timeout` and `--fuel`, each hit
//! by a WAT guest of `tests/data/limits/`, with its exit status and one-line message; and
//! `--timeout` and SIGINT, SIGTERM, SIGHUP stopping a guest in each kind of wait (a read,
//! `poll_oneoff`, `sock_accept`, a connect) or running wasm, the parent's stdio flags put back.

use rustix::fs::OFlags;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const WASIRUN: &str = env!("CARGO_BIN_EXE_wasirun");

/// What a run printed and how it ended.
#[derive(Debug)]
struct Out {
    status: i32,
    stderr: String,
}

/// A `tests/data/limits/` file.
fn data(name: &str) -> String {
    format!("{}/tests/data/limits/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs wasirun with `args`, its compile cache in the tests' own directory.
fn run(args: &[&str]) -> Out {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasirun-limits-cache");
    let out = Command::new(WASIRUN)
        .args(args)
        .env("XDG_CACHE_HOME", &cache)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Out {
        status: out.status.code().expect("exited, not killed by a signal"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Asserts `status` and a one-line `wasirun: ...` message containing `what`.
#[track_caller]
fn assert_error(out: &Out, status: i32, what: &str) {
    assert_eq!(out.status, status, "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "not one line: {out:?}");
    assert!(out.stderr.starts_with("wasirun: "), "{out:?}");
    assert!(out.stderr.contains(what), "no {what:?} in {out:?}");
}

#[test]
fn the_defaults_stop_a_billion_element_table_grow() {
    let out = run(&[&data("grow.wat")]);
    // The table grow fails; 2000 pages fit under the default 4G.
    assert_eq!(out.status, 2, "{out:?}");
}

#[test]
fn max_memory_makes_memory_grow_return_minus_one() {
    let out = run(&["--max-memory", "64M", &data("grow.wat")]);
    assert_eq!(out.status, 10, "{out:?}");
}

#[test]
fn trap_on_grow_failure_traps_with_134() {
    let out = run(&["--trap-on-grow-failure", &data("grow.wat")]);
    assert_eq!(out.status, 134, "{out:?}");
    assert!(
        out.stderr
            .starts_with("wasirun: error: forcing trap when growing table"),
        "{out:?}"
    );
}

#[test]
fn an_initial_memory_over_max_memory_exits_77() {
    assert_eq!(run(&[&data("big_memory.wat")]).status, 0);
    let out = run(&["--max-memory", "64M", &data("big_memory.wat")]);
    assert_error(
        &out,
        77,
        "memory minimum size of 2000 pages exceeds memory limits",
    );
}

#[test]
fn an_initial_table_over_max_table_elements_exits_77() {
    let out = run(&[&data("big_table.wat")]);
    assert_error(&out, 77, "exceeds table limits");
    let out = run(&["--max-table-elements", "20000000", &data("big_table.wat")]);
    assert_eq!(out.status, 0, "{out:?}");
}

#[test]
fn memory_table_and_instance_counts_exit_77() {
    assert_eq!(run(&[&data("two_memories.wat")]).status, 0);
    let out = run(&["--max-memories", "1", &data("two_memories.wat")]);
    assert_error(&out, 77, "memory count too high");
    let out = run(&["--max-tables", "1", &data("two_memories.wat")]);
    assert_error(&out, 77, "table count too high");
    let out = run(&["--max-instances", "0", &data("two_memories.wat")]);
    assert_error(&out, 77, "instance count too high");
}

#[test]
fn memory64_is_refused_unless_asked_for() {
    let out = run(&[&data("memory64.wat")]);
    assert_error(&out, 65, "memory64 must be enabled");
    assert_eq!(run(&["--memory64", &data("memory64.wat")]).status, 0);
}

#[test]
fn fuel_stops_a_loop_with_125() {
    let out = run(&["--fuel", "1000000", &data("loop.wat")]);
    assert_error(&out, 125, "the guest used all its fuel (--fuel 1000000)");
}

#[test]
fn a_bad_limit_value_exits_2() {
    for args in [
        ["--timeout", "0s"],
        ["--timeout", "1d"],
        ["--max-memory", "lots"],
        ["--fuel", "-1"],
    ] {
        let out = run(&[args[0], args[1], &data("loop.wat")]);
        assert_eq!(out.status, 2, "{args:?}: {out:?}");
    }
}

/// Runs `module` with `args` under `--timeout 300ms` with stdout a pipe and stdin a pipe nobody
/// writes; asserts 124, within 5 s, and that the pipe is blocking again afterwards.
#[track_caller]
fn assert_times_out_and_restores_stdout(args: &[&str], module: &str) {
    let (stdin_read, stdin_write) = rustix::pipe::pipe().unwrap();
    let (out_read, out_write) = rustix::pipe::pipe().unwrap();
    let started = Instant::now();
    let out = Command::new(WASIRUN)
        .args(["--no-cache", "--timeout", "300ms"])
        .args(args)
        .arg(module)
        .stdin(Stdio::from(stdin_read))
        .stdout(Stdio::from(
            out_write.try_clone().expect("a second stdout pipe fd"),
        ))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(124), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "wasirun: the guest ran past --timeout 300ms"
    );
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    let flags = rustix::fs::fcntl_getfl(&out_write).unwrap();
    assert!(
        !flags.contains(OFlags::NONBLOCK),
        "stdout left non-blocking"
    );
    drop((stdin_write, out_read));
}

#[test]
fn timeout_stops_a_loop_with_124_and_restores_stdio() {
    assert_times_out_and_restores_stdout(&[], &data("spin_nonblock.wat"));
}

/// A guest timed out in its own code is ended with the process, yet says all a guest that
/// unwinds says: the `--trace-summary` table (the calls it made before it spun), then the
/// timeout, exactly once each.
#[test]
fn timeout_of_a_spinning_guest_still_prints_the_trace_summary() {
    let out = run(&[
        "--timeout",
        "200ms",
        "--trace-summary",
        &data("spin_nonblock.wat"),
    ]);
    assert_eq!(out.status, 124, "{out:?}");
    assert_eq!(out.stderr.matches("% time ").count(), 1, "{out:?}");
    assert!(out.stderr.contains(" fd_fdstat_set_flags\n"), "{out:?}");
    assert!(
        out.stderr
            .ends_with("\nwasirun: the guest ran past --timeout 200ms\n"),
        "{out:?}"
    );
}

#[test]
fn timeout_stops_a_guest_blocked_in_a_read_and_restores_stdio() {
    assert_times_out_and_restores_stdout(&[], &data("block.wat"));
}

#[test]
fn timeout_stops_a_guest_in_a_day_long_poll_oneoff_and_restores_stdio() {
    assert_times_out_and_restores_stdout(&[], &data("poll_sleep.wat"));
}

#[test]
fn timeout_stops_a_guest_blocked_in_sock_accept_and_restores_stdio() {
    assert_times_out_and_restores_stdout(
        &["--listen", "127.0.0.1:0?nonblock=0"],
        &data("accept.wat"),
    );
}

#[test]
fn timeout_and_fuel_leave_a_quick_guest_alone() {
    let out = run(&[
        "--timeout",
        "30s",
        "--fuel",
        "1000000",
        &data("big_memory.wat"),
    ]);
    assert_eq!(out.status, 0, "{out:?}");
}

/// Runs `module` with `args`, stdout a pipe and stdin a pipe nobody writes; once the guest has
/// set O_NONBLOCK on stdout (it is then about to wait), sends `signal`; asserts 128 + `number`
/// within 2 s of the signal (the machine may be loaded: the 100 ms wasirun aims for is not
/// timed here), the message, and that stdout is blocking again.
#[track_caller]
fn assert_signal_stops(args: &[&str], module: &str, signal: rustix::process::Signal, number: i32) {
    let (stdin_read, stdin_write) = rustix::pipe::pipe().unwrap();
    let (out_read, out_write) = rustix::pipe::pipe().unwrap();
    let child = Command::new(WASIRUN)
        .arg("--no-cache")
        .args(args)
        .arg(module)
        .stdin(Stdio::from(stdin_read))
        .stdout(Stdio::from(out_write.try_clone().unwrap()))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !rustix::fs::fcntl_getfl(&out_write)
        .unwrap()
        .contains(OFlags::NONBLOCK)
    {
        assert!(started.elapsed() < Duration::from_secs(20), "never blocked");
        std::thread::sleep(Duration::from_millis(5));
    }
    // The flag is set just before the guest waits: give it time to get there.
    std::thread::sleep(Duration::from_millis(20));
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    let sent = Instant::now();
    rustix::process::kill_process(pid, signal).unwrap();
    let out = child.wait_with_output().unwrap();
    let took = sent.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(128 + number),
        "{signal:?}: {stderr}"
    );
    assert!(
        stderr.starts_with("wasirun: the guest was stopped by SIG"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(took < Duration::from_secs(2), "{signal:?} took {took:?}");
    assert!(
        !rustix::fs::fcntl_getfl(&out_write)
            .unwrap()
            .contains(OFlags::NONBLOCK),
        "{signal:?}: stdout left non-blocking"
    );
    drop((stdin_write, out_read));
}

/// SIGINT, SIGTERM and SIGHUP stop a guest blocked in a read with 128 + the signal's number,
/// and stdout is blocking again afterwards.
#[test]
fn a_signal_stops_a_blocked_guest_and_restores_stdio() {
    for (signal, number) in [
        (rustix::process::Signal::INT, 2),
        (rustix::process::Signal::TERM, 15),
        (rustix::process::Signal::HUP, 1),
    ] {
        assert_signal_stops(&[], &data("block.wat"), signal, number);
    }
}

#[test]
fn sigterm_stops_a_guest_in_a_day_long_poll_oneoff() {
    assert_signal_stops(
        &[],
        &data("poll_sleep.wat"),
        rustix::process::Signal::TERM,
        15,
    );
}

#[test]
fn sigterm_stops_a_guest_blocked_in_sock_accept() {
    assert_signal_stops(
        &["--listen", "127.0.0.1:0?nonblock=0"],
        &data("accept.wat"),
        rustix::process::Signal::TERM,
        15,
    );
}

/// A guest running its own code has no host call to trap in (wasirun compiles no epoch checks,
/// with or without `--timeout`): the last resort ends it, with the same status and message.
#[test]
fn sigterm_stops_a_guest_running_wasm_with_and_without_a_timeout() {
    let spin = data("spin_nonblock.wat");
    assert_signal_stops(
        &["--timeout", "1h"],
        &spin,
        rustix::process::Signal::TERM,
        15,
    );
    assert_signal_stops(&[], &spin, rustix::process::Signal::TERM, 15);
}

/// A listener whose accept queue is full (Linux then drops further SYNs, so a connect to it
/// hangs), its port, and the connections that fill it.
fn full_listener() -> (rustix::fd::OwnedFd, u16, Vec<std::net::TcpStream>) {
    use rustix::net::{AddressFamily, SocketType};
    let fd = rustix::net::socket(AddressFamily::INET, SocketType::STREAM, None).unwrap();
    let any: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    rustix::net::bind(&fd, &any).unwrap();
    rustix::net::listen(&fd, 0).unwrap();
    let addr: std::net::SocketAddr = rustix::net::getsockname(&fd).unwrap().try_into().unwrap();
    let mut queued = Vec::new();
    while let Ok(s) = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
        queued.push(s);
        assert!(queued.len() < 64, "the accept queue never filled");
    }
    (fd, addr.port(), queued)
}

#[test]
fn a_connect_that_hangs_is_stopped_by_timeout_and_by_sigterm() {
    let (_listener, port, _queued) = full_listener();
    let wat = std::fs::read_to_string(data("connect.wat.in"))
        .unwrap()
        .replace("PORT", &port.to_string());
    let module = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("connect-{port}.wat"));
    std::fs::write(&module, wat).unwrap();
    let module = module.to_str().unwrap();
    let rule = format!("127.0.0.1:{port}");
    let args = ["--allow-connect", rule.as_str()];
    assert_times_out_and_restores_stdout(&args, module);
    assert_signal_stops(&args, module, rustix::process::Signal::TERM, 15);
}
