//! The user-space resolver, for kernels without `openat2`: one component at a time, each opened
//! with `O_NOFOLLOW` relative to the directory before it, symlinks read here and expanded (at
//! most [`MAX_SYMLINKS`], then `ELOOP`), and `..` popping a stack of directory descriptors we
//! hold, never asking the kernel for a parent that a concurrent rename may have moved out.

use super::handle::{self, nofollow_error};
use super::{ESCAPE, LINK_MAX, MAX_SYMLINKS, create_mode, read_link};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno as E;
use std::mem::MaybeUninit;
use wasirun_wasi::Errno;

/// Opens `path` beneath `root`, as [`super::open`] describes.
pub(super) fn walk(
    root: BorrowedFd<'_>,
    path: &[u8],
    flags: OFlags,
    follow: bool,
) -> Result<OwnedFd, Errno> {
    // The directories entered below `root`; `..` pops one.
    let mut stack: Vec<OwnedFd> = Vec::new();
    let mut todo: Vec<u8> = path.to_vec();
    let mut pos = 0;
    let mut links = 0;
    let step = handle::DIR | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    loop {
        while todo.get(pos) == Some(&b'/') {
            pos += 1;
        }
        let start = pos;
        while pos < todo.len() && todo[pos] != b'/' {
            pos += 1;
        }
        let name = &todo[start..pos];
        let rest = pos;
        let last = todo[rest..].iter().all(|&b| b == b'/');
        let trailing = last && rest < todo.len();
        let cur = stack.last().map_or(root, |fd| fd.as_fd());
        // Symlink targets replace the component they name, the rest of the path kept.
        let target: Option<Vec<u8>> = match name {
            b"" => return Err(Errno::Noent),
            b"." if last => return reopen(cur, flags),
            b"." => None,
            b".." => {
                if stack.pop().is_none() {
                    return Err(ESCAPE);
                }
                if last {
                    let cur = stack.last().map_or(root, |fd| fd.as_fd());
                    return reopen(cur, flags);
                }
                None
            }
            // Linux: creating "name/" is EISDIR, before it looks at what name is (a file, a
            // symlink, nothing), and so is openat2.
            _ if trailing && flags.contains(OFlags::CREATE) => return Err(Errno::Isdir),
            _ if !last || trailing => match rustix::fs::openat(cur, name, step, Mode::empty()) {
                Ok(dir) => {
                    if last {
                        return reopen(dir.as_fd(), flags);
                    }
                    stack.push(dir);
                    None
                }
                Err(e) => match nofollow_error(e) {
                    e @ (E::NOTDIR | E::LOOP) => Some(symlink_or(cur, name, e)?),
                    e => return Err(e.into()),
                },
            },
            _ => {
                let nofollow = flags | OFlags::NOFOLLOW;
                match rustix::fs::openat(cur, name, nofollow, create_mode(flags)) {
                    // O_PATH | O_NOFOLLOW opens a symlink itself: read it by name (reading
                    // through the descriptor, with an empty name, is Linux's alone).
                    Ok(fd) if follow && handle::opens_symlinks(flags) && is_symlink(&fd) => {
                        Some(symlink_or(cur, name, E::LOOP)?)
                    }
                    Ok(fd) => return Ok(fd),
                    Err(e) => match nofollow_error(e) {
                        // O_NOFOLLOW met a symlink: ELOOP, or ENOTDIR with O_DIRECTORY.
                        e @ (E::LOOP | E::NOTDIR) if follow => Some(symlink_or(cur, name, e)?),
                        e => return Err(e.into()),
                    },
                }
            }
        };
        if let Some(target) = target {
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(Errno::Loop);
            }
            match target.first() {
                None => return Err(Errno::Noent),
                Some(b'/') => return Err(ESCAPE),
                Some(_) => {}
            }
            let mut next = target;
            next.extend_from_slice(&todo[rest..]);
            todo = next;
            pos = 0;
        }
    }
}

/// The target of `name` if it is a symlink, else the error `e` that made us look.
fn symlink_or(dir: BorrowedFd<'_>, name: &[u8], e: E) -> Result<Vec<u8>, Errno> {
    let mut buf = [MaybeUninit::uninit(); LINK_MAX];
    match read_link(dir, name, &mut buf)? {
        Some(target) => Ok(target.to_vec()),
        None => Err(e.into()),
    }
}

fn is_symlink(fd: &OwnedFd) -> bool {
    rustix::fs::fstat(fd)
        .is_ok_and(|st| rustix::fs::FileType::from_raw_mode(st.st_mode).is_symlink())
}

/// Opens `.` in `dir` with `flags`: the walk's answer when the path ends at a directory.
fn reopen(dir: BorrowedFd<'_>, flags: OFlags) -> Result<OwnedFd, Errno> {
    Ok(rustix::fs::openat(dir, ".", flags, create_mode(flags))?)
}
