//! `cargo xtask test`: sets up what the tests need on a fresh machine, builds the test guests,
//! then runs `cargo test`.

use anyhow::{Context, Result, bail};
use std::process::Command;

fn exec(cmd: &mut Command) -> Result<()> {
    eprintln!("xtask: {cmd:?}");
    let status = cmd.status().with_context(|| format!("starting {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(())
}

fn has_wasm_target() -> bool {
    Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| {
            std::path::Path::new(s.trim())
                .join("lib/rustlib/wasm32-wasip1")
                .exists()
        })
        .unwrap_or(false)
}

/// Installs the wasm32-wasip1 target when it is missing.
pub fn ensure_wasm_target() -> Result<()> {
    if !has_wasm_target() {
        exec(Command::new("rustup").args(["target", "add", "wasm32-wasip1"]))?;
    }
    Ok(())
}

/// Runs the whole test suite; `extra` goes to `cargo test`.
pub fn run(extra: &[&str]) -> Result<()> {
    ensure_wasm_target()?;
    let root = super::root();
    exec(
        Command::new(env!("CARGO"))
            .current_dir(&root)
            .args(["test", "--workspace"])
            .args(extra),
    )
}
