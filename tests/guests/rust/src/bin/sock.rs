//! Sockets. Preview 1 cannot make them: the host hands the guest one as its stdin.
//!
//! Scenarios (`sock SCENARIO`, no preopen):
//!
//! - `stream`: stdin is one end of a connected Unix stream socket; the host has written "ping"
//!   into the other end. Polls, peeks, receives, sends "pong", shuts down writing, then
//!   receives the end of the stream once the host closes its end.
//! - `accept`: stdin is a listening TCP socket with one connection waiting, whose peer has
//!   written "hi". Accepts it, receives, sends "bye", shuts it down.

use wasirun_test_guests::*;

fn main() {
    let mut g = Guest::start_without_preopen();
    match g.scenario.as_str() {
        "stream" => stream(&mut g),
        "accept" => accept(&mut g),
        _ => g.unknown(),
    }
    g.finish()
}

/// `sock_recv` into a buffer of `n` bytes: what came, and the output flags.
fn recv(fd: wasi::Fd, n: usize, flags: wasi::Riflags) -> R<(usize, u16, Bytes)> {
    let mut buf = vec![0u8; n];
    let iov = [wasi::Iovec {
        buf: buf.as_mut_ptr(),
        buf_len: buf.len(),
    }];
    // SAFETY: the iovec describes `buf`.
    let (got, roflags) = unsafe { wasi::sock_recv(fd, &iov, flags)? };
    buf.truncate(got);
    Ok((got, roflags, Bytes(buf)))
}

/// `sock_send` of `data` with `flags`.
fn send(fd: wasi::Fd, data: &[u8], flags: wasi::Siflags) -> R<usize> {
    let iov = [wasi::Ciovec {
        buf: data.as_ptr(),
        buf_len: data.len(),
    }];
    // SAFETY: the ciovec describes `data`.
    unsafe { wasi::sock_send(fd, &iov, flags) }
}

fn shutdown(fd: wasi::Fd, how: wasi::Sdflags) -> R<()> {
    // SAFETY: no pointers.
    unsafe { wasi::sock_shutdown(fd, how) }
}

/// Waits up to 10 s for `fd` to be readable: the bytes `poll_oneoff` says are ready.
fn poll_read(fd: wasi::Fd) -> R<u64> {
    let subs = [wasi::Subscription {
        userdata: 1,
        u: wasi::SubscriptionU {
            tag: wasi::EVENTTYPE_FD_READ.raw(),
            u: wasi::SubscriptionUU {
                fd_read: wasi::SubscriptionFdReadwrite {
                    file_descriptor: fd,
                },
            },
        },
    }];
    let mut events = [std::mem::MaybeUninit::<wasi::Event>::uninit(); 1];
    // SAFETY: one subscription, room for one event.
    unsafe {
        let n = wasi::poll_oneoff(subs.as_ptr(), events.as_mut_ptr().cast(), 1)?;
        assert_eq!(n, 1);
        let e = events[0].assume_init();
        if e.error != wasi::ERRNO_SUCCESS {
            return Err(e.error);
        }
        Ok(e.fd_readwrite.nbytes)
    }
}

fn stream(g: &mut Guest) {
    let st = g.must("fd_fdstat_get(0)", fdstat(0));
    g.eq(
        "stdin is a stream socket",
        filetype_name(st.fs_filetype),
        "SOCKET_STREAM",
    );
    g.that(
        "socket rights include SOCK_SHUTDOWN",
        st.fs_rights_base & wasi::RIGHTS_SOCK_SHUTDOWN != 0,
        format!("{:#x}", st.fs_rights_base),
        "SOCK_SHUTDOWN",
    );
    g.eq(
        "fd_filestat_get(0) type",
        fstat(0).map(|s| filetype_name(s.filetype)),
        Ok("SOCKET_STREAM"),
    );
    g.eq("poll_oneoff(FD_READ): 4 bytes ready", poll_read(0), Ok(4));
    g.eq(
        "sock_recv(RECV_PEEK)",
        recv(0, 2, wasi::RIFLAGS_RECV_PEEK),
        Ok((2, 0, Bytes(b"pi".to_vec()))),
    );
    g.eq(
        "sock_recv(RECV_WAITALL) after a peek gets it all",
        recv(0, 4, wasi::RIFLAGS_RECV_WAITALL),
        Ok((4, 0, Bytes(b"ping".to_vec()))),
    );
    g.errno("sock_send(flags 1)", send(0, b"x", 1), wasi::ERRNO_INVAL);
    g.eq("sock_send(pong)", send(0, b"po", 0), Ok(2));
    g.eq("fd_write works on a socket too", write(0, b"ng"), Ok(2));
    g.errno(
        "sock_shutdown(no direction)",
        shutdown(0, 0),
        wasi::ERRNO_INVAL,
    );
    g.ok("sock_shutdown(WR)", shutdown(0, wasi::SDFLAGS_WR));
    g.errno(
        "sock_send after shutting down writing",
        send(0, b"late", 0),
        wasi::ERRNO_PIPE,
    );
    // The host reads "pong" to the end, then closes its end.
    g.eq(
        "sock_recv at the end of the stream",
        recv(0, 10, 0),
        Ok((0, 0, Bytes::default())),
    );
    g.errno(
        "fd_seek on a socket",
        seek(0, 0, wasi::WHENCE_CUR),
        wasi::ERRNO_SPIPE,
    );
    g.errno(
        "sock_accept on a connected socket",
        unsafe { wasi::sock_accept(0, 0) }.map(Opened),
        wasi::ERRNO_INVAL,
    );
}

fn accept(g: &mut Guest) {
    let st = g.must("fd_fdstat_get(0)", fdstat(0));
    g.eq(
        "stdin is a stream socket",
        filetype_name(st.fs_filetype),
        "SOCKET_STREAM",
    );
    g.errno(
        "sock_accept(APPEND) is not a flag it takes",
        unsafe { wasi::sock_accept(0, wasi::FDFLAGS_APPEND) }.map(Opened),
        wasi::ERRNO_INVAL,
    );
    // NONBLOCK is a flag of the new socket (accept4's SOCK_NONBLOCK), not of the accept.
    // SAFETY (the raw calls below): no pointers.
    let Opened(conn) = g.must(
        "sock_accept(0, NONBLOCK)",
        unsafe { wasi::sock_accept(0, wasi::FDFLAGS_NONBLOCK) }.map(Opened),
    );
    let st = g.must("fd_fdstat_get(accepted)", fdstat(conn));
    g.eq(
        "accepted: a stream socket",
        filetype_name(st.fs_filetype),
        "SOCKET_STREAM",
    );
    g.eq(
        "accepted: NONBLOCK",
        st.fs_flags & wasi::FDFLAGS_NONBLOCK,
        wasi::FDFLAGS_NONBLOCK,
    );
    g.ok("fd_fdstat_set_flags(accepted, 0)", unsafe {
        wasi::fd_fdstat_set_flags(conn, 0)
    });
    g.eq(
        "accepted: blocking now",
        fdstat(conn).map(|s| s.fs_flags),
        Ok(0),
    );
    g.eq(
        "sock_recv(accepted)",
        recv(conn, 2, wasi::RIFLAGS_RECV_WAITALL),
        Ok((2, 0, Bytes(b"hi".to_vec()))),
    );
    g.eq("sock_send(bye)", send(conn, b"bye", 0), Ok(3));
    g.ok(
        "sock_shutdown(RD|WR)",
        shutdown(conn, wasi::SDFLAGS_RD | wasi::SDFLAGS_WR),
    );
    g.ok("fd_close(accepted)", close(conn));
    // No second connection is waiting: a non-blocking listener says so.
    g.ok("fd_fdstat_set_flags(0, NONBLOCK)", unsafe {
        wasi::fd_fdstat_set_flags(0, wasi::FDFLAGS_NONBLOCK)
    });
    g.errno(
        "sock_accept on a non-blocking listener with nothing waiting",
        unsafe { wasi::sock_accept(0, 0) }.map(Opened),
        wasi::ERRNO_AGAIN,
    );
    g.errno(
        "sock_recv on a listening socket",
        recv(0, 1, 0).map(drop),
        wasi::ERRNO_NOTCONN,
    );
}
