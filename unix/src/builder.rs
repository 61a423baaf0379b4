//! [`Builder`]: the host's choices (arguments, environment, stdio, clocks, randomness,
//! preopens, sockets, limits) before a run.

use crate::clock::{Clock, Clocks};
use crate::proc::Strings;
use crate::random::Random;
use crate::rights;
use crate::sandbox::Resolver;
use crate::stdio::{Pumps, Stdio, dup};
use crate::stop::Stop;
use crate::system::UnixSystem;
use crate::table::{Entry, Table};
use crate::{Policy, Role, Spec};
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{Mode, OFlags};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wasirun_wasi::{Clockid, Filetype};

/// Errors while setting a system up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A preopened directory could not be opened.
    #[error("cannot open directory {path}: {source}")]
    OpenDir {
        /// The host path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An argument or environment entry holds a NUL byte, which the guest would read as the end
    /// of the string.
    #[error("{what} contains a NUL byte")]
    Nul {
        /// Which string, lossily decoded.
        what: String,
    },
    /// A host descriptor for the guest's stdin, stdout or stderr could not be set up.
    #[error("cannot set up the guest's stdio: {0}")]
    Stdio(std::io::Error),
    /// The descriptor that wakes a guest's blocking waits for a
    /// [`StopHandle`](crate::StopHandle) could not be made.
    #[error("cannot make the stop descriptor: {0}")]
    Stop(std::io::Error),
    /// A `--listen` or `--dial` address does not parse.
    #[error("bad socket address {addr:?}: {source}")]
    SocketAddr {
        /// The address as given.
        addr: String,
        /// Why.
        source: crate::SpecError,
    },
    /// A preopened socket could not be made (resolved, bound, connected).
    #[error("cannot {role} {addr}: {source}")]
    Socket {
        /// `listen on` or `dial`.
        role: &'static str,
        /// The address as given.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Whether the guest may change what is below a preopened directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirMode {
    /// Read and write.
    ReadWrite,
    /// Read only: no create, write, mkdir, unlink, rename, link, symlink, set-times or
    /// truncate through it or anything opened below it. Those fail with `EPERM` (wasmtime's
    /// choice), or `ENOTCAPABLE` under [`Builder::enforce_rights`] since the rights are gone too.
    ReadOnly,
}

/// A directory opened by [`Builder::preopen_dir`].
struct Preopen {
    fd: OwnedFd,
    guest: String,
    mode: DirMode,
}

/// Builds a [`UnixSystem`]: everything the guest gets, chosen by the embedder.
///
/// By default the guest has no arguments, no environment, the host's stdin, stdout and stderr,
/// the host's clocks and random generator, no preopened directory or socket, and may make no
/// network connection. Each setter returns the builder, so calls chain; [`build`](Self::build)
/// can be called again for another system with the same choices.
///
/// ```
/// use std::net::TcpListener;
/// use wasirun_unix::{Builder, Capture, DirMode, Policy, SeededRandom, Stdio};
///
/// let dir = std::env::temp_dir();
/// let out = Capture::new();
/// let mut policy = Policy::default();
/// policy.allow_connect("localhost:80")?;
/// let mut builder = Builder::new();
/// builder
///     .args(["app.wasm", "--verbose"])
///     .env("LANG", "C.UTF-8")
///     .stdin(Stdio::null())
///     .stdout(Stdio::writer(out.clone()))
///     // Reproducible runs: time stands still at 2026-01-01 and randomness is seeded.
///     .clock(wasirun_wasi::Clockid::Realtime, || 1_767_225_600_000_000_000)
///     .random(SeededRandom::new(42))
///     .preopen_dir(&dir, "/tmp", DirMode::ReadOnly)?
///     .preopen_socket_fd(TcpListener::bind("127.0.0.1:0")?)
///     .policy(policy)
///     .max_open_files(64);
/// let system = builder.build()?;
/// # drop(system);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The system is a [`System`](wasirun_wasi::System) like any other: wrap it (for instance in a
/// [`Tracer`](wasirun_wasi::Tracer) writing to any `Write`), then link and run it with the
/// `wasirun` crate's `Command`, or with [`wasirun_wasi::add_to_linker`].
pub struct Builder {
    args: Vec<Vec<u8>>,
    env: Vec<Vec<u8>>,
    stdio: [Stdio; 3],
    clocks: Vec<(Clockid, Arc<Mutex<dyn Clock>>)>,
    random: Option<Arc<Mutex<dyn Random>>>,
    dirs: Vec<Preopen>,
    sockets: Vec<OwnedFd>,
    policy: Policy,
    max_open_files: usize,
    max_open_dirs: usize,
    enforce_rights: bool,
    nonblocking_stdio: bool,
    resolver: Resolver,
    spin_wait: Duration,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            args: Vec::new(),
            env: Vec::new(),
            stdio: Default::default(),
            clocks: Vec::new(),
            random: None,
            dirs: Vec::new(),
            sockets: Vec::new(),
            policy: Policy::default(),
            max_open_files: 1024,
            max_open_dirs: 1024,
            enforce_rights: false,
            nonblocking_stdio: false,
            resolver: Resolver::default(),
            spin_wait: Duration::from_millis(1),
        }
    }
}

impl Builder {
    /// An empty builder: no args, no env, no preopens, the host's stdio, clocks and random
    /// generator, 1024 open files and directory streams at most, rights enforced as wasmtime
    /// does, blocking stdio.
    pub fn new() -> Self {
        Self::default()
    }

    /// The most files the guest may have open at once (`ENFILE` past it), stdio and preopens
    /// included.
    pub fn max_open_files(&mut self, n: usize) -> &mut Self {
        self.max_open_files = n;
        self
    }

    /// The most directory streams (`fd_readdir` in progress) open at once (`EMFILE` past it).
    pub fn max_open_dirs(&mut self, n: usize) -> &mut Self {
        self.max_open_dirs = n;
        self
    }

    /// How long a `poll_oneoff` may wait for something new before telling the guest again of
    /// readiness it ignored (1 ms unless set; zero never waits).
    ///
    /// `poll_oneoff` is level-triggered: a writable socket is writable at every call. An event
    /// loop that keeps write interest on idle sockets (tokio's, through mio) is told so at once,
    /// ignores it and polls again, spinning on a core while it waits for input. When the guest
    /// touched no descriptor since the last call returned events, and what the kernel says is
    /// ready at once is only readiness that call told, this call first waits up to this long
    /// (never past a deadline of the guest's: a zero timeout is answered at once) for another
    /// descriptor, a deadline or a stop, then answers with everything ready by then; anything
    /// else ready at once is news, answered at once. Every answer stays true; only when it
    /// comes changes (docs/compatibility.md).
    pub fn spin_wait(&mut self, wait: Duration) -> &mut Self {
        self.spin_wait = wait;
        self
    }

    /// Refuses (`ENOTCAPABLE`) any call the fd's rights do not allow, as wasi-go and Node do,
    /// instead of enforcing only what the host granted, as wasmtime does.
    pub fn enforce_rights(&mut self, on: bool) -> &mut Self {
        self.enforce_rights = on;
        self
    }

    /// Puts the host's stdin, stdout and stderr in non-blocking mode for the guest.
    ///
    /// `O_NONBLOCK` belongs to the open file description, which the host process shares, so the
    /// original flags are put back when the [`UnixSystem`] is dropped (as they are after a
    /// guest's own `fd_fdstat_set_flags` on stdio).
    pub fn nonblocking_stdio(&mut self, on: bool) -> &mut Self {
        self.nonblocking_stdio = on;
        self
    }

    /// How paths are resolved beneath preopened directories: [`Resolver::Auto`] unless a test
    /// or a suspicious kernel calls for [`Resolver::Walk`].
    pub fn resolver(&mut self, resolver: Resolver) -> &mut Self {
        self.resolver = resolver;
        self
    }

    /// Appends a command-line argument (the first is the program name).
    pub fn arg(&mut self, arg: impl Into<Vec<u8>>) -> &mut Self {
        self.args.push(arg.into());
        self
    }

    /// Appends each of `args` as [`arg`](Self::arg) does.
    pub fn args<A: Into<Vec<u8>>>(&mut self, args: impl IntoIterator<Item = A>) -> &mut Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets each of `vars` as [`env`](Self::env) does.
    pub fn envs<N: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        vars: impl IntoIterator<Item = (N, V)>,
    ) -> &mut Self {
        for (name, value) in vars {
            self.env(name, value);
        }
        self
    }

    /// Sets every variable of the host process's environment, as it is now (later
    /// [`env`](Self::env) calls override them).
    pub fn inherit_env(&mut self) -> &mut Self {
        for (name, value) in std::env::vars_os() {
            self.env(name.into_vec(), value.into_vec());
        }
        self
    }

    /// The guest's stdin (fd 0): [`Stdio::inherit`] unless set.
    pub fn stdin(&mut self, stdio: Stdio) -> &mut Self {
        self.stdio[0] = stdio;
        self
    }

    /// The guest's stdout (fd 1): [`Stdio::inherit`] unless set.
    pub fn stdout(&mut self, stdio: Stdio) -> &mut Self {
        self.stdio[1] = stdio;
        self
    }

    /// The guest's stderr (fd 2): [`Stdio::inherit`] unless set.
    pub fn stderr(&mut self, stdio: Stdio) -> &mut Self {
        self.stdio[2] = stdio;
        self
    }

    /// Replaces the clock `id` (realtime, monotonic, or a CPU-time clock) with `clock` for
    /// `clock_time_get` and `clock_res_get`, say a fixed or stepping clock for repeatable runs;
    /// any `FnMut() -> Timestamp` closure is one. `poll_oneoff` still waits in host time (a
    /// 10 ms sleep takes 10 ms), measuring absolute deadlines from this clock. Systems built
    /// from this builder share it.
    pub fn clock(&mut self, id: Clockid, clock: impl Clock + 'static) -> &mut Self {
        self.clocks.retain(|(c, _)| *c != id);
        self.clocks.push((id, Arc::new(Mutex::new(clock))));
        self
    }

    /// Replaces the source of `random_get`'s bytes (by default a CSPRNG seeded from the
    /// host): [`SeededRandom`](crate::SeededRandom) or any `FnMut(&mut [u8])` closure. Systems
    /// built from this builder share it.
    pub fn random(&mut self, random: impl Random + 'static) -> &mut Self {
        self.random = Some(Arc::new(Mutex::new(random)));
        self
    }

    /// Sets an environment variable; a later value for the same name wins.
    pub fn env(&mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> &mut Self {
        let name = name.as_ref();
        self.env
            .retain(|e| !(e.starts_with(name) && e.get(name.len()) == Some(&b'=')));
        let mut entry = name.to_vec();
        entry.push(b'=');
        entry.extend_from_slice(value.as_ref());
        self.env.push(entry);
        self
    }

    /// Preopens the host directory `host` for the guest under the name `guest`.
    ///
    /// The directory is opened now: `Error::OpenDir` when it is missing or not a directory.
    /// Preopens get guest fds 3, 4, ... in the order of these calls.
    pub fn preopen_dir(
        &mut self,
        host: impl AsRef<Path>,
        guest: impl Into<String>,
        mode: DirMode,
    ) -> Result<&mut Self, Error> {
        let host = host.as_ref();
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rustix::fs::open(host, flags, Mode::empty()).map_err(|e| Error::OpenDir {
            path: host.to_path_buf(),
            source: e.into(),
        })?;
        self.dirs.push(Preopen {
            fd,
            guest: guest.into(),
            mode,
        });
        Ok(self)
    }

    /// Preopens a directory the embedder opened (a `std::fs::File` of a directory, an
    /// `OwnedFd`, a `cap_std` directory converted into one) under the name `guest`, as
    /// [`preopen_dir`](Self::preopen_dir) does with a path. `Error::OpenDir` when it is not a
    /// directory.
    pub fn preopen_dir_fd(
        &mut self,
        dir: impl Into<OwnedFd>,
        guest: impl Into<String>,
        mode: DirMode,
    ) -> Result<&mut Self, Error> {
        let fd = dir.into();
        let guest = guest.into();
        let not_dir = |source: std::io::Error| Error::OpenDir {
            path: PathBuf::from(&guest),
            source,
        };
        let st = rustix::fs::fstat(&fd).map_err(|e| not_dir(e.into()))?;
        if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::Directory {
            return Err(not_dir(rustix::io::Errno::NOTDIR.into()));
        }
        self.dirs.push(Preopen { fd, guest, mode });
        Ok(self)
    }

    /// Makes a socket as `addr` says ([`Spec::parse_flag`]: `HOST:PORT`, `:PORT`, or a
    /// `tcp://` URL with options) and preopens it for the guest: bound and listening for
    /// [`Role::Listen`], connected for [`Role::Dial`]. Preopened sockets come after the
    /// directories, in the order of these calls. The network policy does not apply: the host
    /// asked for them.
    pub fn preopen_socket(&mut self, addr: &str, role: Role) -> Result<&mut Self, Error> {
        let spec = Spec::parse_flag(addr, role).map_err(|source| Error::SocketAddr {
            addr: addr.to_string(),
            source,
        })?;
        let fd = crate::net::socket::open(&spec, role, None).map_err(|source| Error::Socket {
            role: match role {
                Role::Listen => "listen on",
                Role::Dial => "dial",
            },
            addr: addr.to_string(),
            source,
        })?;
        self.sockets.push(fd);
        Ok(self)
    }

    /// Preopens a socket the embedder made (a `std::net::TcpListener`, a connected
    /// `TcpStream`, a UDP or Unix socket, as any `OwnedFd`): the guest sees it as the next
    /// preopened socket, after the directories, in the order of these calls and
    /// [`preopen_socket`](Self::preopen_socket)'s. It is handed over as it is, blocking or
    /// not as the embedder made it.
    pub fn preopen_socket_fd(&mut self, socket: impl Into<OwnedFd>) -> &mut Self {
        self.sockets.push(socket.into());
        self
    }

    /// Where the guest may connect and what it may bind, when it makes sockets itself
    /// (`path_open` socket URLs, the WasmEdge functions). By default: nowhere, nothing.
    pub fn policy(&mut self, policy: Policy) -> &mut Self {
        self.policy = policy;
        self
    }

    /// Builds the system. The builder keeps its preopened directories and can build again.
    pub fn build(&mut self) -> Result<UnixSystem, Error> {
        let args = Strings::new(&self.args, "an argument")?;
        let env = Strings::new(&self.env, "an environment entry")?;
        // Declared before the table, so that on an error below the table (with the guest's
        // pipe ends) is dropped first and the output pumps it ends can be joined.
        let mut pumps = Pumps::default();
        let mut table = Table::new(self.max_open_files, self.max_open_dirs, self.enforce_rights);
        let mut restore = Vec::new();
        let stdio = |e: std::io::Error| Error::Stdio(e);
        // The open file descriptions the host shares (inherited streams, descriptors handed
        // in): whatever the guest does to their flags (NONBLOCK, APPEND) is undone when the
        // system is dropped. All the flags are read before any is changed: stdout and stderr
        // often share one description.
        let mut fds = Vec::with_capacity(3);
        for (n, stream) in self.stdio.iter().enumerate() {
            let made = crate::stdio::make(n, stream).map_err(stdio)?;
            restore.extend(made.restore);
            pumps.0.extend(made.pump);
            fds.push(made.fd);
        }
        let stdio = |e: rustix::io::Errno| Error::Stdio(e.into());
        for fd in fds {
            if self.nonblocking_stdio {
                let flags = rustix::fs::fcntl_getfl(&fd).map_err(stdio)?;
                rustix::fs::fcntl_setfl(&fd, flags | OFlags::NONBLOCK).map_err(stdio)?;
            }
            let mut entry = crate::fd::host_entry(fd).map_err(stdio)?;
            entry.stdio = true;
            table.push(entry);
        }
        for dir in &self.dirs {
            let fd = dup(dir.fd.as_fd()).map_err(|e| Error::OpenDir {
                path: PathBuf::from(&dir.guest),
                source: e.into(),
            })?;
            let readonly = dir.mode == DirMode::ReadOnly;
            let mask = rights::host_mask(readonly);
            let st = rustix::fs::fstat(&fd).map_err(|e| Error::OpenDir {
                path: PathBuf::from(&dir.guest),
                source: e.into(),
            })?;
            table.add_root(crate::fs::stat::file_id(&st));
            let (rights, inheriting) = (rights::DIR & mask, rights::DIR_INHERITING & mask);
            table.push(Entry {
                readonly,
                preopen: Some(dir.guest.clone().into_boxed_str()),
                root: true,
                ..Entry::new(fd, Filetype::Directory, rights, inheriting)
            });
        }
        for fd in &self.sockets {
            let fd = dup(fd.as_fd()).map_err(|e| Error::Socket {
                role: "hand over",
                addr: String::from("a preopened socket"),
                source: e.into(),
            })?;
            table.push(crate::fd::host_entry(fd).map_err(|e| Error::Socket {
                role: "hand over",
                addr: String::from("a preopened socket"),
                source: e.into(),
            })?);
        }
        let net = crate::system::Net {
            policy: self.policy.clone(),
        };
        let stop = Stop::new().map_err(|e| Error::Stop(e.into()))?;
        let mut clocks = Clocks::default();
        for (id, clock) in &self.clocks {
            clocks.set(*id, Arc::clone(clock));
        }
        Ok(UnixSystem::new(
            table,
            args,
            env,
            self.resolver,
            net,
            stop,
            crate::system::Injected {
                clocks,
                random: self.random.clone(),
                pumps,
                restore,
                spin_wait: u64::try_from(self.spin_wait.as_nanos()).unwrap_or(u64::MAX),
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasirun_wasi::{Fd, Fdflags, System};

    fn host_flags() -> Vec<OFlags> {
        [
            rustix::stdio::stdin(),
            rustix::stdio::stdout(),
            rustix::stdio::stderr(),
        ]
        .into_iter()
        .map(|fd| rustix::fs::fcntl_getfl(fd).unwrap())
        .collect()
    }

    // The only unit test that builds a system: no other test can record the flags it changes.
    #[test]
    fn stdio_flags_are_undone_on_drop() {
        let before = host_flags();
        let mut sys = Builder::new().nonblocking_stdio(true).build().unwrap();
        for fd in 0..3 {
            let stat = sys.fd_fdstat_get(Fd(fd)).unwrap();
            assert!(stat.fs_flags.contains(Fdflags::NONBLOCK), "fd {fd}");
        }
        assert!(host_flags().iter().all(|f| f.contains(OFlags::NONBLOCK)));
        sys.fd_fdstat_set_flags(Fd(2), Fdflags::APPEND).unwrap();
        drop(sys);
        assert_eq!(host_flags(), before);
    }

    #[test]
    fn env_keeps_the_last_value() {
        let mut b = Builder::new();
        b.env("A", "1").env("AB", "2").env("A", "3");
        assert_eq!(b.env, [b"AB=2".to_vec(), b"A=3".to_vec()]);
    }
}
