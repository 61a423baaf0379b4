//! What `--timeout` (epoch checks) and `--fuel` (fuel counting) cost, against the same module
//! without them in the same run: a compute-bound loop, and the guest loops of the syscall bench
//! (`clock_time_get`, `fd_fdstat_get` on the Unix system).
//!
//! `cargo bench -p wasirun --bench limits` prints nanoseconds per iteration (median of 5 runs)
//! for each configuration and its ratio to the plain one (the target for epochs is under 1.03).

use wasirun_unix::Builder;
use wasirun_wasi::{Host, add_to_linker};
use wasmtime::{Config, Engine, Linker, Module, Store};

mod common;
use common::{RUNS, median_ns};

/// `compute`: an integer hash loop with a call per iteration (a loop header and a function
/// entry: both places where epoch and fuel checks go); the WASI loops as in `syscalls.rs`.
const WAT: &str = r#"
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fd_fdstat_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func $mix (param $x i32) (result i32)
    (i32.xor (i32.mul (local.get $x) (i32.const 0x9e3779b1)) (i32.shr_u (local.get $x) (i32.const 15))))
  (func (export "compute") (param $n i32)
    (local $h i32)
    (loop $l
      (local.set $h (call $mix (i32.add (local.get $h) (local.get $n))))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (i32.store (i32.const 0) (local.get $h)))
  (func (export "clock_time_get") (param $n i32)
    (loop $l
      (drop (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 56)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "fd_fdstat_get") (param $n i32)
    (loop $l
      (drop (call $fd_fdstat_get (i32.const 1) (i32.const 128)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
)
"#;

const LOOPS: &[(&str, i32)] = &[
    ("compute", 50_000_000),
    ("clock_time_get", 1_000_000),
    ("fd_fdstat_get", 1_000_000),
];

/// The engine configurations measured: plain, `--timeout`, `--fuel`.
const CONFIGS: &[&str] = &["plain", "timeout", "fuel"];

/// Nanoseconds per iteration of each loop under configuration `name`, median of RUNS.
fn measure(name: &str) -> Vec<f64> {
    let mut config = Config::new();
    config
        .epoch_interruption(name == "timeout")
        .consume_fuel(name == "fuel");
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let mut linker = Linker::new(&engine);
    add_to_linker(&mut linker, |h| h).unwrap();
    let system = Builder::new().arg("bench").build().unwrap();
    let mut store = Store::new(&engine, Host::new(system));
    match name {
        // As wasirun sets it: the watchdog bumps the epoch once, at the deadline.
        "timeout" => {
            store.set_epoch_deadline(1);
            store.epoch_deadline_trap();
        }
        "fuel" => store.set_fuel(u64::MAX).unwrap(),
        _ => {}
    }
    let instance = linker.instantiate(&mut store, &module).unwrap();
    LOOPS
        .iter()
        .map(|(func, n)| {
            let f = instance
                .get_typed_func::<i32, ()>(&mut store, func)
                .unwrap();
            median_ns(*n, |k| f.call(&mut store, k).unwrap())
        })
        .collect()
}

fn main() {
    let results: Vec<Vec<f64>> = CONFIGS.iter().map(|c| measure(c)).collect();
    println!("ns per iteration, median of {RUNS} runs; ratio to plain in parentheses");
    println!(
        "{:<16} {:>10} {:>18} {:>18}",
        "loop", "plain", "timeout", "fuel"
    );
    for (k, (name, _)) in LOOPS.iter().enumerate() {
        let plain = results[0][k];
        let (epoch, fuel) = (results[1][k], results[2][k]);
        println!(
            "{name:<16} {plain:>10.2} {epoch:>10.2} ({:.3}) {fuel:>10.2} ({:.3})",
            epoch / plain,
            fuel / plain
        );
    }
}
