//! The guest's store: its data ([`Guest`]), and the limits and fuel it runs under
//! ([`Options`]).

use wasirun_wasi::Host;
use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder};

/// A store's data: the WASI host over the system `S`, and the limits wasmtime asks about each
/// growth.
pub struct Guest<S> {
    host: Host<S>,
    limits: StoreLimits,
}

impl<S> Guest<S> {
    /// The guest data for `system` under `limits`.
    pub fn new(system: S, limits: &Limits) -> Self {
        Guest {
            host: Host::new(system),
            limits: limits.store_limits(),
        }
    }

    /// The WASI host, for the glue ([`add_to_linker`](crate::add_to_linker)'s `get`).
    pub fn host(&mut self) -> &mut Host<S> {
        &mut self.host
    }

    /// The system.
    pub fn system(&self) -> &S {
        self.host.system()
    }

    /// The system, mutable.
    pub fn system_mut(&mut self) -> &mut S {
        self.host.system_mut()
    }

    /// Unwraps the system.
    pub fn into_system(self) -> S {
        self.host.into_system()
    }
}

/// What wasmtime lets a guest's store grow to. The defaults run large Go and Rust programs
/// and refuse a guest that tries to take the host's memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes each linear memory may grow to (4 GiB); `memory.grow` past it returns -1.
    pub max_memory: u64,
    /// Elements each table may grow to (10,000,000).
    pub max_table_elements: u64,
    /// Instances in the store (10).
    pub max_instances: usize,
    /// Tables in the store (10).
    pub max_tables: usize,
    /// Linear memories in the store (10).
    pub max_memories: usize,
    /// A failed `memory.grow` or `table.grow` traps instead of returning -1 (off).
    pub trap_on_grow_failure: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_memory: 4 << 30,
            max_table_elements: 10_000_000,
            max_instances: 10,
            max_tables: 10,
            max_memories: 10,
            trap_on_grow_failure: false,
        }
    }
}

impl Limits {
    /// The wasmtime limiter for a store.
    pub fn store_limits(&self) -> StoreLimits {
        StoreLimitsBuilder::new()
            .memory_size(usize::try_from(self.max_memory).unwrap_or(usize::MAX))
            .table_elements(usize::try_from(self.max_table_elements).unwrap_or(usize::MAX))
            .instances(self.max_instances)
            .tables(self.max_tables)
            .memories(self.max_memories)
            .trap_on_grow_failure(self.trap_on_grow_failure)
            .build()
    }
}

/// How a command is linked and run.
///
/// ```
/// use wasirun::{Limits, Options};
///
/// let options = Options {
///     limits: Limits { max_memory: 64 << 20, ..Limits::default() },
///     // Needs an engine with `Config::consume_fuel(true)`.
///     fuel: Some(1_000_000),
///     ..Options::default()
/// };
/// # drop(options);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The store's limits.
    pub limits: Limits,
    /// The fuel the guest starts with, for an engine that counts it
    /// ([`Config::consume_fuel`](wasmtime::Config::consume_fuel)); `None` leaves the store's
    /// fuel alone.
    pub fuel: Option<u64>,
    /// Links the WasmEdge socket functions the module imports (on by default), each in the
    /// form its import's arity asks for; the system answers them through
    /// [`Wasmedge`](wasirun_wasi::Wasmedge).
    pub wasmedge_sockets: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            fuel: None,
            wasmedge_sockets: true,
        }
    }
}

/// A store for `system` under `options`.
pub(crate) fn new<S: 'static>(
    engine: &Engine,
    system: S,
    options: &Options,
) -> wasmtime::Result<Store<Guest<S>>> {
    let mut store = Store::new(engine, Guest::new(system, &options.limits));
    store.limiter(|g| &mut g.limits);
    if let Some(fuel) = options.fuel {
        store.set_fuel(fuel)?;
    }
    Ok(store)
}

/// Whether `err`, from instantiating, says a limit refused the module's initial memory or
/// table, or its count of instances, tables or memories.
pub(crate) fn is_limit_error(err: &wasmtime::Error) -> bool {
    err.chain().any(|e| {
        let e = e.to_string();
        e.contains("exceeds memory limits")
            || e.contains("exceeds table limits")
            || e.starts_with("resource limit exceeded")
    })
}
