//! Replays the kept fuzz seeds (`fuzz/seeds/<target>/`) through the fuzz targets' own harness
//! code (`fuzz/src/harness`, included here), on stable: each seed must still pass every
//! invariant the fuzzer checks. One test, alone in its binary, since the harness counts the
//! process's descriptors.

#[path = "../../fuzz/src/harness/mod.rs"]
mod harness;

use std::path::PathBuf;

/// The seeds of `target`, by name.
fn seeds(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds")
        .join(target);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let path = e.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            (path, data)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seeds in {}", dir.display());
    out
}

#[test]
fn kept_seeds_pass() {
    let host_calls = harness::host_calls::Harness::new();
    for (path, data) in seeds("host_calls") {
        eprintln!("host_calls {}", path.display());
        host_calls.run(&data);
    }
    let resolver = harness::resolver::Harness::new();
    for (path, data) in seeds("resolver") {
        eprintln!("resolver {}", path.display());
        resolver.run(&data);
    }
}
