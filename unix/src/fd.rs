//! Calls on descriptors as such: close, renumber, fdstat, rights, prestat.

use crate::rights;
use crate::system::UnixSystem;
use crate::table::{Entry, Host};
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::OFlags;
use wasirun_wasi::{Errno, Fd, Fdflags, Fdstat, Prestat, PrestatDir, Rights};

/// The entry for a descriptor the host hands over (stdio, or [`UnixSystem::add_fd`]): type,
/// rights and flags as the host descriptor has them.
pub(crate) fn host_entry(fd: OwnedFd) -> rustix::io::Result<Entry> {
    let (filetype, applicable) = crate::fs::stat::describe_fd(fd.as_fd())?;
    let flags = rustix::fs::fcntl_getfl(&fd)?;
    let access = flags & OFlags::RWMODE;
    let readable = access == OFlags::RDONLY || access == OFlags::RDWR;
    let writable = access == OFlags::WRONLY || access == OFlags::RDWR;
    let mut sync = Fdflags::empty();
    if flags.contains(OFlags::SYNC) {
        sync |= Fdflags::SYNC;
    }
    let inheriting = match filetype {
        wasirun_wasi::Filetype::Directory => rights::DIR_INHERITING,
        wasirun_wasi::Filetype::SocketStream | wasirun_wasi::Filetype::SocketDgram => {
            rights::SOCKET
        }
        _ => Rights::empty(),
    };
    let rights = applicable & rights::access_mask(readable, writable);
    let host = Host {
        sync,
        ..Host::from(fd)
    };
    Ok(Entry::new(host, filetype, rights, inheriting))
}

/// `fd_close`: the entry, and with it the host descriptor and any directory stream, goes away.
/// Preopens close like any other fd, as in wasmtime.
pub(crate) fn close(sys: &mut UnixSystem, fd: Fd) -> Result<(), Errno> {
    sys.table.remove(fd).map(drop)
}

/// `fd_renumber`: see [`Table::renumber`](crate::fdtable::Table::renumber) for the rules.
pub(crate) fn renumber(sys: &mut UnixSystem, fd: Fd, to: Fd) -> Result<(), Errno> {
    sys.table.renumber(fd, to)
}

/// `fd_fdstat_get`: the type and rights recorded for the fd, and the flags the host descriptor
/// has now (`APPEND` and `NONBLOCK` as the table keeps them for descriptors only the guest
/// can change, from `F_GETFL` for those the host shares; the sync flags as opened).
pub(crate) fn fdstat_get(sys: &mut UnixSystem, fd: Fd) -> Result<Fdstat, Errno> {
    let entry = sys.table.entry(fd)?;
    let mut flags = entry.sync;
    match entry.flags {
        Some(kept) => flags |= kept,
        None => {
            let host = rustix::fs::fcntl_getfl(&entry.fd)?;
            if host.contains(OFlags::APPEND) {
                flags |= Fdflags::APPEND;
            }
            if host.contains(OFlags::NONBLOCK) {
                flags |= Fdflags::NONBLOCK;
            }
        }
    }
    Ok(Fdstat {
        fs_filetype: entry.filetype()?,
        fs_flags: flags,
        fs_rights_base: entry.rights()?,
        fs_rights_inheriting: entry.inheriting,
    })
}

/// `fd_fdstat_set_flags`: `APPEND` and `NONBLOCK` change with `F_SETFL`. The sync flags cannot
/// change after open (Linux ignores them in `F_SETFL`): asking for other sync flags than the
/// fd has is `ENOTSUP`, asking for the same is fine, so that read-modify-write works.
pub(crate) fn fdstat_set_flags(sys: &mut UnixSystem, fd: Fd, flags: Fdflags) -> Result<(), Errno> {
    let entry = sys.table.get(fd, Rights::FD_FDSTAT_SET_FLAGS)?;
    let sync = Fdflags::DSYNC | Fdflags::RSYNC | Fdflags::SYNC;
    if flags & sync != entry.sync {
        return Err(Errno::Notsup);
    }
    let mut host = rustix::fs::fcntl_getfl(&entry.fd)?;
    host.set(OFlags::APPEND, flags.contains(Fdflags::APPEND));
    host.set(OFlags::NONBLOCK, flags.contains(Fdflags::NONBLOCK));
    rustix::fs::fcntl_setfl(&entry.fd, host)?;
    let entry = sys.table.entry_mut(fd)?;
    if entry.flags.is_some() {
        entry.flags = Some(flags & (Fdflags::APPEND | Fdflags::NONBLOCK));
    }
    Ok(())
}

/// `fd_fdstat_set_rights`: rights only ever shrink; asking for one the fd does not have is
/// `ENOTCAPABLE`, in both modes. What the guest gives up is refused from then on in both modes
/// too (see [`Entry::set_rights`](crate::fdtable::Entry::set_rights)).
pub(crate) fn fdstat_set_rights(
    sys: &mut UnixSystem,
    fd: Fd,
    base: Rights,
    inheriting: Rights,
) -> Result<(), Errno> {
    sys.table.entry_mut(fd)?.set_rights(base, inheriting)
}

/// `fd_prestat_get`: the length of a preopen's guest name; `EBADF` for any other fd, which is
/// how wasi-libc finds the end of the preopens.
pub(crate) fn prestat_get(sys: &mut UnixSystem, fd: Fd) -> Result<Prestat, Errno> {
    let name = preopen_name(sys, fd)?;
    Ok(Prestat::Dir(PrestatDir {
        pr_name_len: name.len() as u32,
    }))
}

/// `fd_prestat_dir_name`: the name, without a NUL, at the front of `path`; `ENAMETOOLONG` when
/// it does not fit, as in wasmtime.
pub(crate) fn prestat_dir_name(sys: &mut UnixSystem, fd: Fd, path: &mut [u8]) -> Result<(), Errno> {
    let name = preopen_name(sys, fd)?.as_bytes();
    let out = path.get_mut(..name.len()).ok_or(Errno::Nametoolong)?;
    out.copy_from_slice(name);
    Ok(())
}

fn preopen_name(sys: &UnixSystem, fd: Fd) -> Result<&str, Errno> {
    sys.table.entry(fd)?.preopen.as_deref().ok_or(Errno::Badf)
}
