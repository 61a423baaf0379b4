//! The sandbox-escape suite: every attempt to reach outside the preopen is refused, with either
//! resolver, and the file system outside is untouched.
//!
//! ```text
//! tmp/outside/sentinel        "SENTINEL"
//! tmp/outside/deep/x          "SECRET"
//! tmp/root/                   the preopen
//!          file               "inside"
//!          a/x                "inside-a"
//!          a/b/
//!          sub/escape      -> ../../outside
//!          up              -> ..
//!          upup            -> ../..
//!          to_root         -> /
//!          abs_sentinel    -> tmp/outside/sentinel (absolute)
//!          abs_outside     -> tmp/outside (absolute)
//!          abs_dangling    -> /nonexistent-wasirun-target
//!          chain           -> sub/escape
//!          loop1 <-> loop2
//! ```

use crate::guest::{Guest, RESOLVERS, ROOT, TempDir, wasi::*};
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use wasirun_unix::Resolver;
use wasirun_wasi::Errno;

struct Fixture {
    tmp: TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = TempDir::new();
        let t = |p: &str| tmp.join(p);
        std::fs::create_dir_all(t("outside/deep")).unwrap();
        std::fs::write(t("outside/sentinel"), b"SENTINEL").unwrap();
        std::fs::write(t("outside/deep/x"), b"SECRET").unwrap();
        std::fs::create_dir_all(t("root/a/b")).unwrap();
        std::fs::create_dir_all(t("root/sub")).unwrap();
        std::fs::write(t("root/file"), b"inside").unwrap();
        std::fs::write(t("root/a/x"), b"inside-a").unwrap();
        symlink("../../outside", t("root/sub/escape")).unwrap();
        symlink("..", t("root/up")).unwrap();
        symlink("../..", t("root/upup")).unwrap();
        symlink("/", t("root/to_root")).unwrap();
        symlink(t("outside/sentinel"), t("root/abs_sentinel")).unwrap();
        symlink(t("outside"), t("root/abs_outside")).unwrap();
        symlink("/nonexistent-wasirun-target", t("root/abs_dangling")).unwrap();
        symlink("sub/escape", t("root/chain")).unwrap();
        symlink("loop2", t("root/loop1")).unwrap();
        symlink("loop1", t("root/loop2")).unwrap();
        Fixture { tmp }
    }

    fn guest(&self, resolver: Resolver) -> Guest {
        setup_with_path(&self.tmp.join("root"), resolver)
    }

    /// Everything under outside/: paths, contents, modification times.
    fn outside(&self) -> Vec<(String, Vec<u8>, i64, i64)> {
        let mut all = Vec::new();
        walk(&self.tmp.join("outside"), &mut all);
        all.sort();
        all
    }
}

fn setup_with_path(path: &Path, resolver: Resolver) -> Guest {
    let mut b = wasirun_unix::Builder::new();
    b.preopen_dir(path, "/", wasirun_unix::DirMode::ReadWrite)
        .unwrap();
    b.resolver(resolver);
    Guest::new(b.build().unwrap())
}

fn walk(dir: &Path, out: &mut Vec<(String, Vec<u8>, i64, i64)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let m = std::fs::symlink_metadata(e.path()).unwrap();
        let content = if m.is_file() {
            std::fs::read(e.path()).unwrap()
        } else {
            Vec::new()
        };
        out.push((
            e.path().display().to_string(),
            content,
            m.mtime(),
            m.mtime_nsec(),
        ));
        if m.is_dir() {
            walk(&e.path(), out);
        }
    }
}

type Attempt = (
    &'static str,
    Errno,
    fn(&mut Guest, &Path) -> Result<(), Errno>,
);

fn open(g: &mut Guest, path: &str) -> Result<(), Errno> {
    g.path_open(ROOT, 0, path, 0, FD_READ, 0, 0).map(drop)
}

fn open_follow(g: &mut Guest, path: &str) -> Result<(), Errno> {
    g.path_open(ROOT, FOLLOW, path, 0, FD_READ, 0, 0).map(drop)
}

fn abs(tmp: &Path, p: &str) -> String {
    tmp.join(p).display().to_string()
}

const ATTEMPTS: &[Attempt] = &[
    ("dotdot", Errno::Perm, |g, _| open(g, "../outside/sentinel")),
    ("absolute /etc/passwd", Errno::Perm, |g, _| {
        open(g, "/etc/passwd")
    }),
    ("absolute sentinel", Errno::Perm, |g, t| {
        open(g, &abs(t, "outside/sentinel"))
    }),
    ("double slash absolute", Errno::Perm, |g, _| {
        open(g, "//etc/passwd")
    }),
    ("down then up too far", Errno::Perm, |g, _| {
        open(g, "a/../../outside/sentinel")
    }),
    ("deep down then up too far", Errno::Perm, |g, _| {
        open(g, "a/b/../../../outside/sentinel")
    }),
    ("dots and slashes", Errno::Perm, |g, _| {
        open(g, "a/./../.././/outside/sentinel")
    }),
    ("dot dotdot", Errno::Perm, |g, _| open(g, "./../outside")),
    ("dotdot as directory", Errno::Perm, |g, _| {
        g.path_open(ROOT, 0, "..", O_DIRECTORY, 0, 0, 0).map(drop)
    }),
    ("symlink to .. mid-path", Errno::Perm, |g, _| {
        open(g, "up/outside/sentinel")
    }),
    ("symlink to ../.. mid-path", Errno::Perm, |g, _| {
        open(g, "upup/outside/sentinel")
    }),
    ("symlink to / mid-path", Errno::Perm, |g, _| {
        open(g, "to_root/etc/passwd")
    }),
    ("absolute symlink followed", Errno::Perm, |g, _| {
        open_follow(g, "abs_sentinel")
    }),
    ("absolute symlink mid-path", Errno::Perm, |g, _| {
        open(g, "abs_outside/sentinel")
    }),
    ("nested relative escape", Errno::Perm, |g, _| {
        open(g, "sub/escape/sentinel")
    }),
    ("two-hop symlink chain", Errno::Perm, |g, _| {
        open(g, "chain/sentinel")
    }),
    ("symlink loop", Errno::Loop, |g, _| open_follow(g, "loop1")),
    ("symlink loop mid-path", Errno::Loop, |g, _| {
        open(g, "loop1/x")
    }),
    ("escape symlink without follow", Errno::Loop, |g, _| {
        open(g, "sub/escape")
    }),
    ("create through ..", Errno::Perm, |g, _| {
        g.path_open(ROOT, 0, "../outside/new", O_CREAT, RW, 0, 0)
            .map(drop)
    }),
    (
        "create through absolute symlink dir",
        Errno::Perm,
        |g, _| {
            g.path_open(ROOT, FOLLOW, "abs_outside/new", O_CREAT, RW, 0, 0)
                .map(drop)
        },
    ),
    ("truncate through absolute symlink", Errno::Perm, |g, _| {
        g.path_open(ROOT, FOLLOW, "abs_sentinel", O_CREAT | O_TRUNC, RW, 0, 0)
            .map(drop)
    }),
    (
        "create through dangling absolute symlink",
        Errno::Perm,
        |g, _| {
            g.path_open(ROOT, FOLLOW, "abs_dangling", O_CREAT, RW, 0, 0)
                .map(drop)
        },
    ),
    ("directory through absolute symlink", Errno::Perm, |g, _| {
        g.path_open(ROOT, FOLLOW, "abs_outside", O_DIRECTORY, 0, 0, 0)
            .map(drop)
    }),
    ("a subdirectory fd is its own root", Errno::Perm, |g, _| {
        let sub = g.path_open(ROOT, 0, "sub", O_DIRECTORY, 0, 0, 0)?;
        g.path_open(sub, 0, "../file", 0, FD_READ, 0, 0).map(drop)
    }),
    ("stat through ..", Errno::Perm, |g, _| {
        g.path_filestat_get(ROOT, 0, "../outside/sentinel")
            .map(drop)
    }),
    ("stat absolute symlink followed", Errno::Perm, |g, _| {
        g.path_filestat_get(ROOT, FOLLOW, "abs_sentinel").map(drop)
    }),
    ("stat symlink to .. followed", Errno::Perm, |g, _| {
        g.path_filestat_get(ROOT, FOLLOW, "up").map(drop)
    }),
    (
        "stat symlink to .. with trailing slash",
        Errno::Perm,
        |g, _| g.path_filestat_get(ROOT, 0, "up/").map(drop),
    ),
    ("stat symlink to / followed", Errno::Perm, |g, _| {
        g.path_filestat_get(ROOT, FOLLOW, "to_root").map(drop)
    }),
    ("stat ..", Errno::Perm, |g, _| {
        g.path_filestat_get(ROOT, 0, "..").map(drop)
    }),
    ("set times through absolute symlink", Errno::Perm, |g, _| {
        g.path_filestat_set_times(ROOT, FOLLOW, "abs_sentinel", 0, 0, MTIM_NOW)
    }),
    ("set times through ..", Errno::Perm, |g, _| {
        g.path_filestat_set_times(ROOT, 0, "../outside/sentinel", 0, 0, MTIM_NOW)
    }),
    ("set times on ..", Errno::Perm, |g, _| {
        g.path_filestat_set_times(ROOT, 0, "..", 0, 0, MTIM_NOW)
    }),
    ("unlink through ..", Errno::Perm, |g, _| {
        g.path_unlink_file(ROOT, "../outside/sentinel")
    }),
    ("unlink through symlink to ..", Errno::Perm, |g, _| {
        g.path_unlink_file(ROOT, "up/outside/sentinel")
    }),
    ("unlink through nested escape", Errno::Perm, |g, _| {
        g.path_unlink_file(ROOT, "sub/escape/sentinel")
    }),
    ("unlink absolute", Errno::Perm, |g, t| {
        g.path_unlink_file(ROOT, &abs(t, "outside/sentinel"))
    }),
    ("rmdir ..", Errno::Perm, |g, _| {
        g.path_remove_directory(ROOT, "..")
    }),
    ("rmdir through symlink", Errno::Perm, |g, _| {
        g.path_remove_directory(ROOT, "upup/outside/deep")
    }),
    ("mkdir through ..", Errno::Perm, |g, _| {
        g.path_create_directory(ROOT, "../newdir")
    }),
    ("mkdir through symlink to ..", Errno::Perm, |g, _| {
        g.path_create_directory(ROOT, "up/newdir")
    }),
    ("mkdir through absolute symlink", Errno::Perm, |g, _| {
        g.path_create_directory(ROOT, "abs_outside/newdir")
    }),
    ("rename out", Errno::Perm, |g, _| {
        g.path_rename(ROOT, "file", ROOT, "../outside/moved")
    }),
    ("rename in", Errno::Perm, |g, _| {
        g.path_rename(ROOT, "../outside/sentinel", ROOT, "stolen")
    }),
    ("rename out through symlink", Errno::Perm, |g, _| {
        g.path_rename(ROOT, "file", ROOT, "up/moved")
    }),
    ("rename outside dir in", Errno::Perm, |g, _| {
        g.path_rename(ROOT, "up/outside", ROOT, "stolen")
    }),
    ("rename over ..", Errno::Perm, |g, _| {
        g.path_rename(ROOT, "file", ROOT, "..")
    }),
    ("hard link in", Errno::Perm, |g, _| {
        g.path_link(ROOT, 0, "../outside/sentinel", ROOT, "hard")
    }),
    (
        "hard link through absolute symlink dir",
        Errno::Perm,
        |g, _| g.path_link(ROOT, 0, "abs_outside/sentinel", ROOT, "hard"),
    ),
    ("hard link through nested escape", Errno::Perm, |g, _| {
        g.path_link(ROOT, 0, "chain/sentinel", ROOT, "hard")
    }),
    ("hard link out", Errno::Perm, |g, _| {
        g.path_link(ROOT, 0, "file", ROOT, "../outside/link")
    }),
    ("hard link of .. by trailing slash", Errno::Perm, |g, _| {
        g.path_link(ROOT, 0, "up/", ROOT, "x")
    }),
    ("hard link following an escape", Errno::Inval, |g, _| {
        g.path_link(ROOT, FOLLOW, "abs_sentinel", ROOT, "hard")
    }),
    ("symlink placed outside", Errno::Perm, |g, _| {
        g.path_symlink("x", ROOT, "../outside/sym")
    }),
    ("symlink placed through symlink", Errno::Perm, |g, _| {
        g.path_symlink("x", ROOT, "up/outside/sym")
    }),
    ("readlink outside", Errno::Perm, |g, _| {
        g.path_readlink(ROOT, "../outside/sentinel", 100).map(drop)
    }),
    ("readlink through symlink", Errno::Perm, |g, _| {
        g.path_readlink(ROOT, "upup/outside/x", 100).map(drop)
    }),
    ("guest-made absolute symlink", Errno::Perm, |g, _| {
        g.path_symlink("/etc", ROOT, "evil")?;
        open(g, "evil/passwd")
    }),
    ("guest-made relative escape", Errno::Perm, |g, _| {
        g.path_symlink("../../outside", ROOT, "sub/evil")?;
        open(g, "sub/evil/sentinel")
    }),
    (
        "guest-made symlink to its own parent",
        Errno::Perm,
        |g, _| {
            g.path_create_directory(ROOT, "nest")?;
            g.path_symlink("../..", ROOT, "nest/out")?;
            g.path_filestat_get(ROOT, FOLLOW, "nest/out").map(drop)
        },
    ),
    ("NUL in the path", Errno::Inval, |g, _| {
        open(g, "file\0/../../outside/sentinel")
    }),
    ("readdir of the outside", Errno::Perm, |g, _| {
        let fd = g.path_open(ROOT, 0, "up/", O_DIRECTORY, FD_READDIR, 0, 0)?;
        g.fd_readdir(fd, 1000, 0).map(drop)
    }),
];

#[test]
fn every_escape_attempt_is_refused() {
    assert!(ATTEMPTS.len() >= 40);
    for resolver in RESOLVERS {
        let fx = Fixture::new();
        let before = fx.outside();
        let mut failures = Vec::new();
        for (name, expected, attempt) in ATTEMPTS {
            let mut g = fx.guest(resolver);
            let got = attempt(&mut g, fx.tmp.path());
            if got != Err(*expected) {
                failures.push(format!(
                    "{resolver:?} {name}: {got:?}, expected {expected:?}"
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert_eq!(fx.outside(), before, "{resolver:?}: the outside changed");
        assert_eq!(
            std::fs::read(fx.tmp.join("outside/sentinel")).unwrap(),
            b"SENTINEL"
        );
    }
}

#[test]
fn symlink_contents_are_kept_but_inside_targets_work() {
    for resolver in RESOLVERS {
        let fx = Fixture::new();
        let mut g = fx.guest(resolver);
        // Links that stay inside are followed.
        g.path_symlink("a/../file", ROOT, "fine").unwrap();
        g.path_open(ROOT, FOLLOW, "fine", 0, FD_READ, 0, 0).unwrap();
        g.path_symlink("../file", ROOT, "sub/fine").unwrap();
        let fd = g
            .path_open(ROOT, FOLLOW, "sub/fine", 0, FD_READ, 0, 0)
            .unwrap();
        assert_eq!(g.fd_read(fd, &[10]).unwrap(), b"inside");
        // And what the escaping links say can be read, as text.
        assert_eq!(g.path_readlink(ROOT, "up", 10).unwrap(), b"..");
        assert_eq!(g.path_readlink(ROOT, "to_root", 10).unwrap(), b"/");
        assert_eq!(
            g.path_filestat_get(ROOT, 0, "abs_sentinel")
                .unwrap()
                .filetype,
            FILETYPE_SYMBOLIC_LINK
        );
        // Unlinking an escaping symlink removes the link only.
        g.path_unlink_file(ROOT, "abs_sentinel").unwrap();
        assert_eq!(
            std::fs::read(fx.tmp.join("outside/sentinel")).unwrap(),
            b"SENTINEL"
        );
    }
}

/// Swaps two names again and again until told to stop.
fn swapper(
    dir: std::path::PathBuf,
    a: &'static str,
    b: &'static str,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let fd = rustix::fs::open(
            &dir,
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::DIRECTORY,
            rustix::fs::Mode::empty(),
        )
        .unwrap();
        while !stop.load(Ordering::Relaxed) {
            rustix::fs::renameat_with(&fd, a, &fd, b, rustix::fs::RenameFlags::EXCHANGE).unwrap();
        }
    })
}

#[test]
fn a_symlink_swapped_in_during_the_walk_never_leads_out() {
    for resolver in RESOLVERS {
        let fx = Fixture::new();
        let root = fx.tmp.join("root");
        std::fs::create_dir(root.join("flip")).unwrap();
        std::fs::write(root.join("flip/sentinel"), b"inside").unwrap();
        symlink("../outside", root.join("other")).unwrap();
        let before = fx.outside();
        let outside_ino = std::fs::metadata(fx.tmp.join("outside/sentinel"))
            .unwrap()
            .ino();
        let mut g = fx.guest(resolver);
        let stop = Arc::new(AtomicBool::new(false));
        let thread = swapper(root.clone(), "flip", "other", stop.clone());
        let mut opened = 0;
        for _ in 0..2000 {
            if let Ok(fd) = g.path_open(ROOT, FOLLOW, "flip/sentinel", 0, FD_READ, 0, 0) {
                assert_eq!(g.fd_read(fd, &[20]).unwrap(), b"inside", "{resolver:?}");
                g.fd_close(fd).unwrap();
                opened += 1;
            }
            if let Ok(st) = g.path_filestat_get(ROOT, FOLLOW, "flip/sentinel") {
                assert_ne!(st.ino, outside_ino, "{resolver:?}");
            }
            let _ = g.path_filestat_set_times(ROOT, FOLLOW, "flip/sentinel", 0, 0, MTIM_NOW);
        }
        stop.store(true, Ordering::Relaxed);
        thread.join().unwrap();
        assert!(
            opened > 0,
            "{resolver:?}: the race never let the inside file open"
        );
        assert_eq!(fx.outside(), before, "{resolver:?}: the outside changed");
        assert_eq!(
            std::fs::read(fx.tmp.join("outside/sentinel")).unwrap(),
            b"SENTINEL"
        );
    }
}

#[test]
fn a_directory_moved_out_during_the_walk_never_leads_out() {
    for resolver in RESOLVERS {
        let fx = Fixture::new();
        let root = fx.tmp.join("root");
        let mut g = fx.guest(resolver);
        // a/b moves to outside/deep/b and back; a/b/../x must read root/a/x every time, never
        // outside/deep/x.
        let stop = Arc::new(AtomicBool::new(false));
        let (from, to) = (root.join("a/b"), fx.tmp.join("outside/deep/b"));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::fs::rename(&from, &to).unwrap();
                    std::fs::rename(&to, &from).unwrap();
                }
            })
        };
        let mut opened = 0;
        for _ in 0..2000 {
            if let Ok(fd) = g.path_open(ROOT, 0, "a/b/../x", 0, FD_READ, 0, 0) {
                assert_eq!(g.fd_read(fd, &[20]).unwrap(), b"inside-a", "{resolver:?}");
                g.fd_close(fd).unwrap();
                opened += 1;
            }
        }
        stop.store(true, Ordering::Relaxed);
        thread.join().unwrap();
        assert!(opened > 0, "{resolver:?}");
        assert_eq!(
            std::fs::read(fx.tmp.join("outside/deep/x")).unwrap(),
            b"SECRET"
        );
    }
}

#[test]
fn the_tempdir_fixture_is_sound() {
    let fx = Fixture::new();
    assert!(
        fx.tmp.join("root/sub/escape/sentinel").exists(),
        "the escape links do lead out on the host"
    );
    assert!(fx.tmp.join("root/abs_sentinel").exists());
}
