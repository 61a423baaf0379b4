//! Target `resolver`: the sandbox's path resolver (`wasirun_unix::fuzzing`, both
//! `openat2(RESOLVE_BENEATH)` and the walk in user space) on arbitrary byte paths, over a tree
//! whose shape the input gives too: directories, files, and symlinks with relative, absolute,
//! `..`-climbing, dangling and looping targets.
//!
//! An input is the tree, then the paths:
//!
//! - a byte: how many nodes (`% (MAX_NODES + 1)`), then for each a byte (`% 4`: directory,
//!   file, symlink, symlink; `>> 2`: the name), a byte for the parent directory (among those
//!   made so far), and for a symlink its target, a [`path`];
//! - then up to [`MAX_PATHS`] times: a [`path`] and a byte for the open flags (low bits),
//!   `follow` for `open` (`0x80`) and for `target` (`0x40`).
//!
//! For each path, both resolvers must give the same answer for `open`, `parent` and `target`
//! (the same inode, or the same errno; for a file `O_CREAT` made, the same name, the file
//! removed before the other resolver tries), and whatever they open must be beneath the root:
//! its device and inode among those in the tree, or its `/proc/self/fd` name below the root.
//! Nothing beside the root may change.

use super::input::Input;
use super::tree::{Scratch, clear, snapshot};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{Mode, OFlags};
use std::collections::HashSet;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};
use wasirun_unix::fuzzing::{self, Resolver};
use wasirun_wasi::Errno;

/// The most nodes a tree has.
pub const MAX_NODES: usize = 24;

/// The most paths one input resolves.
pub const MAX_PATHS: usize = 64;

/// The names nodes get.
const NAMES: &[&str] = &["a", "b", "c", "l", "m", "x.y"];

/// The components token paths are made of; `OUT` stands for the scratch directory's absolute
/// path (without its leading `/`), so that absolute targets can name the tree beside the root,
/// and the root itself from outside.
const TOKENS: &[&str] = &[
    "..", ".", "a", "b", "c", "l", "m", "x.y", "", "OUT", "out", "root", "f",
];

/// The open flags tried.
const FLAGS: &[OFlags] = &[
    OFlags::RDONLY,
    OFlags::DIRECTORY,
    OFlags::PATH,
    OFlags::PATH.union(OFlags::DIRECTORY),
    OFlags::WRONLY,
    OFlags::RDWR,
    OFlags::WRONLY.union(OFlags::CREATE),
    OFlags::WRONLY.union(OFlags::CREATE).union(OFlags::EXCL),
];

/// The scratch tree (`root/`, the resolver's root, and `out/` beside it), reused by every
/// input.
pub struct Harness {
    scratch: Scratch,
    root: PathBuf,
    outside: Vec<(PathBuf, String)>,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// Makes the scratch tree.
    pub fn new() -> Self {
        let scratch = Scratch::new("resolver");
        let root = scratch.path.join("root");
        std::fs::create_dir(&root).expect("mkdir root");
        let out = scratch.path.join("out");
        std::fs::create_dir_all(out.join("a")).expect("mkdir");
        std::fs::write(out.join("f"), b"outside").expect("write");
        let mut harness = Harness {
            scratch,
            root,
            outside: Vec::new(),
        };
        harness.outside = harness.outside();
        harness
    }

    /// Builds the input's tree and resolves its paths; panics on a broken invariant.
    pub fn run(&self, data: &[u8]) {
        clear(&self.root);
        let mut input = Input::new(data);
        self.build(&mut input);
        let root = rustix::fs::open(
            &self.root,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .expect("open root");
        let check = Check {
            root: root.as_fd(),
            prefix: format!("{}/", self.root.display()),
            inodes: inodes(&self.root),
        };
        for _ in 0..MAX_PATHS {
            if input.is_empty() {
                break;
            }
            let path = path(&mut input, &self.scratch.path);
            let byte = input.u8();
            let flags = FLAGS[usize::from(byte) % FLAGS.len()];
            check.open(&path, flags, byte & 0x80 != 0);
            if let Ok(path) = std::str::from_utf8(&path) {
                check.at(path, byte & 0x40 != 0);
            }
        }
        assert!(self.outside == self.outside(), "the tree outside changed");
    }

    /// Makes the nodes the input describes.
    fn build(&self, input: &mut Input<'_>) {
        let count = usize::from(input.u8()) % (MAX_NODES + 1);
        let mut dirs = vec![PathBuf::new()];
        for _ in 0..count {
            let byte = input.u8();
            let parent = &dirs[usize::from(input.u8()) % dirs.len()];
            let rel = parent.join(NAMES[usize::from(byte >> 2) % NAMES.len()]);
            let host = self.root.join(&rel);
            if std::fs::symlink_metadata(&host).is_ok() {
                continue;
            }
            match byte % 4 {
                0 => {
                    std::fs::create_dir(&host).expect("mkdir");
                    dirs.push(rel);
                }
                1 => std::fs::write(&host, b"file").expect("write"),
                _ => {
                    let target = path(input, &self.scratch.path);
                    // A target with a NUL byte cannot be made; anything else is.
                    let _ = symlink(OsStr::from_bytes(&target), &host);
                }
            }
        }
    }

    fn outside(&self) -> Vec<(PathBuf, String)> {
        let mut all = snapshot(&self.scratch.path);
        all.retain(|(path, _)| !path.starts_with("root"));
        all
    }
}

/// A path from the input: raw bytes when the first byte's top bit is set (its low 6 bits the
/// length), tokens otherwise (its low 3 bits their count; `0x40`: absolute; `0x20`: a trailing
/// slash; a token byte's top bit doubles the slash before it).
fn path(input: &mut Input<'_>, scratch: &Path) -> Vec<u8> {
    let mode = input.u8();
    if mode & 0x80 != 0 {
        return input.bytes(usize::from(mode & 0x3f)).to_vec();
    }
    let mut out = Vec::new();
    for i in 0..mode & 7 {
        let t = input.u8();
        if i > 0 || mode & 0x40 != 0 {
            out.push(b'/');
            if t & 0x80 != 0 {
                out.push(b'/');
            }
        }
        match TOKENS[usize::from(t & 0x7f) % TOKENS.len()] {
            "OUT" => out.extend_from_slice(&scratch.as_os_str().as_bytes()[1..]),
            token => out.extend_from_slice(token.as_bytes()),
        }
    }
    if mode & 0x20 != 0 {
        out.push(b'/');
    }
    out
}

/// The devices and inodes of everything in the tree below `root`, `root` included, symlinks
/// not followed.
fn inodes(root: &Path) -> HashSet<(u64, u64)> {
    let mut out = HashSet::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(path) = todo.pop() {
        let m = std::fs::symlink_metadata(&path).expect("stat");
        out.insert((m.dev(), m.ino()));
        if m.is_dir() {
            for entry in std::fs::read_dir(&path).expect("read_dir") {
                todo.push(entry.expect("entry").path());
            }
        }
    }
    out
}

/// What a resolver opened: something in the tree (device and inode), or a file it made.
#[derive(Debug, PartialEq, Eq)]
enum Got {
    Existing(u64, u64),
    Created(PathBuf),
}

/// What every answer must satisfy.
struct Check<'r> {
    root: BorrowedFd<'r>,
    /// The root's host path and a slash: what `/proc/self/fd` names of files beneath start with.
    prefix: String,
    inodes: HashSet<(u64, u64)>,
}

impl Check<'_> {
    fn open(&self, path: &[u8], flags: OFlags, follow: bool) {
        let auto = fuzzing::open(self.root, path, flags, follow, Resolver::Auto);
        let auto = self.opened(path, auto);
        let walk = fuzzing::open(self.root, path, flags, follow, Resolver::Walk);
        let walk = self.opened(path, walk);
        assert_eq!(
            auto,
            walk,
            "open {:?} {flags:?} follow={follow}: openat2 and the walk disagree",
            OsStr::from_bytes(path)
        );
    }

    fn at(&self, path: &str, follow: bool) {
        let auto = fuzzing::parent(self.root, path, Resolver::Auto);
        let auto = self.at_dir(path, auto);
        let walk = fuzzing::parent(self.root, path, Resolver::Walk);
        let walk = self.at_dir(path, walk);
        assert_eq!(auto, walk, "parent {path:?}: openat2 and the walk disagree");
        let auto = fuzzing::target(self.root, path, follow, Resolver::Auto);
        let auto = self.at_dir(path, auto);
        let walk = fuzzing::target(self.root, path, follow, Resolver::Walk);
        let walk = self.at_dir(path, walk);
        assert_eq!(
            auto, walk,
            "target {path:?} follow={follow}: openat2 and the walk disagree"
        );
    }

    fn at_dir(
        &self,
        path: &str,
        at: Result<(OwnedFd, Vec<u8>), Errno>,
    ) -> Result<(Got, Vec<u8>), Errno> {
        let (dir, name) = at?;
        let id = self.opened(path.as_bytes(), Ok(dir))?;
        Ok((id, name))
    }

    /// What was opened, which must be beneath the root. A file made by `O_CREAT` is removed, so
    /// that the other resolver meets the same tree.
    fn opened(&self, path: &[u8], fd: Result<OwnedFd, Errno>) -> Result<Got, Errno> {
        let fd = fd?;
        let st = rustix::fs::fstat(&fd).expect("fstat");
        if self.inodes.contains(&(st.st_dev, st.st_ino)) {
            return Ok(Got::Existing(st.st_dev, st.st_ino));
        }
        let link = format!("/proc/self/fd/{}", rustix::fd::AsRawFd::as_raw_fd(&fd));
        let name = std::fs::read_link(&link).expect("readlink /proc/self/fd");
        assert!(
            name.as_os_str()
                .as_bytes()
                .starts_with(self.prefix.as_bytes()),
            "{:?} opened {} outside the root",
            OsStr::from_bytes(path),
            name.display()
        );
        std::fs::remove_file(&name).expect("remove a file O_CREAT made");
        Ok(Got::Created(name))
    }
}
