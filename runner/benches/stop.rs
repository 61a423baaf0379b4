//! How long wasirun takes to end after SIGTERM, the guest blocked in each kind of wait or
//! running wasm: from the signal to the process's exit, with stdout's flags checked back.
//!
//! `cargo bench -p wasirun --bench stop` prints the median and the slowest of 15 runs for each.
//! A guest that unwinds (one in a host call) ends in a few milliseconds; one running wasm,
//! which wasirun compiles without epoch checks, is ended by the last resort 50 ms after the
//! signal.

use rustix::fs::OFlags;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::median;

const WASIRUN: &str = env!("CARGO_BIN_EXE_wasirun");

/// Runs per case.
const RUNS: usize = 15;

/// Milliseconds from SIGTERM to exit, once the guest (which sets O_NONBLOCK on stdout first)
/// is waiting.
fn once(args: &[&str]) -> f64 {
    let (stdin_read, _stdin_write) = rustix::pipe::pipe().unwrap();
    let (_out_read, out_write) = rustix::pipe::pipe().unwrap();
    let mut child = Command::new(WASIRUN)
        .args(args)
        .stdin(Stdio::from(stdin_read))
        .stdout(Stdio::from(out_write.try_clone().unwrap()))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    while !rustix::fs::fcntl_getfl(&out_write)
        .unwrap()
        .contains(OFlags::NONBLOCK)
    {
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(50));
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    let sent = Instant::now();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let status = child.wait().unwrap();
    let took = sent.elapsed();
    assert_eq!(status.code(), Some(143));
    assert!(
        !rustix::fs::fcntl_getfl(&out_write)
            .unwrap()
            .contains(OFlags::NONBLOCK)
    );
    took.as_secs_f64() * 1000.0
}

fn main() {
    let data = |name: &str| format!("{}/tests/data/limits/{name}", env!("CARGO_MANIFEST_DIR"));
    let (block, poll, accept, spin) = (
        data("block.wat"),
        data("poll_sleep.wat"),
        data("accept.wat"),
        data("spin_nonblock.wat"),
    );
    let cases: [(&str, Vec<&str>); 4] = [
        ("fd_read on a pipe", vec![&block]),
        ("poll_oneoff, a day", vec![&poll]),
        (
            "sock_accept",
            vec!["--listen", "127.0.0.1:0?nonblock=0", &accept],
        ),
        ("wasm (last resort)", vec![&spin]),
    ];
    println!("ms from SIGTERM to exit, {RUNS} runs");
    println!("{:<24} {:>8} {:>8}", "guest", "median", "max");
    for (name, args) in cases {
        let runs: Vec<f64> = (0..RUNS).map(|_| once(&args)).collect();
        let max = runs.iter().copied().fold(0.0, f64::max);
        println!("{name:<24} {:>8.1} {max:>8.1}", median(runs));
    }
}
