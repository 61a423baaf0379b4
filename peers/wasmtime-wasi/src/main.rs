//! `wasmtime-wasi-peer [--cache DIR] MODULE [ARGS]...`: runs a WASI preview 1 command on
//! wasmtime-wasi's preview 1 host, as a minimal `wasmtime run` would, so that
//! `runner/benches/startup.rs` can time a whole process of it against one of wasirun.
//!
//! The engine is configured as wasirun configures its own (`runner/src/run.rs`, `engine`). With
//! `--cache DIR`, compiled code is kept in `DIR` the fastest way wasmtime offers an embedder:
//! `Module::serialize` once, then `Module::deserialize_file`, which maps the file as wasirun
//! maps its own entries; the key is the SHA-256 of the module's bytes with the engine's
//! compatibility hash, as wasirun keys its cache. (wasmtime's `cache` feature is slower to
//! load, it reads, decompresses and copies each entry, and turning it on here would build the
//! workspace's wasmtime with other features than every other package asks for.) The host is wasmtime's
//! sync preview 1 linker, blocking allowed on the current thread (set before any preopen, so
//! that calls run inline), stdio inherited, the guest's arguments the module's file name and
//! `ARGS`; no environment and no preopened directory, as wasirun gives by default. The exit
//! status is the guest's; a trap or another error is printed and exits 1, bad usage 2.

use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use wasmtime::{Config, Engine, Linker, Module, OptLevel, Store, Strategy, WasmBacktraceDetails};
use wasmtime_wasi::I32Exit;
use wasmtime_wasi::p1::WasiP1Ctx;

/// wasirun's default `--max-wasm-stack`.
const MAX_WASM_STACK: usize = 512 << 10;

/// wasirun's stack for host functions below the deepest wasm frame (`run::HOST_STACK`).
const HOST_STACK: usize = 4 << 20;

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

/// wasirun's engine.
fn engine() -> wasmtime::Result<Engine> {
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
    Engine::new(&config)
}

/// The module at `path`, compiled, or mapped from its entry in the cache directory `cache`
/// (and stored there when it had none).
fn load(engine: &Engine, path: &Path, cache: Option<&PathBuf>) -> wasmtime::Result<Module> {
    let bytes = std::fs::read(path)?;
    let Some(dir) = cache else {
        return Module::new(engine, &bytes);
    };
    let mut compat = std::hash::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut compat);
    let key = Sha256::new()
        .chain_update(&bytes)
        .chain_update(compat.finish().to_le_bytes())
        .finalize();
    let name: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let entry = dir.join(name);
    if entry.exists() {
        // SAFETY: the entry is one this program serialized with this engine's configuration
        // (the key says so), in a directory only the bench writes.
        return unsafe { Module::deserialize_file(engine, &entry) };
    }
    let module = Module::new(engine, &bytes)?;
    std::fs::create_dir_all(dir)?;
    let partial = entry.with_extension(format!("{}.tmp", std::process::id()));
    std::fs::write(&partial, module.serialize()?)?;
    std::fs::rename(&partial, &entry)?;
    Ok(module)
}

fn run(args: &Args) -> wasmtime::Result<i32> {
    let engine = engine()?;
    let module = load(&engine, &args.module, args.cache.as_ref())?;
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
