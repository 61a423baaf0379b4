//! `fd_readdir`: directory listings with cookies that stay valid across calls.
//!
//! A cookie is an entry's index in the listing (0 is the first entry, `.` and `..` included
//! wherever the kernel puts them), and an entry's `d_next` is its index plus one. Each
//! directory fd keeps one open stream, so the usual loop (read a buffer, continue from the last
//! complete entry's `d_next`) costs one `getdents64` per buffer. A cookie anywhere else rewinds
//! the stream and skips entries up to it: the listing is re-read, so cookies hold as long as the
//! directory does not change (POSIX promises no more for `telldir`). Cookie 0 is a rewind.
//!
//! At a preopened directory `..` carries the preopen's own inode, as `/..` does on Unix: the
//! guest learns nothing of the host directory above its root. So does the same directory
//! opened again through the preopen (`.`, `sub/..`: [`Entry::root`](crate::table::Entry)).
//!
//! Streams count toward [`Builder::max_open_dirs`](crate::Builder::max_open_dirs): past it,
//! `EMFILE`.

use crate::system::UnixSystem;
use rustix::fd::AsFd;
use rustix::fs::{AtFlags, Dir, DirEntry, FileType};
use wasirun_wasi::dirent::DirentWriter;
use wasirun_wasi::{Dircookie, Errno, Fd, Filetype, Rights, Size};

/// The open listing of one directory fd.
pub(crate) struct DirStream {
    dir: Dir,
    /// The index of the entry `dir.read()` returns next.
    next: u64,
    /// An entry read from the kernel that did not fit in the guest's last buffer, with its
    /// index: the guest asks for it next, and it is served from here without a rewind.
    held: Option<(u64, DirEntry)>,
}

impl DirStream {
    /// A stream of its own over the directory (`Dir::read_from` opens `.` again, so the fd's
    /// own offset is untouched).
    pub(crate) fn open(fd: rustix::fd::BorrowedFd<'_>) -> Result<DirStream, Errno> {
        Ok(DirStream {
            dir: Dir::read_from(fd)?,
            next: 0,
            held: None,
        })
    }

    /// The entry at index `cookie` and its index, or `None` at the end.
    ///
    /// Cookie 0 always starts a fresh listing: it is what `rewinddir` sends, and POSIX says a
    /// rewound stream sees the directory as it is now.
    fn seek_and_read(&mut self, cookie: u64) -> Result<Option<(u64, DirEntry)>, Errno> {
        if let Some((index, _)) = &self.held
            && *index == cookie
            && cookie != 0
        {
            return Ok(self.held.take());
        }
        self.held = None;
        if cookie == 0 || cookie < self.next {
            self.dir.rewind();
            self.next = 0;
        }
        while self.next < cookie {
            if self.read()?.is_none() {
                return Ok(None);
            }
        }
        Ok(self.read()?.map(|e| (cookie, e)))
    }

    fn read(&mut self) -> Result<Option<DirEntry>, Errno> {
        match self.dir.read() {
            None => Ok(None),
            Some(entry) => {
                self.next += 1;
                Ok(Some(entry?))
            }
        }
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
    let root = sys.table.dir(fd, Rights::FD_READDIR)?.root;
    let stream = sys
        .table
        .stream(fd, |entry| DirStream::open(entry.fd.as_fd()))?;
    let mut out = DirentWriter::new(buf);
    let mut next = stream.seek_and_read(cookie)?;
    while let Some((index, entry)) = next {
        let name = entry.file_name().to_bytes();
        let kind = match entry.file_type() {
            // Some file systems leave d_type out: ask the inode.
            FileType::Unknown => {
                rustix::fs::statat(stream.dir.fd()?, name, AtFlags::SYMLINK_NOFOLLOW)
                    .map_or(Filetype::Unknown, |st| {
                        super::stat::filetype(FileType::from_raw_mode(st.st_mode))
                    })
            }
            ft => super::stat::filetype(ft),
        };
        let ino = if root && name == b".." {
            rustix::fs::fstat(stream.dir.fd()?)?.st_ino
        } else {
            entry.ino()
        };
        if !out.push(index + 1, ino, kind, name) {
            stream.held = Some((index, entry));
            break;
        }
        next = stream.read()?.map(|e| (index + 1, e));
    }
    Ok(super::file::size(out.used()))
}
