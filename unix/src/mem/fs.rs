//! [`MemFs`]'s `impl System`: the file and path calls on the trees, through the generic fd
//! table ([`crate::fdtable`]) and its rights checks, exactly as the Unix system makes them.

use super::tree::{Ino, Kind, Node, ROOT, Tree};
use super::{MemFs, Open};
use crate::fdtable::Entry;
use crate::rights;
use std::collections::BTreeMap;
use std::io::{IoSlice, IoSliceMut};
use wasirun_wasi::dirent::DirentWriter;
use wasirun_wasi::*;

/// The current time, for the times of what the guest changes.
fn now() -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The stat of node `ino` of tree number `tree`: its device is the tree's, its inode the
/// node's number plus one (no file has inode 0).
fn filestat(tree: usize, t: &Tree, ino: Ino) -> Filestat {
    let node = t.node(ino);
    Filestat {
        dev: 0x6d65_6d00 + tree as u64,
        ino: ino as u64 + 1,
        filetype: node.filetype(),
        nlink: node.nlink,
        size: node.size(),
        atim: node.atim,
        mtim: node.mtim,
        ctim: node.ctim,
    }
}

/// Sets a node's times as `fd_filestat_set_times` asks: `EINVAL` for a time both given and
/// `NOW`.
fn set_times(node: &mut Node, atim: Timestamp, mtim: Timestamp, f: Fstflags) -> Result<(), Errno> {
    if f.contains(Fstflags::ATIM | Fstflags::ATIM_NOW)
        || f.contains(Fstflags::MTIM | Fstflags::MTIM_NOW)
    {
        return Err(Errno::Inval);
    }
    let t = now();
    if f.contains(Fstflags::ATIM) {
        node.atim = atim;
    } else if f.contains(Fstflags::ATIM_NOW) {
        node.atim = t;
    }
    if f.contains(Fstflags::MTIM) {
        node.mtim = mtim;
    } else if f.contains(Fstflags::MTIM_NOW) {
        node.mtim = t;
    }
    node.ctim = t;
    Ok(())
}

/// Resizes a file to `size`, zero-filling, counting the bytes against the tree's cap.
fn resize(t: &mut Tree, ino: Ino, size: u64) -> Result<(), Errno> {
    let size = usize::try_from(size).map_err(|_| Errno::Fbig)?;
    let old = match &t.node(ino).kind {
        Kind::File(data) => data.len(),
        _ => return Err(Errno::Badf),
    };
    if size > old {
        t.charge(size - old)?;
    } else {
        t.refund(old - size);
    }
    let node = t.node_mut(ino);
    if let Kind::File(data) = &mut node.kind {
        data.resize(size, 0);
    }
    let stamp = now();
    node.mtim = stamp;
    node.ctim = stamp;
    Ok(())
}

impl MemFs {
    /// The open file behind `fd`, once it allows `needed`.
    fn file(&self, fd: Fd, needed: Rights) -> Result<&Entry<Open>, Errno> {
        let entry = self.table.get(fd, needed)?;
        if needed.contains(Rights::FD_READ) && !entry.read
            || needed
                .intersects(Rights::FD_WRITE | Rights::FD_FILESTAT_SET_SIZE | Rights::FD_ALLOCATE)
                && !entry.write
        {
            return Err(Errno::Badf);
        }
        Ok(entry)
    }

    /// Reads at `at` into `iovs`: the byte count.
    fn read_at(&mut self, fd: Fd, iovs: &mut [IoSliceMut<'_>], at: u64) -> Result<Size, Errno> {
        let entry = self.file(fd, Rights::FD_READ)?;
        let (tree, ino) = (entry.tree, entry.ino);
        let node = self.trees[tree].node_mut(ino);
        let Kind::File(data) = &node.kind else {
            return Err(Errno::Badf);
        };
        let mut at = usize::try_from(at).unwrap_or(usize::MAX).min(data.len());
        let mut total = 0;
        for iov in iovs {
            let n = iov.len().min(data.len() - at);
            iov[..n].copy_from_slice(&data[at..at + n]);
            at += n;
            total += n;
        }
        node.atim = now();
        Ok(total as Size)
    }

    /// Writes `iovs` at `at` (at the end for `None`): the byte count and where it ended.
    fn write_at(
        &mut self,
        fd: Fd,
        iovs: &[IoSlice<'_>],
        at: Option<u64>,
    ) -> Result<(Size, u64), Errno> {
        let entry = self.file(fd, Rights::FD_WRITE)?;
        let (tree, ino) = (entry.tree, entry.ino);
        let t = &mut self.trees[tree];
        let len = t.node(ino).size();
        let at = at.unwrap_or(len);
        let total: usize = iovs.iter().map(|i| i.len()).sum();
        let end = at.checked_add(total as u64).ok_or(Errno::Fbig)?;
        if end > len {
            resize(t, ino, end)?;
        }
        let node = t.node_mut(ino);
        if let Kind::File(data) = &mut node.kind {
            let mut pos = at as usize;
            for iov in iovs {
                data[pos..pos + iov.len()].copy_from_slice(iov);
                pos += iov.len();
            }
        }
        let stamp = now();
        node.mtim = stamp;
        node.ctim = stamp;
        Ok((total as Size, end))
    }

    /// The tree and directory node behind `fd`, once it allows `needed`.
    fn at(&self, fd: Fd, needed: Rights) -> Result<(usize, Ino), Errno> {
        let dir = self.table.dir(fd, needed)?;
        Ok((dir.tree, dir.ino))
    }
}

impl SystemDelegate for MemFs {
    /// Only file and path calls are the file system's: the rest answer `ENOSYS`.
    fn delegate(&mut self) -> impl System {
        Nosys
    }

    fn fd_advise(&mut self, fd: Fd, _: Filesize, _: Filesize, _: Advice) -> Result<(), Errno> {
        self.file(fd, Rights::FD_ADVISE).map(drop)
    }
    fn fd_allocate(&mut self, fd: Fd, offset: Filesize, len: Filesize) -> Result<(), Errno> {
        let entry = self.file(fd, Rights::FD_ALLOCATE)?;
        let (tree, ino) = (entry.tree, entry.ino);
        let end = offset.checked_add(len).ok_or(Errno::Fbig)?;
        let t = &mut self.trees[tree];
        if end > t.node(ino).size() {
            resize(t, ino, end)?;
        }
        Ok(())
    }
    fn fd_close(&mut self, fd: Fd) -> Result<(), Errno> {
        let entry = self.table.remove(fd)?;
        self.close(&entry);
        Ok(())
    }
    fn fd_datasync(&mut self, fd: Fd) -> Result<(), Errno> {
        self.file(fd, Rights::FD_DATASYNC).map(drop)
    }
    fn fd_fdstat_get(&mut self, fd: Fd) -> Result<Fdstat, Errno> {
        let entry = self.table.entry(fd)?;
        Ok(Fdstat {
            fs_filetype: entry.filetype()?,
            fs_flags: if entry.append {
                Fdflags::APPEND
            } else {
                Fdflags::empty()
            },
            fs_rights_base: entry.rights()?,
            fs_rights_inheriting: entry.inheriting,
        })
    }
    fn fd_fdstat_set_flags(&mut self, fd: Fd, flags: Fdflags) -> Result<(), Errno> {
        self.table.get(fd, Rights::FD_FDSTAT_SET_FLAGS)?;
        if flags.intersects(Fdflags::DSYNC | Fdflags::RSYNC | Fdflags::SYNC) {
            return Err(Errno::Notsup);
        }
        self.table.entry_mut(fd)?.append = flags.contains(Fdflags::APPEND);
        Ok(())
    }
    fn fd_fdstat_set_rights(
        &mut self,
        fd: Fd,
        base: Rights,
        inheriting: Rights,
    ) -> Result<(), Errno> {
        self.table.entry_mut(fd)?.set_rights(base, inheriting)
    }
    fn fd_filestat_get(&mut self, fd: Fd) -> Result<Filestat, Errno> {
        let entry = self.table.get(fd, Rights::FD_FILESTAT_GET)?;
        Ok(filestat(entry.tree, &self.trees[entry.tree], entry.ino))
    }
    fn fd_filestat_set_size(&mut self, fd: Fd, size: Filesize) -> Result<(), Errno> {
        let entry = self.file(fd, Rights::FD_FILESTAT_SET_SIZE)?;
        let (tree, ino) = (entry.tree, entry.ino);
        resize(&mut self.trees[tree], ino, size)
    }
    fn fd_filestat_set_times(
        &mut self,
        fd: Fd,
        atim: Timestamp,
        mtim: Timestamp,
        f: Fstflags,
    ) -> Result<(), Errno> {
        let entry = self.table.get(fd, Rights::FD_FILESTAT_SET_TIMES)?;
        let (tree, ino) = (entry.tree, entry.ino);
        set_times(self.trees[tree].node_mut(ino), atim, mtim, f)
    }
    fn fd_pread(
        &mut self,
        fd: Fd,
        iovs: &mut [IoSliceMut<'_>],
        offset: Filesize,
    ) -> Result<Size, Errno> {
        self.file(fd, Rights::FD_SEEK)?;
        self.read_at(fd, iovs, offset)
    }
    fn fd_prestat_get(&mut self, fd: Fd) -> Result<Prestat, Errno> {
        let name = self
            .table
            .entry(fd)?
            .preopen
            .as_deref()
            .ok_or(Errno::Badf)?;
        Ok(Prestat::Dir(PrestatDir {
            pr_name_len: name.len() as u32,
        }))
    }
    fn fd_prestat_dir_name(&mut self, fd: Fd, path: &mut [u8]) -> Result<(), Errno> {
        let name = self
            .table
            .entry(fd)?
            .preopen
            .as_deref()
            .ok_or(Errno::Badf)?;
        let out = path.get_mut(..name.len()).ok_or(Errno::Nametoolong)?;
        out.copy_from_slice(name.as_bytes());
        Ok(())
    }
    fn fd_pwrite(&mut self, fd: Fd, iovs: &[IoSlice<'_>], offset: Filesize) -> Result<Size, Errno> {
        self.file(fd, Rights::FD_SEEK)?;
        // As on Linux, `pwrite` on a file opened with `O_APPEND` appends.
        let at = if self.table.entry(fd)?.append {
            None
        } else {
            Some(offset)
        };
        Ok(self.write_at(fd, iovs, at)?.0)
    }
    fn fd_read(&mut self, fd: Fd, iovs: &mut [IoSliceMut<'_>]) -> Result<Size, Errno> {
        let pos = self.file(fd, Rights::FD_READ)?.pos;
        let n = self.read_at(fd, iovs, pos)?;
        self.table.entry_mut(fd)?.pos = pos + u64::from(n);
        Ok(n)
    }
    fn fd_readdir(&mut self, fd: Fd, buf: &mut [u8], cookie: Dircookie) -> Result<Size, Errno> {
        let dir = self.table.dir(fd, Rights::FD_READDIR)?;
        let t = &self.trees[dir.tree];
        let up = if dir.root { dir.ino } else { t.parent(dir.ino) };
        let mut out = DirentWriter::new(buf);
        let dots = [(".", dir.ino), ("..", up)];
        for (n, (name, ino)) in dots.iter().enumerate().skip(cookie.min(2) as usize) {
            if !out.push(
                n as u64 + 1,
                *ino as u64 + 1,
                Filetype::Directory,
                name.as_bytes(),
            ) {
                return Ok(out.used() as Size);
            }
        }
        let skip = usize::try_from(cookie.saturating_sub(2)).unwrap_or(usize::MAX);
        for (n, (name, &ino)) in t.children(dir.ino)?.iter().enumerate().skip(skip) {
            let kind = t.node(ino).filetype();
            if !out.push(n as u64 + 3, ino as u64 + 1, kind, name.as_bytes()) {
                break;
            }
        }
        Ok(out.used() as Size)
    }
    fn fd_renumber(&mut self, fd: Fd, to: Fd) -> Result<(), Errno> {
        if let Some(old) = self.table.renumber(fd, to)? {
            self.close(&old);
        }
        Ok(())
    }
    fn fd_seek(&mut self, fd: Fd, offset: Filedelta, whence: Whence) -> Result<Filesize, Errno> {
        let entry = self.file(fd, Rights::FD_SEEK)?;
        let base = match whence {
            Whence::Set => 0,
            Whence::Cur => entry.pos,
            Whence::End => self.trees[entry.tree].node(entry.ino).size(),
        };
        let pos = base.checked_add_signed(offset).ok_or(Errno::Inval)?;
        if i64::try_from(pos).is_err() {
            return Err(Errno::Inval);
        }
        self.table.entry_mut(fd)?.pos = pos;
        Ok(pos)
    }
    fn fd_sync(&mut self, fd: Fd) -> Result<(), Errno> {
        self.file(fd, Rights::FD_SYNC).map(drop)
    }
    fn fd_tell(&mut self, fd: Fd) -> Result<Filesize, Errno> {
        Ok(self.file(fd, Rights::FD_TELL)?.pos)
    }
    fn fd_write(&mut self, fd: Fd, iovs: &[IoSlice<'_>]) -> Result<Size, Errno> {
        let entry = self.file(fd, Rights::FD_WRITE)?;
        let at = if entry.append { None } else { Some(entry.pos) };
        let (n, end) = self.write_at(fd, iovs, at)?;
        self.table.entry_mut(fd)?.pos = end;
        Ok(n)
    }
    fn path_create_directory(&mut self, fd: Fd, path: &str) -> Result<(), Errno> {
        let (tree, start) = self.at(fd, Rights::PATH_CREATE_DIRECTORY)?;
        let t = &mut self.trees[tree];
        let (dir, name) = t.resolve_parent(start, path).map_err(exist_for_dots)?;
        let kind = Kind::Dir {
            children: BTreeMap::new(),
            parent: dir,
        };
        t.add(dir, name, Node::new(kind, now())).map(drop)
    }
    fn path_filestat_get(
        &mut self,
        fd: Fd,
        flags: Lookupflags,
        path: &str,
    ) -> Result<Filestat, Errno> {
        let (tree, start) = self.at(fd, Rights::PATH_FILESTAT_GET)?;
        let t = &self.trees[tree];
        let ino = t.resolve(start, path, flags.contains(Lookupflags::SYMLINK_FOLLOW))?;
        Ok(filestat(tree, t, ino))
    }
    fn path_filestat_set_times(
        &mut self,
        fd: Fd,
        flags: Lookupflags,
        path: &str,
        atim: Timestamp,
        mtim: Timestamp,
        f: Fstflags,
    ) -> Result<(), Errno> {
        let (tree, start) = self.at(fd, Rights::PATH_FILESTAT_SET_TIMES)?;
        let t = &mut self.trees[tree];
        let ino = t.resolve(start, path, flags.contains(Lookupflags::SYMLINK_FOLLOW))?;
        set_times(t.node_mut(ino), atim, mtim, f)
    }
    fn path_link(
        &mut self,
        old_fd: Fd,
        old_flags: Lookupflags,
        old_path: &str,
        new_fd: Fd,
        new_path: &str,
    ) -> Result<(), Errno> {
        let (tree, old_start) = self.at(old_fd, Rights::PATH_LINK_SOURCE)?;
        let (new_tree, new_start) = self.at(new_fd, Rights::PATH_LINK_TARGET)?;
        // As in the Unix system (and wasmtime).
        if old_flags.contains(Lookupflags::SYMLINK_FOLLOW) {
            return Err(Errno::Inval);
        }
        if tree != new_tree {
            return Err(Errno::Xdev);
        }
        let t = &mut self.trees[tree];
        let ino = t.resolve(old_start, old_path, false)?;
        if t.node(ino).filetype() == Filetype::Directory {
            return Err(Errno::Perm);
        }
        let (dir, name) = t
            .resolve_parent(new_start, new_path)
            .map_err(exist_for_dots)?;
        t.link(dir, name, ino)
    }
    fn path_open(
        &mut self,
        fd: Fd,
        dirflags: Lookupflags,
        path: &str,
        oflags: Oflags,
        base: Rights,
        inheriting: Rights,
        fdflags: Fdflags,
    ) -> Result<Fd, Errno> {
        let strict = self.table.strict;
        let dir = self.table.dir(fd, rights::path_open_needs(oflags))?;
        if oflags.contains(Oflags::DIRECTORY)
            && oflags.intersects(Oflags::CREAT | Oflags::EXCL | Oflags::TRUNC)
        {
            return Err(Errno::Inval);
        }
        let base = base - dir.dropped_inheriting;
        let (read, write) = rights::path_open_access(base);
        if dir.readonly && write {
            return Err(Errno::Perm);
        }
        if strict
            && !dir
                .inheriting
                .contains(rights::path_open_passes(base, inheriting, fdflags))
        {
            return Err(Errno::Notcapable);
        }
        if fdflags.intersects(Fdflags::DSYNC | Fdflags::RSYNC | Fdflags::SYNC) {
            return Err(Errno::Notsup);
        }
        self.table.reserve()?;
        let (tree, start) = (dir.tree, dir.ino);
        let follow = dirflags.contains(Lookupflags::SYMLINK_FOLLOW);
        let t = &mut self.trees[tree];
        let ino = if oflags.contains(Oflags::CREAT) {
            let (parent, name) = t.resolve_parent(start, path).map_err(exist_for_dots)?;
            match t.children(parent)?.get(name) {
                Some(_) if oflags.contains(Oflags::EXCL) => return Err(Errno::Exist),
                Some(_) => t.resolve(start, path, follow)?,
                None if path.ends_with('/') => return Err(Errno::Isdir),
                None => t.add(parent, name, Node::new(Kind::File(Vec::new()), now()))?,
            }
        } else {
            t.resolve(start, path, follow)?
        };
        let filetype = t.node(ino).filetype();
        match filetype {
            // `O_NOFOLLOW` on a symlink, as Linux answers.
            Filetype::SymbolicLink => return Err(Errno::Loop),
            Filetype::Directory if write => return Err(Errno::Isdir),
            Filetype::Directory => {}
            _ if oflags.contains(Oflags::DIRECTORY) => return Err(Errno::Notdir),
            _ => {}
        }
        if oflags.contains(Oflags::TRUNC) && filetype == Filetype::RegularFile {
            resize(t, ino, 0)?;
        }
        t.node_mut(ino).open += 1;
        let open = Open {
            tree,
            ino,
            pos: 0,
            read,
            write,
            append: fdflags.contains(Fdflags::APPEND),
        };
        let dir = self.table.dir(fd, Rights::empty())?;
        let allowed = rights::applicable(filetype, false) & rights::access_mask(read, write);
        let entry = Entry {
            root: ino == ROOT,
            ..Entry::beneath(dir, open, filetype, allowed, (base, inheriting), strict)
        };
        Ok(self.table.push(entry))
    }
    fn path_readlink(&mut self, fd: Fd, path: &str, buf: &mut [u8]) -> Result<Size, Errno> {
        let (tree, start) = self.at(fd, Rights::PATH_READLINK)?;
        let t = &self.trees[tree];
        let ino = t.resolve(start, path, false)?;
        let Kind::Symlink(target) = &t.node(ino).kind else {
            return Err(Errno::Inval);
        };
        // As `readlink(2)`: what fits, without a NUL.
        let n = target.len().min(buf.len());
        buf[..n].copy_from_slice(&target.as_bytes()[..n]);
        Ok(n as Size)
    }
    fn path_remove_directory(&mut self, fd: Fd, path: &str) -> Result<(), Errno> {
        let (tree, start) = self.at(fd, Rights::PATH_REMOVE_DIRECTORY)?;
        let t = &mut self.trees[tree];
        let (dir, name) = t.resolve_parent(start, path)?;
        let ino = *t.children(dir)?.get(name).ok_or(Errno::Noent)?;
        if !t.children(ino)?.is_empty() {
            return Err(Errno::Notempty);
        }
        t.unlink(dir, name)
    }
    fn path_rename(
        &mut self,
        fd: Fd,
        old_path: &str,
        new_fd: Fd,
        new_path: &str,
    ) -> Result<(), Errno> {
        let (tree, old_start) = self.at(fd, Rights::PATH_RENAME_SOURCE)?;
        let (new_tree, new_start) = self.at(new_fd, Rights::PATH_RENAME_TARGET)?;
        if tree != new_tree {
            return Err(Errno::Xdev);
        }
        let t = &mut self.trees[tree];
        let (dir, name) = t.resolve_parent(old_start, old_path)?;
        let (new_dir, new_name) = t.resolve_parent(new_start, new_path)?;
        t.rename(dir, name, new_dir, new_name)
    }
    fn path_symlink(&mut self, old_path: &str, fd: Fd, new_path: &str) -> Result<(), Errno> {
        let (tree, start) = self.at(fd, Rights::PATH_SYMLINK)?;
        // An absolute target could only lead out: refused, as the Unix system does.
        if old_path.starts_with('/') {
            return Err(Errno::Perm);
        }
        let t = &mut self.trees[tree];
        let (dir, name) = t.resolve_parent(start, new_path).map_err(exist_for_dots)?;
        t.add(dir, name, Node::new(Kind::Symlink(old_path.into()), now()))
            .map(drop)
    }
    fn path_unlink_file(&mut self, fd: Fd, path: &str) -> Result<(), Errno> {
        let (tree, start) = self.at(fd, Rights::PATH_UNLINK_FILE)?;
        let t = &mut self.trees[tree];
        let (dir, name) = t.resolve_parent(start, path)?;
        let ino = *t.children(dir)?.get(name).ok_or(Errno::Noent)?;
        if t.node(ino).filetype() == Filetype::Directory {
            return Err(Errno::Isdir);
        }
        t.unlink(dir, name)
    }
    fn poll_oneoff(&mut self, in_: &[Subscription], out: &mut [Event]) -> Result<Size, Errno> {
        let mut n = 0;
        for (sub, event) in in_.iter().zip(out.iter_mut()) {
            *event = self.ready(sub)?;
            n += 1;
        }
        Ok(n)
    }
    fn sock_accept(&mut self, fd: Fd, _: Fdflags) -> Result<Fd, Errno> {
        self.table.socket(fd, Rights::SOCK_ACCEPT).map(|_| fd)
    }
    fn sock_recv(
        &mut self,
        fd: Fd,
        _: &mut [IoSliceMut<'_>],
        _: Riflags,
    ) -> Result<(Size, Roflags), Errno> {
        self.table
            .socket(fd, Rights::FD_READ)
            .map(|_| (0, Roflags::empty()))
    }
    fn sock_send(&mut self, fd: Fd, _: &[IoSlice<'_>], _: Siflags) -> Result<Size, Errno> {
        self.table.socket(fd, Rights::FD_WRITE).map(|_| 0)
    }
    fn sock_shutdown(&mut self, fd: Fd, _: Sdflags) -> Result<(), Errno> {
        self.table.socket(fd, Rights::SOCK_SHUTDOWN).map(drop)
    }
}

/// `.` or `..` as the name to make: it exists, as `mkdir(2)` says.
fn exist_for_dots(e: Errno) -> Errno {
    if e == Errno::Inval { Errno::Exist } else { e }
}

impl MemFs {
    /// An fd's node loses an open descriptor (and goes, if it has no name left).
    pub(super) fn close(&mut self, entry: &Entry<Open>) {
        let t = &mut self.trees[entry.tree];
        t.node_mut(entry.ino).open -= 1;
        t.release(entry.ino);
    }

    /// The event for one subscription: a file is always ready, for reading what is left after
    /// its position and for writing; a closed fd is `EBADF`; clocks are not the file
    /// system's (`ENOTSUP`: a [`Mounted`](super::Mounted) system gives them to the system
    /// it wraps).
    pub(super) fn ready(&self, sub: &Subscription) -> Result<Event, Errno> {
        let mut event = Event {
            userdata: sub.userdata,
            ..Event::default()
        };
        let fd = match sub.u {
            SubscriptionU::Clock(_) => return Err(Errno::Notsup),
            SubscriptionU::FdRead(r) => {
                event.type_ = Eventtype::FdRead;
                r.file_descriptor
            }
            SubscriptionU::FdWrite(w) => {
                event.type_ = Eventtype::FdWrite;
                w.file_descriptor
            }
        };
        match self.table.entry(fd) {
            Err(e) => event.error = e,
            Ok(entry) if event.type_ == Eventtype::FdRead => {
                let size = self.trees[entry.tree].node(entry.ino).size();
                event.fd_readwrite.nbytes = size.saturating_sub(entry.pos);
            }
            Ok(_) => {}
        }
        Ok(event)
    }
}
