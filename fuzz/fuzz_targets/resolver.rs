//! The path resolver on arbitrary paths over a fuzzer-shaped tree: see
//! `wasirun_fuzz::harness::resolver`.
#![no_main]

use std::sync::OnceLock;
use wasirun_fuzz::harness::resolver::Harness;

static HARNESS: OnceLock<Harness> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| HARNESS.get_or_init(Harness::new).run(data));
