//! tokio on wasip1, over a listening socket the host preopens (`wasirun --listen ADDR`): no
//! socket extension, only preview 1's `sock_accept`, `sock_recv`, `sock_send` and
//! `poll_oneoff`, which is how mio drives its event loop there.
//!
//! `tokio_server N`: takes the listener from fd 3 (the first preopen when there is no `--dir`),
//! accepts N connections, serving each in its own task (read a line, write it back, close),
//! while an interval task ticks every 5 ms. When all N are served it prints `served: N`,
//! `failed: F` (connections whose task failed) and `ticks: T`, and exits 0 (1 when one
//! failed). A server that served its clients one after the other would hang on the host's test
//! (`runner/tests/sockets_wasmedge.rs`), which answers the last client first.

use std::os::fd::FromRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// The descriptor of the host's listener.
const LISTENER: i32 = 3;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: usize = match std::env::args().nth(1).map(|a| a.parse()) {
        Some(Ok(n)) => n,
        _ => {
            println!("usage: tokio_server N");
            std::process::exit(2)
        }
    };
    // SAFETY: fd 3 is the listener the host preopened; nothing else in the program owns it.
    let listener = unsafe { std::net::TcpListener::from_raw_fd(LISTENER) };
    // tokio polls: its sockets must not block.
    listener
        .set_nonblocking(true)
        .expect("fd_fdstat_set_flags(3, NONBLOCK)");
    let listener = TcpListener::from_std(listener).expect("tokio takes the listener");

    let ticks = Arc::new(AtomicU64::new(0));
    let ticker = tokio::spawn({
        let ticks = ticks.clone();
        async move {
            let mut interval = tokio::time::interval(Duration::from_millis(5));
            // The first tick is at once: count only those that waited.
            interval.tick().await;
            loop {
                interval.tick().await;
                ticks.fetch_add(1, Ordering::Relaxed);
            }
        }
    });

    let mut tasks = JoinSet::new();
    for _ in 0..n {
        let (stream, _) = listener.accept().await.expect("accept");
        tasks.spawn(echo_line(stream));
    }
    let (mut served, mut failed) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        match r.expect("a task ran to its end") {
            Ok(()) => served += 1,
            Err(e) => {
                println!("connection error: {e}");
                failed += 1;
            }
        }
    }
    ticker.abort();
    println!("served: {served}");
    println!("failed: {failed}");
    println!("ticks: {}", ticks.load(Ordering::Relaxed));
    if failed > 0 {
        std::process::exit(1);
    }
}

/// Reads one line from `stream` and writes it back.
async fn echo_line(stream: TcpStream) -> std::io::Result<()> {
    let mut stream = BufReader::new(stream);
    let mut line = String::new();
    stream.read_line(&mut line).await?;
    stream.get_mut().write_all(line.as_bytes()).await?;
    stream.get_mut().shutdown().await
}
