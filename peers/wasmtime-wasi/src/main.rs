//! `wasmtime-wasi-peer [--cache DIR] MODULE [ARGS]...`: runs a WASI preview 1 command on
//! wasmtime-wasi's preview 1 host, as a minimal `wasmtime run` would, so that
//! `runner/benches/startup.rs` can time a whole process of it against one of wasirun.
//!
//! The engine is configured as wasirun configures its own (`runner/src/run.rs`, `engine`); with
//! `--cache DIR`, wasmtime's own compile cache keeps its files in `DIR`. The host is wasmtime's
//! sync preview 1 linker, blocking allowed on the current thread (set before any preopen, so
//! that calls run inline), stdio inherited, the guest's arguments the module's file name and
//! `ARGS`; no environment and no preopened directory, as wasirun gives by default. The exit
//! status is the guest's; a trap or another error is printed and exits 1, bad usage 2.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use wasmtime::{
    Cache, CacheConfig, Config, Engine, Linker, Module, OptLevel, Store, Strategy,
    WasmBacktraceDetails,
};
use wasmtime_wasi::I32Exit;
use wasmtime_wasi::p1::WasiP1Ctx;

/// wasirun's default `--max-wasm-stack`.
const MAX_WASM_STACK: usize = 512 << 10;

/// wasirun's stack for host functions below the deepest wasm frame (`run::HOST_STACK`).
const HOST_STACK: usize = 8 << 20;

/// The command line: the cache directory, the module, the guest's arguments after its name.
struct Args {
    cache: Option<PathBuf>,
    module: PathBuf,
    args: Vec<String>,
}

fn parse() -> Result<Args, String> {
    let mut argv = std::env::args_os().skip(1);
    let usage = || "usage: wasmtime-wasi-peer [--cache DIR] MODULE [ARGS]...".to_string();
    let mut first = argv.next().ok_or_else(usage)?;
    let mut cache = None;
    if first == "--cache" {
        cache = Some(PathBuf::from(argv.next().ok_or_else(usage)?));
        first = argv.next().ok_or_else(usage)?;
    }
    let args = argv
        .map(|a| a.into_string().map_err(|a| format!("{a:?} is not UTF-8")))
        .collect::<Result<_, _>>()?;
    Ok(Args {
        cache,
        module: PathBuf::from(first),
        args,
    })
}

/// wasirun's engine, with wasmtime's compile cache in `cache`.
fn engine(cache: Option<&PathBuf>) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config
        .strategy(Strategy::Cranelift)
        .cranelift_opt_level(OptLevel::Speed)
        .parallel_compilation(true)
        .signals_based_traps(true)
        .wasm_backtrace_max_frames(NonZeroUsize::new(20))
        .wasm_backtrace_details(WasmBacktraceDetails::Environment)
        .max_wasm_stack(MAX_WASM_STACK)
        .wasm_memory64(false)
        .consume_fuel(false)
        .async_stack_size(MAX_WASM_STACK + HOST_STACK);
    if let Some(dir) = cache {
        let mut cache = CacheConfig::new();
        cache.with_directory(dir);
        config.cache(Some(Cache::new(cache)?));
    }
    Engine::new(&config)
}

fn run(args: &Args) -> wasmtime::Result<i32> {
    let engine = engine(args.cache.as_ref())?;
    let module = Module::from_file(&engine, &args.module)?;
    let mut linker = Linker::<WasiP1Ctx>::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |ctx| ctx)?;
    let name = args
        .module
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut wasi = wasmtime_wasi::WasiCtxBuilder::new();
    wasi.allow_blocking_current_thread(true)
        .inherit_stdio()
        .arg(name)
        .args(&args.args);
    let mut store = Store::new(&engine, wasi.build_p1());
    let instance = linker.instantiate(&mut store, &module)?;
    let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
    match start.call(&mut store, ()) {
        Ok(()) => Ok(0),
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(I32Exit(code)) => Ok(*code),
            None => Err(e),
        },
    }
}

fn main() {
    let code = match parse() {
        Ok(args) => match run(&args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("wasmtime-wasi-peer: {e:?}");
                1
            }
        },
        Err(usage) => {
            eprintln!("{usage}");
            2
        }
    };
    std::process::exit(code);
}
