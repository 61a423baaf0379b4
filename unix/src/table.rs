//! The Unix system's fd table: the generic [`fdtable::Table`](crate::fdtable::Table), its
//! entries holding a host descriptor ([`Host`]), plus what only this system keeps: the
//! preopens' device and inode numbers and the cap on `fd_readdir` streams.
//!
//! Every entry owns its host descriptor: dropping the table closes them all.

use crate::fdtable;
use crate::fs::readdir::DirStream;
use rustix::fd::OwnedFd;
use std::ops::{Deref, DerefMut};
use wasirun_wasi::{Errno, Fd, Fdflags};

/// What a Unix entry holds besides what every entry has.
pub(crate) struct Host {
    /// The host descriptor, closed when the entry is dropped.
    pub fd: OwnedFd,
    /// One of the host's stdio descriptors: `fd_filestat_get` tells its type and size, not
    /// which host file, device or terminal it is.
    pub stdio: bool,
    /// `APPEND` and `NONBLOCK` as the host description has them, kept here for descriptors only
    /// the guest can change (files it opened, connections it accepted), so that
    /// `fd_fdstat_get` makes no system call; `None` for descriptions the host shares (stdio,
    /// descriptors handed over), whose flags the host may change at any time.
    pub flags: Option<Fdflags>,
    /// The sync flags the fd was opened with (`DSYNC`, `RSYNC`, `SYNC`). Linux folds them all
    /// into `O_SYNC` (rustix does too), so `F_GETFL` cannot say which one the guest asked for.
    pub sync: Fdflags,
    /// The `fd_readdir` stream, from the first `fd_readdir` until the fd is closed.
    pub stream: Option<Box<DirStream>>,
}

impl From<OwnedFd> for Host {
    /// `fd`, with nothing else set: not stdio, flags the host shares (`None`), no sync flags,
    /// no directory stream.
    fn from(fd: OwnedFd) -> Host {
        Host {
            fd,
            stdio: false,
            flags: None,
            sync: Fdflags::empty(),
            stream: None,
        }
    }
}

/// One open guest descriptor of the Unix system.
pub(crate) type Entry = fdtable::Entry<Host>;

/// The guest's descriptors. Everything but closing, renumbering and directory streams is the
/// generic table's (it dereferences to it).
pub(crate) struct Table {
    fds: fdtable::Table<Host>,
    /// The device and inode of each preopened directory (see [`fdtable::Entry::root`]).
    roots: Vec<(u64, u64)>,
    streams: usize,
    max_streams: usize,
}

impl Deref for Table {
    type Target = fdtable::Table<Host>;
    fn deref(&self) -> &Self::Target {
        &self.fds
    }
}

impl DerefMut for Table {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.fds
    }
}

impl Table {
    /// An empty table with these caps.
    pub fn new(max_open: usize, max_streams: usize, strict: bool) -> Table {
        Table {
            fds: fdtable::Table::new(max_open, strict),
            roots: Vec::new(),
            streams: 0,
            max_streams,
        }
    }

    /// Records the device and inode of a preopened directory.
    pub fn add_root(&mut self, id: (u64, u64)) {
        self.roots.push(id);
    }

    /// Whether the directory with this device and inode is a preopen's.
    pub fn is_root(&self, id: (u64, u64)) -> bool {
        self.roots.contains(&id)
    }

    /// Takes `fd` out of the table: `EBADF` when it is not open.
    pub fn remove(&mut self, fd: Fd) -> Result<Entry, Errno> {
        let entry = self.fds.remove(fd)?;
        if entry.stream.is_some() {
            self.streams -= 1;
        }
        Ok(entry)
    }

    /// Moves `from` to `to`, closing what `to` was: see [`fdtable::Table::renumber`].
    pub fn renumber(&mut self, from: Fd, to: Fd) -> Result<(), Errno> {
        if let Some(old) = self.fds.renumber(from, to)?
            && old.stream.is_some()
        {
            self.streams -= 1;
        }
        Ok(())
    }

    /// The `fd_readdir` stream of directory `fd`, opened by `open` the first time: `EMFILE` when
    /// the cap on streams is reached.
    pub fn stream(
        &mut self,
        fd: Fd,
        open: impl FnOnce(&Entry) -> Result<DirStream, Errno>,
    ) -> Result<&mut DirStream, Errno> {
        let full = self.streams >= self.max_streams;
        let entry = self.fds.entry_mut(fd)?;
        if entry.stream.is_none() {
            if full {
                return Err(Errno::Mfile);
            }
            let stream = open(entry)?;
            entry.stream = Some(Box::new(stream));
            self.streams += 1;
        }
        Ok(self
            .fds
            .entry_mut(fd)?
            .stream
            .as_deref_mut()
            .expect("just opened"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::fs::{Mode, OFlags};
    use wasirun_wasi::{Filetype, Rights};

    fn entry() -> Entry {
        let fd =
            rustix::fs::open("/dev/null", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).unwrap();
        Entry::new(fd, Filetype::Directory, Rights::FD_READ, Rights::empty())
    }

    #[test]
    fn streams_are_counted_until_closed_or_renumbered_over() {
        let mut t = Table::new(10, 1, false);
        for _ in 0..3 {
            t.insert(entry()).unwrap();
        }
        let dot = rustix::fs::open(".", OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
        let dir = |_: &Entry| DirStream::open(rustix::fd::AsFd::as_fd(&dot));
        t.stream(Fd(0), dir).unwrap();
        assert_eq!(t.stream(Fd(1), dir).err(), Some(Errno::Mfile));
        t.renumber(Fd(1), Fd(0)).unwrap();
        t.stream(Fd(0), dir).unwrap();
        t.remove(Fd(0)).unwrap();
        t.stream(Fd(2), dir).unwrap();
        assert_eq!(t.open_count(), 1);
    }
}
