//! The embedding examples of `examples/` (`embed`, `wrap`, `extend`), each run as a program and
//! its output checked. `cargo test` builds them first; a run limited to this file
//! (`cargo test --test examples`) does not, and says to build them.

use std::path::PathBuf;
use std::process::Command;

/// Runs the example `name`: its stdout, after checking it exited 0.
fn run(name: &str) -> (String, String) {
    // This test is target/<profile>/deps/examples-<hash>; examples are in target/<profile>/examples.
    let exe = std::env::current_exe().unwrap();
    let dir: PathBuf = exe.parent().unwrap().parent().unwrap().join("examples");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build -p wasirun --examples` (plain `cargo test` builds it)",
        path.display()
    );
    let out = Command::new(&path).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(
        out.status.success(),
        "{name}: {:?}\n{stdout}\n{stderr}",
        out.status
    );
    (stdout, stderr)
}

#[test]
fn embed_captures_the_guest_s_stdout() {
    let (stdout, _) = run("embed");
    assert!(
        stdout.starts_with("the guest exited with 0 and wrote "),
        "{stdout}"
    );
    assert!(stdout.contains("  | hello\n"), "{stdout}");
    assert!(
        stdout.contains("  | GREETING=hi from the host\n"),
        "{stdout}"
    );
    // The preopened directory (runner/) listed by the guest.
    assert!(stdout.contains("  | Cargo.toml\n"), "{stdout}");
}

#[test]
fn embed_is_about_30_lines() {
    let source = include_str!("../../examples/embed.rs");
    assert!(source.lines().count() <= 40, "{}", source.lines().count());
}

#[test]
fn wrap_denies_writes_under_a_path_and_counts_calls() {
    let (stdout, stderr) = run("wrap");
    assert!(
        stdout.starts_with("locked/a.txt: errno 63, open/b.txt: errno 0\n"),
        "{stdout}"
    );
    assert!(stdout.contains("open/b.txt holds \"hi\\n\"\n"), "{stdout}");
    assert!(
        stdout.contains("path_open: 2 calls, 1 failed\n"),
        "{stdout}"
    );
    assert!(stdout.contains("fd_write: 1 calls, 0 failed\n"), "{stdout}");
    assert!(
        stderr.contains("path_open(3, 0, \"locked/a.txt\", CREAT, FD_WRITE, 0, 0) = EPERM"),
        "{stderr}"
    );
}

#[test]
fn extend_calls_a_generated_package_from_wat() {
    let (stdout, _) = run("extend");
    assert_eq!(
        stdout,
        "hello through example_kv\nkv_get of a missing key: errno 44 (noent is 44)\n"
    );
}
