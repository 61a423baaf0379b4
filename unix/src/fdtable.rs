//! A guest fd table any [`System`](wasirun_wasi::System) can use: numbers, entries, preopens,
//! the open-files cap, and the rights every call checks ([`crate::rights`]).
//!
//! [`Table<T>`] is generic over what an entry holds (`T`: a host descriptor for the Unix
//! system, a node of the tree for [`MemFs`](crate::mem::MemFs)); what WASI says about a
//! descriptor, its type, rights, the rights the guest gave up and whether it is a preopen, is
//! the [`Entry`]'s own. An entry dereferences to what it holds, so `entry.fd` reads the
//! host descriptor of a Unix entry.
//!
//! Numbers are indexes into a `Vec`; a new descriptor takes the lowest free number, as POSIX
//! `open` does (the witx allows any number; lowest-free keeps the table dense, so its size is
//! bounded by the open-files cap). Lookups index the `Vec` and allocate nothing; dropping the
//! table drops every entry.
//!
//! ```
//! use wasirun_unix::fdtable::{Entry, Table};
//! use wasirun_unix::rights;
//! use wasirun_wasi::{Errno, Fd, Filetype, Rights};
//!
//! let mut table: Table<&str> = Table::new(16, false);
//! let dir = Entry {
//!     preopen: Some("/data".into()),
//!     ..Entry::new("the root", Filetype::Directory, rights::DIR, rights::DIR_INHERITING)
//! };
//! let fd = table.push(dir);
//! assert_eq!(table.dir(fd, Rights::PATH_OPEN)?.host, "the root");
//! assert_eq!(table.get(fd, Rights::FD_READ).err(), Some(Errno::Badf));
//! assert_eq!(table.entry(Fd(7)).err(), Some(Errno::Badf));
//! # Ok::<(), Errno>(())
//! ```

use crate::rights;
use std::cell::Cell;
use std::ops::{Deref, DerefMut};
use wasirun_wasi::{Errno, Fd, Filetype, Rights};

/// One open guest descriptor: what WASI says about it, and what it holds (`host`).
pub struct Entry<T> {
    /// What the descriptor is for the system that made it: a host descriptor, a node.
    pub host: T,
    /// Its type and base rights (the calls the fd allows), as far as they are known yet: read
    /// them with [`Entry::filetype`] and [`Entry::rights`].
    pub typing: Typing<T>,
    /// Inheriting rights: the most that fds opened through this one may get.
    pub inheriting: Rights,
    /// Base rights the guest gave up (`fd_fdstat_set_rights`, or a directory it opened this
    /// through that had given them up as inheriting rights): refused in both rights modes.
    pub dropped: Rights,
    /// Inheriting rights the guest gave up: what fds opened through this one start without.
    pub dropped_inheriting: Rights,
    /// Beneath a read-only preopen: the host forbids every change through it, whatever the
    /// rights say (`EPERM`, see [`rights::check`]).
    pub readonly: bool,
    /// The guest name of a preopened directory (what `fd_prestat_dir_name` says).
    pub preopen: Option<Box<str>>,
    /// The directory of a preopen, whether the preopen itself or opened again through it
    /// (`.`, `a/..`): its `..` in `fd_readdir` is itself, never what is above it. A system
    /// that cannot tell at open (the Unix one opens by name, then compares device and inode
    /// when the directory is first listed) sets it for the preopen only.
    pub root: bool,
}

impl<T> Entry<T> {
    /// An entry holding `host` with these rights, and nothing else set: no rights given up,
    /// not beneath a read-only preopen, not a preopen nor its directory. Callers set what
    /// differs with struct update syntax, so that a new field has one default.
    ///
    /// With [`Kind::Later`], `rights` are what the descriptor may have before its type is
    /// known: the type narrows them when it is.
    pub fn new(
        host: impl Into<T>,
        kind: impl Into<Kind<T>>,
        rights: Rights,
        inheriting: Rights,
    ) -> Self {
        let state = match kind.into() {
            Kind::Known(filetype) => State::Known { filetype, rights },
            Kind::Later(describe) => State::Later { rights, describe },
        };
        Entry {
            host: host.into(),
            typing: Typing(Cell::new(state)),
            inheriting,
            dropped: Rights::empty(),
            dropped_inheriting: Rights::empty(),
            readonly: false,
            preopen: None,
            root: false,
        }
    }

    /// An entry holding `host`, opened through the directory `dir`: the rights a file of its
    /// type allows (`allowed`, from [`rights::applicable`] and [`rights::access_mask`]; only the
    /// latter for a type known [later](Kind::Later), which narrows them then), less
    /// what the host withholds beneath a read-only preopen and what `dir` gave up as
    /// inheriting rights; its inheriting rights `dir`'s. With `strict`
    /// ([`Table::strict`]), both are narrowed to what the guest asked for (`asked`: base and
    /// inheriting). What `dir` gave up is given up by the new entry too, and it is read-only
    /// when `dir` is. The one recipe for every entry opened through another.
    pub fn beneath<U>(
        dir: &Entry<U>,
        host: impl Into<T>,
        kind: impl Into<Kind<T>>,
        allowed: Rights,
        asked: (Rights, Rights),
        strict: bool,
    ) -> Self {
        let mut base = (allowed & rights::host_mask(dir.readonly)) - dir.dropped_inheriting;
        let mut inheriting = dir.inheriting;
        if strict {
            base &= asked.0;
            inheriting &= asked.1;
        }
        Entry {
            dropped: dir.dropped_inheriting,
            dropped_inheriting: dir.dropped_inheriting,
            readonly: dir.readonly,
            ..Entry::new(host, kind, base, inheriting)
        }
    }

    /// The type and base rights, asking what the entry holds the first time for a type known
    /// [later](Kind::Later) (what it says is kept: a descriptor never changes type).
    #[inline]
    fn known(&self) -> Result<(Filetype, Rights), Errno> {
        match self.typing.0.get() {
            State::Known { filetype, rights } => Ok((filetype, rights)),
            State::Later { rights, describe } => {
                let (filetype, applicable) = describe(&self.host)?;
                Ok(self.settle(rights, filetype, applicable))
            }
        }
    }

    /// Keeps the type of a descriptor whose type was to be known later, and its base rights:
    /// those it had (`rights`) that a descriptor of that type can have (`applicable`).
    fn settle(&self, rights: Rights, filetype: Filetype, applicable: Rights) -> (Filetype, Rights) {
        let rights = rights & applicable;
        self.typing.0.set(State::Known { filetype, rights });
        (filetype, rights)
    }

    /// What the descriptor is: a descriptor never changes type. For a type known
    /// [later](Kind::Later), the error is what asking for it said.
    #[inline]
    pub fn filetype(&self) -> Result<Filetype, Errno> {
        self.known().map(|(filetype, _)| filetype)
    }

    /// Base rights: the calls the fd allows (see [`Entry::filetype`] for the error).
    #[inline]
    pub fn rights(&self) -> Result<Rights, Errno> {
        self.known().map(|(_, rights)| rights)
    }

    /// The type if it is known yet, without asking for it.
    pub fn filetype_if_known(&self) -> Option<Filetype> {
        match self.typing.0.get() {
            State::Known { filetype, .. } => Some(filetype),
            State::Later { .. } => None,
        }
    }

    /// Records the type of a descriptor whose type was to be known [later](Kind::Later), from a
    /// call that found it out on its way (an `fstat` the guest asked for), with the rights a
    /// descriptor of that type can have: what [`Describe`] would have said. A known type stays.
    pub fn learn(&self, filetype: Filetype, applicable: Rights) {
        if let State::Later { rights, .. } = self.typing.0.get() {
            self.settle(rights, filetype, applicable);
        }
    }

    /// Whether this is a directory (for the `*at` calls).
    pub fn is_dir(&self) -> Result<bool, Errno> {
        Ok(self.filetype()? == Filetype::Directory)
    }

    /// Whether this is a socket, stream or datagram.
    pub fn is_socket(&self) -> Result<bool, Errno> {
        Ok(matches!(
            self.filetype()?,
            Filetype::SocketStream | Filetype::SocketDgram
        ))
    }

    /// The entry as a directory: `ENOTDIR` otherwise, as POSIX says for `openat` and friends
    /// given a descriptor that is not a directory.
    pub fn dir(&self) -> Result<&Self, Errno> {
        if self.is_dir()? {
            Ok(self)
        } else {
            Err(Errno::Notdir)
        }
    }

    /// `fd_fdstat_set_rights`: rights only ever shrink; asking for one the fd does not have
    /// is `ENOTCAPABLE`, in both modes. What the guest gives up is refused from then on in
    /// both modes too (see [`rights`]): a program that drops a right asks to lose it.
    pub fn set_rights(&mut self, base: Rights, inheriting: Rights) -> Result<(), Errno> {
        let (filetype, rights) = self.known()?;
        if !rights.contains(base) || !self.inheriting.contains(inheriting) {
            return Err(Errno::Notcapable);
        }
        self.dropped |= rights - base;
        self.dropped_inheriting |= self.inheriting - inheriting;
        self.typing.0.set(State::Known {
            filetype,
            rights: base,
        });
        self.inheriting = inheriting;
        Ok(())
    }
}

/// Tells the type of what an entry holds, and the rights a descriptor of that type can have
/// at all ([`rights::applicable`]): for an entry whose type is known [later](Kind::Later).
pub type Describe<T> = fn(&T) -> Result<(Filetype, Rights), Errno>;

/// What is known of a new entry's type ([`Entry::new`]).
pub enum Kind<T> {
    /// The type: what made the descriptor knows it (a preopen, a socket, a directory opened
    /// with `O_DIRECTORY`).
    Known(Filetype),
    /// Asked of what the entry holds when a call first needs it, so that making the entry
    /// costs no system call: a file opened by name may be a directory, a device or a FIFO,
    /// and many are closed, or told their type by an `fstat` of the guest's own, before any
    /// call needs it.
    Later(Describe<T>),
}

impl<T> From<Filetype> for Kind<T> {
    fn from(filetype: Filetype) -> Self {
        Kind::Known(filetype)
    }
}

/// An entry's type and base rights as far as they are known ([`Entry::typing`]).
pub struct Typing<T>(Cell<State<T>>);

/// What [`Typing`] holds.
enum State<T> {
    Known {
        filetype: Filetype,
        rights: Rights,
    },
    /// `rights` are before what the type allows.
    Later {
        rights: Rights,
        describe: Describe<T>,
    },
}

// Not derived: a derive would ask `T: Copy`, and a `fn(&T)` is `Copy` whatever `T` is.
impl<T> Clone for State<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for State<T> {}

impl<T> Deref for Entry<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.host
    }
}

impl<T> DerefMut for Entry<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.host
    }
}

/// The guest's descriptors: entries by number, at most a fixed count open.
pub struct Table<T> {
    slots: Vec<Option<Entry<T>>>,
    open: usize,
    max_open: usize,
    /// Refuse with `ENOTCAPABLE` what the rights do not allow (wasi-go's and Node's mode;
    /// see [`rights`]), instead of only what the host withholds (wasmtime's).
    pub strict: bool,
}

impl<T> Table<T> {
    /// An empty table that holds at most `max_open` descriptors, checking rights strictly or
    /// not.
    pub fn new(max_open: usize, strict: bool) -> Self {
        Table {
            slots: Vec::new(),
            open: 0,
            max_open,
            strict,
        }
    }

    /// The entry behind `fd`, with no rights check: `EBADF` when `fd` is not open.
    #[inline]
    pub fn entry(&self, fd: Fd) -> Result<&Entry<T>, Errno> {
        self.slots
            .get(fd.0 as usize)
            .and_then(Option::as_ref)
            .ok_or(Errno::Badf)
    }

    /// The entry behind `fd`, once it is shown to allow a call that needs `needed`: `EBADF`
    /// when `fd` is not open, then what [`rights::check`] says.
    #[inline]
    pub fn get(&self, fd: Fd, needed: Rights) -> Result<&Entry<T>, Errno> {
        let entry = self.entry(fd)?;
        rights::check(entry, needed, self.strict)?;
        Ok(entry)
    }

    /// The directory behind `fd`, once it is shown to allow a call that needs `needed`:
    /// `EBADF` when `fd` is not open, then `ENOTDIR` when it is no directory, then what
    /// [`rights::check`] says.
    #[inline]
    pub fn dir(&self, fd: Fd, needed: Rights) -> Result<&Entry<T>, Errno> {
        let entry = self.entry(fd)?.dir()?;
        rights::check(entry, needed, self.strict)?;
        Ok(entry)
    }

    /// The socket behind `fd`, once it is shown to allow a call that needs `needed`: `EBADF`
    /// when `fd` is not open, then `ENOTSOCK` when it is no socket, then what
    /// [`rights::check`] says.
    #[inline]
    pub fn socket(&self, fd: Fd, needed: Rights) -> Result<&Entry<T>, Errno> {
        let entry = self.entry(fd)?;
        if !entry.is_socket()? {
            return Err(Errno::Notsock);
        }
        rights::check(entry, needed, self.strict)?;
        Ok(entry)
    }

    /// The entry behind `fd`, mutable, with no rights check: `EBADF` when `fd` is not open.
    #[inline]
    pub fn entry_mut(&mut self, fd: Fd) -> Result<&mut Entry<T>, Errno> {
        self.slots
            .get_mut(fd.0 as usize)
            .and_then(Option::as_mut)
            .ok_or(Errno::Badf)
    }

    /// The entry behind `fd`, mutable, once it is shown to allow `needed` (as [`get`](Self::get)).
    #[inline]
    pub fn get_mut(&mut self, fd: Fd, needed: Rights) -> Result<&mut Entry<T>, Errno> {
        let strict = self.strict;
        let entry = self.entry_mut(fd)?;
        rights::check(entry, needed, strict)?;
        Ok(entry)
    }

    /// Whether one more descriptor fits: `ENFILE` when the cap is reached. Checked before a
    /// host descriptor is created, so that a full table does not, say, accept a connection and
    /// drop it.
    pub fn reserve(&self) -> Result<(), Errno> {
        if self.open >= self.max_open {
            Err(Errno::Nfile)
        } else {
            Ok(())
        }
    }

    /// Adds `entry` at the lowest free number: `ENFILE` when the cap is reached (the entry,
    /// and with it what it holds, is then dropped).
    pub fn insert(&mut self, entry: Entry<T>) -> Result<Fd, Errno> {
        self.reserve()?;
        Ok(self.push(entry))
    }

    /// Adds `entry` at the lowest free number, cap or not: for stdio and preopens.
    pub fn push(&mut self, entry: Entry<T>) -> Fd {
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

    /// Takes `fd` out of the table (`fd_close`): `EBADF` when it is not open.
    pub fn remove(&mut self, fd: Fd) -> Result<Entry<T>, Errno> {
        let entry = self
            .slots
            .get_mut(fd.0 as usize)
            .and_then(Option::take)
            .ok_or(Errno::Badf)?;
        self.open -= 1;
        // Keep the vector no longer than its last open entry.
        while matches!(self.slots.last(), Some(None)) {
            self.slots.pop();
        }
        Ok(entry)
    }

    /// `fd_renumber`: moves `from` to `to` and returns what `to` was, for the caller to close,
    /// as wasmtime does: both must be open (`EBADF` otherwise, so a huge `to` never grows the
    /// table), and renumbering an fd onto itself does nothing (`None`). What the entry is
    /// travels with it: a preopen moved to another number is still a preopen there
    /// (`fd_prestat_get` says so), and a preopen renumbered over is closed like any other fd.
    /// The table never holds two entries for one number nor loses count, which are the only
    /// invariants it has.
    pub fn renumber(&mut self, from: Fd, to: Fd) -> Result<Option<Entry<T>>, Errno> {
        self.entry(from)?;
        self.entry(to)?;
        if from == to {
            return Ok(None);
        }
        let entry = self.remove(from)?;
        // `remove` may have trimmed the vector, but never below `to`, which is open.
        let replaced = self.slots[to.0 as usize].replace(entry);
        Ok(replaced)
    }

    /// How many descriptors are open.
    pub fn open_count(&self) -> usize {
        self.open
    }

    /// The open descriptors, lowest number first.
    pub fn iter(&self) -> impl Iterator<Item = (Fd, &Entry<T>)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(n, slot)| slot.as_ref().map(|e| (Fd(n as u32), e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry<()> {
        Entry::new(
            (),
            Filetype::CharacterDevice,
            Rights::FD_READ,
            Rights::empty(),
        )
    }

    #[test]
    fn lowest_free_number_is_reused() {
        let mut t = Table::new(10, false);
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
        let mut t = Table::new(2, false);
        t.insert(entry()).unwrap();
        t.insert(entry()).unwrap();
        assert_eq!(t.insert(entry()).err(), Some(Errno::Nfile));
        t.remove(Fd(0)).unwrap();
        assert_eq!(t.insert(entry()).unwrap(), Fd(0));
    }

    #[test]
    fn renumber_returns_what_it_replaced() {
        let mut t = Table::new(10, false);
        t.push(entry());
        t.push(Entry {
            preopen: Some("/".into()),
            ..entry()
        });
        t.push(entry());
        assert_eq!(t.renumber(Fd(0), Fd(9)).err(), Some(Errno::Badf));
        assert!(t.renumber(Fd(1), Fd(1)).unwrap().is_none());
        let old = t.renumber(Fd(1), Fd(2)).unwrap().unwrap();
        assert!(old.preopen.is_none());
        assert_eq!(t.open_count(), 2);
        assert_eq!(t.entry(Fd(2)).unwrap().preopen.as_deref(), Some("/"));
        assert_eq!(t.insert(entry()).unwrap(), Fd(1));
    }

    /// An entry whose type is asked later, holding how many times it was asked.
    fn later(rights: Rights) -> Entry<Cell<u32>> {
        let describe: Describe<Cell<u32>> = |asked| {
            asked.set(asked.get() + 1);
            Ok((Filetype::Directory, rights::DIR))
        };
        Entry::new(Cell::new(0), Kind::Later(describe), rights, Rights::empty())
    }

    #[test]
    fn a_type_known_later_is_asked_once_and_only_when_needed() {
        let e = later(Rights::all());
        assert_eq!(e.filetype_if_known(), None);
        rights::check(&e, Rights::FD_FILESTAT_GET, false).unwrap();
        assert_eq!(e.host.get(), 0, "the answer does not depend on the type");
        assert_eq!(rights::check(&e, Rights::FD_READ, false), Err(Errno::Badf));
        assert_eq!(e.host.get(), 1);
        assert_eq!(e.filetype(), Ok(Filetype::Directory));
        assert_eq!(e.rights(), Ok(rights::DIR), "the type narrows the rights");
        assert!(e.dir().is_ok());
        assert_eq!(e.host.get(), 1);
        // Strict mode asks at once; what a call learned on its way is not asked again.
        let e = later(Rights::all());
        rights::check(&e, Rights::FD_FILESTAT_GET, true).unwrap();
        assert_eq!(e.host.get(), 1);
        let e = later(Rights::FD_READDIR | Rights::FD_READ);
        e.learn(Filetype::Directory, rights::DIR);
        assert_eq!(e.rights(), Ok(Rights::FD_READDIR));
        assert_eq!(e.host.get(), 0);
        let mut e = later(Rights::all());
        assert_eq!(
            e.set_rights(Rights::FD_READ, Rights::empty()),
            Err(Errno::Notcapable)
        );
        e.set_rights(Rights::FD_READDIR, Rights::empty()).unwrap();
        assert_eq!(e.rights(), Ok(Rights::FD_READDIR));
        assert_eq!(e.host.get(), 1);
    }

    #[test]
    fn dropped_rights_stay_dropped() {
        let mut e = Entry::<()>::new((), Filetype::RegularFile, rights::FILE, Rights::empty());
        e.set_rights(rights::FILE - Rights::FD_WRITE, Rights::empty())
            .unwrap();
        assert_eq!(
            e.set_rights(rights::FILE, Rights::empty()),
            Err(Errno::Notcapable)
        );
        assert_eq!(
            rights::check(&e, Rights::FD_WRITE, false),
            Err(Errno::Notcapable)
        );
    }
}
