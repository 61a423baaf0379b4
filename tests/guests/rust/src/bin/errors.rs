//! The error paths: each errno a preview 1 call can give, by the calls that give it.
//!
//! `errors all PREOPEN`: PREOPEN holds `file.txt` ("data"), an empty `huge.txt`, an empty
//! directory `dir/`, a directory `full/` holding `x`, and a symlink loop
//! `loop1 -> loop2 -> loop1`. Stdin is a pipe. Rights are not enforced (the default).
//! Nothing in PREOPEN changes; the host checks.
//!
//! Where the witx says nothing, the errno is the one POSIX (Linux) gives for the call the
//! preview 1 function is "similar to" (`openat`, `unlinkat`, `renameat`...), as in wasmtime.

use wasi::{OFLAGS_CREAT, OFLAGS_DIRECTORY, OFLAGS_EXCL, OFLAGS_TRUNC, WHENCE_SET};
use wasirun_test_guests::*;

/// Not an open fd.
const BAD: wasi::Fd = 1234;

fn main() {
    let mut g = Guest::start();
    match g.scenario.as_str() {
        "all" => {
            let dir = g.dir;
            let Opened(file) = g.must("path_open(file.txt)", open(dir, "file.txt", 0, READ_RIGHTS));
            badf(&mut g, file);
            notdir(&mut g, dir, file);
            isdir(&mut g, dir);
            notempty(&mut g, dir);
            exist(&mut g, dir);
            inval(&mut g, dir, file);
            noent(&mut g, dir);
            others(&mut g, dir, file);
            huge(&mut g, dir);
            g.ok("fd_close(file)", close(file));
        }
        _ => g.unknown(),
    }
    g.finish()
}

/// A buffer to pass where a call writes, and its length.
fn iov(buf: &mut [u8]) -> [wasi::Iovec; 1] {
    [wasi::Iovec {
        buf: buf.as_mut_ptr(),
        buf_len: buf.len(),
    }]
}

/// EBADF: every call that takes an fd, given one that is not open; and reading or writing
/// against the fd's access mode.
fn badf(g: &mut Guest, file: wasi::Fd) {
    const E: Errno = wasi::ERRNO_BADF;
    let mut buf = [0u8; 8];
    let cio = [wasi::Ciovec {
        buf: b"x".as_ptr(),
        buf_len: 1,
    }];
    // SAFETY (every raw call in this file): the pointers passed describe buffers we own, with
    // their lengths, except where a bad pointer is the point (and says so).
    unsafe {
        g.errno(
            "fd_advise(bad fd)",
            wasi::fd_advise(BAD, 0, 0, wasi::ADVICE_NORMAL),
            E,
        );
        g.errno("fd_allocate(bad fd)", wasi::fd_allocate(BAD, 0, 1), E);
        g.errno("fd_close(bad fd)", wasi::fd_close(BAD), E);
        g.errno("fd_datasync(bad fd)", wasi::fd_datasync(BAD), E);
        g.errno(
            "fd_fdstat_get(bad fd)",
            wasi::fd_fdstat_get(BAD).map(drop),
            E,
        );
        g.errno(
            "fd_fdstat_set_flags(bad fd)",
            wasi::fd_fdstat_set_flags(BAD, 0),
            E,
        );
        g.errno(
            "fd_fdstat_set_rights(bad fd)",
            wasi::fd_fdstat_set_rights(BAD, 0, 0),
            E,
        );
        g.errno(
            "fd_filestat_get(bad fd)",
            wasi::fd_filestat_get(BAD).map(drop),
            E,
        );
        g.errno(
            "fd_filestat_set_size(bad fd)",
            wasi::fd_filestat_set_size(BAD, 0),
            E,
        );
        g.errno(
            "fd_filestat_set_times(bad fd)",
            wasi::fd_filestat_set_times(BAD, 0, 0, 0),
            E,
        );
        g.errno(
            "fd_pread(bad fd)",
            wasi::fd_pread(BAD, &iov(&mut buf), 0),
            E,
        );
        g.errno(
            "fd_prestat_get(bad fd)",
            wasi::fd_prestat_get(BAD).map(drop),
            E,
        );
        g.errno(
            "fd_prestat_dir_name(bad fd)",
            wasi::fd_prestat_dir_name(BAD, buf.as_mut_ptr(), 8),
            E,
        );
        g.errno("fd_pwrite(bad fd)", wasi::fd_pwrite(BAD, &cio, 0), E);
        g.errno("fd_read(bad fd)", wasi::fd_read(BAD, &iov(&mut buf)), E);
        g.errno(
            "fd_readdir(bad fd)",
            wasi::fd_readdir(BAD, buf.as_mut_ptr(), 8, 0),
            E,
        );
        g.errno("fd_renumber(bad fd, 1)", wasi::fd_renumber(BAD, 1), E);
        g.errno("fd_seek(bad fd)", wasi::fd_seek(BAD, 0, WHENCE_SET), E);
        g.errno("fd_sync(bad fd)", wasi::fd_sync(BAD), E);
        g.errno("fd_tell(bad fd)", wasi::fd_tell(BAD), E);
        g.errno("fd_write(bad fd)", wasi::fd_write(BAD, &cio), E);
        g.errno(
            "path_create_directory(bad fd)",
            wasi::path_create_directory(BAD, "x"),
            E,
        );
        g.errno(
            "path_filestat_get(bad fd)",
            wasi::path_filestat_get(BAD, 0, "x").map(drop),
            E,
        );
        g.errno(
            "path_filestat_set_times(bad fd)",
            wasi::path_filestat_set_times(BAD, 0, "x", 0, 0, 0),
            E,
        );
        g.errno(
            "path_link(bad fd, ...)",
            wasi::path_link(BAD, 0, "file.txt", 3, "y"),
            E,
        );
        g.errno(
            "path_link(..., bad fd)",
            wasi::path_link(3, 0, "file.txt", BAD, "y"),
            E,
        );
        g.errno(
            "path_open(bad fd)",
            wasi::path_open(BAD, 0, "x", 0, 0, 0, 0).map(drop),
            E,
        );
        g.errno(
            "path_readlink(bad fd)",
            wasi::path_readlink(BAD, "x", buf.as_mut_ptr(), 8).map(drop),
            E,
        );
        g.errno(
            "path_remove_directory(bad fd)",
            wasi::path_remove_directory(BAD, "x"),
            E,
        );
        g.errno(
            "path_rename(bad fd, ...)",
            wasi::path_rename(BAD, "x", 3, "y"),
            E,
        );
        g.errno(
            "path_rename(..., bad fd)",
            wasi::path_rename(3, "x", BAD, "y"),
            E,
        );
        g.errno("path_symlink(bad fd)", wasi::path_symlink("x", BAD, "y"), E);
        g.errno(
            "path_unlink_file(bad fd)",
            wasi::path_unlink_file(BAD, "x"),
            E,
        );
        g.errno(
            "sock_accept(bad fd)",
            wasi::sock_accept(BAD, 0).map(drop),
            E,
        );
        g.errno(
            "sock_recv(bad fd)",
            wasi::sock_recv(BAD, &iov(&mut buf), 0).map(drop),
            E,
        );
        g.errno("sock_send(bad fd)", wasi::sock_send(BAD, &cio, 0), E);
        g.errno(
            "sock_shutdown(bad fd)",
            wasi::sock_shutdown(BAD, wasi::SDFLAGS_RD),
            E,
        );
        g.errno("fd_close(u32::MAX)", wasi::fd_close(u32::MAX), E);
        g.errno(
            "fd_read(u32::MAX)",
            wasi::fd_read(u32::MAX, &iov(&mut buf)),
            E,
        );
    }
    // Writing what was opened for reading only (the fd's access mode, as write(2) says).
    g.errno("fd_write(file opened for reading)", write(file, b"x"), E);
    g.errno(
        "fd_pwrite(file opened for reading)",
        pwrite(file, b"x", 0),
        E,
    );
    let wo = open(3, "file.txt", 0, wasi::RIGHTS_FD_WRITE);
    if let Some(Opened(wo)) = g.ok("path_open(file.txt, FD_WRITE only)", wo) {
        g.errno("fd_read(file opened for writing only)", read(wo, 1), E);
        g.ok("fd_close", close(wo));
    }
    // File calls on a directory: EBADF, as in wasmtime (its preview1_dir_fd_op_failures test
    // program asks for it), where Linux would say EISDIR for reading and let seek and sync be.
    g.errno("fd_write(preopen directory)", write(3, b"x"), E);
    let Opened(sub) = open_dir(3, "dir").expect("path_open(dir)");
    g.errno("fd_read(directory fd)", read(sub, 8), E);
    g.errno("fd_pread(directory fd)", pread(sub, 8, 0), E);
    g.errno("fd_seek(directory fd)", seek(sub, 0, WHENCE_SET), E);
    g.errno("fd_tell(directory fd)", tell(sub), E);
    // SAFETY (the raw calls below): no pointers.
    unsafe {
        g.errno("fd_sync(directory fd)", wasi::fd_sync(sub), E);
        g.errno("fd_datasync(directory fd)", wasi::fd_datasync(sub), E);
        g.errno(
            "fd_advise(directory fd)",
            wasi::fd_advise(sub, 0, 0, wasi::ADVICE_NORMAL),
            E,
        );
        g.errno("fd_allocate(directory fd)", wasi::fd_allocate(sub, 0, 1), E);
        g.errno(
            "fd_filestat_set_size(directory fd)",
            wasi::fd_filestat_set_size(sub, 0),
            E,
        );
        g.errno(
            "fd_fdstat_set_flags(directory fd)",
            wasi::fd_fdstat_set_flags(sub, 0),
            E,
        );
    }
    g.ok("fd_close(dir)", close(sub));
}

/// ENOTDIR: a path through a file, a directory operation on a file, a file used as a
/// directory fd.
fn notdir(g: &mut Guest, dir: wasi::Fd, file: wasi::Fd) {
    const E: Errno = wasi::ERRNO_NOTDIR;
    g.errno(
        "path_open(file.txt/x)",
        open(dir, "file.txt/x", 0, READ_RIGHTS),
        E,
    );
    g.errno(
        "path_open(file.txt, DIRECTORY)",
        open(dir, "file.txt", OFLAGS_DIRECTORY, DIR_RIGHTS),
        E,
    );
    g.errno(
        "path_open(file.txt/, trailing slash)",
        open(dir, "file.txt/", 0, READ_RIGHTS),
        E,
    );
    g.errno("path_filestat_get(file.txt/x)", stat(dir, "file.txt/x"), E);
    g.errno(
        "path_filestat_get(file.txt/, trailing slash)",
        lstat(dir, "file.txt/"),
        E,
    );
    g.errno(
        "path_create_directory(file.txt/sub)",
        mkdir(dir, "file.txt/sub"),
        E,
    );
    g.errno("path_remove_directory(file.txt)", rmdir(dir, "file.txt"), E);
    g.errno("path_unlink_file(file.txt/)", unlink(dir, "file.txt/"), E);
    g.errno(
        "path_rename(dir -> file.txt): a directory onto a file",
        rename(dir, "dir", "file.txt"),
        E,
    );
    g.errno(
        "path_rename(file.txt/x -> y)",
        rename(dir, "file.txt/x", "y"),
        E,
    );
    // A file fd where a directory fd is needed.
    g.errno("path_open(file fd, x)", open(file, "x", 0, READ_RIGHTS), E);
    g.errno("path_filestat_get(file fd, x)", stat(file, "x"), E);
    g.errno("path_create_directory(file fd, x)", mkdir(file, "x"), E);
    g.errno("path_unlink_file(file fd, x)", unlink(file, "x"), E);
    g.errno("fd_readdir(file fd)", readdir_raw(file, 64, 0).map(drop), E);
}

/// EISDIR: a directory where a file is needed.
fn isdir(g: &mut Guest, dir: wasi::Fd) {
    const E: Errno = wasi::ERRNO_ISDIR;
    g.errno(
        "path_open(dir, FD_WRITE)",
        open(dir, "dir", 0, FILE_RIGHTS),
        E,
    );
    g.errno(
        "path_open(dir, CREAT)",
        open(dir, "dir", OFLAGS_CREAT, READ_RIGHTS),
        E,
    );
    g.errno(
        "path_open(new/, CREAT): a trailing slash names a directory",
        open(dir, "new/", OFLAGS_CREAT, READ_RIGHTS),
        E,
    );
    g.errno("path_unlink_file(dir)", unlink(dir, "dir"), E);
    g.errno(
        "path_rename(file.txt -> dir): a file onto a directory",
        rename(dir, "file.txt", "dir"),
        E,
    );
}

/// ENOTEMPTY.
fn notempty(g: &mut Guest, dir: wasi::Fd) {
    const E: Errno = wasi::ERRNO_NOTEMPTY;
    g.errno("path_remove_directory(full)", rmdir(dir, "full"), E);
    g.errno(
        "path_rename(dir -> full): onto a directory that is not empty",
        rename(dir, "dir", "full"),
        E,
    );
}

/// EEXIST: creating what is there.
fn exist(g: &mut Guest, dir: wasi::Fd) {
    const E: Errno = wasi::ERRNO_EXIST;
    let excl = OFLAGS_CREAT | OFLAGS_EXCL;
    g.errno(
        "path_open(file.txt, CREAT|EXCL)",
        open(dir, "file.txt", excl, READ_RIGHTS),
        E,
    );
    g.errno(
        "path_open(dir, CREAT|EXCL)",
        open(dir, "dir", excl, READ_RIGHTS),
        E,
    );
    g.errno(
        "path_open(loop1, CREAT|EXCL): a symlink is there",
        open(dir, "loop1", excl, READ_RIGHTS),
        E,
    );
    g.errno("path_create_directory(dir)", mkdir(dir, "dir"), E);
    g.errno("path_create_directory(file.txt)", mkdir(dir, "file.txt"), E);
    g.errno("path_create_directory(.)", mkdir(dir, "."), E);
    g.errno(
        "path_link(file.txt -> full/x)",
        link(dir, "file.txt", "full/x"),
        E,
    );
    g.errno(
        "path_link(file.txt -> dir)",
        link(dir, "file.txt", "dir"),
        E,
    );
    g.errno(
        "path_symlink(anything -> file.txt)",
        symlink("anything", dir, "file.txt"),
        E,
    );
    g.errno(
        "path_symlink(anything -> dir)",
        symlink("anything", dir, "dir"),
        E,
    );
}

/// EINVAL: arguments no call can act on.
fn inval(g: &mut Guest, dir: wasi::Fd, file: wasi::Fd) {
    const E: Errno = wasi::ERRNO_INVAL;
    for (name, o) in [
        ("DIRECTORY|CREAT", OFLAGS_DIRECTORY | OFLAGS_CREAT),
        ("DIRECTORY|EXCL", OFLAGS_DIRECTORY | OFLAGS_EXCL),
        ("DIRECTORY|TRUNC", OFLAGS_DIRECTORY | OFLAGS_TRUNC),
    ] {
        g.errno(
            &format!("path_open(dir, {name})"),
            open(dir, "dir", o, DIR_RIGHTS),
            E,
        );
    }
    g.errno("fd_seek(-1, SET)", seek(file, -1, WHENCE_SET), E);
    let mut out = 0u64;
    let p = &mut out as *mut u64 as i32;
    // SAFETY: the raw calls get `p`, 8 writable bytes, for their results.
    unsafe {
        use wasi::wasi_snapshot_preview1 as raw;
        g.errno(
            "fd_seek(whence 3)",
            raw_result(raw::fd_seek(file as i32, 0, 3, p)),
            E,
        );
        g.errno(
            "fd_advise(advice 6)",
            raw_result(raw::fd_advise(file as i32, 0, 0, 6)),
            E,
        );
        g.errno(
            "clock_time_get(clock 4)",
            raw_result(raw::clock_time_get(4, 0, p)),
            E,
        );
        g.errno(
            "clock_res_get(clock 4)",
            raw_result(raw::clock_res_get(4, p)),
            E,
        );
        g.errno("proc_raise(signal 99)", raw_result(raw::proc_raise(99)), E);
        g.errno(
            "fd_filestat_set_times(ATIM|ATIM_NOW)",
            wasi::fd_filestat_set_times(file, 0, 0, wasi::FSTFLAGS_ATIM | wasi::FSTFLAGS_ATIM_NOW),
            E,
        );
        g.errno(
            "path_filestat_set_times(MTIM|MTIM_NOW)",
            wasi::path_filestat_set_times(
                dir,
                0,
                "file.txt",
                0,
                0,
                wasi::FSTFLAGS_MTIM | wasi::FSTFLAGS_MTIM_NOW,
            ),
            E,
        );
        let mut ev = [std::mem::MaybeUninit::<wasi::Event>::uninit(); 1];
        g.errno(
            "poll_oneoff(0 subscriptions)",
            wasi::poll_oneoff(std::ptr::null(), ev.as_mut_ptr().cast(), 0).map(drop),
            E,
        );
    }
    g.errno(
        "path_readlink(file.txt): not a symlink",
        readlink(dir, "file.txt", 64),
        E,
    );
    g.errno(
        "path_readlink(dir): not a symlink",
        readlink(dir, "dir", 64),
        E,
    );
    g.errno("path_remove_directory(.)", rmdir(dir, "."), E);
    g.errno(
        "path_rename(dir -> dir/sub): into itself",
        rename(dir, "dir", "dir/sub"),
        E,
    );
}

/// Offsets and sizes past what the host's `off_t` holds (`i64::MAX`): EINVAL, as Linux says
/// of a negative offset or length, never wrapped into one nor a crash of the host.
fn huge(g: &mut Guest, dir: wasi::Fd) {
    let Opened(f) = g.must("path_open(huge.txt)", open(dir, "huge.txt", 0, FILE_RIGHTS));
    let big = u64::MAX;
    let past = i64::MAX as u64 + 1;
    const E: Errno = wasi::ERRNO_INVAL;
    // SAFETY (the raw calls below): no pointers but buffers we own.
    unsafe {
        g.errno(
            "fd_advise(u64::MAX, u64::MAX)",
            wasi::fd_advise(f, big, big, wasi::ADVICE_NORMAL),
            E,
        );
        g.errno("fd_allocate(u64::MAX, 1)", wasi::fd_allocate(f, big, 1), E);
        g.errno("fd_allocate(0, 2^63)", wasi::fd_allocate(f, 0, past), E);
        g.errno(
            "fd_filestat_set_size(u64::MAX)",
            wasi::fd_filestat_set_size(f, big),
            E,
        );
        g.errno(
            "fd_filestat_set_size(2^63)",
            wasi::fd_filestat_set_size(f, past),
            E,
        );
    }
    g.errno("fd_pread(at u64::MAX)", pread(f, 1, big), E);
    g.errno("fd_pwrite(at 2^63)", pwrite(f, b"x", past), E);
    g.errno(
        "fd_seek(i64::MIN, END)",
        seek(f, i64::MIN, wasi::WHENCE_END),
        E,
    );
    g.eq(
        "fd_readdir(cookie u64::MAX) is the end",
        readdir_raw(dir, 64, big).map(|r| r.0),
        Ok(0),
    );
    g.eq("huge.txt is still empty", fstat(f).map(|s| s.size), Ok(0));
    g.ok("fd_close(huge.txt)", close(f));
}

/// ENOENT: names that are not there.
fn noent(g: &mut Guest, dir: wasi::Fd) {
    const E: Errno = wasi::ERRNO_NOENT;
    g.errno(
        "path_open(missing)",
        open(dir, "missing", 0, READ_RIGHTS),
        E,
    );
    g.errno(
        "path_open(missing/x)",
        open(dir, "missing/x", 0, READ_RIGHTS),
        E,
    );
    g.errno(
        "path_open(missing/x, CREAT)",
        open(dir, "missing/x", OFLAGS_CREAT, READ_RIGHTS),
        E,
    );
    g.errno("path_open(\"\")", open(dir, "", 0, READ_RIGHTS), E);
    g.errno("path_filestat_get(missing)", stat(dir, "missing"), E);
    g.errno("path_filestat_get(\"\")", stat(dir, ""), E);
    // SAFETY: no pointers beyond the path.
    g.errno(
        "path_filestat_set_times(missing)",
        unsafe { wasi::path_filestat_set_times(dir, 0, "missing", 0, 0, wasi::FSTFLAGS_MTIM_NOW) },
        E,
    );
    g.errno("path_unlink_file(missing)", unlink(dir, "missing"), E);
    g.errno("path_remove_directory(missing)", rmdir(dir, "missing"), E);
    g.errno(
        "path_create_directory(missing/sub)",
        mkdir(dir, "missing/sub"),
        E,
    );
    g.errno("path_rename(missing -> y)", rename(dir, "missing", "y"), E);
    g.errno(
        "path_rename(file.txt -> missing/y)",
        rename(dir, "file.txt", "missing/y"),
        E,
    );
    g.errno("path_link(missing -> y)", link(dir, "missing", "y"), E);
    g.errno(
        "path_link(file.txt -> missing/y)",
        link(dir, "file.txt", "missing/y"),
        E,
    );
    g.errno(
        "path_symlink(t -> missing/l)",
        symlink("t", dir, "missing/l"),
        E,
    );
    g.errno("path_readlink(missing)", readlink(dir, "missing", 64), E);
}

/// The rest: ELOOP, ENAMETOOLONG, ENOTSOCK, ESPIPE, EFAULT, EILSEQ, ENOTCAPABLE, ENOTSUP.
fn others(g: &mut Guest, dir: wasi::Fd, file: wasi::Fd) {
    g.errno(
        "path_open(loop1)",
        open(dir, "loop1", 0, READ_RIGHTS),
        wasi::ERRNO_LOOP,
    );
    g.errno(
        "path_open(loop1/x)",
        open(dir, "loop1/x", 0, READ_RIGHTS),
        wasi::ERRNO_LOOP,
    );
    g.errno(
        "path_filestat_get(loop1, follow)",
        stat(dir, "loop1"),
        wasi::ERRNO_LOOP,
    );
    g.eq(
        "path_filestat_get(loop1, no follow)",
        lstat(dir, "loop1").map(|s| filetype_name(s.filetype)),
        Ok("SYMBOLIC_LINK"),
    );

    let long = "n".repeat(300);
    g.errno(
        "path_open(300-byte name)",
        open(dir, &long, 0, READ_RIGHTS),
        wasi::ERRNO_NAMETOOLONG,
    );
    g.errno(
        "path_create_directory(300-byte name)",
        mkdir(dir, &long),
        wasi::ERRNO_NAMETOOLONG,
    );

    let mut buf = [0u8; 8];
    let cio = [wasi::Ciovec {
        buf: b"x".as_ptr(),
        buf_len: 1,
    }];
    // SAFETY: as in `badf`.
    unsafe {
        g.errno(
            "sock_accept(file)",
            wasi::sock_accept(file, 0).map(drop),
            wasi::ERRNO_NOTSOCK,
        );
        g.errno(
            "sock_recv(file)",
            wasi::sock_recv(file, &iov(&mut buf), 0).map(drop),
            wasi::ERRNO_NOTSOCK,
        );
        g.errno(
            "sock_send(file)",
            wasi::sock_send(file, &cio, 0),
            wasi::ERRNO_NOTSOCK,
        );
        g.errno(
            "sock_shutdown(file)",
            wasi::sock_shutdown(file, wasi::SDFLAGS_WR),
            wasi::ERRNO_NOTSOCK,
        );
        g.errno(
            "sock_recv(stdin pipe)",
            wasi::sock_recv(0, &iov(&mut buf), 0).map(drop),
            wasi::ERRNO_NOTSOCK,
        );
    }

    g.errno(
        "fd_seek(stdin pipe)",
        seek(0, 0, wasi::WHENCE_CUR),
        wasi::ERRNO_SPIPE,
    );
    g.errno("fd_tell(stdin pipe)", tell(0), wasi::ERRNO_SPIPE);
    g.errno("fd_pread(stdin pipe)", pread(0, 1, 0), wasi::ERRNO_SPIPE);

    // Pointers outside the guest's memory: the call fails, the guest lives on.
    let beyond = (core::arch::wasm32::memory_size(0) * 65536) as i32;
    // SAFETY: the host checks the pointers; nothing is written outside memory.
    unsafe {
        use wasi::wasi_snapshot_preview1 as raw;
        let iov_out = [beyond, 16i32];
        let mut n = 0i32;
        let r = raw::fd_write(1, iov_out.as_ptr() as i32, 1, &mut n as *mut i32 as i32);
        g.errno(
            "fd_write(iovec beyond memory)",
            raw_result(r),
            wasi::ERRNO_FAULT,
        );
        g.errno(
            "random_get(beyond memory)",
            raw_result(raw::random_get(beyond, 16)),
            wasi::ERRNO_FAULT,
        );
        g.errno(
            "clock_time_get(result beyond memory)",
            raw_result(raw::clock_time_get(0, 0, beyond)),
            wasi::ERRNO_FAULT,
        );
        let path = b"file.txt";
        let r = raw::path_open(
            dir as i32,
            0,
            path.as_ptr() as i32,
            path.len() as i32,
            0,
            0,
            0,
            0,
            beyond,
        );
        g.errno(
            "path_open(result beyond memory)",
            raw_result(r),
            wasi::ERRNO_FAULT,
        );
        let mut st = std::mem::MaybeUninit::<wasi::Filestat>::uninit();
        let r = raw::path_filestat_get(dir as i32, 0, beyond, 4, st.as_mut_ptr() as i32);
        g.errno(
            "path_filestat_get(path beyond memory)",
            raw_result(r),
            wasi::ERRNO_FAULT,
        );

        // A path that is not UTF-8.
        let bad = [b'f', 0xff, b'x'];
        let r = raw::path_filestat_get(
            dir as i32,
            0,
            bad.as_ptr() as i32,
            3,
            st.as_mut_ptr() as i32,
        );
        g.errno(
            "path_filestat_get(not UTF-8)",
            raw_result(r),
            wasi::ERRNO_ILSEQ,
        );
    }

    // Rights are only ever narrowed, enforced or not.
    let st = fdstat(file).expect("fd_fdstat_get");
    // SAFETY: no pointers.
    g.errno(
        "fd_fdstat_set_rights(add rights)",
        unsafe { wasi::fd_fdstat_set_rights(file, ALL_RIGHTS, st.fs_rights_inheriting) },
        wasi::ERRNO_NOTCAPABLE,
    );
    // The sync flags are fixed at open (wasmtime: EINVAL; the witx does not say).
    g.errno_any(
        "fd_fdstat_set_flags(SYNC) after open",
        unsafe { wasi::fd_fdstat_set_flags(file, wasi::FDFLAGS_SYNC) },
        &[wasi::ERRNO_NOTSUP, wasi::ERRNO_INVAL],
    );
    g.errno(
        "fd_prestat_dir_name(buffer too short)",
        unsafe { wasi::fd_prestat_dir_name(dir, buf.as_mut_ptr(), 0) },
        wasi::ERRNO_NAMETOOLONG,
    );
}
