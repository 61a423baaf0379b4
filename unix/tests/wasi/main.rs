//! The `UnixSystem` driven through wasmtime: a WAT guest calls every preview 1 function against
//! a temporary directory, and each test compares what the guest sees with the host's files.

mod guest;

mod escape;
mod fds;
mod files;
mod mem;
mod paths;
mod poll;
mod process;
mod readdir;
mod rights;
mod sock;
