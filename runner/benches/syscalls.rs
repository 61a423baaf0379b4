//! The Unix system against the peer, wasmtime-wasi's preview1, on the same engine, and against
//! the same syscalls made natively, in the same run: a guest loop calls one WASI function N
//! times on a real file in a temp dir (or on a loopback TCP connection); the native loop makes
//! the syscall(s) the call comes down to. The three take turns in each of the rounds.
//!
//! The peer gets its best settings: the sync linker (`add_to_linker_sync`) and
//! `allow_blocking_current_thread(true)` set before `preopened_dir`, so file calls run inline
//! instead of through tokio's `spawn_blocking`.
//!
//! `cargo bench -p wasirun --bench syscalls` prints a Markdown table: nanoseconds per call
//! (median of 5 rounds), the ratios wasirun / wasmtime-wasi and wasirun / native (below 1 is
//! faster), and the allocations per call of each host (a counting global allocator).
//! `cargo bench --bench syscalls -- NAME...` runs only the loops whose names contain a NAME.
//!
//! A second table gives what recording costs (`wasirun record`): a subset of the loops on the
//! same system wrapped in `wasirun_wasi::record::Recorder` writing its log to a file in the
//! temp dir, taking turns with the plain system, with fewer calls; the ratio recorded / plain
//! and the log's bytes per call.

use std::alloc::{GlobalAlloc, Layout, System as SystemAlloc};
use std::ffi::CString;
use std::fs::File;
use std::mem::MaybeUninit;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::thread::yield_now;
use std::time::Instant;
use wasirun_unix::{Builder, DirMode};
use wasirun_wasi::record::{Header, Recorder};
use wasirun_wasi::{Host, add_to_linker};
use wasmtime::{Engine, Linker, Memory, Module, Store, TypedFunc};

mod common;
use common::{RUNS, median};

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
  (import "wasi_snapshot_preview1" "sock_send" (func $sock_send (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_recv" (func $sock_recv (param i32 i32 i32 i32 i32 i32) (result i32)))
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
  ;; 64 bytes sent on fd 4, one end of a loopback TCP connection, and received on fd 5, the
  ;; other end (wasirun only: the peer has no way to be handed sockets).
  (func (export "sock_send_recv") (param $n i32)
    (loop $l
      (drop (call $sock_send (i32.const 4) (i32.const 32) (i32.const 1) (i32.const 0) (i32.const 60)))
      (drop (call $sock_recv (i32.const 5) (i32.const 32) (i32.const 1) (i32.const 0) (i32.const 60) (i32.const 64)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
)
"#;

/// A guest loop: its export, the calls per timed run, what the native loop does per call, and
/// the native loop.
struct Loop {
    name: &'static str,
    calls: i32,
    native_does: &'static str,
    native: fn(&mut Native),
}

const LOOPS: &[Loop] = &[
    Loop {
        name: "fd_pread",
        calls: 200_000,
        native_does: "pread",
        native: |n| n.pread(),
    },
    Loop {
        name: "fd_pwrite",
        calls: 200_000,
        native_does: "pwrite",
        native: |n| n.pwrite(),
    },
    Loop {
        name: "fd_seek",
        calls: 500_000,
        native_does: "lseek",
        native: |n| n.lseek(),
    },
    Loop {
        name: "fd_filestat_get",
        calls: 200_000,
        native_does: "fstat",
        native: |n| n.fstat(),
    },
    Loop {
        name: "fd_fdstat_get",
        calls: 1_000_000,
        native_does: "fcntl(F_GETFL)",
        native: |n| n.getfl(),
    },
    Loop {
        name: "poll_oneoff_zero_clock",
        calls: 200_000,
        native_does: "ppoll, no fds, 0 ns",
        native: |n| n.ppoll_zero(),
    },
    // On the open file, always ready: the cost per subscription.
    Loop {
        name: "poll_oneoff_1_fd",
        calls: 200_000,
        native_does: "poll, 1 fd",
        native: |n| n.poll(1),
    },
    Loop {
        name: "poll_oneoff_64_fds",
        calls: 20_000,
        native_does: "poll, 64 fds",
        native: |n| n.poll(64),
    },
    Loop {
        name: "fd_readdir",
        calls: 100_000,
        native_does: "lseek + getdents64 until it returns 0, as readdir(3)",
        native: |n| n.readdir(),
    },
    Loop {
        name: "clock_time_get",
        calls: 1_000_000,
        native_does: "clock_gettime (vDSO)",
        native: |n| n.clock(),
    },
    Loop {
        name: "random_get",
        calls: 200_000,
        native_does: "getrandom",
        native: |n| n.random(),
    },
    // A real sched_yield(2) here, an empty call in wasmtime-wasi: what the faithful choice
    // costs (docs/compatibility.md says why we make it).
    Loop {
        name: "sched_yield",
        calls: 200_000,
        native_does: "sched_yield",
        native: |_| yield_now(),
    },
    Loop {
        name: "path_filestat_get",
        calls: 100_000,
        native_does: "fstatat",
        native: |n| n.statat(),
    },
    Loop {
        name: "path_open_close",
        calls: 50_000,
        native_does: "openat + close",
        native: |n| n.open_close(),
    },
    Loop {
        name: "sock_send_recv",
        calls: 100_000,
        native_does: "send + recv",
        native: |n| n.send_recv(),
    },
];

/// The loops timed again recorded, and the divisor of their calls there.
const RECORDED: &[&str] = &[
    "fd_pread",
    "fd_pwrite",
    "clock_time_get",
    "poll_oneoff_zero_clock",
    "fd_readdir",
    "path_open_close",
];
const RECORDED_FEWER: i32 = 4;

/// The loops the peer cannot run.
const WASIRUN_ONLY: &[&str] = &["sock_send_recv"];

/// Counts every allocation the bench makes, the host's included: allocations per call are the
/// count across a timed run over its calls.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; counting has no effect on the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { SystemAlloc.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        // SAFETY: as alloc.
        unsafe { SystemAlloc.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        // SAFETY: as alloc.
        unsafe { SystemAlloc.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as alloc.
        unsafe { SystemAlloc.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A guest instance with its loops (`None` for those it cannot run).
struct Guest<T: 'static> {
    store: Store<T>,
    loops: Vec<Option<TypedFunc<i32, ()>>>,
}

impl<T: 'static> Guest<T> {
    /// Instantiates `module` and runs its setup; `bind` hands the memory to the store's data
    /// (as `wasirun` binds its one instance's memory).
    fn new(
        mut store: Store<T>,
        linker: &Linker<T>,
        module: &Module,
        bind: fn(&mut T, Memory),
        skip: &[&str],
    ) -> Self {
        let instance = linker.instantiate(&mut store, module).unwrap();
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        bind(store.data_mut(), memory);
        let setup = instance
            .get_typed_func::<(), i32>(&mut store, "setup")
            .unwrap();
        assert_eq!(setup.call(&mut store, ()).unwrap(), 0, "setup failed");
        let loops = LOOPS
            .iter()
            .map(|l| {
                (!skip.contains(&l.name))
                    .then(|| instance.get_typed_func(&mut store, l.name).unwrap())
            })
            .collect();
        Guest { store, loops }
    }

    /// Runs loop `i` for `calls` calls; false if this guest cannot.
    fn run(&mut self, i: usize, calls: i32) -> bool {
        match &self.loops[i] {
            Some(f) => {
                f.call(&mut self.store, calls).unwrap();
                true
            }
            None => false,
        }
    }
}

/// The same calls made natively: the bench's own descriptors on the same file and directory,
/// and a loopback connection of its own.
struct Native {
    file: File,
    dir: File,
    name: CString,
    send: TcpStream,
    recv: TcpStream,
    buf: [u8; 4096],
    fds: Vec<libc::pollfd>,
}

impl Native {
    fn new(dir: &Path) -> Self {
        let file = File::options()
            .read(true)
            .write(true)
            .open(dir.join("bench.txt"))
            .unwrap();
        let fds = vec![
            libc::pollfd {
                fd: file.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            64
        ];
        let (send, recv) = loopback();
        Native {
            file,
            dir: File::open(dir).unwrap(),
            name: CString::new("bench.txt").unwrap(),
            send,
            recv,
            buf: [0; 4096],
            fds,
        }
    }

    fn fd(&self) -> i32 {
        self.file.as_raw_fd()
    }

    fn pread(&mut self) {
        // SAFETY: 64 bytes into a buffer of 4096.
        let n = unsafe { libc::pread(self.fd(), self.buf.as_mut_ptr().cast(), 64, 0) };
        assert_eq!(n, 64);
    }

    fn pwrite(&mut self) {
        // SAFETY: 64 bytes from a buffer of 4096.
        let n = unsafe { libc::pwrite(self.fd(), self.buf.as_ptr().cast(), 64, 0) };
        assert_eq!(n, 64);
    }

    fn lseek(&mut self) {
        // SAFETY: no memory is passed.
        assert_eq!(unsafe { libc::lseek(self.fd(), 0, libc::SEEK_SET) }, 0);
    }

    fn fstat(&mut self) {
        let mut st = MaybeUninit::<libc::stat>::uninit();
        // SAFETY: st is a stat buffer.
        assert_eq!(unsafe { libc::fstat(self.fd(), st.as_mut_ptr()) }, 0);
    }

    fn getfl(&mut self) {
        // SAFETY: no memory is passed.
        assert!(unsafe { libc::fcntl(self.fd(), libc::F_GETFL) } >= 0);
    }

    fn ppoll_zero(&mut self) {
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: no fds; the timeout outlives the call.
        let n = unsafe { libc::ppoll(std::ptr::null_mut(), 0, &zero, std::ptr::null()) };
        assert_eq!(n, 0);
    }

    fn poll(&mut self, n: usize) {
        // SAFETY: n <= 64 pollfds.
        let ready = unsafe { libc::poll(self.fds.as_mut_ptr(), n as libc::nfds_t, -1) };
        assert_eq!(ready, n as i32);
    }

    /// A whole listing from the start, as readdir(3) makes it: it knows the end only when
    /// `getdents64` returns 0 (a short read proves nothing on every file system), so a
    /// directory that fits one buffer still takes two.
    fn readdir(&mut self) {
        let fd = self.dir.as_raw_fd();
        // SAFETY: no memory is passed to lseek.
        assert_eq!(unsafe { libc::lseek(fd, 0, libc::SEEK_SET) }, 0);
        let mut calls = 0;
        loop {
            // SAFETY: getdents64 fills at most 4096 bytes of buf.
            let n = unsafe { libc::syscall(libc::SYS_getdents64, fd, self.buf.as_mut_ptr(), 4096) };
            assert!(n >= 0);
            calls += 1;
            if n == 0 {
                break;
            }
        }
        assert_eq!(calls, 2);
    }

    fn clock(&mut self) {
        let mut ts = MaybeUninit::<libc::timespec>::uninit();
        // SAFETY: ts is a timespec.
        assert_eq!(
            unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, ts.as_mut_ptr()) },
            0
        );
    }

    fn random(&mut self) {
        // SAFETY: 16 bytes into a buffer of 4096.
        assert_eq!(
            unsafe { libc::getrandom(self.buf.as_mut_ptr().cast(), 16, 0) },
            16
        );
    }

    fn statat(&mut self) {
        let mut st = MaybeUninit::<libc::stat>::uninit();
        // SAFETY: a NUL-terminated name and a stat buffer.
        let r =
            unsafe { libc::fstatat(self.dir.as_raw_fd(), self.name.as_ptr(), st.as_mut_ptr(), 0) };
        assert_eq!(r, 0);
    }

    fn open_close(&mut self) {
        // SAFETY: a NUL-terminated name; the fd it returns is closed here.
        unsafe {
            let fd = libc::openat(
                self.dir.as_raw_fd(),
                self.name.as_ptr(),
                libc::O_RDONLY | libc::O_CLOEXEC,
            );
            assert!(fd >= 0);
            libc::close(fd);
        }
    }

    fn send_recv(&mut self) {
        // SAFETY: 64 bytes from and into a buffer of 4096.
        unsafe {
            let sent = libc::send(self.send.as_raw_fd(), self.buf.as_ptr().cast(), 64, 0);
            assert_eq!(sent, 64);
            let got = libc::recv(self.recv.as_raw_fd(), self.buf.as_mut_ptr().cast(), 64, 0);
            assert!(got > 0);
        }
    }
}

/// Both ends of a loopback TCP connection, the sending one without Nagle's delay (it would
/// hold each small send for the other end's delayed ACK).
fn loopback() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let send = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    send.set_nodelay(true).unwrap();
    let (recv, _) = listener.accept().unwrap();
    (send, recv)
}

/// One side's figures for a loop: nanoseconds and allocations per call.
#[derive(Clone, Copy)]
struct Figures {
    ns: f64,
    allocations: f64,
}

/// Times `run` (which makes `calls` calls and returns false if it cannot) in each of `RUNS`
/// rounds, every side once per round, taking turns so that the load on the machine falls on
/// all alike; the median per side, `None` for a side that cannot run.
fn interleaved<const N: usize>(
    calls: i32,
    run: &mut [&mut dyn FnMut(i32) -> bool; N],
) -> [Option<Figures>; N] {
    let able: Vec<bool> = run.iter_mut().map(|r| r(100)).collect();
    let mut ns = vec![Vec::new(); N];
    let mut allocations = [0u64; N];
    for _ in 0..RUNS {
        for (k, r) in run.iter_mut().enumerate() {
            if able[k] {
                let before = ALLOCATIONS.load(Relaxed);
                let start = Instant::now();
                r(calls);
                ns[k].push(start.elapsed().as_nanos() as f64 / f64::from(calls));
                allocations[k] += ALLOCATIONS.load(Relaxed) - before;
            }
        }
    }
    std::array::from_fn(|k| {
        able[k].then(|| Figures {
            ns: median(std::mem::take(&mut ns[k])),
            allocations: allocations[k] as f64 / (f64::from(calls) * RUNS as f64),
        })
    })
}

fn main() {
    let dir = std::env::temp_dir().join(format!("wasirun-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bench.txt"), vec![b'x'; 4096]).unwrap();
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();

    let (send, recv) = loopback();
    let system = Builder::new()
        .arg("bench")
        .preopen_dir(&dir, "/", DirMode::ReadWrite)
        .unwrap()
        .preopen_socket_fd(send)
        .preopen_socket_fd(recv)
        .build()
        .unwrap();
    let mut linker = Linker::new(&engine);
    add_to_linker(&mut linker, |h| h).unwrap();
    let mut ours = Guest::new(
        Store::new(&engine, Host::new(system)),
        &linker,
        &module,
        |h, m| h.set_memory(m),
        &[],
    );

    // The same system recorded, its log in the temp dir (beside the preopen: fd_readdir lists
    // the same entries); its own sockets (unused).
    let (send, recv) = loopback();
    let system = Builder::new()
        .arg("bench")
        .preopen_dir(&dir, "/", DirMode::ReadWrite)
        .unwrap()
        .preopen_socket_fd(send)
        .preopen_socket_fd(recv)
        .build()
        .unwrap();
    let log_path = dir.with_extension("log");
    let log = File::create(&log_path).unwrap();
    let recorder = Recorder::new(system, log, Header::new("bench.wat", WAT.as_bytes())).unwrap();
    let mut linker = Linker::new(&engine);
    add_to_linker(&mut linker, |h| h).unwrap();
    let mut recorded = Guest::new(
        Store::new(&engine, Host::new(recorder)),
        &linker,
        &module,
        |h, m| h.set_memory(m),
        &[],
    );

    let peer = peer(&dir);
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |c| c).unwrap();
    let mut theirs = Guest::new(
        Store::new(&engine, peer),
        &linker,
        &module,
        |_, _| {},
        WASIRUN_ONLY,
    );
    let mut native = Native::new(&dir);

    println!("ns per call, median of {RUNS} interleaved runs; allocations per call (the host's)");
    println!();
    println!(
        "| call | wasirun | wasmtime-wasi | native | wasirun / wasmtime-wasi | wasirun / native | allocations wasirun / wasmtime-wasi |"
    );
    println!("|---|---|---|---|---|---|---|");
    // `cargo bench --bench syscalls -- NAME...` runs the loops whose names contain a NAME.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    for (i, l) in LOOPS.iter().enumerate() {
        if !only.is_empty() && !only.iter().any(|o| l.name.contains(o.as_str())) {
            continue;
        }
        let [a, b, n] = interleaved(
            l.calls,
            &mut [
                &mut |k| ours.run(i, k),
                &mut |k| theirs.run(i, k),
                &mut |k| {
                    for _ in 0..k {
                        (l.native)(&mut native);
                    }
                    true
                },
            ],
        );
        let (a, n) = (a.unwrap(), n.unwrap());
        let ns = |f: Option<Figures>| f.map_or("-".into(), |f| format!("{:.0}", f.ns));
        let ratio = |f: Option<Figures>| f.map_or("-".into(), |f| format!("{:.2}", a.ns / f.ns));
        let allocs = |f: Option<Figures>| f.map_or("-".into(), |f| format!("{:.2}", f.allocations));
        println!(
            "| `{}` | {} | {} | {} ({}) | {} | {} | {} / {} |",
            l.name,
            ns(Some(a)),
            ns(b),
            ns(Some(n)),
            l.native_does,
            ratio(b),
            ratio(Some(n)),
            allocs(Some(a)),
            allocs(b),
        );
    }
    println!();

    println!(
        "recording: ns per call, median of {RUNS} interleaved runs of 1/{RECORDED_FEWER} the \
         calls; the log in a file in the temp dir"
    );
    println!();
    println!("| call | wasirun | wasirun recorded | recorded / plain | log bytes per call |");
    println!("|---|---|---|---|---|");
    let log_len = |g: &mut Guest<Host<Recorder<_>>>| {
        g.store.data_mut().system_mut().flush();
        std::fs::metadata(&log_path).unwrap().len()
    };
    for (i, l) in LOOPS.iter().enumerate() {
        if !RECORDED.contains(&l.name)
            || (!only.is_empty() && !only.iter().any(|o| l.name.contains(o.as_str())))
        {
            continue;
        }
        let calls = l.calls / RECORDED_FEWER;
        let before = log_len(&mut recorded);
        let [a, r] = interleaved(
            calls,
            &mut [&mut |k| ours.run(i, k), &mut |k| recorded.run(i, k)],
        );
        // The warm-up's 100 calls and the rounds'.
        let logged =
            (log_len(&mut recorded) - before) as f64 / (100.0 + f64::from(calls) * RUNS as f64);
        let (a, r) = (a.unwrap(), r.unwrap());
        println!(
            "| `{}` | {:.0} | {:.0} | {:.2} | {:.1} |",
            l.name,
            a.ns,
            r.ns,
            r.ns / a.ns,
            logged
        );
    }
    println!();
    drop(recorded);
    std::fs::remove_file(&log_path).unwrap();
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
