//! Filling a [`Tree`] from a tar archive or a host directory.

use super::tree::{Ino, Kind, Node, ROOT, Tree};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use wasirun_wasi::{Errno, Timestamp};

/// Why a tree could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The archive or directory could not be read, or is no tar archive.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The host path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An entry's name leads out of the tree (`..`) or is not UTF-8.
    #[error("{path}: entry {entry:?} {why}")]
    Entry {
        /// The host path of the archive or directory.
        path: PathBuf,
        /// The entry's name.
        entry: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The tree is larger than the cap ([`MemFs::with_max_bytes`](super::MemFs::with_max_bytes)).
    #[error("{path}: larger than the {max} bytes a mount may hold")]
    TooLarge {
        /// The host path.
        path: PathBuf,
        /// The cap.
        max: usize,
    },
}

/// Nanoseconds since the epoch, from seconds.
fn nanos(secs: u64) -> Timestamp {
    secs.saturating_mul(1_000_000_000)
}

impl Tree {
    /// The tree a tar archive holds, at most `max_bytes` of it. Regular files, directories,
    /// symlinks (targets as written: the resolver never follows them out) and hard links to
    /// entries before them are kept; other entries (devices, FIFOs) are left out. Parent
    /// directories an archive does not list are made. A name with `..`, or not UTF-8, is an
    /// error, as is a damaged archive.
    pub fn from_tar(path: &Path, max_bytes: usize) -> Result<Tree, LoadError> {
        let read = |source| LoadError::Read {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read)?;
        let mut archive = tar::Archive::new(std::io::BufReader::new(file));
        let mut tree = Tree::new(max_bytes);
        let too_large = || LoadError::TooLarge {
            path: path.to_path_buf(),
            max: max_bytes,
        };
        for entry in archive.entries().map_err(read)? {
            let mut entry = entry.map_err(read)?;
            let name = entry.path().map_err(read)?.into_owned();
            let bad = |why| LoadError::Entry {
                path: path.to_path_buf(),
                entry: name.display().to_string(),
                why,
            };
            let failed = |e: Errno| match e {
                Errno::Nospc => too_large(),
                e => bad(describe(e)),
            };
            let names = components(&name).ok_or_else(|| bad("leads out of the archive"))?;
            let mtim = nanos(entry.header().mtime().unwrap_or(0));
            let kind = entry.header().entry_type();
            let Some((last, dirs)) = names.split_last() else {
                continue;
            };
            let dir = tree.make_dirs(dirs, mtim).map_err(failed)?;
            let node = if kind.is_dir() {
                tree.make_dirs(&names, mtim).map_err(failed)?;
                continue;
            } else if kind.is_symlink() {
                let target = entry
                    .link_name()
                    .map_err(read)?
                    .ok_or_else(|| bad("is a symlink without a target"))?;
                let target = target
                    .to_str()
                    .ok_or_else(|| bad("links to a name not UTF-8"))?;
                Kind::Symlink(target.into())
            } else if kind.is_hard_link() {
                let target = entry
                    .link_name()
                    .map_err(read)?
                    .ok_or_else(|| bad("is a hard link without a target"))?;
                let target = components(&target).ok_or_else(|| bad("links out of the archive"))?;
                let ino = tree
                    .resolve(ROOT, &target.join("/"), false)
                    .map_err(|_| bad("links to an entry not before it"))?;
                tree.link(dir, last, ino).map_err(failed)?;
                continue;
            } else if kind.is_file() || kind == tar::EntryType::Continuous {
                let size = usize::try_from(entry.size()).map_err(|_| too_large())?;
                tree.charge(size).map_err(|_| too_large())?;
                let mut data = Vec::with_capacity(size);
                entry.read_to_end(&mut data).map_err(read)?;
                tree.refund(size);
                Kind::File(data)
            } else {
                continue;
            };
            tree.add(dir, last, Node::new(node, mtim)).map_err(failed)?;
        }
        Ok(tree)
    }

    /// The directory `names` leads to from the root, made where missing.
    fn make_dirs(&mut self, names: &[&str], mtim: Timestamp) -> Result<Ino, Errno> {
        let mut dir = ROOT;
        for name in names {
            dir = match self.children(dir)?.get(*name) {
                Some(&ino) => {
                    self.children(ino)?;
                    ino
                }
                None => {
                    let kind = Kind::Dir {
                        children: BTreeMap::new(),
                        parent: dir,
                    };
                    self.add(dir, name, Node::new(kind, mtim))?
                }
            };
        }
        Ok(dir)
    }
}

/// The names of a relative path (`./` and a leading `/` taken off), or `None` when it climbs
/// with `..` or is not UTF-8.
fn components(path: &Path) -> Option<Vec<&str>> {
    let mut names = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(name) => names.push(name.to_str()?),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(names)
}

/// Why an entry could not be added, in words.
fn describe(e: Errno) -> &'static str {
    match e {
        Errno::Exist => "is there twice",
        Errno::Notdir => "is beneath a name that is no directory",
        _ => "cannot be added",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An archive of `entries` (name, data or symlink target, whether a symlink) in a temp file.
    pub(crate) fn archive(name: &str, entries: &[(&str, &str, bool)]) -> PathBuf {
        let path = std::env::temp_dir().join(format!("wasirun-{}-{name}.tar", std::process::id()));
        let mut b = tar::Builder::new(std::fs::File::create(&path).unwrap());
        for (name, data, symlink) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_mode(0o644);
            if *symlink {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                b.append_link(&mut h, name, data).unwrap();
            } else {
                h.set_size(data.len() as u64);
                b.append_data(&mut h, name, data.as_bytes()).unwrap();
            }
        }
        b.finish().unwrap();
        path
    }

    #[test]
    fn a_tar_loads_with_its_directories_and_symlinks() {
        let path = archive(
            "load",
            &[("a/b/c.txt", "hello", false), ("a/l", "b/c.txt", true)],
        );
        let tree = Tree::from_tar(&path, 1 << 20).unwrap();
        let c = tree.resolve(ROOT, "a/l", true).unwrap();
        assert!(matches!(&tree.node(c).kind, Kind::File(d) if d == b"hello"));
        assert!(matches!(
            Tree::from_tar(&path, 100),
            Err(LoadError::TooLarge { .. })
        ));
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn not_an_archive_is_an_error() {
        let path = std::env::temp_dir().join(format!("wasirun-{}-bad.tar", std::process::id()));
        std::fs::write(&path, vec![7u8; 1024]).unwrap();
        assert!(matches!(
            Tree::from_tar(&path, 1 << 20),
            Err(LoadError::Read { .. })
        ));
        std::fs::remove_file(path).unwrap();
    }
}
