//! Rights: what each descriptor may do, and the one check every call makes, for any system
//! built on [`fdtable`](crate::fdtable).
//!
//! Rights are tracked as the witx describes them: base rights for the fd itself, inheriting
//! rights as the ceiling for fds opened through a directory, `fd_fdstat_set_rights` only ever
//! narrowing ([`Entry::set_rights`]). `fd_fdstat_get` reports them.
//!
//! What is *refused* depends on the mode:
//!
//! - By default (wasmtime's behaviour) only what the host withheld is refused: changes beneath
//!   a read-only preopen are `EPERM`, file calls on a directory `EBADF`, and the kernel refuses
//!   the rest (writing to a descriptor opened read-only is `EBADF`). Rights the guest did not ask
//!   for at open time are recorded and reported, never enforced: wasmtime's own test programs
//!   open preopens asking for no rights at all, and Go asks for every right there is. Rights
//!   the guest *drops* with `fd_fdstat_set_rights` are enforced (`ENOTCAPABLE`): a program
//!   that drops a right asks to lose it. Inheriting rights it drops on a directory are dropped
//!   from every fd opened beneath it. (wasmtime answers `ENOTSUP` to every
//!   `fd_fdstat_set_rights`.)
//! - With [`Builder::enforce_rights`](crate::Builder::enforce_rights) ([`Table::strict`](crate::fdtable::Table::strict); wasi-go, Node), any call
//!   the base rights do not allow is `ENOTCAPABLE`, and `path_open` may only ask for rights the
//!   directory can pass on.

use crate::fdtable::Entry;
use wasirun_wasi::{Errno, Fdflags, Filetype, Oflags, Rights};

/// What a regular file allows.
pub const FILE: Rights = Rights::FD_DATASYNC
    .union(Rights::FD_READ)
    .union(Rights::FD_SEEK)
    .union(Rights::FD_FDSTAT_SET_FLAGS)
    .union(Rights::FD_SYNC)
    .union(Rights::FD_TELL)
    .union(Rights::FD_WRITE)
    .union(Rights::FD_ADVISE)
    .union(Rights::FD_ALLOCATE)
    .union(Rights::FD_FILESTAT_GET)
    .union(Rights::FD_FILESTAT_SET_SIZE)
    .union(Rights::FD_FILESTAT_SET_TIMES)
    .union(Rights::POLL_FD_READWRITE);

/// What a directory allows: the path calls, listing, and its own attributes; none of the
/// [`FILE_DATA`] calls.
pub const DIR: Rights = Rights::PATH_CREATE_DIRECTORY
    .union(Rights::PATH_CREATE_FILE)
    .union(Rights::PATH_LINK_SOURCE)
    .union(Rights::PATH_LINK_TARGET)
    .union(Rights::PATH_OPEN)
    .union(Rights::FD_READDIR)
    .union(Rights::PATH_READLINK)
    .union(Rights::PATH_RENAME_SOURCE)
    .union(Rights::PATH_RENAME_TARGET)
    .union(Rights::PATH_FILESTAT_GET)
    .union(Rights::PATH_FILESTAT_SET_SIZE)
    .union(Rights::PATH_FILESTAT_SET_TIMES)
    .union(Rights::FD_FILESTAT_GET)
    .union(Rights::FD_FILESTAT_SET_TIMES)
    .union(Rights::PATH_SYMLINK)
    .union(Rights::PATH_REMOVE_DIRECTORY)
    .union(Rights::PATH_UNLINK_FILE);

/// The calls on a file's data and flags, which a directory refuses with `EBADF` in both modes, as
/// wasmtime does (its `preview1_dir_fd_op_failures` test asks for it), even where Linux would
/// answer (`fsync` and `lseek` work on a directory there, `read` is `EISDIR`).
pub const FILE_DATA: Rights = Rights::FD_READ
    .union(Rights::FD_WRITE)
    .union(Rights::FD_SEEK)
    .union(Rights::FD_TELL)
    .union(Rights::FD_ADVISE)
    .union(Rights::FD_ALLOCATE)
    .union(Rights::FD_FILESTAT_SET_SIZE)
    .union(Rights::FD_SYNC)
    .union(Rights::FD_DATASYNC)
    .union(Rights::FD_FDSTAT_SET_FLAGS);

/// What a directory passes on: anything a file or directory below it may do.
pub const DIR_INHERITING: Rights = DIR.union(FILE);

/// What a pipe, FIFO or other stream allows.
pub const STREAM: Rights = Rights::FD_READ
    .union(Rights::FD_WRITE)
    .union(Rights::FD_FDSTAT_SET_FLAGS)
    .union(Rights::FD_FILESTAT_GET)
    .union(Rights::FD_FILESTAT_SET_TIMES)
    .union(Rights::POLL_FD_READWRITE);

/// What a socket allows.
pub const SOCKET: Rights = STREAM
    .union(Rights::SOCK_SHUTDOWN)
    .union(Rights::SOCK_ACCEPT);

/// What a character device allows: a file that cannot be sized.
const CHAR_DEVICE: Rights =
    FILE.difference(Rights::FD_ALLOCATE.union(Rights::FD_FILESTAT_SET_SIZE));

/// What a terminal allows: no seeking either. wasi-libc's `isatty` looks for exactly this: a
/// character device without `FD_SEEK` or `FD_TELL`.
const TTY: Rights = CHAR_DEVICE.difference(Rights::FD_SEEK.union(Rights::FD_TELL));

/// Rights that change the file system, withheld beneath a read-only preopen.
pub const WRITE: Rights = Rights::FD_WRITE
    .union(Rights::FD_ALLOCATE)
    .union(Rights::FD_FILESTAT_SET_SIZE)
    .union(Rights::FD_FILESTAT_SET_TIMES)
    .union(Rights::PATH_CREATE_DIRECTORY)
    .union(Rights::PATH_CREATE_FILE)
    // A hard link or a rename out of a read-only tree would make its files writable elsewhere.
    .union(Rights::PATH_LINK_SOURCE)
    .union(Rights::PATH_LINK_TARGET)
    .union(Rights::PATH_RENAME_SOURCE)
    .union(Rights::PATH_RENAME_TARGET)
    .union(Rights::PATH_FILESTAT_SET_SIZE)
    .union(Rights::PATH_FILESTAT_SET_TIMES)
    .union(Rights::PATH_SYMLINK)
    .union(Rights::PATH_REMOVE_DIRECTORY)
    .union(Rights::PATH_UNLINK_FILE);

/// The [`WRITE`] rights refused with `EPERM` beneath a read-only preopen. `FD_WRITE` is not
/// among them: such files are only ever opened for reading, so the kernel answers `EBADF`, as
/// POSIX says for a descriptor not open for writing.
const MUTATING: Rights = WRITE.difference(Rights::FD_WRITE);

/// The rights a descriptor of this type can have at all.
pub fn applicable(filetype: Filetype, tty: bool) -> Rights {
    match filetype {
        Filetype::RegularFile | Filetype::BlockDevice => FILE,
        Filetype::Directory => DIR,
        Filetype::CharacterDevice if tty => TTY,
        Filetype::CharacterDevice => CHAR_DEVICE,
        Filetype::SocketStream | Filetype::SocketDgram => SOCKET,
        Filetype::Unknown | Filetype::SymbolicLink => STREAM,
    }
}

/// The rights a descriptor's access mode allows: no reading without `O_RDONLY`/`O_RDWR`, no
/// writing or sizing without `O_WRONLY`/`O_RDWR`.
pub fn access_mask(readable: bool, writable: bool) -> Rights {
    let mut mask = Rights::all();
    if !readable {
        mask.remove(Rights::FD_READ);
    }
    if !writable {
        mask.remove(Rights::FD_WRITE | Rights::FD_ALLOCATE | Rights::FD_FILESTAT_SET_SIZE);
    }
    mask
}

/// The rights the host lets through: everything, or nothing that writes beneath a read-only
/// preopen.
pub fn host_mask(readonly: bool) -> Rights {
    if readonly {
        Rights::all().difference(WRITE)
    } else {
        Rights::all()
    }
}

/// What `path_open` needs the directory to allow (base rights): opening, and creating and
/// truncating when `oflags` asks for them.
pub fn path_open_needs(oflags: Oflags) -> Rights {
    let mut needed = Rights::PATH_OPEN;
    if oflags.contains(Oflags::CREAT) {
        needed |= Rights::PATH_CREATE_FILE;
    }
    if oflags.contains(Oflags::TRUNC) {
        needed |= Rights::PATH_FILESTAT_SET_SIZE;
    }
    needed
}

/// What `path_open` needs the directory to be able to pass on (inheriting rights, checked
/// under [`Table::strict`](crate::fdtable::Table::strict)): the rights asked for, and the sync
/// rights the sync flags imply (witx: `FD_DATASYNC` covers `DSYNC`, `FD_SYNC` covers `RSYNC`
/// and `SYNC`).
pub fn path_open_passes(base: Rights, inheriting: Rights, fdflags: Fdflags) -> Rights {
    let mut needed = base | inheriting;
    if fdflags.contains(Fdflags::DSYNC) {
        needed |= Rights::FD_DATASYNC;
    }
    if fdflags.intersects(Fdflags::RSYNC | Fdflags::SYNC) {
        needed |= Rights::FD_SYNC;
    }
    needed
}

/// Whether `path_open` opens for reading and for writing, from the `FD_READ` and `FD_WRITE`
/// base rights asked for, as wasmtime does; with neither, read only, so that the open
/// succeeds where it can.
pub fn path_open_access(base: Rights) -> (bool, bool) {
    let write = base.contains(Rights::FD_WRITE);
    let read = base.contains(Rights::FD_READ) || !write;
    (read, write)
}

/// The calls that need a position in the file, which a stream (pipe, socket) has not: `ESPIPE`,
/// as the kernel says for `lseek`, in both modes.
const POSITIONED: Rights = Rights::FD_SEEK.union(Rights::FD_TELL);

/// Whether `entry` allows a call that needs `needed` (see the module documentation). The
/// answers come in one order in both modes: what kind of descriptor it is (`EBADF` for file
/// calls on a directory, `ESPIPE` for positions on a stream), then what the host withholds
/// (`EPERM` beneath a read-only preopen), then the rights (`ENOTCAPABLE`).
///
/// Only a call whose answer depends on the type asks for a type known
/// [later](crate::fdtable::Kind::Later): file-data calls (positions among them), and every
/// call in strict mode (the type narrows the rights).
#[inline]
pub fn check<T>(entry: &Entry<T>, needed: Rights, strict: bool) -> Result<(), Errno> {
    if strict || needed.intersects(FILE_DATA) {
        let filetype = entry.filetype()?;
        if filetype == Filetype::Directory && needed.intersects(FILE_DATA) {
            return Err(Errno::Badf);
        }
        if needed.intersects(POSITIONED) && is_stream(filetype) {
            return Err(Errno::Spipe);
        }
    }
    if entry.readonly && needed.intersects(MUTATING) {
        return Err(Errno::Perm);
    }
    if needed.intersects(entry.dropped) || (strict && !entry.rights()?.contains(needed)) {
        return Err(Errno::Notcapable);
    }
    Ok(())
}

/// Whether descriptors of this type are streams, with no file position.
fn is_stream(filetype: Filetype) -> bool {
    matches!(
        filetype,
        Filetype::SocketStream | Filetype::SocketDgram | Filetype::Unknown
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminals_look_like_terminals_to_wasi_libc() {
        let r = applicable(Filetype::CharacterDevice, true);
        assert!(!r.intersects(Rights::FD_SEEK | Rights::FD_TELL));
        assert!(r.contains(Rights::FD_READ | Rights::FD_WRITE));
        assert!(applicable(Filetype::CharacterDevice, false).contains(Rights::FD_SEEK));
    }

    #[test]
    fn read_only_trees_lose_every_write_right() {
        let mask = host_mask(true);
        assert!(!(DIR_INHERITING & mask).intersects(WRITE));
        assert!((DIR & mask).contains(Rights::PATH_OPEN | Rights::FD_READDIR));
        assert_eq!(host_mask(false), Rights::all());
    }

    #[test]
    fn directories_have_no_file_rights() {
        assert!(!DIR.intersects(FILE_DATA));
        assert!(DIR_INHERITING.contains(FILE_DATA));
    }

    #[test]
    fn access_modes_narrow() {
        let ro = FILE & access_mask(true, false);
        assert!(ro.contains(Rights::FD_READ) && !ro.contains(Rights::FD_WRITE));
        let wo = FILE & access_mask(false, true);
        assert!(!wo.contains(Rights::FD_READ) && wo.contains(Rights::FD_WRITE));
    }
}
