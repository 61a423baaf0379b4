//! [`Host`]: what the generated glue finds in a store's data.

use wasmtime::Memory;

/// A `System` together with where the glue finds the guest's linear memory.
///
/// Unbound (as [`Host::new`] makes it), each call finds the memory of the instance that made
/// it, through that instance's export named `memory`: right for any number of instances in
/// one store, at the price of a lookup per call (about 100 ns in wasmtime 48). Once the one
/// instance that calls through this `Host` is known, bind its memory with
/// [`Host::set_memory`] and calls take it directly, as `wasirun` does:
///
/// ```
/// # use wasirun_wasi::{Host, Nosys, add_to_linker};
/// # let engine = wasmtime::Engine::default();
/// # let module = wasmtime::Module::new(&engine, r#"(module (memory (export "memory") 1))"#)?;
/// let mut linker = wasmtime::Linker::new(&engine);
/// add_to_linker(&mut linker, |h: &mut Host<Nosys>| h)?;
/// let mut store = wasmtime::Store::new(&engine, Host::new(Nosys));
/// let instance = linker.instantiate(&mut store, &module)?;
/// if let Some(memory) = instance.get_memory(&mut store, "memory") {
///     store.data_mut().set_memory(memory);
/// }
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub struct Host<S> {
    system: S,
    pub(crate) memory: Option<Memory>,
}

impl<S> Host<S> {
    /// Wraps `system`.
    pub fn new(system: S) -> Self {
        Host {
            system,
            memory: None,
        }
    }

    /// The system.
    pub fn system(&self) -> &S {
        &self.system
    }

    /// The system, mutable.
    pub fn system_mut(&mut self) -> &mut S {
        &mut self.system
    }

    /// Unwraps the system.
    pub fn into_system(self) -> S {
        self.system
    }

    /// Binds the memory every call uses, instead of the calling instance's export named
    /// `memory`: only for a store where one instance calls through this `Host` (another
    /// instance's calls would read and write this memory, not their own).
    pub fn set_memory(&mut self, memory: Memory) {
        self.memory = Some(memory);
    }
}
