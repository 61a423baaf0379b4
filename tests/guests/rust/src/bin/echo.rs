//! An echo server on the listener the host preopens as fd 3, for the `echo` benchmark (what an
//! async guest pays for its poll path against a blocking one on the same host).
//!
//! `echo std` serves with blocking `std::net` calls (`sock_recv`/`sock_send` that wait in the
//! host); `echo tokio` with tokio's current-thread runtime, whose mio driver waits in
//! `poll_oneoff`. Either accepts one connection and sends back what it reads until the client
//! closes it, then exits 0.

use std::io::{Read, Write};
use std::os::fd::FromRawFd;

/// The descriptor of the host's listener.
const LISTENER: i32 = 3;

fn main() {
    // SAFETY: fd 3 is the listener the host preopened; nothing else in the program owns it.
    let listener = unsafe { std::net::TcpListener::from_raw_fd(LISTENER) };
    match std::env::args().nth(1).as_deref() {
        Some("std") => blocking(listener),
        Some("tokio") => with_tokio(listener),
        _ => {
            println!("usage: echo std|tokio");
            std::process::exit(2)
        }
    }
}

fn blocking(listener: std::net::TcpListener) {
    let (mut conn, _) = listener.accept().expect("accept");
    let mut buf = [0u8; 4096];
    loop {
        let n = conn.read(&mut buf).expect("read");
        if n == 0 {
            return;
        }
        conn.write_all(&buf[..n]).expect("write");
    }
}

#[tokio::main(flavor = "current_thread")]
async fn with_tokio(listener: std::net::TcpListener) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    listener.set_nonblocking(true).expect("nonblocking");
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio takes the listener");
    let (mut conn, _) = listener.accept().await.expect("accept");
    let mut buf = [0u8; 4096];
    loop {
        let n = conn.read(&mut buf).await.expect("read");
        if n == 0 {
            return;
        }
        conn.write_all(&buf[..n]).await.expect("write");
    }
}
