//! The fuzz targets' harnesses, in a library so that the seed replay test of the main
//! workspace (`unix/tests/fuzz_seeds.rs`) runs the very same code on stable.
pub mod harness;
