//! `path_open`: rights in, flags to the host, a new entry out.

use crate::fdtable::Kind;
use crate::rights;
use crate::sandbox;
use crate::system::UnixSystem;
use crate::table::{Entry, Host};
use rustix::fd::AsFd;
use rustix::fs::OFlags;
use wasirun_wasi::{Errno, Fd, Fdflags, Filetype, Oflags, Rights};

/// What the guest asked `path_open` for, besides the directory and the path.
pub(crate) struct Request {
    /// `lookupflags::symlink_follow`: follow a symlink in the last position.
    pub follow: bool,
    /// How to open.
    pub oflags: Oflags,
    /// The base rights asked for.
    pub base: Rights,
    /// The inheriting rights asked for.
    pub inheriting: Rights,
    /// The descriptor flags.
    pub fdflags: Fdflags,
}

impl Request {
    /// What the directory must allow: [`rights::path_open_needs`].
    fn dir_rights(&self) -> Rights {
        rights::path_open_needs(self.oflags)
    }

    /// What the directory must be able to pass on: [`rights::path_open_passes`].
    fn inherited_rights(&self) -> Rights {
        rights::path_open_passes(self.base, self.inheriting, self.fdflags)
    }

    /// Whether to open for reading, writing: [`rights::path_open_access`].
    fn access(&self) -> (bool, bool) {
        rights::path_open_access(self.base)
    }

    /// The host `open` flags.
    fn host_flags(&self) -> OFlags {
        let mut flags = match self.access() {
            (true, true) => OFlags::RDWR,
            (false, true) => OFlags::WRONLY,
            _ => OFlags::RDONLY,
        };
        flags |= OFlags::NOCTTY;
        let o = self.oflags;
        flags.set(OFlags::CREATE, o.contains(Oflags::CREAT));
        flags.set(OFlags::DIRECTORY, o.contains(Oflags::DIRECTORY));
        flags.set(OFlags::EXCL, o.contains(Oflags::EXCL));
        flags.set(OFlags::TRUNC, o.contains(Oflags::TRUNC));
        let f = self.fdflags;
        flags.set(OFlags::APPEND, f.contains(Fdflags::APPEND));
        flags.set(OFlags::NONBLOCK, f.contains(Fdflags::NONBLOCK));
        // rustix, like Linux, spells all three O_SYNC: the strongest, which satisfies each.
        flags.set(OFlags::DSYNC, f.contains(Fdflags::DSYNC));
        flags.set(RSYNC, f.contains(Fdflags::RSYNC));
        flags.set(OFlags::SYNC, f.contains(Fdflags::SYNC));
        flags
    }
}

/// `O_RSYNC` where the system has it.
#[cfg(target_os = "linux")]
const RSYNC: OFlags = OFlags::RSYNC;
/// `O_SYNC` for `RSYNC`: FreeBSD and macOS have no `O_RSYNC` (`open(2)`); `O_SYNC` is what
/// Linux gives for it too.
#[cfg(not(target_os = "linux"))]
const RSYNC: OFlags = OFlags::SYNC;

/// `path_open`.
///
/// - `DIRECTORY` with `CREAT`, `EXCL` or `TRUNC` is `EINVAL`, as in wasmtime (and Linux 6.4+).
/// - The file is opened for reading, writing or both from the `FD_READ`/`FD_WRITE` rights
///   asked for, with `O_CLOEXEC | O_NOCTTY`; the kernel then says `EISDIR` for a directory
///   opened for writing and `ENOTDIR` for a non-directory opened with `DIRECTORY`.
/// - No system call besides the open: the new fd's type (and with it the rights it gets) is
///   what `CREAT | EXCL` (a regular file) or `DIRECTORY` says, else asked with one `fstat` when
///   a call first needs it ([`Kind::Later`]), which an `fstat` of the guest's own answers
///   too. Whether a directory is a preopen's is asked when it is first listed
///   ([`DirStream`](super::readdir::DirStream)).
/// - Beneath a read-only preopen, creating, truncating or opening for writing is `EPERM`.
/// - Only files: socket URLs (`tcp+listen://HOST:PORT`...) are names like any other here;
///   the [`SocketUrls`](crate::SocketUrls) wrapper makes sockets of them before they get here.
/// - The new fd's rights are what its type and access mode allow (narrowed to what was asked
///   under `enforce_rights`), its inheriting rights those of the directory (or what was asked).
///   Inheriting rights the directory gave up are given up below it too, in both modes.
pub(crate) fn path_open(
    sys: &mut UnixSystem,
    fd: Fd,
    path: &str,
    req: Request,
) -> Result<Fd, Errno> {
    let strict = sys.table.strict;
    let dir = sys.table.dir(fd, req.dir_rights())?;
    let o = req.oflags;
    if o.contains(Oflags::DIRECTORY) && o.intersects(Oflags::CREAT | Oflags::EXCL | Oflags::TRUNC) {
        return Err(Errno::Inval);
    }
    if dir.readonly && req.access().1 {
        return Err(Errno::Perm);
    }
    if strict && !dir.inheriting.contains(req.inherited_rights()) {
        return Err(Errno::Notcapable);
    }
    // By default, rights the directory gave up are taken off the request rather than refused:
    // a file whose writing was given up is not opened for writing.
    let req = Request {
        base: req.base - dir.dropped_inheriting,
        ..req
    };
    let (readable, writable) = req.access();
    sys.table.reserve()?;
    let file = sandbox::open(
        dir.fd.as_fd(),
        path.as_bytes(),
        req.host_flags(),
        req.follow,
        sys.resolver,
    )?;
    // What the flags say of the type: an exclusive create that succeeded made a new regular
    // file (POSIX `open`: `O_EXCL` fails on any name that exists, a symlink included), and
    // `O_DIRECTORY` opens only directories. Anything else may be a file, a directory, a device
    // or a FIFO: its type is asked when a call first needs it.
    let access = rights::access_mask(readable, writable);
    let known = if o.contains(Oflags::CREAT | Oflags::EXCL) {
        Some(Filetype::RegularFile)
    } else if o.contains(Oflags::DIRECTORY) {
        Some(Filetype::Directory)
    } else {
        None
    };
    let (kind, allowed) = match known {
        Some(filetype) => (
            filetype.into(),
            rights::applicable(filetype, false) & access,
        ),
        None => (Kind::Later(super::stat::describe), access),
    };
    let host = Host {
        flags: Some(req.fdflags & (Fdflags::APPEND | Fdflags::NONBLOCK)),
        sync: req.fdflags & (Fdflags::DSYNC | Fdflags::RSYNC | Fdflags::SYNC),
        ..Host::from(file)
    };
    let asked = (req.base, req.inheriting);
    let entry = Entry::beneath(dir, host, kind, allowed, asked, strict);
    sys.table.insert(entry)
}
