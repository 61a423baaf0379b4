//! `wasirun`: run a WASI preview 1 program on wasmtime, with the Unix system of
//! [`wasirun_unix`] behind the [`wasirun_wasi`] glue.
//!
//! ```text
//! wasirun [run] [OPTIONS] <MODULE> [--] [ARGS]...
//! wasirun cache info|clean
//! wasirun completions SHELL
//! wasirun man
//! ```
//!
//! The pipeline, one file each: [`cli`] (the command line), [`run`] (read, set up the system,
//! compile or load from [`cache`], link, call `_start`), [`status`] (exit statuses and the
//! one-line errors). `runner/README.md` lists the flags and statuses; `wasirun --help` prints
//! them too.
//!
//! Wasmtime runs wasm on the calling thread's stack in sync mode and only checks the wasm part
//! of it, so that stack must hold `--max-wasm-stack` plus [`run::HOST_STACK`] for the host
//! functions called at the deepest point. The main thread runs the guest when its stack may
//! grow that far ([`main_stack_holds`]); otherwise (Go's test wrapper asks for 8 MiB of wasm
//! stack, as much as the main thread's whole default stack) a thread of its own with that
//! stack does. Starting, and later tearing down, a thread with its own stack and `malloc`
//! arena cost a hello-world run a tenth of its time.
#![warn(missing_docs)]

mod cache;
mod cli;
mod limits;
mod record;
mod run;
mod status;

use status::Status;
use std::io::Write;

fn main() {
    let cli = match cli::parse() {
        cli::Invocation::Run(cli) => cli,
        cli::Invocation::Command(command) => std::process::exit(run_command(command)),
    };
    let stack = usize::try_from(cli.max_wasm_stack)
        .unwrap_or(usize::MAX)
        .saturating_add(run::HOST_STACK);
    let joined = if main_stack_holds(stack) {
        Ok(Ok(run::run(&cli)))
    } else {
        std::thread::Builder::new()
            .name("wasirun".into())
            .stack_size(stack)
            .spawn(move || run::run(&cli))
            .map(|guest| guest.join())
    };
    // A last resort (a stopped guest that did not unwind in time) may be ending the process
    // from another thread: it prints and exits, this thread waits for it.
    if !limits::claim_exit() {
        loop {
            std::thread::park();
        }
    }
    let code = match joined {
        Ok(joined) => match joined {
            Ok(Ok(code)) => code,
            Ok(Err(failure)) => {
                eprintln!("{failure}");
                failure.status.code()
            }
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(e) => {
            eprintln!("wasirun: cannot start the guest's thread: {e}");
            Status::Internal.code()
        }
    };
    std::process::exit(code);
}

/// Whether the main thread's stack may grow to `stack` bytes more than it is now. Linux grows
/// it on demand up to `RLIMIT_STACK`, which also counts the arguments and environment above
/// it: those may take a quarter of the limit (`execve(2)`), and what wasirun has used so far is
/// well within [`MAIN_USED`]. Unlimited is room enough.
fn main_stack_holds(stack: usize) -> bool {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Stack).current;
    limit.is_none_or(|limit| {
        let room = limit - limit / 4;
        room.saturating_sub(MAIN_USED) >= stack as u64
    })
}

/// A bound on the main thread's stack wasirun uses before it runs the guest.
const MAIN_USED: u64 = 256 << 10;

/// Runs a command other than running a module; its exit status.
fn run_command(command: cli::Command) -> i32 {
    if let cli::Command::Replay {
        log,
        module,
        args,
        trace,
    } = &command
    {
        return match record::replay(log, module.as_deref(), args.as_deref(), *trace) {
            Ok(code) => code,
            Err(failure) => {
                eprintln!("{failure}");
                failure.status.code()
            }
        };
    }
    match command_output(command) {
        Ok(()) => 0,
        // `wasirun man | head`: the reader had enough.
        Err(e)
            if e.root_cause()
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            0
        }
        Err(e) => {
            eprintln!("wasirun: {e:#}");
            Status::Internal.code()
        }
    }
}

/// Does what `command` asks, printing to stdout.
fn command_output(command: cli::Command) -> anyhow::Result<()> {
    use anyhow::Context;
    let mut stdout = std::io::stdout().lock();
    match command {
        cli::Command::Completions { shell } => {
            clap_complete::generate(shell, &mut cli::command(), "wasirun", &mut stdout);
        }
        cli::Command::Man => clap_mangen::Man::new(cli::command())
            .render(&mut stdout)
            .context("cannot write the man page")?,
        cli::Command::Replay { .. } => unreachable!("run_command replays"),
        cli::Command::Cache { action } => {
            let cache = cache::Cache::from_env()
                .context("no cache directory: neither XDG_CACHE_HOME nor HOME is set")?;
            let dir = cache.dir().display();
            match action {
                cli::CacheAction::Info => {
                    let info = cache
                        .info()
                        .with_context(|| format!("cannot read the cache in {dir}"))?;
                    write!(stdout, "{info}")?;
                }
                cli::CacheAction::Clean => {
                    let removed = cache
                        .clean()
                        .with_context(|| format!("cannot clean the cache in {dir}"))?;
                    writeln!(stdout, "removed {removed} entries from {dir}")?;
                }
            }
        }
    }
    Ok(())
}
