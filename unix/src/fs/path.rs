//! The `path_*` calls that act on a name: mkdir, rmdir, unlink, rename, link, symlink,
//! readlink. Each resolves through [`sandbox`] and makes one `*at` call on a single name.

use crate::sandbox;
use crate::system::UnixSystem;
use rustix::fd::AsFd;
use rustix::fs::{AtFlags, Mode};
use std::mem::MaybeUninit;
use wasirun_wasi::{Errno, Fd, Lookupflags, Rights, Size};

/// `path_create_directory`: `mkdirat(2)`, mode `0777` before the umask.
pub(crate) fn create_directory(sys: &mut UnixSystem, fd: Fd, path: &str) -> Result<(), Errno> {
    let dir = sys.table.dir(fd, Rights::PATH_CREATE_DIRECTORY)?;
    let at = sandbox::parent(dir.fd.as_fd(), path, sys.resolver)?;
    Ok(rustix::fs::mkdirat(
        at.dir(),
        at.name(),
        Mode::from_raw_mode(0o777),
    )?)
}

/// `path_remove_directory`: `unlinkat(2)` with `AT_REMOVEDIR` (`ENOTEMPTY`, `ENOTDIR` from the
/// kernel).
pub(crate) fn remove_directory(sys: &mut UnixSystem, fd: Fd, path: &str) -> Result<(), Errno> {
    let dir = sys.table.dir(fd, Rights::PATH_REMOVE_DIRECTORY)?;
    let at = sandbox::parent(dir.fd.as_fd(), path, sys.resolver)?;
    Ok(rustix::fs::unlinkat(
        at.dir(),
        at.name(),
        AtFlags::REMOVEDIR,
    )?)
}

/// `path_unlink_file`: `unlinkat(2)`; a directory is `EISDIR`, as the witx asks and Linux says.
pub(crate) fn unlink_file(sys: &mut UnixSystem, fd: Fd, path: &str) -> Result<(), Errno> {
    let dir = sys.table.dir(fd, Rights::PATH_UNLINK_FILE)?;
    let at = sandbox::parent(dir.fd.as_fd(), path, sys.resolver)?;
    Ok(rustix::fs::unlinkat(at.dir(), at.name(), AtFlags::empty())?)
}

/// `path_rename`: `renameat(2)` between two resolved parents.
pub(crate) fn rename(
    sys: &mut UnixSystem,
    fd: Fd,
    old_path: &str,
    new_fd: Fd,
    new_path: &str,
) -> Result<(), Errno> {
    let old_dir = sys.table.dir(fd, Rights::PATH_RENAME_SOURCE)?;
    let new_dir = sys.table.dir(new_fd, Rights::PATH_RENAME_TARGET)?;
    let old = sandbox::parent(old_dir.fd.as_fd(), old_path, sys.resolver)?;
    let new = sandbox::parent(new_dir.fd.as_fd(), new_path, sys.resolver)?;
    Ok(rustix::fs::renameat(
        old.dir(),
        old.name(),
        new.dir(),
        new.name(),
    )?)
}

/// `path_link`: `linkat(2)` without `AT_SYMLINK_FOLLOW`: a symlink source is linked itself.
/// A new name `"name/"` naming a file is `ENOTDIR`, as for `path_symlink`.
/// `SYMLINK_FOLLOW` is `EINVAL`, as in wasmtime (whose `preview1_path_link` test asks for it):
/// POSIX leaves following to the implementation, and Linux `link(2)` does not follow either.
pub(crate) fn link(
    sys: &mut UnixSystem,
    old_fd: Fd,
    old_flags: Lookupflags,
    old_path: &str,
    new_fd: Fd,
    new_path: &str,
) -> Result<(), Errno> {
    let old_dir = sys.table.dir(old_fd, Rights::PATH_LINK_SOURCE)?;
    let new_dir = sys.table.dir(new_fd, Rights::PATH_LINK_TARGET)?;
    if old_flags.contains(Lookupflags::SYMLINK_FOLLOW) {
        return Err(Errno::Inval);
    }
    let old = sandbox::target(old_dir.fd.as_fd(), old_path, false, sys.resolver)?;
    let new = sandbox::parent(new_dir.fd.as_fd(), new_path, sys.resolver)?;
    new.refuse_slash_after_file()?;
    Ok(rustix::fs::linkat(
        old.dir(),
        old.name(),
        new.dir(),
        new.name(),
        AtFlags::empty(),
    )?)
}

/// `path_symlink`: `symlinkat(2)`; `"target/"` naming a file is `ENOTDIR` (see
/// [`At::refuse_slash_after_file`](sandbox::At::refuse_slash_after_file)). The resolver never
/// follows a symlink out of the sandbox, but other programs on the host would, so a target
/// that leads out is refused (`EPERM`) when the link is made: an absolute one, as in wasmtime,
/// and a relative one whose `..`s climb above the directory `fd` from the link's own
/// directory (`d/link -> ../../etc/passwd`). Targets that stay beneath `fd` are stored as the
/// guest wrote them, dangling or not. Go's tests skip their absolute-symlink cases on `EPERM`,
/// and fail on a link they made but cannot follow.
pub(crate) fn symlink(
    sys: &mut UnixSystem,
    old_path: &str,
    fd: Fd,
    new_path: &str,
) -> Result<(), Errno> {
    let dir = sys.table.dir(fd, Rights::PATH_SYMLINK)?;
    sandbox::check_len(old_path.as_bytes())?;
    if old_path.starts_with('/') {
        return Err(sandbox::ESCAPE);
    }
    let at = sandbox::parent(dir.fd.as_fd(), new_path, sys.resolver)?;
    at.refuse_slash_after_file()?;
    let depth = sandbox::depth(dir.fd.as_fd(), at.dir())?;
    if climbs_above(old_path, depth) {
        return Err(sandbox::ESCAPE);
    }
    Ok(rustix::fs::symlinkat(old_path, at.dir(), at.name())?)
}

/// Whether the relative symlink target `target`, in a directory `depth` levels below the root,
/// names something above the root when read as written (`..` going up, every other component
/// down). Its own components are not looked through: a symlink among them was checked when it
/// was made, or put there by the host.
fn climbs_above(target: &str, depth: usize) -> bool {
    let mut depth = depth;
    for component in target.split('/') {
        match component {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(up) => depth = up,
                None => return true,
            },
            _ => depth += 1,
        }
    }
    false
}

/// `path_readlink`: `readlinkat(2)`, the target cut at the end of `buf` as in wasmtime (and
/// as `readlink` does).
pub(crate) fn readlink(
    sys: &mut UnixSystem,
    fd: Fd,
    path: &str,
    buf: &mut [u8],
) -> Result<Size, Errno> {
    let dir = sys.table.dir(fd, Rights::PATH_READLINK)?;
    let at = sandbox::target(dir.fd.as_fd(), path, false, sys.resolver)?;
    if buf.is_empty() {
        // readlink(2) refuses an empty buffer; the guest only learns whether it is a link.
        let mut byte = [MaybeUninit::uninit(); 1];
        rustix::fs::readlinkat_raw(at.dir(), at.name(), &mut byte)?;
        return Ok(0);
    }
    let n = rustix::fs::readlinkat_raw(at.dir(), at.name(), buf)?;
    Ok(super::file::size(n))
}
