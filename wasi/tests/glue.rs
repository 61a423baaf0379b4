//! The generated glue and tracer, driven by a WAT module against a small in-memory System:
//! results, EFAULT/EINVAL on bad input, no heap allocation in the glue, golden trace lines.

use std::cell::Cell;
use std::io::{IoSlice, IoSliceMut};
use wasirun_wasi::trace::{Format, TraceOptions};
use wasirun_wasi::*;
use wasmtime::{Engine, Instance, Linker, Module, Store};

mod common;
use common::Shared;

/// Counts this thread's heap allocations.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; the counter is a const-initialized thread-local
// `Cell` without a destructor, so touching it cannot allocate or recurse.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// An in-memory system: stdout into a buffer with fixed capacity, stdin from a fixed string.
struct Memory {
    stdout: Vec<u8>,
    stdin: &'static [u8],
    args: &'static [u8],
}

impl Memory {
    fn new() -> Self {
        Memory {
            stdout: Vec::with_capacity(4096),
            stdin: b"input data",
            args: b"prog\0hello world\0",
        }
    }
}

impl SystemDelegate for Memory {
    fn delegate(&mut self) -> impl System {
        Nosys
    }
    fn args_sizes_get(&mut self) -> Result<(Size, Size), Errno> {
        Ok((2, self.args.len() as Size))
    }

    fn args_get(&mut self, argv_buf: &mut [u8]) -> Result<(), Errno> {
        argv_buf.copy_from_slice(self.args);
        Ok(())
    }

    fn fd_write(&mut self, fd: Fd, iovs: &[IoSlice<'_>]) -> Result<Size, Errno> {
        if fd != Fd(1) {
            return Err(Errno::Badf);
        }
        let mut n = 0;
        for iov in iovs {
            self.stdout.extend_from_slice(iov);
            n += iov.len();
        }
        Ok(n as Size)
    }

    fn fd_read(&mut self, fd: Fd, iovs: &mut [IoSliceMut<'_>]) -> Result<Size, Errno> {
        if fd != Fd(0) {
            return Err(Errno::Badf);
        }
        let mut n = 0;
        for iov in iovs {
            let take = iov.len().min(self.stdin.len());
            iov[..take].copy_from_slice(&self.stdin[..take]);
            self.stdin = &self.stdin[take..];
            n += take;
        }
        Ok(n as Size)
    }

    fn fd_seek(&mut self, _fd: Fd, _offset: Filedelta, _whence: Whence) -> Result<Filesize, Errno> {
        Ok(0)
    }

    fn path_open(
        &mut self,
        _fd: Fd,
        _dirflags: Lookupflags,
        _path: &str,
        _oflags: Oflags,
        _base: Rights,
        _inheriting: Rights,
        _fdflags: Fdflags,
    ) -> Result<Fd, Errno> {
        Err(Errno::Noent)
    }

    fn proc_exit(&mut self, _rval: Exitcode) {}
}

const WAT: &str = r#"
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  ;; three ciovecs at 0: "Hello, " "World" "!\n"
  (data (i32.const 0) "\64\00\00\00\07\00\00\00\6e\00\00\00\05\00\00\00\78\00\00\00\02\00\00\00")
  (data (i32.const 100) "Hello, ")
  (data (i32.const 110) "World")
  (data (i32.const 120) "!\n")
  ;; one iovec at 600 for 16 bytes at 700
  (data (i32.const 600) "\bc\02\00\00\10\00\00\00")
  (data (i32.const 800) "nope")
  (func (export "write3") (result i32)
    (call $fd_write (i32.const 1) (i32.const 0) (i32.const 3) (i32.const 200)))
  (func (export "write_iovs_past_end") (result i32)
    (call $fd_write (i32.const 1) (i32.const 65532) (i32.const 3) (i32.const 200)))
  (func (export "write_out_past_end") (result i32)
    (call $fd_write (i32.const 1) (i32.const 0) (i32.const 3) (i32.const 65535)))
  (func (export "write_out_misaligned") (result i32)
    (call $fd_write (i32.const 1) (i32.const 0) (i32.const 3) (i32.const 201)))
  (func (export "write_negative_ptr") (result i32)
    (call $fd_write (i32.const 1) (i32.const -8) (i32.const 1) (i32.const 200)))
  (func (export "seek_bad_whence") (result i32)
    (call $fd_seek (i32.const 3) (i64.const 0) (i32.const 7) (i32.const 208)))
  (func (export "open_bad_oflags") (result i32)
    (call $path_open (i32.const 3) (i32.const 1) (i32.const 800) (i32.const 4)
      (i32.const 0x100) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 216)))
  (func (export "open_nope") (result i32)
    (call $path_open (i32.const 3) (i32.const 1) (i32.const 800) (i32.const 4)
      (i32.const 9) (i64.const 66) (i64.const 0) (i32.const 0) (i32.const 216)))
  (func (export "args") (result i32)
    (local $e i32)
    (local.set $e (call $args_sizes_get (i32.const 300) (i32.const 304)))
    (if (local.get $e) (then (return (local.get $e))))
    (call $args_get (i32.const 400) (i32.const 500)))
  (func (export "read") (result i32)
    (call $fd_read (i32.const 0) (i32.const 600) (i32.const 1) (i32.const 720)))
  (func (export "exit") (call $proc_exit (i32.const 7)))
)
"#;

fn instance<S: System + 'static>(system: S) -> (Store<Host<S>>, Instance) {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();
    let mut linker = Linker::new(&engine);
    add_to_linker(&mut linker, |h| h).unwrap();
    let mut store = Store::new(&engine, Host::new(system));
    let instance = linker.instantiate(&mut store, &module).unwrap();
    (store, instance)
}

fn call<S: 'static>(store: &mut Store<Host<S>>, instance: &Instance, name: &str) -> i32 {
    let f = instance
        .get_typed_func::<(), i32>(&mut *store, name)
        .unwrap();
    f.call(&mut *store, ()).unwrap()
}

fn read_u32<S: 'static>(store: &mut Store<Host<S>>, instance: &Instance, at: usize) -> u32 {
    let mem = instance.get_memory(&mut *store, "memory").unwrap();
    let bytes = &mem.data(&*store)[at..at + 4];
    u32::from_le_bytes(bytes.try_into().unwrap())
}

#[test]
fn calls_reach_the_system_with_checked_arguments() {
    let (mut store, inst) = instance(Memory::new());
    assert_eq!(call(&mut store, &inst, "write3"), 0);
    assert_eq!(read_u32(&mut store, &inst, 200), 14);
    assert_eq!(store.data().system().stdout, b"Hello, World!\n");

    assert_eq!(call(&mut store, &inst, "args"), 0);
    assert_eq!(read_u32(&mut store, &inst, 300), 2);
    assert_eq!(read_u32(&mut store, &inst, 304), 17);
    assert_eq!(read_u32(&mut store, &inst, 400), 500);
    assert_eq!(read_u32(&mut store, &inst, 404), 505);
    let mem = inst.get_memory(&mut store, "memory").unwrap();
    assert_eq!(&mem.data(&store)[500..517], b"prog\0hello world\0");

    assert_eq!(call(&mut store, &inst, "read"), 0);
    assert_eq!(read_u32(&mut store, &inst, 720), 10);
    assert_eq!(&mem.data(&store)[700..710], b"input data");
}

#[test]
fn bad_pointers_and_values_are_errnos() {
    let (mut store, inst) = instance(Memory::new());
    let fault = Errno::Fault as i32;
    assert_eq!(call(&mut store, &inst, "write_iovs_past_end"), fault);
    assert_eq!(call(&mut store, &inst, "write_out_past_end"), fault);
    assert_eq!(call(&mut store, &inst, "write_out_misaligned"), fault);
    assert_eq!(call(&mut store, &inst, "write_negative_ptr"), fault);
    assert_eq!(
        call(&mut store, &inst, "seek_bad_whence"),
        Errno::Inval as i32
    );
    assert_eq!(
        call(&mut store, &inst, "open_bad_oflags"),
        Errno::Inval as i32
    );
    // Nothing was written by the refused calls.
    assert!(store.data().system().stdout.is_empty());
}

#[test]
fn proc_exit_ends_the_instance_with_i32exit() {
    let (mut store, inst) = instance(Memory::new());
    let f = inst.get_typed_func::<(), ()>(&mut store, "exit").unwrap();
    let err = f.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<I32Exit>(), Some(&I32Exit(7)));
}

#[test]
fn the_glue_does_not_allocate() {
    let (mut store, inst) = instance(Memory::new());
    let write = inst
        .get_typed_func::<(), i32>(&mut store, "write3")
        .unwrap();
    let read = inst.get_typed_func::<(), i32>(&mut store, "read").unwrap();
    // Warm up: the first call caches the memory export.
    write.call(&mut store, ()).unwrap();
    read.call(&mut store, ()).unwrap();
    let before = allocations();
    for _ in 0..100 {
        assert_eq!(write.call(&mut store, ()).unwrap(), 0);
        assert_eq!(read.call(&mut store, ()).unwrap(), 0);
    }
    assert_eq!(allocations() - before, 0, "fd_write/fd_read allocated");
}

fn traced(format: Format) -> String {
    let sink = Shared::default();
    let options = TraceOptions {
        format,
        string_size: 32,
    };
    let (mut store, inst) = instance(Tracer::new(Memory::new(), sink.clone(), options));
    let calls = [
        "write3",
        "args",
        "read",
        "open_nope",
        "seek_bad_whence",
        "open_bad_oflags",
        "write_iovs_past_end",
    ];
    for f in calls {
        call(&mut store, &inst, f);
    }
    let exit = inst.get_typed_func::<(), ()>(&mut store, "exit").unwrap();
    assert!(exit.call(&mut store, ()).is_err());
    String::from_utf8(sink.0.lock().unwrap().clone()).unwrap()
}

// `args_get` needs the buffer's size before it can check the guest's pointer, so the glue asks
// the system for it first (`sizes_for_args_get`); the tracer forwards that unobserved, so the
// trace shows the guest's own `args_sizes_get` once. Calls the glue refuses while decoding
// (a bad whence, undefined oflags bits, iovecs past the end) are traced too, with their raw
// arguments.
#[test]
fn trace_text_matches_golden() {
    let expected = r#"fd_write(1, [iov("Hello, "), iov("World"), iov("!\n")]) = 14
args_sizes_get() = (2, 17)
args_get("prog\x00hello world\x00") = 0
fd_read(0, [iov("input data")]) = 10
path_open(3, SYMLINK_FOLLOW, "nope", CREAT|TRUNC, FD_READ|FD_WRITE, 0, 0) = ENOENT (No such file or directory)
fd_seek(fd=3, offset=0, whence=7, result0_ptr=208) = EINVAL (Invalid argument)
path_open(fd=3, dirflags=1, path_ptr=800, path_len=4, oflags=256, fs_rights_base=0, fs_rights_inheriting=0, fdflags=0, result0_ptr=216) = EINVAL (Invalid argument)
fd_write(fd=1, iovs_ptr=0xfffc, iovs_len=3, result0_ptr=200) = EFAULT (Bad address)
proc_exit(7) = ?
"#;
    assert_eq!(traced(Format::Text), expected);
}

#[test]
fn trace_json_matches_golden() {
    let text = traced(Format::Json);
    // Durations vary: blank them out.
    let masked: Vec<String> = text
        .lines()
        .map(|l| match l.find(",\"ns\":") {
            Some(i) => format!("{},\"ns\":N}}", &l[..i]),
            None => l.to_string(),
        })
        .collect();
    let expected = [
        r#"{"name":"fd_write","args":{"fd":1,"iovs":["Hello, ","World","!\n"]},"result":14,"ns":N}"#,
        r#"{"name":"args_sizes_get","args":{},"result":[2,17],"ns":N}"#,
        r#"{"name":"args_get","args":{"argv_buf":"prog\\x00hello world\\x00"},"result":0,"ns":N}"#,
        r#"{"name":"fd_read","args":{"fd":0,"iovs":["input data"]},"result":10,"ns":N}"#,
        r#"{"name":"path_open","args":{"fd":3,"dirflags":["SYMLINK_FOLLOW"],"path":"nope","oflags":["CREAT","TRUNC"],"fs_rights_base":["FD_READ","FD_WRITE"],"fs_rights_inheriting":[],"fdflags":[]},"errno":"ENOENT","ns":N}"#,
        r#"{"name":"fd_seek","args":{"fd":3,"offset":0,"whence":7,"result0_ptr":208},"errno":"EINVAL","ns":N}"#,
        r#"{"name":"path_open","args":{"fd":3,"dirflags":1,"path_ptr":800,"path_len":4,"oflags":256,"fs_rights_base":0,"fs_rights_inheriting":0,"fdflags":0,"result0_ptr":216},"errno":"EINVAL","ns":N}"#,
        r#"{"name":"fd_write","args":{"fd":1,"iovs_ptr":65532,"iovs_len":3,"result0_ptr":200},"errno":"EFAULT","ns":N}"#,
        r#"{"name":"proc_exit","args":{"rval":7},"result":null}"#,
    ];
    assert_eq!(masked, expected);
}

#[test]
fn trace_cuts_long_strings() {
    let sink = Shared::default();
    let options = TraceOptions {
        format: Format::Text,
        string_size: 4,
    };
    let (mut store, inst) = instance(Tracer::new(Memory::new(), sink.clone(), options));
    call(&mut store, &inst, "write3");
    let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        text,
        "fd_write(1, [iov(\"Hell\"...), iov(\"Worl\"...), iov(\"!\\n\")]) = 14\n"
    );
}
