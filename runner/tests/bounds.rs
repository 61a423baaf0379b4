//! No guest value sizes a host allocation: guests of `tests/data/bounds/` pass counts, lists
//! and lengths that are in bounds of their memory but would take gigabytes of host memory if
//! copied, each run in a child process under a data-size limit (`RLIMIT_DATA`, through the
//! shell's `ulimit -d`) a little above its own memory. Every one must end with an errno (its
//! exit status), never a signal or an allocation failure.

use std::path::Path;
use std::process::{Command, Stdio};

const WASIRUN: &str = env!("CARGO_BIN_EXE_wasirun");

/// 1.5 GiB, in the KiB that `ulimit -d` counts: the 1 GiB memories of the guests fit, a copy of
/// what they point at does not.
const DATA_LIMIT_KIB: &str = "1572864";

/// Runs `wasirun ARGS tests/data/bounds/GUEST` under the data-size limit: its exit status.
fn run_limited(args: &[&str], guest: &str) -> i32 {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasirun-bounds");
    std::fs::create_dir_all(&dir).unwrap();
    let guest = format!("{}/tests/data/bounds/{guest}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -d {DATA_LIMIT_KIB} && exec \"$@\""))
        .arg("sh")
        .arg(WASIRUN)
        .args(args)
        .arg(&guest)
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "{guest}: {stderr}");
    out.status
        .code()
        .unwrap_or_else(|| panic!("{guest}: killed by a signal: {:?}", out.status))
}

#[test]
fn poll_oneoff_with_tens_of_millions_of_subscriptions_is_einval() {
    assert_eq!(run_limited(&[], "poll_huge.wat"), 28);
}

#[test]
fn poll_oneoff_takes_the_most_subscriptions_and_refuses_one_more() {
    assert_eq!(run_limited(&[], "poll_many.wat"), 0);
}

#[test]
fn a_getaddrinfo_list_that_loops_is_walked_in_constant_memory() {
    assert_eq!(
        run_limited(&["--allow-name-lookup"], "getaddrinfo_loop.wat"),
        0
    );
}

#[test]
fn gigabyte_paths_and_names_are_refused_before_any_copy() {
    let args = ["--dir", ".", "--allow-name-lookup"];
    assert_eq!(run_limited(&args, "long_names.wat"), 0);
}
