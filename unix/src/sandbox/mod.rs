//! The sandbox: the one resolver every guest path goes through.
//!
//! No path leaves the directory it starts from: not by `..`, not by an absolute path, not
//! through a symlink, not through a race with another process renaming things. Escapes fail with
//! [`ESCAPE`] (`EPERM`, as in wasmtime, where cap-std reports them as "permission denied").
//!
//! Two resolvers prove it ([`Resolver`]), with the same answers (a test compares them path by
//! path):
//!
//! - `openat2.rs`: the kernel's `openat2(RESOLVE_BENEATH)`, on Linux 5.6 and later.
//! - `walk.rs`: a walk in user space, component by component with `O_NOFOLLOW`, for kernels
//!   without it, and the only resolver on macOS and FreeBSD.
//!
//! The directories they pass through are held as handles that only look names up (`O_PATH`
//! where there is one: `handle.rs`).
//!
//! Operations on a path's last component (unlink, rmdir, rename, link, symlink, readlink,
//! mkdir, stat, utimensat) resolve its parent here and act with an `*at` call on a single name,
//! with `AT_SYMLINK_NOFOLLOW` where the call would otherwise follow: see [`parent`] and
//! [`target`]. A symlink whose target is absolute is never followed (`EPERM`), since following
//! it would leave the sandbox (`path_symlink` refuses to make one, too).

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno as E;
use std::borrow::Cow;
use std::mem::MaybeUninit;
use wasirun_wasi::Errno;

mod handle;
#[cfg(target_os = "linux")]
mod openat2;
mod walk;

/// The errno of a path that would leave the sandbox.
pub(crate) const ESCAPE: Errno = Errno::Perm;

/// How many symlinks one resolution may expand before it gives up with `ELOOP`, as Linux's
/// `MAXSYMLINKS`.
pub(crate) const MAX_SYMLINKS: usize = 40;

/// The mode of files `path_open` creates, before the umask: the usual `0666`.
const CREATE_MODE: Mode = Mode::from_bits_truncate(0o666);

/// How paths are resolved beneath a directory. Both give the same answers; the walk exists for
/// kernels without `openat2` and is selectable so that tests cover it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Resolver {
    /// `openat2(RESOLVE_BENEATH)` where the kernel has it, the walk where it does not (`ENOSYS`,
    /// or `EPERM` from a seccomp filter that hides it).
    #[default]
    Auto,
    /// Always the component-by-component walk.
    Walk,
}

/// Opens `path` beneath `root` with `flags` (`O_CLOEXEC` added), following a symlink in the
/// last position only when `follow` says so. Symlinks in other positions are always followed,
/// as POSIX does, and a trailing slash follows too (Linux's rule: "link/" names the directory
/// the link points to).
pub(crate) fn open(
    root: BorrowedFd<'_>,
    path: &[u8],
    flags: OFlags,
    follow: bool,
    how: Resolver,
) -> Result<OwnedFd, Errno> {
    check(path)?;
    let flags = flags | OFlags::CLOEXEC;
    #[cfg(target_os = "linux")]
    if how == Resolver::Auto
        && let Some(result) = openat2::beneath(root, path, flags, follow)
    {
        return result;
    }
    // Elsewhere there is only the walk.
    let _ = how;
    walk::walk(root, path, flags, follow)
}

/// Opens the directory `path` beneath `root` as a handle for `*at` calls (`O_PATH`, or what
/// the system has instead: see `handle.rs`).
pub(crate) fn open_dir(root: BorrowedFd<'_>, path: &[u8], how: Resolver) -> Result<OwnedFd, Errno> {
    open(root, path, handle::DIR, true, how)
}

/// Where a path operation acts: a directory and one name in it. The name holds no `/`, except
/// maybe trailing ones, which the `*at` calls that use [`parent`] handle as Linux does without
/// following anything.
pub(crate) struct At<'a> {
    dir: Dir<'a>,
    name: Cow<'a, [u8]>,
}

enum Dir<'a> {
    Root(BorrowedFd<'a>),
    Opened(OwnedFd),
}

impl Dir<'_> {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Dir::Root(fd) => *fd,
            Dir::Opened(fd) => fd.as_fd(),
        }
    }
}

impl At<'_> {
    /// The directory.
    pub fn dir(&self) -> BorrowedFd<'_> {
        self.dir.fd()
    }

    /// The name in it.
    pub fn name(&self) -> &[u8] {
        &self.name
    }

    /// For a name about to be made (the new name of `symlink` or `link`): with a trailing
    /// slash, a name that exists and is no directory is `ENOTDIR`, as POSIX path resolution
    /// says of a trailing slash after a non-directory and as wasmtime answers. Linux's
    /// `symlinkat` and `linkat` say `EEXIST` there. Anything else is left to the kernel: a
    /// name that does not exist is its `ENOENT`, a directory its `EEXIST`, and a symlink is
    /// not looked through.
    pub fn refuse_slash_after_file(&self) -> Result<(), Errno> {
        let bare = self.name.len() - self.name.iter().rev().take_while(|&&b| b == b'/').count();
        if bare == self.name.len() || bare == 0 {
            return Ok(());
        }
        let flags = rustix::fs::AtFlags::SYMLINK_NOFOLLOW;
        match rustix::fs::statat(self.dir(), &self.name[..bare], flags) {
            Ok(st) => match rustix::fs::FileType::from_raw_mode(st.st_mode) {
                rustix::fs::FileType::Directory | rustix::fs::FileType::Symlink => Ok(()),
                _ => Err(Errno::Notdir),
            },
            Err(_) => Ok(()),
        }
    }
}

/// Resolves `path` for an operation on its last component itself, which it never follows:
/// `mkdir`, `unlink`, `rmdir`, `rename`, `symlink`, the new name of `link`.
///
/// A last component `.` or `..` is resolved as a whole (so `a/..` cannot name the parent of
/// the sandbox) and acted on as `.` in it, which the kernel refuses as it refuses `..`
/// (`EEXIST`, `EBUSY`, `EISDIR`...).
pub(crate) fn parent<'a>(
    root: BorrowedFd<'a>,
    path: &'a str,
    how: Resolver,
) -> Result<At<'a>, Errno> {
    let path = path.as_bytes();
    let split = Split::new(path)?;
    if split.is_dots() {
        return whole_dir(root, path, how);
    }
    Ok(At {
        dir: split.parent_dir(root, how)?,
        name: Cow::Borrowed(split.with_slashes),
    })
}

/// Resolves `path` for an operation that looks at what it names: `stat`, `utimensat`,
/// `readlink`, the old name of `link`. With `follow`, a symlink in the last position is
/// followed, here rather than by the kernel, so that the name handed back is not a symlink
/// (callers then pass `AT_SYMLINK_NOFOLLOW`: a symlink swapped in meanwhile is acted on
/// itself, inside the sandbox).
///
/// A last component `.` or `..`, or one with a trailing slash (which makes the kernel follow
/// it), names a directory: that is resolved as a whole and acted on as `.`.
pub(crate) fn target<'a>(
    root: BorrowedFd<'a>,
    path: &'a str,
    follow: bool,
    how: Resolver,
) -> Result<At<'a>, Errno> {
    let mut path = Cow::Borrowed(path.as_bytes());
    for _ in 0..=MAX_SYMLINKS {
        let split = Split::new(&path)?;
        if split.is_dots() || split.trailing {
            return whole_dir(root, &path, how);
        }
        let dir = split.parent_dir(root, how)?;
        let mut buf = [MaybeUninit::uninit(); LINK_MAX];
        let link = match follow {
            true => read_link(dir.fd(), split.name, &mut buf)?,
            false => None,
        };
        let Some(link) = link else {
            let range = split.name_range();
            let name = match path {
                Cow::Borrowed(p) => Cow::Borrowed(&p[range]),
                Cow::Owned(p) => Cow::Owned(p[range].to_vec()),
            };
            return Ok(At { dir, name });
        };
        // A symlink: its target is relative to the parent, so resolve parent/target from the
        // root again. An absolute target is an escape, an empty one names nothing.
        check(link)?;
        let mut next = split.parent.to_vec();
        next.extend_from_slice(link);
        path = Cow::Owned(next);
    }
    Err(Errno::Loop)
}

/// How many levels `dir` (a directory [`parent`] resolved beneath `root`) is below `root`,
/// found by going up through `..` until `root`'s device and inode: the real depth, whatever
/// symlinks the path to `dir` went through. A `dir` that never meets `root` (moved out by
/// another process meanwhile) is [`ESCAPE`].
pub(crate) fn depth(root: BorrowedFd<'_>, dir: BorrowedFd<'_>) -> Result<usize, Errno> {
    let id = |fd: BorrowedFd<'_>| rustix::fs::fstat(fd).map(|st| (st.st_dev, st.st_ino));
    let root_id = id(root)?;
    let mut current = id(dir)?;
    let mut up: Option<OwnedFd> = None;
    for depth in 0..=MAX_DEPTH {
        if current == root_id {
            return Ok(depth);
        }
        let from = up.as_ref().map_or(dir, |fd| fd.as_fd());
        let parent = rustix::fs::openat(from, "..", handle::DIR | OFlags::CLOEXEC, Mode::empty())?;
        let parent_id = id(parent.as_fd())?;
        if parent_id == current {
            // The file system's root, and `root` was not on the way.
            return Err(ESCAPE);
        }
        current = parent_id;
        up = Some(parent);
    }
    Err(ESCAPE)
}

/// The deepest directory [`depth`] climbs from: a directory one path of `PATH_MAX` (4096)
/// bytes reaches is at most 2048 levels down. Deeper ones (reached by opening directory after
/// directory) are refused, which keeps the walk bounded.
const MAX_DEPTH: usize = 2048;

/// `path` as a directory, acted on as `.`.
fn whole_dir<'a>(root: BorrowedFd<'a>, path: &[u8], how: Resolver) -> Result<At<'a>, Errno> {
    Ok(At {
        dir: Dir::Opened(open_dir(root, path, how)?),
        name: Cow::Borrowed(b"."),
    })
}

/// The longest path the kernel takes, its NUL included (Linux's `PATH_MAX`): a guest path of
/// this many bytes or more is `ENAMETOOLONG` before anything copies it, so that no guest
/// length sizes a host allocation (a path beyond the 255 bytes rustix keeps on the stack is
/// copied to the heap to add its NUL).
pub(crate) const PATH_MAX: usize = 4096;

/// Refuses a path too long for the kernel ([`PATH_MAX`]: `ENAMETOOLONG`, as the kernel would).
pub(crate) fn check_len(path: &[u8]) -> Result<(), Errno> {
    if path.len() >= PATH_MAX {
        return Err(Errno::Nametoolong);
    }
    Ok(())
}

/// Refuses what no resolution can start: a path too long ([`check_len`]), the empty path
/// (`ENOENT`, as POSIX), absolute paths ([`ESCAPE`]) and paths with a NUL byte, which no
/// system call takes (`EINVAL`, before any component is looked up: `openat2` refuses the whole
/// path so, and the walk must answer the same even when a component before the NUL is
/// missing).
fn check(path: &[u8]) -> Result<(), Errno> {
    check_len(path)?;
    match path.first() {
        None => Err(Errno::Noent),
        Some(b'/') => Err(ESCAPE),
        Some(_) if path.contains(&0) => Err(Errno::Inval),
        Some(_) => Ok(()),
    }
}

/// A path cut before its last component.
struct Split<'p> {
    /// Everything before the last component (maybe empty, maybe with trailing slashes).
    parent: &'p [u8],
    /// The last component, without slashes.
    name: &'p [u8],
    /// The last component and the slashes after it.
    with_slashes: &'p [u8],
    /// Whether slashes follow the last component.
    trailing: bool,
    /// Where `name` starts.
    at: usize,
}

impl<'p> Split<'p> {
    fn new(path: &'p [u8]) -> Result<Self, Errno> {
        check(path)?;
        let end = path.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
        let body = &path[..end];
        let at = body.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
        Ok(Split {
            parent: &path[..at],
            name: &path[at..end],
            with_slashes: &path[at..],
            trailing: end < path.len(),
            at,
        })
    }

    fn name_range(&self) -> std::ops::Range<usize> {
        self.at..self.at + self.name.len()
    }

    fn is_dots(&self) -> bool {
        self.name == b"." || self.name == b".."
    }

    fn parent_dir<'a>(&self, root: BorrowedFd<'a>, how: Resolver) -> Result<Dir<'a>, Errno> {
        if self.parent.is_empty() {
            Ok(Dir::Root(root))
        } else {
            Ok(Dir::Opened(open_dir(root, self.parent, how)?))
        }
    }
}

/// The longest symlink target read: [`PATH_MAX`].
pub(super) const LINK_MAX: usize = PATH_MAX;

/// The target of `name` in `dir` if it is a symlink, `None` if it is something else.
pub(super) fn read_link<'b>(
    dir: BorrowedFd<'_>,
    name: &[u8],
    buf: &'b mut [MaybeUninit<u8>; LINK_MAX],
) -> Result<Option<&'b [u8]>, Errno> {
    match rustix::fs::readlinkat_raw(dir, name, &mut buf[..]) {
        Ok((target, _)) if target.len() == LINK_MAX => Err(Errno::Nametoolong),
        Ok((target, _)) => Ok(Some(target)),
        Err(E::INVAL) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The mode for an open with these flags: `openat2` insists on 0 unless it may create.
pub(super) fn create_mode(flags: OFlags) -> Mode {
    if flags.contains(OFlags::CREATE) {
        CREATE_MODE
    } else {
        Mode::empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn split() {
        let s = Split::new(b"a/b//").unwrap();
        assert_eq!(
            (s.parent, s.name, s.with_slashes, s.trailing),
            (&b"a/"[..], &b"b"[..], &b"b//"[..], true)
        );
        let s = Split::new(b"b").unwrap();
        assert_eq!((s.parent, s.name, s.trailing), (&b""[..], &b"b"[..], false));
        let s = Split::new(b"x//y").unwrap();
        assert_eq!((s.parent, s.name), (&b"x//"[..], &b"y"[..]));
        assert!(Split::new(b"a/..").unwrap().is_dots());
        assert_eq!(Split::new(b"").err(), Some(Errno::Noent));
        assert_eq!(Split::new(b"/a").err(), Some(ESCAPE));
        let long = vec![b'a'; PATH_MAX];
        assert_eq!(Split::new(&long).err(), Some(Errno::Nametoolong));
        assert!(Split::new(&long[1..]).is_ok());
    }

    /// A tree with every kind of step a resolver meets.
    fn fixture(test: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("wasirun-sandbox-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let root = dir.join("root");
        std::fs::create_dir_all(root.join("a/b/c")).unwrap();
        std::fs::write(root.join("f"), b"f").unwrap();
        std::fs::write(root.join("a/b/g"), b"g").unwrap();
        std::fs::write(dir.join("outside"), b"x").unwrap();
        symlink("f", root.join("lf")).unwrap();
        symlink("a/b", root.join("lab")).unwrap();
        symlink("../..", root.join("a/b/up2")).unwrap();
        symlink("../../..", root.join("a/b/up3")).unwrap();
        symlink("/", root.join("abs")).unwrap();
        symlink("missing", root.join("dangling")).unwrap();
        symlink("lf", root.join("llf")).unwrap();
        symlink("x1", root.join("x2")).unwrap();
        symlink("x2", root.join("x1")).unwrap();
        symlink("", root.join("empty")).unwrap_or(());
        dir
    }

    const PATHS: &[&str] = &[
        "f",
        "f/",
        "f/.",
        "f/x",
        "a",
        "a/",
        "a/.",
        "a/..",
        "a/../f",
        "a/b/c/../../..",
        "a/b/c/../../../..",
        ".",
        "./",
        "..",
        "../root",
        "lf",
        "lf/",
        "lab",
        "lab/",
        "lab/g",
        "lab/../f",
        "lab/../../f",
        "a/b/up2",
        "a/b/up2/f",
        "a/b/up3",
        "a/b/up3/root/f",
        "abs",
        "abs/etc",
        "dangling",
        "dangling/",
        "llf",
        "x1",
        "x1/y",
        "missing",
        "missing/",
        "a//b///g",
        "a/./b/./g",
        "a/b/g/",
        "empty",
        "empty/x",
        "/f",
        "//f",
        "",
        // Found by the resolver fuzz target: openat2 said EINVAL, the walk ENOENT.
        "missing/\0",
        "a/\0/f",
        "f\0",
    ];

    /// What an open gave: the inode opened, or the errno.
    fn outcome(r: Result<OwnedFd, Errno>) -> Result<u64, Errno> {
        r.map(|fd| rustix::fs::fstat(&fd).unwrap().st_ino as u64)
    }

    fn at_outcome(r: Result<At<'_>, Errno>) -> Result<(u64, Vec<u8>), Errno> {
        r.map(|at| {
            (
                rustix::fs::fstat(at.dir()).unwrap().st_ino as u64,
                at.name().to_vec(),
            )
        })
    }

    #[test]
    fn both_resolvers_agree() {
        let dir = fixture("agree");
        let root = rustix::fs::open(
            dir.join("root"),
            OFlags::RDONLY | OFlags::DIRECTORY,
            Mode::empty(),
        )
        .unwrap();
        let root = root.as_fd();
        let flag_sets = [
            OFlags::RDONLY,
            OFlags::RDONLY | OFlags::DIRECTORY,
            OFlags::PATH,
            OFlags::PATH | OFlags::DIRECTORY,
            OFlags::WRONLY,
        ];
        let mut compared = 0;
        for path in PATHS {
            let p = path.as_bytes();
            for flags in flag_sets {
                for follow in [false, true] {
                    let auto = outcome(open(root, p, flags, follow, Resolver::Auto));
                    let walk = outcome(open(root, p, flags, follow, Resolver::Walk));
                    assert_eq!(auto, walk, "open {path:?} {flags:?} follow={follow}");
                    compared += 1;
                }
            }
            for follow in [false, true] {
                let auto = at_outcome(target(root, path, follow, Resolver::Auto));
                let walk = at_outcome(target(root, path, follow, Resolver::Walk));
                assert_eq!(auto, walk, "target {path:?} follow={follow}");
            }
            let auto = at_outcome(parent(root, path, Resolver::Auto));
            let walk = at_outcome(parent(root, path, Resolver::Walk));
            assert_eq!(auto, walk, "parent {path:?}");
        }
        assert!(compared > 300);
        // Spot checks of what they agree on.
        let ok = |p: &str| open(root, p.as_bytes(), OFlags::RDONLY, true, Resolver::Walk);
        assert!(
            ok("lab/../../f").is_ok(),
            "lab/.. is a/, so lab/../../f is f"
        );
        assert_eq!(ok("a/b/up3").err(), Some(ESCAPE));
        assert_eq!(ok("x1").err(), Some(Errno::Loop));
        assert_eq!(ok("f/").err(), Some(Errno::Notdir));
        assert_eq!(ok("missing/\0").err(), Some(Errno::Inval));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Found by the resolver fuzz target: `O_CREAT` on "name/" is `EISDIR` whatever name is, as
    /// Linux (and so openat2) answers; the walk said `ENOTDIR` for a file, and followed symlinks.
    #[test]
    fn creating_with_a_trailing_slash_is_eisdir() {
        let dir = fixture("create");
        let root = rustix::fs::open(
            dir.join("root"),
            OFlags::RDONLY | OFlags::DIRECTORY,
            Mode::empty(),
        )
        .unwrap();
        let flags = OFlags::WRONLY | OFlags::CREATE;
        for path in [
            "f/",
            "lf/",
            "a/",
            "lab/",
            "missing/",
            "dangling/",
            "abs/",
            "x1/",
            "a/b/up3/",
        ] {
            for how in [Resolver::Auto, Resolver::Walk] {
                for follow in [false, true] {
                    let got = open(root.as_fd(), path.as_bytes(), flags, follow, how);
                    assert_eq!(got.err(), Some(Errno::Isdir), "{path} {how:?} {follow}");
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
