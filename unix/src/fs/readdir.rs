//! `fd_readdir`: directory listings with cookies that stay valid across calls.
//!
//! A cookie is an entry's index in the listing (0 is the first entry, `.` and `..` included
//! wherever the kernel puts them), and an entry's `d_next` is its index plus one. Each
//! directory fd keeps one open stream, so the usual loop (read a buffer, continue from the last
//! complete entry's `d_next`) costs one `getdents64` per kernel buffer, and the entry that did
//! not fit in the guest's buffer is where the next call starts. A cookie anywhere else rewinds
//! the stream and skips entries up to it: the listing is re-read, so cookies hold as long as the
//! directory does not change (POSIX promises no more for `telldir`). Cookie 0 is a rewind.
//!
//! A listing ends when the kernel says so: a `getdents64` that returns nothing, as readdir(3)
//! ends. A short read is no proof of the end on every file system (FUSE hands back what its
//! server sends).
//!
//! At a preopened directory `..` carries the preopen's own inode, as `/..` does on Unix: the
//! guest learns nothing of the host directory above its root. So does the same directory
//! opened again through the preopen (`.`, `sub/..`), told by its device and inode when its
//! stream opens.
//! An entry whose type the file system leaves out (`DT_UNKNOWN`) is looked up with `fstatat`.
//!
//! Reading (one implementation per system, the same interface):
//!
//! - Linux (`getdents.rs`): `getdents64(2)` into a buffer the stream allocates once, when it
//!   opens; entries are read in place, so a call allocates nothing. A directory the guest
//!   opened is read through its own descriptor, whose open file description nothing else
//!   shares (and whose offset the guest cannot see: directories refuse `fd_seek`, `fd_tell`
//!   and `fd_read`); one the host shares (a preopen, a descriptor handed over) is opened again
//!   (`.`), so that its offset stays the host's.
//! - Elsewhere (`portable.rs`): rustix's `Dir` (readdir(3)) over the directory opened again.
//!
//! Streams count toward [`Builder::max_open_dirs`](crate::Builder::max_open_dirs): past it,
//! `EMFILE`.

use crate::system::UnixSystem;
use crate::table::Entry;
use rustix::fd::{AsFd, BorrowedFd};
use rustix::fs::{AtFlags, FileType};
use std::ffi::CStr;
use wasirun_wasi::dirent::DirentWriter;
use wasirun_wasi::{Dircookie, Errno, Fd, Filetype, Rights, Size};

#[cfg(target_os = "linux")]
mod getdents;
#[cfg(target_os = "linux")]
use getdents::Reader;
#[cfg(not(target_os = "linux"))]
mod portable;
#[cfg(not(target_os = "linux"))]
use portable::Reader;

/// One directory entry as read from the host, borrowed from the reader.
struct Dirent<'a> {
    ino: u64,
    kind: FileType,
    name: &'a CStr,
}

/// The open listing of one directory fd.
pub(crate) struct DirStream {
    reader: Reader,
    /// The index of the entry the reader has next.
    next: u64,
    /// The inode `..` carries: the directory's own at a preopen (learned when the stream
    /// opens), `None` elsewhere.
    dot_dot: Option<u64>,
}

impl DirStream {
    /// A stream over the directory `entry` holds (see the module docs for which descriptor it
    /// reads through). One `fstat` tells whether the directory is a preopen's (its device and
    /// inode among `roots`), once per descriptor rather than at every open of a directory.
    pub(crate) fn open(entry: &Entry, roots: &[(u64, u64)]) -> Result<DirStream, Errno> {
        let dir = entry.fd.as_fd();
        let st = rustix::fs::fstat(dir)?;
        let root = entry.root || roots.contains(&super::stat::file_id(&st));
        let dot_dot = root.then_some(st.st_ino);
        Ok(DirStream {
            reader: Reader::open(dir, entry.flags.is_none())?,
            next: 0,
            dot_dot,
        })
    }

    /// Moves to the entry at index `cookie`; false when the listing ends before it.
    ///
    /// Cookie 0 always starts a fresh listing: it is what `rewinddir` sends, and POSIX says a
    /// rewound stream sees the directory as it is now.
    fn seek(&mut self, dir: BorrowedFd<'_>, cookie: u64) -> Result<bool, Errno> {
        if cookie == 0 || cookie < self.next {
            self.reader.rewind(dir)?;
            self.next = 0;
        }
        while self.next < cookie {
            if self.reader.peek(dir)?.is_none() {
                return Ok(false);
            }
            self.reader.advance();
            self.next += 1;
        }
        Ok(true)
    }
}

/// `fd_readdir`: fills `buf` from entry `cookie` on, the last entry cut at the end of the buffer
/// ([`DirentWriter`]); fewer bytes than the buffer holds means the end of the directory.
pub(crate) fn fd_readdir(
    sys: &mut UnixSystem,
    fd: Fd,
    buf: &mut [u8],
    cookie: Dircookie,
) -> Result<Size, Errno> {
    sys.table.dir(fd, Rights::FD_READDIR)?;
    sys.table.stream(fd, DirStream::open)?;
    let host = &mut sys.table.entry_mut(fd)?.host;
    let dir = host.fd.as_fd();
    let stream = host.stream.as_deref_mut().ok_or(Errno::Badf)?;
    let mut out = DirentWriter::new(buf);
    if !stream.seek(dir, cookie)? {
        return Ok(0);
    }
    // A full buffer needs no more entries: the guest calls again from its last cookie.
    while !out.is_full()
        && let Some(entry) = stream.reader.peek(dir)?
    {
        let name = entry.name.to_bytes();
        let kind = match entry.kind {
            _ if name == b"." || name == b".." => Filetype::Directory,
            // Some file systems leave d_type out: ask the inode.
            FileType::Unknown => rustix::fs::statat(dir, entry.name, AtFlags::SYMLINK_NOFOLLOW)
                .map_or(Filetype::Unknown, |st| {
                    super::stat::filetype(FileType::from_raw_mode(st.st_mode))
                }),
            ft => super::stat::filetype(ft),
        };
        let ino = match stream.dot_dot {
            Some(ino) if name == b".." => ino,
            _ => entry.ino,
        };
        if !out.push(stream.next + 1, ino, kind, name) {
            break;
        }
        stream.reader.advance();
        stream.next += 1;
    }
    Ok(super::file::size(out.used()))
}
