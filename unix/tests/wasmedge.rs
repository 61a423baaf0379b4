//! The WasmEdge sockets through wasmtime and the generated glue, at the ABI level: a WAT guest
//! that imports the functions in the shapes real guests mix (a v1 `sock_accept` and
//! `sock_getlocaladdr`, a v2-shaped `sock_recv_from` under the plain name, `_v2` names), and
//! tests that put raw pointers, lengths and bad values in its memory. Also `path_open` sockets
//! and the network policy, (the fd count after 10,000 accepts is
//! `fd_leaks.rs`, alone in its process).

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use wasirun_unix::{Builder, Policy, SocketUrls};
use wasirun_wasi::{Errno, Host, System, Wasmedge, preview1, wasmedge};

/// Both packages, so that a guest runs on a plain system or one wrapped in [`SocketUrls`].
trait Both: System + Wasmedge {}
impl<S: System + Wasmedge> Both for S {}
use wasmtime::{Engine, Instance, Linker, Memory, Module, Store, Val};

/// Imports: name and core-wasm parameter types.
const FUNCS: &[(&str, &str)] = &[
    ("sock_open", "i32 i32 i32"),
    ("sock_bind", "i32 i32 i32"),
    ("sock_connect", "i32 i32 i32"),
    ("sock_listen", "i32 i32"),
    ("sock_accept", "i32 i32"),
    ("sock_recv_from", "i32 i32 i32 i32 i32 i32 i32 i32"),
    ("sock_send_to", "i32 i32 i32 i32 i32 i32 i32"),
    ("sock_getsockopt", "i32 i32 i32 i32 i32"),
    ("sock_setsockopt", "i32 i32 i32 i32 i32"),
    ("sock_getlocaladdr", "i32 i32 i32 i32"),
    ("sock_getpeeraddr_v2", "i32 i32 i32"),
    ("sock_getaddrinfo", "i32 i32 i32 i32 i32 i32 i32 i32"),
    ("path_open", "i32 i32 i32 i32 i32 i64 i64 i32 i32"),
    ("fd_close", "i32"),
    ("fd_write", "i32 i32 i32 i32"),
    ("poll_oneoff", "i32 i32 i32 i32"),
];

/// WasmEdge's own names for the v2 forms.
const V2_FUNCS: &[(&str, &str)] = &[
    ("sock_open_v2", "i32 i32 i32"),
    ("sock_bind_v2", "i32 i32 i32"),
    ("sock_listen_v2", "i32 i32"),
    ("sock_connect_v2", "i32 i32 i32"),
    ("sock_accept_v2", "i32 i32 i32"),
    ("sock_send_v2", "i32 i32 i32 i32 i32"),
    ("sock_recv_v2", "i32 i32 i32 i32 i32 i32"),
    ("sock_getlocaladdr_v2", "i32 i32 i32"),
];

fn wat(funcs: &[(&str, &str)]) -> String {
    let mut out = String::from("(module\n");
    for (name, types) in funcs {
        out.push_str(&format!(
            "(import \"wasi_snapshot_preview1\" \"{name}\" (func ${name} (param {types}) (result i32)))\n"
        ));
    }
    out.push_str("(memory (export \"memory\") 2)\n");
    for (name, types) in funcs {
        let gets: String = (0..types.split_whitespace().count())
            .map(|i| format!("local.get {i} "))
            .collect();
        out.push_str(&format!(
            "(func (export \"{name}\") (param {types}) (result i32) {gets} call ${name})\n"
        ));
    }
    out + ")"
}

struct Guest {
    store: Store<Host<Box<dyn Both>>>,
    instance: Instance,
    memory: Memory,
    next: u32,
}

fn i(v: u32) -> Val {
    Val::I32(v as i32)
}

const INET4: u32 = 1;
const STREAM: u32 = 2;
const DGRAM: u32 = 1;
const SOL_SOCKET: u32 = 0;
const IPPROTO_TCP: u32 = 6;

impl Guest {
    fn new(system: impl Both + 'static) -> Guest {
        Guest::importing(FUNCS, system)
    }

    /// A guest importing `funcs`: all but preview 1's must be linked from the WasmEdge glue.
    fn importing(funcs: &[(&str, &str)], system: impl Both + 'static) -> Guest {
        let engine = Engine::default();
        let module = Module::new(&engine, wat(funcs)).unwrap();
        let mut linker = Linker::<Host<Box<dyn Both>>>::new(&engine);
        wasirun_wasi::add_to_linker(&mut linker, |h| h).unwrap();
        linker.allow_shadowing(true);
        let linked =
            wasmedge::add_imports_to_linker(&mut linker, &module, preview1::IMPORTS, |h| h)
                .unwrap();
        let preview1 = funcs
            .iter()
            .filter(|(n, t)| {
                let params = t.split_whitespace().count();
                preview1::IMPORTS
                    .iter()
                    .any(|i| i.name == *n && i.params == params)
            })
            .count();
        assert_eq!(linked, funcs.len() - preview1);
        let mut store = Store::new(&engine, Host::new(Box::new(system) as Box<dyn Both>));
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        Guest {
            store,
            instance,
            memory,
            next: 0x1000,
        }
    }

    fn open(policy: Policy) -> Guest {
        let system = Builder::new().policy(policy.clone()).build().unwrap();
        Guest::new(SocketUrls::new(system, policy))
    }

    fn call(&mut self, name: &str, args: &[Val]) -> Result<(), Errno> {
        let f = self.instance.get_func(&mut self.store, name).unwrap();
        let mut out = [Val::I32(0)];
        f.call(&mut self.store, args, &mut out).unwrap();
        match out[0].unwrap_i32() {
            0 => Ok(()),
            e => Err(Errno::from_repr(e as u16).unwrap()),
        }
    }

    /// Room for `len` bytes (never reused: each test's memory is fresh).
    fn alloc(&mut self, len: u32) -> u32 {
        let at = self.next.next_multiple_of(8);
        self.next = at + len;
        at
    }

    fn put(&mut self, bytes: &[u8]) -> u32 {
        let at = self.alloc(bytes.len() as u32);
        self.memory
            .write(&mut self.store, at as usize, bytes)
            .unwrap();
        at
    }

    fn read(&self, at: u32, len: u32) -> Vec<u8> {
        let mut out = vec![0; len as usize];
        self.memory
            .read(&self.store, at as usize, &mut out)
            .unwrap();
        out
    }

    fn u32_at(&self, at: u32) -> u32 {
        u32::from_le_bytes(self.read(at, 4).try_into().unwrap())
    }

    /// An `$address` descriptor over a copy of `bytes`.
    fn address(&mut self, bytes: &[u8]) -> u32 {
        let buf = self.put(bytes);
        let mut desc = buf.to_le_bytes().to_vec();
        desc.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        self.put(&desc)
    }

    fn sock_open(&mut self, af: u32, ty: u32) -> Result<u32, Errno> {
        let out = self.alloc(4);
        self.call("sock_open", &[i(af), i(ty), i(out)])?;
        Ok(self.u32_at(out))
    }

    fn bind_or_connect(&mut self, what: &str, fd: u32, addr: SocketAddr) -> Result<(), Errno> {
        let SocketAddr::V4(a) = addr else { panic!() };
        let desc = self.address(&a.ip().octets());
        self.call(what, &[i(fd), i(desc), i(u32::from(a.port()))])
    }

    /// v1 `sock_getlocaladdr`: (ip version, raw address, port).
    fn local_v1(&mut self, fd: u32) -> Result<(u32, Vec<u8>, u32), Errno> {
        let desc = self.address(&[0; 16]);
        let out = self.alloc(8);
        self.call("sock_getlocaladdr", &[i(fd), i(desc), i(out), i(out + 4)])?;
        let buf = self.u32_at(desc);
        Ok((self.u32_at(out), self.read(buf, 4), self.u32_at(out + 4)))
    }

    fn getsockopt(&mut self, fd: u32, level: u32, name: u32, size: u32) -> Result<Vec<u8>, Errno> {
        let value = self.alloc(size);
        let len = self.put(&size.to_le_bytes());
        self.call(
            "sock_getsockopt",
            &[i(fd), i(level), i(name), i(value), i(len)],
        )?;
        let n = self.u32_at(len);
        Ok(self.read(value, n))
    }

    fn setsockopt(&mut self, fd: u32, level: u32, name: u32, value: &[u8]) -> Result<(), Errno> {
        let at = self.put(value);
        self.call(
            "sock_setsockopt",
            &[i(fd), i(level), i(name), i(at), i(value.len() as u32)],
        )
    }

    fn path_open(&mut self, url: &str, fdflags: u32) -> Result<u32, Errno> {
        let p = self.put(url.as_bytes());
        let out = self.alloc(4);
        let args = [
            i(u32::MAX),
            i(0),
            i(p),
            i(url.len() as u32),
            i(0),
            Val::I64(0),
            Val::I64(0),
            i(fdflags),
            i(out),
        ];
        self.call("path_open", &args)?;
        Ok(self.u32_at(out))
    }
}

fn allow(connect: &str, bind: &str) -> Policy {
    let mut p = Policy::default();
    p.allow_connect(connect).unwrap();
    p.allow_bind(bind).unwrap();
    p
}

#[test]
fn tcp_server_with_v1_accept_and_getlocaladdr() {
    let mut g = Guest::open(allow("127.0.0.1", "127.0.0.1:0"));
    let fd = g.sock_open(INET4, STREAM).unwrap();
    g.bind_or_connect("sock_bind", fd, "127.0.0.1:0".parse().unwrap())
        .unwrap();
    g.call("sock_listen", &[i(fd), i(8)]).unwrap();
    let (version, ip, port) = g.local_v1(fd).unwrap();
    assert_eq!((version, ip.as_slice()), (4, &[127, 0, 0, 1][..]));
    let mut peer = TcpStream::connect(("127.0.0.1", port as u16)).unwrap();
    let out = g.alloc(4);
    g.call("sock_accept", &[i(fd), i(out)]).unwrap();
    let conn = g.u32_at(out);
    // v2 peer address: the 128-byte block and the port apart.
    let desc = g.address(&[0xff; 128]);
    let pout = g.alloc(4);
    g.call("sock_getpeeraddr_v2", &[i(conn), i(desc), i(pout)])
        .unwrap();
    let block = g.read(g.u32_at(desc), 8);
    assert_eq!(&block[..6], &[1, 0, 127, 0, 0, 1]);
    assert_eq!(&block[6..], &[0, 0], "the rest of the block is zeroed");
    assert_eq!(g.u32_at(pout), u32::from(peer.local_addr().unwrap().port()));
    peer.write_all(b"x").unwrap();
}

#[test]
fn policy_refuses_unless_allowed() {
    let mut g = Guest::open(allow("127.0.0.1:1-2", "10.0.0.0/8"));
    let fd = g.sock_open(INET4, STREAM).unwrap();
    let bind = g.bind_or_connect("sock_bind", fd, "127.0.0.1:0".parse().unwrap());
    assert_eq!(bind, Err(Errno::Acces));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let connect = g.bind_or_connect("sock_connect", fd, listener.local_addr().unwrap());
    assert_eq!(connect, Err(Errno::Acces), "port outside 1-2");
    // Unix-domain addresses need --allow-network.
    let mut block = [0u8; 128];
    block[0] = 3;
    block[2..8].copy_from_slice(b"/tmp/x");
    let unix = g.sock_open(3, STREAM).unwrap();
    let desc = g.address(&block);
    assert_eq!(
        g.call("sock_connect", &[i(unix), i(desc), i(0)]),
        Err(Errno::Acces)
    );
    // path_open sockets are under the same policy.
    let url = format!("tcp+dial://{}", listener.local_addr().unwrap());
    assert_eq!(g.path_open(&url, 0), Err(Errno::Acces));
    assert_eq!(
        g.path_open("tcp+listen://127.0.0.1:0", 0),
        Err(Errno::Acces)
    );
}

#[test]
fn bad_addresses_and_pointers() {
    let mut g = Guest::open({
        let mut p = Policy::default();
        p.allow_all();
        p
    });
    let fd = g.sock_open(INET4, STREAM).unwrap();
    // A descriptor out of memory, a buffer out of memory, a misaligned descriptor: EFAULT.
    assert_eq!(
        g.call("sock_bind", &[i(fd), i(0x7fff_fff0), i(0)]),
        Err(Errno::Fault)
    );
    let desc = g.put(&[0x00, 0x00, 0xff, 0x7f, 4, 0, 0, 0]);
    assert_eq!(
        g.call("sock_bind", &[i(fd), i(desc), i(0)]),
        Err(Errno::Fault)
    );
    let desc = g.address(&[127, 0, 0, 1]);
    assert_eq!(
        g.call("sock_bind", &[i(fd), i(desc + 1), i(0)]),
        Err(Errno::Fault)
    );
    // A length that is no address form, a port past 65535, an unspec family: EINVAL, EINVAL,
    // EAFNOSUPPORT; an unknown family or socket type: EINVAL.
    let desc = g.address(&[127, 0, 0]);
    assert_eq!(
        g.call("sock_bind", &[i(fd), i(desc), i(0)]),
        Err(Errno::Inval)
    );
    let desc = g.address(&[127, 0, 0, 1]);
    assert_eq!(
        g.call("sock_bind", &[i(fd), i(desc), i(70000)]),
        Err(Errno::Inval)
    );
    let desc = g.address(&[0; 128]);
    assert_eq!(
        g.call("sock_bind", &[i(fd), i(desc), i(0)]),
        Err(Errno::Afnosupport)
    );
    assert_eq!(g.sock_open(9, STREAM), Err(Errno::Inval));
    assert_eq!(g.sock_open(INET4, 7), Err(Errno::Inval));
    assert_eq!(g.sock_open(0, STREAM), Err(Errno::Afnosupport));
    // The out-pointer for the new fd out of memory.
    assert_eq!(
        g.call("sock_open", &[i(INET4), i(STREAM), i(u32::MAX)]),
        Err(Errno::Fault)
    );
    // Not a socket, not open.
    assert_eq!(g.call("sock_listen", &[i(1), i(1)]), Err(Errno::Notsock));
    assert_eq!(g.call("sock_listen", &[i(99), i(1)]), Err(Errno::Badf));
    // Bad path_open socket URLs.
    assert_eq!(g.path_open("tcp+dial://127.0.0.1", 0), Err(Errno::Inval));
    assert_eq!(
        g.path_open("tcp+listen://127.0.0.1:0?bogus=1", 0),
        Err(Errno::Inval)
    );
}

#[test]
fn socket_options() {
    let mut g = Guest::open(Policy::default());
    let fd = g.sock_open(INET4, STREAM).unwrap();
    let one = 1i32.to_le_bytes();
    for name in [0, 4, 7, 8] {
        g.setsockopt(fd, SOL_SOCKET, name, &one).unwrap();
        assert_eq!(
            g.getsockopt(fd, SOL_SOCKET, name, 4).unwrap(),
            one,
            "option {name}"
        );
    }
    g.setsockopt(fd, IPPROTO_TCP, 15, &one).unwrap();
    assert_eq!(g.getsockopt(fd, IPPROTO_TCP, 15, 4).unwrap(), one);
    g.setsockopt(fd, SOL_SOCKET, 6, &65536i32.to_le_bytes())
        .unwrap();
    let rcvbuf = i32::from_le_bytes(
        g.getsockopt(fd, SOL_SOCKET, 6, 4)
            .unwrap()
            .try_into()
            .unwrap(),
    );
    assert!(rcvbuf >= 65536, "Linux doubles it: {rcvbuf}");
    assert!(g.getsockopt(fd, SOL_SOCKET, 5, 4).is_ok());
    assert_eq!(
        g.getsockopt(fd, SOL_SOCKET, 1, 4).unwrap(),
        2i32.to_le_bytes(),
        "SO_TYPE stream"
    );
    assert_eq!(
        g.getsockopt(fd, SOL_SOCKET, 2, 4).unwrap(),
        0i32.to_le_bytes(),
        "SO_ERROR"
    );
    assert_eq!(
        g.getsockopt(fd, SOL_SOCKET, 13, 4).unwrap(),
        0i32.to_le_bytes()
    );
    let mut linger = 1i32.to_le_bytes().to_vec();
    linger.extend_from_slice(&3i32.to_le_bytes());
    g.setsockopt(fd, SOL_SOCKET, 9, &linger).unwrap();
    assert_eq!(g.getsockopt(fd, SOL_SOCKET, 9, 8).unwrap(), linger);
    let mut tv = 2i64.to_le_bytes().to_vec();
    tv.extend_from_slice(&500_000i64.to_le_bytes());
    for name in [11, 12] {
        g.setsockopt(fd, SOL_SOCKET, name, &tv).unwrap();
        assert_eq!(g.getsockopt(fd, SOL_SOCKET, name, 16).unwrap(), tv);
    }
    // Unknown option, unknown level, read-only option, short buffer.
    assert_eq!(g.getsockopt(fd, SOL_SOCKET, 99, 4), Err(Errno::Noprotoopt));
    assert_eq!(g.getsockopt(fd, IPPROTO_TCP, 0, 4), Err(Errno::Noprotoopt));
    assert_eq!(g.getsockopt(fd, 17, 0, 4), Err(Errno::Inval));
    assert_eq!(
        g.setsockopt(fd, SOL_SOCKET, 1, &one),
        Err(Errno::Noprotoopt)
    );
    assert_eq!(g.getsockopt(fd, SOL_SOCKET, 0, 2), Err(Errno::Inval));
    assert_eq!(g.setsockopt(fd, SOL_SOCKET, 0, &[1]), Err(Errno::Inval));
    // Go's convention: the literal 4 for the length.
    let value = g.alloc(4);
    g.call(
        "sock_getsockopt",
        &[i(fd), i(SOL_SOCKET), i(1), i(value), i(4)],
    )
    .unwrap();
    assert_eq!(g.u32_at(value), 2);
}

#[test]
fn udp_send_to_and_v2_recv_from() {
    let mut g = Guest::open(allow("127.0.0.1", "127.0.0.1"));
    let host = UdpSocket::bind("127.0.0.1:0").unwrap();
    let fd = g.sock_open(INET4, DGRAM).unwrap();
    g.bind_or_connect("sock_bind", fd, "127.0.0.1:0".parse().unwrap())
        .unwrap();
    let (_, _, port) = g.local_v1(fd).unwrap();
    // send_to the host socket.
    let data = g.put(b"ping");
    let iov = g.put(&[data.to_le_bytes(), 4u32.to_le_bytes()].concat());
    let SocketAddr::V4(to) = host.local_addr().unwrap() else {
        panic!()
    };
    let desc = g.address(&to.ip().octets());
    let out = g.alloc(4);
    g.call(
        "sock_send_to",
        &[
            i(fd),
            i(iov),
            i(1),
            i(desc),
            i(u32::from(to.port())),
            i(0),
            i(out),
        ],
    )
    .unwrap();
    assert_eq!(g.u32_at(out), 4);
    let mut buf = [0; 16];
    let (n, from) = host.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from.port()), (&b"ping"[..], port as u16));
    // The reply, cut to a 2-byte buffer: truncated, with the sender's address and port.
    host.send_to(b"pong", from).unwrap();
    let data = g.alloc(2);
    let iov = g.put(&[data.to_le_bytes(), 2u32.to_le_bytes()].concat());
    let desc = g.address(&[0; 128]);
    let out = g.alloc(12);
    g.call(
        "sock_recv_from",
        &[
            i(fd),
            i(iov),
            i(1),
            i(desc),
            i(0),
            i(out),
            i(out + 4),
            i(out + 8),
        ],
    )
    .unwrap();
    assert_eq!(g.read(data, 2), b"po");
    assert_eq!(g.u32_at(out), u32::from(to.port()), "port");
    assert_eq!(g.u32_at(out + 4), 2, "bytes");
    assert_eq!(g.u32_at(out + 8) & 1, 1, "RECV_DATA_TRUNCATED");
    assert_eq!(g.read(g.u32_at(desc), 6), [1, 0, 127, 0, 0, 1]);
}

#[test]
fn getaddrinfo_fills_the_guest_list() {
    let mut lookups = Policy::default();
    lookups.allow_name_lookup();
    let mut g = Guest::open(lookups);
    // Three result records linked by `next`, each with a sockaddr and a 26-byte sa_data.
    let mut nodes = Vec::new();
    for _ in 0..3 {
        let data = g.alloc(26);
        let sa = g.put(&[[0u8; 4], 26u32.to_le_bytes(), data.to_le_bytes()].concat());
        let node = g.alloc(28);
        nodes.push((node, sa, data));
    }
    for (k, &(node, sa, _)) in nodes.iter().enumerate() {
        let next = nodes.get(k + 1).map_or(0, |n| n.0);
        let mut rec = vec![0xeeu8; 28];
        rec[12..16].copy_from_slice(&sa.to_le_bytes());
        rec[24..28].copy_from_slice(&next.to_le_bytes());
        g.memory.write(&mut g.store, node as usize, &rec).unwrap();
    }
    let head = g.put(&nodes[0].0.to_le_bytes());
    let hints = g.put(
        &[0, 0, 1, 2, 0, 0, 0, 0]
            .iter()
            .copied()
            .chain([0; 20])
            .collect::<Vec<u8>>(),
    );
    let node = g.put(b"127.0.0.1\0");
    let service = g.put(b"8080\0");
    let count = g.alloc(4);
    let args = [
        i(node),
        i(10),
        i(service),
        i(5),
        i(hints),
        i(head),
        i(3),
        i(count),
    ];
    g.call("sock_getaddrinfo", &args).unwrap();
    assert_eq!(g.u32_at(count), 1);
    let (rec, sa, data) = nodes[0];
    let r = g.read(rec, 12);
    assert_eq!((r[2], r[3], r[4]), (1, 2, 1), "inet4, stream, tcp");
    assert_eq!(&r[5..8], &[0, 0, 0], "padding after the protocol zeroed");
    assert_eq!(
        u32::from_le_bytes(r[8..12].try_into().unwrap()),
        6,
        "addrlen"
    );
    assert_eq!(g.read(sa, 2), [1, 0]);
    assert_eq!(
        g.read(data, 6),
        [0x1f, 0x90, 127, 0, 0, 1],
        "port 8080 big-endian, then the address"
    );
    // A cycle in the list is bounded by max_res; a list head out of memory is EFAULT.
    g.memory
        .write(
            &mut g.store,
            (nodes[0].0 + 24) as usize,
            &nodes[0].0.to_le_bytes(),
        )
        .unwrap();
    let head = g.put(&nodes[0].0.to_le_bytes());
    let node = g.put(b"localhost");
    let service = g.put(b"80");
    let count = g.alloc(4);
    g.call(
        "sock_getaddrinfo",
        &[
            i(node),
            i(9),
            i(service),
            i(2),
            i(hints),
            i(head),
            i(1000),
            i(count),
        ],
    )
    .unwrap();
    assert!(g.u32_at(count) >= 1);
    let args = [
        i(node),
        i(9),
        i(service),
        i(2),
        i(hints),
        i(u32::MAX - 2),
        i(1),
        i(count),
    ];
    assert_eq!(g.call("sock_getaddrinfo", &args), Err(Errno::Fault));
    // Unknown name with NUMERICHOST: ENOENT. Nothing to look up: EINVAL.
    let numeric = g.put(
        &[4, 0, 1, 2]
            .iter()
            .copied()
            .chain([0; 24])
            .collect::<Vec<u8>>(),
    );
    let count = g.alloc(4);
    let args = [
        i(node),
        i(9),
        i(service),
        i(2),
        i(numeric),
        i(head),
        i(1),
        i(count),
    ];
    assert_eq!(g.call("sock_getaddrinfo", &args), Err(Errno::Noent));
    let args = [
        i(node),
        i(0),
        i(service),
        i(0),
        i(hints),
        i(head),
        i(1),
        i(count),
    ];
    assert_eq!(g.call("sock_getaddrinfo", &args), Err(Errno::Inval));
}

#[test]
fn getaddrinfo_is_refused_unless_the_policy_allows_lookups() {
    let mut all = Policy::default();
    all.allow_all();
    for (policy, want) in [
        (Policy::default(), Err(Errno::Acces)),
        (allow("127.0.0.1", "127.0.0.1"), Err(Errno::Acces)),
        (all, Ok(())),
    ] {
        let mut g = Guest::open(policy);
        let data = g.alloc(26);
        let sa = g.put(&[[0u8; 4], 26u32.to_le_bytes(), data.to_le_bytes()].concat());
        let mut rec = vec![0u8; 28];
        rec[12..16].copy_from_slice(&sa.to_le_bytes());
        let node = g.put(&rec);
        let head = g.put(&node.to_le_bytes());
        let hints = g.put(&[0u8; 28]);
        let name = g.put(b"localhost");
        let service = g.put(b"80");
        let count = g.alloc(4);
        let args = [
            i(name),
            i(9),
            i(service),
            i(2),
            i(hints),
            i(head),
            i(1),
            i(count),
        ];
        assert_eq!(g.call("sock_getaddrinfo", &args), want);
    }
}

#[test]
fn path_open_sockets_and_a_nonblocking_dial() {
    let mut g = Guest::open(allow("127.0.0.1", "127.0.0.1"));
    let l = g
        .path_open("tcp4+listen://127.0.0.1:0?backlog=4", 0)
        .unwrap();
    let (_, _, port) = g.local_v1(l).unwrap();
    // A non-blocking dial: the fd comes back at once; it polls writable once connected, and
    // SO_ERROR says how it went.
    let url = format!("tcp+dial://127.0.0.1:{port}?nodelay=1");
    let c = g.path_open(&url, 1 << 2).unwrap();
    let subs = g.put(
        &[
            7u64.to_le_bytes().as_slice(),
            &[2, 0, 0, 0, 0, 0, 0, 0],
            &u64::from(c).to_le_bytes(),
            &[0; 24],
        ]
        .concat(),
    );
    let events = g.alloc(32);
    let n = g.alloc(4);
    g.call("poll_oneoff", &[i(subs), i(events), i(1), i(n)])
        .unwrap();
    assert_eq!(g.u32_at(n), 1);
    assert_eq!(g.read(events + 8, 2), [0, 0], "no error");
    assert_eq!(g.getsockopt(c, SOL_SOCKET, 2, 4).unwrap(), [0; 4]);
    assert_eq!(
        g.getsockopt(c, IPPROTO_TCP, 15, 4).unwrap(),
        1i32.to_le_bytes()
    );
    let out = g.alloc(4);
    g.call("sock_accept", &[i(l), i(out)]).unwrap();
    // udp+listen binds a datagram socket.
    let u = g.path_open("udp+listen://127.0.0.1:0", 0).unwrap();
    assert_eq!(
        g.getsockopt(u, SOL_SOCKET, 1, 4).unwrap(),
        1i32.to_le_bytes()
    );
    // Without --sockets path_open, the URL is a file name like any other.
    let mut plain = Guest::new(Builder::new().build().unwrap());
    assert_eq!(
        plain.path_open("tcp+listen://127.0.0.1:0", 0),
        Err(Errno::Badf)
    );
}

#[test]
fn unix_domain_sockets_with_allow_network() {
    let mut all = Policy::default();
    all.allow_all();
    let mut g = Guest::open(all);
    let path = std::env::temp_dir().join(format!("wasirun-wasmedge-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut block = [0u8; 128];
    block[0] = 3;
    let bytes = path.to_str().unwrap().as_bytes();
    block[2..2 + bytes.len()].copy_from_slice(bytes);
    let server = g.sock_open(3, STREAM).unwrap();
    let desc = g.address(&block);
    g.call("sock_bind", &[i(server), i(desc), i(0)]).unwrap();
    g.call("sock_listen", &[i(server), i(1)]).unwrap();
    assert!(path.exists(), "bound on the host's file system");
    let client = g.sock_open(3, STREAM).unwrap();
    g.call("sock_connect", &[i(client), i(desc), i(0)]).unwrap();
    let out = g.alloc(4);
    g.call("sock_accept", &[i(server), i(out)]).unwrap();
    // The client's peer is the server's path, as a v2 block; v1 cannot express it.
    let peer = g.address(&[0xff; 128]);
    let port = g.alloc(4);
    g.call("sock_getpeeraddr_v2", &[i(client), i(peer), i(port)])
        .unwrap();
    let got = g.read(g.u32_at(peer), 128);
    assert_eq!(&got[..2], &[3, 0]);
    assert_eq!(&got[2..2 + bytes.len()], bytes);
    assert_eq!(got[2 + bytes.len()], 0, "NUL-terminated");
    let v1 = g.address(&[0; 16]);
    let out = g.alloc(8);
    assert_eq!(
        g.call("sock_getlocaladdr", &[i(server), i(v1), i(out), i(out + 4)]),
        Err(Errno::Afnosupport)
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn wasmedge_v2_names() {
    let mut p = Policy::default();
    p.allow_connect("127.0.0.1").unwrap();
    p.allow_bind("127.0.0.1:0").unwrap();
    let mut g = Guest::importing(V2_FUNCS, Builder::new().policy(p).build().unwrap());
    let out = g.alloc(4);
    g.call("sock_open_v2", &[i(INET4), i(STREAM), i(out)])
        .unwrap();
    let server = g.u32_at(out);
    let any = g.address(&[127, 0, 0, 1]);
    g.call("sock_bind_v2", &[i(server), i(any), i(0)]).unwrap();
    g.call("sock_listen_v2", &[i(server), i(4)]).unwrap();
    let block = g.address(&[0; 128]);
    let port = g.alloc(4);
    g.call("sock_getlocaladdr_v2", &[i(server), i(block), i(port)])
        .unwrap();
    let port = g.u32_at(port);
    g.call("sock_open_v2", &[i(INET4), i(STREAM), i(out)])
        .unwrap();
    let client = g.u32_at(out);
    g.call("sock_connect_v2", &[i(client), i(any), i(port)])
        .unwrap();
    g.call("sock_accept_v2", &[i(server), i(1 << 2), i(out)])
        .unwrap();
    let conn = g.u32_at(out);
    // send_v2 and recv_v2 are preview 1's sock_send and sock_recv under WasmEdge's names.
    let data = g.put(b"v2");
    let iov = g.put(&[data.to_le_bytes(), 2u32.to_le_bytes()].concat());
    let n = g.alloc(4);
    g.call("sock_send_v2", &[i(client), i(iov), i(1), i(0), i(n)])
        .unwrap();
    assert_eq!(g.u32_at(n), 2);
    let buf = g.alloc(8);
    let iov = g.put(&[buf.to_le_bytes(), 8u32.to_le_bytes()].concat());
    let res = g.alloc(8);
    g.call(
        "sock_recv_v2",
        &[i(conn), i(iov), i(1), i(0), i(res), i(res + 4)],
    )
    .unwrap();
    assert_eq!(g.read(buf, g.u32_at(res)), b"v2");
}
