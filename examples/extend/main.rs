//! Extending WASI: `kv.witx` (beside this file) declares a module `example_kv` with two
//! functions; `cargo xtask codegen` generated `kv/` from it (the `Kv` trait, its glue, tracer
//! and delegate); this file implements the trait on a system that is the Unix one for
//! everything else, and runs a WAT guest that calls both functions and preview 1's `fd_write`.
//!
//! `cargo run -p wasirun --example extend`

#[allow(dead_code, unused_imports)]
#[rustfmt::skip]
mod kv;

use std::collections::HashMap;
use wasirun::{Command, Guest, Options};
use wasirun_unix::{Builder, UnixSystem};
use wasirun_wasi::preview0::{Preview0, Preview0Delegate};
use wasirun_wasi::*;

/// The Unix system, plus a map the guest reaches through `example_kv`.
struct App {
    unix: Unstable<UnixSystem>,
    map: HashMap<String, String>,
}

impl kv::Kv for App {
    fn kv_set(&mut self, key: &str, value: &str) -> Result<(), Errno> {
        self.map.insert(key.into(), value.into());
        Ok(())
    }
    fn kv_get(&mut self, key: &str, buf: &mut [u8]) -> Result<Size, Errno> {
        let value = self.map.get(key).ok_or(Errno::Noent)?.as_bytes();
        buf.get_mut(..value.len())
            .ok_or(Errno::Nobufs)?
            .copy_from_slice(value);
        Ok(value.len() as Size)
    }
}

// Every other package goes to the Unix system.
impl SystemDelegate for App {
    fn delegate(&mut self) -> impl System {
        &mut self.unix
    }
}
impl Preview0Delegate for App {
    fn delegate(&mut self) -> impl Preview0 {
        &mut self.unix
    }
}
impl WasmedgeDelegate for App {
    fn delegate(&mut self) -> impl Wasmedge {
        &mut self.unix
    }
}

/// Stores a greeting, reads it back and prints it, then exits with `kv_get`'s errno for a key
/// that is not there.
const GUEST: &str = r#"(module
  (import "example_kv" "kv_set" (func $set (param i32 i32 i32 i32) (result i32)))
  (import "example_kv" "kv_get" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "greeting")
  (data (i32.const 32) "hello through example_kv\n")
  (data (i32.const 64) "missing")
  (func (export "_start")
    (if (call $set (i32.const 16) (i32.const 8) (i32.const 32) (i32.const 25)) (then unreachable))
    (if (call $get (i32.const 16) (i32.const 8) (i32.const 256) (i32.const 64) (i32.const 4))
      (then unreachable))
    (i32.store (i32.const 8) (i32.const 256))
    (i32.store (i32.const 12) (i32.load (i32.const 4)))
    (drop (call $write (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 0)))
    (call $exit (call $get (i32.const 64) (i32.const 7) (i32.const 256) (i32.const 64) (i32.const 4)))))"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let command = Command::new(&wasmtime::Engine::default(), GUEST)?;
    let linked = command.link_with(&Options::default(), |linker| {
        kv::add_to_linker(linker, Guest::host)
    })?;
    let unix = Unstable::new(Builder::new().build()?);
    let status = linked.run(App {
        unix,
        map: HashMap::new(),
    })?;
    println!(
        "kv_get of a missing key: errno {status} (noent is {})",
        Errno::Noent as u16
    );
    Ok(())
}
