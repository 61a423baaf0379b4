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
    // Dropped rights are reported, not enforced.
    g.fd_fdstat_set_rights(fd, 0, 0).unwrap();
    assert_eq!(g.fd_fdstat_get(fd).unwrap().2, 0);
    assert_eq!(g.fd_pread(fd, 2, 0).unwrap(), b"da");
    // A preopen with its inheriting rights dropped still opens files.
    g.fd_fdstat_set_rights(ROOT, PATH_OPEN, 0).unwrap();
    g.path_open(ROOT, 0, "f", 0, ALL, ALL, 0).unwrap();
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
        let denied = if strict {
            Errno::Notcapable
        } else {
            Errno::Perm
        };
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
