//! Several instances in one store, calling through one `Host`: each call reads and writes the
//! memory of the instance that made it, never another's.

use wasirun_wasi::{Errno, Host, Nosys, System, SystemDelegate, add_to_linker};
use wasmtime::{Engine, Linker, Module, Store};

/// Fills every buffer with one byte.
struct Fill(u8);

impl SystemDelegate for Fill {
    fn delegate(&mut self) -> impl System {
        Nosys
    }
    fn random_get(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
        buf.fill(self.0);
        Ok(())
    }
}

/// A module that fills 16 bytes at 64 with `random_get` when `fill` is called, and a second
/// module that calls the first's `fill` (so the call comes from the first instance) and its
/// own.
const FIRST: &str = r#"(module
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "fill") (result i32) (call $random_get (i32.const 64) (i32.const 16))))"#;

const SECOND: &str = r#"(module
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "first" "fill" (func $first_fill (result i32)))
  (memory (export "memory") 1)
  (func (export "fill") (result i32) (call $random_get (i32.const 128) (i32.const 16)))
  (func (export "fill_through_first") (result i32) (call $first_fill)))"#;

#[test]
fn each_call_uses_the_memory_of_the_instance_that_made_it() {
    let engine = Engine::default();
    let mut linker = Linker::<Host<Fill>>::new(&engine);
    add_to_linker(&mut linker, |h| h).unwrap();
    let mut store = Store::new(&engine, Host::new(Fill(0xaa)));
    let first = linker
        .instantiate(&mut store, &Module::new(&engine, FIRST).unwrap())
        .unwrap();
    linker.instance(&mut store, "first", first).unwrap();
    let second = linker
        .instantiate(&mut store, &Module::new(&engine, SECOND).unwrap())
        .unwrap();
    let call = |store: &mut Store<Host<Fill>>, instance: wasmtime::Instance, name: &str| {
        let f = instance
            .get_typed_func::<(), i32>(&mut *store, name)
            .unwrap();
        assert_eq!(f.call(&mut *store, ()).unwrap(), 0, "{name}");
    };
    let memory = |store: &mut Store<Host<Fill>>, instance: wasmtime::Instance| {
        let m = instance.get_memory(&mut *store, "memory").unwrap();
        m.data(&*store)[..256].to_vec()
    };

    // The second instance first, so that a memory kept from the first call would be its own.
    call(&mut store, second, "fill");
    store.data_mut().system_mut().0 = 0xbb;
    call(&mut store, first, "fill");
    let (m1, m2) = (memory(&mut store, first), memory(&mut store, second));
    assert!(m2[128..144].iter().all(|&b| b == 0xaa), "{m2:?}");
    assert!(m1[64..80].iter().all(|&b| b == 0xbb), "{m1:?}");
    assert!(
        m1[128..144].iter().all(|&b| b == 0),
        "second's call wrote the first"
    );
    assert!(
        m2[64..80].iter().all(|&b| b == 0),
        "first's call wrote the second"
    );

    // Through a call from one instance into the other: the caller of random_get is the first.
    store.data_mut().system_mut().0 = 0xcc;
    call(&mut store, second, "fill_through_first");
    let (m1, m2) = (memory(&mut store, first), memory(&mut store, second));
    assert!(m1[64..80].iter().all(|&b| b == 0xcc), "{m1:?}");
    assert!(m2[64..80].iter().all(|&b| b == 0));
}
