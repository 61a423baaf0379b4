//! Whole-process start-up: from `exec` to exit of a program that prints `hello, world`, for a
//! 64 KB Rust guest (`tests/guests/rust/src/bin/hello.rs`) and a 25 MB Go one
//! (`tests/guests/go/stdlib`), both built by `cargo xtask guests`, under three hosts:
//!
//! - wasirun (`target/release/wasirun`), its compile cache in a directory of the bench's
//!   (`XDG_CACHE_HOME`);
//! - wasmtime-wasi 48's preview 1 host on wasirun's engine settings, its compiled modules kept
//!   in another with `Module::serialize` and mapped back with `Module::deserialize_file`
//!   (`peers/wasmtime-wasi`, which the bench builds with `cargo build --release`);
//! - Node's `node:wasi` (no cache: cold and cached are the same to it), when `node` is on the
//!   `PATH`.
//!
//! Each host runs from a copy of its binary in the bench's directory ([`copied`]). Cold runs
//! start from an empty cache (the host compiles, and stores what it compiled); cached ones
//! from the entry the run before left. The hosts take turns, one run each per round, each
//! round starting with the next host, so a figure and its ratio come from the same stretch of
//! time on a noisy machine. Each run's output is checked.
//! `cargo bench -p wasirun --bench startup [-- NAME]` prints a Markdown table per guest and
//! cache state: ms per run (median, min, max) and the ratio to wasirun (the median of the
//! per-round ratios).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The median of `v`; of an even count, the mean of the middle two (a cold Go figure is of two
/// runs).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n % 2 {
        1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The wasirun binary cargo built for this bench.
const WASIRUN: &str = env!("CARGO_BIN_EXE_wasirun");

/// The peer's package (and binary).
const PEER: &str = "wasmtime-wasi-peer";

/// What every guest prints.
const HELLO: &[u8] = b"hello, world\n";

/// Node's host: the module's file name and arguments as the guest's, as the other hosts give.
const NODE_RUNNER: &str = r#"import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { WASI } from "node:wasi";

const [module, ...args] = process.argv.slice(2);
const wasi = new WASI({ version: "preview1", args: [basename(module), ...args], returnOnExit: true });
const compiled = await WebAssembly.compile(await readFile(module));
const instance = await WebAssembly.instantiate(compiled, wasi.getImportObject());
process.exitCode = wasi.start(instance);
"#;

/// A guest and how many rounds of each kind it gets: a cold Go run compiles 25 MB for 10 s.
struct Guest {
    name: &'static str,
    path: PathBuf,
    cold_rounds: usize,
    cached_rounds: usize,
}

/// A host: how to run a module, and where its cache is.
struct Host {
    name: &'static str,
    program: PathBuf,
    /// Its arguments before the module's path.
    args: Vec<String>,
    /// Its environment beyond the bench's.
    env: Vec<(&'static str, PathBuf)>,
    /// The directory emptied before a cold run; `None`: the host has no cache.
    cache: Option<PathBuf>,
}

impl Host {
    /// Empties the cache, for a cold run.
    fn forget(&self) {
        if let Some(dir) = &self.cache {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    /// One run of `module`: milliseconds from spawn to exit. Panics if the guest did not print
    /// `hello, world` and exit 0.
    fn run(&self, module: &Path) -> f64 {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .arg(module)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let start = Instant::now();
        let out = cmd
            .spawn()
            .and_then(|child| child.wait_with_output())
            .unwrap_or_else(|e| panic!("{}: {e}", self.name));
        let ms = start.elapsed().as_secs_f64() * 1e3;
        assert!(
            out.status.success() && out.stdout == HELLO,
            "{} {}: {}, stdout {:?}, stderr {}",
            self.name,
            module.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        ms
    }
}

/// `cargo build --release -p wasmtime-wasi-peer`: the peer's path, or why there is none.
fn build_peer() -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let status = Command::new(env!("CARGO"))
        .current_dir(&root)
        .args(["build", "--release", "--quiet", "-p", PEER])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build -p {PEER}: {status}"));
    }
    let peer = Path::new(WASIRUN).with_file_name(PEER);
    match peer.exists() {
        true => Ok(peer),
        false => Err(format!("{} not built", peer.display())),
    }
}

/// Whether `node` runs here.
fn have_node() -> bool {
    Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A copy of the binary `built` in `scratch`, written in one go, for a run to start from.
///
/// A cached hello run from the linker's output, as cargo leaves it, took 1.27x the time of a
/// run from a copy for wasirun and 1.22x for wasmtime-wasi's host (300 rounds taking turns),
/// most likely from how the page cache holds a file written piecemeal. Each host runs from a
/// copy, as an installed binary (`cargo install`, a package) is one, so that the ratio
/// measures the hosts, not how their linker wrote them.
fn copied(built: &Path, scratch: &Path) -> PathBuf {
    let name = built.file_name().expect("a binary's path names a file");
    let copy = scratch.join("bin").join(name);
    std::fs::create_dir_all(scratch.join("bin")).unwrap();
    std::fs::copy(built, &copy).unwrap_or_else(|e| panic!("copying {}: {e}", built.display()));
    copy
}

/// The hosts, each with a cache directory of its own under `scratch`.
fn hosts(scratch: &Path) -> Vec<Host> {
    let cache = scratch.join("wasirun-cache");
    let mut hosts = vec![Host {
        name: "wasirun",
        program: copied(Path::new(WASIRUN), scratch),
        args: Vec::new(),
        // wasirun's cache is `$XDG_CACHE_HOME/wasirun`.
        env: vec![("XDG_CACHE_HOME", cache.clone())],
        cache: Some(cache.join("wasirun")),
    }];
    match build_peer() {
        Ok(peer) => {
            let cache = scratch.join("wasmtime-cache");
            hosts.push(Host {
                name: "wasmtime-wasi",
                program: copied(&peer, scratch),
                args: vec!["--cache".into(), cache.display().to_string()],
                env: Vec::new(),
                cache: Some(cache),
            });
        }
        Err(why) => println!("wasmtime-wasi: {why}; its rows are left out"),
    }
    if have_node() {
        let runner = scratch.join("node-wasi.mjs");
        std::fs::write(&runner, NODE_RUNNER).unwrap();
        hosts.push(Host {
            name: "node:wasi",
            program: "node".into(),
            args: vec!["--no-warnings".into(), runner.display().to_string()],
            env: Vec::new(),
            cache: None,
        });
    } else {
        println!("node is not on the PATH; its rows are left out");
    }
    hosts
}

/// `rounds` rounds of one run per host, cold or cached: each host's times in ms.
///
/// Each round starts with the next host: the run after Node's (100 ms of a JIT) starts with
/// the processor's caches full of Node, and the run after that with them warm from a host of
/// the same make, so a fixed order favoured the host that came second (wasmtime-wasi, by 3-5%
/// on a cached hello: 0.96-0.98 in three runs before, 0.99-1.03 in three after).
fn rounds(hosts: &[Host], module: &Path, rounds: usize, cold: bool) -> Vec<Vec<f64>> {
    let mut times = vec![Vec::with_capacity(rounds); hosts.len()];
    for round in 0..rounds {
        for turn in 0..hosts.len() {
            let h = (round + turn) % hosts.len();
            if cold {
                hosts[h].forget();
            }
            times[h].push(hosts[h].run(module));
        }
    }
    times
}

/// The Markdown table of `times` (wasirun's first).
fn table(guest: &Guest, state: &str, hosts: &[Host], times: &[Vec<f64>]) {
    let rounds = times[0].len();
    println!(
        "{}, {state}: ms per run, {rounds} rounds taking turns; ratio: median of the per-round \
         ratios to wasirun",
        guest.name
    );
    println!();
    println!("| host | median ms | min ms | max ms | ratio to wasirun |");
    println!("|---|---|---|---|---|");
    for (host, t) in hosts.iter().zip(times) {
        let ratios = t.iter().zip(&times[0]).map(|(t, w)| t / w).collect();
        let min = t.iter().copied().fold(f64::INFINITY, f64::min);
        let max = t.iter().copied().fold(0.0, f64::max);
        println!(
            "| {} | {:.1} | {min:.1} | {max:.1} | {:.2} |",
            host.name,
            median(t.clone()),
            median(ratios)
        );
    }
    println!();
}

fn main() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let guests_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/guests");
    let guests = [
        Guest {
            name: "hello (Rust, 64 KB)",
            path: guests_dir.join("rust/wasm32-wasip1/release/hello.wasm"),
            cold_rounds: 10,
            // A cached run takes a few ms, within a few percent of the peer's: enough rounds
            // that the machine's noise does not decide which is faster (node's 90 ms a run
            // make this about 10 s).
            cached_rounds: 100,
        },
        Guest {
            name: "stdlib (Go, 25 MB)",
            path: guests_dir.join("go/stdlib.wasm"),
            cold_rounds: 2,
            cached_rounds: 10,
        },
    ];
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasirun-bench-startup");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let hosts = hosts(&scratch);
    for guest in &guests {
        if !filter.is_empty() && !filter.iter().any(|f| guest.name.contains(f.as_str())) {
            continue;
        }
        if !guest.path.exists() {
            println!(
                "{}: {} not built (cargo xtask guests)",
                guest.name,
                guest.path.display()
            );
            continue;
        }
        // Cold first: the last cold round leaves each cache filled for the cached ones, which
        // begin with a run that is not counted.
        let cold = rounds(&hosts, &guest.path, guest.cold_rounds, true);
        table(guest, "cold (empty cache)", &hosts, &cold);
        rounds(&hosts, &guest.path, 1, false);
        let cached = rounds(&hosts, &guest.path, guest.cached_rounds, false);
        table(guest, "cached", &hosts, &cached);
    }
    let _ = std::fs::remove_dir_all(&scratch);
}
