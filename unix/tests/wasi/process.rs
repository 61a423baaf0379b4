//! Arguments, environment, clocks, randomness, exit, signals, yielding.

use crate::guest::{Guest, TempDir, i, setup};
use wasirun_unix::Builder;
use wasirun_wasi::{Errno, I32Exit};

#[test]
fn args_and_environment() {
    let mut b = Builder::new();
    b.arg("app.wasm").arg("--flag").arg("").arg("ünïcode");
    b.env("HOME", "/home/guest")
        .env("EMPTY", "")
        .env("HOME", "/later/wins");
    let mut g = Guest::new(b.build().unwrap());
    let args = g.args().unwrap();
    assert_eq!(
        args,
        [&b"app.wasm"[..], b"--flag", b"", "ünïcode".as_bytes()]
    );
    let env = g.environ().unwrap();
    assert_eq!(env, [&b"EMPTY="[..], b"HOME=/later/wins"]);
    let mut empty = Guest::new(Builder::new().build().unwrap());
    assert!(empty.args().unwrap().is_empty());
    assert!(empty.environ().unwrap().is_empty());
}

#[test]
fn nul_bytes_are_refused_at_build() {
    assert!(matches!(
        Builder::new().arg("a\0b").build(),
        Err(wasirun_unix::Error::Nul { .. })
    ));
    assert!(matches!(
        Builder::new().env("A", "b\0").build(),
        Err(wasirun_unix::Error::Nul { .. })
    ));
}

#[test]
fn clocks() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    for id in 0..4 {
        assert!(g.clock_res_get(id).unwrap() > 0);
        assert!(g.clock_time_get(id).unwrap() > 0);
    }
    let a = g.clock_time_get(1).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2));
    assert!(g.clock_time_get(1).unwrap() >= a + 2_000_000);
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let guest = g.clock_time_get(0).unwrap();
    assert!(guest.abs_diff(wall.as_nanos() as u64) < 5_000_000_000);
    assert_eq!(g.clock_time_get(4), Err(Errno::Inval), "no such clock");
    assert_eq!(g.clock_res_get(4), Err(Errno::Inval));
}

#[test]
fn random() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    let a = g.random_get(64).unwrap();
    let b = g.random_get(64).unwrap();
    assert_ne!(a, b);
    assert!(g.random_get(0).unwrap().is_empty());
    assert_eq!(g.random_get(100_000).unwrap().len(), 100_000);
}

#[test]
fn yield_raise_exit() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    g.call("sched_yield", &[]).unwrap();
    assert_eq!(g.call("proc_raise", &[i(15)]), Err(Errno::Nosys));
    assert_eq!(g.system().exit_code(), None);
    // The glue ends the instance with I32Exit; the system has recorded the status.
    assert_eq!(g.proc_exit(42), Some(I32Exit(42)));
    assert_eq!(g.system().exit_code(), Some(42));
}
