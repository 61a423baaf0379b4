//! The command line: what `wasirun --help` prints, and the parsers of the values it takes.

use crate::status::Status;
use clap::builder::{OsStringValueParser, PossibleValuesParser, TypedValueParser};
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

/// `wasirun --version`, with the wasmtime version wasirun is built on (`tests` checks it
/// against the workspace's pin).
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (wasmtime 48.0.8)");

/// `wasirun -h`, after the options.
const AFTER_SHORT_HELP: &str = "\
Options go before MODULE (.wasm or .wat), the guest's arguments after it.
Also: wasirun run MODULE (the same), wasirun record -o LOG MODULE,
wasirun replay LOG, wasirun cache info|clean, wasirun completions SHELL,
wasirun man.
'wasirun --help' says more, with the exit statuses and examples.";

/// `wasirun --help`, after the options: what the one-line option helps leave out, the
/// commands, the exit statuses, the environment and examples. Kept under 80 columns.
const AFTER_LONG_HELP: &str = "\
MODULE is WebAssembly, binary (.wasm) or text (.wat), told apart by content.
Options go before MODULE: everything after it is the guest's, except a `--`
right after MODULE. The guest's argv[0] is --argv0, or MODULE's file name
without its directory.

--dir and --dir-ro preopen directories as fds 3, 4, ... in command-line order;
GUEST is the name the guest sees (fd_prestat_dir_name). A --dir-ro directory
and everything below it cannot be created, written, renamed or removed.
--mount-tar reads a tar archive into memory and preopens it after the
directories: the guest reads it and writes into memory, never the archive;
nothing in it leads out (.., symlinks: EPERM).
--env is repeatable, a later value for the same NAME wins; with --env-inherit
the host's environment comes first and --env overrides it.
--enforce-rights refuses (ENOTCAPABLE) calls that an fd's WASI rights do not
allow, as wasi-go does; without it only what the host granted is enforced,
as in wasmtime.
--listen and --dial make a socket before the guest starts (bound and
listening, or connected) and preopen it after the directories, in command-line
order. ADDR is HOST:PORT, :PORT (listen on every interface, dial loopback),
[IPv6]:PORT, or a URL tcp://, tcp4://, tcp6:// (udp:// too) with options
?reuseaddr=0|1&nonblock=0|1&backlog=N&nodelay=0|1 (defaults 1, 1, 128, 1:
guests with their own scheduler, like Go's, expect non-blocking sockets).
--sockets: auto (the default) and wasmedge link the WasmEdge socket functions
the module imports, each in the v1 or v2 form its arity asks for; path_open
lets path_open make sockets from URLs such as tcp+listen://HOST:PORT or
udp+dial://HOST:PORT (same options, but nonblock=0 unless the NONBLOCK fdflag
is given) instead; none gives neither.
Sockets the guest makes may connect and bind nothing unless allowed (EACCES
otherwise): --allow-connect and --allow-bind take 10.0.0.0/8, 127.0.0.1:8080,
[::1]:1000-2000, localhost:80,443 or *:PORTS; --allow-network allows all,
Unix-domain sockets included. Preopened sockets are never checked.
sock_getaddrinfo is EACCES unless --allow-name-lookup or --allow-network.
--max-open-files counts stdio and preopens. --max-wasm-stack: past it the
guest traps with \"call stack exhausted\"; Go's test wrapper asks for 8388608.
Compiled modules are cached, keyed by a hash of the module, the compiler's
configuration and wasmtime's version: a second run maps the compiled code
instead of compiling again. --no-cache neither reads nor writes the cache.
The cache keeps at most WASIRUN_CACHE_MAX_SIZE bytes (default 1 GiB) of
entries used in the last WASIRUN_CACHE_MAX_AGE days (default 30): past either,
the least recently used entries go first.
Limits (defaults run large Go and Rust programs): --max-memory 4G bounds each
linear memory (a memory.grow past it returns -1, or traps with
--trap-on-grow-failure); --max-table-elements 10000000 each table;
--max-instances, --max-tables, --max-memories 10 each. 64-bit memories are
refused unless --memory64. --timeout and --fuel are off by default.
--invoke calls another export than _start, a function with number parameters
(given as the guest's arguments) and results (printed one per line).

Commands (the first argument; a module named like one runs as ./NAME):
  wasirun run [OPTIONS] MODULE [ARGS]...  the same as without `run`
  wasirun record -o LOG [OPTIONS] MODULE [ARGS]...
                                          run, logging every WASI call and
                                          its results into LOG (--record LOG)
  wasirun replay [--trace] LOG [MODULE] [-- ARGS]...
                                          run MODULE again from LOG alone:
                                          same stdout, stderr and exit
                                          status (70 when it diverges)
  wasirun cache info                      where the cache is, its size, limits
  wasirun cache clean                     remove every cache entry
  wasirun completions SHELL               print a completion script (bash,
                                          zsh, fish, elvish, powershell)
  wasirun man                             print the man page (roff)

Exit status:
  0      _start returned, or the guest called proc_exit(0)
  N      the guest called proc_exit(N) (the system keeps the low 8 bits)
  2      bad command line
  64     a --dir or --dir-ro directory cannot be opened, a --mount-tar
         archive read, or a --listen or --dial socket made
  65     invalid module: not WebAssembly (binary or text), does not validate,
         or has no `_start` function (it is not a WASI command)
  66     the module file cannot be read
  69     the module cannot be linked: it imports something wasirun does not
         define (unknown import), or with another type
  70     internal error in wasirun
  73     the --trace-file cannot be created
  77     a limit refused the module as it started: initial memory over
         --max-memory, a table over --max-table-elements, or more instances,
         tables or memories than --max-instances, --max-tables, --max-memories
  124    the guest ran past --timeout (even when blocked in a host call)
  125    the guest used all of its --fuel
  129, 130, 143  SIGHUP, SIGINT or SIGTERM stopped the guest (128 + signal);
         the parent's stdio flags are put back first
  134    the guest was aborted: a trap (unreachable, out-of-bounds access, call
         stack exhausted...) or a fatal host error; the wasm backtrace follows

Environment:
  XDG_CACHE_HOME              the cache is $XDG_CACHE_HOME/wasirun
                              (default: ~/.cache/wasirun)
  WASMTIME_BACKTRACE_DETAILS  1: show file and line numbers in trap backtraces,
                              from the module's DWARF (slower compilation)
  WASIRUN_CACHE_MAX_SIZE      the cache's size bound in bytes, or with a K,
                              M or G suffix (powers of 1024; default 1G)
  WASIRUN_CACHE_MAX_AGE       days an unused cache entry is kept (default 30)

Examples:
  wasirun --dir . runner/examples/hello.wat one two
      run a module on the current directory with two arguments
  wasirun --dir /data::/ --env-inherit --env DEBUG=1 app.wasm --verbose
      /data as the guest's /, the host's environment and one more variable;
      --verbose is the guest's
  wasirun --trace-file trace.json --trace-format json app.wasm
      every WASI call of the guest as JSON lines
  wasirun --listen 127.0.0.1:8080 server.wasm
      a listening socket as fd 3 (after the --dirs, here none)
  wasirun --invoke add math.wasm 1 2
      call the export `add` with 1 and 2 and print its result";

/// The command line.
#[derive(Parser, Debug)]
#[command(
    name = "wasirun",
    version = VERSION,
    about = "Run a WASI preview 1 program with wasmtime.",
    long_about = None,
    after_help = AFTER_SHORT_HELP,
    after_long_help = AFTER_LONG_HELP,
    term_width = 100
)]
pub struct Cli {
    /// Preopen directory HOST as GUEST (default: HOST), read-write
    #[arg(long = "dir", value_name = "HOST[::GUEST]",
          value_parser = OsStringValueParser::new().try_map(parse_dir))]
    dirs: Vec<Dir>,

    /// Preopen directory HOST as GUEST (default: HOST), read-only
    #[arg(long = "dir-ro", value_name = "HOST[::GUEST]",
          value_parser = OsStringValueParser::new().try_map(parse_dir))]
    dirs_ro: Vec<Dir>,

    /// Preopen the tar ARCHIVE as directory GUEST, in memory (changes stay there)
    #[arg(long = "mount-tar", value_name = "ARCHIVE::GUEST",
          value_parser = OsStringValueParser::new().try_map(parse_mount))]
    pub mount_tar: Vec<Dir>,

    /// Set a guest environment variable (NAME alone: the host's value)
    #[arg(long = "env", value_name = "NAME[=VALUE]",
          value_parser = OsStringValueParser::new().try_map(parse_env))]
    pub env: Vec<Env>,

    /// Pass the host's environment to the guest, before --env
    #[arg(long)]
    pub env_inherit: bool,

    /// The guest's `argv[0]`; by default MODULE's file name.
    #[arg(
        long,
        value_name = "NAME",
        help = "The guest's argv[0] [default: MODULE's file name]"
    )]
    pub argv0: Option<OsString>,

    /// Most files the guest may have open (ENFILE past it)
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub max_open_files: usize,

    /// Most directories read at once (EMFILE past it)
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub max_open_dirs: usize,

    /// Preopen a listening socket (after the dirs, in command-line order)
    #[arg(long = "listen", value_name = "ADDR",
          value_parser = |s: &str| check_socket(s, wasirun_unix::Role::Listen))]
    listen: Vec<String>,

    /// Preopen a connected socket (after the dirs, in command-line order)
    #[arg(long = "dial", value_name = "ADDR",
          value_parser = |s: &str| check_socket(s, wasirun_unix::Role::Dial))]
    dial: Vec<String>,

    /// Socket functions: none, auto, path_open or wasmedge
    #[arg(long, value_name = "MODE", default_value = "auto", hide_possible_values = true,
          value_parser = PossibleValuesParser::new(["none", "auto", "path_open", "wasmedge"])
              .map(|s| match s.as_str() {
                  "none" => Sockets::None,
                  "path_open" => Sockets::PathOpen,
                  "wasmedge" => Sockets::Wasmedge,
                  _ => Sockets::Auto,
              }))]
    pub sockets: Sockets,

    /// Let the guest connect to these addresses (repeatable)
    #[arg(long, value_name = "HOST_OR_CIDR[:PORTS]", value_parser = check_rule)]
    pub allow_connect: Vec<String>,

    /// Let the guest bind these addresses (repeatable)
    #[arg(long, value_name = "HOST_OR_CIDR[:PORTS]", value_parser = check_rule)]
    pub allow_bind: Vec<String>,

    /// Let the guest connect and bind anything, Unix-domain sockets included
    #[arg(long)]
    pub allow_network: bool,

    /// Let the guest resolve names through the host's resolver (sock_getaddrinfo)
    #[arg(long)]
    pub allow_name_lookup: bool,

    /// Put the host's stdin, stdout and stderr in non-blocking mode
    #[arg(long)]
    pub non_blocking_stdio: bool,

    /// Refuse the calls an fd's WASI rights do not allow (ENOTCAPABLE)
    #[arg(long)]
    pub enforce_rights: bool,

    /// Most stack the guest's wasm code may use
    #[arg(long, value_name = "BYTES", default_value_t = 512 * 1024,
          value_parser = clap::value_parser!(u64).range(4096..=1 << 32))]
    pub max_wasm_stack: u64,

    /// Most bytes each linear memory may grow to (K, M, G suffixes)
    #[arg(long, value_name = "SIZE", default_value = "4G",
          value_parser = crate::limits::parse_size)]
    pub max_memory: u64,

    /// Most elements each table may grow to
    #[arg(long, value_name = "N", default_value_t = 10_000_000)]
    pub max_table_elements: u64,

    /// Most instances in the guest's store
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_instances: usize,

    /// Most tables in the guest's store
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_tables: usize,

    /// Most linear memories in the guest's store
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_memories: usize,

    /// Trap when memory.grow or table.grow fails, instead of returning -1
    #[arg(long)]
    pub trap_on_grow_failure: bool,

    /// Accept modules with 64-bit memories (memory64)
    #[arg(long)]
    pub memory64: bool,

    /// Stop the guest after DURATION (500ms, 30s, 2m; exit status 124)
    #[arg(long, value_name = "DURATION", value_parser = crate::limits::parse_duration)]
    pub timeout: Option<std::time::Duration>,

    /// Stop the guest after N units of fuel (about one per instruction; exit status 125)
    #[arg(long, value_name = "N")]
    pub fuel: Option<u64>,

    /// Record every WASI call of the guest and its results into LOG (`wasirun record -o LOG`)
    #[arg(short = 'o', long = "record", value_name = "LOG")]
    pub record: Option<PathBuf>,

    /// Keep in the --record log the bytes the guest writes, not only their length and CRC-32
    #[arg(long = "record-full-writes", requires = "record")]
    pub record_full_writes: bool,

    /// Print every WASI call of the guest to stderr, one line each
    #[arg(long)]
    pub trace: bool,

    /// The trace format
    #[arg(long, value_name = "FORMAT", default_value = "text",
          value_parser = PossibleValuesParser::new(["text", "json"])
              .map(|s| if s == "json" { TraceFormat::Json } else { TraceFormat::Text }))]
    pub trace_format: TraceFormat,

    /// Bytes of a string or buffer that a trace line shows
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub trace_string_size: usize,

    /// Write the trace to PATH instead of stderr (implies --trace)
    #[arg(long, value_name = "PATH")]
    pub trace_file: Option<PathBuf>,

    /// When the guest ends, print calls, errors and time per WASI function (like strace -c)
    #[arg(long)]
    pub trace_summary: bool,

    /// Neither load the module from the compile cache nor store it there
    #[arg(long)]
    pub no_cache: bool,

    /// Call the export NAME instead of `_start`, with ARGS as its parameters
    #[arg(long, value_name = "NAME")]
    pub invoke: Option<String>,

    /// The module to run, then the guest's arguments
    #[arg(value_name = "MODULE", required = true, num_args = 1.., trailing_var_arg = true,
          value_names = ["MODULE", "ARGS"])]
    command: Vec<OsString>,

    /// The module: the first of `command` (filled by [`parse`]).
    #[arg(skip)]
    pub module: PathBuf,

    /// The guest's arguments after `argv[0]`: the rest of `command` without a leading `--`
    /// (filled by [`parse`]).
    #[arg(skip)]
    pub args: Vec<OsString>,

    /// Every preopen in command-line order, --dir and --dir-ro together (filled by [`parse`]).
    #[arg(skip)]
    pub preopens: Vec<Dir>,

    /// Every preopened socket in command-line order, --listen and --dial together (filled by
    /// [`parse`]).
    #[arg(skip)]
    pub sockets_preopened: Vec<(wasirun_unix::Role, String)>,
}

/// `--sockets`: which socket functions the guest gets beyond preview 1's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sockets {
    /// None: preview 1 only, on sockets the host preopened.
    None,
    /// The WasmEdge functions the module imports (the default).
    Auto,
    /// `path_open` makes sockets from URLs (`tcp+listen://HOST:PORT`...).
    PathOpen,
    /// The WasmEdge functions the module imports, asked for by name.
    Wasmedge,
}

/// The trace line format. (Not a clap `ValueEnum`: clap would show these doc comments in a
/// long `--help`, different from `-h`.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceFormat {
    /// `fd_write(1, [iov("hi\n")]) = 3`, like strace.
    Text,
    /// One JSON object per line.
    Json,
}

/// A preopened directory: `--dir` or `--dir-ro`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dir {
    /// The directory on the host.
    pub host: PathBuf,
    /// Its name for the guest (what `fd_prestat_dir_name` returns).
    pub guest: String,
    /// `--dir-ro`.
    pub read_only: bool,
}

/// An `--env` option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Env {
    /// The variable's name.
    pub name: Vec<u8>,
    /// Its value; `None` for `--env NAME`, which passes the host's value.
    pub value: Option<Vec<u8>>,
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Invocation {
    /// Run a module: `wasirun [run] [OPTIONS] MODULE [ARGS]...`.
    Run(Box<Cli>),
    /// One of the other commands.
    Command(Command),
}

/// The commands besides running a module, recognized only as the first argument so that any
/// other MODULE path still runs (a module named like a command runs as `./NAME`).
#[derive(Subcommand, Debug, PartialEq, Eq)]
pub enum Command {
    /// Print a shell completion script
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff)
    Man,
    /// Run a module again from a `wasirun record` log, without the host's files, sockets or clocks
    Replay {
        /// The log
        log: PathBuf,
        /// The module (default: the path the log names); its SHA-256 must be the log's
        module: Option<PathBuf>,
        /// The guest's arguments, checked against the recorded ones (default: the recorded)
        #[arg(last = true, value_name = "ARGS")]
        args: Option<Vec<OsString>>,
        /// Print every replayed call to stderr, as --trace does
        #[arg(long)]
        trace: bool,
    },
    /// Show or empty the compile cache
    Cache {
        /// What to do
        #[command(subcommand)]
        action: CacheAction,
    },
}

/// `wasirun cache ...`.
#[derive(Subcommand, Debug, PartialEq, Eq, Clone, Copy)]
pub enum CacheAction {
    /// Print where the cache is, its entries, their size and the limits
    Info,
    /// Remove every entry
    Clean,
}

/// The commands' command line.
#[derive(Parser, Debug)]
#[command(name = "wasirun", version = VERSION)]
struct Commands {
    #[command(subcommand)]
    command: Command,
}

/// The names [`Command`] answers to as the first argument.
const COMMANDS: [&str; 4] = ["completions", "man", "cache", "replay"];

/// Parses the process's command line, exiting (status 2) on a bad one, or after printing the
/// help or the version (status 0), as clap does.
pub fn parse() -> Invocation {
    parse_from(std::env::args_os().collect())
}

/// Parses `args` (the program's name first), as [`parse`].
fn parse_from(mut args: Vec<OsString>) -> Invocation {
    match args.get(1).and_then(|a| a.to_str()) {
        Some("record") => {
            args.remove(1);
            let cli = parse_run(args);
            if cli.record.is_none() {
                eprintln!("wasirun: record needs -o LOG; see 'wasirun --help'");
                std::process::exit(Status::Usage.code());
            }
            return Invocation::Run(Box::new(cli));
        }
        Some("run") => {
            args.remove(1);
            if args.len() == 1 {
                eprintln!(
                    "wasirun: run needs a MODULE (a module named run runs as ./run); \
                     see 'wasirun --help'"
                );
                std::process::exit(Status::Usage.code());
            }
        }
        Some(name) if COMMANDS.contains(&name) => {
            let commands = Commands::try_parse_from(&args).unwrap_or_else(|e| usage_error(e));
            return Invocation::Command(commands.command);
        }
        _ => {}
    }
    Invocation::Run(Box::new(parse_run(args)))
}

/// The command line of the whole program, commands included, for completion scripts and the
/// man page.
pub fn command() -> clap::Command {
    Cli::command()
        .args_conflicts_with_subcommands(true)
        .subcommand(clap::Command::new("run").about("Run a module (the same as without `run`)"))
        .subcommands(Commands::command().get_subcommands().cloned())
}

/// Parses a command line that runs a module.
fn parse_run(args: Vec<OsString>) -> Cli {
    let matches = Cli::command()
        .try_get_matches_from(args)
        .unwrap_or_else(|e| usage_error(e));
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| usage_error(e));
    cli.preopens = preopens_in_order(&matches, &cli);
    cli.sockets_preopened = sockets_in_order(&matches, &cli);
    // Asking for a trace's file or format is asking for a trace.
    if cli.trace_file.is_some()
        || matches.value_source("trace_format") == Some(ValueSource::CommandLine)
    {
        cli.trace = true;
    }
    let mut command = std::mem::take(&mut cli.command).into_iter();
    cli.module = command.next().map(PathBuf::from).unwrap_or_default();
    cli.args = command.collect();
    if cli.args.first().is_some_and(|a| a == "--") {
        cli.args.remove(0);
    }
    cli
}

/// Exits after `--help` or `--version` as clap does, or with [`Status::Usage`] after a
/// one-line version of clap's error: its paragraphs without the usage and the `--help` hint.
fn usage_error(e: clap::Error) -> ! {
    if !e.use_stderr() {
        e.exit();
    }
    let rendered = e.render().to_string();
    let mut paragraphs = Vec::new();
    for p in rendered.split("\n\n") {
        let p = p.trim();
        if p.is_empty() || p.starts_with("Usage:") || p.starts_with("For more information") {
            continue;
        }
        // clap's "to pass '-S' as a value, use '-- -S'": wrong here, where the guest's
        // arguments go after MODULE, `--` or not.
        if p.starts_with("tip: to pass") {
            paragraphs.push(
                "tip: options go before MODULE, the guest's arguments after it \
                 (wasirun [OPTIONS] MODULE [ARGS]...)"
                    .to_string(),
            );
            continue;
        }
        let words: Vec<&str> = p.split_whitespace().collect();
        paragraphs.push(words.join(" "));
    }
    let message = paragraphs.join("; ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    eprintln!("wasirun: {message}; see 'wasirun --help'");
    std::process::exit(Status::Usage.code());
}

/// Merges `--dir` and `--dir-ro` by their position on the command line: the guest numbers its
/// preopens in that order (fd 3 is the first), so `--dir-ro a --dir b` must not become b, a.
fn preopens_in_order(matches: &ArgMatches, cli: &Cli) -> Vec<Dir> {
    let indexed = |id: &str, dirs: &[Dir], read_only: bool| -> Vec<(usize, Dir)> {
        let indices = matches.indices_of(id).into_iter().flatten();
        indices
            .zip(dirs)
            .map(|(i, d)| {
                (
                    i,
                    Dir {
                        read_only,
                        ..d.clone()
                    },
                )
            })
            .collect()
    };
    let mut all = indexed("dirs", &cli.dirs, false);
    all.extend(indexed("dirs_ro", &cli.dirs_ro, true));
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, d)| d).collect()
}

/// Merges `--listen` and `--dial` by their position on the command line.
fn sockets_in_order(matches: &ArgMatches, cli: &Cli) -> Vec<(wasirun_unix::Role, String)> {
    use wasirun_unix::Role;
    let mut all: Vec<(usize, (Role, String))> = Vec::new();
    for (id, role, addrs) in [
        ("listen", Role::Listen, &cli.listen),
        ("dial", Role::Dial, &cli.dial),
    ] {
        let indices = matches.indices_of(id).into_iter().flatten();
        all.extend(indices.zip(addrs).map(|(i, a)| (i, (role, a.clone()))));
    }
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, s)| s).collect()
}

/// `HOST[::GUEST]`, split at the first `::`, as wasmtime's `--dir` does.
fn parse_dir(s: OsString) -> Result<Dir, String> {
    let bytes = s.as_bytes();
    let (host, guest) = match bytes.windows(2).position(|w| w == b"::") {
        Some(i) => (&bytes[..i], &bytes[i + 2..]),
        None => (bytes, bytes),
    };
    if host.is_empty() {
        return Err("the host directory is empty".into());
    }
    if guest.is_empty() {
        return Err("the guest name is empty".into());
    }
    let guest = std::str::from_utf8(guest)
        .map_err(|_| "the guest name is not UTF-8 (WASI paths are)".to_string())?;
    Ok(Dir {
        host: PathBuf::from(OsStr::from_bytes(host)),
        guest: guest.to_string(),
        read_only: false,
    })
}

/// `ARCHIVE::GUEST` for `--mount-tar`: both parts needed (an archive's name is no guest path).
fn parse_mount(s: OsString) -> Result<Dir, String> {
    if !s.as_bytes().windows(2).any(|w| w == b"::") {
        return Err("expected ARCHIVE::GUEST".into());
    }
    parse_dir(s).map_err(|e| e.replace("host directory", "archive"))
}

/// A `--listen` or `--dial` value that parses (the socket is made later, in order).
fn check_socket(s: &str, role: wasirun_unix::Role) -> Result<String, String> {
    wasirun_unix::Spec::parse_flag(s, role)
        .map(|_| s.to_string())
        .map_err(|e| e.to_string())
}

/// A network rule that parses and resolves.
fn check_rule(s: &str) -> Result<String, String> {
    wasirun_unix::Policy::default()
        .allow_connect(s)
        .map(|_| s.to_string())
        .map_err(|e| e.to_string())
}

/// `NAME=VALUE` or `NAME`.
fn parse_env(s: OsString) -> Result<Env, String> {
    let bytes = s.as_bytes();
    let (name, value) = match bytes.iter().position(|&b| b == b'=') {
        Some(i) => (&bytes[..i], Some(bytes[i + 1..].to_vec())),
        None => (bytes, None),
    };
    if name.is_empty() {
        return Err("the variable name is empty".into());
    }
    if bytes.contains(&0) {
        return Err("NUL bytes cannot be passed".into());
    }
    Ok(Env {
        name: name.to_vec(),
        value,
    })
}

/// The guest's environment: the host's if `inherit`, then `env` in order, a later value
/// replacing an earlier one in place.
pub fn environment(inherit: bool, env: &[Env]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut set = |name: Vec<u8>, value: Vec<u8>| match out.iter_mut().find(|(n, _)| *n == name) {
        Some(entry) => entry.1 = value,
        None => out.push((name, value)),
    };
    if inherit {
        for (name, value) in std::env::vars_os() {
            set(name.into_vec(), value.into_vec());
        }
    }
    for e in env {
        let value = match &e.value {
            Some(v) => v.clone(),
            None => match std::env::var_os(OsStr::from_bytes(&e.name)) {
                Some(v) => v.into_vec(),
                None => continue,
            },
        };
        set(e.name.clone(), value);
    }
    out
}

/// The guest's `argv[0]` when `--argv0` is not given: the module's file name without its
/// directory, as wasmtime does, so the host's paths do not leak into the guest.
pub fn default_argv0(module: &std::path::Path) -> OsString {
    module
        .file_name()
        .unwrap_or(module.as_os_str())
        .to_os_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasmtime_version_matches_the_workspace_pin() {
        let manifest = include_str!("../../Cargo.toml");
        let ours = VERSION
            .split("(wasmtime ")
            .nth(1)
            .unwrap()
            .trim_end_matches(')');
        let pin = format!("wasmtime = {{ version = \"={ours}\"");
        assert!(
            manifest.contains(&pin),
            "update VERSION to the wasmtime pin"
        );
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_whole_command_line_is_consistent() {
        command().debug_assert();
    }

    fn invocation(args: &[&str]) -> Invocation {
        parse_from(args.iter().map(OsString::from).collect())
    }

    fn run_of(args: &[&str]) -> Cli {
        match invocation(args) {
            Invocation::Run(cli) => *cli,
            other => panic!("{args:?} is {other:?}"),
        }
    }

    #[test]
    fn run_is_an_alias_and_commands_are_only_the_first_argument() {
        let cli = run_of(&["wasirun", "run", "--dir", ".", "m.wasm", "run", "cache"]);
        assert_eq!(cli.module, PathBuf::from("m.wasm"));
        assert_eq!(cli.args, ["run", "cache"]);
        assert_eq!(cli.preopens.len(), 1);
        let cli = run_of(&["wasirun", "./run", "man"]);
        assert_eq!(
            (cli.module, cli.args),
            (PathBuf::from("./run"), vec!["man".into()])
        );
        let cli = run_of(&["wasirun", "--no-cache", "cache"]);
        assert_eq!(cli.module, PathBuf::from("cache"));
        assert!(matches!(
            invocation(&["wasirun", "cache", "info"]),
            Invocation::Command(Command::Cache {
                action: CacheAction::Info
            })
        ));
        assert!(matches!(
            invocation(&["wasirun", "completions", "zsh"]),
            Invocation::Command(Command::Completions {
                shell: clap_complete::Shell::Zsh
            })
        ));
        assert!(matches!(
            invocation(&["wasirun", "man"]),
            Invocation::Command(Command::Man)
        ));
    }

    #[test]
    fn a_trace_format_or_file_implies_trace() {
        assert!(!run_of(&["wasirun", "m.wasm"]).trace);
        assert!(run_of(&["wasirun", "--trace-format", "json", "m.wasm"]).trace);
        assert!(run_of(&["wasirun", "--trace-format", "text", "m.wasm"]).trace);
        assert!(run_of(&["wasirun", "--trace-file", "t", "m.wasm"]).trace);
    }

    #[test]
    fn dir_values() {
        let d = parse_dir(OsString::from("/tmp::/data")).unwrap();
        assert_eq!((d.host, d.guest.as_str()), (PathBuf::from("/tmp"), "/data"));
        let d = parse_dir(OsString::from(".")).unwrap();
        assert_eq!((d.host, d.guest.as_str()), (PathBuf::from("."), "."));
        let d = parse_dir(OsString::from("/::/")).unwrap();
        assert_eq!((d.host, d.guest.as_str()), (PathBuf::from("/"), "/"));
        assert!(parse_dir(OsString::from("::x")).is_err());
        assert!(parse_dir(OsString::from("x::")).is_err());
    }

    #[test]
    fn mount_values() {
        let m = parse_mount(OsString::from("app.tar::/app")).unwrap();
        assert_eq!(
            (m.host, m.guest.as_str()),
            (PathBuf::from("app.tar"), "/app")
        );
        assert_eq!(
            parse_mount(OsString::from("app.tar")).err().unwrap(),
            "expected ARCHIVE::GUEST"
        );
        assert_eq!(
            parse_mount(OsString::from("::/app")).err().unwrap(),
            "the archive is empty"
        );
    }

    #[test]
    fn env_values() {
        let e = parse_env(OsString::from("A=b=c")).unwrap();
        assert_eq!((e.name, e.value), (b"A".to_vec(), Some(b"b=c".to_vec())));
        let e = parse_env(OsString::from("A=")).unwrap();
        assert_eq!(e.value, Some(Vec::new()));
        assert_eq!(parse_env(OsString::from("A")).unwrap().value, None);
        assert!(parse_env(OsString::from("=x")).is_err());
    }

    #[test]
    fn later_env_wins_in_place() {
        let env = [
            parse_env(OsString::from("A=1")).unwrap(),
            parse_env(OsString::from("B=2")).unwrap(),
            parse_env(OsString::from("A=3")).unwrap(),
        ];
        let got = environment(false, &env);
        assert_eq!(
            got,
            vec![
                (b"A".to_vec(), b"3".to_vec()),
                (b"B".to_vec(), b"2".to_vec())
            ]
        );
    }

    #[test]
    fn argv0_is_the_file_name() {
        assert_eq!(default_argv0("/a/b/c.wasm".as_ref()), "c.wasm");
        assert_eq!(default_argv0("c.wat".as_ref()), "c.wat");
    }
}
