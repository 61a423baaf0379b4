//! Rights in both modes, and read-only preopens.

use crate::guest::{Guest, ROOT, TempDir, setup, setup_with, wasi::*};
use std::os::unix::fs::MetadataExt;
use wasirun_unix::{Builder, DirMode};
use wasirun_wasi::Errno;

fn read_only(dir: &TempDir, strict: bool) -> Guest {
    let mut b = Builder::new();
    b.preopen_dir(dir.path(), "/ro", DirMode::ReadOnly).unwrap();
    b.enforce_rights(strict);
    Guest::new(b.build().unwrap())
}

#[test]
fn by_default_fewer_rights_asked_are_not_refused() {
    let dir = TempDir::new();
    std::fs::write(dir.join("f"), b"data").unwrap();
    let mut g = setup(&dir);
    // wasmtime's test programs open with no rights at all, then read.
    let fd = g.path_open(ROOT, 0, "f", 0, 0, 0, 0).unwrap();
    assert_eq!(g.fd_read(fd, &[10]).unwrap(), b"data");
    g.fd_seek(fd, 0, WHENCE_SET).unwrap();
    g.fd_filestat_get(fd).unwrap();
    g.fd_close(fd).unwrap();
}

#[test]
fn dropped_rights_are_refused_in_both_modes() {
    for strict in [false, true] {
        let dir = TempDir::new();
        std::fs::write(dir.join("f"), b"data").unwrap();
        std::fs::create_dir(dir.join("d")).unwrap();
        let mut g = setup_with(&dir, |b| {
            b.enforce_rights(strict);
        });
        let all = g.fd_fdstat_get(ROOT).unwrap().3;
        let fd = g.path_open(ROOT, 0, "f", 0, all, 0, 0).unwrap();
        let (_, _, base, _) = g.fd_fdstat_get(fd).unwrap();
        g.fd_fdstat_set_rights(fd, base & !(FD_READ | FD_SEEK), 0)
            .unwrap();
        assert_eq!(g.fd_fdstat_get(fd).unwrap().2 & FD_READ, 0);
        assert_eq!(g.fd_read(fd, &[10]), Err(Errno::Notcapable), "{strict}");
        assert_eq!(g.fd_pread(fd, 2, 0), Err(Errno::Notcapable));
        assert_eq!(g.fd_seek(fd, 1, WHENCE_SET), Err(Errno::Notcapable));
        g.fd_tell(fd).unwrap();
        g.fd_filestat_get(fd).unwrap();
        // Dropped rights cannot come back.
        assert_eq!(g.fd_fdstat_set_rights(fd, base, 0), Err(Errno::Notcapable));
        // A directory that dropped PATH_FILESTAT_SET_SIZE cannot truncate, nor one that
        // dropped PATH_CREATE_FILE create.
        let (_, _, root, inheriting) = g.fd_fdstat_get(ROOT).unwrap();
        g.fd_fdstat_set_rights(
            ROOT,
            root & !(PATH_FILESTAT_SET_SIZE | PATH_CREATE_FILE),
            inheriting & !FD_WRITE,
        )
        .unwrap();
        assert_eq!(
            g.path_open(ROOT, 0, "f", O_TRUNC, all, 0, 0),
            Err(Errno::Notcapable)
        );
        assert_eq!(std::fs::read(dir.join("f")).unwrap(), b"data");
        assert_eq!(
            g.path_open(ROOT, 0, "new", O_CREAT, FD_READ, 0, 0),
            Err(Errno::Notcapable)
        );
        assert!(!dir.join("new").exists());
        // What it opens below has lost the inheriting rights it dropped: by default the open
        // works (the rights are capped), strictly asking for them is refused.
        if strict {
            assert_eq!(
                g.path_open(ROOT, 0, "f", 0, RW, 0, 0),
                Err(Errno::Notcapable)
            );
        }
        let ro = g
            .path_open(ROOT, 0, "f", 0, FD_READ | FD_SEEK, 0, 0)
            .unwrap();
        assert_eq!(g.fd_fdstat_get(ro).unwrap().2 & FD_WRITE, 0);
        assert_eq!(g.fd_read(ro, &[2]).unwrap(), b"da");
        // Two levels down too.
        let d_base = PATH_OPEN | PATH_CREATE_FILE;
        let d = g
            .path_open(ROOT, 0, "d", O_DIRECTORY, d_base, all & !FD_WRITE, 0)
            .unwrap();
        assert_eq!(g.fd_fdstat_get(d).unwrap().3 & FD_WRITE, 0);
        let below = g.path_open(d, 0, "g", O_CREAT, RW, 0, 0);
        if strict {
            assert_eq!(below, Err(Errno::Notcapable));
        } else {
            assert_eq!(g.fd_write(below.unwrap(), &[b"x"]), Err(Errno::Notcapable));
        }
    }
}

#[test]
fn a_dropped_write_right_is_refused_even_on_a_file_open_for_writing() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    let fd = g.path_open(ROOT, 0, "f", O_CREAT, RW, 0, 0).unwrap();
    g.fd_write(fd, &[b"ok"]).unwrap();
    g.fd_fdstat_set_rights(fd, FD_READ | FD_SEEK, 0).unwrap();
    assert_eq!(g.fd_write(fd, &[b"x"]), Err(Errno::Notcapable));
    assert_eq!(g.fd_pwrite(fd, b"x", 0), Err(Errno::Notcapable));
    assert_eq!(g.fd_filestat_set_size(fd, 0), Err(Errno::Notcapable));
    assert_eq!(std::fs::read(dir.join("f")).unwrap(), b"ok");
}

#[test]
fn strict_mode_refuses_what_the_rights_do_not_allow() {
    let dir = TempDir::new();
    std::fs::write(dir.join("f"), b"data").unwrap();
    let mut g = setup_with(&dir, |b| {
        b.enforce_rights(true);
    });
    let fd = g.path_open(ROOT, 0, "f", 0, 0, 0, 0).unwrap();
    assert_eq!(g.fd_read(fd, &[10]), Err(Errno::Notcapable));
    assert_eq!(g.fd_seek(fd, 1, WHENCE_SET), Err(Errno::Notcapable));
    assert_eq!(g.fd_tell(fd), Err(Errno::Notcapable));
    assert_eq!(g.fd_filestat_get(fd), Err(Errno::Notcapable));
    assert_eq!(g.fd_fdstat_get(fd).unwrap().2, 0, "reported as asked");
    let fd = g
        .path_open(ROOT, 0, "f", 0, FD_READ | FD_TELL, 0, 0)
        .unwrap();
    assert_eq!(g.fd_read(fd, &[2]).unwrap(), b"da");
    assert_eq!(g.fd_tell(fd).unwrap(), 2);
    assert_eq!(
        g.fd_seek(fd, 0, WHENCE_CUR).unwrap(),
        2,
        "FD_TELL allows seeking by 0"
    );
    assert_eq!(g.fd_seek(fd, 1, WHENCE_CUR), Err(Errno::Notcapable));
    assert_eq!(
        g.fd_pread(fd, 1, 0),
        Err(Errno::Notcapable),
        "pread needs FD_SEEK"
    );
    assert_eq!(g.fd_write(fd, &[b"x"]), Err(Errno::Notcapable));
    // Dropping rights is enforced.
    g.fd_fdstat_set_rights(fd, FD_TELL, 0).unwrap();
    assert_eq!(g.fd_read(fd, &[1]), Err(Errno::Notcapable));
    // Rights asked for must be inheritable from the directory.
    g.fd_fdstat_set_rights(ROOT, PATH_OPEN | PATH_CREATE_FILE, FD_READ)
        .unwrap();
    assert_eq!(
        g.path_open(ROOT, 0, "f", 0, RW, 0, 0),
        Err(Errno::Notcapable)
    );
    assert_eq!(
        g.path_open(ROOT, 0, "f", 0, FD_READ, FD_WRITE, 0),
        Err(Errno::Notcapable)
    );
    assert_eq!(
        g.path_open(ROOT, 0, "f", 0, FD_READ, 0, SYNC),
        Err(Errno::Notcapable)
    );
    assert_eq!(
        g.path_open(ROOT, 0, "f", O_TRUNC, FD_READ, 0, 0),
        Err(Errno::Notcapable)
    );
    g.path_open(ROOT, 0, "f", 0, FD_READ, 0, 0).unwrap();
    g.path_open(ROOT, 0, "new", O_CREAT, FD_READ, 0, 0).unwrap();
    // And the directory's own base rights gate the path calls.
    assert_eq!(g.path_create_directory(ROOT, "d"), Err(Errno::Notcapable));
    assert_eq!(g.path_filestat_get(ROOT, 0, "f"), Err(Errno::Notcapable));
    assert_eq!(g.path_unlink_file(ROOT, "f"), Err(Errno::Notcapable));
    assert_eq!(g.fd_readdir(ROOT, 100, 0), Err(Errno::Notcapable));
    g.fd_fdstat_set_rights(ROOT, 0, 0).unwrap();
    assert_eq!(
        g.path_open(ROOT, 0, "f", 0, 0, 0, 0),
        Err(Errno::Notcapable)
    );
}

#[test]
fn strict_mode_with_wasi_libc_style_requests() {
    let dir = TempDir::new();
    std::fs::create_dir(dir.join("d")).unwrap();
    let mut g = setup_with(&dir, |b| {
        b.enforce_rights(true);
    });
    // wasi-libc asks for every right the directory can pass on, minus what the mode excludes.
    let (_, _, _, inheriting) = g.fd_fdstat_get(ROOT).unwrap();
    let fd = g
        .path_open(ROOT, 0, "f", O_CREAT, inheriting, inheriting, 0)
        .unwrap();
    g.fd_write(fd, &[b"x"]).unwrap();
    let d = g
        .path_open(ROOT, 0, "d", O_DIRECTORY, inheriting & !RW, inheriting, 0)
        .unwrap();
    g.path_open(d, 0, "g", O_CREAT, FD_WRITE, 0, 0).unwrap();
    g.fd_readdir(d, 100, 0).unwrap();
}

#[test]
fn read_only_preopens_refuse_every_change() {
    for strict in [false, true] {
        let dir = TempDir::new();
        std::fs::write(dir.join("f"), b"data").unwrap();
        std::fs::create_dir(dir.join("d")).unwrap();
        std::fs::create_dir(dir.join("empty")).unwrap();
        let before = snapshot(&dir);
        let mut g = read_only(&dir, strict);
        // What the host withholds answers before the rights do, in both modes.
        let denied = Errno::Perm;
        assert_eq!(
            g.path_open(ROOT, 0, "new", O_CREAT, FD_READ, 0, 0),
            Err(denied)
        );
        assert_eq!(g.path_open(ROOT, 0, "f", 0, RW, 0, 0), Err(denied));
        assert_eq!(g.path_open(ROOT, 0, "f", 0, FD_WRITE, 0, 0), Err(denied));
        assert_eq!(
            g.path_open(ROOT, 0, "f", O_TRUNC, FD_READ, 0, 0),
            Err(denied)
        );
        assert_eq!(g.path_create_directory(ROOT, "new"), Err(denied));
        assert_eq!(g.path_remove_directory(ROOT, "empty"), Err(denied));
        assert_eq!(g.path_unlink_file(ROOT, "f"), Err(denied));
        assert_eq!(g.path_rename(ROOT, "f", ROOT, "g"), Err(denied));
        assert_eq!(g.path_link(ROOT, 0, "f", ROOT, "g"), Err(denied));
        assert_eq!(g.path_symlink("f", ROOT, "g"), Err(denied));
        assert_eq!(
            g.path_filestat_set_times(ROOT, 0, "f", 0, 0, MTIM_NOW),
            Err(denied)
        );
        assert_eq!(g.fd_filestat_set_times(ROOT, 0, 0, MTIM_NOW), Err(denied));
        // Reading works, below the preopen too.
        let f = g
            .path_open(ROOT, 0, "f", 0, FD_READ | FD_SEEK | FD_FILESTAT_GET, 0, 0)
            .unwrap();
        assert_eq!(g.fd_read(f, &[10]).unwrap(), b"data");
        g.path_filestat_get(ROOT, 0, "f").unwrap();
        // What was opened below it cannot write either.
        let write = if strict {
            Errno::Notcapable
        } else {
            Errno::Badf
        };
        assert_eq!(g.fd_write(f, &[b"x"]), Err(write));
        assert_eq!(g.fd_pwrite(f, b"x", 0), Err(write));
        assert_eq!(g.fd_filestat_set_size(f, 0), Err(denied));
        assert_eq!(g.fd_allocate(f, 0, 100), Err(denied));
        assert_eq!(g.fd_filestat_set_times(f, 0, 0, MTIM_NOW), Err(denied));
        let d = g
            .path_open(ROOT, 0, "d", O_DIRECTORY, PATH_OPEN, 0, 0)
            .unwrap();
        assert_eq!(g.path_open(d, 0, "x", O_CREAT, FD_READ, 0, 0), Err(denied));
        assert_eq!(g.path_create_directory(d, "x"), Err(denied));
        // And a link or rename into a writable preopen cannot carry its files out.
        let rw = TempDir::new();
        let flags = rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::DIRECTORY;
        let host = rustix::fs::open(rw.path(), flags, rustix::fs::Mode::empty()).unwrap();
        let other = g.add_fd(host);
        assert_eq!(g.path_link(ROOT, 0, "f", other, "stolen"), Err(denied));
        assert_eq!(g.path_rename(ROOT, "f", other, "stolen"), Err(denied));
        assert!(!rw.join("stolen").exists());
        // The rights say so.
        let (_, _, base, inheriting) = g.fd_fdstat_get(ROOT).unwrap();
        assert_eq!(
            base & (PATH_CREATE_FILE | PATH_CREATE_DIRECTORY | PATH_UNLINK_FILE),
            0
        );
        assert_eq!(
            inheriting & (FD_WRITE | FD_FILESTAT_SET_SIZE | FD_ALLOCATE),
            0
        );
        assert!(base & (PATH_OPEN | FD_READDIR | PATH_FILESTAT_GET) != 0);
        assert_eq!(g.fd_fdstat_get(f).unwrap().2 & FD_WRITE, 0);
        assert_eq!(snapshot(&dir), before, "strict: {strict}");
    }
}

/// Names, sizes and modification times of everything in `dir`.
fn snapshot(dir: &TempDir) -> Vec<(String, u64, i64)> {
    let mut all: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let m = std::fs::symlink_metadata(e.path()).unwrap();
            (
                e.file_name().into_string().unwrap(),
                m.len(),
                m.mtime_nsec() + m.mtime() * 1_000_000_000,
            )
        })
        .collect();
    all.sort();
    all
}

#[test]
fn a_wrong_kind_of_fd_answers_before_a_missing_right_in_both_modes() {
    for strict in [false, true] {
        let dir = TempDir::new();
        std::fs::write(dir.join("f"), b"data").unwrap();
        let mut g = setup_with(&dir, |b| {
            b.enforce_rights(strict);
        });
        // Not open at all: EBADF first.
        assert_eq!(g.sock_shutdown(99, 3), Err(Errno::Badf));
        assert_eq!(g.path_open(99, 0, "f", 0, 0, 0, 0), Err(Errno::Badf));
        assert_eq!(g.fd_read(99, &[1]), Err(Errno::Badf));
        // stdout is no socket.
        assert_eq!(g.sock_shutdown(1, 3), Err(Errno::Notsock), "{strict}");
        assert_eq!(g.sock_accept(1, 0), Err(Errno::Notsock));
        assert_eq!(g.sock_recv(1, 4, 0).err(), Some(Errno::Notsock));
        assert_eq!(g.sock_send(1, b"x", 0), Err(Errno::Notsock));
        // A file is no directory, whatever its rights.
        let f = g.path_open(ROOT, 0, "f", 0, 0, 0, 0).unwrap();
        assert_eq!(g.path_open(f, 0, "x", 0, 0, 0, 0), Err(Errno::Notdir));
        assert_eq!(g.path_create_directory(f, "x"), Err(Errno::Notdir));
        assert_eq!(g.path_unlink_file(f, "x"), Err(Errno::Notdir));
        assert_eq!(g.path_filestat_get(f, 0, "x").err(), Some(Errno::Notdir));
        assert_eq!(g.fd_readdir(f, 100, 0), Err(Errno::Notdir));
        // A directory has no data: EBADF, as in wasmtime.
        assert_eq!(g.fd_read(ROOT, &[1]), Err(Errno::Badf));
        assert_eq!(g.fd_seek(ROOT, 0, WHENCE_SET), Err(Errno::Badf));
        // A pipe has no position.
        let (r, w) = rustix::pipe::pipe().unwrap();
        let r = g.add_fd(r);
        assert_eq!(g.fd_seek(r, 0, WHENCE_CUR), Err(Errno::Spipe));
        assert_eq!(g.fd_tell(r), Err(Errno::Spipe));
        drop(w);
    }
}
