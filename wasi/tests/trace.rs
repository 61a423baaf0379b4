//! The trace for people, driven by a WAT module against a small in-memory directory: rights
//! sets as `all`, `all-but(...)` or the names set; `fd_readdir`'s entries decoded; JSON flags as
//! arrays of names; the summary's counts, with lines and without.

use std::collections::BTreeMap;
use wasirun_wasi::dirent::DirentWriter;
use wasirun_wasi::trace::{Format, Stat, Summary, TraceOptions};
use wasirun_wasi::*;
use wasmtime::{Engine, Instance, Linker, Module, Store};

mod common;
use common::Shared;

/// A directory of four entries on fd 3; everything path_open asks for is fd 4.
struct Dir;

const ENTRIES: [(Inode, Filetype, &str); 4] = [
    (7, Filetype::Directory, "."),
    (2, Filetype::Directory, ".."),
    (9, Filetype::RegularFile, "notes.txt"),
    (10, Filetype::SymbolicLink, "link"),
];

impl SystemDelegate for Dir {
    fn delegate(&mut self) -> impl System {
        Nosys
    }
    fn fd_fdstat_get(&mut self, fd: Fd) -> Result<Fdstat, Errno> {
        if fd != Fd(3) {
            return Err(Errno::Badf);
        }
        Ok(Fdstat {
            fs_filetype: Filetype::Directory,
            fs_flags: Fdflags::empty(),
            fs_rights_base: Rights::all(),
            fs_rights_inheriting: Rights::all() - (Rights::FD_WRITE | Rights::SOCK_ACCEPT),
        })
    }

    fn fd_readdir(&mut self, fd: Fd, buf: &mut [u8], cookie: Dircookie) -> Result<Size, Errno> {
        if fd != Fd(3) {
            return Err(Errno::Badf);
        }
        let mut w = DirentWriter::new(buf);
        for (i, (ino, kind, name)) in ENTRIES.iter().enumerate().skip(cookie as usize) {
            if !w.push(i as Dircookie + 1, *ino, *kind, name.as_bytes()) {
                break;
            }
        }
        Ok(w.used() as Size)
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
        Ok(Fd(4))
    }
}

/// The module; `{all}` is every right.
fn wat() -> String {
    let all = Rights::all().bits();
    let few = (Rights::FD_READ | Rights::FD_SEEK).bits();
    let but_read = (Rights::all() - Rights::FD_READ).bits();
    // Half the rights: a tie between listing what is set and what is missing.
    let half = (1u64 << 15) - 1;
    format!(
        r#"
(module
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fd_fdstat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir" (func $fd_readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 800) "f")
  (func (export "fdstat") (result i32)
    (call $fd_fdstat_get (i32.const 3) (i32.const 0)))
  (func (export "open_all") (result i32)
    (call $path_open (i32.const 3) (i32.const 0) (i32.const 800) (i32.const 1)
      (i32.const 0) (i64.const {all}) (i64.const {all}) (i32.const 0) (i32.const 900)))
  (func (export "open_few") (result i32)
    (call $path_open (i32.const 3) (i32.const 0) (i32.const 800) (i32.const 1)
      (i32.const 0) (i64.const {few}) (i64.const 0) (i32.const 0) (i32.const 900)))
  (func (export "open_but_read_and_half") (result i32)
    (call $path_open (i32.const 3) (i32.const 0) (i32.const 800) (i32.const 1)
      (i32.const 0) (i64.const {but_read}) (i64.const {half}) (i32.const 0) (i32.const 900)))
  (func (export "open_undefined_right") (result i32)
    (call $path_open (i32.const 3) (i32.const 0) (i32.const 800) (i32.const 1)
      (i32.const 0) (i64.const 0x10000000000) (i64.const 0) (i32.const 0) (i32.const 900)))
  (func (export "readdir") (result i32)
    (call $fd_readdir (i32.const 3) (i32.const 1000) (i32.const 256) (i64.const 0) (i32.const 1300)))
  (func (export "readdir_cut") (result i32)
    (call $fd_readdir (i32.const 3) (i32.const 1000) (i32.const 60) (i64.const 0) (i32.const 1300)))
  (func (export "readdir_from_2") (result i32)
    (call $fd_readdir (i32.const 3) (i32.const 1000) (i32.const 256) (i64.const 2) (i32.const 1300)))
  (func (export "readdir_badf") (result i32)
    (call $fd_readdir (i32.const 5) (i32.const 1000) (i32.const 256) (i64.const 0) (i32.const 1300)))
)
"#
    )
}

const CALLS: [&str; 9] = [
    "fdstat",
    "open_all",
    "open_few",
    "open_but_read_and_half",
    "open_undefined_right",
    "readdir",
    "readdir_cut",
    "readdir_from_2",
    "readdir_badf",
];

/// Runs `calls` on a Dir wrapped by `tracer`.
fn run<S: System + 'static>(tracer: S, calls: &[&str]) {
    let engine = Engine::default();
    let module = Module::new(&engine, wat()).unwrap();
    let mut linker = Linker::new(&engine);
    add_to_linker(&mut linker, |h| h).unwrap();
    let mut store = Store::new(&engine, Host::new(tracer));
    let instance: Instance = linker.instantiate(&mut store, &module).unwrap();
    for name in calls {
        let f = instance
            .get_typed_func::<(), i32>(&mut store, name)
            .unwrap();
        f.call(&mut store, ()).unwrap();
    }
}

/// The lines of `calls`, with the string size `string_size`.
fn traced(format: Format, string_size: usize, calls: &[&str]) -> Vec<String> {
    let sink = Shared::default();
    let options = TraceOptions {
        format,
        string_size,
    };
    run(Tracer::new(Dir, sink.clone(), options), calls);
    let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    text.lines()
        .map(|l| match l.find(",\"ns\":") {
            // Durations vary: blank them out.
            Some(i) => format!("{},\"ns\":N}}", &l[..i]),
            None => l.to_string(),
        })
        .collect()
}

// Rights: every one is `all`; more set than missing is `all-but(...)`; fewer, or as many, lists
// what is set. Small flag sets (oflags, fdflags) always list what is set.
#[test]
fn text_golden() {
    let half = "FD_DATASYNC|FD_READ|FD_SEEK|FD_FDSTAT_SET_FLAGS|FD_SYNC|FD_TELL|FD_WRITE|\
                FD_ADVISE|FD_ALLOCATE|PATH_CREATE_DIRECTORY|PATH_CREATE_FILE|PATH_LINK_SOURCE|\
                PATH_LINK_TARGET|PATH_OPEN|FD_READDIR";
    let expected = [
        "fd_fdstat_get(3) = {fs_filetype: DIRECTORY, fs_flags: 0, fs_rights_base: all, \
         fs_rights_inheriting: all-but(FD_WRITE|SOCK_ACCEPT)}"
            .to_string(),
        r#"path_open(3, 0, "f", 0, all, all, 0) = 4"#.to_string(),
        r#"path_open(3, 0, "f", 0, FD_READ|FD_SEEK, 0, 0) = 4"#.to_string(),
        format!(r#"path_open(3, 0, "f", 0, all-but(FD_READ), {half}, 0) = 4"#),
        "path_open(fd=3, dirflags=0, path_ptr=800, path_len=1, oflags=0, \
         fs_rights_base=0x10000000000, fs_rights_inheriting=0, fdflags=0, result0_ptr=900) \
         = EINVAL (Invalid argument)"
            .to_string(),
        r#"fd_readdir(3, [{name: ".", type: DIRECTORY, next: 1}, {name: "..", type: DIRECTORY, next: 2}, {name: "notes.txt", type: REGULAR_FILE, next: 3}, {name: "link", type: SYMBOLIC_LINK, next: 4}], 0) = 112"#.to_string(),
        r#"fd_readdir(3, [{name: ".", type: DIRECTORY, next: 1}, {name: "..", type: DIRECTORY, next: 2}, ...], 0) = 60"#.to_string(),
        r#"fd_readdir(3, [{name: "notes.txt", type: REGULAR_FILE, next: 3}, {name: "link", type: SYMBOLIC_LINK, next: 4}], 2) = 61"#.to_string(),
        "fd_readdir(5, ..., 0) = EBADF (Bad file descriptor)".to_string(),
    ];
    assert_eq!(traced(Format::Text, 32, &CALLS), expected);
}

#[test]
fn json_golden() {
    let all: Vec<String> = Rights::all()
        .iter_names()
        .map(|(n, _)| format!("\"{n}\""))
        .collect();
    let all = format!("[{}]", all.join(","));
    let lines = traced(
        Format::Json,
        32,
        &[
            "fdstat",
            "open_all",
            "open_few",
            "readdir_cut",
            "readdir_badf",
        ],
    );
    let but = all
        .replace("\"FD_WRITE\",", "")
        .replace(",\"SOCK_ACCEPT\"", "");
    let expected = [
        format!(
            r#"{{"name":"fd_fdstat_get","args":{{"fd":3}},"result":{{"fs_filetype":"DIRECTORY","fs_flags":[],"fs_rights_base":{all},"fs_rights_inheriting":{but}}},"ns":N}}"#
        ),
        format!(
            r#"{{"name":"path_open","args":{{"fd":3,"dirflags":[],"path":"f","oflags":[],"fs_rights_base":{all},"fs_rights_inheriting":{all},"fdflags":[]}},"result":4,"ns":N}}"#
        ),
        r#"{"name":"path_open","args":{"fd":3,"dirflags":[],"path":"f","oflags":[],"fs_rights_base":["FD_READ","FD_SEEK"],"fs_rights_inheriting":[],"fdflags":[]},"result":4,"ns":N}"#.to_string(),
        r#"{"name":"fd_readdir","args":{"fd":3,"buf":[{"name":".","type":"DIRECTORY","next":1},{"name":"..","type":"DIRECTORY","next":2},"..."],"cookie":0},"result":60,"ns":N}"#.to_string(),
        r#"{"name":"fd_readdir","args":{"fd":5,"buf":null,"cookie":0},"errno":"EBADF","ns":N}"#.to_string(),
    ];
    assert_eq!(lines, expected);
}

#[test]
fn entries_are_cut_at_the_string_size() {
    assert_eq!(
        traced(Format::Text, 1, &["readdir"]),
        [r#"fd_readdir(3, [{name: ".", type: DIRECTORY, next: 1}, ...], 0) = 112"#]
    );
}

/// Calls and errors per function, without the times (they vary).
fn counts(summary: &Summary) -> BTreeMap<&'static str, (u64, u64)> {
    summary
        .stats()
        .into_iter()
        .map(|(f, Stat { calls, errors, .. })| (f, (calls, errors)))
        .collect()
}

#[test]
fn the_summary_counts_calls_and_errors_with_lines_or_without() {
    let expected = BTreeMap::from([
        ("fd_fdstat_get", (1, 0)),
        ("fd_readdir", (4, 1)),
        // The call the glue refused (an undefined right) is an error too.
        ("path_open", (4, 1)),
    ]);

    let summary = Summary::new();
    let sink = Shared::default();
    let tracer = Tracer::new(Dir, sink.clone(), TraceOptions::default()).summarize(summary.clone());
    run(tracer, &CALLS);
    assert_eq!(counts(&summary), expected);
    assert_eq!(
        sink.0
            .lock()
            .unwrap()
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
        CALLS.len()
    );

    let summary = Summary::new();
    run(Tracer::summary_only(Dir, summary.clone()), &CALLS);
    assert_eq!(counts(&summary), expected);
    let table = summary.to_string();
    assert!(table.starts_with("% time     seconds  usecs/call     calls    errors function\n"));
    assert!(table.ends_with("         9         2 total\n"), "{table}");
}
