//! Many instances in one process through the library: 64 instances on 8 threads, each with its
//! own preopened directory and listening socket, see only their own (no cross-talk); 100,000
//! `path_open`/`fd_close` cycles leave the fd count and RSS flat. Alone in its test binary, so
//! that no other test opens descriptors or allocates meanwhile.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::sync::OnceLock;
use wasirun_unix::{Builder, DirMode};
use wasirun_wasi::Host;
use wasmtime::{Engine, Linker, Module, Store};

/// `write_id`: writes the 8 bytes at 64 to `mine` under fd 3; `serve`: accepts one connection
/// on fd 4 and writes them to it; `cycles n`: opens and closes `mine` n times. Each returns the
/// first errno (0: none).
const WAT: &str = r#"(module
  (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_accept" (func $accept (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "mine")
  ;; One iovec at 32: the 8 bytes at 64.
  (data (i32.const 32) "\40\00\00\00\08\00\00\00")
  (func $put (param $fd i32) (result i32) (local $e i32)
    (local.set $e (call $write (local.get $fd) (i32.const 32) (i32.const 1) (i32.const 48)))
    (if (local.get $e) (then (return (local.get $e))))
    (call $close (local.get $fd)))
  (func (export "write_id") (result i32) (local $e i32)
    (local.set $e (call $open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 4)
      (i32.const 9) (i64.const 0x1fffffff) (i64.const 0) (i32.const 0) (i32.const 0)))
    (if (local.get $e) (then (return (local.get $e))))
    (call $put (i32.load (i32.const 0))))
  (func (export "serve") (result i32) (local $e i32)
    (local.set $e (call $accept (i32.const 4) (i32.const 0) (i32.const 0)))
    (if (local.get $e) (then (return (local.get $e))))
    (call $put (i32.load (i32.const 0))))
  (func (export "cycles") (param $n i32) (result i32) (local $e i32)
    (loop $l
      (local.set $e (call $open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 4)
        (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 0)))
      (if (local.get $e) (then (return (local.get $e))))
      (local.set $e (call $close (i32.load (i32.const 0))))
      (if (local.get $e) (then (return (local.get $e))))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (i32.const 0)))"#;

fn engine_and_module() -> &'static (Engine, Module) {
    static M: OnceLock<(Engine, Module)> = OnceLock::new();
    M.get_or_init(|| {
        let engine = Engine::default();
        let module = Module::new(&engine, WAT).unwrap();
        (engine, module)
    })
}

/// One instance: its own directory as fd 3, its own listener as fd 4.
struct Instance {
    store: Store<Host<wasirun_unix::UnixSystem>>,
    instance: wasmtime::Instance,
}

impl Instance {
    fn new(dir: &std::path::Path, listener: TcpListener) -> Instance {
        let (engine, module) = engine_and_module();
        let mut system = Builder::new()
            .preopen_dir(dir, "/", DirMode::ReadWrite)
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(system.add_fd(listener.into()).unwrap().0, 4);
        let mut linker = Linker::new(engine);
        wasirun_wasi::add_to_linker(&mut linker, |h| h).unwrap();
        let mut store = Store::new(engine, Host::new(system));
        let instance = linker.instantiate(&mut store, module).unwrap();
        Instance { store, instance }
    }

    fn call(&mut self, name: &str) -> i32 {
        let f = self
            .instance
            .get_typed_func::<(), i32>(&mut self.store, name)
            .unwrap();
        f.call(&mut self.store, ()).unwrap()
    }

    fn set_id(&mut self, id: u64) {
        let memory = self.instance.get_memory(&mut self.store, "memory").unwrap();
        memory
            .write(&mut self.store, 64, &id.to_le_bytes())
            .unwrap();
    }
}

/// Descriptors the process has open.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// The process's resident set, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn instances_on_threads_see_only_their_own_dir_and_socket() {
    let root = std::env::temp_dir().join(format!("wasirun-many-{}", std::process::id()));
    let threads: Vec<_> = (0..8u64)
        .map(|t| {
            let root = root.clone();
            std::thread::spawn(move || {
                for k in 0..8u64 {
                    let id = t * 8 + k;
                    let dir = root.join(id.to_string());
                    std::fs::create_dir_all(&dir).unwrap();
                    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                    let addr = listener.local_addr().unwrap();
                    let mut g = Instance::new(&dir, listener);
                    g.set_id(id);
                    assert_eq!(g.call("write_id"), 0);
                    let client = std::thread::spawn(move || {
                        let mut got = Vec::new();
                        TcpStream::connect(addr)
                            .unwrap()
                            .read_to_end(&mut got)
                            .unwrap();
                        got
                    });
                    assert_eq!(g.call("serve"), 0);
                    assert_eq!(client.join().unwrap(), id.to_le_bytes(), "socket of {id}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    for id in 0..64u64 {
        let dir = root.join(id.to_string());
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(names.len(), 1, "{id}");
        assert_eq!(std::fs::read(dir.join("mine")).unwrap(), id.to_le_bytes());
    }
    std::fs::remove_dir_all(&root).unwrap();

    // 100,000 open/close cycles: fd count and RSS flat.
    let dir = std::env::temp_dir().join(format!("wasirun-cycles-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut g = Instance::new(&dir, TcpListener::bind("127.0.0.1:0").unwrap());
    g.set_id(7);
    assert_eq!(g.call("write_id"), 0);
    let cycles = g
        .instance
        .get_typed_func::<i32, i32>(&mut g.store, "cycles")
        .unwrap();
    assert_eq!(cycles.call(&mut g.store, 10_000).unwrap(), 0);
    let (fds, rss) = (open_fds(), rss_kib());
    assert_eq!(cycles.call(&mut g.store, 100_000).unwrap(), 0);
    assert_eq!(open_fds(), fds, "fds leaked");
    let grown = rss_kib().saturating_sub(rss);
    assert!(grown < 1024, "RSS grew by {grown} KiB over 100,000 cycles");
    std::fs::remove_dir_all(&dir).unwrap();
}
