//! What an async guest pays for its poll path: one connection, 64-byte ping-pong, against the
//! same echo server written with blocking calls, on the same host in the same run
//! (`tests/guests/rust/src/bin/echo.rs`, built by `cargo xtask guests`).
//!
//! Each server runs in a thread of this process through the library, on a listener the bench
//! binds and preopens (`Builder::preopen_socket_fd`); the client is this thread, with
//! `TCP_NODELAY`. `cargo bench -p wasirun --bench echo` prints a Markdown table of
//! microseconds per round trip (median of 5 runs of 10,000) for each and the ratio tokio / std.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::Path;
use std::thread::JoinHandle;
use std::time::Instant;
use wasirun_unix::Builder;
use wasirun_wasi::{Host, I32Exit, add_to_linker};
use wasmtime::{Engine, Linker, Module, Store};

mod common;
use common::{RUNS, median};

/// Round trips per timed run.
const ROUND_TRIPS: u32 = 10_000;

/// Starts `echo MODE` on a listener of its own; its address and the guest's thread.
fn serve(engine: &Engine, module: &Module, mode: &str) -> (std::net::SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let addr = listener.local_addr().unwrap();
    let system = Builder::new()
        .arg("echo")
        .arg(mode)
        .preopen_socket_fd(listener)
        .build()
        .unwrap();
    let (engine, module) = (engine.clone(), module.clone());
    let guest = std::thread::spawn(move || {
        let mut linker = Linker::new(&engine);
        add_to_linker(&mut linker, |h| h).unwrap();
        let mut store = Store::new(&engine, Host::new(system));
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        store.data_mut().set_memory(memory);
        let start = instance
            .get_typed_func::<(), ()>(&mut store, "_start")
            .unwrap();
        if let Err(e) = start.call(&mut store, ()) {
            assert_eq!(e.downcast_ref::<I32Exit>(), Some(&I32Exit(0)), "{e:?}");
        }
    });
    (addr, guest)
}

/// Microseconds per round trip against `echo MODE`, median of RUNS runs after a warm-up.
fn measure(engine: &Engine, module: &Module, mode: &str) -> f64 {
    let (addr, guest) = serve(engine, module, mode);
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_nodelay(true).unwrap();
    let (ping, mut pong) = ([7u8; 64], [0u8; 64]);
    let mut round_trips = |n: u32| {
        for _ in 0..n {
            conn.write_all(&ping).unwrap();
            conn.read_exact(&mut pong).unwrap();
        }
    };
    round_trips(1_000);
    let runs = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            round_trips(ROUND_TRIPS);
            start.elapsed().as_secs_f64() * 1e6 / f64::from(ROUND_TRIPS)
        })
        .collect();
    drop(conn);
    guest.join().unwrap();
    median(runs)
}

fn main() {
    let wasm = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/guests/rust/wasm32-wasip1/release/echo.wasm");
    let engine = Engine::default();
    let Ok(module) = Module::from_file(&engine, &wasm) else {
        println!("{} not built (cargo xtask guests)", wasm.display());
        return;
    };
    let blocking = measure(&engine, &module, "std");
    let tokio = measure(&engine, &module, "tokio");
    println!("us per 64-byte round trip, median of {RUNS} runs of {ROUND_TRIPS}");
    println!();
    println!("| echo guest | us per round trip | ratio to std |");
    println!("|---|---|---|");
    println!("| std (blocking) | {blocking:.1} | 1.00 |");
    println!("| tokio | {tokio:.1} | {:.2} |", tokio / blocking);
    println!();
}
