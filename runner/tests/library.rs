//! The `wasirun` library as an embedder uses it: `Command` (exit statuses, traps, link and
//! module errors), and the Unix builder's stdio modes, injected clocks and random source, each
//! seen by a WAT guest.

use std::io::{Read, Write};
use std::time::{Duration, Instant};
use wasirun::{Command, Error, Limits, Options};
use wasirun_unix::{Builder, Capture, SeededRandom, Stdio, UnixSystem};
use wasirun_wasi::{Clockid, Unstable};
use wasmtime::{Engine, Trap};

/// Copies stdin to stdout until end of file, then writes `err\n` to stderr.
const ECHO: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 2000) "err\n")
  (func (export "_start")
    (local $n i32)
    (loop $more
      (i32.store (i32.const 0) (i32.const 64))
      (i32.store (i32.const 4) (i32.const 1024))
      (if (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 16)) (then unreachable))
      (local.set $n (i32.load (i32.const 16)))
      (if (local.get $n) (then
        (i32.store (i32.const 4) (local.get $n))
        (if (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20))
          (then unreachable))
        (br $more))))
    (i32.store (i32.const 0) (i32.const 2000))
    (i32.store (i32.const 4) (i32.const 4))
    (drop (call $write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 20)))))"#;

/// Writes to stdout, as raw little-endian bytes: the realtime clock, the monotonic clock, the
/// monotonic clock's resolution, then 16 random bytes.
const CLOCKS: &str = r#"(module
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $time (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_res_get" (func $res (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (if (call $time (i32.const 0) (i64.const 0) (i32.const 104)) (then unreachable))
    (if (call $time (i32.const 1) (i64.const 0) (i32.const 112)) (then unreachable))
    (if (call $res (i32.const 1) (i32.const 120)) (then unreachable))
    (if (call $random (i32.const 128) (i32.const 16)) (then unreachable))
    (i32.store (i32.const 0) (i32.const 104))
    (i32.store (i32.const 4) (i32.const 40))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20)))))"#;

/// Sets stdin non-blocking and reads it (expecting EAGAIN, errno 6, from an empty pipe), then
/// waits in `poll_oneoff` for it to be readable (or 10 s), and exits with
/// `errno * 100 + events * 10 + the first event's type` (fd_read is 1): 611 when both behave.
const POLL_STDIN: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags"
    (func $set_flags (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (local $errno i32)
    (if (call $set_flags (i32.const 0) (i32.const 4)) (then unreachable))
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 16))
    (local.set $errno (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 16)))
    ;; Subscription 0 at 256: fd_read (tag 1) on fd 0.
    (i32.store8 (i32.const 264) (i32.const 1))
    (i32.store (i32.const 272) (i32.const 0))
    ;; Subscription 1 at 304: a relative monotonic clock (tag 0, id 1) of 10 s.
    (i32.store (i32.const 320) (i32.const 1))
    (i64.store (i32.const 328) (i64.const 10000000000))
    (if (call $poll (i32.const 256) (i32.const 512) (i32.const 2) (i32.const 24))
      (then unreachable))
    (call $exit (i32.add (i32.mul (local.get $errno) (i32.const 100))
      (i32.add (i32.mul (i32.load (i32.const 24)) (i32.const 10))
        (i32.load8_u (i32.const 522)))))))"#;

/// Waits in `poll_oneoff` for an absolute monotonic deadline: the monotonic clock's time now
/// plus 200 ms.
const SLEEP_UNTIL: &str = r#"(module
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $time (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (if (call $time (i32.const 1) (i64.const 0) (i32.const 0)) (then unreachable))
    ;; A clock subscription at 256: id 1, timeout now + 200 ms, flags ABSTIME.
    (i32.store (i32.const 272) (i32.const 1))
    (i64.store (i32.const 280) (i64.add (i64.load (i32.const 0)) (i64.const 200000000)))
    (i32.store16 (i32.const 296) (i32.const 1))
    (if (call $poll (i32.const 256) (i32.const 512) (i32.const 1) (i32.const 8))
      (then unreachable))))"#;

fn engine() -> Engine {
    Engine::default()
}

/// Runs `wat` on the system `builder` makes.
fn run(wat: &str, builder: &mut Builder) -> Result<i32, Error> {
    let system: UnixSystem = builder.build().unwrap();
    Command::new(&engine(), wat)?.run(system)
}

#[test]
fn in_memory_stdin_stdout_and_stderr() {
    let (out, err) = (Capture::new(), Capture::new());
    let status = run(
        ECHO,
        Builder::new()
            .stdin(Stdio::bytes("hello, guest\n"))
            .stdout(Stdio::writer(out.clone()))
            .stderr(Stdio::writer(err.clone())),
    );
    assert_eq!(status.unwrap(), 0);
    assert_eq!(out.to_string_lossy(), "hello, guest\n");
    assert_eq!(err.to_string_lossy(), "err\n");
}

#[test]
fn a_megabyte_goes_through_in_memory_stdio_both_ways_at_once() {
    // More than a pipe holds in each direction: the guest and both pumps run together.
    let input: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    let out = Capture::new();
    let status = run(
        ECHO,
        Builder::new()
            .stdin(Stdio::reader(std::io::Cursor::new(input.clone())))
            .stdout(Stdio::writer(out.clone()))
            .stderr(Stdio::null()),
    );
    assert_eq!(status.unwrap(), 0);
    assert_eq!(out.contents(), input);
}

#[test]
fn null_stdio_reads_end_of_file_and_discards_writes() {
    let err = Capture::new();
    let status = run(
        ECHO,
        Builder::new()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::writer(err.clone())),
    );
    assert_eq!(status.unwrap(), 0);
    assert_eq!(err.to_string_lossy(), "err\n");
}

#[test]
fn files_as_stdin_and_stdout() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("library-files");
    std::fs::create_dir_all(&dir).unwrap();
    let (input, output) = (dir.join("in.txt"), dir.join("out.txt"));
    std::fs::write(&input, "from a file\n").unwrap();
    let status = run(
        ECHO,
        Builder::new()
            .stdin(Stdio::fd(std::fs::File::open(&input).unwrap()))
            .stdout(Stdio::fd(std::fs::File::create(&output).unwrap()))
            .stderr(Stdio::null()),
    );
    assert_eq!(status.unwrap(), 0);
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "from a file\n");
}

#[test]
fn pipes_as_stdin_and_stdout() {
    let (stdin, mut to_guest) = std::io::pipe().unwrap();
    let (mut from_guest, stdout) = std::io::pipe().unwrap();
    to_guest.write_all(b"through a pipe\n").unwrap();
    drop(to_guest);
    let mut builder = Builder::new();
    builder
        .stdin(Stdio::fd(stdin))
        .stdout(Stdio::fd(stdout))
        .stderr(Stdio::null());
    assert_eq!(run(ECHO, &mut builder).unwrap(), 0);
    // The builder keeps its own copy of the pipe's write end, to build again.
    drop(builder);
    let mut got = String::new();
    from_guest.read_to_string(&mut got).unwrap();
    assert_eq!(got, "through a pipe\n");
}

#[test]
fn in_memory_stdin_is_a_pipe_to_poll_oneoff_and_o_nonblock() {
    // Nothing to read until 100 ms after the guest starts: its non-blocking read is EAGAIN,
    // then poll_oneoff wakes for the pipe, not for its 10 s clock.
    let (reader, mut writer) = std::io::pipe().unwrap();
    let feeder = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        writer.write_all(b"x").unwrap();
    });
    let started = Instant::now();
    let status = run(
        POLL_STDIN,
        Builder::new()
            .stdin(Stdio::reader(reader))
            .stdout(Stdio::null()),
    );
    assert_eq!(status.unwrap(), 611);
    assert!(started.elapsed() < Duration::from_secs(5));
    feeder.join().unwrap();
}

/// The CLOCKS guest's output on a system with these clocks and this random source.
fn clocks_output(seed: u64) -> Vec<u8> {
    let out = Capture::new();
    let mut monotonic = 0;
    let status = run(
        CLOCKS,
        Builder::new()
            .stdout(Stdio::writer(out.clone()))
            .clock(Clockid::Realtime, || 1_767_225_600_000_000_000)
            .clock(Clockid::Monotonic, move || {
                monotonic += 1_000;
                monotonic
            })
            .random(SeededRandom::new(seed)),
    );
    assert_eq!(status.unwrap(), 0);
    out.contents()
}

#[test]
fn injected_clocks_and_random_make_runs_repeatable() {
    let first = clocks_output(7);
    assert_eq!(first.len(), 40);
    assert_eq!(first[..8], 1_767_225_600_000_000_000u64.to_le_bytes());
    assert_eq!(first[8..16], 1_000u64.to_le_bytes());
    assert_eq!(
        first[16..24],
        1u64.to_le_bytes(),
        "a closure's resolution is 1 ns"
    );
    assert_eq!(clocks_output(7), first);
    assert_ne!(clocks_output(8)[24..], first[24..]);
}

#[test]
fn the_host_clocks_and_random_by_default() {
    let out = Capture::new();
    let status = run(CLOCKS, Builder::new().stdout(Stdio::writer(out.clone())));
    assert_eq!(status.unwrap(), 0);
    let out = out.contents();
    let realtime = u64::from_le_bytes(out[..8].try_into().unwrap());
    assert!(realtime > 1_767_225_600_000_000_000 - 366 * 86_400 * 1_000_000_000);
    assert_ne!(out[24..], [0; 16]);
}

#[test]
fn an_absolute_deadline_is_measured_on_the_injected_clock() {
    // The guest's monotonic clock reads 5 s for ever: "5 s + 200 ms" is 200 ms away, not a
    // deadline the host's clock (days since boot) passed long ago.
    let started = Instant::now();
    let status = run(
        SLEEP_UNTIL,
        Builder::new().clock(Clockid::Monotonic, || 5_000_000_000),
    );
    assert_eq!(status.unwrap(), 0);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(190), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

#[test]
fn the_exit_status_is_proc_exit_s_or_0() {
    let exit = r#"(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func (export "_start") (call $exit (i32.const 42))))"#;
    assert_eq!(run(exit, &mut Builder::new()).unwrap(), 42);
    let returns = r#"(module (func (export "_start")))"#;
    assert_eq!(run(returns, &mut Builder::new()).unwrap(), 0);
}

#[test]
fn a_trap_is_the_error_with_its_trap_and_backtrace() {
    let wat = r#"(module (func $boom unreachable) (func (export "_start") (call $boom)))"#;
    let err = run(wat, &mut Builder::new()).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::UnreachableCodeReached));
    let message = err.to_string();
    assert!(
        message.starts_with("wasm trap: wasm `unreachable`"),
        "{message}"
    );
    assert!(message.contains("boom"), "{message}");
}

#[test]
fn modules_that_are_not_commands_are_refused_before_running() {
    let engine = engine();
    let cases = [
        ("(component)", "a component"),
        ("hello", "not WebAssembly"),
        ("(module)", "no `_start` function"),
        (
            "(module (func (export \"_start\") (param i32)))",
            "`_start` has type",
        ),
    ];
    for (wat, why) in cases {
        match Command::new(&engine, wat) {
            Err(Error::InvalidModule(m)) => assert!(m.contains(why), "{wat}: {m}"),
            other => panic!("{wat}: {:?}", other.map(|_| ())),
        }
    }
}

#[test]
fn an_unknown_or_mistyped_import_is_named() {
    let engine = engine();
    let link = |wat: &str| {
        let command = Command::new(&engine, wat).unwrap();
        match command.link::<Unstable<UnixSystem>>(&Options::default()) {
            Err(Error::Link(m)) => m,
            other => panic!("{:?}", other.map(|_| ())),
        }
    };
    let unknown = link(r#"(module (import "env" "f" (func)) (func (export "_start")))"#);
    assert_eq!(unknown, "unknown import: env::f has not been defined");
    let mistyped = link(
        r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32)))
                   (func (export "_start")))"#,
    );
    assert!(
        mistyped
            .starts_with("incompatible import: wasi_snapshot_preview1::fd_write is imported as"),
        "{mistyped}"
    );
}

#[test]
fn a_memory_over_the_limit_is_a_limit_error() {
    let wat = r#"(module (memory 100) (func (export "_start")))"#;
    let command = Command::new(&engine(), wat).unwrap();
    let options = Options {
        limits: Limits {
            max_memory: 64 << 16,
            ..Limits::default()
        },
        ..Options::default()
    };
    let linked = command.link::<Unstable<UnixSystem>>(&options).unwrap();
    let system = Unstable::new(Builder::new().build().unwrap());
    let err = linked.run(system).unwrap_err();
    assert!(matches!(err, Error::Limit(_)), "{err}");
}

#[test]
fn a_linked_command_runs_again_on_another_system() {
    let command = Command::new(&engine(), ECHO).unwrap();
    let linked = command
        .link::<Unstable<UnixSystem>>(&Options::default())
        .unwrap();
    for input in ["one\n", "two\n"] {
        let out = Capture::new();
        let system = Builder::new()
            .stdin(Stdio::bytes(input))
            .stdout(Stdio::writer(out.clone()))
            .stderr(Stdio::null())
            .build()
            .unwrap();
        assert_eq!(linked.run(Unstable::new(system)).unwrap(), 0);
        assert_eq!(out.to_string_lossy(), input);
    }
}

#[test]
fn a_preview_0_guest_runs_on_the_same_system() {
    let wat = r#"(module
      (import "wasi_unstable" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 0) "\10\00\00\00\03\00\00\00")
      (data (i32.const 16) "old")
      (func (export "_start")
        (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;
    let out = Capture::new();
    let status = run(wat, Builder::new().stdout(Stdio::writer(out.clone())));
    assert_eq!(status.unwrap(), 0);
    assert_eq!(out.to_string_lossy(), "old");
}
