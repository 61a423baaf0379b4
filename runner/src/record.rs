//! `wasirun record` and `wasirun replay`: a run's every WASI call logged
//! ([`wasirun_wasi::record::Recorder`], the outermost layer of the Unix system), and the module
//! run again from the log alone ([`wasirun_wasi::record::Replayer`]): no file, socket, clock or
//! random source of this machine is used, the guest's stdout and stderr are written as in the
//! recorded run, and its exit status is the same. The recorder sits under [`Unstable`], which
//! serves preview 0 over preview 1, so the replay puts [`Unstable`] over the replayer too: a
//! `wasi_unstable` module replays as it ran.

use crate::cache::{self, Cache};
use crate::status::{Failure, Status, one_line};
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use wasirun_wasi::preview0::Preview0;
use wasirun_wasi::record::{Ending, Header, Recorder, Replayer, module_hash};
use wasirun_wasi::trace::TraceOptions;
use wasirun_wasi::{
    Errno, Host, I32Exit, Size, System, SystemDelegate, Tracer, Unstable, Wasmedge,
    WasmedgeDelegate,
};
use wasmtime::{Config, Engine, Linker, Module, Store, UpdateDeadline};

/// Wraps `system` in a recorder writing to `log`, the header naming `module`.
pub fn recorder<S: System + Wasmedge>(
    system: S,
    log: &Path,
    module: &Path,
    full_writes: bool,
) -> Result<Recorder<S>, Failure> {
    let wasm = std::fs::read(module).map_err(|e| {
        Failure::new(
            Status::NoModule,
            format!("cannot read module {}: {e}", module.display()),
        )
    })?;
    let mut header = Header::new(&module.display().to_string(), &wasm);
    header.full_writes = full_writes;
    let cannot = |e: &dyn std::fmt::Display| {
        Failure::new(
            Status::TraceFile,
            format!("cannot write the log {}: {e}", log.display()),
        )
    };
    let file = std::fs::File::create(log).map_err(|e| cannot(&e))?;
    Recorder::new(system, file, header).map_err(|e| cannot(&e))
}

/// Logs how the run `ended` as the log's end: the exit status, and for a run that failed or
/// was stopped the message wasirun ended it with, so that its replay ends the same way.
pub fn end(ending: &Ending, ended: &Result<i32, Failure>) {
    match ended {
        Ok(status) => ending.end(*status, ""),
        Err(failure) => ending.end(failure.status.code(), &failure.message),
    }
}

/// Runs the module of the log at `log` (`module`, or the one the log names) from the log: the
/// guest's exit status, or why there is none (a divergence, a log that does not read).
/// `args`, when given, are the guest's arguments after `argv[0]` (the module's file name), which
/// must be the recorded ones: else the replay diverges at the first call that reads them.
pub fn replay(
    log: &Path,
    module: Option<&Path>,
    args: Option<&[OsString]>,
    trace: bool,
) -> Result<i32, Failure> {
    let bad_log = |e: &dyn std::fmt::Display| {
        Failure::new(
            Status::InvalidModule,
            format!("cannot replay {}: {e}", log.display()),
        )
    };
    let file = std::fs::File::open(log).map_err(|e| bad_log(&e))?;
    let replayer = Replayer::new(std::io::BufReader::new(file)).map_err(|e| bad_log(&e))?;
    let module = module
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(&replayer.header().module));
    let wasm = std::fs::read(&module).map_err(|e| {
        Failure::new(
            Status::NoModule,
            format!("cannot read module {}: {e}", module.display()),
        )
    })?;
    if module_hash(&wasm) != replayer.header().module_sha256 {
        return Err(bad_log(&format!(
            "it is a log of another module than {} (SHA-256 differs)",
            module.display()
        )));
    }
    let argv = args.map(|args| {
        let mut argv = vec![crate::cli::default_argv0(&module)];
        argv.extend(args.iter().cloned());
        Argv::new(&argv)
    });
    // Epoch checks, so that a guest stopped in its own code in the recorded run (after its
    // last call) is stopped at the same point of the log here.
    let engine = Engine::new(
        Config::new()
            .parallel_compilation(true)
            .epoch_interruption(true),
    )
    .map_err(|e| Failure::new(Status::Internal, one_line(&e)))?;
    let ended = Arc::new(AtomicBool::new(false));
    let (flag, ticker) = (Arc::clone(&ended), engine.clone());
    let replayer = Unstable::new(Given {
        replayer: replayer
            .output(1, std::io::stdout())
            .output(2, std::io::stderr())
            .on_end(move || {
                flag.store(true, Ordering::SeqCst);
                ticker.increment_epoch();
            }),
        argv,
    });
    let cache = Cache::from_env();
    let (compiled, stored) = cache::load_or_compile(&engine, &wasm, cache.as_ref())
        .map_err(|e| Failure::new(Status::InvalidModule, one_line(&e)))?;
    let ended = if trace {
        let tracer = Tracer::new(replayer, std::io::stderr(), TraceOptions::default());
        let (ran, mut tracer) = run(&engine, &compiled, tracer, ended);
        finish(ran, &mut tracer.inner_mut().inner_mut().replayer)
    } else {
        let (ran, mut given) = run(&engine, &compiled, replayer, ended);
        finish(ran, &mut given.inner_mut().replayer)
    };
    if let Some(stored) = stored {
        let _ = stored.join();
    }
    ended
}

/// The exit status, unless the replay diverged or the log did not read. A guest that the
/// replay stopped at the recorded run's end (or that trapped there) ends as that run did.
fn finish(ended: Result<i32, Failure>, replayer: &mut Replayer) -> Result<i32, Failure> {
    match replayer.finish() {
        Err(e) => Err(Failure::new(Status::Internal, format!("replay: {e}"))),
        Ok(()) => match (ended, replayer.recorded_end()) {
            (Err(_), Some((status, ""))) => Ok(status),
            (Err(_), Some((status, message))) => {
                Err(Failure::new(Status::Recorded(status), message))
            }
            (ended, _) => ended,
        },
    }
}

/// Runs `_start` on `system`, stopped at its next epoch check once `ended` is set: the exit
/// status (or the trap) and the system.
fn run<S: System + Preview0 + Wasmedge + 'static>(
    engine: &Engine,
    module: &Module,
    system: S,
    ended: Arc<AtomicBool>,
) -> (Result<i32, Failure>, S) {
    let mut store = Store::new(engine, Host::new(system));
    store.epoch_deadline_callback(move |_| {
        Ok(if ended.load(Ordering::SeqCst) {
            UpdateDeadline::Interrupt
        } else {
            UpdateDeadline::Continue(1)
        })
    });
    store.set_epoch_deadline(1);
    let ended = call_start(engine, module, &mut store);
    (ended, store.into_data().into_system())
}

fn call_start<S: System + Preview0 + Wasmedge + 'static>(
    engine: &Engine,
    module: &Module,
    store: &mut Store<Host<S>>,
) -> Result<i32, Failure> {
    let mut linker = Linker::<Host<S>>::new(engine);
    let link = |e: wasmtime::Error| Failure::new(Status::Link, one_line(&e));
    wasirun::add_to_linker(&mut linker, module, true, |h| h).map_err(link)?;
    let instance = linker.instantiate(&mut *store, module).map_err(link)?;
    if let Some(memory) = instance.get_memory(&mut *store, "memory") {
        store.data_mut().set_memory(memory);
    }
    let start = instance
        .get_typed_func::<(), ()>(&mut *store, "_start")
        .map_err(|e| Failure::new(Status::InvalidModule, one_line(&e)))?;
    match start.call(&mut *store, ()) {
        Ok(()) => Ok(0),
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(I32Exit(code)) => Ok(*code),
            None => Err(Failure::new(Status::Trap, one_line(&e))),
        },
    }
}

/// The guest's arguments, NUL-terminated back to back, as `args_get` fills them.
struct Argv {
    count: Size,
    bytes: Vec<u8>,
}

impl Argv {
    fn new(args: &[OsString]) -> Self {
        let mut bytes = Vec::new();
        for a in args {
            bytes.extend_from_slice(a.as_bytes());
            bytes.push(0);
        }
        Argv {
            count: args.len() as Size,
            bytes,
        }
    }
}

/// The replayer, with the guest's arguments given anew when `argv` is: the calls that read
/// them are still replayed from the log, and an answer that differs is a divergence.
struct Given {
    replayer: Replayer,
    argv: Option<Argv>,
}

impl Given {
    /// Checks the recorded sizes against the given arguments'.
    fn sizes(&mut self, recorded: Result<(Size, Size), Errno>) -> Result<(Size, Size), Errno> {
        let recorded = recorded?;
        let Some(argv) = &self.argv else {
            return Ok(recorded);
        };
        let given = (argv.count, argv.bytes.len() as Size);
        if recorded != given {
            return Err(self.replayer.diverge(
                format!("args_sizes_get() = {recorded:?}"),
                format!("args_sizes_get() = {given:?} (the arguments given)"),
            ));
        }
        Ok(given)
    }
}

impl SystemDelegate for Given {
    fn delegate(&mut self) -> impl System {
        &mut self.replayer
    }

    fn args_sizes_get(&mut self) -> Result<(Size, Size), Errno> {
        let recorded = System::args_sizes_get(&mut self.replayer);
        self.sizes(recorded)
    }

    fn sizes_for_args_get(&mut self) -> Result<(Size, Size), Errno> {
        let recorded = System::sizes_for_args_get(&mut self.replayer);
        self.sizes(recorded)
    }

    fn args_get(&mut self, argv_buf: &mut [u8]) -> Result<(), Errno> {
        System::args_get(&mut self.replayer, argv_buf)?;
        match &self.argv {
            Some(argv) if argv.bytes != argv_buf => {
                let recorded = String::from_utf8_lossy(argv_buf).replace('\0', " ");
                let given = String::from_utf8_lossy(&argv.bytes).replace('\0', " ");
                Err(self.replayer.diverge(
                    format!("args_get() = {:?}", recorded.trim_end()),
                    format!("args_get() = {:?} (the arguments given)", given.trim_end()),
                ))
            }
            _ => Ok(()),
        }
    }
}

impl WasmedgeDelegate for Given {
    fn delegate(&mut self) -> impl Wasmedge {
        &mut self.replayer
    }
}
