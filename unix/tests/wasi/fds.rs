//! The fd table: stdio, preopens, close, renumber, prestat, caps, and closing on drop.

use crate::guest::{Guest, ROOT, TempDir, setup, setup_with, wasi::*};
use wasirun_unix::{Builder, DirMode};
use wasirun_wasi::Errno;

#[test]
fn stdio_then_preopens_in_order() {
    let a = TempDir::new();
    let b = TempDir::new();
    let mut builder = Builder::new();
    builder
        .preopen_dir(a.path(), "/a", DirMode::ReadWrite)
        .unwrap();
    builder
        .preopen_dir(b.path(), "b-dir", DirMode::ReadOnly)
        .unwrap();
    let mut g = Guest::new(builder.build().unwrap());
    for fd in 0..3 {
        assert_eq!(g.fd_prestat_get(fd), Err(Errno::Badf));
        g.fd_fdstat_get(fd).unwrap();
    }
    assert_eq!(g.fd_prestat_get(3).unwrap(), 2);
    assert_eq!(g.fd_prestat_dir_name(3, 2).unwrap(), b"/a");
    assert_eq!(g.fd_prestat_get(4).unwrap(), 5);
    assert_eq!(g.fd_prestat_dir_name(4, 5).unwrap(), b"b-dir");
    // A larger buffer gets the name at its front; a smaller one is ENAMETOOLONG.
    assert_eq!(&g.fd_prestat_dir_name(4, 8).unwrap()[..5], b"b-dir");
    assert_eq!(g.fd_prestat_dir_name(4, 4), Err(Errno::Nametoolong));
    assert_eq!(g.fd_prestat_get(5), Err(Errno::Badf));
    let (filetype, _, _, _) = g.fd_fdstat_get(3).unwrap();
    assert_eq!(filetype, FILETYPE_DIRECTORY);
}

#[test]
fn preopening_a_missing_or_non_directory_fails_now() {
    let dir = TempDir::new();
    std::fs::write(dir.join("file"), b"").unwrap();
    let mut b = Builder::new();
    let err = b
        .preopen_dir(dir.join("missing"), "/", DirMode::ReadWrite)
        .err()
        .unwrap();
    assert!(
        matches!(&err, wasirun_unix::Error::OpenDir { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    );
    let err = b
        .preopen_dir(dir.join("file"), "/", DirMode::ReadWrite)
        .err()
        .unwrap();
    assert!(
        matches!(&err, wasirun_unix::Error::OpenDir { source, .. } if source.raw_os_error() == Some(20))
    );
    assert!(err.to_string().contains("file"));
}

#[test]
fn a_builder_builds_again() {
    let dir = TempDir::new();
    let mut b = Builder::new();
    b.preopen_dir(dir.path(), "/", DirMode::ReadWrite).unwrap();
    let mut one = Guest::new(b.build().unwrap());
    let mut two = Guest::new(b.build().unwrap());
    one.path_create_directory(ROOT, "one").unwrap();
    two.path_create_directory(ROOT, "two").unwrap();
    assert!(dir.join("one").is_dir() && dir.join("two").is_dir());
}

#[test]
fn close_frees_the_lowest_number() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    let a = g.path_open(ROOT, 0, "a", O_CREAT, RW, 0, 0).unwrap();
    let b = g.path_open(ROOT, 0, "b", O_CREAT, RW, 0, 0).unwrap();
    let c = g.path_open(ROOT, 0, "c", O_CREAT, RW, 0, 0).unwrap();
    assert_eq!((a, b, c), (4, 5, 6));
    g.fd_close(b).unwrap();
    assert_eq!(g.fd_close(b), Err(Errno::Badf));
    assert_eq!(g.fd_write(b, &[b"x"]), Err(Errno::Badf));
    g.fd_close(a).unwrap();
    assert_eq!(g.path_open(ROOT, 0, "d", O_CREAT, RW, 0, 0).unwrap(), 4);
    assert_eq!(g.path_open(ROOT, 0, "e", O_CREAT, RW, 0, 0).unwrap(), 5);
}

#[test]
fn closing_guest_stdio_leaves_the_host_alone() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    g.fd_close(1).unwrap();
    g.fd_close(2).unwrap();
    assert_eq!(g.fd_write(1, &[b"x"]), Err(Errno::Badf));
    // The host's own stdout and stderr still work.
    use std::io::Write;
    std::io::stderr().write_all(b"").unwrap();
    assert!(rustix::fs::fcntl_getfl(rustix::stdio::stderr()).is_ok());
    assert!(rustix::fs::fcntl_getfl(rustix::stdio::stdout()).is_ok());
    // The guest's next file takes fd 1.
    assert_eq!(g.path_open(ROOT, 0, "f", O_CREAT, RW, 0, 0).unwrap(), 1);
}

#[test]
fn renumber_rules() {
    let dir = TempDir::new();
    std::fs::write(dir.join("a"), b"A").unwrap();
    std::fs::write(dir.join("b"), b"B").unwrap();
    let mut g = setup(&dir);
    let a = g.path_open(ROOT, 0, "a", 0, FD_READ, 0, 0).unwrap();
    let b = g.path_open(ROOT, 0, "b", 0, FD_READ, 0, 0).unwrap();
    // Both must be open; a huge target is EBADF, not a huge table.
    assert_eq!(g.fd_renumber(a, u32::MAX), Err(Errno::Badf));
    assert_eq!(g.fd_renumber(a, 1_000_000), Err(Errno::Badf));
    assert_eq!(g.fd_renumber(99, a), Err(Errno::Badf));
    g.fd_renumber(a, a).unwrap();
    assert_eq!(g.fd_read(a, &[1]).unwrap(), b"A");
    // b now reads a's file; a is free.
    g.fd_renumber(a, b).unwrap();
    assert_eq!(g.fd_read(b, &[1]).unwrap(), b"", "a's offset came along");
    assert_eq!(g.fd_close(a), Err(Errno::Badf));
    assert_eq!(g.path_open(ROOT, 0, "b", 0, FD_READ, 0, 0).unwrap(), a);
}

#[test]
fn renumbering_preopens_moves_them() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    let f = g.path_open(ROOT, 0, "f", O_CREAT, RW, 0, 0).unwrap();
    // The preopen moves to f's number: still a preopen there, and path calls work.
    g.fd_renumber(ROOT, f).unwrap();
    assert_eq!(g.fd_prestat_get(ROOT), Err(Errno::Badf));
    assert_eq!(g.fd_prestat_dir_name(f, 8).unwrap(), b"/sandbox");
    g.path_create_directory(f, "d").unwrap();
    // Renumbering a file over a preopen closes the preopen.
    let file = g.path_open(f, 0, "f", 0, FD_READ, 0, 0).unwrap();
    g.fd_renumber(file, f).unwrap();
    assert_eq!(g.fd_prestat_get(f), Err(Errno::Badf));
    assert_eq!(g.path_create_directory(f, "e"), Err(Errno::Notdir));
}

#[test]
fn fdstat_set_rights_only_drops() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    let fd = g.path_open(ROOT, 0, "f", O_CREAT, RW, 0, 0).unwrap();
    let (_, _, base, inheriting) = g.fd_fdstat_get(fd).unwrap();
    assert!(base & RW == RW);
    g.fd_fdstat_set_rights(fd, base & !FD_WRITE, inheriting)
        .unwrap();
    assert_eq!(g.fd_fdstat_get(fd).unwrap().2, base & !FD_WRITE);
    assert_eq!(
        g.fd_fdstat_set_rights(fd, base, inheriting),
        Err(Errno::Notcapable)
    );
    let (_, _, root_base, root_inh) = g.fd_fdstat_get(ROOT).unwrap();
    assert_eq!(
        g.fd_fdstat_set_rights(ROOT, root_base, root_inh | (1 << 29)),
        Err(Errno::Notcapable)
    );
    g.fd_fdstat_set_rights(ROOT, root_base, 0).unwrap();
    assert_eq!(g.fd_fdstat_get(ROOT).unwrap().3, 0);
    // Bits that are no right are EINVAL before anything.
    assert_eq!(g.fd_fdstat_set_rights(fd, 1 << 40, 0), Err(Errno::Inval));
}

#[test]
fn rights_are_reported_per_type_and_access() {
    let dir = TempDir::new();
    std::fs::create_dir(dir.join("d")).unwrap();
    let mut g = setup(&dir);
    let (_, _, base, inheriting) = g.fd_fdstat_get(ROOT).unwrap();
    assert!(base & (PATH_OPEN | PATH_CREATE_FILE | FD_READDIR) != 0);
    assert_eq!(
        base & (FD_READ | FD_WRITE | FD_SEEK),
        0,
        "a directory is not read or seeked"
    );
    assert_eq!(inheriting & (RW | FD_SEEK), RW | FD_SEEK);
    let ro = g.path_open(ROOT, 0, "f", O_CREAT, FD_READ, 0, 0).unwrap();
    let (filetype, _, base, _) = g.fd_fdstat_get(ro).unwrap();
    assert_eq!(filetype, FILETYPE_REGULAR_FILE);
    assert_eq!(base & RW, FD_READ);
    assert!(base & (FD_SEEK | FD_TELL | FD_FILESTAT_GET) != 0);
    assert_eq!(base & (PATH_OPEN | FD_READDIR), 0, "a file opens nothing");
    let wo = g.path_open(ROOT, 0, "f", 0, FD_WRITE, 0, 0).unwrap();
    assert_eq!(g.fd_fdstat_get(wo).unwrap().2 & RW, FD_WRITE);
    let d = g.path_open(ROOT, 0, "d", O_DIRECTORY, 0, 0, 0).unwrap();
    let (filetype, _, base, _) = g.fd_fdstat_get(d).unwrap();
    assert_eq!(filetype, FILETYPE_DIRECTORY);
    assert!(base & PATH_OPEN != 0);
}

/// A plain `path_open` does not ask the new fd's type; the calls that need it do, and get
/// what an open that asked would have: the same type, rights and errors, in both rights modes,
/// whether the first call to need the type is `fd_fdstat_get`, a file-data call, or an
/// `fd_filestat_get` that tells it on its way.
#[test]
fn a_type_asked_late_is_the_type() {
    let dir = TempDir::new();
    std::fs::create_dir(dir.join("d")).unwrap();
    std::fs::write(dir.join("f"), b"data").unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        dir.join("fifo"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    for strict in [false, true] {
        let mut g = setup_with(&dir, |b| {
            b.enforce_rights(strict);
        });
        let asked = g.fd_fdstat_get(ROOT).unwrap().3 & !FD_WRITE;
        let open = |g: &mut Guest, path: &str, oflags: u16, fdflags: u16| {
            g.path_open(ROOT, 0, path, oflags, asked, asked, fdflags)
                .unwrap()
        };
        // The directory, opened without and with O_DIRECTORY.
        let late = open(&mut g, "d", 0, 0);
        let known = open(&mut g, "d", O_DIRECTORY, 0);
        assert_eq!(g.fd_read(late, &[4]), Err(Errno::Badf), "{strict}");
        assert_eq!(g.fd_seek(late, 0, WHENCE_CUR), Err(Errno::Badf));
        assert_eq!(g.fd_fdstat_get(late), g.fd_fdstat_get(known));
        assert_eq!(g.fd_fdstat_get(late).unwrap().0, FILETYPE_DIRECTORY);
        let late = open(&mut g, "d", 0, 0);
        assert!(g.path_open(late, 0, ".", O_DIRECTORY, 0, 0, 0).is_ok());
        assert_eq!(g.fd_fdstat_get(late), g.fd_fdstat_get(known));
        // The file: typed by its first fd_filestat_get, by its first read, or by fdstat.
        let new = format!("new-{strict}");
        let known = g.path_open(ROOT, 0, &new, O_CREAT | O_EXCL, asked, asked, 0);
        let known = g.fd_fdstat_get(known.unwrap()).unwrap();
        for first in ["filestat", "read", "fdstat"] {
            let f = open(&mut g, "f", 0, 0);
            match first {
                "filestat" => {
                    assert_eq!(
                        g.fd_filestat_get(f).unwrap().filetype,
                        FILETYPE_REGULAR_FILE
                    )
                }
                "read" => assert_eq!(g.fd_read(f, &[4]).unwrap(), b"data"),
                _ => {}
            }
            assert_eq!(g.fd_fdstat_get(f).unwrap(), known, "{first} {strict}");
            assert_eq!(g.fd_seek(f, 0, WHENCE_END), Ok(4));
            assert_eq!(
                g.path_open(f, 0, "x", 0, 0, 0, 0),
                Err(Errno::Notdir),
                "a file opens nothing"
            );
        }
        // The FIFO (no writer, so non-blocking): a stream, with no position.
        for first in ["filestat", "seek"] {
            let fifo = open(&mut g, "fifo", 0, NONBLOCK);
            if first == "filestat" {
                assert_eq!(g.fd_filestat_get(fifo).unwrap().filetype, FILETYPE_UNKNOWN);
            }
            assert_eq!(g.fd_seek(fifo, 0, WHENCE_CUR), Err(Errno::Spipe), "{first}");
            let (filetype, _, base, _) = g.fd_fdstat_get(fifo).unwrap();
            assert_eq!(filetype, FILETYPE_UNKNOWN);
            assert_eq!(base & (FD_SEEK | FD_TELL), 0);
            assert_eq!(base & FD_READ, FD_READ);
        }
    }
}

#[test]
fn the_open_files_cap_is_enfile() {
    let dir = TempDir::new();
    // stdio, the preopen, and two more.
    let mut g = setup_with(&dir, |b| {
        b.max_open_files(6);
    });
    g.path_open(ROOT, 0, "a", O_CREAT, RW, 0, 0).unwrap();
    let b = g.path_open(ROOT, 0, "b", O_CREAT, RW, 0, 0).unwrap();
    assert_eq!(
        g.path_open(ROOT, 0, "c", O_CREAT, RW, 0, 0),
        Err(Errno::Nfile)
    );
    assert!(
        !dir.join("c").exists(),
        "refused before anything was created"
    );
    g.fd_close(b).unwrap();
    g.path_open(ROOT, 0, "c", O_CREAT, RW, 0, 0).unwrap();
    // Many times over: never a crash.
    for _ in 0..100 {
        assert_eq!(
            g.path_open(ROOT, 0, "a", 0, FD_READ, 0, 0),
            Err(Errno::Nfile)
        );
    }
}

/// The host descriptors that point into `dir`, from /proc/self/fd.
fn host_fds_into(dir: &TempDir) -> usize {
    let canon = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target.starts_with(&canon))
        .count()
}

#[test]
fn dropping_the_system_closes_every_host_fd() {
    let dir = TempDir::new();
    std::fs::create_dir(dir.join("d")).unwrap();
    let mut b = Builder::new();
    b.preopen_dir(dir.path(), "/", DirMode::ReadWrite).unwrap();
    let mut g = Guest::new(b.build().unwrap());
    drop(b);
    for name in ["a", "b", "c"] {
        g.path_open(ROOT, 0, name, O_CREAT, RW, 0, 0).unwrap();
    }
    let d = g.path_open(ROOT, 0, "d", O_DIRECTORY, 0, 0, 0).unwrap();
    g.fd_readdir(d, 1000, 0).unwrap();
    g.fd_readdir(ROOT, 1000, 0).unwrap();
    // Preopen, 3 files, d, and the preopen's directory stream (a directory the guest opened
    // is listed through its own descriptor).
    assert_eq!(host_fds_into(&dir), 6);
    drop(g);
    assert_eq!(host_fds_into(&dir), 0);
}

#[test]
fn added_fds_are_typed_by_the_host() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    let (r, w) = rustix::pipe::pipe().unwrap();
    let rfd = g.add_fd(r);
    let wfd = g.add_fd(w);
    assert_eq!((rfd, wfd), (4, 5));
    let (filetype, _, base, _) = g.fd_fdstat_get(rfd).unwrap();
    assert_eq!(filetype, FILETYPE_UNKNOWN, "preview 1 has no FIFO type");
    assert_eq!(base & (RW | FD_SEEK), FD_READ);
    assert_eq!(g.fd_write(wfd, &[b"through"]).unwrap(), 7);
    assert_eq!(g.fd_read(rfd, &[100]).unwrap(), b"through");
    assert_eq!(g.fd_seek(rfd, 0, WHENCE_SET), Err(Errno::Spipe));
    assert_eq!(g.fd_pread(rfd, 1, 0), Err(Errno::Spipe));
}

#[test]
fn stdio_filestat_keeps_the_type_and_hides_the_host_file() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    for fd in 0..3 {
        let st = g.fd_filestat_get(fd).unwrap();
        assert_eq!(st.filetype, g.fd_fdstat_get(fd).unwrap().0, "fd {fd}");
        assert_eq!(
            (st.dev, st.ino, st.atim, st.mtim, st.ctim),
            (0, 0, 0, 0, 0),
            "fd {fd}"
        );
    }
    // A file the host hands over otherwise is the guest's own business: it keeps its identity.
    std::fs::write(dir.join("f"), b"abc").unwrap();
    let file = std::fs::File::open(dir.join("f")).unwrap();
    let fd = g.add_fd(file);
    let st = g.fd_filestat_get(fd).unwrap();
    assert!(st.ino != 0 && st.mtim != 0);
    assert_eq!(st.size, 3);
}

#[test]
fn fdstat_flags_follow_the_guest_and_for_shared_descriptors_the_host() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    // A file the guest opened: only the guest changes its description.
    let f = g
        .path_open(ROOT, 0, "f", O_CREAT, RW, 0, APPEND | NONBLOCK)
        .unwrap();
    assert_eq!(g.fd_fdstat_get(f).unwrap().1, APPEND | NONBLOCK);
    g.fd_fdstat_set_flags(f, APPEND).unwrap();
    assert_eq!(g.fd_fdstat_get(f).unwrap().1, APPEND);
    g.fd_fdstat_set_flags(f, 0).unwrap();
    assert_eq!(g.fd_fdstat_get(f).unwrap().1, 0);
    // A pipe the host handed over and still shares: the host's changes show.
    let (r, w) = rustix::pipe::pipe().unwrap();
    let host_copy = rustix::io::dup(&r).unwrap();
    let r = g.add_fd(r);
    assert_eq!(g.fd_fdstat_get(r).unwrap().1, 0);
    rustix::fs::fcntl_setfl(&host_copy, rustix::fs::OFlags::NONBLOCK).unwrap();
    assert_eq!(g.fd_fdstat_get(r).unwrap().1, NONBLOCK);
    g.fd_fdstat_set_flags(r, 0).unwrap();
    assert!(
        !rustix::fs::fcntl_getfl(&host_copy)
            .unwrap()
            .contains(rustix::fs::OFlags::NONBLOCK)
    );
    drop(w);
}
