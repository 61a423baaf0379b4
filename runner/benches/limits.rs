//! What `--timeout` (a watchdog thread), epoch checks (how an embedder's `StopHandle::arm`
//! stops a guest running its own code) and `--fuel` (fuel counting) cost, against the same
//! module without them in the same run: a compiled Rust program (`tests/guests/rust/src/bin/compute.rs`:
//! sieve, sort, `BTreeMap`, formatting; built by `cargo xtask guests`), a worst-case micro-loop
//! (two instructions of work between a loop header and a function entry, the two places where
//! the checks go), and the guest loops of the syscall bench (`clock_time_get`, `fd_fdstat_get`
//! on the Unix system).
//!
//! `cargo bench -p wasirun --bench limits` prints the CPU time of the guest's thread (a wall
//! clock on a loaded 2-core machine moves by more than the few percent measured): nanoseconds
//! per iteration of the loops (median of 5 runs), milliseconds per run of the program (median
//! of 21) for each configuration and its ratio to the plain one (the target for `--timeout` is
//! under 1.03: wasirun compiles no epoch checks for it, so its code is the plain one, with a
//! thread asleep beside it).

use std::path::Path;
use std::sync::mpsc::{self, Sender};
use wasirun_unix::{Builder, UnixSystem};
use wasirun_wasi::{Host, I32Exit, add_to_linker};
use wasmtime::{Config, Engine, Instance, Linker, Module, Store};

mod common;
use common::{RUNS, cpu_time, median};

/// `micro-loop`: an integer hash loop with a call per iteration (a loop header and a function
/// entry: both places where epoch and fuel checks go) and almost nothing else, the worst case;
/// the WASI loops as in `syscalls.rs`.
const WAT: &str = r#"
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fd_fdstat_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func $mix (param $x i32) (result i32)
    (i32.xor (i32.mul (local.get $x) (i32.const 0x9e3779b1)) (i32.shr_u (local.get $x) (i32.const 15))))
  (func (export "micro-loop") (param $n i32)
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
    ("micro-loop", 50_000_000),
    ("clock_time_get", 1_000_000),
    ("fd_fdstat_get", 1_000_000),
];

/// The engine configurations measured: plain, `--timeout`, epoch checks, `--fuel`.
const CONFIGS: &[&str] = &["plain", "timeout", "epochs", "fuel"];

/// The scale of the compiled program's run (about 60 ms on a 2-core machine).
const PROGRAM_N: &str = "200000";

/// How many timed runs of the program each figure is the median of.
const PROGRAM_RUNS: usize = 21;

/// An engine as wasirun makes it for configuration `name`.
fn engine(name: &str) -> Engine {
    let mut config = Config::new();
    config
        .epoch_interruption(name == "epochs")
        .consume_fuel(name == "fuel");
    Engine::new(&config).unwrap()
}

/// The `--timeout` watchdog as wasirun runs it beside the guest: a thread asleep until a
/// deadline that does not come in the run; dropping the sender ends it.
fn watchdog() -> Sender<()> {
    let (done, wait) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let _ = wait.recv_timeout(std::time::Duration::from_secs(3600));
    });
    done
}

/// A store for `system` under configuration `name`, and the watchdog of a `timeout` one.
fn store(
    engine: &Engine,
    name: &str,
    system: UnixSystem,
) -> (Store<Host<UnixSystem>>, Option<Sender<()>>) {
    let stop = system.stop_handle();
    let mut store = Store::new(engine, Host::new(system));
    let watchdog = match name {
        "timeout" => Some(watchdog()),
        // As an embedder arms a store: the handle bumps the epoch once, when it stops.
        "epochs" => {
            stop.arm(&mut store);
            None
        }
        "fuel" => {
            store.set_fuel(u64::MAX).unwrap();
            None
        }
        _ => None,
    };
    (store, watchdog)
}

/// Binds the memory of the store's one instance, as wasirun does.
fn bind<S>(store: &mut Store<Host<S>>, instance: &Instance) {
    let memory = instance.get_memory(&mut *store, "memory").unwrap();
    store.data_mut().set_memory(memory);
}

/// Nanoseconds of CPU time per iteration of each loop, per configuration: the configurations take turns
/// (one run of each loop under each, RUNS rounds), so that a load that comes and goes on the
/// machine falls on all of them alike; the median per configuration.
fn measure_loops() -> Vec<Vec<f64>> {
    let mut runs: Vec<_> = CONFIGS
        .iter()
        .map(|name| {
            let engine = engine(name);
            let module = Module::new(&engine, WAT).unwrap();
            let mut linker = Linker::new(&engine);
            add_to_linker(&mut linker, |h| h).unwrap();
            let system = Builder::new().arg("bench").build().unwrap();
            let (mut store, watchdog) = store(&engine, name, system);
            let instance = linker.instantiate(&mut store, &module).unwrap();
            bind(&mut store, &instance);
            let funcs: Vec<_> = LOOPS
                .iter()
                .map(|(func, _)| {
                    instance
                        .get_typed_func::<i32, ()>(&mut store, func)
                        .unwrap()
                })
                .collect();
            (store, funcs, watchdog)
        })
        .collect();
    let mut times = vec![vec![Vec::new(); LOOPS.len()]; CONFIGS.len()];
    for round in 0..=RUNS {
        for (c, (store, funcs, _)) in runs.iter_mut().enumerate() {
            for (k, (f, (_, n))) in funcs.iter().zip(LOOPS).enumerate() {
                let start = cpu_time();
                f.call(&mut *store, *n).unwrap();
                // Round 0 warms up.
                if round > 0 {
                    times[c][k].push((cpu_time() - start).as_nanos() as f64 / f64::from(*n));
                }
            }
        }
    }
    times
        .into_iter()
        .map(|per_loop| per_loop.into_iter().map(median).collect())
        .collect()
}

/// Milliseconds of CPU time per run of the compiled program, per configuration, taking turns
/// as the loops do; `None` when it has not been built.
fn measure_program(wasm: &Path) -> Option<Vec<f64>> {
    let setups: Vec<_> = CONFIGS
        .iter()
        .map(|name| {
            let engine = engine(name);
            let module = Module::from_file(&engine, wasm).ok()?;
            let mut linker = Linker::new(&engine);
            add_to_linker(&mut linker, |h| h).unwrap();
            Some((name, engine, module, linker))
        })
        .collect::<Option<_>>()?;
    let mut times = vec![Vec::new(); CONFIGS.len()];
    for round in 0..=PROGRAM_RUNS {
        for (c, (name, engine, module, linker)) in setups.iter().enumerate() {
            let system = Builder::new()
                .arg("compute")
                .arg(PROGRAM_N)
                .build()
                .unwrap();
            let (mut store, _watchdog) = store(engine, name, system);
            let start = cpu_time();
            let instance = linker.instantiate(&mut store, module).unwrap();
            bind(&mut store, &instance);
            let main = instance
                .get_typed_func::<(), ()>(&mut store, "_start")
                .unwrap();
            if let Err(e) = main.call(&mut store, ()) {
                assert_eq!(e.downcast_ref::<I32Exit>(), Some(&I32Exit(0)), "{e:?}");
            }
            if round > 0 {
                times[c].push((cpu_time() - start).as_secs_f64() * 1e3);
            }
        }
    }
    Some(times.into_iter().map(median).collect())
}

fn main() {
    let wasm = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/guests/rust/wasm32-wasip1/release/compute.wasm");
    let program = measure_program(&wasm);
    let results = measure_loops();
    println!(
        "median of {PROGRAM_RUNS} runs (program) and {RUNS} (loops), the configurations taking \
         turns; ratio to plain in parentheses"
    );
    print!("{:<22} {:>10}", "", "plain");
    for name in &CONFIGS[1..] {
        print!(" {name:>18}");
    }
    println!();
    let row = |name: &str, figures: &[f64]| {
        print!("{name:<22} {:>10.2}", figures[0]);
        for f in &figures[1..] {
            print!(" {f:>10.2} ({:.3})", f / figures[0]);
        }
        println!();
    };
    match program.as_deref() {
        Some(figures) => row("compute program, ms", figures),
        None => println!(
            "compute program: {} not built (cargo xtask guests)",
            wasm.display()
        ),
    }
    for (k, (name, _)) in LOOPS.iter().enumerate() {
        let figures: Vec<f64> = results.iter().map(|per_loop| per_loop[k]).collect();
        row(&format!("{name}, ns"), &figures);
    }
}
