//! The portable reader: rustix's `Dir` (readdir(3)) over the directory opened again, so that
//! the entry's own offset is untouched. Each entry it reads is its own allocation (its name).

use super::Dirent;
use rustix::fd::BorrowedFd;
use rustix::fs::{Dir, DirEntry};
use wasirun_wasi::Errno;

/// Reads one directory.
pub(super) struct Reader {
    dir: Dir,
    /// The entry [`peek`](Self::peek) read, until [`advance`](Self::advance).
    peeked: Option<DirEntry>,
}

impl Reader {
    /// A reader of `dir`: always opened again (`Dir::read_from`), shared or not.
    pub(super) fn open(dir: BorrowedFd<'_>, _shared: bool) -> Result<Reader, Errno> {
        Ok(Reader {
            dir: Dir::read_from(dir)?,
            peeked: None,
        })
    }

    /// Back to the first entry, as the directory is now.
    pub(super) fn rewind(&mut self, _dir: BorrowedFd<'_>) -> Result<(), Errno> {
        self.dir.rewind();
        self.peeked = None;
        Ok(())
    }

    /// The next entry, kept until [`advance`](Self::advance); `None` at the end.
    pub(super) fn peek(&mut self, _dir: BorrowedFd<'_>) -> Result<Option<Dirent<'_>>, Errno> {
        if self.peeked.is_none() {
            self.peeked = match self.dir.read() {
                None => return Ok(None),
                Some(entry) => Some(entry?),
            };
        }
        Ok(self.peeked.as_ref().map(|e| Dirent {
            ino: e.ino(),
            kind: e.file_type(),
            name: e.file_name(),
        }))
    }

    /// Past the entry [`peek`](Self::peek) returned.
    pub(super) fn advance(&mut self) {
        self.peeked = None;
    }
}
