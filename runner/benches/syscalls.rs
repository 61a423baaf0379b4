//! The Unix system against the peer, wasmtime-wasi's preview1, on the same engine in the same
//! run: a guest loop calls one WASI function N times on a real file in a temp dir.
//!
//! The peer gets its best settings: the sync linker (`add_to_linker_sync`) and
//! `allow_blocking_current_thread(true)` set before `preopened_dir`, so file calls run inline
//! instead of through tokio's `spawn_blocking`.
//!
//! `cargo bench -p wasirun --bench syscalls` prints nanoseconds per call (median of 5 runs) and
//! the ratio wasirun / wasmtime-wasi (below 1 is faster).

use std::path::Path;
use wasirun_unix::{Builder, DirMode};
use wasirun_wasi::{Host, add_to_linker};
use wasmtime::{Engine, Linker, Memory, Module, Store};

mod common;
use common::{RUNS, median_ns};

/// Exports `setup` (opens `bench.txt` under fd 3 and keeps the fd at address 0) and one loop per
/// function, each taking the number of calls.
const WAT: &str = r#"
(module
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_pread" (func $fd_pread (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_pwrite" (func $fd_pwrite (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_get" (func $fd_filestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fd_fdstat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $sched_yield (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir" (func $fd_readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get" (func $path_filestat_get (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "bench.txt")
  ;; one iovec at 32: 64 bytes at 1024
  (data (i32.const 32) "\00\04\00\00\40\00\00\00")
  ;; one subscription at 2048: a relative clock of 0 ns on the monotonic clock (id 1 at +16)
  (data (i32.const 2064) "\01")
  ;; 64 subscriptions at 4096 (48 bytes each): FD_READ (tag 1 at +8) on the file (fd at +16),
  ;; filled by setup; their events at 8192.
  (func (export "setup") (result i32)
    (local $i i32)
    (local $errno i32)
    (local.set $errno
      (call $path_open (i32.const 3) (i32.const 1) (i32.const 16) (i32.const 9) (i32.const 1)
        (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 0)))
    (loop $l
      (i32.store8 (i32.add (i32.const 4104) (i32.mul (local.get $i) (i32.const 48))) (i32.const 1))
      (i32.store (i32.add (i32.const 4112) (i32.mul (local.get $i) (i32.const 48))) (call $fd))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 64))))
    (local.get $errno))
  (func $fd (result i32) (i32.load (i32.const 0)))
  (func (export "fd_pread") (param $n i32)
    (loop $l
      (drop (call $fd_pread (call $fd) (i32.const 32) (i32.const 1) (i64.const 0) (i32.const 48)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "fd_pwrite") (param $n i32)
    (loop $l
      (drop (call $fd_pwrite (call $fd) (i32.const 32) (i32.const 1) (i64.const 0) (i32.const 48)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "fd_seek") (param $n i32)
    (loop $l
      (drop (call $fd_seek (call $fd) (i64.const 0) (i32.const 0) (i32.const 56)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "fd_filestat_get") (param $n i32)
    (loop $l
      (drop (call $fd_filestat_get (call $fd) (i32.const 128)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "fd_fdstat_get") (param $n i32)
    (loop $l
      (drop (call $fd_fdstat_get (call $fd) (i32.const 128)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "poll_oneoff_zero_clock") (param $n i32)
    (loop $l
      (drop (call $poll_oneoff (i32.const 2048) (i32.const 2112) (i32.const 1) (i32.const 60)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "clock_time_get") (param $n i32)
    (loop $l
      (drop (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 56)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "random_get") (param $n i32)
    (loop $l
      (drop (call $random_get (i32.const 1024) (i32.const 16)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "poll_oneoff_1_fd") (param $n i32)
    (loop $l
      (drop (call $poll_oneoff (i32.const 4096) (i32.const 8192) (i32.const 1) (i32.const 60)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "poll_oneoff_64_fds") (param $n i32)
    (loop $l
      (drop (call $poll_oneoff (i32.const 4096) (i32.const 8192) (i32.const 64) (i32.const 60)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  ;; The preopen's entries from the start (., .., bench.txt) into 4 KiB at 12288.
  (func (export "fd_readdir") (param $n i32)
    (loop $l
      (drop (call $fd_readdir (i32.const 3) (i32.const 12288) (i32.const 4096) (i64.const 0) (i32.const 60)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "sched_yield") (param $n i32)
    (loop $l
      (drop (call $sched_yield))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "path_filestat_get") (param $n i32)
    (loop $l
      (drop (call $path_filestat_get (i32.const 3) (i32.const 1) (i32.const 16) (i32.const 9) (i32.const 128)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "path_open_close") (param $n i32)
    (loop $l
      (drop (call $path_open (i32.const 3) (i32.const 1) (i32.const 16) (i32.const 9) (i32.const 0)
        (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 4)))
      (drop (call $fd_close (i32.load (i32.const 4))))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
)
"#;

const LOOPS: &[(&str, i32)] = &[
    ("fd_pread", 200_000),
    ("fd_pwrite", 200_000),
    ("fd_seek", 500_000),
    ("fd_filestat_get", 200_000),
    ("fd_fdstat_get", 1_000_000),
    ("poll_oneoff_zero_clock", 200_000),
    // On the open file, always ready: the cost per subscription.
    ("poll_oneoff_1_fd", 200_000),
    ("poll_oneoff_64_fds", 20_000),
    ("fd_readdir", 100_000),
    ("clock_time_get", 1_000_000),
    ("random_get", 200_000),
    // A real sched_yield(2) here, an empty call in wasmtime-wasi: what the faithful choice
    // costs (docs/compatibility.md says why we make it).
    ("sched_yield", 200_000),
    ("path_filestat_get", 100_000),
    ("path_open_close", 50_000),
];

/// Nanoseconds per call of each loop, in an instance of `module` whose memory `bind` hands to
/// the store's data (as `wasirun` binds its one instance's memory).
fn measure<T: 'static>(
    mut store: Store<T>,
    linker: &Linker<T>,
    module: &Module,
    bind: fn(&mut T, Memory),
) -> Vec<f64> {
    let instance = linker.instantiate(&mut store, module).unwrap();
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    bind(store.data_mut(), memory);
    let setup = instance
        .get_typed_func::<(), i32>(&mut store, "setup")
        .unwrap();
    assert_eq!(setup.call(&mut store, ()).unwrap(), 0, "setup failed");
    LOOPS
        .iter()
        .map(|(name, calls)| {
            let f = instance
                .get_typed_func::<i32, ()>(&mut store, name)
                .unwrap();
            median_ns(*calls, |k| f.call(&mut store, k).unwrap())
        })
        .collect()
}

fn main() {
    let dir = std::env::temp_dir().join(format!("wasirun-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bench.txt"), vec![b'x'; 4096]).unwrap();
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();

    let system = Builder::new()
        .arg("bench")
        .preopen_dir(&dir, "/", DirMode::ReadWrite)
        .unwrap()
        .build()
        .unwrap();
    let mut linker = Linker::new(&engine);
    add_to_linker(&mut linker, |h| h).unwrap();
    let ours = measure(
        Store::new(&engine, Host::new(system)),
        &linker,
        &module,
        |h, m| h.set_memory(m),
    );

    let peer = peer(&dir);
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |c| c).unwrap();
    let theirs = measure(Store::new(&engine, peer), &linker, &module, |_, _| {});

    println!("ns per call, median of {RUNS} runs; ratio < 1: wasirun is faster");
    println!(
        "{:<20} {:>10} {:>14} {:>8}",
        "function", "wasirun", "wasmtime-wasi", "ratio"
    );
    for (((name, _), a), b) in LOOPS.iter().zip(&ours).zip(&theirs) {
        println!("{name:<20} {a:>10.1} {b:>14.1} {:>8.3}", a / b);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn peer(dir: &Path) -> wasmtime_wasi::p1::WasiP1Ctx {
    let mut builder = wasmtime_wasi::WasiCtxBuilder::new();
    builder.allow_blocking_current_thread(true);
    builder
        .preopened_dir(dir, "/", wasmtime_wasi::FsPerms::ReadWrite)
        .unwrap();
    builder.args(&["bench"]);
    builder.build_p1()
}
