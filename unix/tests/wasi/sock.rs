//! Sockets handed to the guest: accept, recv, send, shutdown, and poll on them.

use crate::guest::{ROOT, TempDir, fd_sub, setup, wasi::*};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use wasirun_wasi::Errno;

const RECV_PEEK: u16 = 1;
const SHUT_RD: u8 = 1;
const SHUT_WR: u8 = 2;

#[test]
fn accept_recv_send_shutdown() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let lfd = g.add_fd(listener);
    let (filetype, _, base, inheriting) = g.fd_fdstat_get(lfd).unwrap();
    assert_eq!(filetype, FILETYPE_SOCKET_STREAM);
    assert!(base & SOCK_ACCEPT != 0);
    assert!(inheriting & (RW | SOCK_SHUTDOWN) == RW | SOCK_SHUTDOWN);
    // Nothing pending on a non-blocking listener: EAGAIN. Flags other than NONBLOCK (for the
    // new socket) are EINVAL.
    g.fd_fdstat_set_flags(lfd, NONBLOCK).unwrap();
    assert_eq!(g.sock_accept(lfd, 0), Err(Errno::Again));
    assert_eq!(g.sock_accept(lfd, APPEND), Err(Errno::Inval));
    g.fd_fdstat_set_flags(lfd, 0).unwrap();
    let mut peer = TcpStream::connect(addr).unwrap();
    // The listener polls readable once a connection waits.
    assert_eq!(g.poll_oneoff(&[fd_sub(1, lfd, false)]).unwrap()[0].1, 0);
    let conn = g.sock_accept(lfd, NONBLOCK).unwrap();
    assert_eq!(g.fd_fdstat_get(conn).unwrap().1, NONBLOCK);
    assert_eq!(g.sock_recv(conn, 1, 0).err(), Some(Errno::Again));
    g.fd_fdstat_set_flags(conn, 0).unwrap();
    assert_eq!(g.fd_fdstat_get(conn).unwrap().0, FILETYPE_SOCKET_STREAM);
    assert_eq!(
        g.fd_filestat_get(conn).unwrap().filetype,
        FILETYPE_SOCKET_STREAM
    );
    peer.write_all(b"hello").unwrap();
    let events = g.poll_oneoff(&[fd_sub(1, conn, false)]).unwrap();
    assert_eq!(events[0].3, 5, "FIONREAD");
    assert_eq!(
        g.sock_recv(conn, 2, RECV_PEEK).unwrap(),
        (b"he".to_vec(), 0)
    );
    assert_eq!(g.sock_recv(conn, 100, 0).unwrap(), (b"hello".to_vec(), 0));
    assert_eq!(g.sock_send(conn, b"world", 0).unwrap(), 5);
    assert_eq!(
        g.sock_send(conn, b"x", 1),
        Err(Errno::Inval),
        "no send flags exist"
    );
    let mut buf = [0; 5];
    peer.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"world");
    // fd_read and fd_write work on sockets too.
    g.fd_write(conn, &[b"!"]).unwrap();
    peer.read_exact(&mut buf[..1]).unwrap();
    assert_eq!(g.sock_shutdown(conn, 0), Err(Errno::Inval));
    g.sock_shutdown(conn, SHUT_WR).unwrap();
    assert_eq!(peer.read(&mut buf).unwrap(), 0, "the peer sees the end");
    assert_eq!(
        g.sock_send(conn, b"late", 0),
        Err(Errno::Pipe),
        "EPIPE, not SIGPIPE"
    );
    g.sock_shutdown(conn, SHUT_RD).unwrap();
    drop(peer);
}

#[test]
fn hangup_is_reported() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    let (ours, theirs) = UnixStream::pair().unwrap();
    let fd = g.add_fd(ours);
    drop(theirs);
    let events = g.poll_oneoff(&[fd_sub(1, fd, false)]).unwrap();
    assert_eq!(events[0].4 & 1, 1, "FD_READWRITE_HANGUP");
    assert_eq!(g.sock_recv(fd, 10, 0).unwrap(), (vec![], 0));
}

#[test]
fn datagrams_cut_to_fit_say_so() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    let (ours, theirs) = std::os::unix::net::UnixDatagram::pair().unwrap();
    let fd = g.add_fd(ours);
    assert_eq!(g.fd_fdstat_get(fd).unwrap().0, 5, "SOCKET_DGRAM");
    theirs.send(b"0123456789").unwrap();
    assert_eq!(
        g.sock_recv(fd, 4, 0).unwrap(),
        (b"0123".to_vec(), 1),
        "RECV_DATA_TRUNCATED"
    );
}

#[test]
fn socket_calls_on_files_are_enotsock() {
    let dir = TempDir::new();
    std::fs::write(dir.join("f"), b"").unwrap();
    let mut g = setup(&dir);
    let f = g.path_open(ROOT, 0, "f", 0, RW, 0, 0).unwrap();
    assert_eq!(g.sock_recv(f, 1, 0).err(), Some(Errno::Notsock));
    assert_eq!(g.sock_send(f, b"x", 0), Err(Errno::Notsock));
    assert_eq!(g.sock_shutdown(f, SHUT_WR), Err(Errno::Notsock));
    assert_eq!(g.sock_accept(f, 0), Err(Errno::Notsock));
}

/// `RECV_WAITALL` on a blocking stream waits for the rest when the data comes in pieces.
#[test]
fn recv_waitall_waits_for_every_byte() {
    const RECV_WAITALL: u16 = 2;
    let dir = TempDir::new();
    let mut g = setup(&dir);
    let (ours, mut peer) = UnixStream::pair().unwrap();
    let fd = g.add_fd(ours);
    peer.write_all(b"hel").unwrap();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(50));
        peer.write_all(b"lo").unwrap();
        peer
    });
    assert_eq!(
        g.sock_recv(fd, 5, RECV_WAITALL).unwrap(),
        (b"hello".to_vec(), 0)
    );
    drop(writer.join().unwrap());
}

/// A blocking `fd_write` bigger than a pipe's buffer writes all of it, as `write(2)` does,
/// though each try goes without waiting (so that a stop can wake the wait between).
#[test]
fn a_blocking_write_to_a_pipe_writes_all_of_it() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    let (mut read, write) = std::io::pipe().unwrap();
    let fd = g.add_fd(write);
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            std::thread::sleep(std::time::Duration::from_micros(200));
            match read.read(&mut buf).unwrap() {
                0 => return all,
                n => all.extend_from_slice(&buf[..n]),
            }
        }
    });
    let (a, b) = (vec![b'a'; 100_000], vec![b'b'; 50_000]);
    assert_eq!(g.fd_write(fd, &[&a, &b]).unwrap(), 150_000);
    drop(g);
    let all = reader.join().unwrap();
    assert_eq!(all.len(), 150_000);
    assert!(all[..100_000].iter().all(|&c| c == b'a'));
    assert!(all[100_000..].iter().all(|&c| c == b'b'));
}

#[test]
fn a_socket_the_embedder_made_is_preopened_after_the_directories() {
    let dir = TempDir::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut g = crate::guest::setup_with(&dir, |b| {
        b.preopen_socket_fd(listener);
    });
    // fd 3 is the directory, fd 4 the listener.
    let lfd = ROOT + 1;
    assert_eq!(g.fd_fdstat_get(lfd).unwrap().0, FILETYPE_SOCKET_STREAM);
    let mut peer = TcpStream::connect(addr).unwrap();
    let conn = g.sock_accept(lfd, 0).unwrap();
    peer.write_all(b"hi").unwrap();
    assert_eq!(g.sock_recv(conn, 2, 0).unwrap().0, b"hi");
}
