//! `wasirun` runs a WASI preview 0 (`wasi_unstable`) module, and traces its calls.

use std::path::Path;
use std::process::{Command, Output};

/// Runs `tests/data/unstable.wat` with `args` before it, its compile cache kept in the target
/// directory.
fn run(args: &[&str]) -> Output {
    let module = format!("{}/tests/data/unstable.wat", env!("CARGO_MANIFEST_DIR"));
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasirun-unstable-cache");
    Command::new(env!("CARGO_BIN_EXE_wasirun"))
        .args(args)
        .arg(module)
        .env("XDG_CACHE_HOME", cache)
        .output()
        .unwrap()
}

#[test]
fn a_wasi_unstable_module_runs() {
    let out = run(&[]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello from wasi_unstable\n"
    );
    // The module exits with fd_seek's errno for whence 3: EINVAL.
    assert_eq!(out.status.code(), Some(28), "{out:?}");
}

#[test]
fn its_calls_are_traced_with_preview_0_values() {
    let out = run(&["--trace"]);
    assert_eq!(out.status.code(), Some(28), "{out:?}");
    let trace = String::from_utf8_lossy(&out.stderr);
    let line = |name: &str| {
        trace
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {trace}"))
            .to_string()
    };
    assert!(line("fd_write(1, ").ends_with("= 25"), "{trace}");
    assert!(line("fd_filestat_get(1)").contains("nlink"), "{trace}");
    assert!(line("fd_seek(").contains("EINVAL"), "{trace}");
    assert!(line("proc_exit(").contains("28"), "{trace}");
}
