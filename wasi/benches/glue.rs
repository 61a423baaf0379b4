//! The glue's own cost per call: a guest loop calling an import N times, timed three ways in
//! the same run, on the same engine:
//!
//! - `baseline`: a no-op host function with `fd_write`'s signature (wasmtime's call cost alone);
//! - `wasirun`: the generated glue in front of a System that does no I/O;
//! - `wasmtime-wasi`: the peer's preview1 (`add_to_linker_sync`), for `args_sizes_get`, which
//!   does no I/O there either;
//! - `wrapped`: the same System under three wrappers that change nothing (`SystemDelegate`
//!   forwarding every method), whose cost should be none.
//!
//! The glue's cost is `wasirun - baseline`; the target is under 20 ns. `cargo bench -p
//! wasirun-wasi` prints nanoseconds per call (median of 7 runs of 1,000,000 calls).

use std::io::IoSlice;
use std::time::Instant;
use wasirun_wasi::{Errno, Fd, Host, Nosys, Size, System, SystemDelegate, add_to_linker};
use wasmtime::{Caller, Engine, Linker, Memory, Module, Store};

const CALLS: i32 = 1_000_000;
const RUNS: usize = 7;

const WAT: &str = r#"
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\10\00\00\00\04\00\00\00")
  (data (i32.const 16) "abcd")
  (func (export "fd_write") (param $n i32)
    (loop $l
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 32)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "args_sizes_get") (param $n i32)
    (loop $l
      (drop (call $sizes (i32.const 40) (i32.const 44)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
)
"#;

/// A system that does no I/O.
struct Null;

impl SystemDelegate for Null {
    fn delegate(&mut self) -> impl System {
        Nosys
    }
    fn fd_write(&mut self, _fd: Fd, iovs: &[IoSlice<'_>]) -> Result<Size, Errno> {
        Ok(iovs.iter().map(|i| i.len() as Size).sum())
    }
    fn args_sizes_get(&mut self) -> Result<(Size, Size), Errno> {
        Ok((2, 17))
    }
}

/// A wrapper that changes nothing: every call is forwarded.
struct Pass<S>(S);

impl<S: System> SystemDelegate for Pass<S> {
    fn delegate(&mut self) -> impl System {
        &mut self.0
    }
}

/// Nanoseconds per call of the loop `name` in a new instance of `module`, whose memory `bind`
/// hands to the store's data (as `wasirun` binds its one instance's memory).
fn time<T: 'static>(
    store: &mut Store<T>,
    linker: &Linker<T>,
    module: &Module,
    name: &str,
    bind: fn(&mut T, Memory),
) -> f64 {
    let instance = linker.instantiate(&mut *store, module).unwrap();
    let memory = instance.get_memory(&mut *store, "memory").unwrap();
    bind(store.data_mut(), memory);
    let f = instance
        .get_typed_func::<i32, ()>(&mut *store, name)
        .unwrap();
    f.call(&mut *store, 1000).unwrap();
    let mut runs: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            f.call(&mut *store, CALLS).unwrap();
            start.elapsed().as_nanos() as f64 / f64::from(CALLS)
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[RUNS / 2]
}

fn main() {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();

    let mut linker = Linker::<()>::new(&engine);
    linker
        .func_wrap(
            "wasi_snapshot_preview1",
            "fd_write",
            |_: Caller<'_, ()>, _: i32, _: i32, _: i32, _: i32| 0i32,
        )
        .unwrap();
    linker
        .func_wrap(
            "wasi_snapshot_preview1",
            "args_sizes_get",
            |_: Caller<'_, ()>, _: i32, _: i32| 0i32,
        )
        .unwrap();
    let mut store = Store::new(&engine, ());
    let base_write = time(&mut store, &linker, &module, "fd_write", |_, _| {});
    let base_sizes = time(&mut store, &linker, &module, "args_sizes_get", |_, _| {});

    let mut linker = Linker::<Host<Null>>::new(&engine);
    add_to_linker(&mut linker, |h| h).unwrap();
    let mut store = Store::new(&engine, Host::new(Null));
    let bind: fn(&mut Host<Null>, Memory) = |h, m| h.set_memory(m);
    let ours_write = time(&mut store, &linker, &module, "fd_write", bind);
    let ours_sizes = time(&mut store, &linker, &module, "args_sizes_get", bind);

    type Wrapped = Pass<Pass<Pass<Null>>>;
    let mut linker = Linker::<Host<Wrapped>>::new(&engine);
    add_to_linker(&mut linker, |h| h).unwrap();
    let mut store = Store::new(&engine, Host::new(Pass(Pass(Pass(Null)))));
    let bind: fn(&mut Host<Wrapped>, Memory) = |h, m| h.set_memory(m);
    let wrapped_write = time(&mut store, &linker, &module, "fd_write", bind);
    let wrapped_sizes = time(&mut store, &linker, &module, "args_sizes_get", bind);

    let mut linker = Linker::<wasmtime_wasi::p1::WasiP1Ctx>::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |c| c).unwrap();
    let ctx = wasmtime_wasi::WasiCtxBuilder::new()
        .allow_blocking_current_thread(true)
        .args(&["prog", "hello world"])
        .build_p1();
    let mut store = Store::new(&engine, ctx);
    let peer_sizes = time(&mut store, &linker, &module, "args_sizes_get", |_, _| {});

    println!("ns per call (median of {RUNS} x {CALLS} calls)");
    println!(
        "fd_write        baseline {base_write:6.1}  wasirun {ours_write:6.1}  glue {:6.1}  wrapped {wrapped_write:6.1}",
        ours_write - base_write
    );
    println!(
        "args_sizes_get  baseline {base_sizes:6.1}  wasirun {ours_sizes:6.1}  glue {:6.1}  wrapped {wrapped_sizes:6.1}  wasmtime-wasi {peer_sizes:6.1}  wasirun/wasmtime-wasi {:.3}",
        ours_sizes - base_sizes,
        ours_sizes / peer_sizes
    );
}
