//! `StopHandle` through the library: a guest run on a thread of its own, blocked in each kind of
//! wait (or running wasm), is stopped from the test's thread and its call fails with
//! `Trap::Interrupt`, promptly.

use rustix::fd::OwnedFd;
use rustix::net::{AddressFamily, SocketType};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use wasirun_unix::{Builder, Policy, SocketUrls, StopHandle, UnixSystem};
use wasirun_wasi::{Host, preview1, wasmedge};
use wasmtime::{Config, Engine, Linker, Module, Store, Trap, Val};

/// One export per wait. Memory: 0..48 a subscription (a relative monotonic clock of one day),
/// 64.. its event, 128 results, 144 an iovec over 256..272, 160 the address 127.0.0.1 and 168
/// its descriptor, 512.. a path (written by the test).
const WAT: &str = r#"(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_accept" (func $accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_open" (func $open (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_connect" (func $connect (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "\01\00\00\00\00\00\00\00\00\00\4f\91\94\4e\00\00")
  (data (i32.const 144) "\00\01\00\00\10\00\00\00")
  (data (i32.const 160) "\7f\00\00\01")
  (data (i32.const 168) "\a0\00\00\00\04\00\00\00")
  (func (export "poll") (result i32)
    (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))
  (func (export "read") (param $fd i32) (result i32)
    (call $read (local.get $fd) (i32.const 144) (i32.const 1) (i32.const 128)))
  (func (export "accept") (param $fd i32) (result i32)
    (call $accept (local.get $fd) (i32.const 0) (i32.const 128)))
  (func (export "connect") (param $port i32) (result i32)
    (drop (call $open (i32.const 1) (i32.const 2) (i32.const 128)))
    (call $connect (i32.load (i32.const 128)) (i32.const 168) (local.get $port)))
  (func (export "dial") (param $len i32) (result i32)
    (call $path_open (i32.const 3) (i32.const 0) (i32.const 512) (local.get $len)
      (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 128)))
  (func (export "read_loop") (param $fd i32) (result i32)
    (loop (drop (call $read (local.get $fd) (i32.const 144) (i32.const 1) (i32.const 128))) (br 0))
    (i32.const 0))
  (func (export "spin") (result i32)
    (loop br 0)
    (i32.const 0)))"#;

/// Calls the export `name` with `arg` (if any) on a thread of its own, stops the guest 50 ms
/// later, and asserts that the call fails with `Trap::Interrupt` within 2 s of the stop.
fn assert_stops(system: SocketUrls<UnixSystem>, name: &'static str, arg: Option<i32>) {
    assert_stops_with(system, name, arg, b"", true);
}

/// [`assert_stops`], with `path` at 512 in the guest's memory, on an engine with or without
/// epoch checks.
fn assert_stops_with(
    system: SocketUrls<UnixSystem>,
    name: &'static str,
    arg: Option<i32>,
    path: &[u8],
    epochs: bool,
) {
    let path = path.to_vec();
    let engine = Engine::new(Config::new().epoch_interruption(epochs)).unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let mut linker = Linker::<Host<SocketUrls<UnixSystem>>>::new(&engine);
    wasirun_wasi::add_to_linker(&mut linker, |h| h).unwrap();
    linker.allow_shadowing(true);
    wasmedge::add_imports_to_linker(&mut linker, &module, preview1::IMPORTS, |h| h).unwrap();
    let stop: StopHandle = system.inner().stop_handle();
    let mut store = Store::new(&engine, Host::new(system));
    stop.arm(&mut store);
    let guest = std::thread::spawn(move || {
        let instance = linker.instantiate(&mut store, &module)?;
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        memory.write(&mut store, 512, &path)?;
        let f = instance.get_func(&mut store, name).unwrap();
        let args: Vec<Val> = arg.into_iter().map(Val::I32).collect();
        let mut out = [Val::I32(0)];
        f.call(&mut store, &args, &mut out)?;
        Ok::<i32, wasmtime::Error>(out[0].unwrap_i32())
    });
    std::thread::sleep(Duration::from_millis(50));
    if guest.is_finished() {
        panic!("{name} did not wait: {:?}", guest.join().unwrap());
    }
    let stopped = Instant::now();
    stop.stop();
    let err = guest.join().unwrap().unwrap_err();
    let took = stopped.elapsed();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::Interrupt),
        "{name}: {err:?}"
    );
    assert!(took < Duration::from_secs(2), "{name} took {took:?}");
    assert!(stop.is_stopped());
}

/// A system that makes `path_open` sockets, and may connect and bind anywhere.
fn system() -> SocketUrls<UnixSystem> {
    let mut policy = Policy::default();
    policy.allow_all();
    let system = Builder::new().policy(policy.clone()).build().unwrap();
    SocketUrls::new(system, policy)
}

#[test]
fn a_guest_running_wasm_is_stopped() {
    assert_stops(system(), "spin", None);
}

#[test]
fn a_guest_in_a_day_long_poll_oneoff_is_stopped() {
    assert_stops(system(), "poll", None);
}

#[test]
fn a_guest_reading_a_pipe_nobody_writes_is_stopped() {
    let mut system = system();
    let (read, _write) = rustix::pipe::pipe().unwrap();
    let fd = system.inner_mut().add_fd(read).unwrap();
    assert_stops(system, "read", Some(fd.0 as i32));
}

#[test]
fn a_guest_in_a_blocking_accept_is_stopped() {
    let mut system = system();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let fd = system.inner_mut().add_fd(OwnedFd::from(listener)).unwrap();
    assert_stops(system, "accept", Some(fd.0 as i32));
}

/// A listener whose accept queue is full: Linux drops further SYNs, so a connect to it hangs.
fn full_listener() -> (OwnedFd, SocketAddr, Vec<TcpStream>) {
    let fd = rustix::net::socket(AddressFamily::INET, SocketType::STREAM, None).unwrap();
    rustix::net::bind(&fd, &"127.0.0.1:0".parse::<SocketAddr>().unwrap()).unwrap();
    rustix::net::listen(&fd, 0).unwrap();
    let addr: SocketAddr = rustix::net::getsockname(&fd).unwrap().try_into().unwrap();
    let mut queued = Vec::new();
    while let Ok(s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
        queued.push(s);
        assert!(queued.len() < 64, "the accept queue never filled");
    }
    (fd, addr, queued)
}

#[test]
fn a_guest_in_a_connect_that_hangs_is_stopped() {
    let (_listener, addr, _queued) = full_listener();
    assert_stops(system(), "connect", Some(i32::from(addr.port())));
}

#[test]
fn a_guest_in_a_path_open_dial_that_hangs_is_stopped() {
    let (_listener, addr, _queued) = full_listener();
    let url = format!("tcp+dial://{addr}");
    assert_stops_with(
        system(),
        "dial",
        Some(url.len() as i32),
        url.as_bytes(),
        true,
    );
}

/// Without epoch checks, a guest whose reads never wait (`/dev/zero`) still stops at its next
/// read: a call that may block checks the stop before it starts.
#[test]
fn a_guest_looping_on_ready_reads_without_epoch_checks_is_stopped() {
    let mut system = system();
    let zero = std::fs::File::open("/dev/zero").unwrap();
    let fd = system.inner_mut().add_fd(OwnedFd::from(zero)).unwrap();
    assert_stops_with(system, "read_loop", Some(fd.0 as i32), b"", false);
}
