//! The harness of each fuzz target: everything but libFuzzer's entry point, so that
//! `unix/tests/fuzz_seeds.rs` replays the kept seeds through the same code on stable (it
//! includes this directory with `#[path]`).
//!
//! - [`host_calls`]: any host function (preview 1 and WasmEdge) through the generated glue, with
//!   fuzzer-chosen arguments and guest memory, against a system on a temp dir.
//! - [`resolver`]: the path resolver on arbitrary byte paths over a fuzzer-shaped tree.

mod input;
mod tree;

pub mod host_calls;
pub mod resolver;
