//! The Unix system's fd table: the generic [`fdtable::Table`](crate::fdtable::Table), its
//! entries holding a host descriptor ([`Host`]), plus what only this system keeps: the
//! preopens' device and inode numbers, the cap on `fd_readdir` streams, and a count of the
//! times the guest's calls reached the table ([`Table::touches`]).
//!
//! Every entry owns its host descriptor: dropping the table closes them all.

use crate::fdtable;
use crate::fs::readdir::DirStream;
use rustix::fd::OwnedFd;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
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
    /// The device and inode of each preopened directory: its `..` is itself in `fd_readdir`,
    /// under whatever fd it is opened again (see [`fdtable::Entry::root`]).
    roots: Vec<(u64, u64)>,
    streams: usize,
    max_streams: usize,
    /// How many times the table was reached: see [`Table::touches`].
    touches: AtomicU64,
}

impl Deref for Table {
    type Target = fdtable::Table<Host>;
    fn deref(&self) -> &Self::Target {
        self.touch();
        &self.fds
    }
}

impl DerefMut for Table {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.touch();
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
            touches: AtomicU64::new(0),
        }
    }

    /// How many times the table was reached so far: every lookup, insertion and removal counts
    /// (any call on a descriptor makes one), so an unchanged count means no call touched a
    /// descriptor in between. `poll_oneoff` uses it to tell a guest that ignored the readiness
    /// it was told of ([`crate::poll`]).
    pub fn touches(&self) -> u64 {
        self.touches.load(Relaxed)
    }

    /// Counts one more use. A load and a store, not an atomic add: the table is used from one
    /// thread at a time, and all a reader needs is whether the count moved.
    fn touch(&self) {
        self.touches
            .store(self.touches.load(Relaxed).wrapping_add(1), Relaxed);
    }

    /// Records the device and inode of a preopened directory.
    pub fn add_root(&mut self, id: (u64, u64)) {
        self.roots.push(id);
    }

    /// Takes `fd` out of the table: `EBADF` when it is not open.
    pub fn remove(&mut self, fd: Fd) -> Result<Entry, Errno> {
        self.touch();
        let entry = self.fds.remove(fd)?;
        if entry.stream.is_some() {
            self.streams -= 1;
        }
        Ok(entry)
    }

    /// Moves `from` to `to`, closing what `to` was: see [`fdtable::Table::renumber`].
    pub fn renumber(&mut self, from: Fd, to: Fd) -> Result<(), Errno> {
        self.touch();
        if let Some(old) = self.fds.renumber(from, to)?
            && old.stream.is_some()
        {
            self.streams -= 1;
        }
        Ok(())
    }

    /// The `fd_readdir` stream of directory `fd`, opened by `open` the first time (given the
    /// preopens' devices and inodes): `EMFILE` when the cap on streams is reached.
    pub fn stream(
        &mut self,
        fd: Fd,
        open: impl FnOnce(&Entry, &[(u64, u64)]) -> Result<DirStream, Errno>,
    ) -> Result<&mut DirStream, Errno> {
        self.touch();
        let full = self.streams >= self.max_streams;
        let entry = self.fds.entry_mut(fd)?;
        if entry.stream.is_none() {
            if full {
                return Err(Errno::Mfile);
            }
            let stream = open(entry, &self.roots)?;
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
        let dot = || {
            Entry::new(
                rustix::io::dup(&dot).unwrap(),
                Filetype::Directory,
                Rights::FD_READDIR,
                Rights::empty(),
            )
        };
        let dir = |_: &Entry, _: &[(u64, u64)]| DirStream::open(&dot(), &[]);
        t.stream(Fd(0), dir).unwrap();
        assert_eq!(t.stream(Fd(1), dir).err(), Some(Errno::Mfile));
        t.renumber(Fd(1), Fd(0)).unwrap();
        t.stream(Fd(0), dir).unwrap();
        t.remove(Fd(0)).unwrap();
        t.stream(Fd(2), dir).unwrap();
        assert_eq!(t.open_count(), 1);
    }

    #[test]
    fn every_use_is_a_touch() {
        let mut t = Table::new(10, 1, false);
        let start = t.touches();
        assert_eq!(t.touches(), start, "reading the count is not a use");
        let fd = t.insert(entry()).unwrap();
        let inserted = t.touches();
        assert_ne!(inserted, start);
        t.entry(fd).unwrap();
        let looked_up = t.touches();
        assert_ne!(looked_up, inserted);
        let to = t.insert(entry()).unwrap();
        let before = t.touches();
        t.renumber(fd, to).unwrap();
        let renumbered = t.touches();
        assert_ne!(renumbered, before);
        t.remove(to).unwrap();
        assert_ne!(t.touches(), renumbered);
    }
}
