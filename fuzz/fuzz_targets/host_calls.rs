//! Any host function with fuzzer-chosen arguments and memory: see
//! `wasirun_fuzz::harness::host_calls`.
#![no_main]

use std::sync::OnceLock;
use wasirun_fuzz::harness::host_calls::Harness;

static HARNESS: OnceLock<Harness> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| HARNESS.get_or_init(Harness::new).run(data));
