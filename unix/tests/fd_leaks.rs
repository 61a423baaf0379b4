//! No descriptor leaks: 10,000 connections accepted and closed through the WASI glue leave the
//! process with the descriptors it had. Alone in its test binary, so that no other test opens
//! or closes descriptors meanwhile.

use std::net::{TcpListener, TcpStream};
use wasirun_unix::Builder;
use wasirun_wasi::Host;
use wasmtime::{Engine, Linker, Module, Store};

const WAT: &str = r#"(module
  (import "wasi_snapshot_preview1" "sock_accept" (func $accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (memory (export "memory") 1)
  ;; Accepts one connection on fd 3 and closes it; the errno of the first failure.
  (func (export "cycle") (result i32) (local $e i32)
    (local.set $e (call $accept (i32.const 3) (i32.const 0) (i32.const 64)))
    (if (local.get $e) (then (return (local.get $e))))
    (call $close (i32.load (i32.const 64)))))"#;

/// Descriptors the process has open.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn no_fd_leaks_after_10000_accepts() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut system = Builder::new().build().unwrap();
    assert_eq!(system.add_fd(listener.into()).unwrap().0, 3);
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();
    let mut linker = Linker::new(&engine);
    wasirun_wasi::add_to_linker(&mut linker, |h| h).unwrap();
    let mut store = Store::new(&engine, Host::new(system));
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let cycle = instance
        .get_typed_func::<(), i32>(&mut store, "cycle")
        .unwrap();
    let before = open_fds();
    for _ in 0..10_000 {
        let peer = TcpStream::connect(addr).unwrap();
        assert_eq!(cycle.call(&mut store, ()).unwrap(), 0);
        drop(peer);
    }
    assert_eq!(open_fds(), before);
}
