//! The test guest: a WAT module that imports every preview 1 function and exports a wrapper for
//! each, so that tests drive the `UnixSystem` through wasmtime and the generated glue, with real
//! guest pointers, while the test logic stays in Rust.
//!
//! [`Guest`] puts arguments in the module's memory (a scratch area reset before each call),
//! calls the export, and reads the results back out.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use wasirun_unix::{Builder, DirMode, Resolver, UnixSystem};
use wasirun_wasi::{Errno, Host, System, add_to_linker};
use wasmtime::{Engine, Instance, Linker, Memory, Module, Store, Val};

/// Every import: name and core wasm parameter types (all return an errno, but `proc_exit`).
const FUNCS: &[(&str, &str)] = &[
    ("args_get", "i32 i32"),
    ("args_sizes_get", "i32 i32"),
    ("environ_get", "i32 i32"),
    ("environ_sizes_get", "i32 i32"),
    ("clock_res_get", "i32 i32"),
    ("clock_time_get", "i32 i64 i32"),
    ("fd_advise", "i32 i64 i64 i32"),
    ("fd_allocate", "i32 i64 i64"),
    ("fd_close", "i32"),
    ("fd_datasync", "i32"),
    ("fd_fdstat_get", "i32 i32"),
    ("fd_fdstat_set_flags", "i32 i32"),
    ("fd_fdstat_set_rights", "i32 i64 i64"),
    ("fd_filestat_get", "i32 i32"),
    ("fd_filestat_set_size", "i32 i64"),
    ("fd_filestat_set_times", "i32 i64 i64 i32"),
    ("fd_pread", "i32 i32 i32 i64 i32"),
    ("fd_prestat_get", "i32 i32"),
    ("fd_prestat_dir_name", "i32 i32 i32"),
    ("fd_pwrite", "i32 i32 i32 i64 i32"),
    ("fd_read", "i32 i32 i32 i32"),
    ("fd_readdir", "i32 i32 i32 i64 i32"),
    ("fd_renumber", "i32 i32"),
    ("fd_seek", "i32 i64 i32 i32"),
    ("fd_sync", "i32"),
    ("fd_tell", "i32 i32"),
    ("fd_write", "i32 i32 i32 i32"),
    ("path_create_directory", "i32 i32 i32"),
    ("path_filestat_get", "i32 i32 i32 i32 i32"),
    ("path_filestat_set_times", "i32 i32 i32 i32 i64 i64 i32"),
    ("path_link", "i32 i32 i32 i32 i32 i32 i32"),
    ("path_open", "i32 i32 i32 i32 i32 i64 i64 i32 i32"),
    ("path_readlink", "i32 i32 i32 i32 i32 i32"),
    ("path_remove_directory", "i32 i32 i32"),
    ("path_rename", "i32 i32 i32 i32 i32 i32"),
    ("path_symlink", "i32 i32 i32 i32 i32"),
    ("path_unlink_file", "i32 i32 i32"),
    ("poll_oneoff", "i32 i32 i32 i32"),
    ("proc_exit", "i32"),
    ("proc_raise", "i32"),
    ("sched_yield", ""),
    ("random_get", "i32 i32"),
    ("sock_accept", "i32 i32 i32"),
    ("sock_recv", "i32 i32 i32 i32 i32 i32"),
    ("sock_send", "i32 i32 i32 i32 i32"),
    ("sock_shutdown", "i32 i32"),
];

/// The module text: an import and a forwarding export per function.
fn wat() -> String {
    let mut imports = String::new();
    let mut exports = String::new();
    for (name, types) in FUNCS {
        let result = if *name == "proc_exit" {
            ""
        } else {
            "(result i32)"
        };
        let params = if types.is_empty() {
            String::new()
        } else {
            format!("(param {types})")
        };
        imports.push_str(&format!(
            "(import \"wasi_snapshot_preview1\" \"{name}\" (func ${name} {params} {result}))\n"
        ));
        let n = types.split_whitespace().count();
        let gets: String = (0..n).map(|i| format!("local.get {i} ")).collect();
        exports.push_str(&format!(
            "(func (export \"{name}\") {params} {result} {gets} call ${name})\n"
        ));
    }
    format!("(module\n{imports}(memory (export \"memory\") 4)\n{exports})")
}

fn engine_and_module() -> &'static (Engine, Module) {
    static CELL: OnceLock<(Engine, Module)> = OnceLock::new();
    CELL.get_or_init(|| {
        let engine = Engine::default();
        let module = Module::new(&engine, wat()).expect("the test module compiles");
        (engine, module)
    })
}

/// Where arguments go in guest memory; everything below is left alone.
const SCRATCH: u32 = 0x1000;

/// An instance of the test module over a `UnixSystem`, or any other system.
pub struct Guest<S: 'static = UnixSystem> {
    pub store: Store<Host<S>>,
    instance: Instance,
    memory: Memory,
    next: u32,
}

/// An iovec for [`Guest::fd_read`]-like calls: where and how long.
pub type Iov = (u32, u32);

impl Guest {
    pub fn system(&mut self) -> &mut UnixSystem {
        self.store.data_mut().system_mut()
    }

    /// Hands a host descriptor to the guest; its guest fd.
    pub fn add_fd(&mut self, fd: impl Into<std::os::fd::OwnedFd>) -> u32 {
        self.system().add_fd(fd.into()).unwrap().0
    }
}

impl<S: System + 'static> Guest<S> {
    pub fn new(system: S) -> Guest<S> {
        let (engine, module) = engine_and_module();
        let mut linker = Linker::<Host<S>>::new(engine);
        add_to_linker(&mut linker, |h| h).unwrap();
        let mut store = Store::new(engine, Host::new(system));
        let instance = linker.instantiate(&mut store, module).unwrap();
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        Guest {
            store,
            instance,
            memory,
            next: SCRATCH,
        }
    }

    /// Calls export `name`; the errno as a `Result`. Resets the scratch area.
    pub fn call(&mut self, name: &str, args: &[Val]) -> Result<(), Errno> {
        let func = self.instance.get_func(&mut self.store, name).unwrap();
        let mut result = [Val::I32(0)];
        let results = if name == "proc_exit" {
            &mut result[..0]
        } else {
            &mut result[..]
        };
        func.call(&mut self.store, args, results).unwrap();
        self.next = SCRATCH;
        match result[0].unwrap_i32() {
            0 => Ok(()),
            e => Err(Errno::from_repr(e as u16).unwrap()),
        }
    }

    /// Room for `len` bytes aligned to 8; returns the address.
    pub fn alloc(&mut self, len: u32) -> u32 {
        let at = self.next.next_multiple_of(8);
        self.next = at + len;
        at
    }

    /// Copies `bytes` in; returns the address.
    pub fn put(&mut self, bytes: &[u8]) -> u32 {
        let at = self.alloc(bytes.len() as u32);
        self.memory
            .write(&mut self.store, at as usize, bytes)
            .unwrap();
        at
    }

    pub fn read(&self, at: u32, len: u32) -> Vec<u8> {
        let mut out = vec![0; len as usize];
        self.memory
            .read(&self.store, at as usize, &mut out)
            .unwrap();
        out
    }

    pub fn u32_at(&self, at: u32) -> u32 {
        u32::from_le_bytes(self.read(at, 4).try_into().unwrap())
    }

    pub fn u64_at(&self, at: u32) -> u64 {
        u64::from_le_bytes(self.read(at, 8).try_into().unwrap())
    }

    /// A path argument: (address, length).
    fn path(&mut self, path: &str) -> (Val, Val) {
        let at = self.put(path.as_bytes());
        (Val::I32(at as i32), Val::I32(path.len() as i32))
    }

    /// An array of iovecs over copies of `bufs`.
    fn iovs(&mut self, bufs: &[&[u8]]) -> (u32, Vec<Iov>) {
        let iovs: Vec<Iov> = bufs.iter().map(|b| (self.put(b), b.len() as u32)).collect();
        let mut raw = Vec::new();
        for (at, len) in &iovs {
            raw.extend_from_slice(&at.to_le_bytes());
            raw.extend_from_slice(&len.to_le_bytes());
        }
        (self.put(&raw), iovs)
    }

    // ---- args, environ ----

    pub fn args(&mut self) -> Result<Vec<Vec<u8>>, Errno> {
        self.strings("args_sizes_get", "args_get")
    }

    pub fn environ(&mut self) -> Result<Vec<Vec<u8>>, Errno> {
        self.strings("environ_sizes_get", "environ_get")
    }

    fn strings(&mut self, sizes: &str, get: &str) -> Result<Vec<Vec<u8>>, Errno> {
        let out = self.alloc(8);
        self.call(sizes, &[i(out), i(out + 4)])?;
        let (count, size) = (self.u32_at(out), self.u32_at(out + 4));
        let table = self.alloc(4 * count);
        let buf = self.alloc(size);
        self.call(get, &[i(table), i(buf)])?;
        let bytes = self.read(buf, size);
        let mut strings = Vec::new();
        for k in 0..count {
            let at = self.u32_at(table + 4 * k) - buf;
            let end = bytes[at as usize..].iter().position(|&b| b == 0).unwrap();
            strings.push(bytes[at as usize..at as usize + end].to_vec());
        }
        Ok(strings)
    }

    // ---- clocks, random, process ----

    pub fn clock_res_get(&mut self, id: u32) -> Result<u64, Errno> {
        let out = self.alloc(8);
        self.call("clock_res_get", &[i(id), i(out)])?;
        Ok(self.u64_at(out))
    }

    pub fn clock_time_get(&mut self, id: u32) -> Result<u64, Errno> {
        let out = self.alloc(8);
        self.call("clock_time_get", &[i(id), l(0), i(out)])?;
        Ok(self.u64_at(out))
    }

    pub fn random_get(&mut self, len: u32) -> Result<Vec<u8>, Errno> {
        let at = self.alloc(len);
        self.call("random_get", &[i(at), i(len)])?;
        Ok(self.read(at, len))
    }

    /// Calls `proc_exit`: the status the instance ended with.
    pub fn proc_exit(&mut self, code: u32) -> Option<wasirun_wasi::I32Exit> {
        let func = self
            .instance
            .get_func(&mut self.store, "proc_exit")
            .unwrap();
        let err = func.call(&mut self.store, &[i(code)], &mut []).unwrap_err();
        err.downcast_ref::<wasirun_wasi::I32Exit>().copied()
    }

    // ---- descriptors ----

    pub fn fd_close(&mut self, fd: u32) -> Result<(), Errno> {
        self.call("fd_close", &[i(fd)])
    }

    pub fn fd_renumber(&mut self, fd: u32, to: u32) -> Result<(), Errno> {
        self.call("fd_renumber", &[i(fd), i(to)])
    }

    /// (filetype, flags, base rights, inheriting rights)
    pub fn fd_fdstat_get(&mut self, fd: u32) -> Result<(u8, u16, u64, u64), Errno> {
        let out = self.alloc(24);
        self.call("fd_fdstat_get", &[i(fd), i(out)])?;
        let raw = self.read(out, 24);
        Ok((
            raw[0],
            u16::from_le_bytes([raw[2], raw[3]]),
            self.u64_at(out + 8),
            self.u64_at(out + 16),
        ))
    }

    pub fn fd_fdstat_set_flags(&mut self, fd: u32, flags: u16) -> Result<(), Errno> {
        self.call("fd_fdstat_set_flags", &[i(fd), i(flags as u32)])
    }

    pub fn fd_fdstat_set_rights(
        &mut self,
        fd: u32,
        base: u64,
        inheriting: u64,
    ) -> Result<(), Errno> {
        self.call("fd_fdstat_set_rights", &[i(fd), l(base), l(inheriting)])
    }

    /// The length of the preopen's name.
    pub fn fd_prestat_get(&mut self, fd: u32) -> Result<u32, Errno> {
        let out = self.alloc(8);
        self.call("fd_prestat_get", &[i(fd), i(out)])?;
        assert_eq!(self.read(out, 1)[0], 0, "preopentype dir");
        Ok(self.u32_at(out + 4))
    }

    pub fn fd_prestat_dir_name(&mut self, fd: u32, len: u32) -> Result<Vec<u8>, Errno> {
        let at = self.alloc(len);
        self.call("fd_prestat_dir_name", &[i(fd), i(at), i(len)])?;
        Ok(self.read(at, len))
    }

    // ---- files ----

    pub fn fd_read(&mut self, fd: u32, lens: &[u32]) -> Result<Vec<u8>, Errno> {
        let bufs: Vec<Vec<u8>> = lens.iter().map(|&n| vec![0; n as usize]).collect();
        let refs: Vec<&[u8]> = bufs.iter().map(|b| &b[..]).collect();
        let (at, iovs) = self.iovs(&refs);
        let out = self.alloc(4);
        self.call("fd_read", &[i(fd), i(at), i(iovs.len() as u32), i(out)])?;
        Ok(self.gather(&iovs, self.u32_at(out)))
    }

    pub fn fd_pread(&mut self, fd: u32, len: u32, offset: u64) -> Result<Vec<u8>, Errno> {
        let buf = vec![0; len as usize];
        let (at, iovs) = self.iovs(&[&buf]);
        let out = self.alloc(4);
        self.call("fd_pread", &[i(fd), i(at), i(1), l(offset), i(out)])?;
        Ok(self.gather(&iovs, self.u32_at(out)))
    }

    fn gather(&self, iovs: &[Iov], mut n: u32) -> Vec<u8> {
        let mut data = Vec::new();
        for &(at, len) in iovs {
            let take = n.min(len);
            data.extend(self.read(at, take));
            n -= take;
        }
        data
    }

    pub fn fd_write(&mut self, fd: u32, bufs: &[&[u8]]) -> Result<u32, Errno> {
        let (at, iovs) = self.iovs(bufs);
        let out = self.alloc(4);
        self.call("fd_write", &[i(fd), i(at), i(iovs.len() as u32), i(out)])?;
        Ok(self.u32_at(out))
    }

    pub fn fd_pwrite(&mut self, fd: u32, data: &[u8], offset: u64) -> Result<u32, Errno> {
        let (at, _) = self.iovs(&[data]);
        let out = self.alloc(4);
        self.call("fd_pwrite", &[i(fd), i(at), i(1), l(offset), i(out)])?;
        Ok(self.u32_at(out))
    }

    pub fn fd_seek(&mut self, fd: u32, offset: i64, whence: u8) -> Result<u64, Errno> {
        let out = self.alloc(8);
        self.call(
            "fd_seek",
            &[i(fd), l(offset as u64), i(whence as u32), i(out)],
        )?;
        Ok(self.u64_at(out))
    }

    pub fn fd_tell(&mut self, fd: u32) -> Result<u64, Errno> {
        let out = self.alloc(8);
        self.call("fd_tell", &[i(fd), i(out)])?;
        Ok(self.u64_at(out))
    }

    pub fn fd_sync(&mut self, fd: u32) -> Result<(), Errno> {
        self.call("fd_sync", &[i(fd)])
    }

    pub fn fd_datasync(&mut self, fd: u32) -> Result<(), Errno> {
        self.call("fd_datasync", &[i(fd)])
    }

    pub fn fd_advise(&mut self, fd: u32, offset: u64, len: u64, advice: u8) -> Result<(), Errno> {
        self.call("fd_advise", &[i(fd), l(offset), l(len), i(advice as u32)])
    }

    pub fn fd_allocate(&mut self, fd: u32, offset: u64, len: u64) -> Result<(), Errno> {
        self.call("fd_allocate", &[i(fd), l(offset), l(len)])
    }

    pub fn fd_filestat_get(&mut self, fd: u32) -> Result<Filestat, Errno> {
        let out = self.alloc(64);
        self.call("fd_filestat_get", &[i(fd), i(out)])?;
        Ok(self.filestat(out))
    }

    pub fn fd_filestat_set_size(&mut self, fd: u32, size: u64) -> Result<(), Errno> {
        self.call("fd_filestat_set_size", &[i(fd), l(size)])
    }

    pub fn fd_filestat_set_times(
        &mut self,
        fd: u32,
        atim: u64,
        mtim: u64,
        flags: u16,
    ) -> Result<(), Errno> {
        self.call(
            "fd_filestat_set_times",
            &[i(fd), l(atim), l(mtim), i(flags as u32)],
        )
    }

    fn filestat(&self, at: u32) -> Filestat {
        Filestat {
            dev: self.u64_at(at),
            ino: self.u64_at(at + 8),
            filetype: self.read(at + 16, 1)[0],
            nlink: self.u64_at(at + 24),
            size: self.u64_at(at + 32),
            atim: self.u64_at(at + 40),
            mtim: self.u64_at(at + 48),
            ctim: self.u64_at(at + 56),
        }
    }

    /// The raw buffer `fd_readdir` filled.
    pub fn fd_readdir(&mut self, fd: u32, len: u32, cookie: u64) -> Result<Vec<u8>, Errno> {
        let at = self.alloc(len);
        let out = self.alloc(4);
        self.call("fd_readdir", &[i(fd), i(at), i(len), l(cookie), i(out)])?;
        let n = self.u32_at(out);
        Ok(self.read(at, n))
    }

    // ---- paths ----

    #[allow(clippy::too_many_arguments)]
    pub fn path_open(
        &mut self,
        fd: u32,
        lookup: u32,
        path: &str,
        oflags: u16,
        base: u64,
        inheriting: u64,
        fdflags: u16,
    ) -> Result<u32, Errno> {
        let (p, n) = self.path(path);
        let out = self.alloc(4);
        self.call(
            "path_open",
            &[
                i(fd),
                i(lookup),
                p,
                n,
                i(oflags as u32),
                l(base),
                l(inheriting),
                i(fdflags as u32),
                i(out),
            ],
        )?;
        Ok(self.u32_at(out))
    }

    pub fn path_create_directory(&mut self, fd: u32, path: &str) -> Result<(), Errno> {
        let (p, n) = self.path(path);
        self.call("path_create_directory", &[i(fd), p, n])
    }

    pub fn path_remove_directory(&mut self, fd: u32, path: &str) -> Result<(), Errno> {
        let (p, n) = self.path(path);
        self.call("path_remove_directory", &[i(fd), p, n])
    }

    pub fn path_unlink_file(&mut self, fd: u32, path: &str) -> Result<(), Errno> {
        let (p, n) = self.path(path);
        self.call("path_unlink_file", &[i(fd), p, n])
    }

    pub fn path_rename(&mut self, fd: u32, old: &str, new_fd: u32, new: &str) -> Result<(), Errno> {
        let (op, on) = self.path(old);
        let (np, nn) = self.path(new);
        self.call("path_rename", &[i(fd), op, on, i(new_fd), np, nn])
    }

    pub fn path_link(
        &mut self,
        fd: u32,
        lookup: u32,
        old: &str,
        new_fd: u32,
        new: &str,
    ) -> Result<(), Errno> {
        let (op, on) = self.path(old);
        let (np, nn) = self.path(new);
        self.call("path_link", &[i(fd), i(lookup), op, on, i(new_fd), np, nn])
    }

    pub fn path_symlink(&mut self, target: &str, fd: u32, new: &str) -> Result<(), Errno> {
        let (op, on) = self.path(target);
        let (np, nn) = self.path(new);
        self.call("path_symlink", &[op, on, i(fd), np, nn])
    }

    pub fn path_readlink(&mut self, fd: u32, path: &str, len: u32) -> Result<Vec<u8>, Errno> {
        let (p, n) = self.path(path);
        let buf = self.alloc(len);
        let out = self.alloc(4);
        self.call("path_readlink", &[i(fd), p, n, i(buf), i(len), i(out)])?;
        let got = self.u32_at(out);
        Ok(self.read(buf, got))
    }

    pub fn path_filestat_get(
        &mut self,
        fd: u32,
        lookup: u32,
        path: &str,
    ) -> Result<Filestat, Errno> {
        let (p, n) = self.path(path);
        let out = self.alloc(64);
        self.call("path_filestat_get", &[i(fd), i(lookup), p, n, i(out)])?;
        Ok(self.filestat(out))
    }

    #[allow(clippy::too_many_arguments)]
    pub fn path_filestat_set_times(
        &mut self,
        fd: u32,
        lookup: u32,
        path: &str,
        atim: u64,
        mtim: u64,
        flags: u16,
    ) -> Result<(), Errno> {
        let (p, n) = self.path(path);
        self.call(
            "path_filestat_set_times",
            &[i(fd), i(lookup), p, n, l(atim), l(mtim), i(flags as u32)],
        )
    }

    // ---- poll ----

    /// `poll_oneoff` over raw 48-byte subscriptions; the events as (userdata, errno, type,
    /// nbytes, flags).
    pub fn poll_oneoff(&mut self, subs: &[[u8; 48]]) -> Result<Vec<PollEvent>, Errno> {
        let raw: Vec<u8> = subs.iter().flatten().copied().collect();
        let at = self.put(&raw);
        let events = self.alloc(32 * subs.len() as u32);
        let out = self.alloc(4);
        self.call(
            "poll_oneoff",
            &[i(at), i(events), i(subs.len() as u32), i(out)],
        )?;
        let n = self.u32_at(out);
        Ok((0..n)
            .map(|k| {
                let e = events + 32 * k;
                let raw = self.read(e, 32);
                (
                    self.u64_at(e),
                    u16::from_le_bytes([raw[8], raw[9]]),
                    raw[10],
                    self.u64_at(e + 16),
                    u16::from_le_bytes([raw[24], raw[25]]),
                )
            })
            .collect())
    }

    // ---- sockets ----

    pub fn sock_accept(&mut self, fd: u32, flags: u16) -> Result<u32, Errno> {
        let out = self.alloc(4);
        self.call("sock_accept", &[i(fd), i(flags as u32), i(out)])?;
        Ok(self.u32_at(out))
    }

    pub fn sock_recv(&mut self, fd: u32, len: u32, flags: u16) -> Result<(Vec<u8>, u16), Errno> {
        let buf = vec![0; len as usize];
        let (at, iovs) = self.iovs(&[&buf]);
        let out = self.alloc(8);
        self.call(
            "sock_recv",
            &[i(fd), i(at), i(1), i(flags as u32), i(out), i(out + 4)],
        )?;
        let flags = self.read(out + 4, 2);
        Ok((
            self.gather(&iovs, self.u32_at(out)),
            u16::from_le_bytes([flags[0], flags[1]]),
        ))
    }

    pub fn sock_send(&mut self, fd: u32, data: &[u8], flags: u16) -> Result<u32, Errno> {
        let (at, _) = self.iovs(&[data]);
        let out = self.alloc(4);
        self.call("sock_send", &[i(fd), i(at), i(1), i(flags as u32), i(out)])?;
        Ok(self.u32_at(out))
    }

    pub fn sock_shutdown(&mut self, fd: u32, how: u8) -> Result<(), Errno> {
        self.call("sock_shutdown", &[i(fd), i(how as u32)])
    }
}

/// An event from `poll_oneoff`: (userdata, errno, type, nbytes, flags).
pub type PollEvent = (u64, u16, u8, u64, u16);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filestat {
    pub dev: u64,
    pub ino: u64,
    pub filetype: u8,
    pub nlink: u64,
    pub size: u64,
    pub atim: u64,
    pub mtim: u64,
    pub ctim: u64,
}

pub fn i(v: u32) -> Val {
    Val::I32(v as i32)
}

pub fn l(v: u64) -> Val {
    Val::I64(v as i64)
}

/// A subscription to a clock.
pub fn clock_sub(userdata: u64, id: u32, timeout: u64, absolute: bool) -> [u8; 48] {
    let mut s = [0u8; 48];
    s[0..8].copy_from_slice(&userdata.to_le_bytes());
    s[8] = 0;
    s[16..20].copy_from_slice(&id.to_le_bytes());
    s[24..32].copy_from_slice(&timeout.to_le_bytes());
    s[40..42].copy_from_slice(&(absolute as u16).to_le_bytes());
    s
}

/// A subscription to an fd being readable (`write == false`) or writable.
pub fn fd_sub(userdata: u64, fd: u32, write: bool) -> [u8; 48] {
    let mut s = [0u8; 48];
    s[0..8].copy_from_slice(&userdata.to_le_bytes());
    s[8] = if write { 2 } else { 1 };
    s[16..20].copy_from_slice(&fd.to_le_bytes());
    s
}

/// A directory of its own for one test, removed at the end.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("wasirun-unix-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The preopen's fd in every [`setup`].
pub const ROOT: u32 = 3;

/// A guest with `dir` preopened read-write as "/sandbox" at fd 3.
pub fn setup(dir: &TempDir) -> Guest {
    setup_with(dir, |_| {})
}

/// A guest with `dir` preopened read-write at fd 3, after `configure` had its say.
pub fn setup_with(dir: &TempDir, configure: impl FnOnce(&mut Builder)) -> Guest {
    let mut b = Builder::new();
    b.preopen_dir(dir.path(), "/sandbox", DirMode::ReadWrite)
        .unwrap();
    configure(&mut b);
    Guest::new(b.build().unwrap())
}

/// Both resolvers, for tests that must hold with each.
pub const RESOLVERS: [Resolver; 2] = [Resolver::Auto, Resolver::Walk];

/// Rights and flags by name, as the witx numbers them.
#[allow(dead_code)]
pub mod wasi {
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    pub const SOCK_SHUTDOWN: u64 = 1 << 28;
    pub const SOCK_ACCEPT: u64 = 1 << 29;
    pub const ALL: u64 = (1 << 30) - 1;
    pub const RW: u64 = FD_READ | FD_WRITE;

    pub const O_CREAT: u16 = 1;
    pub const O_DIRECTORY: u16 = 2;
    pub const O_EXCL: u16 = 4;
    pub const O_TRUNC: u16 = 8;

    pub const APPEND: u16 = 1;
    pub const DSYNC: u16 = 2;
    pub const NONBLOCK: u16 = 4;
    pub const SYNC: u16 = 16;

    pub const FOLLOW: u32 = 1;

    pub const ATIM: u16 = 1;
    pub const ATIM_NOW: u16 = 2;
    pub const MTIM: u16 = 4;
    pub const MTIM_NOW: u16 = 8;

    pub const FILETYPE_UNKNOWN: u8 = 0;
    pub const FILETYPE_CHARACTER_DEVICE: u8 = 2;
    pub const FILETYPE_DIRECTORY: u8 = 3;
    pub const FILETYPE_REGULAR_FILE: u8 = 4;
    pub const FILETYPE_SOCKET_STREAM: u8 = 6;
    pub const FILETYPE_SYMBOLIC_LINK: u8 = 7;

    pub const WHENCE_SET: u8 = 0;
    pub const WHENCE_CUR: u8 = 1;
    pub const WHENCE_END: u8 = 2;
}
