//! Copying a 256 MiB file through 64 KiB reads and writes: a guest loop of `fd_read` and
//! `fd_write` under wasirun and under wasmtime-wasi's preview1 on the same engine, against the
//! same loop natively (`read(2)`/`write(2)` of 64 KiB) and `cp`, in the same run.
//!
//! The files live in a temp dir (page cache: this measures the host's I/O path, not a disk).
//! Every side starts from the same cache state: the source is written and synced once, so its
//! pages are cached and clean, and the destination is unlinked before each side, outside the
//! timing, so each creates a new file. Truncating the last side's 256 MiB instead (`O_TRUNC`)
//! would time the file system, not the copy: on ext4 the open drops the old pages and the close
//! starts writing the new ones back (`auto_da_alloc`), together twice the copy itself, and how
//! much depended on how far the last side's writeback had gone.
//! `cargo bench -p wasirun --bench copy` prints a Markdown table: GB/s of each (median of 15
//! runs) and the ratio of each to the native loop (1 is native speed): the median of the ratios
//! within each round, so that a load that changes from one round to the next cancels out.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::Instant;
use wasirun_unix::{Builder, DirMode};
use wasirun_wasi::{Host, add_to_linker};
use wasmtime::{Engine, Linker, Memory, Module, Store};

mod common;
use common::median;

/// The file's size.
const SIZE: usize = 256 << 20;

/// The size of each read and write.
const CHUNK: usize = 64 << 10;

/// How many timed rounds each figure is the median of: more than the other benches' five, as
/// one copy takes under 100 ms and a compile starting on the shared machine skews a few rounds
/// (one bench run is still under 15 s).
const ROUNDS: usize = 15;

/// Opens `src` (fd 4) and creates `dst` (fd 5; [`unlink_dst`] removed it) in the preopen
/// (fd 3), then reads 64 KiB into the buffer at 65536 and writes what it read, until a read
/// returns 0; returns the errno of the first failed call, or 0.
const WAT: &str = r#"
(module
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "src")
  (data (i32.const 32) "dst")
  (func (export "copy") (result i32)
    (local $src i32) (local $dst i32) (local $e i32) (local $n i32)
    ;; fd_read rights (2) for src; fd_write (64) for dst, O_CREAT|O_TRUNC (1|8).
    (local.set $e (call $path_open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 3)
      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 0)))
    (if (local.get $e) (then (return (local.get $e))))
    (local.set $src (i32.load (i32.const 0)))
    (local.set $e (call $path_open (i32.const 3) (i32.const 0) (i32.const 32) (i32.const 3)
      (i32.const 9) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 0)))
    (if (local.get $e) (then (return (local.get $e))))
    (local.set $dst (i32.load (i32.const 0)))
    (loop $l
      ;; iovec at 48: 64 KiB at 65536.
      (i32.store (i32.const 48) (i32.const 65536))
      (i32.store (i32.const 52) (i32.const 65536))
      (local.set $e (call $fd_read (local.get $src) (i32.const 48) (i32.const 1) (i32.const 8)))
      (if (local.get $e) (then (return (local.get $e))))
      (local.set $n (i32.load (i32.const 8)))
      (if (local.get $n)
        (then
          (i32.store (i32.const 52) (local.get $n))
          (local.set $e (call $fd_write (local.get $dst) (i32.const 48) (i32.const 1) (i32.const 8)))
          (if (local.get $e) (then (return (local.get $e))))
          (br $l))))
    (drop (call $fd_close (local.get $src)))
    (drop (call $fd_close (local.get $dst)))
    (i32.const 0)))
"#;

/// Removes the last side's `dst`, so that the next starts from the same state.
fn unlink_dst(dir: &Path) {
    match std::fs::remove_file(dir.join("dst")) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        r => r.unwrap(),
    }
}

/// Seconds for one copy by the guest under a host whose store `store` makes.
fn guest_copy<T: 'static>(
    module: &Module,
    linker: &Linker<T>,
    mut store: Store<T>,
    bind: fn(&mut T, Memory),
) -> f64 {
    let instance = linker.instantiate(&mut store, module).unwrap();
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    bind(store.data_mut(), memory);
    let copy = instance
        .get_typed_func::<(), i32>(&mut store, "copy")
        .unwrap();
    let start = Instant::now();
    assert_eq!(
        copy.call(&mut store, ()).unwrap(),
        0,
        "the guest's copy failed"
    );
    start.elapsed().as_secs_f64()
}

/// Seconds for one copy by a native 64 KiB read/write loop.
fn native_copy(dir: &Path) -> f64 {
    let start = Instant::now();
    let mut src = File::open(dir.join("src")).unwrap();
    let mut dst = File::create(dir.join("dst")).unwrap();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = src.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        dst.write_all(&buf[..n]).unwrap();
    }
    start.elapsed().as_secs_f64()
}

/// Seconds for one `cp` (whatever it does: `copy_file_range`, read/write).
fn cp(dir: &Path) -> f64 {
    let start = Instant::now();
    let status = Command::new("cp")
        .arg(dir.join("src"))
        .arg(dir.join("dst"))
        .status()
        .unwrap();
    assert!(status.success());
    start.elapsed().as_secs_f64()
}

fn main() {
    let dir = std::env::temp_dir().join(format!("wasirun-copy-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let block: Vec<u8> = (0..CHUNK).map(|i| i as u8).collect();
    let mut src = File::create(dir.join("src")).unwrap();
    for _ in 0..SIZE / CHUNK {
        src.write_all(&block).unwrap();
    }
    src.sync_all().unwrap();
    drop(src);

    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();
    let mut ours = Linker::new(&engine);
    add_to_linker(&mut ours, |h| h).unwrap();
    let mut theirs = Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut theirs, |c| c).unwrap();

    // The four take turns, each round starting one later, so that a load that comes and goes
    // falls on all alike and none always follows the same other.
    let mut times: [Vec<f64>; 4] = Default::default();
    for round in 0..=ROUNDS {
        for side in (0..4).map(|i| (i + round) % 4) {
            unlink_dst(&dir);
            let secs = match side {
                0 => {
                    let system = Builder::new()
                        .preopen_dir(&dir, "/", DirMode::ReadWrite)
                        .unwrap()
                        .build()
                        .unwrap();
                    let store = Store::new(&engine, Host::new(system));
                    guest_copy(&module, &ours, store, |h, m| h.set_memory(m))
                }
                1 => {
                    let mut peer = wasmtime_wasi::WasiCtxBuilder::new();
                    peer.allow_blocking_current_thread(true);
                    peer.preopened_dir(&dir, "/", wasmtime_wasi::FsPerms::ReadWrite)
                        .unwrap();
                    let store = Store::new(&engine, peer.build_p1());
                    guest_copy(&module, &theirs, store, |_, _| {})
                }
                2 => native_copy(&dir),
                _ => cp(&dir),
            };
            // Round 0 warms up.
            if round > 0 {
                times[side].push(secs);
            }
        }
    }
    let gbps = |secs: f64| SIZE as f64 / secs / 1e9;
    let native = times[2].clone();
    let ratio = |side: &[f64]| median(native.iter().zip(side).map(|(n, s)| n / s).collect());
    println!(
        "GB/s copying 256 MiB in 64 KiB reads and writes, median of {ROUNDS} runs; ratio to the native loop in the same round, median"
    );
    println!();
    println!("| copy | GB/s | ratio to native |");
    println!("|---|---|---|");
    for (name, side) in ["wasirun", "wasmtime-wasi", "native read/write", "cp"]
        .into_iter()
        .zip(&times)
    {
        let secs = median(side.clone());
        println!("| {name} | {:.2} | {:.2} |", gbps(secs), ratio(side));
    }
    println!();
    std::fs::remove_dir_all(&dir).unwrap();
}
