//! `path_open` and the other `path_*` calls, with both resolvers.

use crate::guest::{Guest, RESOLVERS, ROOT, TempDir, setup_with, wasi::*};
use std::os::unix::fs::MetadataExt;
use wasirun_wasi::Errno;

/// Runs `test` once per resolver, each with a fresh directory.
fn each(test: impl Fn(&TempDir, &mut Guest)) {
    for resolver in RESOLVERS {
        let dir = TempDir::new();
        let mut g = setup_with(&dir, |b| {
            b.resolver(resolver);
        });
        test(&dir, &mut g);
    }
}

#[test]
fn open_flags() {
    each(|dir, g| {
        std::fs::write(dir.join("f"), b"content").unwrap();
        std::fs::create_dir(dir.join("d")).unwrap();
        assert_eq!(
            g.path_open(ROOT, 0, "missing", 0, FD_READ, 0, 0),
            Err(Errno::Noent)
        );
        let fd = g.path_open(ROOT, 0, "new", O_CREAT, RW, 0, 0).unwrap();
        assert!(dir.join("new").is_file());
        g.fd_close(fd).unwrap();
        assert_eq!(
            g.path_open(ROOT, 0, "new", O_CREAT | O_EXCL, RW, 0, 0),
            Err(Errno::Exist)
        );
        g.path_open(ROOT, 0, "f", O_TRUNC, RW, 0, 0).unwrap();
        assert_eq!(std::fs::read(dir.join("f")).unwrap(), b"");
        assert_eq!(
            g.path_open(ROOT, 0, "new", O_DIRECTORY, FD_READ, 0, 0),
            Err(Errno::Notdir)
        );
        assert_eq!(
            g.path_open(ROOT, 0, "d", 0, FD_WRITE, 0, 0),
            Err(Errno::Isdir)
        );
        assert_eq!(g.path_open(ROOT, 0, "d", 0, RW, 0, 0), Err(Errno::Isdir));
        for bad in [O_CREAT, O_EXCL, O_TRUNC] {
            assert_eq!(
                g.path_open(ROOT, 0, "d", O_DIRECTORY | bad, 0, 0, 0),
                Err(Errno::Inval)
            );
        }
        assert_eq!(
            g.path_open(ROOT, 0, "new/", 0, FD_READ, 0, 0),
            Err(Errno::Notdir)
        );
        assert_eq!(
            g.path_open(ROOT, 0, "new/x", 0, FD_READ, 0, 0),
            Err(Errno::Notdir)
        );
        assert_eq!(
            g.path_open(ROOT, 0, "", 0, FD_READ, 0, 0),
            Err(Errno::Noent)
        );
        assert_eq!(
            g.path_open(ROOT, 0, "nope/", O_CREAT, RW, 0, 0),
            Err(Errno::Isdir)
        );
        // A directory opens without DIRECTORY too, and both spellings of it work.
        for path in ["d", "d/", "d/.", "./d//", "d/../d"] {
            let d = g.path_open(ROOT, 0, path, 0, FD_READ, 0, 0).unwrap();
            assert_eq!(g.fd_fdstat_get(d).unwrap().0, FILETYPE_DIRECTORY, "{path}");
        }
        let me = g.path_open(ROOT, 0, ".", O_DIRECTORY, 0, 0, 0).unwrap();
        assert_eq!(
            g.fd_filestat_get(me).unwrap().ino,
            std::fs::metadata(dir.path()).unwrap().ino()
        );
        // Opening relative to a file is ENOTDIR.
        let f = g.path_open(ROOT, 0, "f", 0, FD_READ, 0, 0).unwrap();
        assert_eq!(g.path_open(f, 0, "x", 0, FD_READ, 0, 0), Err(Errno::Notdir));
        // Opening relative to an opened subdirectory.
        let d = g.path_open(ROOT, 0, "d", O_DIRECTORY, 0, 0, 0).unwrap();
        let inner = g.path_open(d, 0, "inner", O_CREAT, RW, 0, 0).unwrap();
        g.fd_write(inner, &[b"x"]).unwrap();
        assert_eq!(std::fs::read(dir.join("d/inner")).unwrap(), b"x");
        // NUL in a path.
        assert_eq!(
            g.path_open(ROOT, 0, "f\0", 0, FD_READ, 0, 0),
            Err(Errno::Inval)
        );
    });
}

#[test]
fn open_follows_symlinks_only_when_asked() {
    each(|dir, g| {
        std::fs::write(dir.join("target"), b"T").unwrap();
        std::fs::create_dir(dir.join("d")).unwrap();
        std::os::unix::fs::symlink("target", dir.join("link")).unwrap();
        std::os::unix::fs::symlink("../target", dir.join("d/up")).unwrap();
        std::os::unix::fs::symlink("d", dir.join("dlink")).unwrap();
        std::os::unix::fs::symlink("nowhere", dir.join("dangling")).unwrap();
        let fd = g.path_open(ROOT, FOLLOW, "link", 0, FD_READ, 0, 0).unwrap();
        assert_eq!(g.fd_read(fd, &[5]).unwrap(), b"T");
        assert_eq!(
            g.path_open(ROOT, 0, "link", 0, FD_READ, 0, 0),
            Err(Errno::Loop)
        );
        assert_eq!(
            g.path_open(ROOT, 0, "dlink", O_DIRECTORY, 0, 0, 0),
            Err(Errno::Notdir)
        );
        // Symlinks before the last component are always followed, as is a trailing slash.
        let fd = g
            .path_open(ROOT, FOLLOW, "dlink/up", 0, FD_READ, 0, 0)
            .unwrap();
        assert_eq!(g.fd_read(fd, &[5]).unwrap(), b"T");
        assert_eq!(
            g.path_open(ROOT, 0, "dlink/up", 0, FD_READ, 0, 0),
            Err(Errno::Loop)
        );
        let d = g.path_open(ROOT, 0, "dlink/", 0, FD_READ, 0, 0).unwrap();
        assert_eq!(g.fd_fdstat_get(d).unwrap().0, FILETYPE_DIRECTORY);
        // Creating through a dangling symlink creates its target, when following.
        g.path_open(ROOT, FOLLOW, "dangling", O_CREAT, RW, 0, 0)
            .unwrap();
        assert!(dir.join("nowhere").is_file());
        assert_eq!(
            g.path_open(ROOT, 0, "dangling", O_CREAT, RW, 0, 0),
            Err(Errno::Loop)
        );
        assert_eq!(
            g.path_open(ROOT, FOLLOW, "link", O_CREAT | O_EXCL, RW, 0, 0),
            Err(Errno::Exist)
        );
    });
}

/// An exclusive create only ever makes a new regular file (its type is known without an
/// `fstat`): the fd is the one a plain open of that file gives, and no symlink, not even a
/// dangling one, is created through.
#[test]
fn an_exclusive_create_is_a_new_regular_file() {
    each(|dir, g| {
        let created = g
            .path_open(ROOT, 0, "new", O_CREAT | O_EXCL, RW | FD_SEEK, 0, 0)
            .unwrap();
        let opened = g.path_open(ROOT, 0, "new", 0, RW | FD_SEEK, 0, 0).unwrap();
        let stat = g.fd_fdstat_get(created).unwrap();
        assert_eq!(stat.0, FILETYPE_REGULAR_FILE);
        assert_eq!(stat, g.fd_fdstat_get(opened).unwrap());
        assert_eq!(g.fd_write(created, &[b"data"]).unwrap(), 4);
        assert_eq!(g.fd_pread(opened, 4, 0).unwrap(), b"data");
        std::os::unix::fs::symlink("nowhere", dir.join("dangling")).unwrap();
        assert_eq!(
            g.path_open(ROOT, FOLLOW, "dangling", O_CREAT | O_EXCL, RW, 0, 0),
            Err(Errno::Exist)
        );
        assert!(!dir.join("nowhere").exists());
    });
}

#[test]
fn symlink_loops_are_eloop() {
    each(|dir, g| {
        std::os::unix::fs::symlink("b", dir.join("a")).unwrap();
        std::os::unix::fs::symlink("a", dir.join("b")).unwrap();
        std::os::unix::fs::symlink("self/x", dir.join("self")).unwrap();
        assert_eq!(
            g.path_open(ROOT, FOLLOW, "a", 0, FD_READ, 0, 0),
            Err(Errno::Loop)
        );
        assert_eq!(
            g.path_open(ROOT, 0, "a/x", 0, FD_READ, 0, 0),
            Err(Errno::Loop)
        );
        assert_eq!(
            g.path_open(ROOT, FOLLOW, "self", 0, FD_READ, 0, 0),
            Err(Errno::Loop)
        );
        assert_eq!(g.path_filestat_get(ROOT, FOLLOW, "a"), Err(Errno::Loop));
        assert_eq!(
            g.path_filestat_get(ROOT, 0, "a").unwrap().filetype,
            FILETYPE_SYMBOLIC_LINK
        );
        assert_eq!(g.path_create_directory(ROOT, "a/x"), Err(Errno::Loop));
    });
}

#[test]
fn directories() {
    each(|dir, g| {
        g.path_create_directory(ROOT, "d").unwrap();
        assert!(dir.join("d").is_dir());
        assert_eq!(g.path_create_directory(ROOT, "d"), Err(Errno::Exist));
        g.path_create_directory(ROOT, "d/e/").unwrap();
        assert!(dir.join("d/e").is_dir());
        assert_eq!(g.path_create_directory(ROOT, "x/y"), Err(Errno::Noent));
        assert_eq!(g.path_create_directory(ROOT, "."), Err(Errno::Exist));
        assert_eq!(g.path_create_directory(ROOT, "d/.."), Err(Errno::Exist));
        std::fs::write(dir.join("f"), b"").unwrap();
        assert_eq!(g.path_create_directory(ROOT, "f/g"), Err(Errno::Notdir));
        assert_eq!(g.path_remove_directory(ROOT, "d"), Err(Errno::Notempty));
        assert_eq!(g.path_remove_directory(ROOT, "f"), Err(Errno::Notdir));
        assert_eq!(g.path_remove_directory(ROOT, "missing"), Err(Errno::Noent));
        g.path_remove_directory(ROOT, "d/e/").unwrap();
        assert!(!dir.join("d/e").exists());
        assert_eq!(g.path_remove_directory(ROOT, "."), Err(Errno::Inval));
        g.path_remove_directory(ROOT, "d").unwrap();
        assert!(!dir.join("d").exists());
    });
}

#[test]
fn unlink() {
    each(|dir, g| {
        std::fs::write(dir.join("f"), b"").unwrap();
        std::fs::create_dir(dir.join("d")).unwrap();
        std::os::unix::fs::symlink("d", dir.join("l")).unwrap();
        assert_eq!(g.path_unlink_file(ROOT, "d"), Err(Errno::Isdir));
        assert_eq!(g.path_unlink_file(ROOT, "f/"), Err(Errno::Notdir));
        assert_eq!(g.path_unlink_file(ROOT, "missing"), Err(Errno::Noent));
        g.path_unlink_file(ROOT, "f").unwrap();
        assert!(!dir.join("f").exists());
        // A symlink goes, not what it points to.
        g.path_unlink_file(ROOT, "l").unwrap();
        assert!(dir.join("d").is_dir() && std::fs::symlink_metadata(dir.join("l")).is_err());
    });
}

#[test]
fn rename() {
    each(|dir, g| {
        std::fs::write(dir.join("f"), b"F").unwrap();
        std::fs::create_dir_all(dir.join("d/sub")).unwrap();
        std::fs::create_dir(dir.join("empty")).unwrap();
        g.path_rename(ROOT, "f", ROOT, "d/g").unwrap();
        assert_eq!(std::fs::read(dir.join("d/g")).unwrap(), b"F");
        assert!(!dir.join("f").exists());
        assert_eq!(g.path_rename(ROOT, "missing", ROOT, "x"), Err(Errno::Noent));
        assert_eq!(
            g.path_rename(ROOT, "empty", ROOT, "d"),
            Err(Errno::Notempty)
        );
        assert_eq!(g.path_rename(ROOT, "d/g", ROOT, "empty"), Err(Errno::Isdir));
        assert_eq!(
            g.path_rename(ROOT, "empty", ROOT, "d/g"),
            Err(Errno::Notdir)
        );
        assert_eq!(g.path_rename(ROOT, "d/g/", ROOT, "h"), Err(Errno::Notdir));
        assert_eq!(g.path_rename(ROOT, ".", ROOT, "h"), Err(Errno::Busy));
        g.path_rename(ROOT, "empty/", ROOT, "renamed/").unwrap();
        assert!(dir.join("renamed").is_dir());
        // Between two directory fds.
        let d = g.path_open(ROOT, 0, "d", O_DIRECTORY, 0, 0, 0).unwrap();
        g.path_rename(d, "g", ROOT, "back").unwrap();
        assert_eq!(std::fs::read(dir.join("back")).unwrap(), b"F");
    });
}

#[test]
fn hard_links() {
    each(|dir, g| {
        std::fs::write(dir.join("f"), b"F").unwrap();
        std::os::unix::fs::symlink("f", dir.join("l")).unwrap();
        std::fs::create_dir(dir.join("d")).unwrap();
        g.path_link(ROOT, 0, "f", ROOT, "d/g").unwrap();
        assert_eq!(std::fs::metadata(dir.join("f")).unwrap().nlink(), 2);
        assert_eq!(g.path_link(ROOT, 0, "f", ROOT, "d/g"), Err(Errno::Exist));
        assert_eq!(
            g.path_link(ROOT, 0, "missing", ROOT, "x"),
            Err(Errno::Noent)
        );
        assert_eq!(
            g.path_link(ROOT, 0, "d", ROOT, "x"),
            Err(Errno::Perm),
            "no links to directories"
        );
        // The symlink itself is linked; following it is EINVAL, as in wasmtime.
        g.path_link(ROOT, 0, "l", ROOT, "l2").unwrap();
        let l2 = std::fs::symlink_metadata(dir.join("l2")).unwrap();
        assert!(l2.file_type().is_symlink());
        assert_eq!(
            g.path_link(ROOT, FOLLOW, "l", ROOT, "f3"),
            Err(Errno::Inval)
        );
        assert!(std::fs::symlink_metadata(dir.join("f3")).is_err());
        assert_eq!(g.path_link(ROOT, 0, "f/", ROOT, "f4"), Err(Errno::Notdir));
        assert_eq!(std::fs::metadata(dir.join("f")).unwrap().nlink(), 2);
    });
}

#[test]
fn symlinks_and_readlink() {
    each(|dir, g| {
        std::fs::write(dir.join("f"), b"F").unwrap();
        g.path_symlink("f", ROOT, "l").unwrap();
        assert_eq!(
            std::fs::read_link(dir.join("l")).unwrap().to_str(),
            Some("f")
        );
        assert_eq!(g.path_readlink(ROOT, "l", 100).unwrap(), b"f");
        // A relative target is stored as given, dangling or not; an absolute one is EPERM, as
        // in wasmtime, and so is one that climbs out (see below). One the host made reads back
        // as it is; readlink cuts at the buffer's end.
        g.path_symlink("./dangling/../x", ROOT, "rel").unwrap();
        assert_eq!(
            std::fs::read_link(dir.join("rel")).unwrap().to_str(),
            Some("./dangling/../x")
        );
        assert_eq!(
            g.path_symlink("/some/absolute/target", ROOT, "abs"),
            Err(Errno::Perm)
        );
        assert_eq!(g.path_symlink("/x", 99, "abs"), Err(Errno::Badf));
        assert!(std::fs::symlink_metadata(dir.join("abs")).is_err());
        std::os::unix::fs::symlink("/some/absolute/target", dir.join("abs")).unwrap();
        assert_eq!(
            g.path_readlink(ROOT, "abs", 100).unwrap(),
            b"/some/absolute/target"
        );
        assert_eq!(g.path_readlink(ROOT, "abs", 5).unwrap(), b"/some");
        assert_eq!(g.path_readlink(ROOT, "abs", 0).unwrap(), b"");
        assert_eq!(g.path_symlink("x", ROOT, "l"), Err(Errno::Exist));
        assert_eq!(g.path_symlink("x", ROOT, "target/"), Err(Errno::Noent));
        assert_eq!(
            g.path_symlink("x", ROOT, "f/"),
            Err(Errno::Notdir),
            "as wasmtime"
        );
        assert_eq!(
            g.path_readlink(ROOT, "f", 100),
            Err(Errno::Inval),
            "not a symlink"
        );
        assert_eq!(g.path_readlink(ROOT, "missing", 100), Err(Errno::Noent));
        std::fs::create_dir(dir.join("d")).unwrap();
        g.path_symlink("d", ROOT, "dl").unwrap();
        assert_eq!(
            g.path_readlink(ROOT, "dl/", 100),
            Err(Errno::Inval),
            "a trailing slash follows"
        );
    });
}

#[test]
fn path_filestat_follow_or_not() {
    each(|dir, g| {
        std::fs::write(dir.join("f"), b"12345").unwrap();
        std::fs::create_dir(dir.join("d")).unwrap();
        std::os::unix::fs::symlink("f", dir.join("l")).unwrap();
        std::os::unix::fs::symlink("../f", dir.join("d/up")).unwrap();
        std::os::unix::fs::symlink("d", dir.join("dl")).unwrap();
        let f = g.path_filestat_get(ROOT, 0, "f").unwrap();
        assert_eq!((f.filetype, f.size), (FILETYPE_REGULAR_FILE, 5));
        assert_eq!(f.ino, std::fs::metadata(dir.join("f")).unwrap().ino());
        let l = g.path_filestat_get(ROOT, 0, "l").unwrap();
        assert_eq!(l.filetype, FILETYPE_SYMBOLIC_LINK);
        assert_eq!(g.path_filestat_get(ROOT, FOLLOW, "l").unwrap(), f);
        assert_eq!(g.path_filestat_get(ROOT, FOLLOW, "d/up").unwrap(), f);
        assert_eq!(g.path_filestat_get(ROOT, FOLLOW, "dl/up").unwrap(), f);
        assert_eq!(
            g.path_filestat_get(ROOT, 0, "dl").unwrap().filetype,
            FILETYPE_SYMBOLIC_LINK
        );
        assert_eq!(
            g.path_filestat_get(ROOT, 0, "dl/").unwrap().filetype,
            FILETYPE_DIRECTORY
        );
        assert_eq!(g.path_filestat_get(ROOT, 0, "f/"), Err(Errno::Notdir));
        assert_eq!(g.path_filestat_get(ROOT, 0, "missing"), Err(Errno::Noent));
        assert_eq!(
            g.path_filestat_get(ROOT, 0, ".").unwrap().filetype,
            FILETYPE_DIRECTORY
        );
        assert_eq!(
            g.path_filestat_get(ROOT, 0, "d/..").unwrap().ino,
            std::fs::metadata(dir.path()).unwrap().ino()
        );
        // Times through a symlink land on the target without FOLLOW on the link itself.
        g.path_filestat_set_times(ROOT, FOLLOW, "l", 0, 42_000_000_000, MTIM)
            .unwrap();
        assert_eq!(std::fs::metadata(dir.join("f")).unwrap().mtime(), 42);
        g.path_filestat_set_times(ROOT, 0, "l", 0, 43_000_000_000, MTIM)
            .unwrap();
        assert_eq!(
            std::fs::symlink_metadata(dir.join("l")).unwrap().mtime(),
            43
        );
        assert_eq!(std::fs::metadata(dir.join("f")).unwrap().mtime(), 42);
    });
}

/// A trailing slash after a name that is a regular file, in every `path_*` function: `ENOTDIR`
/// (as wasmtime answers), and nothing changes on the host.
#[test]
fn a_trailing_slash_after_a_file_is_enotdir_everywhere() {
    each(|dir, g| {
        std::fs::write(dir.join("file"), b"x").unwrap();
        std::fs::create_dir(dir.join("d")).unwrap();
        let notdir = Err(Errno::Notdir);
        assert_eq!(g.path_symlink("source", ROOT, "file/"), notdir);
        assert_eq!(g.path_link(ROOT, 0, "d/../file", ROOT, "file/"), notdir);
        assert_eq!(g.path_link(ROOT, 0, "file/", ROOT, "new"), notdir);
        assert_eq!(g.path_rename(ROOT, "file/", ROOT, "new"), notdir);
        assert_eq!(g.path_rename(ROOT, "file", ROOT, "new/"), notdir);
        assert_eq!(g.path_rename(ROOT, "file/", ROOT, "new/"), notdir);
        assert_eq!(g.path_unlink_file(ROOT, "file/"), notdir);
        assert_eq!(g.path_remove_directory(ROOT, "file/"), notdir);
        assert_eq!(
            g.path_open(ROOT, 0, "file/", 0, FD_READ, 0, 0).err(),
            Some(Errno::Notdir)
        );
        assert_eq!(
            g.path_filestat_get(ROOT, 0, "file/").err(),
            Some(Errno::Notdir)
        );
        assert_eq!(
            g.path_filestat_set_times(ROOT, 0, "file/", 0, 0, MTIM_NOW),
            notdir
        );
        assert_eq!(
            g.path_readlink(ROOT, "file/", 10).err(),
            Some(Errno::Notdir)
        );
        // mkdir keeps Linux's answer (POSIX: the name exists).
        assert_eq!(g.path_create_directory(ROOT, "file/"), Err(Errno::Exist));
        // The other cases of wasmtime's trailing-slash tests.
        assert_eq!(g.path_symlink("source", ROOT, "target/"), Err(Errno::Noent));
        assert_eq!(g.path_symlink("source", ROOT, "d/"), Err(Errno::Exist));
        assert_eq!(g.path_symlink("source", ROOT, "file"), Err(Errno::Exist));
        assert_eq!(
            g.path_link(ROOT, 0, "file", ROOT, "link/"),
            Err(Errno::Noent)
        );
        assert_eq!(
            g.path_open(ROOT, 0, "new/", O_CREAT, RW, 0, 0),
            Err(Errno::Isdir)
        );
        assert_eq!(g.path_unlink_file(ROOT, "d/"), Err(Errno::Isdir));
        // Directories take a trailing slash.
        g.path_create_directory(ROOT, "e/").unwrap();
        g.path_rename(ROOT, "e/", ROOT, "f/").unwrap();
        g.path_filestat_get(ROOT, 0, "f/").unwrap();
        g.path_remove_directory(ROOT, "f/").unwrap();
        assert_eq!(std::fs::read(dir.join("file")).unwrap(), b"x");
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["d", "file"]);
    });
}

/// A relative symlink target that climbs above the directory it is made in (from the link's
/// own directory) is refused like an absolute one: wasirun never follows it out, but host
/// programs walking the tree later would.
#[test]
fn symlinks_that_climb_out_are_refused() {
    each(|dir, g| {
        std::fs::create_dir_all(dir.join("d/e")).unwrap();
        std::fs::write(dir.join("f"), b"x").unwrap();
        std::os::unix::fs::symlink(".", dir.join("self")).unwrap();
        let out = Err(Errno::Perm);
        assert_eq!(g.path_symlink("../../etc/passwd", ROOT, "d/l1"), out);
        assert_eq!(g.path_symlink("..", ROOT, "l2"), out);
        assert_eq!(g.path_symlink("d/../..", ROOT, "l3"), out);
        assert_eq!(g.path_symlink("e/../../../x", ROOT, "d/l4"), out);
        // The depth is the real one: `self/` is the root itself, not one level down.
        assert_eq!(g.path_symlink("../f", ROOT, "self/l5"), out);
        // From a directory the guest opened, the climb is measured from that directory.
        let d = g
            .path_open(ROOT, 0, "d", O_DIRECTORY, ALL & !RW, ALL, 0)
            .unwrap();
        assert_eq!(g.path_symlink("../../f", d, "e/l6"), out);
        for l in ["d/l1", "l2", "l3", "d/l4", "l5", "d/e/l6"] {
            assert!(std::fs::symlink_metadata(dir.join(l)).is_err(), "{l}");
        }
        // Targets that stay inside work, dangling or not.
        g.path_symlink("../f", ROOT, "d/in1").unwrap();
        g.path_symlink("../../f", ROOT, "d/e/in2").unwrap();
        g.path_symlink("d/e/../../f", ROOT, "in3").unwrap();
        g.path_symlink("./missing/../..//d", ROOT, "d/in4").unwrap();
        g.path_symlink("../in1", d, "e/in5").unwrap();
        assert_eq!(std::fs::read(dir.join("d/e/in2")).unwrap(), b"x");
        assert_eq!(std::fs::read(dir.join("d/e/in5")).unwrap(), b"x");
    });
}
