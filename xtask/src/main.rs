//! `cargo xtask`: the project's own tasks.
//!
//! - `cargo xtask codegen [--check]`: regenerate the checked-in code from `witx/` (or, with
//!   `--check`, fail with a diff when it is stale).
//! - `cargo xtask guests`: install the guests' toolchains when missing and build the test
//!   guests into `target/guests/` (what `test` does before it runs the tests).
//! - `cargo xtask test`: install what the tests need (the wasm32-wasip1 target, the C and Go
//!   toolchains for the test guests, see [`setup`]), build the test guests, then run every test
//!   binary (`cargo test --workspace --no-fail-fast`) and print a summary.
//! - `cargo xtask bench-table`: run the benches against the peers and print their tables of
//!   ratios as Markdown (see [`bench_table`]).

mod bench_table;
mod codegen;
mod guests;
mod setup;
mod test;
#[cfg(test)]
mod unit_graph;

use anyhow::{Result, bail};
use std::path::PathBuf;

/// The workspace root.
fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match &args[..] {
        ["codegen"] => codegen::run(false),
        ["codegen", "--check"] => codegen::run(true),
        ["guests"] => test::guests(),
        ["bench-table"] => bench_table::run(),
        ["test", rest @ ..] => test::run(rest),
        _ => bail!(
            "usage: cargo xtask codegen [--check] | cargo xtask guests | cargo xtask bench-table | cargo xtask test [CARGO TEST ARGS]"
        ),
    }
}
