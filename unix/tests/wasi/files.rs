//! Open files: read, write, seek, sync, advise, allocate, stat, truncate, times.

use crate::guest::{ROOT, TempDir, setup, wasi::*};
use std::os::unix::fs::MetadataExt;
use wasirun_wasi::Errno;

fn create(g: &mut crate::guest::Guest, name: &str) -> u32 {
    g.path_open(ROOT, 0, name, O_CREAT, RW | FD_SEEK | FD_TELL, 0, 0)
        .unwrap()
}

#[test]
fn write_then_read_back_and_on_the_host() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    let fd = create(&mut g, "f");
    assert_eq!(g.fd_write(fd, &[b"hello ", b"world"]).unwrap(), 11);
    assert_eq!(std::fs::read(dir.join("f")).unwrap(), b"hello world");
    assert_eq!(g.fd_tell(fd).unwrap(), 11);
    assert_eq!(g.fd_seek(fd, 0, WHENCE_SET).unwrap(), 0);
    assert_eq!(g.fd_read(fd, &[5, 100]).unwrap(), b"hello world");
    assert_eq!(g.fd_read(fd, &[10]).unwrap(), b"", "end of file");
    // Scatter over several buffers.
    g.fd_seek(fd, 0, WHENCE_SET).unwrap();
    assert_eq!(g.fd_read(fd, &[2, 0, 3]).unwrap(), b"hello");
}

#[test]
fn pread_and_pwrite_leave_the_offset() {
    let dir = TempDir::new();
    std::fs::write(dir.join("f"), b"0123456789").unwrap();
    let mut g = setup(&dir);
    let fd = g
        .path_open(ROOT, 0, "f", 0, RW | FD_SEEK | FD_TELL, 0, 0)
        .unwrap();
    assert_eq!(g.fd_pread(fd, 3, 4).unwrap(), b"456");
    assert_eq!(g.fd_pwrite(fd, b"ab", 8).unwrap(), 2);
    assert_eq!(
        g.fd_pwrite(fd, b"XY", 12).unwrap(),
        2,
        "past the end: a hole"
    );
    assert_eq!(g.fd_tell(fd).unwrap(), 0);
    assert_eq!(std::fs::read(dir.join("f")).unwrap(), b"01234567ab\0\0XY");
    assert_eq!(g.fd_pread(fd, 10, 100).unwrap(), b"");
}

#[test]
fn seek_from_everywhere() {
    let dir = TempDir::new();
    std::fs::write(dir.join("f"), b"0123456789").unwrap();
    let mut g = setup(&dir);
    let fd = g
        .path_open(ROOT, 0, "f", 0, FD_READ | FD_SEEK | FD_TELL, 0, 0)
        .unwrap();
    assert_eq!(g.fd_seek(fd, 3, WHENCE_SET).unwrap(), 3);
    assert_eq!(g.fd_seek(fd, 2, WHENCE_CUR).unwrap(), 5);
    assert_eq!(g.fd_seek(fd, -1, WHENCE_CUR).unwrap(), 4);
    assert_eq!(g.fd_seek(fd, -2, WHENCE_END).unwrap(), 8);
    assert_eq!(g.fd_read(fd, &[10]).unwrap(), b"89");
    assert_eq!(g.fd_seek(fd, 0, WHENCE_CUR).unwrap(), 10);
    assert_eq!(g.fd_seek(fd, -1, WHENCE_SET), Err(Errno::Inval));
    assert_eq!(g.fd_seek(fd, -100, WHENCE_CUR), Err(Errno::Inval));
    assert_eq!(g.fd_seek(fd, 0, 3).err(), Some(Errno::Inval), "bad whence");
    assert_eq!(g.fd_tell(fd).unwrap(), 10);
}

#[test]
fn unknown_fds_are_ebadf() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    for fd in [4, 100, u32::MAX] {
        assert_eq!(g.fd_read(fd, &[1]), Err(Errno::Badf));
        assert_eq!(g.fd_write(fd, &[b"x"]), Err(Errno::Badf));
        assert_eq!(g.fd_pread(fd, 1, 0), Err(Errno::Badf));
        assert_eq!(g.fd_pwrite(fd, b"x", 0), Err(Errno::Badf));
        assert_eq!(g.fd_seek(fd, 0, WHENCE_SET), Err(Errno::Badf));
        assert_eq!(g.fd_tell(fd), Err(Errno::Badf));
        assert_eq!(g.fd_sync(fd), Err(Errno::Badf));
        assert_eq!(g.fd_datasync(fd), Err(Errno::Badf));
        assert_eq!(g.fd_advise(fd, 0, 0, 0), Err(Errno::Badf));
        assert_eq!(g.fd_allocate(fd, 0, 1), Err(Errno::Badf));
        assert_eq!(g.fd_filestat_get(fd), Err(Errno::Badf));
        assert_eq!(g.fd_filestat_set_size(fd, 0), Err(Errno::Badf));
        assert_eq!(g.fd_filestat_set_times(fd, 0, 0, 0), Err(Errno::Badf));
        assert_eq!(g.fd_fdstat_get(fd), Err(Errno::Badf));
        assert_eq!(g.fd_fdstat_set_flags(fd, 0), Err(Errno::Badf));
        assert_eq!(g.fd_fdstat_set_rights(fd, 0, 0), Err(Errno::Badf));
        assert_eq!(g.fd_close(fd), Err(Errno::Badf));
        assert_eq!(g.fd_readdir(fd, 100, 0), Err(Errno::Badf));
        assert_eq!(g.fd_prestat_get(fd), Err(Errno::Badf));
        assert_eq!(g.fd_prestat_dir_name(fd, 10), Err(Errno::Badf));
        assert_eq!(g.path_open(fd, 0, "f", 0, 0, 0, 0), Err(Errno::Badf));
        assert_eq!(g.path_create_directory(fd, "d"), Err(Errno::Badf));
        assert_eq!(g.path_remove_directory(fd, "d"), Err(Errno::Badf));
        assert_eq!(g.path_unlink_file(fd, "f"), Err(Errno::Badf));
        assert_eq!(g.path_filestat_get(fd, 0, "f"), Err(Errno::Badf));
        assert_eq!(
            g.path_filestat_set_times(fd, 0, "f", 0, 0, 0),
            Err(Errno::Badf)
        );
        assert_eq!(g.path_readlink(fd, "f", 10), Err(Errno::Badf));
        assert_eq!(g.path_symlink("x", fd, "l"), Err(Errno::Badf));
        assert_eq!(g.path_rename(fd, "a", ROOT, "b"), Err(Errno::Badf));
        assert_eq!(g.path_rename(ROOT, "a", fd, "b"), Err(Errno::Badf));
        assert_eq!(g.path_link(fd, 0, "a", ROOT, "b"), Err(Errno::Badf));
        assert_eq!(g.path_link(ROOT, 0, "a", fd, "b"), Err(Errno::Badf));
        assert_eq!(g.sock_accept(fd, 0), Err(Errno::Badf));
        assert_eq!(g.sock_recv(fd, 1, 0).err(), Some(Errno::Badf));
        assert_eq!(g.sock_send(fd, b"x", 0), Err(Errno::Badf));
        assert_eq!(g.sock_shutdown(fd, 3), Err(Errno::Badf));
    }
}

#[test]
fn writing_a_file_opened_for_reading_is_ebadf() {
    let dir = TempDir::new();
    std::fs::write(dir.join("f"), b"data").unwrap();
    let mut g = setup(&dir);
    let fd = g.path_open(ROOT, 0, "f", 0, FD_READ, 0, 0).unwrap();
    assert_eq!(g.fd_write(fd, &[b"x"]), Err(Errno::Badf));
    assert_eq!(g.fd_pwrite(fd, b"x", 0), Err(Errno::Badf));
    let fd = g.path_open(ROOT, 0, "f", 0, FD_WRITE, 0, 0).unwrap();
    assert_eq!(g.fd_read(fd, &[4]), Err(Errno::Badf));
    assert_eq!(std::fs::read(dir.join("f")).unwrap(), b"data");
}

#[test]
fn file_calls_on_a_directory_are_ebadf() {
    // As in wasmtime's preview1_dir_fd_op_failures, where Linux would say EISDIR or succeed.
    let dir = TempDir::new();
    std::fs::create_dir(dir.join("d")).unwrap();
    let mut g = setup(&dir);
    let d = g.path_open(ROOT, 0, "d", O_DIRECTORY, 0, 0, 0).unwrap();
    for fd in [ROOT, d] {
        assert_eq!(g.fd_read(fd, &[10]), Err(Errno::Badf));
        assert_eq!(g.fd_pread(fd, 10, 0), Err(Errno::Badf));
        assert_eq!(g.fd_write(fd, &[b"x"]), Err(Errno::Badf));
        assert_eq!(g.fd_pwrite(fd, b"x", 0), Err(Errno::Badf));
        for whence in [WHENCE_SET, WHENCE_CUR, WHENCE_END] {
            assert_eq!(g.fd_seek(fd, 0, whence), Err(Errno::Badf));
        }
        assert_eq!(g.fd_tell(fd), Err(Errno::Badf));
        assert_eq!(g.fd_advise(fd, 0, 0, 4), Err(Errno::Badf));
        assert_eq!(g.fd_allocate(fd, 0, 0), Err(Errno::Badf));
        assert_eq!(g.fd_datasync(fd), Err(Errno::Badf));
        assert_eq!(g.fd_sync(fd), Err(Errno::Badf));
        assert_eq!(g.fd_fdstat_set_flags(fd, NONBLOCK), Err(Errno::Badf));
        assert_eq!(g.fd_filestat_set_size(fd, 0), Err(Errno::Badf));
        // What a directory does allow.
        g.fd_filestat_get(fd).unwrap();
        g.fd_filestat_set_times(fd, 0, 0, MTIM_NOW).unwrap();
        g.fd_readdir(fd, 100, 0).unwrap();
    }
}

#[test]
fn sync_advise_allocate_truncate() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    let fd = create(&mut g, "f");
    g.fd_write(fd, &[b"abc"]).unwrap();
    g.fd_sync(fd).unwrap();
    g.fd_datasync(fd).unwrap();
    for advice in 0..6 {
        g.fd_advise(fd, 0, 0, advice).unwrap();
    }
    assert_eq!(
        g.fd_advise(fd, 0, 0, 6),
        Err(Errno::Inval),
        "no such advice"
    );
    g.fd_allocate(fd, 0, 1000).unwrap();
    assert_eq!(std::fs::metadata(dir.join("f")).unwrap().len(), 1000);
    g.fd_allocate(fd, 10, 10).unwrap();
    assert_eq!(
        std::fs::metadata(dir.join("f")).unwrap().len(),
        1000,
        "allocate never shrinks"
    );
    assert_eq!(g.fd_allocate(fd, 0, 0), Err(Errno::Inval));
    g.fd_filestat_set_size(fd, 2).unwrap();
    assert_eq!(std::fs::read(dir.join("f")).unwrap(), b"ab");
    g.fd_filestat_set_size(fd, 4).unwrap();
    assert_eq!(std::fs::read(dir.join("f")).unwrap(), b"ab\0\0");
}

#[test]
fn filestat_matches_the_host() {
    let dir = TempDir::new();
    std::fs::write(dir.join("f"), b"12345").unwrap();
    let mut g = setup(&dir);
    let fd = g.path_open(ROOT, 0, "f", 0, FD_READ, 0, 0).unwrap();
    let st = g.fd_filestat_get(fd).unwrap();
    let host = std::fs::metadata(dir.join("f")).unwrap();
    assert_eq!(st.size, 5);
    assert_eq!(st.filetype, FILETYPE_REGULAR_FILE);
    assert_eq!(
        (st.dev, st.ino, st.nlink),
        (host.dev(), host.ino(), host.nlink())
    );
    assert_eq!(
        st.mtim,
        host.mtime() as u64 * 1_000_000_000 + host.mtime_nsec() as u64
    );
    let root = g.fd_filestat_get(ROOT).unwrap();
    assert_eq!(root.filetype, FILETYPE_DIRECTORY);
    assert_eq!(root.ino, std::fs::metadata(dir.path()).unwrap().ino());
}

#[test]
fn set_times_explicit_and_now() {
    let dir = TempDir::new();
    std::fs::write(dir.join("f"), b"").unwrap();
    let mut g = setup(&dir);
    let fd = g.path_open(ROOT, 0, "f", 0, FD_READ, 0, 0).unwrap();
    let t = 1_000_000_000_123_456_789;
    g.fd_filestat_set_times(fd, t, t + 1, ATIM | MTIM).unwrap();
    let host = std::fs::metadata(dir.join("f")).unwrap();
    assert_eq!(
        host.atime() as u64 * 1_000_000_000 + host.atime_nsec() as u64,
        t
    );
    assert_eq!(
        host.mtime() as u64 * 1_000_000_000 + host.mtime_nsec() as u64,
        t + 1
    );
    // Only the access time moves; the other is left alone.
    g.fd_filestat_set_times(fd, 0, 0, ATIM_NOW).unwrap();
    let st = g.fd_filestat_get(fd).unwrap();
    assert!(st.atim > t + 1_000_000_000);
    assert_eq!(st.mtim, t + 1);
    assert_eq!(
        g.fd_filestat_set_times(fd, 0, 0, ATIM | ATIM_NOW),
        Err(Errno::Inval)
    );
    assert_eq!(
        g.fd_filestat_set_times(fd, 0, 0, MTIM | MTIM_NOW),
        Err(Errno::Inval)
    );
    // Through the path.
    g.path_filestat_set_times(ROOT, 0, "f", 5, 7_000_000_000, ATIM | MTIM)
        .unwrap();
    let st = g.path_filestat_get(ROOT, 0, "f").unwrap();
    assert_eq!((st.atim, st.mtim), (5, 7_000_000_000));
    assert_eq!(
        g.path_filestat_set_times(ROOT, 0, "f", 0, 0, MTIM | MTIM_NOW),
        Err(Errno::Inval)
    );
}

#[test]
fn append_goes_to_the_end() {
    let dir = TempDir::new();
    std::fs::write(dir.join("f"), b"start").unwrap();
    let mut g = setup(&dir);
    let fd = g
        .path_open(ROOT, 0, "f", 0, RW | FD_SEEK, 0, APPEND)
        .unwrap();
    assert_eq!(g.fd_fdstat_get(fd).unwrap().1 & APPEND, APPEND);
    g.fd_seek(fd, 0, WHENCE_SET).unwrap();
    g.fd_write(fd, &[b"+end"]).unwrap();
    assert_eq!(std::fs::read(dir.join("f")).unwrap(), b"start+end");
    // Off: writes go to the offset.
    g.fd_fdstat_set_flags(fd, 0).unwrap();
    assert_eq!(g.fd_fdstat_get(fd).unwrap().1 & APPEND, 0);
    g.fd_seek(fd, 0, WHENCE_SET).unwrap();
    g.fd_write(fd, &[b"S"]).unwrap();
    assert_eq!(std::fs::read(dir.join("f")).unwrap(), b"Start+end");
}

#[test]
fn fdstat_flags_nonblock_and_sync() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    let fd = g.path_open(ROOT, 0, "f", O_CREAT, RW, 0, 0).unwrap();
    g.fd_fdstat_set_flags(fd, NONBLOCK).unwrap();
    assert_eq!(g.fd_fdstat_get(fd).unwrap().1, NONBLOCK);
    g.fd_fdstat_set_flags(fd, APPEND | NONBLOCK).unwrap();
    assert_eq!(g.fd_fdstat_get(fd).unwrap().1, APPEND | NONBLOCK);
    assert_eq!(g.fd_fdstat_set_flags(fd, SYNC), Err(Errno::Notsup));
    assert_eq!(g.fd_fdstat_set_flags(fd, DSYNC), Err(Errno::Notsup));
    let synced = g.path_open(ROOT, 0, "f", 0, RW, 0, SYNC | DSYNC).unwrap();
    assert_eq!(g.fd_fdstat_get(synced).unwrap().1, SYNC | DSYNC);
    // Keeping the sync flags is fine.
    g.fd_fdstat_set_flags(synced, SYNC | DSYNC | APPEND)
        .unwrap();
    assert_eq!(g.fd_fdstat_get(synced).unwrap().1, SYNC | DSYNC | APPEND);
    assert_eq!(g.fd_fdstat_set_flags(synced, 0), Err(Errno::Notsup));
}
