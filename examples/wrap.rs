//! Wrapping a system: `DenyWrites` refuses every change below one directory and passes
//! everything else to the system it wraps; under the tracer, which prints each call to
//! stderr and counts the calls per function.
//!
//! `cargo run -p wasirun --example wrap`

use wasirun::Command;
use wasirun_unix::{Builder, DirMode, UnixSystem};
use wasirun_wasi::trace::{Summary, TraceOptions};
use wasirun_wasi::*;

/// Refuses (`EPERM`) creating, writing, renaming or removing anything whose path starts with
/// `locked`: one method per call it changes, `delegate` for the rest.
struct DenyWrites<S>(S, &'static str);

impl<S: System> SystemDelegate for DenyWrites<S> {
    fn delegate(&mut self) -> impl System {
        &mut self.0
    }
    #[rustfmt::skip]
    fn path_open(&mut self, fd: Fd, dirflags: Lookupflags, path: &str, oflags: Oflags,
                 base: Rights, inheriting: Rights, fdflags: Fdflags) -> Result<Fd, Errno> {
        let writes = oflags.intersects(Oflags::CREAT | Oflags::TRUNC) || base.contains(Rights::FD_WRITE);
        if writes && path.starts_with(self.1) {
            return Err(Errno::Perm);
        }
        self.0.path_open(fd, dirflags, path, oflags, base, inheriting, fdflags)
    }
    fn path_create_directory(&mut self, fd: Fd, path: &str) -> Result<(), Errno> {
        self.deny(path)?;
        self.0.path_create_directory(fd, path)
    }
    fn path_unlink_file(&mut self, fd: Fd, path: &str) -> Result<(), Errno> {
        self.deny(path)?;
        self.0.path_unlink_file(fd, path)
    }
    fn path_rename(&mut self, fd: Fd, old: &str, new_fd: Fd, new: &str) -> Result<(), Errno> {
        self.deny(old).and(self.deny(new))?;
        self.0.path_rename(fd, old, new_fd, new)
    }
}

impl<S: System> DenyWrites<S> {
    fn deny(&self, path: &str) -> Result<(), Errno> {
        if path.starts_with(self.1) {
            Err(Errno::Perm)
        } else {
            Ok(())
        }
    }
}

/// WasmEdge's socket functions go straight through.
impl<S: Wasmedge> WasmedgeDelegate for DenyWrites<S> {
    fn delegate(&mut self) -> impl Wasmedge {
        &mut self.0
    }
}

/// Makes `locked/` and `open/` in the preopen, creates a file in each, then exits with both
/// errnos: `first * 100 + second`.
const GUEST: &str = r#"(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "locked/a.txt")
  (data (i32.const 32) "open/b.txt")
  (data (i32.const 48) "\40\00\00\00\03\00\00\00")
  (data (i32.const 64) "hi\n")
  (func $create (param $path i32) (param $len i32) (result i32)
    (local $errno i32)
    (local.set $errno (call $open (i32.const 3) (i32.const 0) (local.get $path) (local.get $len)
      (i32.const 1) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 8)))
    (if (i32.eqz (local.get $errno)) (then
      (drop (call $write (i32.load (i32.const 8)) (i32.const 48) (i32.const 1) (i32.const 12)))))
    (local.get $errno))
  (func (export "_start")
    (call $exit (i32.add (i32.mul (call $create (i32.const 16) (i32.const 12)) (i32.const 100))
      (call $create (i32.const 32) (i32.const 10))))))"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("wasirun-wrap-{}", std::process::id()));
    for sub in ["locked", "open"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    let unix: UnixSystem = Builder::new()
        .preopen_dir(&dir, "/data", DirMode::ReadWrite)?
        .build()?;
    let summary = Summary::new();
    let options = TraceOptions::default();
    let system = Tracer::new(DenyWrites(unix, "locked"), std::io::stderr(), options)
        .summarize(summary.clone());

    let status = Command::new(&wasmtime::Engine::default(), GUEST)?.run(system)?;
    println!(
        "locked/a.txt: errno {}, open/b.txt: errno {}",
        status / 100,
        status % 100
    );
    println!(
        "open/b.txt holds {:?}",
        std::fs::read_to_string(dir.join("open/b.txt"))?
    );
    for (function, stat) in summary.stats() {
        println!("{function}: {} calls, {} failed", stat.calls, stat.errors);
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
