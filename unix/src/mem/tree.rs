//! The tree [`MemFs`](super::MemFs) serves: nodes by number, directories as sorted maps, and
//! the one resolver its paths go through.
//!
//! Every byte the tree holds is counted against a cap ([`Tree::new`]): file data, symlink
//! targets, names, and [`NODE_COST`] for each node. Growing past it is `ENOSPC`, so a guest
//! writing into the overlay cannot exhaust host memory.

use std::collections::BTreeMap;
use wasirun_wasi::{Errno, Filetype, Timestamp};

/// A node's number (its `ino`); the root is [`ROOT`].
pub(crate) type Ino = usize;

/// The root directory's number.
pub(crate) const ROOT: Ino = 0;

/// What each node costs against the cap, besides its data and name: its share of the arena
/// and of its directory's map.
pub(crate) const NODE_COST: usize = 128;

/// The longest path the resolver takes (Linux's `PATH_MAX`, as the Unix system).
const PATH_MAX: usize = 4096;

/// The most symlinks one resolution follows (Linux's `MAXSYMLINKS`).
const MAX_LINKS: usize = 40;

/// What a node is.
pub(crate) enum Kind {
    /// A directory: its entries, and the directory it is in (itself for the root).
    Dir {
        children: BTreeMap<Box<str>, Ino>,
        parent: Ino,
    },
    /// A regular file's bytes.
    File(Vec<u8>),
    /// A symbolic link's target, as written.
    Symlink(Box<str>),
}

/// One file, directory or symlink.
pub(crate) struct Node {
    pub kind: Kind,
    pub atim: Timestamp,
    pub mtim: Timestamp,
    pub ctim: Timestamp,
    /// Names it has in directories (a hard link in a tar gives a file a second one).
    pub nlink: u64,
    /// Open descriptors on it: a node with no name and none of these is freed.
    pub open: usize,
}

impl Node {
    /// A node of this kind, all three times `now`.
    pub fn new(kind: Kind, now: Timestamp) -> Node {
        Node {
            kind,
            atim: now,
            mtim: now,
            ctim: now,
            nlink: 1,
            open: 0,
        }
    }

    /// Its WASI file type.
    pub fn filetype(&self) -> Filetype {
        match self.kind {
            Kind::Dir { .. } => Filetype::Directory,
            Kind::File(_) => Filetype::RegularFile,
            Kind::Symlink(_) => Filetype::SymbolicLink,
        }
    }

    /// Its size: a file's bytes, a symlink's target, a directory's entry count.
    pub fn size(&self) -> u64 {
        match &self.kind {
            Kind::Dir { children, .. } => children.len() as u64,
            Kind::File(data) => data.len() as u64,
            Kind::Symlink(target) => target.len() as u64,
        }
    }
}

/// The nodes, and how many bytes they take.
pub struct Tree {
    nodes: Vec<Option<Node>>,
    free: Vec<Ino>,
    bytes: usize,
    max_bytes: usize,
}

impl Tree {
    /// A tree with only an empty root directory, holding at most `max_bytes` (see the module
    /// docs).
    pub fn new(max_bytes: usize) -> Tree {
        let root = Node::new(
            Kind::Dir {
                children: BTreeMap::new(),
                parent: ROOT,
            },
            0,
        );
        Tree {
            nodes: vec![Some(root)],
            free: Vec::new(),
            bytes: NODE_COST,
            max_bytes,
        }
    }

    /// The node `ino`. Numbers come from the tree itself, so a missing one is a bug.
    pub(crate) fn node(&self, ino: Ino) -> &Node {
        self.nodes[ino].as_ref().expect("a live node")
    }

    /// The node `ino`, mutable.
    pub(crate) fn node_mut(&mut self, ino: Ino) -> &mut Node {
        self.nodes[ino].as_mut().expect("a live node")
    }

    /// Counts `more` bytes against the cap: `ENOSPC` past it.
    pub(crate) fn charge(&mut self, more: usize) -> Result<(), Errno> {
        match self.bytes.checked_add(more) {
            Some(total) if total <= self.max_bytes => {
                self.bytes = total;
                Ok(())
            }
            _ => Err(Errno::Nospc),
        }
    }

    /// Gives `less` bytes back.
    pub(crate) fn refund(&mut self, less: usize) {
        self.bytes -= less;
    }

    /// The entries of directory `ino`: `ENOTDIR` for anything else.
    pub(crate) fn children(&self, ino: Ino) -> Result<&BTreeMap<Box<str>, Ino>, Errno> {
        match &self.node(ino).kind {
            Kind::Dir { children, .. } => Ok(children),
            _ => Err(Errno::Notdir),
        }
    }

    fn children_mut(&mut self, ino: Ino) -> Result<&mut BTreeMap<Box<str>, Ino>, Errno> {
        match &mut self.node_mut(ino).kind {
            Kind::Dir { children, .. } => Ok(children),
            _ => Err(Errno::Notdir),
        }
    }

    /// The directory `ino` is in (itself for the root).
    pub(crate) fn parent(&self, ino: Ino) -> Ino {
        match self.node(ino).kind {
            Kind::Dir { parent, .. } => parent,
            _ => ino,
        }
    }

    /// Adds `node` under `name` in directory `dir`: `EEXIST` when the name is taken,
    /// `ENOSPC` past the cap.
    pub(crate) fn add(&mut self, dir: Ino, name: &str, mut node: Node) -> Result<Ino, Errno> {
        if self.children(dir)?.contains_key(name) {
            return Err(Errno::Exist);
        }
        let data = match &node.kind {
            Kind::File(data) => data.len(),
            Kind::Symlink(target) => target.len(),
            Kind::Dir { .. } => 0,
        };
        self.charge(NODE_COST + name.len() + data)?;
        if let Kind::Dir { parent, .. } = &mut node.kind {
            *parent = dir;
        }
        let ino = match self.free.pop() {
            Some(ino) => {
                self.nodes[ino] = Some(node);
                ino
            }
            None => {
                self.nodes.push(Some(node));
                self.nodes.len() - 1
            }
        };
        self.children_mut(dir)?.insert(name.into(), ino);
        Ok(ino)
    }

    /// Gives the existing node `ino` one more name, `name` in `dir` (a hard link).
    pub(crate) fn link(&mut self, dir: Ino, name: &str, ino: Ino) -> Result<(), Errno> {
        if self.children(dir)?.contains_key(name) {
            return Err(Errno::Exist);
        }
        self.charge(name.len())?;
        self.children_mut(dir)?.insert(name.into(), ino);
        self.node_mut(ino).nlink += 1;
        Ok(())
    }

    /// Takes `name` out of `dir`; the node goes when it has no name nor open descriptor left.
    pub(crate) fn unlink(&mut self, dir: Ino, name: &str) -> Result<(), Errno> {
        let ino = self.children_mut(dir)?.remove(name).ok_or(Errno::Noent)?;
        self.refund(name.len());
        self.node_mut(ino).nlink -= 1;
        self.release(ino);
        Ok(())
    }

    /// Frees `ino` once it has no name and no open descriptor.
    pub(crate) fn release(&mut self, ino: Ino) {
        let node = self.node(ino);
        if node.nlink > 0 || node.open > 0 {
            return;
        }
        let node = self.nodes[ino].take().expect("a live node");
        let data = match &node.kind {
            Kind::File(data) => data.len(),
            Kind::Symlink(target) => target.len(),
            Kind::Dir { .. } => 0,
        };
        self.refund(NODE_COST + data);
        self.free.push(ino);
    }

    /// Moves `name` in `dir` to `new_name` in `new_dir`, replacing what is there as
    /// `rename(2)` does: a directory only over an empty directory (`ENOTEMPTY`, `ENOTDIR`), a
    /// file never over a directory (`EISDIR`), and never a directory into itself (`EINVAL`).
    pub(crate) fn rename(
        &mut self,
        dir: Ino,
        name: &str,
        new_dir: Ino,
        new_name: &str,
    ) -> Result<(), Errno> {
        let ino = *self.children(dir)?.get(name).ok_or(Errno::Noent)?;
        let is_dir = matches!(self.node(ino).kind, Kind::Dir { .. });
        if is_dir {
            let mut up = new_dir;
            loop {
                if up == ino {
                    return Err(Errno::Inval);
                }
                if up == ROOT {
                    break;
                }
                up = self.parent(up);
            }
        }
        if let Some(&old) = self.children(new_dir)?.get(new_name) {
            if old == ino {
                return Ok(());
            }
            match (&self.node(old).kind, is_dir) {
                (Kind::Dir { children, .. }, true) if !children.is_empty() => {
                    return Err(Errno::Notempty);
                }
                (Kind::Dir { .. }, true) => {}
                (Kind::Dir { .. }, false) => return Err(Errno::Isdir),
                (_, true) => return Err(Errno::Notdir),
                (_, false) => {}
            }
            self.unlink(new_dir, new_name)?;
        }
        self.charge(new_name.len())?;
        self.children_mut(dir)?.remove(name);
        self.refund(name.len());
        self.children_mut(new_dir)?.insert(new_name.into(), ino);
        if let Kind::Dir { parent, .. } = &mut self.node_mut(ino).kind {
            *parent = new_dir;
        }
        Ok(())
    }

    /// Resolves `path` beneath the directory `start`: every component but the last is
    /// followed through symlinks, the last too when `follow` (or when the path ends in `/`).
    ///
    /// Nothing leads above `start`: an absolute path, a `..` there, or a symlink whose target
    /// is absolute or climbs above it is `EPERM`, as the Unix system answers escapes. More
    /// than 40 symlinks is `ELOOP`, a path of 4,096 bytes or more `ENAMETOOLONG`, a missing
    /// name `ENOENT`, a file where a directory is needed `ENOTDIR`.
    pub(crate) fn resolve(&self, start: Ino, path: &str, follow: bool) -> Result<Ino, Errno> {
        if path.len() >= PATH_MAX {
            return Err(Errno::Nametoolong);
        }
        if path.is_empty() {
            return Err(Errno::Noent);
        }
        if path.starts_with('/') {
            return Err(Errno::Perm);
        }
        // The directories from `start` down to where the walk is, and the components left,
        // the next one last.
        let mut dirs = vec![start];
        let mut todo: Vec<&str> = path.split('/').rev().collect();
        let mut links = 0;
        let mut found = None;
        while let Some(name) = todo.pop() {
            let here = *dirs.last().expect("never empty");
            found = None;
            match name {
                "" | "." => {}
                ".." => {
                    if dirs.len() == 1 {
                        return Err(Errno::Perm);
                    }
                    dirs.pop();
                }
                name => {
                    let ino = *self.children(here)?.get(name).ok_or(Errno::Noent)?;
                    match &self.node(ino).kind {
                        Kind::Symlink(target) if follow || !todo.is_empty() => {
                            links += 1;
                            if links > MAX_LINKS {
                                return Err(Errno::Loop);
                            }
                            if target.starts_with('/') {
                                return Err(Errno::Perm);
                            }
                            todo.extend(target.split('/').rev());
                        }
                        Kind::Dir { .. } => dirs.push(ino),
                        _ if !todo.is_empty() => return Err(Errno::Notdir),
                        _ => found = Some(ino),
                    }
                }
            }
        }
        Ok(found.unwrap_or(*dirs.last().expect("never empty")))
    }

    /// The directory `path`'s last component is in, resolved as [`resolve`](Self::resolve)
    /// does, and that component (trailing slashes taken off). `.` and `..` as the last
    /// component are `EINVAL`: no call that names an entry may name those.
    pub(crate) fn resolve_parent<'p>(
        &self,
        start: Ino,
        path: &'p str,
    ) -> Result<(Ino, &'p str), Errno> {
        if path.len() >= PATH_MAX {
            return Err(Errno::Nametoolong);
        }
        let trimmed = path.trim_end_matches('/');
        if trimmed.is_empty() {
            return Err(if path.is_empty() {
                Errno::Noent
            } else {
                Errno::Perm
            });
        }
        let (dir, name) = match trimmed.rfind('/') {
            Some(at) => {
                let dir = self.resolve(start, &trimmed[..=at], true)?;
                (dir, &trimmed[at + 1..])
            }
            None => (start, trimmed),
        };
        self.children(dir)?;
        if name == "." || name == ".." {
            return Err(Errno::Inval);
        }
        Ok((dir, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(t: &mut Tree, dir: Ino, name: &str) -> Ino {
        t.add(dir, name, Node::new(Kind::File(b"x".to_vec()), 0))
            .unwrap()
    }

    fn dir(t: &mut Tree, at: Ino, name: &str) -> Ino {
        let kind = Kind::Dir {
            children: BTreeMap::new(),
            parent: at,
        };
        t.add(at, name, Node::new(kind, 0)).unwrap()
    }

    fn link(t: &mut Tree, at: Ino, name: &str, target: &str) {
        t.add(at, name, Node::new(Kind::Symlink(target.into()), 0))
            .unwrap();
    }

    #[test]
    fn paths_resolve_and_never_climb_out() {
        let mut t = Tree::new(1 << 20);
        let a = dir(&mut t, ROOT, "a");
        let f = file(&mut t, a, "f");
        link(&mut t, ROOT, "up", "..");
        link(&mut t, a, "back", "../a/f");
        link(&mut t, a, "abs", "/etc/passwd");
        link(&mut t, a, "far", "../../x");
        link(&mut t, ROOT, "loop", "loop");
        assert_eq!(t.resolve(ROOT, "a/f", false), Ok(f));
        assert_eq!(t.resolve(ROOT, "a/./f", false), Ok(f));
        assert_eq!(t.resolve(ROOT, "a/back", true), Ok(f));
        assert_eq!(t.resolve(ROOT, "a/..", true), Ok(ROOT));
        assert_eq!(t.resolve(ROOT, "..", true), Err(Errno::Perm));
        assert_eq!(t.resolve(ROOT, "a/../..", true), Err(Errno::Perm));
        assert_eq!(t.resolve(ROOT, "/a", true), Err(Errno::Perm));
        assert_eq!(t.resolve(ROOT, "up/a", true), Err(Errno::Perm));
        assert_eq!(t.resolve(ROOT, "a/abs", true), Err(Errno::Perm));
        assert_eq!(t.resolve(ROOT, "a/far", true), Err(Errno::Perm));
        assert_eq!(t.resolve(a, "..", true), Err(Errno::Perm));
        assert_eq!(t.resolve(ROOT, "loop", true), Err(Errno::Loop));
        assert_eq!(t.resolve(ROOT, "a/f/g", true), Err(Errno::Notdir));
        assert_eq!(t.resolve(ROOT, "nope", true), Err(Errno::Noent));
        // Not followed in the last position: the symlink itself.
        assert_ne!(t.resolve(ROOT, "a/abs", false), Err(Errno::Perm));
        assert_eq!(t.resolve_parent(ROOT, "a/new/"), Ok((a, "new")));
        assert_eq!(t.resolve_parent(ROOT, "a/.."), Err(Errno::Inval));
    }

    #[test]
    fn the_cap_is_enospc_and_freed_bytes_come_back() {
        let mut t = Tree::new(NODE_COST * 3);
        file(&mut t, ROOT, "a");
        assert_eq!(
            t.add(ROOT, "b", Node::new(Kind::File(vec![0; NODE_COST]), 0))
                .err(),
            Some(Errno::Nospc)
        );
        t.unlink(ROOT, "a").unwrap();
        assert_eq!(t.bytes, NODE_COST);
        file(&mut t, ROOT, "c");
    }

    #[test]
    fn renames_follow_rename_2() {
        let mut t = Tree::new(1 << 20);
        let a = dir(&mut t, ROOT, "a");
        let b = dir(&mut t, a, "b");
        file(&mut t, ROOT, "f");
        assert_eq!(t.rename(ROOT, "a", b, "a"), Err(Errno::Inval));
        assert_eq!(t.rename(ROOT, "f", ROOT, "a"), Err(Errno::Isdir));
        assert_eq!(t.rename(a, "b", ROOT, "f"), Err(Errno::Notdir));
        t.rename(ROOT, "f", b, "g").unwrap();
        assert!(t.children(b).unwrap().contains_key("g"));
        t.rename(a, "b", ROOT, "b").unwrap();
        assert_eq!(t.parent(b), ROOT);
    }
}
