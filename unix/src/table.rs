//! The fd table: what each guest fd number stands for.
//!
//! Numbers are indexes into a `Vec`; a new descriptor takes the lowest free number, as POSIX
//! `open` does (the witx allows any number; lowest-free keeps the table dense, so its size is
//! bounded by the open-files cap). Every entry owns its host descriptor: dropping the table
//! closes them all.

use crate::fs::readdir::DirStream;
use crate::rights;
use rustix::fd::OwnedFd;
use wasirun_wasi::{Errno, Fd, Fdflags, Filetype, Rights};

/// One open guest descriptor.
pub(crate) struct Entry {
    /// The host descriptor, closed when the entry is dropped.
    pub fd: OwnedFd,
    /// What it is, fixed at open: a descriptor never changes type.
    pub filetype: Filetype,
    /// Base rights: the calls the fd allows.
    pub rights: Rights,
    /// Inheriting rights: the most that fds opened through this one may get.
    pub inheriting: Rights,
    /// Base rights the guest gave up (`fd_fdstat_set_rights`, or a directory it opened this
    /// through that had given them up as inheriting rights): refused in both rights modes.
    pub dropped: Rights,
    /// Inheriting rights the guest gave up: what fds opened through this one start without.
    pub dropped_inheriting: Rights,
    /// Beneath a [`DirMode::ReadOnly`](crate::DirMode::ReadOnly) preopen: the host forbids
    /// every change through it, whatever the rights say.
    pub readonly: bool,
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
    /// The guest name of a preopened directory.
    pub preopen: Option<Box<str>>,
    /// The directory of a preopen, whether the preopen itself or opened again through it
    /// (`.`, `a/..`): its `..` in `fd_readdir` is itself, never the host directory above.
    pub root: bool,
    /// The `fd_readdir` stream, from the first `fd_readdir` until the fd is closed.
    pub stream: Option<Box<DirStream>>,
}

impl Entry {
    /// An entry for `fd` with these rights, and nothing else set: no rights given up, not
    /// beneath a read-only preopen, not stdio, flags the host shares (`None`), no sync flags,
    /// not a preopen nor its directory, no directory stream. Callers set what differs with
    /// struct update syntax, so that a new field has one default.
    pub fn new(fd: OwnedFd, filetype: Filetype, rights: Rights, inheriting: Rights) -> Entry {
        Entry {
            fd,
            filetype,
            rights,
            inheriting,
            dropped: Rights::empty(),
            dropped_inheriting: Rights::empty(),
            readonly: false,
            stdio: false,
            flags: None,
            sync: Fdflags::empty(),
            preopen: None,
            root: false,
            stream: None,
        }
    }

    /// Whether this is a directory (for the `*at` calls).
    pub fn is_dir(&self) -> bool {
        self.filetype == Filetype::Directory
    }

    /// Whether this is a socket, stream or datagram.
    pub fn is_socket(&self) -> bool {
        matches!(
            self.filetype,
            Filetype::SocketStream | Filetype::SocketDgram
        )
    }

    /// The entry as a directory: `ENOTDIR` otherwise, as POSIX says for `openat` and friends
    /// given a descriptor that is not a directory.
    pub fn dir(&self) -> Result<&Entry, Errno> {
        if self.is_dir() {
            Ok(self)
        } else {
            Err(Errno::Notdir)
        }
    }
}

/// The guest's descriptors.
pub(crate) struct Table {
    slots: Vec<Option<Entry>>,
    /// The device and inode of each preopened directory (see [`Entry::root`]).
    roots: Vec<(u64, u64)>,
    open: usize,
    max_open: usize,
    streams: usize,
    max_streams: usize,
    /// Refuse with `ENOTCAPABLE` what the rights do not allow ([`crate::Builder::enforce_rights`]).
    pub strict: bool,
}

impl Table {
    /// Records the device and inode of a preopened directory.
    pub fn add_root(&mut self, id: (u64, u64)) {
        self.roots.push(id);
    }

    /// Whether the directory with this device and inode is a preopen's.
    pub fn is_root(&self, id: (u64, u64)) -> bool {
        self.roots.contains(&id)
    }

    /// An empty table with these caps.
    pub fn new(max_open: usize, max_streams: usize, strict: bool) -> Table {
        Table {
            slots: Vec::new(),
            roots: Vec::new(),
            open: 0,
            max_open,
            streams: 0,
            max_streams,
            strict,
        }
    }

    /// The entry behind `fd`, with no rights check: `EBADF` when `fd` is not open.
    #[inline]
    pub fn entry(&self, fd: Fd) -> Result<&Entry, Errno> {
        self.slots
            .get(fd.0 as usize)
            .and_then(Option::as_ref)
            .ok_or(Errno::Badf)
    }

    /// The entry behind `fd`, once it is shown to allow a call that needs `needed`: `EBADF` when
    /// `fd` is not open, then what [`rights::check`] says.
    #[inline]
    pub fn get(&self, fd: Fd, needed: Rights) -> Result<&Entry, Errno> {
        let entry = self.entry(fd)?;
        rights::check(entry, needed, self.strict)?;
        Ok(entry)
    }

    /// The directory behind `fd`, once it is shown to allow a call that needs `needed`:
    /// `EBADF` when `fd` is not open, then `ENOTDIR` when it is no directory, then what
    /// [`rights::check`] says.
    #[inline]
    pub fn dir(&self, fd: Fd, needed: Rights) -> Result<&Entry, Errno> {
        let entry = self.entry(fd)?.dir()?;
        rights::check(entry, needed, self.strict)?;
        Ok(entry)
    }

    /// The socket behind `fd`, once it is shown to allow a call that needs `needed`: `EBADF`
    /// when `fd` is not open, then `ENOTSOCK` when it is no socket, then what
    /// [`rights::check`] says.
    #[inline]
    pub fn socket(&self, fd: Fd, needed: Rights) -> Result<&Entry, Errno> {
        let entry = self.entry(fd)?;
        if !entry.is_socket() {
            return Err(Errno::Notsock);
        }
        rights::check(entry, needed, self.strict)?;
        Ok(entry)
    }

    /// The entry behind `fd`, mutable.
    pub fn entry_mut(&mut self, fd: Fd) -> Result<&mut Entry, Errno> {
        self.slots
            .get_mut(fd.0 as usize)
            .and_then(Option::as_mut)
            .ok_or(Errno::Badf)
    }

    /// Whether one more descriptor fits: `ENFILE` when the cap is reached. Checked before a host
    /// descriptor is created, so that a full table does not, say, accept a connection and drop it.
    pub fn reserve(&self) -> Result<(), Errno> {
        if self.open >= self.max_open {
            Err(Errno::Nfile)
        } else {
            Ok(())
        }
    }

    /// Adds `entry` at the lowest free number: `ENFILE` when the cap is reached (the entry, and
    /// with it the host descriptor, is then dropped).
    pub fn insert(&mut self, entry: Entry) -> Result<Fd, Errno> {
        self.reserve()?;
        Ok(self.push(entry))
    }

    /// Adds `entry` at the lowest free number, cap or not: for stdio and preopens.
    pub fn push(&mut self, entry: Entry) -> Fd {
        if entry.stream.is_some() {
            self.streams += 1;
        }
        self.open += 1;
        match self.slots.iter().position(Option::is_none) {
            Some(free) => {
                self.slots[free] = Some(entry);
                Fd(free as u32)
            }
            None => {
                self.slots.push(Some(entry));
                Fd((self.slots.len() - 1) as u32)
            }
        }
    }

    /// Takes `fd` out of the table: `EBADF` when it is not open.
    pub fn remove(&mut self, fd: Fd) -> Result<Entry, Errno> {
        let entry = self
            .slots
            .get_mut(fd.0 as usize)
            .and_then(Option::take)
            .ok_or(Errno::Badf)?;
        self.open -= 1;
        if entry.stream.is_some() {
            self.streams -= 1;
        }
        // Keep the vector no longer than its last open entry.
        while matches!(self.slots.last(), Some(None)) {
            self.slots.pop();
        }
        Ok(entry)
    }

    /// Moves `from` to `to`, closing what `to` was, as wasmtime does: both must be open (`EBADF`
    /// otherwise, so a huge `to` never grows the table), and renumbering an fd onto itself does
    /// nothing. What the entry is travels with it: a preopen moved to another number is still a
    /// preopen there (`fd_prestat_get` says so), and a preopen renumbered over is closed like any
    /// other fd. The table never holds two entries for one number nor loses count, which are
    /// the only invariants it has.
    pub fn renumber(&mut self, from: Fd, to: Fd) -> Result<(), Errno> {
        self.entry(from)?;
        self.entry(to)?;
        if from == to {
            return Ok(());
        }
        let entry = self.remove(from)?;
        let replaced = self.slots[to.0 as usize].replace(entry);
        if let Some(old) = replaced
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
        let entry = self.entry_mut(fd)?;
        if entry.stream.is_none() {
            if full {
                return Err(Errno::Mfile);
            }
            let stream = open(entry)?;
            entry.stream = Some(Box::new(stream));
            self.streams += 1;
        }
        Ok(self
            .entry_mut(fd)?
            .stream
            .as_deref_mut()
            .expect("just opened"))
    }

    /// How many descriptors are open.
    #[cfg(test)]
    pub fn open_count(&self) -> usize {
        self.open
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::fs::{Mode, OFlags};

    fn entry() -> Entry {
        let fd =
            rustix::fs::open("/dev/null", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).unwrap();
        Entry::new(
            fd,
            Filetype::CharacterDevice,
            Rights::FD_READ,
            Rights::empty(),
        )
    }

    #[test]
    fn lowest_free_number_is_reused() {
        let mut t = Table::new(10, 10, false);
        for i in 0..4 {
            assert_eq!(t.insert(entry()).unwrap(), Fd(i));
        }
        t.remove(Fd(1)).unwrap();
        t.remove(Fd(2)).unwrap();
        assert_eq!(t.insert(entry()).unwrap(), Fd(1));
        assert_eq!(t.insert(entry()).unwrap(), Fd(2));
        assert_eq!(t.insert(entry()).unwrap(), Fd(4));
        assert_eq!(t.remove(Fd(9)).err(), Some(Errno::Badf));
        assert_eq!(t.remove(Fd(u32::MAX)).err(), Some(Errno::Badf));
    }

    #[test]
    fn the_cap_is_enfile() {
        let mut t = Table::new(2, 10, false);
        t.insert(entry()).unwrap();
        t.insert(entry()).unwrap();
        assert_eq!(t.insert(entry()).err(), Some(Errno::Nfile));
        t.remove(Fd(0)).unwrap();
        assert_eq!(t.insert(entry()).unwrap(), Fd(0));
    }

    #[test]
    fn renumber_moves_and_closes() {
        let mut t = Table::new(10, 10, false);
        for _ in 0..3 {
            t.insert(entry()).unwrap();
        }
        t.entry_mut(Fd(0)).unwrap().preopen = Some("/".into());
        assert_eq!(t.renumber(Fd(0), Fd(u32::MAX)), Err(Errno::Badf));
        assert_eq!(t.renumber(Fd(7), Fd(1)), Err(Errno::Badf));
        assert_eq!(t.renumber(Fd(1), Fd(1)), Ok(()));
        t.renumber(Fd(0), Fd(2)).unwrap();
        assert_eq!(t.open_count(), 2);
        assert!(t.entry(Fd(0)).is_err());
        assert_eq!(t.entry(Fd(2)).unwrap().preopen.as_deref(), Some("/"));
        assert_eq!(t.insert(entry()).unwrap(), Fd(0));
    }

    #[test]
    fn trailing_free_slots_are_trimmed() {
        let mut t = Table::new(10, 10, false);
        for _ in 0..5 {
            t.insert(entry()).unwrap();
        }
        for fd in (1..5).rev() {
            t.remove(Fd(fd)).unwrap();
        }
        assert_eq!(t.slots.len(), 1);
    }
}
