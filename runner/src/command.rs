//! [`Command`]: a module checked to be a WASI command; [`Linked`]: the same, linked for a
//! system type, ready to run.

use crate::error::Error;
use crate::store::{self, Guest, Options};
use std::path::Path;
use wasirun_wasi::preview0::Preview0;
use wasirun_wasi::{I32Exit, System, Unstable, Wasmedge};
use wasmtime::{Engine, ExternType, Instance, InstancePre, Linker, Module, Store, Trap, Val};

/// The function a command is run through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// `_start: func()`, a WASI command's entry.
    Start,
    /// Any exported function, called with parameters ([`Linked::invoke`]): the `wasirun`
    /// binary's `--invoke`.
    Function(String),
}

/// How a function [`Linked::invoke`] called ended.
#[derive(Debug)]
pub enum Invoked {
    /// It returned these results.
    Returned(Vec<Val>),
    /// The guest called `proc_exit` with this status.
    Exited(i32),
}

/// A compiled module that is a WASI preview 1 command: its entry exists and has the right type.
#[derive(Clone)]
pub struct Command {
    module: Module,
}

impl Command {
    /// Compiles `wasm`, binary or text (with wasmtime's `wat` feature), for `engine`, and checks
    /// it is a command ([`Entry::Start`]).
    pub fn new(engine: &Engine, wasm: impl AsRef<[u8]>) -> Result<Self, Error> {
        let wasm = wasm.as_ref();
        Self::precheck(wasm)?;
        let module =
            Module::new(engine, wasm).map_err(|e| Error::InvalidModule(crate::one_line(&e)))?;
        Self::from_module(module)
    }

    /// Reads and compiles the module at `path`, as [`new`](Self::new) does.
    pub fn from_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let wasm = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::new(engine, wasm)
    }

    /// A command from a module the embedder compiled (or loaded from its cache), run through
    /// `_start`.
    pub fn from_module(module: Module) -> Result<Self, Error> {
        Self::with_entry(module, &Entry::Start)
    }

    /// A command from `module`, checked to export `entry`.
    pub fn with_entry(module: Module, entry: &Entry) -> Result<Self, Error> {
        check_entry(&module, entry).map_err(Error::InvalidModule)?;
        Ok(Command { module })
    }

    /// What [`new`](Self::new) checks before compiling: that `wasm` is neither a component
    /// (preview 2) nor something other than binary or text WebAssembly, which it says in plain
    /// words where a WAT parse error would only say where the first token went wrong.
    pub fn precheck(wasm: &[u8]) -> Result<(), Error> {
        match not_a_module(wasm) {
            Some(why) => Err(Error::InvalidModule(why.into())),
            None => Ok(()),
        }
    }

    /// The module.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Links the packages ([`add_to_linker`](crate::add_to_linker)) for a store of
    /// [`Guest<S>`], and checks every import is defined with its type. A preview 1 system
    /// serves preview 0 too in [`Unstable`]: `link::<Unstable<UnixSystem>>`.
    pub fn link<S: System + Preview0 + Wasmedge + 'static>(
        &self,
        options: &Options,
    ) -> Result<Linked<S>, Error> {
        self.link_with(options, |_| Ok(()))
    }

    /// [`link`](Self::link), with what `extra` defines in the linker too (the functions of
    /// another witx package, say), after every package of wasirun's.
    pub fn link_with<S: System + Preview0 + Wasmedge + 'static>(
        &self,
        options: &Options,
        extra: impl FnOnce(&mut Linker<Guest<S>>) -> wasmtime::Result<()>,
    ) -> Result<Linked<S>, Error> {
        let define = |e: wasmtime::Error| {
            Error::Internal(format!("cannot define WASI: {}", crate::one_line(&e)))
        };
        let mut linker = Linker::<Guest<S>>::new(self.module.engine());
        crate::add_to_linker(
            &mut linker,
            &self.module,
            options.wasmedge_sockets,
            Guest::host,
        )
        .map_err(define)?;
        extra(&mut linker).map_err(define)?;
        let pre = linker.instantiate_pre(&self.module).map_err(|e| {
            Error::Link(crate::link::failure(
                &self.module,
                options.wasmedge_sockets,
                &e,
            ))
        })?;
        Ok(Linked {
            pre,
            options: options.clone(),
        })
    }

    /// Links with the default [`Options`] and runs `_start` on `system` (serving preview 0
    /// through [`Unstable`]): the guest's exit status (0 when `_start` returns, else what it
    /// passed to `proc_exit`). The system is dropped before this returns (host descriptors
    /// closed, in-memory stdout complete).
    pub fn run<S: System + Wasmedge + 'static>(&self, system: S) -> Result<i32, Error> {
        self.link::<Unstable<S>>(&Options::default())?
            .run(Unstable::new(system))
    }
}

/// A command linked for stores of [`Guest<S>`]: run it as many times as wanted, each on a
/// system of its own.
pub struct Linked<S: 'static> {
    pre: InstancePre<Guest<S>>,
    options: Options,
}

impl<S: System + Preview0 + Wasmedge + 'static> Linked<S> {
    /// A store for `system`, with the options' limits and fuel: arm a
    /// [`StopHandle`](wasirun_unix::StopHandle) on it, or change it, before
    /// [`run_in`](Self::run_in).
    pub fn store(&self, system: S) -> Result<Store<Guest<S>>, Error> {
        store::new(self.pre.module().engine(), system, &self.options)
            .map_err(|e| Error::Internal(format!("cannot set fuel: {}", crate::one_line(&e))))
    }

    /// Runs `_start` on `system` in a store of its own ([`store`](Self::store) then
    /// [`run_in`](Self::run_in)); the store, and the system with it, is dropped before this
    /// returns.
    pub fn run(&self, system: S) -> Result<i32, Error> {
        let mut store = self.store(system)?;
        self.run_in(&mut store)
    }

    /// Instantiates the module in `store` (running its start function) and calls `_start`: the
    /// exit status, 0 when `_start` returns.
    pub fn run_in(&self, store: &mut Store<Guest<S>>) -> Result<i32, Error> {
        let instance = self.instantiate(store)?;
        let start = instance
            .get_typed_func::<(), ()>(&mut *store, "_start")
            .map_err(|e| Error::InvalidModule(crate::one_line(&e)))?;
        exit_status(start.call(&mut *store, ()))
    }

    /// Instantiates the module in `store` and calls its export `name` with `params` (of the
    /// types the function takes: see [`Module::get_export`]).
    pub fn invoke(
        &self,
        store: &mut Store<Guest<S>>,
        name: &str,
        params: &[Val],
    ) -> Result<Invoked, Error> {
        let instance = self.instantiate(store)?;
        let func = instance
            .get_func(&mut *store, name)
            .ok_or_else(|| Error::InvalidModule(format!("no function `{name}`")))?;
        let mut results = vec![Val::I32(0); func.ty(&*store).results().len()];
        match func.call(&mut *store, params, &mut results) {
            Ok(()) => Ok(Invoked::Returned(results)),
            Err(e) => exit_status(Err(e)).map(Invoked::Exited),
        }
    }

    /// Instantiates the module in `store`, running its start function: the instance, its
    /// memory bound for the glue (the store's one instance, so calls skip the export lookup).
    pub fn instantiate(&self, store: &mut Store<Guest<S>>) -> Result<Instance, Error> {
        let instance = self
            .pre
            .instantiate(&mut *store)
            .map_err(instantiate_failure)?;
        if let Some(memory) = instance.get_memory(&mut *store, "memory") {
            store.data_mut().host().set_memory(memory);
        }
        Ok(instance)
    }

    /// The module.
    pub fn module(&self) -> &Module {
        self.pre.module()
    }
}

/// A call into the guest's result as an exit status.
fn exit_status(called: wasmtime::Result<()>) -> Result<i32, Error> {
    match called {
        Ok(()) => Ok(0),
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(I32Exit(code)) => Ok(*code),
            None => Err(Error::Trap(e)),
        },
    }
}

/// Why instantiation failed, once linking succeeded: a limit, a trap in the start function,
/// or a resource failure.
fn instantiate_failure(err: wasmtime::Error) -> Error {
    if store::is_limit_error(&err) {
        return Error::Limit(crate::one_line(&err));
    }
    if err.downcast_ref::<Trap>().is_some() {
        return Error::Trap(err);
    }
    Error::Internal(format!("cannot instantiate: {}", crate::one_line(&err)))
}

/// Why `wasm` is not a preview 1 module, when that is plain before wasmtime looks.
fn not_a_module(wasm: &[u8]) -> Option<&'static str> {
    const COMPONENT: &str = "a component (WASI preview 2): wasirun runs preview 1 modules \
                             (built for wasm32-wasip1)";
    if let Some(version) = wasm.strip_prefix(b"\0asm") {
        // A component's version field is 0x0d and its layer 1; a module's layer is 0.
        return (version.get(2..4) == Some(&[1, 0])).then_some(COMPONENT);
    }
    let Ok(text) = std::str::from_utf8(wasm) else {
        return Some("not WebAssembly (neither binary nor text)");
    };
    let mut rest = text.trim_start_matches('\u{feff}');
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix(";;") {
            rest = after.split_once('\n').map_or("", |(_, next)| next);
        } else if let Some(after) = rest.strip_prefix("(;") {
            rest = after.split_once(";)").map_or("", |(_, next)| next);
        } else {
            break;
        }
    }
    if rest.starts_with("(component") {
        return Some(COMPONENT);
    }
    (!rest.starts_with('(')).then_some("not WebAssembly (neither binary nor text)")
}

/// Checks that `module` exports `entry` with a type it can be run through.
fn check_entry(module: &Module, entry: &Entry) -> Result<(), String> {
    if let Entry::Function(name) = entry {
        return match module.get_export(name) {
            Some(ExternType::Func(_)) => Ok(()),
            Some(_) => Err(format!("`{name}` is not a function")),
            None => Err(format!("no export `{name}`")),
        };
    }
    match module.get_export("_start") {
        Some(ExternType::Func(f)) if f.params().len() == 0 && f.results().len() == 0 => Ok(()),
        Some(ExternType::Func(f)) => Err(format!(
            "`_start` has type {f}, not `(func)`: it is not a WASI command"
        )),
        Some(_) => Err("`_start` is not a function: it is not a WASI command".into()),
        None => Err("no `_start` function: it is not a WASI command".into()),
    }
}
