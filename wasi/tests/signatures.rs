//! The generated trait and glue cover exactly the functions of the witx, with their exact
//! core-wasm signatures.

use std::collections::BTreeMap;
use std::path::Path;
use wasirun_wasi::{Host, Nosys, System, SystemDelegate, add_to_linker};
use wasmtime::{Engine, Linker, Store, ValType};

struct Nothing;
impl SystemDelegate for Nothing {
    fn delegate(&mut self) -> impl System {
        Nosys
    }
}

fn witx_signatures() -> BTreeMap<String, (Vec<&'static str>, Vec<&'static str>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../witx/preview1");
    let doc = witx::load(&[
        dir.join("typenames.witx"),
        dir.join("wasi_snapshot_preview1.witx"),
    ])
    .unwrap();
    let module = doc
        .module(&witx::Id::new("wasi_snapshot_preview1"))
        .unwrap();
    let name = |t: witx::WasmType| match t {
        witx::WasmType::I32 => "i32",
        witx::WasmType::I64 => "i64",
        witx::WasmType::F32 => "f32",
        witx::WasmType::F64 => "f64",
    };
    module
        .funcs()
        .map(|f| {
            let (params, results) = f.wasm_signature();
            (
                f.name.as_str().to_string(),
                (
                    params.into_iter().map(name).collect(),
                    results.into_iter().map(name).collect(),
                ),
            )
        })
        .collect()
}

#[test]
fn glue_registers_every_witx_function_with_its_signature() {
    let expected = witx_signatures();
    assert_eq!(expected.len(), 46);

    let engine = Engine::default();
    let mut linker = Linker::<Host<Nothing>>::new(&engine);
    add_to_linker(&mut linker, |h| h).unwrap();
    let mut store = Store::new(&engine, Host::new(Nothing));
    let val = |t: ValType| match t {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
        ValType::F32 => "f32",
        ValType::F64 => "f64",
        _ => "other",
    };
    let mut registered = BTreeMap::new();
    let defs: Vec<_> = linker
        .iter(&mut store)
        .map(|(m, n, e)| (m.to_string(), n.to_string(), e))
        .collect();
    for (module, name, ext) in defs {
        assert_eq!(module, "wasi_snapshot_preview1");
        let ty = ext.into_func().unwrap().ty(&store);
        registered.insert(
            name,
            (
                ty.params().map(val).collect::<Vec<_>>(),
                ty.results().map(val).collect::<Vec<_>>(),
            ),
        );
    }
    assert_eq!(registered, expected);
}

/// One method per witx function, plus the glue's `sizes_for_<function>` for the two that fill a
/// string table, `refused` for the calls it answers itself and `stop_requested`, which it asks
/// after a failed call.
#[test]
fn the_trait_has_one_method_per_witx_function() {
    let source = include_str!("../src/generated/preview1/system.rs");
    let methods: Vec<&str> = source
        .lines()
        .filter_map(|l| l.strip_prefix("    fn "))
        .map(|l| l.split('(').next().unwrap_or(""))
        .filter(|m| !m.starts_with("sizes_for_") && *m != "refused" && *m != "stop_requested")
        .collect();
    assert!(source.contains("fn refused(&mut self, call: &crate::glue::Refused<'_>)"));
    assert!(source.contains("fn sizes_for_args_get(&mut self)"));
    assert!(source.contains("fn stop_requested(&mut self) -> bool"));
    // No witx function answers `ENOSYS` by default: a system leaves one out only through
    // `SystemDelegate` and `Nosys`.
    assert!(!source.contains("Errno::Nosys"));
    assert!(source.contains("fn sizes_for_environ_get(&mut self)"));
    let expected: Vec<String> = witx_signatures().into_keys().collect();
    let mut sorted = methods.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, expected);
}
