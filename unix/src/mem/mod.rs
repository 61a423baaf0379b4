//! An in-memory file system: a second [`System`](wasirun_wasi::System), built on the same fd
//! table and rights ([`crate::fdtable`], [`crate::rights`]) as the Unix one, which a guest
//! sees as preopened directories, and [`Mounted`], which stacks it on another system.
//!
//! A mount is a [`Tree`]: read from a tar archive ([`Tree::from_tar`], `wasirun --mount-tar
//! app.tar::/app`) or made empty ([`Tree::new`]), then held in memory. What the guest changes
//! is kept there too, a writable overlay over the archive, which is never written; it is
//! gone when the system is dropped. Every byte a tree holds counts against its cap
//! ([`MemFs::with_max_bytes`], 256 MiB by default), so `ENOSPC` is where a guest writing into
//! the overlay stops.
//!
//! ```no_run
//! use wasirun_unix::mem::{MemFs, Mounted, Tree};
//! use wasirun_unix::{Builder, DirMode};
//!
//! let mut mem = MemFs::new();
//! let tree = Tree::from_tar("app.tar".as_ref(), mem.max_bytes()).unwrap();
//! mem.mount(tree, "/app", DirMode::ReadWrite);
//! let system = Mounted::new(Builder::new().build().unwrap(), mem);
//! # let _ = system;
//! ```
//!
//! # What it supports
//!
//! - `path_open` of files and directories, with `CREAT`, `EXCL`, `TRUNC`, `DIRECTORY` and
//!   `APPEND`; new files are made in the overlay.
//! - `fd_read`, `fd_write`, `fd_pread`, `fd_pwrite`, `fd_seek`, `fd_tell`, `fd_allocate`
//!   (which extends), `fd_advise`, `fd_sync` and `fd_datasync` (nothing to do), `fd_close`,
//!   `fd_renumber`.
//! - `fd_readdir` with cookies (`.` and `..` first, then names in byte order; the next cookie
//!   is the entry's index plus one, stable while the directory does not change), `..` of a
//!   mount's root being itself.
//! - `fd_filestat_get`, `fd_filestat_set_size`, `fd_filestat_set_times`, `path_filestat_get`,
//!   `path_filestat_set_times`; each mount is one device, inodes are node numbers plus one.
//! - `path_create_directory`, `path_unlink_file`, `path_remove_directory`, `path_rename`
//!   and `path_link` within one mount (`EXDEV` across mounts or to the wrapped system),
//!   `path_symlink` with a relative target, `path_readlink`.
//! - Symlinks from the archive or made by the guest are followed, and never out: a path or a
//!   target that is absolute or climbs above the directory fd it starts from is `EPERM`, as
//!   escapes are in the Unix system; 40 symlinks at most (`ELOOP`).
//! - `fd_fdstat_get`, `fd_fdstat_set_flags` (`APPEND`; `NONBLOCK` is accepted and changes
//!   nothing, files never block), `fd_fdstat_set_rights`, `fd_prestat_get`,
//!   `fd_prestat_dir_name`; rights are checked as in the Unix system, in both modes.
//! - `poll_oneoff`: a file is always ready (for reading, with the bytes after its position).
//!
//! What it does not support:
//!
//! - Sync flags (`DSYNC`, `RSYNC`, `SYNC`) at open or in `fd_fdstat_set_flags`: `ENOTSUP`
//!   (there is no disk to be in step with).
//! - Socket calls on its fds: `ENOTSOCK`.
//! - Calls with no fd (clocks, random, args, `proc_exit`), and clock subscriptions of a
//!   `poll_oneoff` answered by the file system alone: `ENOSYS` and `ENOTSUP`; a [`Mounted`]
//!   system gives them to the system it wraps.
//! - Devices, FIFOs and other special entries of an archive are left out; files keep no
//!   owner or mode (every file is readable and writable, unless the mount is
//!   [`DirMode::ReadOnly`]: then `EPERM`, as for a read-only
//!   preopen).

mod fs;
mod load;
mod mount;
mod tree;

pub use load::LoadError;
pub use mount::Mounted;
pub use tree::Tree;

use crate::fdtable::{Entry, Table};
use crate::{DirMode, rights};
use tree::{Ino, ROOT};
use wasirun_wasi::{Fd, Filetype};

/// What an fd of the file system holds: the node, and how it is open.
struct Open {
    tree: usize,
    ino: Ino,
    pos: u64,
    read: bool,
    write: bool,
    append: bool,
}

/// The in-memory file system: its mounts and their fds (see the [module docs](self)).
pub struct MemFs {
    trees: Vec<Tree>,
    table: Table<Open>,
    max_bytes: usize,
}

impl Default for MemFs {
    fn default() -> Self {
        MemFs::new()
    }
}

impl MemFs {
    /// No mounts yet; at most 1,024 fds open (`ENFILE` past it), rights checked as the Unix
    /// system does by default, 256 MiB per mount.
    pub fn new() -> MemFs {
        MemFs {
            trees: Vec::new(),
            table: Table::new(1024, false),
            max_bytes: 256 << 20,
        }
    }

    /// The most bytes each mount may hold, archive and overlay together (see the module
    /// docs); pass it to [`Tree::from_tar`].
    pub fn with_max_bytes(mut self, max: usize) -> MemFs {
        self.max_bytes = max;
        self
    }

    /// The most bytes each mount may hold.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Refuses (`ENOTCAPABLE`) any call the fd's rights do not allow, as
    /// [`Builder::enforce_rights`](crate::Builder::enforce_rights) does for the Unix system.
    pub fn enforce_rights(mut self, on: bool) -> MemFs {
        self.table.strict = on;
        self
    }

    /// Preopens `tree` for the guest under the name `guest`: the file system's next fd.
    pub fn mount(&mut self, tree: Tree, guest: impl Into<String>, mode: DirMode) -> Fd {
        let readonly = mode == DirMode::ReadOnly;
        let mask = rights::host_mask(readonly);
        self.trees.push(tree);
        let open = Open {
            tree: self.trees.len() - 1,
            ino: ROOT,
            pos: 0,
            read: true,
            write: false,
            append: false,
        };
        self.trees[open.tree].node_mut(ROOT).open += 1;
        let (base, inheriting) = (rights::DIR & mask, rights::DIR_INHERITING & mask);
        self.table.push(Entry {
            readonly,
            preopen: Some(guest.into().into_boxed_str()),
            root: true,
            ..Entry::new(open, Filetype::Directory, base, inheriting)
        })
    }

    /// The open fds, lowest first.
    fn open_fds(&self) -> impl Iterator<Item = Fd> + '_ {
        self.table.iter().map(|(fd, _)| fd)
    }
}
