//! Not API: the path resolver, for the fuzz targets in `fuzz/` and the test that replays their
//! seeds (`tests/fuzz_seeds.rs`). Hidden from the docs, with no stability promise; embedders
//! reach the resolver only through the [`System`](wasirun_wasi::System) calls.

use crate::sandbox;
use rustix::fd::{BorrowedFd, OwnedFd};
use rustix::fs::OFlags;
use wasirun_wasi::Errno;

pub use crate::sandbox::Resolver;

/// Opens `path` beneath `root`, as `path_open` does.
pub fn open(
    root: BorrowedFd<'_>,
    path: &[u8],
    flags: OFlags,
    follow: bool,
    how: Resolver,
) -> Result<OwnedFd, Errno> {
    sandbox::open(root, path, flags, follow, how)
}

/// Where an operation on `path`'s last component itself acts (`mkdir`, `unlink`...): a new
/// descriptor of the directory, and the name in it.
pub fn parent(
    root: BorrowedFd<'_>,
    path: &str,
    how: Resolver,
) -> Result<(OwnedFd, Vec<u8>), Errno> {
    let at = sandbox::parent(root, path, how)?;
    Ok((dup(at.dir())?, at.name().to_vec()))
}

/// Where an operation looking at what `path` names acts (`stat`, `readlink`...), following a
/// last symlink when `follow` says so: a new descriptor of the directory, and the name in it.
pub fn target(
    root: BorrowedFd<'_>,
    path: &str,
    follow: bool,
    how: Resolver,
) -> Result<(OwnedFd, Vec<u8>), Errno> {
    let at = sandbox::target(root, path, follow, how)?;
    Ok((dup(at.dir())?, at.name().to_vec()))
}

fn dup(fd: BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
    Ok(rustix::io::fcntl_dupfd_cloexec(fd, 3)?)
}
