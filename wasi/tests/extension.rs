//! "Drop a .witx in, run codegen, implement the trait": the fixture package
//! `codegen/tests/fixtures/ext` is generated into `tests/ext/` by `cargo xtask codegen`; this
//! test implements its trait and runs a guest that calls it beside preview1.

#[allow(dead_code)]
#[rustfmt::skip]
mod ext;

use ext::types::GreetingKind;
use wasirun_wasi::{Errno, Fd, Host, Nosys, Size, System, SystemDelegate};
use wasmtime::{Engine, Linker, Module, Store};

#[derive(Default)]
struct Greeter {
    out: Vec<u8>,
}

impl SystemDelegate for Greeter {
    fn delegate(&mut self) -> impl System {
        Nosys
    }
}

impl ext::Ext for Greeter {
    fn ext_greet(&mut self, fd: Fd, kind: GreetingKind, name: &str) -> Result<Size, Errno> {
        if fd != Fd(1) {
            return Err(Errno::Badf);
        }
        let before = self.out.len();
        let greeting = match kind {
            GreetingKind::Short => "Hi",
            GreetingKind::Long => "Good morning",
        };
        self.out
            .extend_from_slice(format!("{greeting}, {name}!").as_bytes());
        Ok((self.out.len() - before) as Size)
    }
}

const WAT: &str = r#"
(module
  (import "wasirun_ext" "ext_greet" (func $greet (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "wasm")
  (func (export "greet") (param $kind i32) (result i32)
    (call $greet (i32.const 1) (local.get $kind) (i32.const 16) (i32.const 4) (i32.const 32)))
  (func (export "written") (result i32) (i32.load (i32.const 32)))
)
"#;

#[test]
fn a_generated_extension_links_and_runs() {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();
    let mut linker = Linker::<Host<Greeter>>::new(&engine);
    wasirun_wasi::add_to_linker(&mut linker, |h| h).unwrap();
    ext::add_to_linker(&mut linker, |h| h).unwrap();
    let mut store = Store::new(&engine, Host::new(Greeter::default()));
    let inst = linker.instantiate(&mut store, &module).unwrap();
    let greet = inst
        .get_typed_func::<i32, i32>(&mut store, "greet")
        .unwrap();
    let written = inst
        .get_typed_func::<(), i32>(&mut store, "written")
        .unwrap();

    assert_eq!(greet.call(&mut store, 1).unwrap(), 0);
    assert_eq!(written.call(&mut store, ()).unwrap(), 19);
    assert_eq!(store.data().system().out, b"Good morning, wasm!");
    // An invalid enum value is EINVAL from the generated glue.
    assert_eq!(greet.call(&mut store, 2).unwrap(), Errno::Inval as i32);
}

#[test]
fn imports_are_linked_by_name_and_arity() {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();
    assert_eq!(ext::MODULE, "wasirun_ext");
    assert_eq!(
        ext::IMPORTS,
        [wasirun_wasi::glue::Import {
            name: "ext_greet",
            params: 5,
            function: "ext_greet",
        }]
    );
    let mut linker = Linker::<Host<Greeter>>::new(&engine);
    wasirun_wasi::add_to_linker(&mut linker, |h| h).unwrap();
    // Skipped when another package answers it; linked otherwise.
    assert_eq!(
        ext::add_imports_to_linker(&mut linker, &module, ext::IMPORTS, |h| h).unwrap(),
        0
    );
    assert_eq!(
        ext::add_imports_to_linker(&mut linker, &module, &[], |h| h).unwrap(),
        1
    );
    let mut store = Store::new(&engine, Host::new(Greeter::default()));
    let inst = linker.instantiate(&mut store, &module).unwrap();
    let greet = inst
        .get_typed_func::<i32, i32>(&mut store, "greet")
        .unwrap();
    assert_eq!(greet.call(&mut store, 0).unwrap(), 0);
}
