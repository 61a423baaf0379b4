//! [`Host`]: what the generated glue finds in a store's data.

use wasmtime::Memory;

/// A `System` together with the instance's linear memory, looked up once and cached.
///
/// Keep one `Host` per instance: the memory cached is the first one a call found, through the
/// export named `memory` of the calling instance.
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

    /// Sets the memory the glue uses, instead of the export named `memory`.
    pub fn set_memory(&mut self, memory: Memory) {
        self.memory = Some(memory);
    }
}
