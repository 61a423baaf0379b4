//! The Unix [`System`](wasirun_wasi::System): WASI preview 1 on `rustix`, with an fd table,
//! preopened directories, and a sandbox that no path escapes.
//!
//! ```no_run
//! use wasirun_unix::{Builder, DirMode};
//!
//! let system = Builder::new()
//!     .arg("app.wasm")
//!     .env("HOME", "/")
//!     .preopen_dir(".", "/", DirMode::ReadWrite)
//!     .unwrap()
//!     .build()
//!     .unwrap();
//! # let _ = system;
//! ```
//!
//! # Where things live
//!
//! [`UnixSystem`]'s `impl System` (in `system.rs`) is a table of contents: every WASI function is
//! one line that names the module doing the work.
//!
//! - [`fdtable`]: the fd table any system can use (numbers, caps, renumbering, preopens) and
//!   [`rights`]: what each fd may do; `table.rs`: the Unix entries and what only Unix keeps.
//! - `sandbox/`: the one path resolver (`openat2(RESOLVE_BENEATH)`, or a walk in user space).
//! - `fd.rs`: descriptor-level calls (close, renumber, fdstat, prestat).
//! - `fs/`: files (`file.rs`), `path_open` (`open.rs`), the other `path_*` calls (`path.rs`),
//!   stat and times (`stat.rs`), directory listings (`readdir.rs`).
//! - `clock.rs`, `random.rs` (the host's, or the embedder's [`Clock`] and [`Random`]),
//!   `proc.rs` (args, environment, exit), `poll.rs`.
//! - `stdio.rs`: what fds 0-2 are made of ([`Stdio`]: the host's, `/dev/null`, any descriptor,
//!   or any `Read`/`Write` through a pipe and a pump thread, [`Capture`] to keep it in memory).
//! - `stop.rs`: [`StopHandle`], which stops the guest from another thread, and the wake
//!   descriptor every blocking wait watches; `wait.rs`: reads, writes, accepts and connects
//!   that block the way the guest asked, yet wake for a stop.
//! - [`mem`]: an in-memory file system, the second system on [`fdtable`], and [`mem::Mounted`],
//!   which stacks it on this one in one fd space.
//! - `net/`: sockets: the preview 1 calls, preopened and `path_open` sockets, the WasmEdge
//!   extension, and the network policy.
//!
//! # Policy, in short
//!
//! Where wasmtime 48 and Linux disagree, we side with wasmtime when its own test programs pin
//! the behaviour down, and with Linux otherwise; each choice is documented where it is made.
//!
//! - Escapes (`..` above a preopen, absolute paths, symlinks leading out) fail with `EPERM`, as
//!   in wasmtime (cap-std reports them as "permission denied"). So is making a symlink with an
//!   absolute target, as in wasmtime; relative targets are stored as written, and a symlink
//!   leading out (made by the host, or relative with too many `..`) is never followed out.
//! - What the host forbids through a [`DirMode::ReadOnly`] preopen fails with `EPERM`, again as
//!   in wasmtime; such files are only ever open for reading, so `fd_write` on them is `EBADF`,
//!   as POSIX says for a descriptor not open for writing.
//! - Rights are tracked and reported per the witx; by default only what the host granted is
//!   enforced, [`Builder::enforce_rights`] turns on `ENOTCAPABLE` for everything else.
//! - File calls on a directory (`fd_read`, `fd_seek`, `fd_sync`...) are `EBADF`, and
//!   `path_link` with `SYMLINK_FOLLOW` is `EINVAL`, as in wasmtime.
//! - `fd_renumber` needs both fds open (`EBADF` otherwise); a preopen keeps being one at its
//!   new number, and one renumbered over is closed, as in wasmtime.
//! - Trailing slashes, `ENOTDIR`, `EISDIR`, `ENOTEMPTY`, `ELOOP` and friends are Linux's.
//!
//! # Bounds on what a guest controls
//!
//! Counts and lists the generated glue copies are bounded there (`wasirun_wasi`'s crate docs,
//! "Bounds").
//! What the system itself takes from a guest is bounded here, whatever the size of guest
//! memory, and answered with an errno past the bound, never an aborted host:
//!
//! - Paths and symlink targets: fewer than 4,096 bytes (Linux's `PATH_MAX`), else
//!   `ENAMETOOLONG` before anything copies them; at most 40 symlinks followed in one
//!   resolution (`ELOOP`); a symlink's target read into a 4,096-byte buffer on the stack.
//! - `sock_getaddrinfo`'s node and service: at most 1,024 bytes (`NI_MAXHOST`), else `EINVAL`.
//! - Open descriptors and `fd_readdir` streams: [`Builder::max_open_files`] and
//!   [`Builder::max_open_dirs`] (1,024 each), else `ENFILE` and `EMFILE`; fd numbers are the lowest free,
//!   so the table never grows past the open count.
//! - `poll_oneoff`: one `pollfd` per subscription, on the stack up to 64, else allocated
//!   fallibly (`ENOMEM`).
#![deny(missing_docs)]

mod builder;
mod clock;
mod fd;
pub mod fdtable;
mod fs;
#[doc(hidden)]
pub mod fuzzing;
pub mod mem;
mod net;
mod poll;
mod proc;
mod random;
pub mod rights;
mod sandbox;
mod stdio;
mod stop;
mod system;
mod table;
mod wait;

pub use builder::{Builder, DirMode, Error};
pub use clock::Clock;
pub use net::policy::{Policy, RuleError};
pub use net::spec::{Family, Proto, Role, Spec, SpecError};
pub use net::urls::{AddFd, SocketUrls};
pub use random::{Random, SeededRandom};
pub use sandbox::Resolver;
pub use stdio::{Capture, Stdio};
pub use stop::StopHandle;
pub use system::UnixSystem;
