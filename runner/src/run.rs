//! Running a module, in the order its failures are reported: read it, open the preopened
//! directories, compile (or load from the cache), check it is a command, link, make the
//! preopened sockets, call `_start`, and say how it ended.
//!
//! The sockets come last on purpose: a `--dial` peer sees the connection, and a `--listen`
//! port accepts, only once the guest is about to use them, however long compiling took (an
//! uncached 25 MB Go module takes longer than many peers' idle timeouts).

use crate::cache::{self, Cache};
use crate::cli::{self, Cli, Sockets, TraceFormat};
use crate::limits::{self, Farewell, StdioFlags, Stopper, Watchdog};
use crate::status::{Failure, Status, one_line};
use std::io::Write;
use std::num::NonZeroUsize;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::sync::{Arc, Mutex};
use wasirun::{Command, Entry, Invoked, Limits, Linked, Options};
use wasirun_unix::mem::{MemFs, Mounted, Tree};
use wasirun_unix::{Builder, DirMode, Policy, SocketUrls, UnixSystem};
use wasirun_wasi::preview0::Preview0;
use wasirun_wasi::trace::{Format, Sink, Summary, TraceOptions};
use wasirun_wasi::{System, Tracer, Unstable, Wasmedge};
use wasmtime::{
    Config, Engine, ExternType, OptLevel, Strategy, Trap, Val, ValType, WasmBacktraceDetails,
};

/// Stack left to host functions below the deepest wasm frame, and to wasirun before it enters
/// wasm: the thread that runs the guest has `--max-wasm-stack` plus this. Twice a thread's
/// default stack: the host functions' deepest frames take tens of KiB.
pub const HOST_STACK: usize = 4 << 20;

/// Runs the module the command line names; the guest's exit status, or why there is none.
pub fn run(cli: &Cli) -> Result<i32, Failure> {
    let module_name = cli.module.display();
    let unreadable = |e: std::io::Error| {
        Failure::new(
            Status::NoModule,
            format!("cannot read module {module_name}: {e}"),
        )
    };
    let file = std::fs::File::open(&cli.module).map_err(unreadable)?;
    let mut builder = unix_builder(cli)?;
    let trace = if cli.trace {
        Some(trace_sink(cli)?)
    } else {
        None
    };
    let summary = cli.trace_summary.then(Summary::new);
    // The table is said once, after the guest: here, or by a last resort that ends the process.
    let farewell = Farewell::default();
    if let Some(summary) = &summary {
        let (summary, trace) = (summary.clone(), trace.clone());
        farewell.add(move |_| print_summary(&summary, trace.as_ref()));
    }
    let invalid = |why: String| {
        Failure::new(
            Status::InvalidModule,
            format!("invalid module {module_name}: {why}"),
        )
    };
    let engine = engine(cli)?;
    let cache = if cli.no_cache {
        None
    } else {
        Cache::from_env()
    };
    // A hit needs only the module's hash, taken in chunks: the module is read whole only to be
    // compiled (a hit's entry was compiled from the same bytes, which passed the precheck).
    let (module, stored) = match cache.as_ref().and_then(|c| c.load_file(&engine, &file)) {
        Some(module) => (module, None),
        None => {
            let wasm = read(file).map_err(unreadable)?;
            Command::precheck(&wasm).map_err(|e| invalid(e.to_string()))?;
            cache::load_or_compile(&engine, &wasm, cache.as_ref())
                .map_err(|e| invalid(one_line(&e)))?
        }
    };
    let entry = match &cli.invoke {
        Some(name) => Entry::Function(name.clone()),
        None => Entry::Start,
    };
    let result = Command::with_entry(module, &entry)
        .map_err(|e| match &cli.invoke {
            Some(name) => invalid(format!("--invoke {name}: {e}")),
            None => invalid(e.to_string()),
        })
        .and_then(|command| match (&trace, &summary) {
            (Some(sink), summary) => {
                let options = TraceOptions {
                    format: match cli.trace_format {
                        TraceFormat::Text => Format::Text,
                        TraceFormat::Json => Format::Json,
                    },
                    string_size: cli.trace_string_size,
                };
                start(&command, cli, &mut builder, &farewell, |system| {
                    let tracer = Tracer::with_sink(system, sink.clone(), options);
                    match summary {
                        Some(summary) => tracer.summarize(summary.clone()),
                        None => tracer,
                    }
                })
            }
            (None, Some(summary)) => start(&command, cli, &mut builder, &farewell, |system| {
                Tracer::summary_only(system, summary.clone())
            }),
            (None, None) => start(&command, cli, &mut builder, &farewell, |system| system),
        });
    farewell.say(&result);
    // The entry is renamed into place whole or not at all; waiting only keeps a short-lived
    // guest from leaving its temporary file behind.
    if let Some(stored) = stored {
        let _ = stored.join();
    }
    result
}

/// The whole of `file`, just opened (hashing it reads at offsets, and leaves its position
/// alone: a pipe is read here from its first byte too).
fn read(mut file: std::fs::File) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let len = file.metadata().map_or(0, |m| m.len());
    let mut wasm = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.read_to_end(&mut wasm)?;
    Ok(wasm)
}

/// The Unix system the command line describes, its directories opened, its sockets not made
/// yet ([`preopen_sockets`]).
fn unix_builder(cli: &Cli) -> Result<Builder, Failure> {
    let mut b = Builder::new();
    let argv0 = match &cli.argv0 {
        Some(a) => a.clone(),
        None => cli::default_argv0(&cli.module),
    };
    b.arg(argv0.into_vec());
    for a in &cli.args {
        b.arg(a.as_bytes());
    }
    for (name, value) in cli::environment(cli.env_inherit, &cli.env) {
        b.env(name, value);
    }
    for d in &cli.preopens {
        let mode = if d.read_only {
            DirMode::ReadOnly
        } else {
            DirMode::ReadWrite
        };
        b.preopen_dir(&d.host, d.guest.clone(), mode)
            .map_err(|e| Failure::new(Status::Dir, e.to_string()))?;
    }
    b.policy(policy(cli)?);
    b.max_open_files(cli.max_open_files)
        .max_open_dirs(cli.max_open_dirs)
        .enforce_rights(cli.enforce_rights)
        .nonblocking_stdio(cli.non_blocking_stdio);
    Ok(b)
}

/// Where the guest may connect and what it may bind, as the command line allows.
fn policy(cli: &Cli) -> Result<Policy, Failure> {
    let mut policy = Policy::default();
    if cli.allow_network {
        policy.allow_all();
    }
    if cli.allow_name_lookup {
        policy.allow_name_lookup();
    }
    for rule in &cli.allow_connect {
        policy
            .allow_connect(rule)
            .map_err(|e| Failure::new(Status::Usage, e.to_string()))?;
    }
    for rule in &cli.allow_bind {
        policy
            .allow_bind(rule)
            .map_err(|e| Failure::new(Status::Usage, e.to_string()))?;
    }
    Ok(policy)
}

/// The `--mount-tar` archives, read into a file system in memory; `None` without any.
fn mounts(cli: &Cli) -> Result<Option<MemFs>, Failure> {
    if cli.mount_tar.is_empty() {
        return Ok(None);
    }
    let mut mem = MemFs::new().enforce_rights(cli.enforce_rights);
    for m in &cli.mount_tar {
        let tree = Tree::from_tar(&m.host, mem.max_bytes())
            .map_err(|e| Failure::new(Status::Dir, format!("--mount-tar: {e}")))?;
        mem.mount(tree, m.guest.clone(), DirMode::ReadWrite);
    }
    Ok(Some(mem))
}

/// What the guest runs on: the Unix system, with the `--mount-tar` mounts beside it
/// ([`Mounted`]) and, for `--sockets path_open`, [`SocketUrls`] around it. One type for every
/// stack, so that the linker and the glue are compiled once; the one virtual call per WASI
/// call it costs is a few nanoseconds.
type Layered = Box<dyn LayeredSystem>;

/// The packages a layered system serves.
trait LayeredSystem: System + Wasmedge + Send {}

impl<S: System + Wasmedge + Send> LayeredSystem for S {}

/// Stacks on `system` what the command line asks for (see [`Layered`]).
fn layers(cli: &Cli, system: UnixSystem, mem: Option<MemFs>) -> Result<Layered, Failure> {
    let urls = cli.sockets == Sockets::PathOpen;
    Ok(match (mem, urls) {
        (None, false) => Box::new(system),
        (None, true) => Box::new(SocketUrls::new(system, policy(cli)?)),
        (Some(mem), false) => Box::new(Mounted::new(system, mem)),
        (Some(mem), true) => {
            let stop = system.stop_handle();
            let mounted = Mounted::new(system, mem);
            Box::new(SocketUrls::with_stop(mounted, policy(cli)?, stop))
        }
    })
}

/// Makes the `--listen` and `--dial` sockets, in command-line order.
fn preopen_sockets(cli: &Cli, b: &mut Builder) -> Result<(), Failure> {
    for (role, addr) in &cli.sockets_preopened {
        b.preopen_socket(addr, *role)
            .map_err(|e| Failure::new(Status::Dir, e.to_string()))?;
    }
    Ok(())
}

/// The system `b` describes.
fn build_system(b: &mut Builder) -> Result<UnixSystem, Failure> {
    b.build().map_err(|e| {
        let status = match e {
            wasirun_unix::Error::OpenDir { .. }
            | wasirun_unix::Error::Socket { .. }
            | wasirun_unix::Error::SocketAddr { .. } => Status::Dir,
            #[allow(unreachable_patterns)]
            _ => Status::Internal,
        };
        Failure::new(status, e.to_string())
    })
}

/// Where trace lines go: `--trace-file`, or stderr. Unbuffered: each line is one write, so a
/// guest that crashes the process loses no line.
fn trace_sink(cli: &Cli) -> Result<Sink, Failure> {
    match &cli.trace_file {
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Ok(Arc::new(Mutex::new(f))),
            Err(e) => Err(Failure::new(
                Status::TraceFile,
                format!("cannot create trace file {}: {e}", path.display()),
            )),
        },
        None => Ok(Arc::new(Mutex::new(std::io::stderr()))),
    }
}

/// `--trace-summary`'s table, after the trace's last line: where the trace goes, else stderr.
/// The guest has ended, so a sink that fails now fails nothing: the table is dropped.
fn print_summary(summary: &Summary, trace: Option<&Sink>) {
    let table = summary.to_string();
    match trace {
        Some(sink) => {
            if let Ok(mut sink) = sink.lock() {
                let _ = sink.write_all(table.as_bytes());
            }
        }
        None => {
            let _ = std::io::stderr().write_all(table.as_bytes());
        }
    }
}

/// The engine: Cranelift optimizing for speed, functions compiled in parallel, traps caught
/// by signal handlers, wasm backtraces on (with file and line numbers when
/// `WASMTIME_BACKTRACE_DETAILS=1`, as wasmtime does); memory64 only with `--memory64`, fuel
/// counting only with `--fuel` (each changes the compiled code, and so the cache key). No epoch
/// checks, even with `--timeout`: a stopped guest running its own code is ended with the
/// process (see [`limits`]), so a timeout costs the guest nothing.
fn engine(cli: &Cli) -> Result<Engine, Failure> {
    let max_wasm_stack = usize::try_from(cli.max_wasm_stack).unwrap_or(usize::MAX);
    let mut config = Config::new();
    config
        .strategy(Strategy::Cranelift)
        .cranelift_opt_level(OptLevel::Speed)
        .parallel_compilation(true)
        .signals_based_traps(true)
        // Wasmtime's default depth, set here so a trap's report does not depend on it.
        .wasm_backtrace_max_frames(NonZeroUsize::new(20))
        .wasm_backtrace_details(WasmBacktraceDetails::Environment)
        .max_wasm_stack(max_wasm_stack)
        // Preview 1's ABI takes 32-bit pointers; a 64-bit memory only reserves more host memory.
        .wasm_memory64(cli.memory64)
        .consume_fuel(cli.fuel.is_some())
        // Only async calls use this stack, and wasirun makes none; but wasmtime refuses a
        // max_wasm_stack above it when its async feature is on (another crate may turn it on).
        .async_stack_size(max_wasm_stack.saturating_add(HOST_STACK));
    Engine::new(&config).map_err(|e| {
        Failure::new(
            Status::Internal,
            format!("cannot configure wasmtime: {}", one_line(&e)),
        )
    })
}

/// Links the command with the packages ([`wasirun::add_to_linker`]), then makes the
/// preopened sockets and the system (`wrap` puts the tracer around it), instantiates the module
/// and calls its entry; a last resort that ends the process says `farewell` first.
///
/// Preview 0 (`wasi_unstable`, old binaries) is served by the same Unix system through
/// [`Unstable`], inside the tracer, so its calls are traced with preview 0's values. Unless
/// `--sockets none` or `path_open`, the WasmEdge socket functions the module imports are linked
/// too.
fn start<S: System + Preview0 + Wasmedge + 'static>(
    command: &Command,
    cli: &Cli,
    builder: &mut Builder,
    farewell: &Farewell,
    wrap: impl FnOnce(Unstable<Layered>) -> S,
) -> Result<i32, Failure> {
    let options = Options {
        limits: Limits {
            max_memory: cli.max_memory,
            max_table_elements: cli.max_table_elements,
            max_instances: cli.max_instances,
            max_tables: cli.max_tables,
            max_memories: cli.max_memories,
            trap_on_grow_failure: cli.trap_on_grow_failure,
        },
        fuel: cli.fuel,
        wasmedge_sockets: matches!(cli.sockets, Sockets::Auto | Sockets::Wasmedge),
    };
    let linked = command.link::<S>(&options).map_err(|e| failure(e, cli))?;
    let mem = mounts(cli)?;
    preopen_sockets(cli, builder)?;
    let stdio = StdioFlags::save();
    let system = build_system(builder)?;
    let stopper = Stopper::new(system.stop_handle(), stdio, farewell.clone());
    no_more_malloc_arenas();
    limits::signals::install(stopper.clone()).map_err(|e| {
        Failure::new(
            Status::Internal,
            format!("cannot handle SIGINT, SIGTERM and SIGHUP: {e}"),
        )
    })?;
    let layered = layers(cli, system, mem)?;
    let layered: Layered = match &cli.record {
        Some(log) => {
            let recorder =
                crate::record::recorder(layered, log, &cli.module, cli.record_full_writes)?;
            let ending = recorder.ending();
            farewell.add(move |ended| crate::record::end(&ending, ended));
            Box::new(recorder)
        }
        None => layered,
    };
    let mut store = linked
        .store(wrap(Unstable::new(layered)))
        .map_err(|e| failure(e, cli))?;
    // From here the guest runs (a start function runs as it is instantiated).
    let _watchdog = match cli.timeout {
        Some(timeout) => Some(Watchdog::start(&stopper, timeout).map_err(|e| {
            Failure::new(
                Status::Internal,
                format!("cannot start the --timeout thread: {e}"),
            )
        })?),
        None => None,
    };
    let ended = match &cli.invoke {
        Some(name) => invoke(&linked, &mut store, name, cli),
        None => linked.run_in(&mut store).map_err(|e| failure(e, cli)),
    };
    // However the guest ended (a trap, or a call or exit that raced the stop), a stopped guest
    // is reported as stopped. The store, and with it the system, drops on the way out.
    match stopper.reason() {
        Some(reason) => Err(Stopper::failure(reason)),
        None => ended,
    }
}

/// Lets no thread started from here on make a `malloc` arena of its own (glibc's allocator):
/// they share those there are. The module is compiled by now (the one work that allocates much
/// from many threads, each in its own arena), and what runs from here allocates little (the
/// hot paths nothing); but each helper thread (the signals', a `--timeout` watchdog) would
/// map an arena at its first `free`, 64 MiB of address space set up and torn down again at
/// exit. A cached hello-world run: 0.97x the time with no arena for the signals' thread, a
/// cold one 0.99x (taking turns); one arena from the start made cold compiles 7% slower,
/// hence not before the module is compiled.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn no_more_malloc_arenas() {
    // SAFETY: mallopt only sets one of the allocator's parameters. An arena count at or below
    // the arenas already made is valid: new threads then reuse those. A refusal (0) leaves
    // the allocator as it was.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Other allocators keep their own counsel.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn no_more_malloc_arenas() {}

/// The status and message of a library error; `--fuel`'s exhaustion has its own.
fn failure(err: wasirun::Error, cli: &Cli) -> Failure {
    let status = match &err {
        wasirun::Error::Read { .. } => Status::NoModule,
        wasirun::Error::InvalidModule(_) => Status::InvalidModule,
        wasirun::Error::Link(_) => Status::Link,
        wasirun::Error::Limit(_) => Status::Limit,
        wasirun::Error::Trap(_) => match (err.trap(), cli.fuel) {
            (Some(Trap::OutOfFuel), Some(fuel)) => return limits::out_of_fuel(fuel),
            _ => Status::Trap,
        },
        wasirun::Error::Internal(_) => Status::Internal,
    };
    Failure::new(status, err.to_string())
}

/// `--invoke NAME`: calls the export `NAME` with `args` as its parameters and prints its
/// results, one per line. Arguments that do not fit the function end the run as a trap would.
fn invoke<S: System + Preview0 + Wasmedge + 'static>(
    linked: &Linked<S>,
    store: &mut wasmtime::Store<wasirun::Guest<S>>,
    name: &str,
    cli: &Cli,
) -> Result<i32, Failure> {
    let args = &cli.args;
    let refused =
        |why: String| Failure::new(Status::Trap, format!("error: --invoke {name}: {why}"));
    let Some(ExternType::Func(ty)) = linked.module().get_export(name) else {
        return Err(refused(format!("no function `{name}`")));
    };
    if ty.params().len() != args.len() {
        return Err(refused(format!(
            "`{name}` takes {} parameters, {} given",
            ty.params().len(),
            args.len()
        )));
    }
    let mut params = Vec::with_capacity(args.len());
    for (param, arg) in ty.params().zip(args) {
        let arg = arg.to_string_lossy();
        let bad = || refused(format!("{arg:?} is not an {param}"));
        params.push(match param {
            ValType::I32 => Val::I32(
                arg.parse::<i32>()
                    .or_else(|_| arg.parse::<u32>().map(|u| u as i32))
                    .map_err(|_| bad())?,
            ),
            ValType::I64 => Val::I64(
                arg.parse::<i64>()
                    .or_else(|_| arg.parse::<u64>().map(|u| u as i64))
                    .map_err(|_| bad())?,
            ),
            ValType::F32 => Val::F32(arg.parse::<f32>().map_err(|_| bad())?.to_bits()),
            ValType::F64 => Val::F64(arg.parse::<f64>().map_err(|_| bad())?.to_bits()),
            _ => {
                return Err(refused(format!(
                    "parameters of type {param} cannot be given"
                )));
            }
        });
    }
    let results = match linked.invoke(store, name, &params) {
        Ok(Invoked::Returned(results)) => results,
        Ok(Invoked::Exited(code)) => return Ok(code),
        Err(e) => return Err(failure(e, cli)),
    };
    let mut out = std::io::stdout().lock();
    for result in results {
        let line = match result {
            Val::I32(v) => v.to_string(),
            Val::I64(v) => v.to_string(),
            Val::F32(bits) => f32::from_bits(bits).to_string(),
            Val::F64(bits) => f64::from_bits(bits).to_string(),
            other => format!("{other:?}"),
        };
        let _ = writeln!(out, "{line}");
    }
    Ok(0)
}
