//! WASI preview 0 (`wasi_unstable`) over the Unix system, through `wasirun_wasi::Unstable` and
//! the generated preview 0 glue: a WAT guest imports the functions from `wasi_unstable`, and
//! each test checks preview 0's layouts byte by byte (offsets from `witx/preview0/`).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use wasirun_unix::{Builder, DirMode, UnixSystem};
use wasirun_wasi::preview0::{self, Preview0};
use wasirun_wasi::trace::TraceOptions;
use wasirun_wasi::{Host, I32Exit, Tracer, Unstable};
use wasmtime::{Engine, Instance, Linker, Memory, Module, Store, Val};

/// The imports: name and core-wasm parameters (all return an errno, but `proc_exit`).
const FUNCS: &[(&str, &str)] = &[
    ("args_sizes_get", "i32 i32"),
    ("args_get", "i32 i32"),
    ("environ_sizes_get", "i32 i32"),
    ("environ_get", "i32 i32"),
    ("fd_fdstat_get", "i32 i32"),
    ("fd_filestat_get", "i32 i32"),
    ("fd_filestat_set_size", "i32 i64"),
    ("fd_prestat_get", "i32 i32"),
    ("fd_prestat_dir_name", "i32 i32 i32"),
    ("fd_readdir", "i32 i32 i32 i64 i32"),
    ("fd_seek", "i32 i64 i32 i32"),
    ("path_filestat_get", "i32 i32 i32 i32 i32"),
    ("path_filestat_set_times", "i32 i32 i32 i32 i64 i64 i32"),
    ("path_open", "i32 i32 i32 i32 i32 i64 i64 i32 i32"),
    ("poll_oneoff", "i32 i32 i32 i32"),
    ("proc_exit", "i32"),
    ("proc_raise", "i32"),
];

fn wat() -> String {
    let mut imports = String::new();
    let mut exports = String::new();
    for (name, types) in FUNCS {
        let result = if *name == "proc_exit" {
            ""
        } else {
            "(result i32)"
        };
        imports.push_str(&format!(
            "(import \"wasi_unstable\" \"{name}\" (func ${name} (param {types}) {result}))\n"
        ));
        let gets: String = (0..types.split_whitespace().count())
            .map(|i| format!("local.get {i} "))
            .collect();
        exports.push_str(&format!(
            "(func (export \"{name}\") (param {types}) {result} {gets} call ${name})\n"
        ));
    }
    format!("(module\n{imports}(memory (export \"memory\") 1)\n{exports})")
}

/// Where the tests put arguments and results.
const AT: usize = 0x1000;
/// preview 0's errnos the tests expect (shared with preview 1).
const EINVAL: i32 = 28;
const ENOSYS: i32 = 52;

/// A directory of its own for one test, removed after it.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("wasirun-p0-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What the tracer wrote.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An instance of the guest over a preview 0 system: `Unstable<UnixSystem>`, or wrapped.
struct Guest<P: Preview0 + 'static = Unstable<UnixSystem>> {
    store: Store<Host<P>>,
    instance: Instance,
    memory: Memory,
}

impl<P: Preview0 + 'static> Guest<P> {
    fn new(system: P) -> Self {
        let engine = Engine::default();
        let module = Module::new(&engine, wat()).unwrap();
        let mut linker = Linker::<Host<P>>::new(&engine);
        preview0::add_to_linker(&mut linker, |h| h).unwrap();
        let mut store = Store::new(&engine, Host::new(system));
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        Guest {
            store,
            instance,
            memory,
        }
    }

    /// Calls `name`; its errno.
    fn call(&mut self, name: &str, args: &[Val]) -> i32 {
        let func = self.instance.get_func(&mut self.store, name).unwrap();
        let mut out = [Val::I32(0)];
        func.call(&mut self.store, args, &mut out).unwrap();
        out[0].unwrap_i32()
    }

    fn write(&mut self, at: usize, bytes: &[u8]) {
        self.memory.write(&mut self.store, at, bytes).unwrap();
    }

    fn read(&self, at: usize, len: usize) -> Vec<u8> {
        self.memory.data(&self.store)[at..at + len].to_vec()
    }

    fn u16_at(&self, at: usize) -> u16 {
        u16::from_le_bytes(self.read(at, 2).try_into().unwrap())
    }

    fn u32_at(&self, at: usize) -> u32 {
        u32::from_le_bytes(self.read(at, 4).try_into().unwrap())
    }

    fn u64_at(&self, at: usize) -> u64 {
        u64::from_le_bytes(self.read(at, 8).try_into().unwrap())
    }

    /// Opens `path` below the preopen (fd 3) with every preview 0 right; its fd.
    fn open(&mut self, path: &str, oflags: i32) -> i32 {
        self.write(AT + 512, path.as_bytes());
        let all = i64::from_le_bytes((u64::MAX >> 35).to_le_bytes());
        let args = [3, 0, AT as i32 + 512, path.len() as i32, oflags];
        let mut vals: Vec<Val> = args.iter().map(|&v| Val::I32(v)).collect();
        vals.extend([
            Val::I64(all),
            Val::I64(all),
            Val::I32(0),
            Val::I32(AT as i32),
        ]);
        assert_eq!(self.call("path_open", &vals), 0, "path_open {path}");
        self.u32_at(AT) as i32
    }
}

fn i(v: i32) -> Val {
    Val::I32(v)
}

/// The Unix system with `dir` preopened as fd 3, args `prog x` and `A=B`, serving preview 0.
fn unix(dir: &Path) -> Unstable<UnixSystem> {
    Unstable::new(unix1(dir))
}

/// [`unix`]'s preview 1 system.
fn unix1(dir: &Path) -> UnixSystem {
    Builder::new()
        .args(["prog", "x"])
        .env("A", "B")
        .preopen_dir(dir, "/sandbox", DirMode::ReadWrite)
        .unwrap()
        .build()
        .unwrap()
}

/// Checks a preview 0 `filestat` at `at` (56 bytes, `nlink` a u32 at 20) against `path`.
fn check_filestat(g: &Guest, at: usize, path: &Path) {
    let m = std::fs::metadata(path).unwrap();
    assert_eq!(g.u64_at(at), m.dev(), "dev at 0");
    assert_eq!(g.u64_at(at + 8), m.ino(), "ino at 8");
    assert_eq!(g.read(at + 16, 1), [4], "filetype regular_file at 16");
    assert_eq!(
        u64::from(g.u32_at(at + 20)),
        m.nlink(),
        "nlink, a u32 at 20"
    );
    assert_eq!(g.u64_at(at + 24), m.size(), "size at 24");
    let ns = |s: i64, n: i64| (s * 1_000_000_000 + n) as u64;
    assert_eq!(
        g.u64_at(at + 32),
        ns(m.atime(), m.atime_nsec()),
        "atim at 32"
    );
    assert_eq!(
        g.u64_at(at + 40),
        ns(m.mtime(), m.mtime_nsec()),
        "mtim at 40"
    );
    assert_eq!(
        g.u64_at(at + 48),
        ns(m.ctime(), m.ctime_nsec()),
        "ctim at 48"
    );
    assert_eq!(g.read(at + 56, 8), [0xAA; 8], "nothing past the 56 bytes");
}

#[test]
fn filestat_is_56_bytes_with_a_32_bit_nlink() {
    let tmp = TempDir::new();
    std::fs::write(tmp.join("f"), b"12345").unwrap();
    std::fs::hard_link(tmp.join("f"), tmp.join("g")).unwrap();
    let mut g = Guest::new(unix(&tmp.0));
    let fd = g.open("f", 0);
    g.write(AT + 64, &[0xAA; 64]);
    assert_eq!(g.call("fd_filestat_get", &[i(fd), i(AT as i32 + 64)]), 0);
    check_filestat(&g, AT + 64, &tmp.join("f"));
    assert_eq!(g.u32_at(AT + 64 + 20), 2);

    g.write(AT + 64, &[0xAA; 64]);
    g.write(AT + 512, b"g");
    let args = [i(3), i(0), i(AT as i32 + 512), i(1), i(AT as i32 + 64)];
    assert_eq!(g.call("path_filestat_get", &args), 0);
    check_filestat(&g, AT + 64, &tmp.join("g"));
}

#[test]
fn filestat_set_size_and_path_filestat_set_times_reach_the_file() {
    let tmp = TempDir::new();
    std::fs::write(tmp.join("f"), b"12345").unwrap();
    let mut g = Guest::new(unix(&tmp.0));
    let fd = g.open("f", 0);
    assert_eq!(g.call("fd_filestat_set_size", &[i(fd), Val::I64(2)]), 0);
    assert_eq!(std::fs::read(tmp.join("f")).unwrap(), b"12");
    g.write(AT + 512, b"f");
    // fstflags mtim (4): mtim = 5 s; atim untouched.
    let args = [
        i(3),
        i(0),
        i(AT as i32 + 512),
        i(1),
        Val::I64(0),
        Val::I64(5_000_000_000),
        i(4),
    ];
    assert_eq!(g.call("path_filestat_set_times", &args), 0);
    assert_eq!(std::fs::metadata(tmp.join("f")).unwrap().mtime(), 5);
}

#[test]
fn fd_seek_takes_preview_0_whence_values() {
    let tmp = TempDir::new();
    std::fs::write(tmp.join("f"), b"0123456789").unwrap();
    let mut g = Guest::new(unix(&tmp.0));
    let fd = g.open("f", 0);
    let seek = |g: &mut Guest, offset: i64, whence: i32| {
        let errno = g.call(
            "fd_seek",
            &[i(fd), Val::I64(offset), i(whence), i(AT as i32)],
        );
        (errno, g.u64_at(AT))
    };
    // set = 2, cur = 0, end = 1.
    assert_eq!(seek(&mut g, 3, 2), (0, 3));
    assert_eq!(seek(&mut g, 2, 0), (0, 5));
    assert_eq!(seek(&mut g, -1, 1), (0, 9));
    g.write(AT, &[0; 8]);
    assert_eq!(seek(&mut g, 0, 3).0, EINVAL, "no whence 3 in preview 0");
    assert_eq!(seek(&mut g, 0, 255).0, EINVAL);
    assert_eq!(
        seek(&mut g, 0, 0),
        (0, 9),
        "the refused calls moved nothing"
    );
}

/// A preview 0 subscription (56 bytes) at `at`: the union's tag at 8, its contents at 16.
fn subscription(g: &mut Guest, at: usize, userdata: u64, tag: u8, body: &[u8]) {
    g.write(at, &[0; 56]);
    g.write(at, &userdata.to_le_bytes());
    g.write(at + 8, &[tag]);
    g.write(at + 16, body);
}

#[test]
fn poll_oneoff_reads_preview_0_clock_subscriptions() {
    let tmp = TempDir::new();
    std::fs::write(tmp.join("f"), b"x").unwrap();
    let mut g = Guest::new(unix(&tmp.0));
    let fd = g.open("f", 0);
    // A clock: identifier (0xdead) at 16, id at 24 (monotonic), timeout at 32 (1 ms), precision
    // at 40, flags at 48.
    let mut clock = Vec::new();
    clock.extend(0xdead_u64.to_le_bytes());
    clock.extend(1_u32.to_le_bytes());
    clock.extend([0; 4]);
    clock.extend(1_000_000_u64.to_le_bytes());
    clock.extend(0_u64.to_le_bytes());
    subscription(&mut g, AT, 0x1122, 0, &clock);
    let (subs, events, n) = (AT as i32, AT as i32 + 256, AT as i32 + 512);
    assert_eq!(g.call("poll_oneoff", &[i(subs), i(events), i(1), i(n)]), 0);
    assert_eq!(g.u32_at(n as usize), 1);
    let e = events as usize;
    assert_eq!(g.u64_at(e), 0x1122, "event userdata at 0");
    assert_eq!(g.u16_at(e + 8), 0, "error at 8");
    assert_eq!(g.read(e + 10, 1), [0], "type clock at 10");

    // A clock 10 s away, then a read on a regular file (ready at once), 56 bytes after it.
    clock[16..24].copy_from_slice(&10_000_000_000_u64.to_le_bytes());
    subscription(&mut g, AT, 1, 0, &clock);
    subscription(&mut g, AT + 56, 2, 1, &(fd as u32).to_le_bytes());
    assert_eq!(g.call("poll_oneoff", &[i(subs), i(events), i(2), i(n)]), 0);
    assert_eq!(g.u32_at(n as usize), 1);
    assert_eq!(g.u64_at(e), 2, "the fd_read subscription's userdata");
    assert_eq!(g.read(e + 10, 1), [1], "type fd_read");
    assert_eq!(g.u64_at(e + 16), 1, "nbytes at 16: the byte left to read");
}

#[test]
fn fd_readdir_writes_preview_1_dirents() {
    let tmp = TempDir::new();
    std::fs::write(tmp.join("a"), b"").unwrap();
    let mut g = Guest::new(unix(&tmp.0));
    let (buf, len) = (AT + 64, 1024);
    let args = [i(3), i(buf as i32), i(len), Val::I64(0), i(AT as i32)];
    assert_eq!(g.call("fd_readdir", &args), 0);
    let used = g.u32_at(AT) as usize;
    let mut at = buf;
    let mut found = None;
    while at + 24 <= buf + used {
        let namlen = g.u32_at(at + 16) as usize;
        let name = g.read(at + 24, namlen);
        if name == b"a" {
            found = Some((g.u64_at(at + 8), g.read(at + 20, 1)[0]));
        }
        at += 24 + namlen;
    }
    let ino = std::fs::metadata(tmp.join("a")).unwrap().ino();
    assert_eq!(found, Some((ino, 4)), "d_ino at 8, d_type at 20");
}

#[test]
fn args_environ_and_the_preopen() {
    let tmp = TempDir::new();
    let mut g = Guest::new(unix(&tmp.0));
    assert_eq!(
        g.call("args_sizes_get", &[i(AT as i32), i(AT as i32 + 4)]),
        0
    );
    assert_eq!((g.u32_at(AT), g.u32_at(AT + 4)), (2, 7));
    assert_eq!(
        g.call("args_get", &[i(AT as i32 + 64), i(AT as i32 + 128)]),
        0
    );
    assert_eq!(g.u32_at(AT + 68), AT as u32 + 128 + 5);
    assert_eq!(g.read(AT + 128, 7), b"prog\0x\0");
    assert_eq!(
        g.call("environ_sizes_get", &[i(AT as i32), i(AT as i32 + 4)]),
        0
    );
    assert_eq!((g.u32_at(AT), g.u32_at(AT + 4)), (1, 4));
    assert_eq!(
        g.call("environ_get", &[i(AT as i32 + 64), i(AT as i32 + 128)]),
        0
    );
    assert_eq!(g.read(AT + 128, 4), b"A=B\0");

    assert_eq!(g.call("fd_prestat_get", &[i(3), i(AT as i32)]), 0);
    assert_eq!(g.read(AT, 1), [0], "preopentype dir");
    assert_eq!(g.u32_at(AT + 4), 8, "name length at 4");
    assert_eq!(
        g.call("fd_prestat_dir_name", &[i(3), i(AT as i32 + 64), i(8)]),
        0
    );
    assert_eq!(g.read(AT + 64, 8), b"/sandbox");
    assert_eq!(g.call("fd_prestat_get", &[i(4), i(AT as i32)]), 8, "EBADF");
}

#[test]
fn fdstat_rights_are_preview_0_rights() {
    let tmp = TempDir::new();
    let mut g = Guest::new(unix(&tmp.0));
    assert_eq!(g.call("fd_fdstat_get", &[i(3), i(AT as i32)]), 0);
    assert_eq!(g.read(AT, 1), [3], "filetype directory at 0");
    let (base, inheriting) = (g.u64_at(AT + 8), g.u64_at(AT + 16));
    assert_ne!(base, 0);
    assert_eq!(base >> 29, 0, "no right past preview 0's 29 (sock_accept)");
    assert_eq!(inheriting >> 29, 0);
}

#[test]
fn proc_exit_and_proc_raise() {
    let tmp = TempDir::new();
    let mut g = Guest::new(unix(&tmp.0));
    assert_eq!(
        g.call("proc_raise", &[i(15)]),
        ENOSYS,
        "as preview 1 answers"
    );
    let func = g.instance.get_func(&mut g.store, "proc_exit").unwrap();
    let err = func.call(&mut g.store, &[i(7)], &mut []).unwrap_err();
    assert_eq!(err.downcast_ref::<I32Exit>(), Some(&I32Exit(7)));
}

#[test]
fn the_tracer_shows_preview_0_calls_with_preview_0_values() {
    let tmp = TempDir::new();
    std::fs::write(tmp.join("f"), b"0123456789").unwrap();
    let lines = Lines::default();
    // As wasirun stacks them: the tracer sees the preview 0 call, with preview 0's values.
    let tracer = Tracer::new(unix(&tmp.0), lines.clone(), TraceOptions::default());
    let mut g = Guest::new(tracer);
    let fd = g.open("f", 0);
    let args = [i(fd), Val::I64(4), i(2), i(AT as i32)];
    assert_eq!(g.call("fd_seek", &args), 0);
    let args = [i(fd), Val::I64(0), i(3), i(AT as i32)];
    assert_eq!(g.call("fd_seek", &args), EINVAL);
    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("fd_seek(4, 4, SET) = 4"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("fd_seek(") && l.contains("EINVAL")),
        "{text}"
    );

    // Inside the tracer, the adapter's preview 1 calls are traced instead.
    let lines = Lines::default();
    let tracer = Tracer::new(unix1(&tmp.0), lines.clone(), TraceOptions::default());
    let mut g = Guest::new(Unstable::new(tracer));
    let fd = g.open("f", 0);
    let args = [i(fd), Val::I64(4), i(2), i(AT as i32)];
    assert_eq!(g.call("fd_seek", &args), 0);
    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("fd_seek(4, 4, SET) = 4"), "{text}");
}
