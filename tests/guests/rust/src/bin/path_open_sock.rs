//! Sockets made by `path_open` from URLs, as `wasirun --sockets path_open` allows.
//!
//! Scenarios (`path_open_sock SCENARIO [ARGS...]`, no preopen: the dir fd of a socket URL is
//! ignored, so fd 3 is passed whether or not it is open):
//!
//! - `dial PORT`: opens `tcp+dial://127.0.0.1:PORT`, sends "hello", receives the host's reply.
//! - `listen PORT`: opens `tcp+listen://127.0.0.1:PORT`, prints `listening: ok`, accepts one
//!   connection, receives "ping" and echoes it back.
//! - `nonblock-dial PORT`: opens `tcp+dial://127.0.0.1:PORT?nonblock=1` with the NONBLOCK fd
//!   flag, then polls for FD_WRITE until the connection is writable.
//! - `refused PORT`: the dial the network policy refuses: `ACCES`.
//! - `no-port`: `tcp+dial://127.0.0.1`, a URL without a port: `INVAL`.
//! - `not-a-socket PORT`: the dial URL without `--sockets path_open`: a file name, so a file
//!   error, not a socket.

use wasirun_test_guests::*;

/// The dir fd passed with a socket URL (ignored by the host).
const DIR: wasi::Fd = 3;

fn main() {
    let mut g = Guest::start_without_preopen();
    match g.scenario.as_str() {
        "dial" => dial(&mut g),
        "listen" => listen(&mut g),
        "nonblock-dial" => nonblock_dial(&mut g),
        "refused" => refused(&mut g),
        "no-port" => no_port(&mut g),
        "not-a-socket" => not_a_socket(&mut g),
        _ => g.unknown(),
    }
    g.finish()
}

/// `path_open(3, URL)` with every right and `fdflags`.
fn open_url(url: &str, fdflags: wasi::Fdflags) -> R<Opened> {
    // SAFETY: no pointers beyond the path, which the binding passes with its length.
    unsafe { wasi::path_open(DIR, 0, url, 0, ALL_RIGHTS, ALL_RIGHTS, fdflags).map(Opened) }
}

/// `sock_recv` into a buffer of `n` bytes: what came.
fn recv(fd: wasi::Fd, n: usize, flags: wasi::Riflags) -> R<Bytes> {
    let mut buf = vec![0u8; n];
    let iov = [wasi::Iovec {
        buf: buf.as_mut_ptr(),
        buf_len: buf.len(),
    }];
    // SAFETY: the iovec describes `buf`.
    let (got, _) = unsafe { wasi::sock_recv(fd, &iov, flags)? };
    buf.truncate(got);
    Ok(Bytes(buf))
}

/// `sock_send` of `data`.
fn send(fd: wasi::Fd, data: &[u8]) -> R<usize> {
    let iov = [wasi::Ciovec {
        buf: data.as_ptr(),
        buf_len: data.len(),
    }];
    // SAFETY: the ciovec describes `data`.
    unsafe { wasi::sock_send(fd, &iov, 0) }
}

/// One `poll_oneoff` on FD_WRITE of `fd` with a 10 s timeout: the event's type and error.
fn poll_write(fd: wasi::Fd) -> R<(u8, Errno)> {
    let subs = [
        wasi::Subscription {
            userdata: 1,
            u: wasi::SubscriptionU {
                tag: wasi::EVENTTYPE_FD_WRITE.raw(),
                u: wasi::SubscriptionUU {
                    fd_write: wasi::SubscriptionFdReadwrite {
                        file_descriptor: fd,
                    },
                },
            },
        },
        wasi::Subscription {
            userdata: 2,
            u: wasi::SubscriptionU {
                tag: wasi::EVENTTYPE_CLOCK.raw(),
                u: wasi::SubscriptionUU {
                    clock: wasi::SubscriptionClock {
                        id: wasi::CLOCKID_MONOTONIC,
                        timeout: 10_000_000_000,
                        precision: 0,
                        flags: 0,
                    },
                },
            },
        },
    ];
    let mut events = [std::mem::MaybeUninit::<wasi::Event>::uninit(); 2];
    // SAFETY: two subscriptions, room for two events.
    unsafe {
        let n = wasi::poll_oneoff(subs.as_ptr(), events.as_mut_ptr().cast(), 2)?;
        assert!(n >= 1);
        let e = events[0].assume_init();
        if e.userdata != 1 {
            // The clock: not writable within 10 s.
            return Err(wasi::ERRNO_TIMEDOUT);
        }
        Ok((e.type_.raw(), e.error))
    }
}

fn port(g: &Guest) -> &str {
    g.arg(0)
}

fn dial(g: &mut Guest) {
    let url = format!("tcp+dial://127.0.0.1:{}", port(g));
    let Opened(fd) = g.must("path_open(dial)", open_url(&url, 0));
    g.eq(
        "dialed: a stream socket",
        fdstat(fd).map(|s| filetype_name(s.fs_filetype)),
        Ok("SOCKET_STREAM"),
    );
    g.eq("sock_send(hello)", send(fd, b"hello"), Ok(5));
    g.ok(
        "sock_shutdown(WR)",
        // SAFETY: no pointers.
        unsafe { wasi::sock_shutdown(fd, wasi::SDFLAGS_WR) },
    );
    if let Some(reply) = g.ok("sock_recv", recv(fd, 64, wasi::RIFLAGS_RECV_WAITALL)) {
        g.report("reply", String::from_utf8_lossy(&reply.0));
    }
    g.ok("fd_close", close(fd));
}

fn listen(g: &mut Guest) {
    let url = format!("tcp+listen://127.0.0.1:{}?backlog=4", port(g));
    let Opened(l) = g.must("path_open(listen)", open_url(&url, 0));
    g.eq(
        "listener: a stream socket",
        fdstat(l).map(|s| filetype_name(s.fs_filetype)),
        Ok("SOCKET_STREAM"),
    );
    g.report("listening", "ok");
    // SAFETY: no pointers.
    let Opened(conn) = g.must(
        "sock_accept",
        unsafe { wasi::sock_accept(l, 0) }.map(Opened),
    );
    g.eq(
        "sock_recv(ping)",
        recv(conn, 4, wasi::RIFLAGS_RECV_WAITALL),
        ok_bytes(b"ping"),
    );
    g.eq("sock_send(ping)", send(conn, b"ping"), Ok(4));
    g.ok("fd_close(accepted)", close(conn));
    g.ok("fd_close(listener)", close(l));
}

fn nonblock_dial(g: &mut Guest) {
    let url = format!("tcp+dial://127.0.0.1:{}?nonblock=1", port(g));
    let Opened(fd) = g.must(
        "path_open(dial, NONBLOCK)",
        open_url(&url, wasi::FDFLAGS_NONBLOCK),
    );
    g.eq(
        "dialed: NONBLOCK",
        fdstat(fd).map(|s| s.fs_flags & wasi::FDFLAGS_NONBLOCK),
        Ok(wasi::FDFLAGS_NONBLOCK),
    );
    // Until the connection is made, FD_WRITE is not ready; a few rounds at most.
    let mut got = poll_write(fd);
    for _ in 0..5 {
        if got.is_ok() {
            break;
        }
        got = poll_write(fd);
    }
    match got {
        Ok((ty, err)) => {
            g.eq("event type", ty, wasi::EVENTTYPE_FD_WRITE.raw());
            g.report("event error", err.raw());
            g.eq(
                "event error is SUCCESS",
                err.raw(),
                wasi::ERRNO_SUCCESS.raw(),
            );
        }
        Err(e) => {
            g.errno(
                "poll_oneoff(FD_WRITE)",
                Err::<(), _>(e),
                wasi::ERRNO_SUCCESS,
            );
        }
    }
    g.eq("sock_send(hi)", send(fd, b"hi"), Ok(2));
    g.ok("fd_close", close(fd));
}

fn refused(g: &mut Guest) {
    let url = format!("tcp+dial://127.0.0.1:{}", port(g));
    g.errno("path_open(dial)", open_url(&url, 0), wasi::ERRNO_ACCES);
    let url = format!("tcp+listen://127.0.0.1:{}", port(g));
    g.errno("path_open(listen)", open_url(&url, 0), wasi::ERRNO_ACCES);
}

fn no_port(g: &mut Guest) {
    g.errno(
        "path_open(tcp+dial://127.0.0.1)",
        open_url("tcp+dial://127.0.0.1", 0),
        wasi::ERRNO_INVAL,
    );
}

fn not_a_socket(g: &mut Guest) {
    let url = format!("tcp+dial://127.0.0.1:{}", port(g));
    let r = open_url(&url, 0);
    g.report("path_open(dial) outcome", outcome(&r));
    g.that(
        "path_open(dial) fails with a file error",
        matches!(
            r,
            Err(e) if e == wasi::ERRNO_BADF || e == wasi::ERRNO_NOENT || e == wasi::ERRNO_NOTCAPABLE
        ),
        outcome(&r),
        "BADF, NOENT or NOTCAPABLE",
    );
}
