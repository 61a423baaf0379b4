//! Target `host_calls`: any host function of preview 1 and of the WasmEdge sockets, called
//! through the real generated glue and wasmtime, with arguments and guest memory the fuzzer
//! chooses, against a [`UnixSystem`] whose preopen is a scratch tree.
//!
//! The functions are not listed here: each name the glue answers ([`preview1::IMPORTS`],
//! [`wasmedge::IMPORTS`], in the form the runner links) is imported by a generated WAT module,
//! with the type the linker gives it, and exported through a trampoline, so that the host sees
//! a real wasm caller. A name two forms answer (by arity, such as `sock_accept`) cannot be
//! imported twice by one module, so such forms go to further modules ("layers") of the same
//! store, which share the first one's memory.
//!
//! An input is a little bytecode, one op after another until it ends (at most [`MAX_OPS`]):
//!
//! - `op % 4 == 0`: patch memory: offset (u16), length (u8 % 64), bytes;
//! - otherwise call: function index (u8), then one argument per parameter, each a selector
//!   byte `s` (`s & 7` the kind, `s >> 3` a small value) and maybe more bytes; see [`arg`].
//!
//! Checked for each input: no panic or abort (the fuzzer sees those), no host function fails
//! the call but `proc_exit`, no socket ends up bound or connected (the default policy allows
//! no network), and after the store is dropped: the process has the descriptors it had, its
//! working directory, and the tree beside the preopen (files, directories, symlinks, an absolute
//! and a climbing symlink in the preopen point there) is as it was.
//!
//! What the harness changes so that a call cannot block the fuzzer (and only that): stdio is
//! `/dev/null`; `poll_oneoff`'s clock subscriptions are relative and under a millisecond, and a
//! poll without one gets one; sockets are made non-blocking before each call on a descriptor;
//! `fd_allocate` stays under a MiB (it would reserve real space on the host).

use super::input::{Input, open_fds};
use super::tree::{Scratch, clear, snapshot};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use wasirun_unix::{Builder, DirMode, UnixSystem};
use wasirun_wasi::glue::Import;
use wasirun_wasi::{Fd, Fdflags, Filetype, Host, I32Exit, System, preview1, wasmedge};
use wasmtime::{Engine, Func, FuncType, InstancePre, Linker, Module, Store, Val, ValType};

/// The most ops one input runs.
pub const MAX_OPS: usize = 256;

/// The guest's memory: one page, so that every address the fuzzer picks is near the end.
const MEMORY: usize = 65536;

/// Where the prelude puts path strings, 16 bytes apart.
const STRINGS: u32 = 0x0800;

/// The paths the prelude offers, at `STRINGS + 16 * i`.
const PATHS: &[&str] = &[
    "f", "d", "d/g", "lf", "ld", "up", "abs", "loop", "dang", "d/up2", "new", "d/new", "..", ".",
    "d/../f", "ld/g/", "d/e", "sock", "lf/", "up/x",
];

/// Values the fuzzer would have a hard time finding.
const SPECIAL: &[u64] = &[
    0,
    1,
    u64::MAX,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0xffff,
    0x1_0000,
    0xfff0,
    0x1_0000_0000,
    i64::MAX as u64,
    i64::MIN as u64,
    1 << 20,
    4096,
];

/// One function the fuzzer may call.
struct Callee {
    layer: usize,
    export: String,
    name: &'static str,
    ty: FuncType,
}

/// The engine, modules and scratch tree, made once and reused by every input.
pub struct Harness {
    engine: Engine,
    layers: Vec<InstancePre<Host<UnixSystem>>>,
    callees: Vec<Callee>,
    prelude: Vec<u8>,
    scratch: Scratch,
    root: PathBuf,
    outside: Vec<(PathBuf, String)>,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// Sets everything up; panics if it cannot (nothing to fuzz then).
    pub fn new() -> Self {
        let scratch = Scratch::new("host-calls");
        let root = scratch.path.join("root");
        std::fs::create_dir(&root).expect("mkdir root");
        make_outside(&scratch.path);
        let engine = Engine::default();
        let (layers, callees) = link(&engine);
        let mut harness = Harness {
            engine,
            layers,
            callees,
            prelude: prelude(&scratch.path),
            outside: Vec::new(),
            root,
            scratch,
        };
        harness.outside = harness.outside();
        // Whatever wasmtime or the system opens once and keeps is open before the first
        // input's count.
        harness.run(&[]);
        harness
    }

    /// Runs one input and checks the invariants; panics on a broken one.
    pub fn run(&self, data: &[u8]) {
        clear(&self.root);
        make_root(&self.root, &self.scratch.path);
        let cwd = std::env::current_dir().expect("cwd");
        let fds = open_fds();
        self.calls(data);
        assert_eq!(open_fds(), fds, "descriptors leaked");
        assert_eq!(std::env::current_dir().expect("cwd"), cwd, "cwd changed");
        assert!(self.outside == self.outside(), "the tree outside changed");
    }

    fn calls(&self, data: &[u8]) {
        let mut store = Store::new(&self.engine, Host::new(system(&self.root)));
        let instances: Vec<_> = self
            .layers
            .iter()
            .map(|pre| pre.instantiate(&mut store).expect("instantiate"))
            .collect();
        let memory = instances[0]
            .get_memory(&mut store, "memory")
            .expect("memory");
        memory.data_mut(&mut store).copy_from_slice(&self.prelude);
        store.data_mut().set_memory(memory);
        let funcs: Vec<Func> = self
            .callees
            .iter()
            .map(|c| {
                instances[c.layer]
                    .get_func(&mut store, &c.export)
                    .expect("trampoline")
            })
            .collect();
        let mut input = Input::new(data);
        for _ in 0..MAX_OPS {
            if input.is_empty() {
                break;
            }
            let op = input.u8();
            if op.is_multiple_of(4) {
                let at = usize::from(input.u16());
                let len = usize::from(input.u8() % 64);
                let bytes = input.bytes(len);
                let mem = memory.data_mut(&mut store);
                let end = (at + bytes.len()).min(MEMORY);
                mem[at..end].copy_from_slice(&bytes[..end - at]);
                continue;
            }
            let i = usize::from(input.u8()) % self.callees.len();
            let callee = &self.callees[i];
            let mut args: Vec<Val> = callee
                .ty
                .params()
                .map(|t| match t {
                    ValType::I32 => Val::I32(arg(&mut input) as u32 as i32),
                    ValType::I64 => Val::I64(arg(&mut input) as i64),
                    other => unreachable!("WASI takes integers, not {other}"),
                })
                .collect();
            guard(&mut store, memory, callee.name, &mut args);
            let mut results: Vec<Val> = callee.ty.results().map(|_| Val::I32(0)).collect();
            if let Err(e) = funcs[i].call(&mut store, &args, &mut results) {
                let exited = e.downcast_ref::<I32Exit>().is_some() || callee.name == "proc_exit";
                assert!(exited, "{} failed the call: {e:?}", callee.name);
            }
        }
        assert_no_network();
    }

    /// A snapshot of the scratch tree without the preopen.
    fn outside(&self) -> Vec<(PathBuf, String)> {
        let mut all = snapshot(&self.scratch.path);
        all.retain(|(path, _)| !path.starts_with("root"));
        all
    }
}

/// Decodes one argument: `s & 7` picks how, `s >> 3` (0 to 31) is a small value.
///
/// 0: the small value; 1: the address of prelude path `v`; 2: `v * 0x800`, an address spread
/// over the page; 3, 4, 5: a u16, u32, u64 from the input; 6: a [`SPECIAL`] value; 7: an
/// address, `v * 256` plus a u8 from the input.
fn arg(input: &mut Input<'_>) -> u64 {
    let s = input.u8();
    let v = u64::from(s >> 3);
    match s & 7 {
        0 => v,
        1 => u64::from(STRINGS) + 16 * v,
        2 => v * 0x800,
        3 => u64::from(input.u16()),
        4 => u64::from(input.u32()),
        5 => input.u64(),
        6 => SPECIAL[v as usize % SPECIAL.len()],
        _ => v * 256 + u64::from(input.u8()),
    }
}

/// What keeps a call from blocking the fuzzer or taking real host resources (see the module
/// docs): changes to the arguments or the memory the call reads, nothing else.
fn guard(
    store: &mut Store<Host<UnixSystem>>,
    memory: wasmtime::Memory,
    name: &str,
    args: &mut [Val],
) {
    if (name.starts_with("fd_") || name.starts_with("sock_"))
        && let Some(Val::I32(fd)) = args.first()
    {
        nonblocking(store.data_mut().system_mut(), Fd(*fd as u32));
    }
    match name {
        "poll_oneoff" => {
            let (Val::I32(subs), Val::I32(n)) = (args[0], args[2]) else {
                unreachable!("poll_oneoff(in, out, nsubscriptions, nevents)");
            };
            clamp_poll(
                memory.data_mut(store),
                subs as u32 as usize,
                n as u32 as usize,
            );
        }
        "fd_allocate" => {
            for a in &mut args[1..3] {
                if let Val::I64(v) = a {
                    *v &= (1 << 20) - 1;
                }
            }
        }
        _ => {}
    }
}

/// Makes `fd` non-blocking if it is a blocking socket: under the default policy nothing ever
/// arrives on one, so a read or accept would wait forever.
fn nonblocking(sys: &mut UnixSystem, fd: Fd) {
    let Ok(stat) = System::fd_fdstat_get(sys, fd) else {
        return;
    };
    let socket = matches!(
        stat.fs_filetype,
        Filetype::SocketStream | Filetype::SocketDgram
    );
    if socket && !stat.fs_flags.contains(Fdflags::NONBLOCK) {
        let _ = System::fd_fdstat_set_flags(sys, fd, stat.fs_flags | Fdflags::NONBLOCK);
    }
}

/// The size of a preview 1 subscription, and where its fields are.
const SUBSCRIPTION: usize = 48;
const TAG: usize = 8;
const CLOCK_TIMEOUT: usize = 24;
const CLOCK_FLAGS: usize = 40;

/// Every clock subscription in memory relative and under a millisecond; without one, the first
/// subscription becomes one, so that a poll on descriptors that never become ready ends.
fn clamp_poll(mem: &mut [u8], at: usize, n: usize) {
    let len = mem.len();
    let subs = (0..n)
        .map(|i| at + i * SUBSCRIPTION)
        .take_while(|start| start + SUBSCRIPTION <= len);
    let mut clock = false;
    for start in subs {
        if mem[start + TAG] == 0 {
            clamp_clock(mem, start);
            clock = true;
        }
    }
    if !clock && n > 0 && at + SUBSCRIPTION <= mem.len() {
        mem[at + TAG] = 0;
        clamp_clock(mem, at);
    }
}

fn clamp_clock(mem: &mut [u8], start: usize) {
    let field = start + CLOCK_TIMEOUT..start + CLOCK_TIMEOUT + 8;
    let timeout = u64::from_le_bytes(mem[field.clone()].try_into().expect("8 bytes"));
    mem[field].copy_from_slice(&(timeout % 1_000_000).to_le_bytes());
    mem[start + CLOCK_FLAGS] &= !1;
}

/// No descriptor of the process is a bound or connected internet socket: only the guest makes
/// sockets here, and the default policy lets it bind and connect nothing.
fn assert_no_network() {
    for entry in std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd") {
        let name = entry.expect("entry").file_name();
        let Some(fd) = name.to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        // SAFETY: only looked at while the directory listing says it is open, and this
        // harness runs on one thread; a descriptor closed meanwhile fails the calls below.
        let fd = unsafe { rustix::fd::BorrowedFd::borrow_raw(fd) };
        let Ok(stat) = rustix::fs::fstat(fd) else {
            continue;
        };
        if rustix::fs::FileType::from_raw_mode(stat.st_mode) != rustix::fs::FileType::Socket {
            continue;
        }
        if let Ok(addr) = rustix::net::getsockname(fd)
            && let Ok(addr) = std::net::SocketAddr::try_from(addr)
        {
            assert_eq!(addr.port(), 0, "the guest bound {addr}");
        }
        if let Ok(peer) = rustix::net::getpeername(fd) {
            assert!(peer.is_none(), "the guest connected to {peer:?}");
        }
    }
}

/// The system each input runs against: the preopen, a read-only preopen inside it, the
/// default (deny-all) network policy, stdio on `/dev/null`.
fn system(root: &Path) -> UnixSystem {
    let mut system = Builder::new()
        .max_open_files(64)
        .arg("fuzz")
        .arg("--flag")
        .env("HOME", "/")
        .preopen_dir(root, "/", DirMode::ReadWrite)
        .expect("preopen")
        .preopen_dir(root.join("d"), "/ro", DirMode::ReadOnly)
        .expect("preopen")
        .build()
        .expect("system");
    for stdio in 0..3 {
        let null = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
            .expect("/dev/null");
        let fd = system.add_fd(null.into()).expect("add_fd");
        System::fd_renumber(&mut system, fd, Fd(stdio)).expect("stdio on /dev/null");
    }
    system
}

/// The preopen's tree: files, directories, symlinks inside, out (climbing, absolute), dangling
/// and looping.
fn make_root(root: &Path, scratch: &Path) {
    std::fs::create_dir_all(root.join("d/e")).expect("mkdir");
    std::fs::write(root.join("f"), b"hello, file").expect("write");
    std::fs::write(root.join("d/g"), b"g").expect("write");
    let links: &[(&Path, &str)] = &[
        (&scratch.join("out/secret"), "abs"),
        (Path::new("f"), "lf"),
        (Path::new("d"), "ld"),
        (Path::new("../out/secret"), "up"),
        (Path::new("../../out"), "d/up2"),
        (Path::new("loop"), "loop"),
        (Path::new("nothing"), "dang"),
    ];
    for (target, link) in links {
        symlink(target, root.join(link)).expect("symlink");
    }
}

/// The sentinel tree beside the preopen, which must stay as it is.
fn make_outside(scratch: &Path) {
    let out = scratch.join("out");
    std::fs::create_dir_all(out.join("sub")).expect("mkdir");
    std::fs::write(out.join("secret"), b"secret").expect("write");
    std::fs::write(out.join("sub/inner"), b"inner").expect("write");
    symlink("secret", out.join("link")).expect("symlink");
    std::fs::write(scratch.join("beside"), b"beside").expect("write");
}

/// The guest memory each input starts from: iovecs, subscriptions, an address and the path
/// strings where small argument values reach them, text elsewhere.
fn prelude(scratch: &Path) -> Vec<u8> {
    let mut mem = vec![0u8; MEMORY];
    let put = |mem: &mut [u8], at: usize, bytes: &[u8]| {
        mem[at..at + bytes.len()].copy_from_slice(bytes);
    };
    // iovecs at 0x100: (0x2000, 16), (0x2100, 256), (0x2800, 0), (0x3000, 4096).
    for (i, (buf, len)) in [
        (0x2000u32, 16u32),
        (0x2100, 256),
        (0x2800, 0),
        (0x3000, 4096),
    ]
    .iter()
    .enumerate()
    {
        put(&mut mem, 0x100 + 8 * i, &buf.to_le_bytes());
        put(&mut mem, 0x104 + 8 * i, &len.to_le_bytes());
    }
    // Subscriptions at 0x400: a relative monotonic clock, a read on fd 3, a write on fd 1.
    put(&mut mem, 0x400, &7u64.to_le_bytes());
    put(&mut mem, 0x410, &1u32.to_le_bytes());
    put(&mut mem, 0x418, &1000u64.to_le_bytes());
    put(&mut mem, 0x430 + TAG, &[1]);
    put(&mut mem, 0x440, &3u32.to_le_bytes());
    put(&mut mem, 0x460 + TAG, &[2]);
    put(&mut mem, 0x470, &1u32.to_le_bytes());
    // A WasmEdge address at 0x600 (buf, len) pointing at an IPv4 address at 0x610.
    put(&mut mem, 0x600, &0x610u32.to_le_bytes());
    put(&mut mem, 0x604, &16u32.to_le_bytes());
    put(&mut mem, 0x610, &[2, 0, 0x1f, 0x90, 127, 0, 0, 1]);
    for (i, path) in PATHS.iter().enumerate() {
        put(&mut mem, STRINGS as usize + 16 * i, path.as_bytes());
    }
    // The absolute path of the sentinel, for calls that should refuse it.
    let secret = scratch.join("out/secret");
    put(&mut mem, 0x0c00, secret.as_os_str().as_encoded_bytes());
    let text = b"The quick brown fox jumps over the lazy dog. ";
    for (i, b) in mem[0x2000..0x4000].iter_mut().enumerate() {
        *b = text[i % text.len()];
    }
    mem
}

/// The layers' modules, linked, and every function in them.
fn link(engine: &Engine) -> (Vec<InstancePre<Host<UnixSystem>>>, Vec<Callee>) {
    // Each name in the form the runner links it: preview 1's where it answers, WasmEdge's
    // otherwise.
    let mut entries: Vec<Import> = preview1::IMPORTS.to_vec();
    for i in wasmedge::IMPORTS {
        let answered = preview1::IMPORTS
            .iter()
            .any(|p| p.name == i.name && p.params == i.params);
        if !answered {
            entries.push(*i);
        }
    }
    let mut layers: Vec<Vec<Import>> = Vec::new();
    for import in entries {
        match layers
            .iter_mut()
            .find(|l| l.iter().all(|i| i.name != import.name))
        {
            Some(layer) => layer.push(import),
            None => layers.push(vec![import]),
        }
    }
    let mut pres = Vec::new();
    let mut callees = Vec::new();
    for (n, layer) in layers.iter().enumerate() {
        let probe = Module::new(engine, probe_wat(layer)).expect("probe module");
        let mut linker = Linker::<Host<UnixSystem>>::new(engine);
        linker.allow_shadowing(true);
        preview1::add_imports_to_linker(&mut linker, &probe, &[], |h| h).expect("link");
        wasmedge::add_imports_to_linker(&mut linker, &probe, preview1::IMPORTS, |h| h)
            .expect("link");
        let mut store = Store::new(engine, Host::new(Builder::new().build().expect("system")));
        let types: Vec<FuncType> = layer
            .iter()
            .map(|i| {
                linker
                    .get(&mut store, preview1::MODULE, i.name)
                    .ok()
                    .and_then(|e| e.into_func())
                    .unwrap_or_else(|| panic!("{} is not linked", i.name))
                    .ty(&store)
            })
            .collect();
        let module = Module::new(engine, layer_wat(n == 0, layer, &types)).expect("layer");
        pres.push(linker.instantiate_pre(&module).expect("instantiate_pre"));
        for (k, (import, ty)) in layer.iter().zip(types).enumerate() {
            callees.push(Callee {
                layer: n,
                export: format!("f{k}"),
                name: import.function,
                ty,
            });
        }
    }
    (pres, callees)
}

/// A module importing `layer` with any types of the right arities: enough for the glue to link
/// each in its form, whose real type the linker then tells.
fn probe_wat(layer: &[Import]) -> String {
    let mut wat = String::from("(module\n");
    for i in layer {
        let params = " i32".repeat(i.params);
        wat.push_str(&format!(
            "(import \"{}\" \"{}\" (func (param{params})))\n",
            preview1::MODULE,
            i.name
        ));
    }
    wat.push(')');
    wat
}

/// The layer's module: each function imported with its type and exported as `f<k>` through a
/// trampoline; the first layer has the memory.
fn layer_wat(first: bool, layer: &[Import], types: &[FuncType]) -> String {
    let mut wat = String::from("(module\n");
    let sig = |ty: &FuncType| {
        let params: String = ty.params().map(|t| format!(" {t}")).collect();
        let results: String = ty.results().map(|t| format!(" {t}")).collect();
        format!("(param{params}) (result{results})")
    };
    for (k, (i, ty)) in layer.iter().zip(types).enumerate() {
        wat.push_str(&format!(
            "(import \"{}\" \"{}\" (func $i{k} {}))\n",
            preview1::MODULE,
            i.name,
            sig(ty)
        ));
    }
    if first {
        wat.push_str("(memory (export \"memory\") 1 1)\n");
    }
    for (k, ty) in types.iter().enumerate() {
        let gets: String = (0..ty.params().len())
            .map(|p| format!("local.get {p} "))
            .collect();
        wat.push_str(&format!(
            "(func (export \"f{k}\") {} {gets}call $i{k})\n",
            sig(ty)
        ));
    }
    wat.push(')');
    wat
}
