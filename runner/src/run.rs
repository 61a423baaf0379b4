//! Running a module, in the order its failures are reported: read it, open the preopened
//! directories, compile (or load from the cache), check it is a command, link, make the
//! preopened sockets, call `_start`, and say how it ended.
//!
//! The sockets come last on purpose: a `--dial` peer sees the connection, and a `--listen`
//! port accepts, only once the guest is about to use them, however long compiling took (an
//! uncached 25 MB Go module takes longer than many peers' idle timeouts).

use crate::cache::{self, Cache};
use crate::cli::{self, Cli, Sockets, TraceFormat};
use crate::limits::{self, Farewell, Limits, StdioFlags, Stopper, Watchdog};
use crate::status::{Failure, Status, one_line};
use std::io::Write;
use std::num::NonZeroUsize;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::sync::{Arc, Mutex};
use wasirun_unix::mem::{MemFs, Mounted, Tree};
use wasirun_unix::{Builder, DirMode, Policy, SocketUrls, UnixSystem};
use wasirun_wasi::preview0::{self, Preview0};
use wasirun_wasi::trace::{Format, Sink, Summary, TraceOptions};
use wasirun_wasi::{Host, I32Exit, System, Tracer, Unstable, Wasmedge, preview1, wasmedge};
use wasmtime::{
    Config, Engine, ExternType, Linker, Module, OptLevel, Store, StoreLimits, Strategy, Trap, Val,
    ValType, WasmBacktrace, WasmBacktraceDetails,
};

/// The store's data: the WASI host and the limits wasmtime asks about each growth.
struct Guest<S> {
    host: Host<S>,
    limits: StoreLimits,
}

/// Stack left to host functions below the deepest wasm frame, and to wasirun before it enters
/// wasm: the thread that runs the guest gets `--max-wasm-stack` plus this.
pub const HOST_STACK: usize = 8 << 20;

/// Runs the module the command line names; the guest's exit status, or why there is none.
pub fn run(cli: &Cli) -> Result<i32, Failure> {
    let module_name = cli.module.display();
    let wasm = std::fs::read(&cli.module).map_err(|e| {
        Failure::new(
            Status::NoModule,
            format!("cannot read module {module_name}: {e}"),
        )
    })?;
    let mut builder = unix_builder(cli)?;
    let trace = if cli.trace {
        Some(trace_sink(cli)?)
    } else {
        None
    };
    let summary = cli.trace_summary.then(Summary::new);
    // The table is said once, after the guest: here, or by a last resort that ends the process.
    let farewell = match &summary {
        Some(summary) => {
            let (summary, trace) = (summary.clone(), trace.clone());
            Farewell::new(move || print_summary(&summary, trace.as_ref()))
        }
        None => Farewell::default(),
    };
    if let Some(why) = not_a_module(&wasm) {
        return Err(Failure::new(
            Status::InvalidModule,
            format!("invalid module {module_name}: {why}"),
        ));
    }
    let engine = engine(cli)?;
    let cache = if cli.no_cache {
        None
    } else {
        Cache::from_env()
    };
    let (module, stored) = cache::load_or_compile(&engine, &wasm, cache.as_ref()).map_err(|e| {
        Failure::new(
            Status::InvalidModule,
            format!("invalid module {module_name}: {}", one_line(&e)),
        )
    })?;
    drop(wasm);
    let result = check_entry(&module, cli.invoke.as_deref())
        .map_err(|why| {
            Failure::new(
                Status::InvalidModule,
                format!("invalid module {module_name}: {why}"),
            )
        })
        .and_then(|()| match (&trace, &summary) {
            (Some(sink), summary) => {
                let options = TraceOptions {
                    format: match cli.trace_format {
                        TraceFormat::Text => Format::Text,
                        TraceFormat::Json => Format::Json,
                    },
                    string_size: cli.trace_string_size,
                };
                start(&engine, &module, cli, &mut builder, &farewell, |system| {
                    let tracer = Tracer::with_sink(system, sink.clone(), options);
                    match summary {
                        Some(summary) => tracer.summarize(summary.clone()),
                        None => tracer,
                    }
                })
            }
            (None, Some(summary)) => {
                start(&engine, &module, cli, &mut builder, &farewell, |system| {
                    Tracer::summary_only(system, summary.clone())
                })
            }
            (None, None) => start(&engine, &module, cli, &mut builder, &farewell, |system| {
                system
            }),
        });
    farewell.say();
    // The entry is renamed into place whole or not at all; waiting only keeps a short-lived
    // guest from leaving its temporary file behind.
    if let Some(stored) = stored {
        let _ = stored.join();
    }
    result
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

/// Why `wasm` is not a preview 1 module, when that is plain before wasmtime looks: a component
/// (preview 2), or a file that is neither binary nor text WebAssembly (a WAT parse error would
/// only say where the first token went wrong).
fn not_a_module(wasm: &[u8]) -> Option<&'static str> {
    const COMPONENT: &str = "a component (WASI preview 2): wasirun runs preview 1 modules \
                             (built for wasm32-wasip1)";
    if let Some(version) = wasm.strip_prefix(b"\0asm") {
        // A component's version field is 0x0d and its layer 1; a module's layer is 0.
        return (version.get(2..4) == Some(&[1, 0])).then_some(COMPONENT);
    }
    let Ok(text) = std::str::from_utf8(wasm) else {
        return Some("not WebAssembly (neither binary nor text)");
    };
    let mut rest = text.trim_start_matches('\u{feff}');
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix(";;") {
            rest = after.split_once('\n').map_or("", |(_, next)| next);
        } else if let Some(after) = rest.strip_prefix("(;") {
            rest = after.split_once(";)").map_or("", |(_, next)| next);
        } else {
            break;
        }
    }
    if rest.starts_with("(component") {
        return Some(COMPONENT);
    }
    (!rest.starts_with('(')).then_some("not WebAssembly (neither binary nor text)")
}

/// Checks that `module` is a WASI command, exporting `_start: func() -> ()`, or with
/// `--invoke NAME` that it exports a function `NAME`.
fn check_entry(module: &Module, invoke: Option<&str>) -> Result<(), String> {
    if let Some(name) = invoke {
        return match module.get_export(name) {
            Some(ExternType::Func(_)) => Ok(()),
            Some(_) => Err(format!("--invoke {name}: `{name}` is not a function")),
            None => Err(format!("--invoke {name}: no export `{name}`")),
        };
    }
    match module.get_export("_start") {
        Some(ExternType::Func(f)) if f.params().len() == 0 && f.results().len() == 0 => Ok(()),
        Some(ExternType::Func(f)) => Err(format!(
            "`_start` has type {f}, not `(func)`: it is not a WASI command"
        )),
        Some(_) => Err("`_start` is not a function: it is not a WASI command".into()),
        None => Err("no `_start` function: it is not a WASI command".into()),
    }
}

/// Links `module` with WASI, then makes the preopened sockets and the system (`wrap` puts the
/// tracer around it), instantiates the module and calls `_start`; a last resort that ends the
/// process says `farewell` first.
///
/// Preview 0 (`wasi_unstable`, old binaries) is linked beside preview 1 and served by the same
/// Unix system through [`Unstable`], inside the tracer, so its calls are traced with preview 0's
/// values.
///
/// Unless `--sockets none` or `path_open`, the WasmEdge socket functions the module imports are
/// linked too, each in the form its import's arity asks for. Imports that preview 1 answers
/// (same name and arity: `sock_accept` with 3 parameters, `sock_recv`...) stay preview 1's.
fn start<S: System + Preview0 + Wasmedge + 'static>(
    engine: &Engine,
    module: &Module,
    cli: &Cli,
    builder: &mut Builder,
    farewell: &Farewell,
    wrap: impl FnOnce(Unstable<Layered>) -> S,
) -> Result<i32, Failure> {
    let sockets = cli.sockets;
    let mut linker = Linker::<Guest<S>>::new(engine);
    let define = |e: wasmtime::Error| {
        Failure::new(
            Status::Internal,
            format!("cannot define WASI: {}", one_line(&e)),
        )
    };
    wasirun_wasi::add_to_linker(&mut linker, |g: &mut Guest<S>| &mut g.host).map_err(define)?;
    preview0::add_to_linker(&mut linker, |g| &mut g.host).map_err(define)?;
    if matches!(sockets, Sockets::Auto | Sockets::Wasmedge) {
        linker.allow_shadowing(true);
        wasmedge::add_imports_to_linker(&mut linker, module, preview1::IMPORTS, |g| &mut g.host)
            .map_err(define)?;
    }
    let pre = match linker.instantiate_pre(module) {
        Ok(pre) => pre,
        Err(e) => {
            // Naming the import needs a store; the system without its sockets serves.
            let system = wrap(Unstable::new(Box::new(build_system(builder)?)));
            let mut store = new_store(engine, cli, system)?;
            return Err(instantiate_failure(&linker, &mut store, module, e, cli));
        }
    };
    let mem = mounts(cli)?;
    preopen_sockets(cli, builder)?;
    let stdio = StdioFlags::save();
    let system = build_system(builder)?;
    let stopper = Stopper::new(system.stop_handle(), stdio, farewell.clone());
    limits::signals::install(stopper.clone()).map_err(|e| {
        Failure::new(
            Status::Internal,
            format!("cannot handle SIGINT, SIGTERM and SIGHUP: {e}"),
        )
    })?;
    let layered = layers(cli, system, mem)?;
    let layered: Layered = match &cli.record {
        Some(log) => Box::new(crate::record::recorder(
            layered,
            log,
            &cli.module,
            cli.record_full_writes,
        )?),
        None => layered,
    };
    let mut store = new_store(engine, cli, wrap(Unstable::new(layered)))?;
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
    let ended = run_guest(&linker, &pre, &mut store, module, cli);
    // However the guest ended (a trap, or a call or exit that raced the stop), a stopped guest
    // is reported as stopped. The store, and with it the system, drops on the way out.
    match stopper.reason() {
        Some(reason) => Err(Stopper::failure(reason)),
        None => ended,
    }
}

/// Instantiates the module (running its start function) and calls its entry: the guest's
/// exit status, or why it has none.
fn run_guest<S: System + Wasmedge + 'static>(
    linker: &Linker<Guest<S>>,
    pre: &wasmtime::InstancePre<Guest<S>>,
    store: &mut Store<Guest<S>>,
    module: &Module,
    cli: &Cli,
) -> Result<i32, Failure> {
    let instance = match pre.instantiate(&mut *store) {
        Ok(instance) => instance,
        Err(e) => return Err(instantiate_failure(linker, store, module, e, cli)),
    };
    // The store's one instance: its calls take the memory directly, without a lookup each.
    if let Some(memory) = instance.get_memory(&mut *store, "memory") {
        store.data_mut().host.set_memory(memory);
    }
    let called = match &cli.invoke {
        Some(name) => invoke(store, &instance, name, &cli.args),
        None => instance
            .get_typed_func::<(), ()>(&mut *store, "_start")
            .map_err(|e| Failure::new(Status::InvalidModule, one_line(&e)))?
            .call(&mut *store, ()),
    };
    match called {
        Ok(()) => Ok(0),
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(I32Exit(code)) => Ok(*code),
            None => Err(aborted(&e, cli)),
        },
    }
}

/// A store for `system` with the command line's limits and fuel.
fn new_store<S>(engine: &Engine, cli: &Cli, system: S) -> Result<Store<Guest<S>>, Failure> {
    let limits = Limits {
        max_memory: cli.max_memory,
        max_table_elements: cli.max_table_elements,
        max_instances: cli.max_instances,
        max_tables: cli.max_tables,
        max_memories: cli.max_memories,
        trap_on_grow_failure: cli.trap_on_grow_failure,
    };
    let mut store = Store::new(
        engine,
        Guest {
            host: Host::new(system),
            limits: limits.store_limits(),
        },
    );
    store.limiter(|g| &mut g.limits);
    if let Some(fuel) = cli.fuel {
        store.set_fuel(fuel).map_err(|e| {
            Failure::new(
                Status::Internal,
                format!("cannot set fuel: {}", one_line(&e)),
            )
        })?;
    }
    Ok(store)
}

/// `--invoke NAME`: calls the export `NAME` with `args` as its parameters and prints its
/// results, one per line.
fn invoke<T>(
    store: &mut Store<T>,
    instance: &wasmtime::Instance,
    name: &str,
    args: &[std::ffi::OsString],
) -> wasmtime::Result<()> {
    let func = instance
        .get_func(&mut *store, name)
        .ok_or_else(|| wasmtime::format_err!("--invoke {name}: no function `{name}`"))?;
    let ty = func.ty(&*store);
    if ty.params().len() != args.len() {
        wasmtime::bail!(
            "--invoke {name}: `{name}` takes {} parameters, {} given",
            ty.params().len(),
            args.len()
        );
    }
    let mut params = Vec::with_capacity(args.len());
    for (param, arg) in ty.params().zip(args) {
        let arg = arg.to_string_lossy();
        let bad = || wasmtime::format_err!("--invoke {name}: {arg:?} is not an {param}");
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
            _ => wasmtime::bail!("--invoke {name}: parameters of type {param} cannot be given"),
        });
    }
    let mut results = vec![Val::I32(0); ty.results().len()];
    func.call(&mut *store, &params, &mut results)?;
    let mut out = std::io::stdout().lock();
    for result in results {
        let line = match result {
            Val::I32(v) => v.to_string(),
            Val::I64(v) => v.to_string(),
            Val::F32(bits) => f32::from_bits(bits).to_string(),
            Val::F64(bits) => f64::from_bits(bits).to_string(),
            other => format!("{other:?}"),
        };
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// Why instantiation failed: an import the linker lacks or defines with another type (named
/// precisely, as wasmtime's own message does), a trap in the module's start function, or a
/// resource failure.
fn instantiate_failure<T: 'static>(
    linker: &Linker<T>,
    store: &mut Store<T>,
    module: &Module,
    err: wasmtime::Error,
    cli: &Cli,
) -> Failure {
    for import in module.imports() {
        let (m, n) = (import.module(), import.name());
        // An error here means "missing definition" (or out of memory, which the lookup that
        // instantiate did first would have hit already).
        match linker.get(&mut *store, m, n) {
            Err(_) => {
                return Failure::new(
                    Status::Link,
                    format!("unknown import: {m}::{n} has not been defined"),
                );
            }
            Ok(found) => {
                let found = found.ty(&*store);
                let compatible = match (import.ty(), &found) {
                    (ExternType::Func(want), ExternType::Func(have)) => have.matches(&want),
                    _ => false,
                };
                if !compatible {
                    return Failure::new(
                        Status::Link,
                        format!(
                            "incompatible import: {m}::{n} is imported as {}, defined as {}",
                            describe(&import.ty()),
                            describe(&found)
                        ),
                    );
                }
            }
        }
    }
    if limits::is_limit_error(&err) {
        return Failure::new(
            Status::Limit,
            format!("cannot start the module: {}", one_line(&err)),
        );
    }
    if err.downcast_ref::<Trap>().is_some() {
        return aborted(&err, cli);
    }
    Failure::new(
        Status::Internal,
        format!("cannot instantiate: {}", one_line(&err)),
    )
}

/// An import or export's type, for messages.
fn describe(ty: &ExternType) -> String {
    match ty {
        ExternType::Func(f) => f.to_string(),
        ExternType::Global(_) => "a global".into(),
        ExternType::Table(_) => "a table".into(),
        ExternType::Memory(_) => "a memory".into(),
        ExternType::Tag(_) => "a tag".into(),
    }
}

/// A guest ended by a trap or a host error: the error on the first line, then the backtrace;
/// or by `--fuel`, in one line with its own status (a stop is reported by its reason).
fn aborted(err: &wasmtime::Error, cli: &Cli) -> Failure {
    if let (Some(Trap::OutOfFuel), Some(fuel)) = (err.downcast_ref::<Trap>(), cli.fuel) {
        return limits::out_of_fuel(fuel);
    }
    let backtrace = err.downcast_ref::<WasmBacktrace>().map(|b| b.to_string());
    // The backtrace is attached as the outermost context; print it after the cause, not in it.
    let causes: Vec<String> = err
        .chain()
        .map(|e| e.to_string())
        .filter(|e| Some(e) != backtrace.as_ref())
        .collect();
    let mut message = causes.join(": ").replace('\n', " ");
    if err.downcast_ref::<Trap>().is_none() {
        message.insert_str(0, "error: ");
    }
    if let Some(b) = backtrace {
        message.push('\n');
        message.push_str(&b);
    }
    Failure::new(Status::Trap, message)
}
