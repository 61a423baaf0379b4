//! `poll_oneoff`: clocks, files, pipes, errors.

use crate::guest::{ROOT, TempDir, clock_sub, fd_sub, setup, setup_with, wasi::*};
use std::time::{Duration, Instant};
use wasirun_wasi::Errno;

const REALTIME: u32 = 0;
const MONOTONIC: u32 = 1;
const CLOCK: u8 = 0;
const FD_READ_EVENT: u8 = 1;
const FD_WRITE_EVENT: u8 = 2;
const HANGUP: u16 = 1;

#[test]
fn no_subscriptions_is_einval() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    assert_eq!(g.poll_oneoff(&[]), Err(Errno::Inval));
}

#[test]
fn relative_sleeps() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    for id in [MONOTONIC, REALTIME] {
        let t = Instant::now();
        let events = g
            .poll_oneoff(&[clock_sub(7, id, 20_000_000, false)])
            .unwrap();
        assert!(t.elapsed() >= Duration::from_millis(20));
        assert_eq!(events, vec![(7, 0, CLOCK, 0, 0)]);
    }
    // The earliest of several clocks wakes the call, and only it fires.
    let t = Instant::now();
    let events = g
        .poll_oneoff(&[
            clock_sub(1, MONOTONIC, 5_000_000_000, false),
            clock_sub(2, MONOTONIC, 10_000_000, false),
        ])
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(events, vec![(2, 0, CLOCK, 0, 0)]);
    // Zero: at once.
    assert_eq!(
        g.poll_oneoff(&[clock_sub(3, MONOTONIC, 0, false)])
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn absolute_deadlines() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    let now = g.clock_time_get(MONOTONIC).unwrap();
    let t = Instant::now();
    let events = g
        .poll_oneoff(&[clock_sub(1, MONOTONIC, now + 20_000_000, true)])
        .unwrap();
    assert!(t.elapsed() >= Duration::from_millis(15));
    assert_eq!(events, vec![(1, 0, CLOCK, 0, 0)]);
    let wall = g.clock_time_get(REALTIME).unwrap();
    let t = Instant::now();
    let events = g
        .poll_oneoff(&[clock_sub(2, REALTIME, wall + 20_000_000, true)])
        .unwrap();
    assert!(t.elapsed() >= Duration::from_millis(15));
    assert_eq!(events, vec![(2, 0, CLOCK, 0, 0)]);
    // In the past: at once.
    let events = g
        .poll_oneoff(&[
            clock_sub(3, REALTIME, 1, true),
            clock_sub(4, MONOTONIC, 1, true),
        ])
        .unwrap();
    assert_eq!(events.len(), 2);
}

#[test]
fn cpu_time_clocks_cannot_be_waited_on() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    assert_eq!(
        g.poll_oneoff(&[clock_sub(1, 2, 1000, false)]),
        Err(Errno::Inval)
    );
    assert_eq!(
        g.poll_oneoff(&[clock_sub(1, 3, 1000, false)]),
        Err(Errno::Inval)
    );
}

#[test]
fn files_are_always_ready() {
    let dir = TempDir::new();
    std::fs::write(dir.join("f"), b"0123456789").unwrap();
    let mut g = setup(&dir);
    let fd = g.path_open(ROOT, 0, "f", 0, RW, 0, 0).unwrap();
    g.fd_seek(fd, 4, WHENCE_SET).unwrap();
    let mut events = g
        .poll_oneoff(&[
            fd_sub(1, fd, false),
            fd_sub(2, fd, true),
            clock_sub(3, MONOTONIC, 10_000_000_000, false),
        ])
        .unwrap();
    events.sort();
    assert_eq!(
        events,
        vec![(1, 0, FD_READ_EVENT, 6, 0), (2, 0, FD_WRITE_EVENT, 0, 0)]
    );
    // At the end: nothing left, and no hangup (`poll(2)` never says it of a file).
    g.fd_seek(fd, 0, WHENCE_END).unwrap();
    assert_eq!(
        g.poll_oneoff(&[fd_sub(1, fd, false)]).unwrap(),
        vec![(1, 0, FD_READ_EVENT, 0, 0)]
    );
}

#[test]
fn unknown_fds_give_an_ebadf_event() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    let events = g
        .poll_oneoff(&[fd_sub(9, 42, false), fd_sub(10, u32::MAX, true)])
        .unwrap();
    assert_eq!(
        events,
        vec![
            (9, Errno::Badf as u16, FD_READ_EVENT, 0, 0),
            (10, Errno::Badf as u16, FD_WRITE_EVENT, 0, 0)
        ]
    );
}

#[test]
fn strict_rights_give_an_enotcapable_event() {
    let dir = TempDir::new();
    std::fs::write(dir.join("f"), b"").unwrap();
    let mut g = setup_with(&dir, |b| {
        b.enforce_rights(true);
    });
    let fd = g.path_open(ROOT, 0, "f", 0, FD_READ, 0, 0).unwrap();
    let events = g.poll_oneoff(&[fd_sub(1, fd, false)]).unwrap();
    assert_eq!(
        events,
        vec![(1, Errno::Notcapable as u16, FD_READ_EVENT, 0, 0)]
    );
    let fd = g
        .path_open(ROOT, 0, "f", 0, FD_READ | POLL_FD_READWRITE, 0, 0)
        .unwrap();
    assert_eq!(g.poll_oneoff(&[fd_sub(1, fd, false)]).unwrap()[0].1, 0);
}

#[test]
fn pipes_wait_then_report_bytes_and_hangup() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    let (r, w) = rustix::pipe::pipe().unwrap();
    let rfd = g.add_fd(r);
    // Nothing to read: the clock fires first.
    let events = g
        .poll_oneoff(&[
            fd_sub(1, rfd, false),
            clock_sub(2, MONOTONIC, 10_000_000, false),
        ])
        .unwrap();
    assert_eq!(events, vec![(2, 0, CLOCK, 0, 0)]);
    // Data from another thread wakes the poll, with FIONREAD's count.
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        rustix::io::write(&w, b"12345").unwrap();
        w
    });
    let events = g.poll_oneoff(&[fd_sub(1, rfd, false)]).unwrap();
    assert_eq!(events, vec![(1, 0, FD_READ_EVENT, 5, 0)]);
    let w = writer.join().unwrap();
    let wfd = g.add_fd(w);
    // A write event does not count the room left.
    assert_eq!(
        g.poll_oneoff(&[fd_sub(1, wfd, true)]).unwrap(),
        vec![(1, 0, FD_WRITE_EVENT, 0, 0)]
    );
    g.fd_close(wfd).unwrap();
    let events = g.poll_oneoff(&[fd_sub(1, rfd, false)]).unwrap();
    assert_eq!(events, vec![(1, 0, FD_READ_EVENT, 5, HANGUP)]);
    assert_eq!(g.fd_read(rfd, &[10]).unwrap(), b"12345");
}

#[test]
fn many_subscriptions_beyond_the_inline_array() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    let (r, w) = rustix::pipe::pipe().unwrap();
    let rfd = g.add_fd(r);
    let wfd = g.add_fd(w);
    g.fd_write(wfd, &[b"x"]).unwrap();
    for n in [1usize, 63, 64, 65, 200] {
        let subs: Vec<_> = (0..n).map(|k| fd_sub(k as u64, rfd, false)).collect();
        let events = g.poll_oneoff(&subs).unwrap();
        assert_eq!(events.len(), n);
        assert!(events.iter().all(|e| e.3 == 1));
    }
}

/// One end of a connected socket pair handed to the guest (always writable, readable once
/// the test writes to the other end), and that other end.
fn socket_pair(g: &mut crate::guest::Guest) -> (u32, std::os::unix::net::UnixStream) {
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    (g.add_fd(ours), theirs)
}

#[test]
fn ignored_readiness_is_held_back_until_news() {
    let dir = TempDir::new();
    let mut g = setup_with(&dir, |b| {
        b.spin_wait(Duration::from_millis(300));
    });
    let (fd, mut peer) = socket_pair(&mut g);
    let subs = [fd_sub(1, fd, true), fd_sub(2, fd, false)];
    // Told once at once.
    assert_eq!(
        g.poll_oneoff(&subs).unwrap(),
        vec![(1, 0, FD_WRITE_EVENT, 0, 0)]
    );
    // Asked again with no call on a descriptor in between: the call waits for news, and with
    // none it answers the same after the wait.
    let t = Instant::now();
    assert_eq!(
        g.poll_oneoff(&subs).unwrap(),
        vec![(1, 0, FD_WRITE_EVENT, 0, 0)]
    );
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    // News ends the wait early, and the answer has it and the readiness held back.
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        std::io::Write::write_all(&mut peer, b"abc").unwrap();
        peer
    });
    let events = g.poll_oneoff(&subs).unwrap();
    let _peer = writer.join().unwrap();
    assert_eq!(
        events,
        vec![(1, 0, FD_WRITE_EVENT, 0, 0), (2, 0, FD_READ_EVENT, 3, 0)]
    );
}

#[test]
fn news_is_told_at_once_when_the_guest_ignored_the_last_answer() {
    let dir = TempDir::new();
    let mut g = setup_with(&dir, |b| {
        b.spin_wait(Duration::from_secs(60));
    });
    let (fd, mut peer) = socket_pair(&mut g);
    let subs = [fd_sub(1, fd, true), fd_sub(2, fd, false)];
    assert_eq!(
        g.poll_oneoff(&subs).unwrap(),
        vec![(1, 0, FD_WRITE_EVENT, 0, 0)]
    );
    // Bytes came before the next call: readable is news, though writable is not, and the
    // call answers at once with both (no call on a descriptor in between).
    std::io::Write::write_all(&mut peer, b"abc").unwrap();
    let t = Instant::now();
    assert_eq!(
        g.poll_oneoff(&subs).unwrap(),
        vec![(1, 0, FD_WRITE_EVENT, 0, 0), (2, 0, FD_READ_EVENT, 3, 0)]
    );
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
    // Both were told: the same again is held until the hold's end or news (here, a deadline).
    let t = Instant::now();
    let events = g
        .poll_oneoff(&[subs[0], subs[1], clock_sub(3, MONOTONIC, 20_000_000, false)])
        .unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(20),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(
        events,
        vec![
            (1, 0, FD_WRITE_EVENT, 0, 0),
            (2, 0, FD_READ_EVENT, 3, 0),
            (3, 0, CLOCK, 0, 0)
        ]
    );
}

#[test]
fn readiness_is_told_at_once_after_a_call_on_a_descriptor() {
    let dir = TempDir::new();
    let mut g = setup_with(&dir, |b| {
        b.spin_wait(Duration::from_secs(60));
    });
    let (fd, _peer) = socket_pair(&mut g);
    let subs = [fd_sub(1, fd, true), fd_sub(2, fd, false)];
    let t = Instant::now();
    for _ in 0..100 {
        assert_eq!(g.poll_oneoff(&subs).unwrap().len(), 1);
        // Any call on a descriptor between polls (a write would fill the socket's buffer,
        // which nobody reads here, and end its writability).
        g.fd_fdstat_get(fd).unwrap();
    }
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
}

#[test]
fn a_deadline_bounds_the_hold_and_zero_never_waits() {
    let dir = TempDir::new();
    let mut g = setup_with(&dir, |b| {
        b.spin_wait(Duration::from_secs(60));
    });
    let (fd, _peer) = socket_pair(&mut g);
    let write = fd_sub(1, fd, true);
    let t = Instant::now();
    for _ in 0..100 {
        let events = g
            .poll_oneoff(&[write, clock_sub(2, MONOTONIC, 0, false)])
            .unwrap();
        assert_eq!(events[0], (1, 0, FD_WRITE_EVENT, 0, 0));
    }
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
    // A deadline of the guest's ends the hold: the clock fires with the readiness held back.
    let t = Instant::now();
    let events = g
        .poll_oneoff(&[write, clock_sub(2, MONOTONIC, 20_000_000, false)])
        .unwrap();
    assert!(t.elapsed() >= Duration::from_millis(20));
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
    assert_eq!(
        events,
        vec![(1, 0, FD_WRITE_EVENT, 0, 0), (2, 0, CLOCK, 0, 0)]
    );
}

#[test]
fn files_are_not_held_and_zero_turns_holding_off() {
    let dir = TempDir::new();
    std::fs::write(dir.path().join("f"), b"data").unwrap();
    let mut g = setup_with(&dir, |b| {
        b.spin_wait(Duration::from_secs(60));
    });
    let file = g
        .path_open(ROOT, 0, "f", 0, FD_READ | POLL_FD_READWRITE, 0, 0)
        .unwrap();
    let t = Instant::now();
    for _ in 0..100 {
        assert_eq!(g.poll_oneoff(&[fd_sub(1, file, false)]).unwrap().len(), 1);
    }
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
    let mut g = setup_with(&dir, |b| {
        b.spin_wait(Duration::ZERO);
    });
    let (fd, _peer) = socket_pair(&mut g);
    let t = Instant::now();
    for _ in 0..100 {
        assert_eq!(g.poll_oneoff(&[fd_sub(1, fd, true)]).unwrap().len(), 1);
    }
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
}

#[test]
fn the_default_hold_is_a_millisecond() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    let (fd, _peer) = socket_pair(&mut g);
    let t = Instant::now();
    for _ in 0..101 {
        g.poll_oneoff(&[fd_sub(1, fd, true)]).unwrap();
    }
    // The first is answered at once, each of the next 100 after a millisecond's hold.
    assert!(
        t.elapsed() >= Duration::from_millis(100),
        "{:?}",
        t.elapsed()
    );
}
