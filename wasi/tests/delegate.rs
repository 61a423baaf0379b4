//! Wrapping through the generated `SystemDelegate`: a wrapper that changes one method and
//! delegates the rest, stacked under the tracer and run by a WAT guest; `Box<S>`,
//! `Box<dyn System>`, `&mut S` and a wrapper of an unsized system are systems too.

use std::io::IoSlice;
use wasirun_wasi::trace::TraceOptions;
use wasirun_wasi::*;
use wasmtime::{Engine, Linker, Module, Store};

mod common;
use common::Shared;

/// Keeps what fd 1 gets and has one argument, `w`; every other function answers `ENOSYS`.
#[derive(Default)]
struct Base {
    out: Vec<u8>,
}

impl SystemDelegate for Base {
    fn delegate(&mut self) -> impl System {
        Nosys
    }
    fn fd_write(&mut self, fd: Fd, iovs: &[IoSlice<'_>]) -> Result<Size, Errno> {
        if fd != Fd(1) {
            return Err(Errno::Badf);
        }
        let before = self.out.len();
        iovs.iter().for_each(|iov| self.out.extend_from_slice(iov));
        Ok((self.out.len() - before) as Size)
    }
    fn args_sizes_get(&mut self) -> Result<(Size, Size), Errno> {
        Ok((1, 2))
    }
    fn args_get(&mut self, argv_buf: &mut [u8]) -> Result<(), Errno> {
        argv_buf.copy_from_slice(b"w\0");
        Ok(())
    }
}

/// The wrapper: `random_get` fills with sevens and is counted; the rest is `S`'s, sized or not.
struct Sevens<S: ?Sized> {
    calls: usize,
    inner: S,
}

impl<S: System + ?Sized> SystemDelegate for Sevens<S> {
    fn delegate(&mut self) -> impl System {
        &mut self.inner
    }
    fn random_get(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
        self.calls += 1;
        buf.fill(7);
        Ok(())
    }
}

fn sevens() -> Sevens<Base> {
    Sevens {
        calls: 0,
        inner: Base::default(),
    }
}

const WAT: &str = r#"
(module
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $sched_yield (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 8) "hi\n")
  ;; one iovec at 16: 3 bytes at 8
  (data (i32.const 16) "\08\00\00\00\03\00\00\00")
  (func (export "random") (result i32) (call $random_get (i32.const 100) (i32.const 4)))
  (func (export "write") (result i32)
    (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))
  (func (export "yield") (result i32) (call $sched_yield))
  (func (export "args") (result i32) (call $args_get (i32.const 300) (i32.const 400)))
  ;; the random bytes, and the argument's first byte through the pointer table
  (func (export "random_bytes") (result i32) (i32.load (i32.const 100)))
  (func (export "arg0") (result i32) (i32.load8_u (i32.load (i32.const 300))))
)
"#;

/// Runs the guest's calls against `system`; returns it and what the guest saw: the errnos of
/// `random`, `write`, `yield` and `args`, the random bytes and the argument's first byte.
fn run<S: System + 'static>(system: S) -> (S, [i32; 6]) {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();
    let mut linker = Linker::<Host<S>>::new(&engine);
    add_to_linker(&mut linker, |h| h).unwrap();
    let mut store = Store::new(&engine, Host::new(system));
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let mut seen = [0; 6];
    for (i, name) in ["random", "write", "yield", "args", "random_bytes", "arg0"]
        .into_iter()
        .enumerate()
    {
        let f = instance
            .get_typed_func::<(), i32>(&mut store, name)
            .unwrap();
        seen[i] = f.call(&mut store, ()).unwrap();
    }
    (store.into_data().into_system(), seen)
}

/// What the guest sees through `Sevens<Base>`: the wrapper's random bytes, the base's write
/// and argument, and `ENOSYS` for what neither implements.
const THROUGH_SEVENS: [i32; 6] = [0, 0, Errno::Nosys as i32, 0, 0x0707_0707, b'w' as i32];

#[test]
fn a_wrapper_changes_one_method_and_delegates_the_rest_under_the_tracer() {
    let sink = Shared::default();
    let tracer = Tracer::new(sevens(), sink.clone(), TraceOptions::default());
    let (tracer, seen) = run(tracer);
    assert_eq!(seen, THROUGH_SEVENS);
    let wrapper = tracer.into_inner();
    assert_eq!(wrapper.calls, 1);
    assert_eq!(wrapper.inner.out, b"hi\n");
    let trace = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    // The glue's question for the table's sizes reaches the base unobserved.
    assert_eq!(
        trace,
        "random_get(\"\\x07\\x07\\x07\\x07\") = 0\n\
         fd_write(1, [iov(\"hi\\n\")]) = 3\n\
         sched_yield() = ENOSYS (Function not supported)\n\
         args_get(\"w\\x00\") = 0\n"
    );
}

#[test]
fn boxed_systems_link_and_run() {
    let (boxed, seen) = run(Box::new(sevens()));
    assert_eq!(seen, THROUGH_SEVENS);
    assert_eq!((boxed.calls, &boxed.inner.out[..]), (1, &b"hi\n"[..]));

    let dynamic: Box<dyn System> = Box::new(sevens());
    assert_eq!(run(dynamic).1, THROUGH_SEVENS);

    let base: Box<dyn System> = Box::new(Base::default());
    let (_, seen) = run(base);
    assert_eq!(seen[..4], [Errno::Nosys as i32, 0, Errno::Nosys as i32, 0]);
}

/// Calls `system` as the glue would, by value: a `&mut S` is a system of its own.
fn write_and_draw<S: System>(mut system: S) -> (Result<Size, Errno>, [u8; 2]) {
    let mut buf = [0; 2];
    let written = system.fd_write(Fd(1), &[IoSlice::new(b"ok")]);
    system.random_get(&mut buf).unwrap_or_default();
    (written, buf)
}

#[test]
fn mutable_references_and_unsized_wrappers_are_systems() {
    let mut base = Base::default();
    assert_eq!(write_and_draw(&mut base), (Ok(2), [0, 0]));
    assert_eq!(write_and_draw(&mut base as &mut dyn System).0, Ok(2));
    assert_eq!(base.out, b"okok");

    let traced = Tracer::new(&mut base, std::io::sink(), TraceOptions::default());
    assert_eq!(write_and_draw(traced).0, Ok(2));
    assert_eq!(base.out, b"okokok");

    let mut wrapper = sevens();
    let unsized_wrapper: &mut Sevens<dyn System> = &mut wrapper;
    assert_eq!(write_and_draw(unsized_wrapper), (Ok(2), [7, 7]));
    assert_eq!((wrapper.calls, &wrapper.inner.out[..]), (1, &b"ok"[..]));
}
