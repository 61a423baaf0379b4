//! wasirun as a library: run a WASI preview 1 command in a few lines, on any
//! [`System`](wasirun_wasi::System) (the Unix one, wrapped or not, or your own).
//!
//! ```
//! use wasirun::Command;
//! use wasirun_unix::{Builder, Capture, Stdio};
//!
//! let guest = r#"(module
//!     (import "wasi_snapshot_preview1" "fd_write"
//!       (func $fd_write (param i32 i32 i32 i32) (result i32)))
//!     (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
//!     (memory (export "memory") 1)
//!     (data (i32.const 0) "\10\00\00\00\06\00\00\00")
//!     (data (i32.const 16) "hello\n")
//!     (func (export "_start")
//!       (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
//!       (call $exit (i32.const 3))))"#;
//! let engine = wasmtime::Engine::default();
//! let out = Capture::new();
//! let system = Builder::new().stdout(Stdio::writer(out.clone())).build()?;
//! let status = Command::new(&engine, guest)?.run(system)?;
//! assert_eq!(status, 3);
//! assert_eq!(out.to_string_lossy(), "hello\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The steps, each its own call when the embedder needs to act between them (the `wasirun`
//! binary makes its `--listen` sockets after linking, so that a peer never waits on the
//! compiler, and arms its stop handle on the store):
//!
//! 1. [`Command::new`] (or [`Command::from_module`] for a module compiled or cached by the
//!    embedder): the module, checked to be a preview 1 command;
//! 2. [`Command::link`]: the packages linked for a store of [`Guest<S>`] ([`add_to_linker`]
//!    alone for a `Linker` of the embedder's), imports checked, with [`Options`]' limits and fuel;
//! 3. [`Linked::store`], then [`Linked::run_in`] (or [`Linked::run`] for both): instantiate,
//!    call `_start`, and return the exit status, or an [`Error`] that says why there is none
//!    (a trap, with its backtrace, is [`Error::Trap`]).
//!
//! The guest runs on the calling thread, and wasmtime runs wasm on that thread's stack: it
//! needs [`Config::max_wasm_stack`](wasmtime::Config::max_wasm_stack) (512 KiB by default)
//! plus what host functions take at the deepest point; the `wasirun` binary gives them 4 MiB.
//! A guest is stopped from another thread with a [`StopHandle`](wasirun_unix::StopHandle) armed
//! on the store.
//!
//! The compiled-module cache stays in the binary: where it lives (`~/.cache/wasirun`), how
//! big it grows and when entries go are the command line's policy, and an embedder that
//! caches passes its own [`Module`](wasmtime::Module) to [`Command::from_module`].
#![deny(missing_docs)]

mod command;
mod error;
mod link;
mod store;

pub use command::{Command, Entry, Invoked, Linked};
pub use error::{Error, one_line};
pub use link::add_to_linker;
pub use store::{Guest, Limits, Options};
