//! Clocks, randomness, yielding and `poll_oneoff`.
//!
//! Scenarios (`clocks SCENARIO [PREOPEN]`):
//!
//! - `clocks`: `clock_res_get` and `clock_time_get` on all four clocks; prints the realtime
//!   clock in seconds for the host to compare with its own.
//! - `random`: `random_get`, `sched_yield`.
//! - `poll PREOPEN`: clock subscriptions (relative, absolute, several) and fd subscriptions on
//!   files (`hello.txt` holds "Hello, WASI!\n") and stdout; the host gives stdin no data
//!   (an open pipe it never writes to).
//! - `poll_stdin`: waits on stdin, a pipe the host writes "hello" to and then closes, each when
//!   the guest asks on stdout (`send`, `close`).

use wasi::{
    CLOCKID_MONOTONIC, CLOCKID_PROCESS_CPUTIME_ID, CLOCKID_REALTIME, CLOCKID_THREAD_CPUTIME_ID,
    Clockid, EVENTRWFLAGS_FD_READWRITE_HANGUP, Event, SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME,
    Subscription,
};
use wasirun_test_guests::*;

const MS: u64 = 1_000_000;

fn main() {
    let mut g = Guest::start();
    match g.scenario.as_str() {
        "clocks" => clocks(&mut g),
        "random" => random(&mut g),
        "poll" => poll(&mut g),
        "poll_stdin" => poll_stdin(&mut g),
        _ => g.unknown(),
    }
    g.finish()
}

const CLOCKS: [(&str, Clockid); 4] = [
    ("REALTIME", CLOCKID_REALTIME),
    ("MONOTONIC", CLOCKID_MONOTONIC),
    ("PROCESS_CPUTIME_ID", CLOCKID_PROCESS_CPUTIME_ID),
    ("THREAD_CPUTIME_ID", CLOCKID_THREAD_CPUTIME_ID),
];

fn clocks(g: &mut Guest) {
    for (name, id) in CLOCKS {
        // SAFETY (all raw calls in this file): no pointers but the ones described.
        let res = unsafe { wasi::clock_res_get(id) };
        let res = g.ok(&format!("clock_res_get({name})"), res);
        if let Some(res) = res {
            g.that(
                &format!("{name} resolution"),
                res > 0 && res <= 1_000 * MS,
                res,
                "in (0, 1 s]",
            );
        }
        let t1 = unsafe { wasi::clock_time_get(id, 0) };
        let t1 = g.ok(&format!("clock_time_get({name})"), t1);
        let t2 = unsafe { wasi::clock_time_get(id, 1_000_000_000) };
        let t2 = g.ok(&format!("clock_time_get({name}, precision 1 s)"), t2);
        if let (Some(t1), Some(t2)) = (t1, t2) {
            g.that(
                &format!("{name} does not go back"),
                t2 >= t1,
                (t1, t2),
                "second >= first",
            );
        }
    }
    let rt = now(CLOCKID_REALTIME);
    g.report("realtime seconds", rt / 1_000_000_000);

    // The monotonic clock never goes back, and moves.
    let mut prev = now(CLOCKID_MONOTONIC);
    let first = prev;
    let mut back = 0;
    for _ in 0..10_000 {
        let t = now(CLOCKID_MONOTONIC);
        if t < prev {
            back += 1;
        }
        prev = t;
    }
    g.eq("MONOTONIC went back", back, 0);
    g.that(
        "MONOTONIC moved over 10000 reads",
        prev > first,
        (first, prev),
        "later",
    );

    // CPU time grows with work done.
    let cpu0 = now(CLOCKID_PROCESS_CPUTIME_ID);
    let mut x = 1u64;
    for i in 0..5_000_000u64 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
    }
    std::hint::black_box(x);
    let cpu1 = now(CLOCKID_PROCESS_CPUTIME_ID);
    g.that(
        "PROCESS_CPUTIME_ID grows with work",
        cpu1 > cpu0,
        (cpu0, cpu1),
        "later",
    );

    // An id that is no clock.
    let mut out = 0u64;
    let p = &mut out as *mut u64 as i32;
    let r = unsafe { wasi::wasi_snapshot_preview1::clock_res_get(4, p) };
    g.errno("clock_res_get(4)", raw_result(r), wasi::ERRNO_INVAL);
    let r = unsafe { wasi::wasi_snapshot_preview1::clock_time_get(99, 0, p) };
    g.errno("clock_time_get(99)", raw_result(r), wasi::ERRNO_INVAL);
}

fn random(g: &mut Guest) {
    let get = |n: usize| -> R<Vec<u8>> {
        let mut buf = vec![0u8; n];
        unsafe { wasi::random_get(buf.as_mut_ptr(), buf.len())? };
        Ok(buf)
    };
    g.ok("random_get(0 bytes)", get(0).map(drop));
    let a = g.must("random_get(16 bytes)", get(16).map(Bytes));
    let b = g.must("random_get(16 bytes) again", get(16).map(Bytes));
    g.that("two draws differ", a != b, (&a, &b), "different bytes");
    let big = g.must("random_get(1 MiB)", get(1 << 20).map(Bytes));
    let mut seen = [0usize; 256];
    for &byte in &big.0 {
        seen[usize::from(byte)] += 1;
    }
    // 4096 of each byte value expected; a fair source stays well within 3000..5200.
    let (lo, hi) = (seen.iter().min().copied(), seen.iter().max().copied());
    g.that(
        "every byte value about as often",
        lo > Some(3000) && hi < Some(5200),
        (lo, hi),
        "each of the 256 values 3000..5200 times",
    );
    // The tail of the buffer is filled too (a short fill would leave zeros).
    let tail_zeros = big.0[big.len() - 64..].iter().filter(|&&b| b == 0).count();
    g.that(
        "the end of the buffer is filled",
        tail_zeros < 8,
        tail_zeros,
        "< 8 zeros in the last 64",
    );

    for i in 0..3 {
        g.ok(&format!("sched_yield #{i}"), unsafe { wasi::sched_yield() });
    }
}

/// A clock subscription.
fn clock_sub(userdata: u64, id: Clockid, timeout: u64, absolute: bool) -> Subscription {
    Subscription {
        userdata,
        u: wasi::SubscriptionU {
            tag: wasi::EVENTTYPE_CLOCK.raw(),
            u: wasi::SubscriptionUU {
                clock: wasi::SubscriptionClock {
                    id,
                    timeout,
                    precision: 0,
                    flags: if absolute {
                        SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME
                    } else {
                        0
                    },
                },
            },
        },
    }
}

/// An fd subscription: `read` for `FD_READ`, else `FD_WRITE`.
fn fd_sub(userdata: u64, fd: wasi::Fd, read: bool) -> Subscription {
    let rw = wasi::SubscriptionFdReadwrite {
        file_descriptor: fd,
    };
    Subscription {
        userdata,
        u: if read {
            wasi::SubscriptionU {
                tag: wasi::EVENTTYPE_FD_READ.raw(),
                u: wasi::SubscriptionUU { fd_read: rw },
            }
        } else {
            wasi::SubscriptionU {
                tag: wasi::EVENTTYPE_FD_WRITE.raw(),
                u: wasi::SubscriptionUU { fd_write: rw },
            }
        },
    }
}

/// What one event said, in a form to compare.
#[derive(Debug, PartialEq, Eq)]
struct Ev {
    userdata: u64,
    error: String,
    kind: &'static str,
    nbytes: u64,
    hangup: bool,
}

fn ev(userdata: u64, kind: &'static str, nbytes: u64, hangup: bool) -> Ev {
    Ev {
        userdata,
        error: "SUCCESS".to_string(),
        kind,
        nbytes,
        hangup,
    }
}

/// `poll_oneoff` on `subs`: the events, sorted by userdata, and the monotonic time it took.
fn poll_oneoff(subs: &[Subscription]) -> R<Polled> {
    let mut events: Vec<Event> = Vec::with_capacity(subs.len());
    let start = now(CLOCKID_MONOTONIC);
    // SAFETY: `events` has room for one event per subscription, as poll_oneoff may write.
    let n = unsafe {
        let n = wasi::poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), subs.len())?;
        events.set_len(n.min(subs.len()));
        n
    };
    let took = now(CLOCKID_MONOTONIC) - start;
    assert!(
        n <= subs.len(),
        "poll_oneoff says {n} events for {} subscriptions",
        subs.len()
    );
    let mut out: Vec<Ev> = events
        .iter()
        .map(|e| Ev {
            userdata: e.userdata,
            error: errno_name(e.error),
            kind: match e.type_.raw() {
                0 => "CLOCK",
                1 => "FD_READ",
                2 => "FD_WRITE",
                _ => "INVALID",
            },
            nbytes: e.fd_readwrite.nbytes,
            hangup: e.fd_readwrite.flags & EVENTRWFLAGS_FD_READWRITE_HANGUP != 0,
        })
        .collect();
    out.sort_by_key(|e| e.userdata);
    Ok(Polled { events: out, took })
}

/// What `poll_oneoff` returned.
struct Polled {
    /// The events, sorted by userdata.
    events: Vec<Ev>,
    /// How long the call took on the monotonic clock.
    took: u64,
}

impl Show for Polled {
    fn show(&self) -> Option<String> {
        Some(format!("{} events", self.events.len()))
    }
}

/// Clock events carry no byte count: compare them without it.
fn clock_only(events: &[Ev]) -> Vec<(u64, &str, &str)> {
    events
        .iter()
        .map(|e| (e.userdata, e.error.as_str(), e.kind))
        .collect()
}

fn poll(g: &mut Guest) {
    let dir = g.dir;
    // SAFETY: `events` is large enough for the zero events of zero subscriptions.
    let r = unsafe {
        let mut events = [std::mem::MaybeUninit::<Event>::uninit(); 1];
        wasi::poll_oneoff(std::ptr::null(), events.as_mut_ptr().cast(), 0)
    };
    g.errno("poll_oneoff(no subscriptions)", r, wasi::ERRNO_INVAL);

    // One relative clock on each clock that can be waited on.
    for (name, id) in [
        ("MONOTONIC", CLOCKID_MONOTONIC),
        ("REALTIME", CLOCKID_REALTIME),
    ] {
        let Polled { events, took } = g.must(
            &format!("poll_oneoff({name} +20 ms)"),
            poll_oneoff(&[clock_sub(7, id, 20 * MS, false)]),
        );
        g.eq(
            &format!("{name} +20 ms event"),
            clock_only(&events),
            vec![(7, "SUCCESS", "CLOCK")],
        );
        g.that(
            &format!("{name} +20 ms waited"),
            (20 * MS..5_000 * MS).contains(&took),
            took,
            "20 ms .. 5 s",
        );
    }

    // Absolute deadlines: in the future, and in the past (at once).
    let deadline = now(CLOCKID_MONOTONIC) + 30 * MS;
    let Polled { events, .. } = g.must(
        "poll_oneoff(MONOTONIC at now+30 ms)",
        poll_oneoff(&[clock_sub(1, CLOCKID_MONOTONIC, deadline, true)]),
    );
    g.eq(
        "MONOTONIC absolute event",
        clock_only(&events),
        vec![(1, "SUCCESS", "CLOCK")],
    );
    let after = now(CLOCKID_MONOTONIC);
    g.that(
        "woke at or after the deadline",
        after >= deadline,
        (deadline, after),
        ">= deadline",
    );
    let deadline = now(CLOCKID_REALTIME) + 30 * MS;
    let Polled { events, .. } = g.must(
        "poll_oneoff(REALTIME at now+30 ms)",
        poll_oneoff(&[clock_sub(2, CLOCKID_REALTIME, deadline, true)]),
    );
    g.eq(
        "REALTIME absolute event",
        clock_only(&events),
        vec![(2, "SUCCESS", "CLOCK")],
    );
    let after = now(CLOCKID_REALTIME);
    g.that(
        "woke at or after the realtime deadline",
        after + MS >= deadline,
        (deadline, after),
        ">= deadline",
    );
    let Polled { events, took } = g.must(
        "poll_oneoff(MONOTONIC at 0, in the past)",
        poll_oneoff(&[clock_sub(3, CLOCKID_MONOTONIC, 0, true)]),
    );
    g.eq(
        "past deadline event",
        clock_only(&events),
        vec![(3, "SUCCESS", "CLOCK")],
    );
    g.that(
        "a past deadline does not wait",
        took < 1_000 * MS,
        took,
        "< 1 s",
    );
    let Polled { events, took } = g.must(
        "poll_oneoff(MONOTONIC +0)",
        poll_oneoff(&[clock_sub(4, CLOCKID_MONOTONIC, 0, false)]),
    );
    g.eq(
        "+0 event",
        clock_only(&events),
        vec![(4, "SUCCESS", "CLOCK")],
    );
    g.that("+0 does not wait", took < 1_000 * MS, took, "< 1 s");

    // Several clocks: only the first to expire is reported.
    let Polled { events, took } = g.must(
        "poll_oneoff(+10 ms, +10 s)",
        poll_oneoff(&[
            clock_sub(10, CLOCKID_MONOTONIC, 10 * MS, false),
            clock_sub(11, CLOCKID_MONOTONIC, 10_000 * MS, false),
        ]),
    );
    g.eq(
        "only the +10 ms clock",
        clock_only(&events),
        vec![(10, "SUCCESS", "CLOCK")],
    );
    g.that("did not wait for +10 s", took < 5_000 * MS, took, "< 5 s");

    // The CPU-time clocks cannot be waited on.
    g.errno(
        "poll_oneoff(PROCESS_CPUTIME_ID)",
        poll_oneoff(&[clock_sub(5, CLOCKID_PROCESS_CPUTIME_ID, MS, false)]),
        wasi::ERRNO_INVAL,
    );

    // Regular files are always ready; a read event counts the bytes left.
    let Opened(fd) = g.must(
        "path_open(hello.txt)",
        open(dir, "hello.txt", 0, FILE_RIGHTS),
    );
    g.eq("fd_seek(3)", seek(fd, 3, wasi::WHENCE_SET), Ok(3));
    let Polled { events, took } = g.must(
        "poll_oneoff(FD_READ hello.txt, +10 s)",
        poll_oneoff(&[
            fd_sub(20, fd, true),
            clock_sub(21, CLOCKID_MONOTONIC, 10_000 * MS, false),
        ]),
    );
    g.eq(
        "file read event: 10 bytes left",
        events,
        vec![ev(20, "FD_READ", 10, false)],
    );
    g.that(
        "a ready file does not wait",
        took < 5_000 * MS,
        took,
        "< 5 s",
    );
    let Polled { events, .. } = g.must(
        "poll_oneoff(FD_WRITE hello.txt)",
        poll_oneoff(&[fd_sub(22, fd, false)]),
    );
    g.eq(
        "file write event",
        clock_only(&events),
        vec![(22, "SUCCESS", "FD_WRITE")],
    );
    let Polled { events, .. } = g.must(
        "poll_oneoff(FD_READ, FD_WRITE on hello.txt)",
        poll_oneoff(&[fd_sub(23, fd, true), fd_sub(24, fd, false)]),
    );
    g.eq(
        "both events",
        clock_only(&events),
        vec![(23, "SUCCESS", "FD_READ"), (24, "SUCCESS", "FD_WRITE")],
    );

    // stdout (a pipe with room) is ready for writing.
    let Polled { events, .. } = g.must(
        "poll_oneoff(FD_WRITE stdout)",
        poll_oneoff(&[fd_sub(30, 1, false)]),
    );
    g.eq(
        "stdout write event",
        clock_only(&events),
        vec![(30, "SUCCESS", "FD_WRITE")],
    );

    // stdin (a pipe nobody writes to) is not ready: the clock fires.
    let Polled { events, took } = g.must(
        "poll_oneoff(FD_READ stdin, +50 ms)",
        poll_oneoff(&[
            fd_sub(40, 0, true),
            clock_sub(41, CLOCKID_MONOTONIC, 50 * MS, false),
        ]),
    );
    g.eq(
        "only the clock",
        clock_only(&events),
        vec![(41, "SUCCESS", "CLOCK")],
    );
    g.that("waited for the clock", took >= 50 * MS, took, ">= 50 ms");

    // The same pipe made non-blocking: reading says EAGAIN instead of waiting.
    // SAFETY (the raw calls): no pointers.
    g.ok("fd_fdstat_set_flags(stdin, NONBLOCK)", unsafe {
        wasi::fd_fdstat_set_flags(0, wasi::FDFLAGS_NONBLOCK)
    });
    g.eq(
        "stdin fdflags",
        fdstat(0).map(|s| s.fs_flags),
        Ok(wasi::FDFLAGS_NONBLOCK),
    );
    g.errno(
        "fd_read(stdin) with nothing in the pipe",
        read(0, 10),
        wasi::ERRNO_AGAIN,
    );
    g.ok("fd_fdstat_set_flags(stdin, 0)", unsafe {
        wasi::fd_fdstat_set_flags(0, 0)
    });

    // A bad descriptor is an event carrying EBADF, not a failed call.
    let Polled { events, .. } = g.must(
        "poll_oneoff(FD_READ 1234, FD_READ hello.txt)",
        poll_oneoff(&[fd_sub(50, 1234, true), fd_sub(51, fd, true)]),
    );
    g.eq(
        "EBADF event for the bad fd",
        clock_only(&events),
        vec![(50, "BADF", "FD_READ"), (51, "SUCCESS", "FD_READ")],
    );

    // Many subscriptions at once (more than fit in any small fixed array): 150 on the file,
    // 150 on stdout, and a clock that must not fire.
    let mut subs = Vec::new();
    for i in 0..150 {
        subs.push(fd_sub(1000 + i, fd, true));
        subs.push(fd_sub(2000 + i, 1, false));
    }
    subs.push(clock_sub(3000, CLOCKID_MONOTONIC, 10_000 * MS, false));
    let Polled { events, took } = g.must("poll_oneoff(301 subscriptions)", poll_oneoff(&subs));
    g.eq("300 events", events.len(), 300);
    let wrong: Vec<&Ev> = events
        .iter()
        .filter(|e| {
            let want = if e.userdata < 2000 {
                "FD_READ"
            } else {
                "FD_WRITE"
            };
            e.error != "SUCCESS" || e.kind != want || e.userdata >= 3000
        })
        .collect();
    g.eq(
        "every event is its subscription's",
        wrong,
        Vec::<&Ev>::new(),
    );
    g.that(
        "did not wait for the clock",
        took < 5_000 * MS,
        took,
        "< 5 s",
    );
    g.ok("fd_close(hello.txt)", close(fd));
}

fn poll_stdin(g: &mut Guest) {
    // Nothing written yet.
    let Polled { events, .. } = g.must(
        "poll_oneoff(FD_READ stdin, +50 ms) before data",
        poll_oneoff(&[
            fd_sub(1, 0, true),
            clock_sub(2, CLOCKID_MONOTONIC, 50 * MS, false),
        ]),
    );
    g.eq(
        "the clock, not stdin",
        clock_only(&events),
        vec![(2, "SUCCESS", "CLOCK")],
    );

    println!("send");
    let Polled { events, took } = g.must(
        "poll_oneoff(FD_READ stdin, +20 s) after send",
        poll_oneoff(&[
            fd_sub(1, 0, true),
            clock_sub(2, CLOCKID_MONOTONIC, 20_000 * MS, false),
        ]),
    );
    g.eq(
        "stdin readable with 5 bytes",
        events,
        vec![ev(1, "FD_READ", 5, false)],
    );
    g.that(
        "did not wait for the clock",
        took < 15_000 * MS,
        took,
        "< 15 s",
    );
    g.eq("fd_read(stdin)", read(0, 100), ok_bytes(b"hello"));

    println!("close");
    let Polled { events, .. } = g.must(
        "poll_oneoff(FD_READ stdin, +20 s) after close",
        poll_oneoff(&[
            fd_sub(1, 0, true),
            clock_sub(2, CLOCKID_MONOTONIC, 20_000 * MS, false),
        ]),
    );
    g.eq("stdin hung up", events, vec![ev(1, "FD_READ", 0, true)]);
    g.eq("fd_read(stdin) at end", read(0, 100), ok_bytes(b""));
}
