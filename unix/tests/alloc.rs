//! The hot paths allocate nothing: a counting global allocator watches the `System` calls
//! themselves (called directly, after a warm-up), on this thread only.

use std::alloc::{GlobalAlloc, Layout, System as Malloc};
use std::cell::Cell;
use std::io::{IoSlice, IoSliceMut};
use wasirun_unix::{Builder, DirMode, UnixSystem};
use wasirun_wasi::*;

struct Counting;

thread_local! {
    static WATCHING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: the thread-locals may be gone while a thread exits.
    let _ = WATCHING.try_with(|w| {
        if w.get() {
            ALLOCATIONS.with(|a| a.set(a.get() + 1));
        }
    });
}

// SAFETY: every call is passed to the system allocator unchanged; counting touches only
// const-initialized thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: forwarded as is.
        unsafe { Malloc.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { Malloc.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: forwarded as is.
        unsafe { Malloc.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: forwarded as is.
        unsafe { Malloc.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// How many allocations `f` makes on this thread.
fn allocations(f: impl FnOnce()) -> usize {
    ALLOCATIONS.with(|a| a.set(0));
    WATCHING.with(|w| w.set(true));
    f();
    WATCHING.with(|w| w.set(false));
    ALLOCATIONS.with(|a| a.get())
}

/// Runs `f` twice (the first run warms up lazy state), then asserts that a third run, and a
/// hundred more, allocate nothing.
fn assert_no_alloc(what: &str, mut f: impl FnMut()) {
    f();
    f();
    let n = allocations(|| {
        for _ in 0..100 {
            f();
        }
    });
    assert_eq!(n, 0, "{what} allocated {n} times in 100 calls");
}

struct Fixture {
    dir: std::path::PathBuf,
    sys: UnixSystem,
    file: Fd,
    pipe_r: Fd,
    pipe_w: Fd,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = std::env::temp_dir().join(format!("wasirun-unix-alloc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("f"), vec![7u8; 4096]).unwrap();
        let mut sys = Builder::new()
            .preopen_dir(&dir, "/", DirMode::ReadWrite)
            .unwrap()
            .build()
            .unwrap();
        let rights = Rights::FD_READ | Rights::FD_WRITE | Rights::FD_SEEK;
        let file = sys
            .path_open(
                Fd(3),
                Lookupflags::empty(),
                "f",
                Oflags::empty(),
                rights,
                Rights::empty(),
                Fdflags::empty(),
            )
            .unwrap();
        let (r, w) = rustix::pipe::pipe().unwrap();
        let pipe_r = sys.add_fd(r).unwrap();
        let pipe_w = sys.add_fd(w).unwrap();
        Fixture {
            dir,
            sys,
            file,
            pipe_r,
            pipe_w,
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn clock(userdata: u64, id: Clockid, timeout: u64) -> Subscription {
    Subscription {
        userdata,
        u: SubscriptionU::Clock(SubscriptionClock {
            id,
            timeout,
            precision: 0,
            flags: Subclockflags::empty(),
        }),
    }
}

fn read_sub(userdata: u64, fd: Fd) -> Subscription {
    Subscription {
        userdata,
        u: SubscriptionU::FdRead(SubscriptionFdReadwrite {
            file_descriptor: fd,
        }),
    }
}

// One test, so that no other test thread allocates while this one watches (the counters are
// per thread anyway).
#[test]
fn hot_paths_do_not_allocate() {
    // The counter counts.
    assert!(allocations(|| drop(std::hint::black_box(Vec::<u8>::with_capacity(10)))) > 0);
    let mut fx = Fixture::new();
    let (file, pipe_r, pipe_w) = (fx.file, fx.pipe_r, fx.pipe_w);
    let sys = &mut fx.sys;
    let mut buf = [0u8; 512];
    let mut other = [0u8; 100];

    assert_no_alloc("fd_read", || {
        sys.fd_seek(file, 0, Whence::Set).unwrap();
        let mut iovs = [IoSliceMut::new(&mut buf), IoSliceMut::new(&mut other)];
        assert_eq!(sys.fd_read(file, &mut iovs).unwrap(), 612);
    });
    assert_no_alloc("fd_write", || {
        let data = [1u8; 64];
        let iovs = [IoSlice::new(&data), IoSlice::new(&data[..10])];
        assert_eq!(sys.fd_write(file, &iovs).unwrap(), 74);
    });
    assert_no_alloc("fd_pread", || {
        let mut iovs = [IoSliceMut::new(&mut buf)];
        assert_eq!(sys.fd_pread(file, &mut iovs, 100).unwrap(), 512);
    });
    assert_no_alloc("fd_pwrite", || {
        let iovs = [IoSlice::new(b"pwrite")];
        assert_eq!(sys.fd_pwrite(file, &iovs, 10).unwrap(), 6);
    });
    assert_no_alloc("fd_seek and fd_tell", || {
        assert_eq!(sys.fd_seek(file, 5, Whence::Set).unwrap(), 5);
        let end = sys.fd_seek(file, -1, Whence::End).unwrap();
        assert_eq!(sys.fd_tell(file).unwrap(), end);
    });
    assert_no_alloc("fd_filestat_get", || {
        assert_eq!(
            sys.fd_filestat_get(file).unwrap().filetype,
            Filetype::RegularFile
        );
    });
    assert_no_alloc("clock_time_get", || {
        for id in Clockid::ALL {
            assert!(sys.clock_time_get(id, 0).unwrap() > 0);
        }
    });
    assert_no_alloc("random_get", || {
        sys.random_get(&mut buf).unwrap();
    });
    assert_no_alloc("errors", || {
        let mut iovs = [IoSliceMut::new(&mut buf)];
        assert_eq!(sys.fd_read(Fd(999), &mut iovs), Err(Errno::Badf));
        assert_eq!(sys.fd_seek(pipe_r, 0, Whence::Set), Err(Errno::Spipe));
    });

    // poll_oneoff with 64 subscriptions: clocks, a file, a ready pipe, an unknown fd.
    sys.fd_write(pipe_w, &[IoSlice::new(b"ready")]).unwrap();
    let mut subs = [clock(0, Clockid::Monotonic, 10_000_000_000); 64];
    for (k, sub) in subs.iter_mut().enumerate() {
        *sub = match k % 4 {
            0 => clock(k as u64, Clockid::Monotonic, 10_000_000_000),
            1 => read_sub(k as u64, file),
            2 => read_sub(k as u64, pipe_r),
            _ => read_sub(k as u64, Fd(12345)),
        };
    }
    let mut events = [Event::default(); 64];
    assert_no_alloc("poll_oneoff with 64 subscriptions", || {
        assert_eq!(sys.poll_oneoff(&subs, &mut events).unwrap(), 48);
    });
    let sleep = [
        clock(1, Clockid::Monotonic, 1000),
        clock(2, Clockid::Realtime, 2000),
    ];
    assert_no_alloc("poll_oneoff sleeping", || {
        assert!(sys.poll_oneoff(&sleep, &mut events[..2]).unwrap() >= 1);
    });
    let waiting = [read_sub(1, pipe_r), clock(2, Clockid::Monotonic, 0)];
    assert_no_alloc("poll_oneoff on a pipe", || {
        assert!(sys.poll_oneoff(&waiting, &mut events[..2]).unwrap() >= 1);
    });

    // Listings are read in place on Linux (rustix's `Dir`, elsewhere, allocates each name).
    #[cfg(target_os = "linux")]
    {
        let mut listing = [0u8; 4096];
        assert_no_alloc("fd_readdir", || {
            assert!(sys.fd_readdir(Fd(3), &mut listing, 0).unwrap() > 0);
        });
    }

    // Path calls, on the openat2 resolver, allocate nothing either once the table has room.
    if openat2_works(&fx.dir) {
        let sys = &mut fx.sys;
        assert_no_alloc("path_filestat_get", || {
            sys.path_filestat_get(Fd(3), Lookupflags::empty(), "f")
                .unwrap();
        });
        assert_no_alloc("path_open and fd_close", || {
            let fd = sys
                .path_open(
                    Fd(3),
                    Lookupflags::empty(),
                    "f",
                    Oflags::empty(),
                    Rights::FD_READ,
                    Rights::empty(),
                    Fdflags::empty(),
                )
                .unwrap();
            sys.fd_close(fd).unwrap();
        });
        assert_no_alloc("path_create_directory and path_remove_directory", || {
            sys.path_create_directory(Fd(3), "d").unwrap();
            sys.path_remove_directory(Fd(3), "d").unwrap();
        });
    }
}

fn openat2_works(dir: &std::path::Path) -> bool {
    let root = rustix::fs::open(dir, rustix::fs::OFlags::PATH, rustix::fs::Mode::empty()).unwrap();
    let how = rustix::fs::ResolveFlags::BENEATH;
    rustix::fs::openat2(
        &root,
        "f",
        rustix::fs::OFlags::PATH,
        rustix::fs::Mode::empty(),
        how,
    )
    .is_ok()
}
