//! Linking every package into a `Linker`, and naming the import that keeps a module from
//! linking.

use wasirun_wasi::preview0::{self, Preview0};
use wasirun_wasi::{Host, Nosys, System, Unstable, Wasmedge, preview1, wasmedge};
use wasmtime::{ExternType, Linker, Module, Store, UnknownImportError};

/// Links the packages the host implements into `linker`, for a store whose data `get` turns
/// into the [`Host`]: WASI preview 1 under `wasi_snapshot_preview1`, preview 0 under
/// `wasi_unstable` when `module` imports from it (old binaries; linking its functions for every
/// other module would cost each run's start-up), and when `wasmedge` is on, the WasmEdge socket
/// functions `module` imports, each in the form its import's arity asks for. Imports that preview 1
/// answers (same name and arity: `sock_accept` with 2 parameters, `sock_recv`...) stay
/// preview 1's. A preview 1 system serves preview 0 in [`Unstable`].
///
/// ```
/// use wasirun_unix::{Builder, UnixSystem};
/// use wasirun_wasi::{Host, Unstable};
///
/// struct MyData {
///     wasi: Host<Unstable<UnixSystem>>,
/// }
///
/// let engine = wasmtime::Engine::default();
/// let module = wasmtime::Module::new(&engine, r#"(module (func (export "_start")))"#)?;
/// let mut linker = wasmtime::Linker::<MyData>::new(&engine);
/// wasirun::add_to_linker(&mut linker, &module, true, |d: &mut MyData| &mut d.wasi)?;
/// let system = Unstable::new(Builder::new().build()?);
/// let mut store = wasmtime::Store::new(&engine, MyData { wasi: Host::new(system) });
/// let instance = linker.instantiate(&mut store, &module)?;
/// instance.get_typed_func::<(), ()>(&mut store, "_start")?.call(&mut store, ())?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn add_to_linker<T: 'static, S: System + Preview0 + Wasmedge + 'static>(
    linker: &mut Linker<T>,
    module: &Module,
    wasmedge: bool,
    get: impl Fn(&mut T) -> &mut Host<S> + Send + Sync + Copy + 'static,
) -> wasmtime::Result<()> {
    wasirun_wasi::add_to_linker(linker, get)?;
    if module.imports().any(|i| i.module() == preview0::MODULE) {
        preview0::add_to_linker(linker, get)?;
    }
    if wasmedge {
        linker.allow_shadowing(true);
        wasmedge::add_imports_to_linker(linker, module, preview1::IMPORTS, get)?;
        linker.allow_shadowing(false);
    }
    Ok(())
}

/// Why `module` does not link, from `err` (what `instantiate_pre` said): the import the linker
/// lacks, or one it defines with another type, named as `wasirun` names them. A type is found
/// on a linker of the same packages over [`Nosys`] (the types do not depend on the system);
/// an import that linker does not know keeps wasmtime's own message.
pub(crate) fn failure(module: &Module, wasmedge: bool, err: &wasmtime::Error) -> String {
    if let Some(unknown) = err.downcast_ref::<UnknownImportError>() {
        return format!(
            "unknown import: {}::{} has not been defined",
            unknown.module(),
            unknown.name()
        );
    }
    let engine = module.engine();
    let mut linker = Linker::<Host<Unstable<Nosys>>>::new(engine);
    if add_to_linker(&mut linker, module, wasmedge, |h| h).is_err() {
        return crate::one_line(err);
    }
    let mut store = Store::new(engine, Host::new(Unstable::new(Nosys)));
    for import in module.imports() {
        let (m, n) = (import.module(), import.name());
        let Ok(found) = linker.get(&mut store, m, n) else {
            continue;
        };
        let found = found.ty(&store);
        let compatible = match (import.ty(), &found) {
            (ExternType::Func(want), ExternType::Func(have)) => have.matches(&want),
            _ => false,
        };
        if !compatible {
            return format!(
                "incompatible import: {m}::{n} is imported as {}, defined as {}",
                describe(&import.ty()),
                describe(&found)
            );
        }
    }
    crate::one_line(err)
}

/// An import or export's type, for messages.
fn describe(ty: &ExternType) -> String {
    match ty {
        ExternType::Func(f) => f.to_string(),
        ExternType::Global(_) => "a global".into(),
        ExternType::Table(_) => "a table".into(),
        ExternType::Memory(_) => "a memory".into(),
        ExternType::Tag(_) => "a tag".into(),
    }
}
