//! The handwritten part of the glue: reaching the memory and the system from a `Caller`.

use crate::Host;
use crate::preview1::types::Errno;
use wasmtime::{Caller, Extern};

/// The caller's linear memory and the system: the memory [`Host::set_memory`] bound, or else
/// the calling instance's export named `memory`, looked up on every call (about 100 ns in
/// wasmtime 48), since several instances of a store may call through one `Host`, each with a
/// memory of its own.
///
/// A module without a memory export named `memory` traps: every function that takes a pointer
/// needs it.
#[inline]
pub fn memory<'c, T, S: 'static>(
    caller: &'c mut Caller<'_, T>,
    get: impl Fn(&mut T) -> &mut Host<S>,
) -> wasmtime::Result<(&'c mut [u8], &'c mut S)> {
    let memory = match get(caller.data_mut()).memory {
        Some(m) => m,
        None => match caller.get_export("memory") {
            Some(Extern::Memory(m)) => m,
            Some(Extern::SharedMemory(_)) => {
                wasmtime::bail!("WASI on a shared memory is not supported")
            }
            _ => wasmtime::bail!("the module does not export a memory named `memory`"),
        },
    };
    let (bytes, data) = memory.data_and_store_mut(caller);
    Ok((bytes, get(data).system_mut()))
}

/// The system, for functions that take no pointer.
#[inline]
pub fn system<'c, T, S: 'static>(
    caller: &'c mut Caller<'_, T>,
    get: impl Fn(&mut T) -> &mut Host<S>,
) -> &'c mut S {
    get(caller.data_mut()).system_mut()
}

/// The error that ends an instance with an exit status, as `proc_exit` does: downcast a call's
/// error to it to find the status. It has the shape of `wasmtime_wasi::I32Exit`, so embedders
/// handle both the same way, without this crate depending on `wasmtime-wasi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct I32Exit(pub i32);

impl std::fmt::Display for I32Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit with status {}", self.0)
    }
}

impl std::error::Error for I32Exit {}

/// The error that ends an instance for a `noreturn` function such as `proc_exit`.
pub fn exit(code: i32, result: Result<(), Errno>) -> wasmtime::Error {
    match result {
        Ok(()) => wasmtime::Error::new(I32Exit(code)),
        Err(e) => wasmtime::format_err!("exit with code {code}: {}", e.description()),
    }
}

/// A name a generated function answers when a guest imports it (the `IMPORTS` table of each
/// package's glue).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Import {
    /// The import name.
    pub name: &'static str,
    /// The number of core-wasm parameters: when two forms answer one name, the import's arity
    /// picks one.
    pub params: usize,
    /// The witx function that answers.
    pub function: &'static str,
}

impl Import {
    /// Whether this answers `import`: same name, same arity.
    pub fn answers(&self, import: &FuncImport) -> bool {
        self.name == import.name && self.params == import.params
    }
}

/// A function a module imports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncImport {
    /// The import name.
    pub name: String,
    /// Its number of parameters.
    pub params: usize,
}

/// The functions `module` imports from the module named `from`.
pub fn imports_from(module: &wasmtime::Module, from: &str) -> Vec<FuncImport> {
    module
        .imports()
        .filter(|i| i.module() == from)
        .filter_map(|i| {
            let params = i.ty().func()?.params().len();
            Some(FuncImport {
                name: i.name().to_string(),
                params,
            })
        })
        .collect()
}

/// A call the glue answered itself, before it reached the [`System`](crate::System): an
/// argument that could not be decoded (a pointer out of bounds or misaligned is `EFAULT`, an
/// undefined enum value or flag bit `EINVAL`). The glue hands it to the system's `refused`
/// method, so that a wrapper sees every call the guest made: the [`Tracer`](crate::Tracer)
/// prints it with the raw core-wasm arguments.
#[derive(Debug, Clone, Copy)]
pub struct Refused<'a> {
    /// The witx function, as the trace names it (`path_open`).
    pub function: &'static str,
    /// The core-wasm arguments in order, each with its name; an `i32` as its unsigned value.
    pub args: &'a [(&'static str, u64)],
    /// What the guest got back.
    pub errno: Errno,
}
