//! The in-memory file system, mounted beside the Unix system ([`Mounted`]): a tar archive
//! read by the guest, changes kept in the overlay, escapes refused, and `poll_oneoff` over
//! fds of both systems.

use crate::guest::{Guest, TempDir, clock_sub, fd_sub, wasi::*};
use std::time::{Duration, Instant};
use wasirun_unix::mem::{MemFs, Mounted, Tree};
use wasirun_unix::{AddFd, Builder, DirMode, UnixSystem};
use wasirun_wasi::Errno;
use wasirun_wasi::dirent::DirentReader;

/// The Unix system's preopen, then the mount.
const UNIX: u32 = 3;
const APP: u32 = 4;

/// An archive with a file, a directory, and symlinks: one inside, two leading out.
fn archive(dir: &TempDir) -> std::path::PathBuf {
    let path = dir.join("app.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&path).unwrap());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, name, data).unwrap();
    };
    add("etc/motd", b"hello from the tar\n");
    add("bin/app", b"\0asm");
    let mut link = |name: &str, target: &str| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, name, target).unwrap();
    };
    link("etc/welcome", "motd");
    link("etc/out", "../../../../etc/passwd");
    link("abs", "/etc/passwd");
    b.finish().unwrap();
    path
}

fn mounted(dir: &TempDir) -> Guest<Mounted<UnixSystem>> {
    let unix = Builder::new()
        .preopen_dir(dir.path(), "/tmp", DirMode::ReadWrite)
        .unwrap()
        .build()
        .unwrap();
    let mut mem = MemFs::new();
    let tree = Tree::from_tar(&archive(dir), mem.max_bytes()).unwrap();
    mem.mount(tree, "/app", DirMode::ReadWrite);
    Guest::new(Mounted::new(unix, mem))
}

fn names(buf: &[u8]) -> Vec<String> {
    DirentReader::new(buf)
        .map(|(_, name)| String::from_utf8_lossy(name).into_owned())
        .collect()
}

#[test]
fn the_guest_reads_the_tar_beside_its_unix_preopen() {
    let dir = TempDir::new();
    let mut g = mounted(&dir);
    assert_eq!(g.fd_prestat_dir_name(UNIX, 4).unwrap(), b"/tmp");
    assert_eq!(g.fd_prestat_dir_name(APP, 4).unwrap(), b"/app");
    assert_eq!(g.fd_prestat_get(APP + 1), Err(Errno::Badf));
    let fd = g
        .path_open(APP, FOLLOW, "etc/welcome", 0, FD_READ, 0, 0)
        .unwrap();
    assert_eq!(g.fd_read(fd, &[64]).unwrap(), b"hello from the tar\n");
    assert_eq!(g.fd_tell(fd).unwrap(), 19);
    assert_eq!(g.fd_pread(fd, 4, 6).unwrap(), b"from");
    assert_eq!(g.path_filestat_get(APP, 0, "bin/app").unwrap().size, 4);
    assert_eq!(
        g.path_readlink(APP, "etc/welcome", 64).unwrap(),
        b"motd".to_vec()
    );
    let root = names(&g.fd_readdir(APP, 4096, 0).unwrap());
    assert_eq!(root, [".", "..", "abs", "bin", "etc"]);
    // From the cookie of the third entry on.
    let rest = names(&g.fd_readdir(APP, 4096, 3).unwrap());
    assert_eq!(rest, ["bin", "etc"]);
    // The Unix preopen still opens host files.
    std::fs::write(dir.join("host.txt"), b"host").unwrap();
    let host = g.path_open(UNIX, 0, "host.txt", 0, FD_READ, 0, 0).unwrap();
    assert_eq!(g.fd_read(host, &[16]).unwrap(), b"host");
    assert_eq!(g.fd_close(fd), Ok(()));
    assert_eq!(g.fd_close(fd), Err(Errno::Badf));
}

#[test]
fn changes_stay_in_the_overlay() {
    let dir = TempDir::new();
    let before = std::fs::read(archive(&dir)).unwrap();
    let mut g = mounted(&dir);
    let fd = g
        .path_open(APP, 0, "etc/new", O_CREAT | O_EXCL, RW, 0, 0)
        .unwrap();
    assert_eq!(g.fd_write(fd, &[b"new ", b"file"]).unwrap(), 8);
    assert_eq!(g.fd_pread(fd, 8, 0).unwrap(), b"new file");
    assert_eq!(
        g.path_open(APP, 0, "etc/new", O_CREAT | O_EXCL, RW, 0, 0),
        Err(Errno::Exist)
    );
    let motd = g.path_open(APP, 0, "etc/motd", O_TRUNC, RW, 0, 0).unwrap();
    assert_eq!(g.fd_write(motd, &[b"changed"]).unwrap(), 7);
    g.path_create_directory(APP, "var").unwrap();
    assert_eq!(g.path_create_directory(APP, "var"), Err(Errno::Exist));
    g.path_rename(APP, "etc/new", APP, "var/moved").unwrap();
    assert_eq!(g.path_filestat_get(APP, 0, "var/moved").unwrap().size, 8);
    assert_eq!(g.path_remove_directory(APP, "var"), Err(Errno::Notempty));
    g.path_unlink_file(APP, "var/moved").unwrap();
    g.path_remove_directory(APP, "var").unwrap();
    g.path_symlink("motd", APP, "etc/again").unwrap();
    let again = g
        .path_open(APP, FOLLOW, "etc/again", 0, FD_READ, 0, 0)
        .unwrap();
    assert_eq!(g.fd_read(again, &[64]).unwrap(), b"changed");
    // Between the two systems, nothing moves.
    assert_eq!(
        g.path_rename(APP, "etc/motd", UNIX, "motd"),
        Err(Errno::Xdev)
    );
    // The archive is as it was.
    assert_eq!(std::fs::read(dir.join("app.tar")).unwrap(), before);
}

#[test]
fn nothing_leads_out_of_the_mount() {
    let dir = TempDir::new();
    let mut g = mounted(&dir);
    for path in [
        "..",
        "../tmp",
        "/etc/passwd",
        "etc/../../x",
        "abs",
        "etc/out",
    ] {
        assert_eq!(
            g.path_open(APP, FOLLOW, path, 0, FD_READ, 0, 0),
            Err(Errno::Perm),
            "{path}"
        );
    }
    // Not followed, a symlink is itself: O_NOFOLLOW's ELOOP, and its stat.
    assert_eq!(
        g.path_open(APP, 0, "abs", 0, FD_READ, 0, 0),
        Err(Errno::Loop)
    );
    let stat = g.path_filestat_get(APP, 0, "etc/out").unwrap();
    assert_eq!(stat.filetype, FILETYPE_SYMBOLIC_LINK);
    assert_eq!(g.path_symlink("/etc/passwd", APP, "mine"), Err(Errno::Perm));
    // A directory opened beneath the mount is a boundary of its own, as in the Unix system.
    let etc = g.path_open(APP, 0, "etc", O_DIRECTORY, 0, ALL, 0).unwrap();
    assert_eq!(
        g.path_open(etc, 0, "../bin/app", 0, FD_READ, 0, 0),
        Err(Errno::Perm)
    );
    assert_eq!(
        g.path_open(etc, 0, "motd", 0, FD_READ, 0, 0).map(|_| ()),
        Ok(())
    );
}

#[test]
fn poll_over_both_systems_answers_at_once_for_files_in_memory() {
    let dir = TempDir::new();
    let mut g = mounted(&dir);
    let (read, write) = rustix::pipe::pipe().unwrap();
    let pipe = g.store.data_mut().system_mut().add_fd(read).unwrap().0;
    let file = g.path_open(APP, 0, "etc/motd", 0, FD_READ, 0, 0).unwrap();
    let started = Instant::now();
    let subs = [
        fd_sub(1, file, false),
        fd_sub(2, pipe, false),
        clock_sub(3, 1, 3_600_000_000_000, false),
    ];
    let events = g.poll_oneoff(&subs).unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!((events[0].0, events[0].1, events[0].3), (1, 0, 19));
    // With the pipe readable too, both are said.
    rustix::io::write(&write, b"x").unwrap();
    let mut events = g.poll_oneoff(&subs).unwrap();
    events.sort();
    assert_eq!(events.iter().map(|e| e.0).collect::<Vec<_>>(), [1, 2]);
    // Without a file of the mount, the Unix system waits: here for the pipe.
    let events = g.poll_oneoff(&subs[1..]).unwrap();
    assert_eq!(events.iter().map(|e| e.0).collect::<Vec<_>>(), [2]);
    // A closed fd is one EBADF event.
    let events = g.poll_oneoff(&[fd_sub(9, 99, false)]).unwrap();
    assert_eq!((events[0].0, events[0].1), (9, Errno::Badf as u16));
}

#[test]
fn renumber_moves_numbers_across_the_two_systems() {
    let dir = TempDir::new();
    let mut g = mounted(&dir);
    let file = g.path_open(APP, 0, "etc/motd", 0, FD_READ, 0, 0).unwrap();
    std::fs::write(dir.join("h"), b"host").unwrap();
    let host = g.path_open(UNIX, 0, "h", 0, FD_READ, 0, 0).unwrap();
    g.fd_renumber(file, host).unwrap();
    assert_eq!(g.fd_read(host, &[5]).unwrap(), b"hello");
    assert_eq!(g.fd_read(file, &[5]), Err(Errno::Badf));
    assert_eq!(
        g.path_open(APP, 0, "etc/motd", 0, FD_READ, 0, 0).unwrap(),
        file
    );
}

#[test]
fn sizes_times_links_the_cap_and_read_only_mounts() {
    let unix = Builder::new().build().unwrap();
    let mut mem = MemFs::new().with_max_bytes(64 * 1024);
    mem.mount(Tree::new(mem.max_bytes()), "/m", DirMode::ReadWrite);
    mem.mount(Tree::new(mem.max_bytes()), "/ro", DirMode::ReadOnly);
    let mut g = Guest::new(Mounted::new(unix, mem));
    let (m, ro) = (3, 4);
    let f = g.path_open(m, 0, "f", O_CREAT, RW, 0, 0).unwrap();
    g.fd_filestat_set_size(f, 10).unwrap();
    assert_eq!(g.fd_seek(f, 0, WHENCE_END).unwrap(), 10);
    g.fd_filestat_set_times(f, 5, 7, ATIM | MTIM).unwrap();
    let stat = g.fd_filestat_get(f).unwrap();
    assert_eq!((stat.size, stat.atim, stat.mtim), (10, 5, 7));
    assert_eq!(
        g.fd_filestat_set_times(f, 5, 7, ATIM | ATIM_NOW),
        Err(Errno::Inval)
    );
    g.path_link(m, 0, "f", m, "g").unwrap();
    assert_eq!(g.path_filestat_get(m, 0, "g").unwrap().nlink, 2);
    // Past the cap: ENOSPC, and the file keeps its size.
    assert_eq!(g.fd_filestat_set_size(f, 1 << 20), Err(Errno::Nospc));
    assert_eq!(g.fd_write(f, &[&[0; 100_000]]), Err(Errno::Nospc));
    assert_eq!(g.fd_filestat_get(f).unwrap().size, 10);
    g.fd_fdstat_set_flags(f, APPEND).unwrap();
    let (filetype, flags, _, _) = g.fd_fdstat_get(f).unwrap();
    assert_eq!((filetype, flags), (FILETYPE_REGULAR_FILE, APPEND));
    assert_eq!(g.fd_fdstat_set_flags(f, SYNC), Err(Errno::Notsup));
    assert_eq!(g.sock_accept(f, 0), Err(Errno::Notsock));
    // A read-only mount: nothing made or written.
    assert_eq!(g.path_open(ro, 0, "x", O_CREAT, RW, 0, 0), Err(Errno::Perm));
    assert_eq!(g.path_create_directory(ro, "d"), Err(Errno::Perm));
    // Into it neither: the read-only mount refuses before the rename could be across mounts.
    assert_eq!(g.path_rename(m, "f", ro, "f"), Err(Errno::Perm));
}
