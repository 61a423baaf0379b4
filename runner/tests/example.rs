//! `examples/hello.wat` against a scripted `System`, so the example is checked without the Unix
//! system: arguments, environment, and a directory long enough that `fd_readdir` has to be
//! called again from a cookie after a cut entry.

use std::io::IoSlice;
use wasirun_wasi::dirent::DirentWriter;
use wasirun_wasi::{
    Errno, Fd, Filetype, Host, I32Exit, Nosys, Size, System, SystemDelegate, add_to_linker,
};
use wasmtime::{Engine, Linker, Module, Store};

struct Scripted {
    args: Vec<&'static str>,
    env: Vec<&'static str>,
    /// The entries of fd 3; `None`: no fd 3.
    names: Option<Vec<String>>,
    readdir_calls: usize,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// NUL-terminated strings back to back, and their count and total size.
fn strings(list: &[&str]) -> (Vec<u8>, Size, Size) {
    let mut buf = Vec::new();
    for s in list {
        buf.extend_from_slice(s.as_bytes());
        buf.push(0);
    }
    let size = buf.len() as Size;
    (buf, list.len() as Size, size)
}

impl SystemDelegate for Scripted {
    fn delegate(&mut self) -> impl System {
        Nosys
    }
    fn args_sizes_get(&mut self) -> Result<(Size, Size), Errno> {
        let (_, n, size) = strings(&self.args);
        Ok((n, size))
    }

    fn args_get(&mut self, argv_buf: &mut [u8]) -> Result<(), Errno> {
        argv_buf.copy_from_slice(&strings(&self.args).0);
        Ok(())
    }

    fn environ_sizes_get(&mut self) -> Result<(Size, Size), Errno> {
        let (_, n, size) = strings(&self.env);
        Ok((n, size))
    }

    fn environ_get(&mut self, environ_buf: &mut [u8]) -> Result<(), Errno> {
        environ_buf.copy_from_slice(&strings(&self.env).0);
        Ok(())
    }

    fn fd_write(&mut self, fd: Fd, iovs: &[IoSlice<'_>]) -> Result<Size, Errno> {
        let out = match fd.0 {
            1 => &mut self.stdout,
            2 => &mut self.stderr,
            _ => return Err(Errno::Badf),
        };
        let mut n = 0;
        for iov in iovs {
            out.extend_from_slice(iov);
            n += iov.len();
        }
        Ok(n as Size)
    }

    fn fd_readdir(&mut self, fd: Fd, buf: &mut [u8], cookie: u64) -> Result<Size, Errno> {
        let names = match (fd.0, &self.names) {
            (3, Some(names)) => names,
            _ => return Err(Errno::Badf),
        };
        self.readdir_calls += 1;
        let mut w = DirentWriter::new(buf);
        for (i, name) in names.iter().enumerate().skip(cookie as usize) {
            if !w.push(
                i as u64 + 1,
                i as u64,
                Filetype::RegularFile,
                name.as_bytes(),
            ) {
                break;
            }
        }
        Ok(w.used() as Size)
    }
}

fn run(system: Scripted) -> (Result<(), wasmtime::Error>, Scripted) {
    let engine = Engine::default();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/hello.wat");
    let module = Module::from_file(&engine, path).unwrap();
    let mut linker = Linker::<Host<Scripted>>::new(&engine);
    add_to_linker(&mut linker, |h| h).unwrap();
    let mut store = Store::new(&engine, Host::new(system));
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .unwrap();
    let result = start.call(&mut store, ());
    (result, store.into_data().into_system())
}

#[test]
fn hello_prints_args_env_and_the_directory() {
    // 300 names of 20 to 40 bytes: about 15 KiB of dirents, several 4 KiB reads with cuts.
    let names: Vec<String> = (0..300)
        .map(|i| format!("file-{i:03}-{}", "x".repeat(i % 21)))
        .collect();
    let (result, system) = run(Scripted {
        args: vec!["hello.wat", "a", "b c"],
        env: vec!["HOME=/", "EMPTY="],
        names: Some(names.clone()),
        readdir_calls: 0,
        stdout: Vec::new(),
        stderr: Vec::new(),
    });
    result.unwrap();
    let mut want = ["hello.wat", "a", "b c", "HOME=/", "EMPTY="].join("\n");
    want.push('\n');
    for n in &names {
        want.push_str(n);
        want.push('\n');
    }
    assert_eq!(String::from_utf8(system.stdout).unwrap(), want);
    assert!(system.readdir_calls > 3, "{} calls", system.readdir_calls);
    assert!(system.stderr.is_empty());
}

#[test]
fn hello_without_a_preopen_says_so_and_exits_with_ebadf() {
    let (result, system) = run(Scripted {
        args: vec!["hello.wat"],
        env: vec![],
        names: None,
        readdir_calls: 0,
        stdout: Vec::new(),
        stderr: Vec::new(),
    });
    let err = result.unwrap_err();
    assert_eq!(
        err.downcast_ref::<I32Exit>(),
        Some(&I32Exit(Errno::Badf as i32))
    );
    assert_eq!(system.stdout, b"hello.wat\n");
    assert_eq!(
        system.stderr,
        b"hello: no directory to list: pass one with --dir, e.g. --dir .\n"
    );
}
