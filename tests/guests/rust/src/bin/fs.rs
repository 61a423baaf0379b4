//! Files and directories through the raw preview 1 calls.
//!
//! Scenarios (`fs SCENARIO PREOPEN`); the host prepares PREOPEN as each one says and checks it
//! afterwards (`runner/tests/guests.rs`):
//!
//! - `read`: `hello.txt` holds "Hello, WASI!\n", `sub/` holds `one` ("1") and `two` ("22").
//!   Reads, seeks, preads, advises, stats; prints the stat fields the host compares.
//! - `write`: `existing.txt` holds "0123456789". Creates, writes, pwrites, appends, truncates,
//!   allocates, syncs; the host checks the bytes.
//! - `dirs`: empty. Makes, renames and removes directories and files; the host checks the tree.
//! - `readdir`: `many/` holds files `f00-...` to `f59-...`, a directory and a symlink. Lists it
//!   with small buffers and cookies; prints the names for the host to compare.
//! - `times`: `t.txt`, `u.txt`. Sets times by fd and by path, through a symlink or not.
//! - `links`: `target.txt` holds "linked", `sub/` is a directory. Hard links, symlinks,
//!   readlink.
//! - `fds`: `a.txt` holds "AAAA", `b.txt` holds "BB". Stdio, fdstat, renumber, close.
//! - `rights MODE`: `f.txt` holds "rights", `d/` is a directory. What rights allow, MODE being
//!   `lenient` (the default) or `strict` (under `--enforce-rights`).
//! - `readonly`: PREOPEN is `--dir-ro`, holding `ro.txt` ("read only") and `d/` with `d/x`.
//!   Every change is refused.
//! - `std`: PREOPEN is named `/std` and holds `in.txt` ("std in"). Rust's `std::fs`, which
//!   goes through wasi-libc's preopen lookup, as most Rust programs do.

use wasi::{
    FDFLAGS_APPEND, FDFLAGS_DSYNC, FDFLAGS_NONBLOCK, FSTFLAGS_ATIM, FSTFLAGS_ATIM_NOW,
    FSTFLAGS_MTIM, FSTFLAGS_MTIM_NOW, OFLAGS_CREAT, OFLAGS_DIRECTORY, OFLAGS_EXCL, OFLAGS_TRUNC,
    WHENCE_CUR, WHENCE_END, WHENCE_SET,
};
use wasirun_test_guests::*;

fn main() {
    let mut g = Guest::start();
    match g.scenario.as_str() {
        "read" => read_scenario(&mut g),
        "write" => write_scenario(&mut g),
        "dirs" => dirs(&mut g),
        "readdir" => readdir(&mut g),
        "times" => times(&mut g),
        "links" => links(&mut g),
        "fds" => fds(&mut g),
        "rights" => rights(&mut g),
        "readonly" => readonly(&mut g),
        "std" => std_fs(&mut g),
        _ => g.unknown(),
    }
    g.finish()
}

/// Prints the fields of a stat the host can compare with its own `stat(2)`.
fn report_stat(g: &Guest, label: &str, st: &wasi::Filestat) {
    g.report(
        label,
        format!(
            "dev={} ino={} type={} nlink={} size={} mtim={} ctim={}",
            st.dev,
            st.ino,
            filetype_name(st.filetype),
            st.nlink,
            st.size,
            st.mtim,
            st.ctim
        ),
    );
}

fn read_scenario(g: &mut Guest) {
    let dir = g.dir;

    // The preopen describes itself; a buffer too short for its name is ENAMETOOLONG.
    let name = g.must("fd_prestat_dir_name(preopen)", prestat_name(dir));
    g.report("preopen name", &name);
    // SAFETY: the buffer is 1 byte long, as passed.
    let short = unsafe {
        let mut b = [0u8; 1];
        wasi::fd_prestat_dir_name(dir, b.as_mut_ptr(), b.len())
    };
    if name.len() > 1 {
        g.errno(
            "fd_prestat_dir_name(1-byte buffer)",
            short,
            wasi::ERRNO_NAMETOOLONG,
        );
    }
    let st = g.must("fd_fdstat_get(preopen)", fdstat(dir));
    g.eq(
        "preopen filetype",
        filetype_name(st.fs_filetype),
        "DIRECTORY",
    );
    g.that(
        "preopen rights allow path_open and fd_readdir",
        st.fs_rights_base & (wasi::RIGHTS_PATH_OPEN | wasi::RIGHTS_FD_READDIR)
            == (wasi::RIGHTS_PATH_OPEN | wasi::RIGHTS_FD_READDIR),
        format!("{:#x}", st.fs_rights_base),
        "PATH_OPEN | FD_READDIR",
    );
    g.that(
        "preopen inheriting rights allow reading and writing files",
        st.fs_rights_inheriting & (wasi::RIGHTS_FD_READ | wasi::RIGHTS_FD_WRITE)
            == (wasi::RIGHTS_FD_READ | wasi::RIGHTS_FD_WRITE),
        format!("{:#x}", st.fs_rights_inheriting),
        "FD_READ | FD_WRITE",
    );

    let Opened(fd) = g.must(
        "path_open(hello.txt)",
        open(dir, "hello.txt", 0, READ_RIGHTS),
    );
    let st = g.must("fd_fdstat_get(hello.txt)", fdstat(fd));
    g.eq(
        "hello.txt filetype",
        filetype_name(st.fs_filetype),
        "REGULAR_FILE",
    );
    g.eq("hello.txt fdflags", st.fs_flags, 0);
    g.that(
        "hello.txt opened for reading has FD_READ, not FD_WRITE",
        st.fs_rights_base & wasi::RIGHTS_FD_READ != 0
            && st.fs_rights_base & wasi::RIGHTS_FD_WRITE == 0,
        format!("{:#x}", st.fs_rights_base),
        "FD_READ without FD_WRITE",
    );

    // Scatter: two iovecs, the first one short.
    let (mut a, mut b) = ([0u8; 5], [0u8; 100]);
    let iovs = [
        wasi::Iovec {
            buf: a.as_mut_ptr(),
            buf_len: a.len(),
        },
        wasi::Iovec {
            buf: b.as_mut_ptr(),
            buf_len: b.len(),
        },
    ];
    // SAFETY: the iovecs describe `a` and `b`.
    let n = g.must("fd_read(2 iovecs)", unsafe { wasi::fd_read(fd, &iovs) });
    g.eq("fd_read bytes", n, 13);
    g.eq(
        "fd_read first iovec",
        Bytes(a.to_vec()),
        Bytes(b"Hello".to_vec()),
    );
    g.eq(
        "fd_read second iovec",
        Bytes(b[..8].to_vec()),
        Bytes(b", WASI!\n".to_vec()),
    );
    g.eq("fd_read at end of file", read(fd, 10), ok_bytes(b""));
    // Scatter over many one-byte buffers.
    let mut bytes = [0u8; 13];
    let iovs: Vec<wasi::Iovec> = bytes
        .iter_mut()
        .map(|b| wasi::Iovec { buf: b, buf_len: 1 })
        .collect();
    // SAFETY: each iovec describes one byte of `bytes`, which outlives the call.
    let n = unsafe { wasi::fd_pread(fd, &iovs, 0) };
    g.eq("fd_pread(13 one-byte iovecs)", n, Ok(13));
    g.eq(
        "the bytes in order",
        Bytes(bytes.to_vec()),
        Bytes(b"Hello, WASI!\n".to_vec()),
    );
    g.eq("fd_tell at end", tell(fd), Ok(13));

    g.eq("fd_seek(0, SET)", seek(fd, 0, WHENCE_SET), Ok(0));
    g.eq("fd_seek(7, CUR)", seek(fd, 7, WHENCE_CUR), Ok(7));
    g.eq("fd_read after seek", read(fd, 4), ok_bytes(b"WASI"));
    g.eq("fd_seek(-2, END)", seek(fd, -2, WHENCE_END), Ok(11));
    g.eq("fd_read last 2", read(fd, 10), ok_bytes(b"!\n"));
    g.eq(
        "fd_seek(100, END) past the end",
        seek(fd, 100, WHENCE_END),
        Ok(113),
    );
    g.eq("fd_read past the end", read(fd, 10), ok_bytes(b""));
    g.errno(
        "fd_seek(-1, SET)",
        seek(fd, -1, WHENCE_SET),
        wasi::ERRNO_INVAL,
    );
    g.errno(
        "fd_seek(-1000, CUR)",
        seek(fd, -1000, WHENCE_CUR),
        wasi::ERRNO_INVAL,
    );
    g.eq("fd_tell unchanged by failed seeks", tell(fd), Ok(113));

    g.eq("fd_pread(5 at 7)", pread(fd, 5, 7), ok_bytes(b"WASI!"));
    g.eq("fd_pread(at 13) at end", pread(fd, 5, 13), ok_bytes(b""));
    g.eq(
        "fd_pread(at 1000) past end",
        pread(fd, 5, 1000),
        ok_bytes(b""),
    );
    g.eq("fd_tell unchanged by fd_pread", tell(fd), Ok(113));

    for (name, advice) in [
        ("NORMAL", wasi::ADVICE_NORMAL),
        ("SEQUENTIAL", wasi::ADVICE_SEQUENTIAL),
        ("RANDOM", wasi::ADVICE_RANDOM),
        ("WILLNEED", wasi::ADVICE_WILLNEED),
        ("DONTNEED", wasi::ADVICE_DONTNEED),
        ("NOREUSE", wasi::ADVICE_NOREUSE),
    ] {
        // SAFETY: no pointers.
        let r = unsafe { wasi::fd_advise(fd, 0, 13, advice) };
        g.ok(&format!("fd_advise({name})"), r);
    }
    // SAFETY: no pointers.
    g.ok("fd_advise(len 0: to the end)", unsafe {
        wasi::fd_advise(fd, 2, 0, wasi::ADVICE_NORMAL)
    });

    let st = g.must("fd_filestat_get(hello.txt)", fstat(fd));
    report_stat(g, "fd_filestat_get hello.txt", &st);
    let pst = g.must("path_filestat_get(hello.txt)", stat(dir, "hello.txt"));
    g.eq(
        "path_filestat_get = fd_filestat_get",
        (pst.dev, pst.ino, pst.size, pst.nlink, pst.mtim),
        (st.dev, st.ino, st.size, st.nlink, st.mtim),
    );
    g.ok("fd_close(hello.txt)", close(fd));
    g.errno("fd_close again", close(fd), wasi::ERRNO_BADF);
    g.errno("fd_read after close", read(fd, 1), wasi::ERRNO_BADF);

    let st = g.must("path_filestat_get(sub)", stat(dir, "sub"));
    report_stat(g, "path_filestat_get sub", &st);
    let st = g.must("fd_filestat_get(preopen)", fstat(dir));
    report_stat(g, "fd_filestat_get preopen", &st);

    // A directory opened below the preopen is a base for paths too.
    let Opened(sub) = g.must("path_open(sub, DIRECTORY)", open_dir(dir, "sub"));
    g.eq(
        "fd_fdstat_get(sub)",
        fdstat(sub).map(|s| filetype_name(s.fs_filetype)),
        Ok("DIRECTORY"),
    );
    g.eq(
        "read sub/two through sub",
        read_file(sub, "two"),
        ok_bytes(b"22"),
    );
    g.eq(
        "read sub/one through the preopen",
        read_file(dir, "sub/one"),
        ok_bytes(b"1"),
    );
    g.eq(
        "read sub/../hello.txt",
        read_file(dir, "sub/../hello.txt").map(|v| v.len()),
        Ok(13),
    );
    g.eq(
        "read ./sub//two",
        read_file(dir, "./sub//two"),
        ok_bytes(b"22"),
    );
    let (entries, _) = g.must("fd_readdir(sub)", readdir_all(sub, 4096));
    let mut names: Vec<(String, &str)> = entries
        .iter()
        .map(|e| (e.name.clone(), filetype_name(e.kind)))
        .collect();
    names.sort();
    g.eq(
        "fd_readdir(sub) entries",
        names,
        vec![
            (".".to_string(), "DIRECTORY"),
            ("..".to_string(), "DIRECTORY"),
            ("one".to_string(), "REGULAR_FILE"),
            ("two".to_string(), "REGULAR_FILE"),
        ],
    );
    let one = entries.iter().find(|e| e.name == "one").map(|e| e.ino);
    g.eq(
        "dirent d_ino = stat ino",
        one,
        stat(sub, "one").ok().map(|s| s.ino),
    );
    g.ok("fd_close(sub)", close(sub));
}

fn write_scenario(g: &mut Guest) {
    let dir = g.dir;
    let excl = OFLAGS_CREAT | OFLAGS_EXCL;
    let Opened(fd) = g.must(
        "path_open(new.txt, CREAT|EXCL)",
        open(dir, "new.txt", excl, FILE_RIGHTS),
    );
    let st = g.must("fd_fdstat_get(new.txt)", fdstat(fd));
    g.that(
        "new.txt opened for writing has FD_READ and FD_WRITE",
        st.fs_rights_base & (wasi::RIGHTS_FD_READ | wasi::RIGHTS_FD_WRITE)
            == (wasi::RIGHTS_FD_READ | wasi::RIGHTS_FD_WRITE),
        format!("{:#x}", st.fs_rights_base),
        "FD_READ | FD_WRITE",
    );
    g.eq(
        "fd_write(3 iovecs, one empty)",
        writev(fd, &[b"abc", b"", b"def"]),
        Ok(6),
    );
    g.eq("fd_tell after write", tell(fd), Ok(6));
    g.eq("fd_pwrite(XY at 1)", pwrite(fd, b"XY", 1), Ok(2));
    g.eq("fd_tell unchanged by fd_pwrite", tell(fd), Ok(6));
    g.eq("fd_write newline", write(fd, b"\n"), Ok(1));
    g.eq(
        "fd_pread whole file",
        pread(fd, 100, 0),
        ok_bytes(b"aXYdef\n"),
    );
    g.eq("fd_pwrite past the end", pwrite(fd, b"!", 9), Ok(1));
    g.eq(
        "bytes between end and pwrite are zeros",
        pread(fd, 100, 0),
        ok_bytes(b"aXYdef\n\0\0!"),
    );
    // SAFETY (all the raw calls below): no pointers.
    g.ok("fd_datasync", unsafe { wasi::fd_datasync(fd) });
    g.ok("fd_sync", unsafe { wasi::fd_sync(fd) });

    g.ok("fd_filestat_set_size(7) shrinks", unsafe {
        wasi::fd_filestat_set_size(fd, 7)
    });
    g.eq("size after shrinking", fstat(fd).map(|s| s.size), Ok(7));
    g.ok("fd_allocate(0, 100)", unsafe {
        wasi::fd_allocate(fd, 0, 100)
    });
    g.eq(
        "fd_allocate makes the file at least 100 bytes",
        fstat(fd).map(|s| s.size),
        Ok(100),
    );
    g.ok("fd_allocate(10, 20) within the file", unsafe {
        wasi::fd_allocate(fd, 10, 20)
    });
    g.eq(
        "fd_allocate never shrinks",
        fstat(fd).map(|s| s.size),
        Ok(100),
    );
    g.eq(
        "fd_allocate adds zeros",
        pread(fd, 3, 50),
        ok_bytes(&[0, 0, 0]),
    );
    g.ok("fd_filestat_set_size(7) again", unsafe {
        wasi::fd_filestat_set_size(fd, 7)
    });

    // APPEND: writes go to the end whatever the offset.
    g.ok("fd_fdstat_set_flags(APPEND)", unsafe {
        wasi::fd_fdstat_set_flags(fd, FDFLAGS_APPEND)
    });
    g.eq(
        "fdflags now APPEND",
        fdstat(fd).map(|s| s.fs_flags),
        Ok(FDFLAGS_APPEND),
    );
    g.eq("fd_seek(0, SET)", seek(fd, 0, WHENCE_SET), Ok(0));
    g.eq("fd_write with APPEND", write(fd, b"tail"), Ok(4));
    g.eq("fd_tell after an append is the end", tell(fd), Ok(11));
    g.ok("fd_fdstat_set_flags(0)", unsafe {
        wasi::fd_fdstat_set_flags(fd, 0)
    });
    g.eq("fdflags cleared", fdstat(fd).map(|s| s.fs_flags), Ok(0));
    g.ok("fd_fdstat_set_flags(NONBLOCK)", unsafe {
        wasi::fd_fdstat_set_flags(fd, FDFLAGS_NONBLOCK)
    });
    g.eq(
        "fdflags now NONBLOCK",
        fdstat(fd).map(|s| s.fs_flags),
        Ok(FDFLAGS_NONBLOCK),
    );
    g.ok("fd_close(new.txt)", close(fd));

    // TRUNC empties an existing file; CREAT alone leaves one alone.
    let Opened(fd) = g.must(
        "path_open(existing.txt, TRUNC)",
        open(dir, "existing.txt", OFLAGS_TRUNC, FILE_RIGHTS),
    );
    g.eq("size after TRUNC", fstat(fd).map(|s| s.size), Ok(0));
    g.eq("fd_write(existing.txt)", write(fd, b"new"), Ok(3));
    g.ok("fd_close(existing.txt)", close(fd));
    let Opened(fd) = g.must(
        "path_open(existing.txt, CREAT)",
        open(dir, "existing.txt", OFLAGS_CREAT, FILE_RIGHTS),
    );
    g.eq(
        "CREAT alone keeps the contents",
        read_all(fd),
        ok_bytes(b"new"),
    );
    g.ok("fd_close", close(fd));

    // Opened with APPEND from the start.
    let Opened(fd) = g.must(
        "path_open(append.txt, CREAT, APPEND)",
        open_with(
            dir,
            0,
            "append.txt",
            OFLAGS_CREAT,
            FILE_RIGHTS,
            FDFLAGS_APPEND,
        ),
    );
    g.eq(
        "fdflags APPEND from path_open",
        fdstat(fd).map(|s| s.fs_flags),
        Ok(FDFLAGS_APPEND),
    );
    g.eq("append one", write(fd, b"one\n"), Ok(4));
    g.eq("fd_seek(0, SET)", seek(fd, 0, WHENCE_SET), Ok(0));
    g.eq("append two", write(fd, b"two\n"), Ok(4));
    g.ok("fd_close(append.txt)", close(fd));

    // DSYNC is remembered and reported.
    let Opened(fd) = g.must(
        "path_open(sync.txt, CREAT, DSYNC)",
        open_with(dir, 0, "sync.txt", OFLAGS_CREAT, FILE_RIGHTS, FDFLAGS_DSYNC),
    );
    g.eq(
        "fdflags DSYNC from path_open",
        fdstat(fd).map(|s| s.fs_flags & FDFLAGS_DSYNC),
        Ok(FDFLAGS_DSYNC),
    );
    g.eq("fd_write(sync.txt)", write(fd, b"synced"), Ok(6));
    g.ok("fd_close(sync.txt)", close(fd));

    // A big write in one call: 64 KiB of a pattern the host checks.
    let big: Vec<u8> = (0..65536u32).map(|i| (i % 251) as u8).collect();
    let Opened(fd) = g.must(
        "path_open(big.bin, CREAT)",
        open(dir, "big.bin", OFLAGS_CREAT, FILE_RIGHTS),
    );
    let mut written = 0;
    while written < big.len() {
        match write(fd, &big[written..]) {
            Ok(n) => written += n,
            Err(e) => {
                g.ok::<()>("fd_write(big.bin)", Err(e));
                break;
            }
        }
    }
    g.eq("fd_write(big.bin) bytes", written, big.len());
    g.eq(
        "fd_pread(big.bin) round trip",
        pread(fd, 70000, 0),
        Ok(Bytes(big)),
    );
    g.ok("fd_close(big.bin)", close(fd));
}

fn dirs(g: &mut Guest) {
    let dir = g.dir;
    g.ok("path_create_directory(a)", mkdir(dir, "a"));
    // Names are bytes the host keeps as given: UTF-8 beyond ASCII, spaces, odd characters.
    g.ok(
        "create \"h\u{e9}llo w\u{f6}rld \u{1f30d}.txt\"",
        create_file(dir, "h\u{e9}llo w\u{f6}rld \u{1f30d}.txt", b"unicode"),
    );
    g.ok(
        "path_create_directory(\"dir with spaces & [brackets]\")",
        mkdir(dir, "dir with spaces & [brackets]"),
    );
    g.eq(
        "read it back",
        read_file(dir, "h\u{e9}llo w\u{f6}rld \u{1f30d}.txt"),
        ok_bytes(b"unicode"),
    );
    g.ok("path_create_directory(a/b)", mkdir(dir, "a/b"));
    g.ok("path_create_directory(a/b/c)", mkdir(dir, "a/b/c"));
    g.ok(
        "path_create_directory(t/) with a trailing slash",
        mkdir(dir, "t/"),
    );
    g.eq(
        "path_filestat_get(a/b/c)",
        lstat(dir, "a/b/c").map(|s| filetype_name(s.filetype)),
        Ok("DIRECTORY"),
    );
    g.ok(
        "create a/b/c/file.txt",
        create_file(dir, "a/b/c/file.txt", b"deep"),
    );
    g.eq(
        "size of a/b/c/file.txt",
        stat(dir, "a/b/c/file.txt").map(|s| s.size),
        Ok(4),
    );

    g.ok(
        "path_rename(file into a/)",
        rename(dir, "a/b/c/file.txt", "a/moved.txt"),
    );
    g.errno(
        "old name gone",
        stat(dir, "a/b/c/file.txt"),
        wasi::ERRNO_NOENT,
    );
    g.eq(
        "new name there",
        read_file(dir, "a/moved.txt"),
        ok_bytes(b"deep"),
    );
    g.ok(
        "path_rename(directory a/b -> a/b2)",
        rename(dir, "a/b", "a/b2"),
    );
    g.eq(
        "a/b2/c is a directory",
        stat(dir, "a/b2/c").map(|s| filetype_name(s.filetype)),
        Ok("DIRECTORY"),
    );
    g.ok("path_remove_directory(a/b2/c)", rmdir(dir, "a/b2/c"));
    g.ok(
        "path_remove_directory(t/) with a trailing slash",
        rmdir(dir, "t/"),
    );

    // rename replaces a file, and an empty directory.
    g.ok("create x", create_file(dir, "x", b"from x"));
    g.ok("create y", create_file(dir, "y", b"from y"));
    g.ok("path_rename(x -> y) replaces y", rename(dir, "x", "y"));
    g.eq(
        "y holds x's contents",
        read_file(dir, "y"),
        ok_bytes(b"from x"),
    );
    g.ok("path_create_directory(e1)", mkdir(dir, "e1"));
    g.ok("path_create_directory(e2)", mkdir(dir, "e2"));
    g.ok("create e1/inside", create_file(dir, "e1/inside", b"in"));
    g.ok(
        "path_rename(e1 -> e2) replaces an empty directory",
        rename(dir, "e1", "e2"),
    );
    g.eq("e2/inside", read_file(dir, "e2/inside"), ok_bytes(b"in"));
    g.ok("path_rename(y -> y) to itself", rename(dir, "y", "y"));

    // Across two directory fds.
    let Opened(a) = g.must("path_open(a, DIRECTORY)", open_dir(dir, "a"));
    // SAFETY: no pointers beyond the paths.
    g.ok("path_rename(preopen:y -> a:y-moved)", unsafe {
        wasi::path_rename(dir, "y", a, "y-moved")
    });
    // SAFETY: as above.
    g.ok("path_link(a:y-moved -> preopen:y-link)", unsafe {
        wasi::path_link(a, 0, "y-moved", dir, "y-link")
    });
    g.ok("path_unlink_file(y-link)", unlink(dir, "y-link"));
    g.ok("fd_close(a)", close(a));

    let Opened(a) = g.must("path_open(a, DIRECTORY) again", open_dir(dir, "a"));
    let (entries, _) = g.must("fd_readdir(a)", readdir_all(a, 256));
    let mut names: Vec<String> = entries.into_iter().map(|e| e.name).collect();
    names.sort();
    g.eq(
        "entries of a",
        names,
        [".", "..", "b2", "moved.txt", "y-moved"]
            .map(String::from)
            .to_vec(),
    );
    g.ok("fd_close(a)", close(a));

    g.ok("path_unlink_file(e2/inside)", unlink(dir, "e2/inside"));
    g.ok("path_remove_directory(e2)", rmdir(dir, "e2"));
    g.errno("e2 gone", stat(dir, "e2"), wasi::ERRNO_NOENT);
}

fn readdir(g: &mut Guest) {
    let dir = g.dir;
    let Opened(many) = g.must("path_open(many, DIRECTORY)", open_dir(dir, "many"));

    // One big buffer: the reference listing.
    let (all, calls) = g.must("fd_readdir(64 KiB)", readdir_all(many, 65536));
    g.eq("one call for a 64 KiB buffer", calls, 1);
    let mut sorted: Vec<(String, &str)> = all
        .iter()
        .map(|e| (e.name.clone(), filetype_name(e.kind)))
        .collect();
    sorted.sort();
    for (name, kind) in &sorted {
        g.report("entry", format!("{name} {kind}"));
    }
    let cookies: Vec<u64> = all.iter().map(|e| e.next).collect();
    let mut unique = cookies.clone();
    unique.sort();
    unique.dedup();
    g.eq("d_next cookies are distinct", unique.len(), cookies.len());

    // Small buffers: the same listing, in the same order, over many calls; a 30-byte buffer
    // cannot hold a whole entry with a long name, so the reader has to grow it.
    for len in [30usize, 64, 100, 333] {
        let r = readdir_all(many, len);
        let (small, calls) = g.must(&format!("fd_readdir({len}-byte buffer)"), r);
        g.eq(
            &format!("{len}-byte listing = 64 KiB listing"),
            &small,
            &all,
        );
        g.that(
            &format!("{len}-byte listing took several calls"),
            calls > 2,
            calls,
            "> 2",
        );
    }

    // Starting again from any entry's cookie gives the rest of the listing.
    for i in [0usize, 1, 2, 17, all.len() - 1] {
        let cookie = all[i].next;
        let rest = g.must(
            &format!("fd_readdir(from cookie {i})"),
            readdir_from(many, cookie),
        );
        g.eq(
            &format!("listing from cookie {i}"),
            &rest[..],
            &all[i + 1..],
        );
    }
    let end = all.last().map(|e| e.next).unwrap_or(0);
    g.eq(
        "fd_readdir(from the last cookie) is empty",
        readdir_raw(many, 256, end).map(|r| r.0),
        Ok(0),
    );

    // A buffer that cuts the only entry: the whole buffer comes back filled.
    g.eq(
        "fd_readdir(10-byte buffer) fills it",
        readdir_raw(many, 10, 0).map(|r| r.0),
        Ok(10),
    );

    // d_ino is the inode path_filestat_get reports (without following).
    let mut mismatched = Vec::new();
    for e in &all {
        if e.name == "." || e.name == ".." {
            continue;
        }
        let st = lstat(many, &e.name);
        if st.map(|s| (s.ino, s.filetype)) != Ok((e.ino, e.kind)) {
            mismatched.push(e.name.clone());
        }
    }
    g.eq(
        "d_ino and d_type match path_filestat_get",
        mismatched,
        Vec::<String>::new(),
    );

    // A listing that starts over (cookie 0, what rewinddir does) sees the directory as it is
    // now, as POSIX says of rewinddir: after a complete listing...
    g.eq(
        "fd_readdir(64 KiB) once more",
        readdir_all(many, 65536).map(|(e, _)| e.len()),
        Ok(all.len()),
    );
    g.ok("create many/late1", create_file(many, "late1", b""));
    let (again, _) = g.must(
        "fd_readdir(cookie 0) after a complete listing",
        readdir_all(many, 4096),
    );
    g.eq(
        "late1 is listed",
        again.iter().any(|e| e.name == "late1"),
        true,
    );
    g.eq("one more entry", again.len(), all.len() + 1);
    // ...and after one cut short in its first entry.
    g.eq(
        "fd_readdir(10-byte buffer) again",
        readdir_raw(many, 10, 0).map(|r| r.0),
        Ok(10),
    );
    g.ok("create many/late2", create_file(many, "late2", b""));
    let (again, _) = g.must(
        "fd_readdir(cookie 0) after a cut listing",
        readdir_all(many, 4096),
    );
    g.eq(
        "late2 is listed",
        again.iter().any(|e| e.name == "late2"),
        true,
    );
    g.eq("two more entries", again.len(), all.len() + 2);
    g.ok("fd_close(many)", close(many));

    // The preopen itself can be listed.
    let (top, _) = g.must("fd_readdir(preopen)", readdir_all(dir, 128));
    let mut names: Vec<String> = top.into_iter().map(|e| e.name).collect();
    names.sort();
    g.eq(
        "entries of the preopen",
        names,
        [".", "..", "many"].map(String::from).to_vec(),
    );
}

/// The listing of `fd` from `cookie` to the end, with a large buffer.
fn readdir_from(fd: wasi::Fd, cookie: u64) -> R<Vec<Entry>> {
    let (used, buf) = readdir_raw(fd, 65536, cookie)?;
    Ok(parse_dirents(&buf.0, used).0)
}

fn times(g: &mut Guest) {
    let dir = g.dir;
    const A: u64 = 1_600_000_000_123_456_789;
    const M: u64 = 1_500_000_000_987_654_321;
    const M2: u64 = 1_400_000_000_000_000_001;

    let Opened(fd) = g.must("path_open(t.txt)", open(dir, "t.txt", 0, FILE_RIGHTS));
    // SAFETY (all the raw calls below): no pointers beyond the paths.
    g.ok("fd_filestat_set_times(ATIM|MTIM)", unsafe {
        wasi::fd_filestat_set_times(fd, A, M, FSTFLAGS_ATIM | FSTFLAGS_MTIM)
    });
    let st = g.must("fd_filestat_get(t.txt)", fstat(fd));
    g.eq("t.txt atim, mtim", (st.atim, st.mtim), (A, M));
    g.ok("fd_filestat_set_times(MTIM only)", unsafe {
        wasi::fd_filestat_set_times(fd, 0, M2, FSTFLAGS_MTIM)
    });
    let st = g.must("fd_filestat_get(t.txt)", fstat(fd));
    g.eq("MTIM alone leaves atim", (st.atim, st.mtim), (A, M2));
    let before = now(wasi::CLOCKID_REALTIME);
    g.ok("fd_filestat_set_times(ATIM_NOW|MTIM_NOW)", unsafe {
        wasi::fd_filestat_set_times(fd, 0, 0, FSTFLAGS_ATIM_NOW | FSTFLAGS_MTIM_NOW)
    });
    let st = g.must("fd_filestat_get(t.txt)", fstat(fd));
    // The file system's clock may be a tick behind the realtime clock.
    let recent =
        |t: u64| t + 1_000_000_000 >= before && t <= now(wasi::CLOCKID_REALTIME) + 1_000_000_000;
    g.that(
        "ATIM_NOW|MTIM_NOW is now",
        recent(st.atim) && recent(st.mtim),
        (st.atim, st.mtim, before),
        "about now",
    );
    g.ok("fd_filestat_set_times(nothing)", unsafe {
        wasi::fd_filestat_set_times(fd, 1, 1, 0)
    });
    let st2 = g.must("fd_filestat_get(t.txt)", fstat(fd));
    g.eq(
        "no flags changes nothing",
        (st2.atim, st2.mtim),
        (st.atim, st.mtim),
    );
    g.ok("fd_filestat_set_times(ATIM|MTIM) back", unsafe {
        wasi::fd_filestat_set_times(fd, A, M, FSTFLAGS_ATIM | FSTFLAGS_MTIM)
    });
    g.ok("fd_close(t.txt)", close(fd));

    g.ok("path_filestat_set_times(u.txt, ATIM_NOW|MTIM)", unsafe {
        wasi::path_filestat_set_times(dir, 0, "u.txt", 0, M, FSTFLAGS_ATIM_NOW | FSTFLAGS_MTIM)
    });
    let st = g.must("path_filestat_get(u.txt)", stat(dir, "u.txt"));
    g.eq("u.txt mtim", st.mtim, M);
    g.that("u.txt atim is now", recent(st.atim), st.atim, "about now");

    // Through a symlink: without SYMLINK_FOLLOW the link itself changes.
    g.ok("path_symlink(t.txt -> tl)", symlink("t.txt", dir, "tl"));
    g.ok("path_filestat_set_times(tl, no follow)", unsafe {
        wasi::path_filestat_set_times(dir, 0, "tl", A, M2, FSTFLAGS_ATIM | FSTFLAGS_MTIM)
    });
    g.eq(
        "the link's mtim changed",
        lstat(dir, "tl").map(|s| s.mtim),
        Ok(M2),
    );
    g.eq(
        "the target's did not",
        stat(dir, "t.txt").map(|s| s.mtim),
        Ok(M),
    );
    g.ok("path_filestat_set_times(tl, follow)", unsafe {
        wasi::path_filestat_set_times(
            dir,
            wasi::LOOKUPFLAGS_SYMLINK_FOLLOW,
            "tl",
            A,
            M2 + 1,
            FSTFLAGS_ATIM | FSTFLAGS_MTIM,
        )
    });
    g.eq(
        "now the target's changed",
        stat(dir, "t.txt").map(|s| s.mtim),
        Ok(M2 + 1),
    );
    g.eq(
        "and the link's did not",
        lstat(dir, "tl").map(|s| s.mtim),
        Ok(M2),
    );
    g.ok("fd_filestat_set_times(t.txt) back", unsafe {
        wasi::path_filestat_set_times(dir, 0, "t.txt", A, M, FSTFLAGS_ATIM | FSTFLAGS_MTIM)
    });

    // Directories have times too: the preopen itself, and a subdirectory by path.
    g.ok("path_create_directory(d)", mkdir(dir, "d"));
    g.ok("path_filestat_set_times(d)", unsafe {
        wasi::path_filestat_set_times(dir, 0, "d", A, M, FSTFLAGS_ATIM | FSTFLAGS_MTIM)
    });
    g.eq("d mtim", stat(dir, "d").map(|s| s.mtim), Ok(M));
    g.ok("fd_filestat_set_times(preopen)", unsafe {
        wasi::fd_filestat_set_times(dir, A, M, FSTFLAGS_ATIM | FSTFLAGS_MTIM)
    });
    g.eq("preopen mtim", fstat(dir).map(|s| s.mtim), Ok(M));
}

fn links(g: &mut Guest) {
    let dir = g.dir;
    let target = g.must("path_filestat_get(target.txt)", stat(dir, "target.txt"));
    g.eq("target.txt nlink", target.nlink, 1);

    g.ok(
        "path_link(target.txt -> hard.txt)",
        link(dir, "target.txt", "hard.txt"),
    );
    let hard = g.must("path_filestat_get(hard.txt)", stat(dir, "hard.txt"));
    g.eq("hard link: same inode", hard.ino, target.ino);
    g.eq("hard link: nlink 2", hard.nlink, 2);
    g.eq(
        "hard link: contents",
        read_file(dir, "hard.txt"),
        ok_bytes(b"linked"),
    );

    g.ok(
        "path_symlink(target.txt -> soft)",
        symlink("target.txt", dir, "soft"),
    );
    g.eq(
        "path_readlink(soft)",
        readlink(dir, "soft", 64),
        ok_bytes(b"target.txt"),
    );
    g.eq(
        "path_readlink(soft, empty buffer)",
        readlink(dir, "soft", 0),
        ok_bytes(b""),
    );
    g.eq(
        "path_readlink(soft, 4-byte buffer) truncates",
        readlink(dir, "soft", 4),
        ok_bytes(b"targ"),
    );
    let l = g.must("path_filestat_get(soft, no follow)", lstat(dir, "soft"));
    g.eq(
        "symlink type and size",
        (filetype_name(l.filetype), l.size),
        ("SYMBOLIC_LINK", 10),
    );
    let f = g.must("path_filestat_get(soft, follow)", stat(dir, "soft"));
    g.eq(
        "followed: the target",
        (filetype_name(f.filetype), f.ino, f.size),
        ("REGULAR_FILE", target.ino, 6),
    );
    g.eq(
        "path_open(soft, follow) reads the target",
        read_file(dir, "soft"),
        ok_bytes(b"linked"),
    );
    g.errno(
        "path_open(soft, no follow)",
        open_with(dir, 0, "soft", 0, READ_RIGHTS, 0),
        wasi::ERRNO_LOOP,
    );

    // A symlink to a directory is followed in the middle of a path, even without
    // SYMLINK_FOLLOW (which is about the last component only).
    g.ok("path_symlink(sub -> subl)", symlink("sub", dir, "subl"));
    g.ok("create sub/inner", create_file(dir, "sub/inner", b"inner"));
    g.eq(
        "path_open(subl/inner, no follow)",
        open_with(dir, 0, "subl/inner", 0, READ_RIGHTS, 0).and_then(|Opened(fd)| {
            let r = read_all(fd);
            close(fd)?;
            r
        }),
        ok_bytes(b"inner"),
    );
    g.eq(
        "path_filestat_get(subl/, no follow) follows for the slash",
        lstat(dir, "subl/").map(|s| filetype_name(s.filetype)),
        Ok("DIRECTORY"),
    );

    // A dangling symlink is a symlink; what it names does not exist.
    g.ok(
        "path_symlink(nowhere -> dangling)",
        symlink("nowhere", dir, "dangling"),
    );
    g.eq(
        "path_filestat_get(dangling, no follow)",
        lstat(dir, "dangling").map(|s| filetype_name(s.filetype)),
        Ok("SYMBOLIC_LINK"),
    );
    g.errno(
        "path_filestat_get(dangling, follow)",
        stat(dir, "dangling"),
        wasi::ERRNO_NOENT,
    );

    // path_link of a symlink links the symlink itself. SYMLINK_FOLLOW is EINVAL, as in
    // wasmtime, whose preview1_path_link test program asks for it.
    g.ok(
        "path_link(soft -> soft2, no follow)",
        link(dir, "soft", "soft2"),
    );
    g.eq(
        "soft2 is the symlink",
        lstat(dir, "soft2").map(|s| filetype_name(s.filetype)),
        Ok("SYMBOLIC_LINK"),
    );
    // SAFETY: no pointers beyond the paths.
    g.errno(
        "path_link(soft -> hard2, follow)",
        unsafe { wasi::path_link(dir, wasi::LOOKUPFLAGS_SYMLINK_FOLLOW, "soft", dir, "hard2") },
        wasi::ERRNO_INVAL,
    );
    g.errno("no hard2", lstat(dir, "hard2"), wasi::ERRNO_NOENT);

    g.ok("path_unlink_file(soft)", unlink(dir, "soft"));
    g.errno("soft is gone", lstat(dir, "soft"), wasi::ERRNO_NOENT);
    g.eq(
        "the target stays",
        stat(dir, "target.txt").map(|s| s.nlink),
        Ok(2),
    );
    g.ok(
        "path_unlink_file(subl) removes the link, not the directory",
        unlink(dir, "subl"),
    );
    g.eq(
        "sub stays",
        stat(dir, "sub").map(|s| filetype_name(s.filetype)),
        Ok("DIRECTORY"),
    );
    g.errno(
        "path_readlink(target.txt) of a regular file",
        readlink(dir, "target.txt", 64),
        wasi::ERRNO_INVAL,
    );
    g.errno(
        "path_readlink(missing)",
        readlink(dir, "missing", 64),
        wasi::ERRNO_NOENT,
    );
}

fn fds(g: &mut Guest) {
    let dir = g.dir;
    // stdio: the host runs this with stdin from /dev/null and stdout, stderr on pipes.
    for fd in 0..3 {
        let st = g.must(&format!("fd_fdstat_get({fd})"), fdstat(fd));
        g.report(&format!("fd {fd} filetype"), filetype_name(st.fs_filetype));
        g.errno(
            &format!("fd_prestat_get({fd})"),
            unsafe_prestat(fd),
            wasi::ERRNO_BADF,
        );
    }
    let st = g.must("fd_fdstat_get(0)", fdstat(0));
    g.that(
        "stdin can be read",
        st.fs_rights_base & wasi::RIGHTS_FD_READ != 0,
        format!("{:#x}", st.fs_rights_base),
        "FD_READ",
    );
    let st = g.must("fd_fdstat_get(1)", fdstat(1));
    g.that(
        "stdout can be written",
        st.fs_rights_base & wasi::RIGHTS_FD_WRITE != 0,
        format!("{:#x}", st.fs_rights_base),
        "FD_WRITE",
    );

    let Opened(a) = g.must("path_open(a.txt)", open(dir, "a.txt", 0, FILE_RIGHTS));
    let Opened(b) = g.must("path_open(b.txt)", open(dir, "b.txt", 0, FILE_RIGHTS));
    g.that(
        "new fds are new numbers",
        a != b && ![0, 1, 2, dir].contains(&a) && ![0, 1, 2, dir].contains(&b),
        (a, b),
        "distinct, not stdio or the preopen",
    );
    g.errno(
        "fd_prestat_get(a file)",
        unsafe_prestat(a),
        wasi::ERRNO_BADF,
    );
    g.eq("read a", read(a, 2), ok_bytes(b"AA"));

    // SAFETY (the raw calls below): no pointers.
    g.ok("fd_renumber(a, b)", unsafe { wasi::fd_renumber(a, b) });
    g.eq("b is now a.txt, offset kept", read(b, 10), ok_bytes(b"AA"));
    g.errno("a is closed", read(a, 1), wasi::ERRNO_BADF);
    g.ok("fd_renumber(b, b)", unsafe { wasi::fd_renumber(b, b) });
    g.eq("still open after renumbering to itself", tell(b), Ok(4));
    g.errno(
        "fd_renumber(b, not open)",
        unsafe { wasi::fd_renumber(b, 4000) },
        wasi::ERRNO_BADF,
    );
    g.errno(
        "fd_renumber(not open, b)",
        unsafe { wasi::fd_renumber(4000, b) },
        wasi::ERRNO_BADF,
    );
    g.eq("b survives failed renumbers", tell(b), Ok(4));

    // The lowest free number is not promised, but a closed number can be used again.
    g.ok("fd_close(b)", close(b));
    let Opened(c) = g.must("path_open(b.txt) again", open(dir, "b.txt", 0, FILE_RIGHTS));
    g.eq("read b.txt", read(c, 10), ok_bytes(b"BB"));

    // fd_fdstat_set_rights only narrows.
    let before = g.must("fd_fdstat_get(c)", fdstat(c));
    let narrower = before.fs_rights_base & !wasi::RIGHTS_FD_SEEK;
    g.ok("fd_fdstat_set_rights(drop FD_SEEK)", unsafe {
        wasi::fd_fdstat_set_rights(c, narrower, before.fs_rights_inheriting)
    });
    g.eq(
        "rights after narrowing",
        fdstat(c).map(|s| s.fs_rights_base),
        Ok(narrower),
    );
    g.errno(
        "fd_fdstat_set_rights(add FD_SEEK back)",
        unsafe {
            wasi::fd_fdstat_set_rights(c, before.fs_rights_base, before.fs_rights_inheriting)
        },
        wasi::ERRNO_NOTCAPABLE,
    );
    g.ok("fd_close(c)", close(c));

    // Renumbering a file onto stderr: what the guest writes to fd 2 lands in the file.
    let Opened(e) = g.must(
        "path_open(err.txt, CREAT)",
        open(dir, "err.txt", wasi::OFLAGS_CREAT, FILE_RIGHTS),
    );
    g.ok("fd_renumber(err.txt, 2)", unsafe {
        wasi::fd_renumber(e, 2)
    });
    g.eq("fd_write(2)", write(2, b"into the file via fd 2\n"), Ok(23));
    g.eq(
        "fd_fdstat_get(2) is the file now",
        fdstat(2).map(|s| filetype_name(s.fs_filetype)),
        Ok("REGULAR_FILE"),
    );

    // A preopen renumbered elsewhere is still a preopen there.
    let Opened(d) = g.must("path_open(., DIRECTORY)", open_dir(dir, "."));
    g.errno(
        "fd_prestat_get(a directory that is not a preopen)",
        unsafe_prestat(d),
        wasi::ERRNO_BADF,
    );
    let name = prestat_name(dir);
    g.ok("fd_renumber(preopen, d)", unsafe {
        wasi::fd_renumber(dir, d)
    });
    g.eq("d is the preopen now", prestat_name(d), name);
    g.errno(
        "the old number is closed",
        unsafe_prestat(dir),
        wasi::ERRNO_BADF,
    );
    g.eq(
        "paths resolve from d",
        read_file(d, "a.txt"),
        ok_bytes(b"AAAA"),
    );
    g.ok("fd_close(preopen)", close(d));
    g.errno(
        "path_open on a closed preopen",
        open(d, "a.txt", 0, READ_RIGHTS),
        wasi::ERRNO_BADF,
    );
}

fn unsafe_prestat(fd: wasi::Fd) -> R<()> {
    // SAFETY: no pointers.
    unsafe { wasi::fd_prestat_get(fd).map(drop) }
}

fn rights(g: &mut Guest) {
    let dir = g.dir;
    let strict = match g.arg(0) {
        "strict" => true,
        "lenient" => false,
        other => panic!("rights mode {other:?}"),
    };
    // What a call the rights do not allow gives: ENOTCAPABLE under --enforce-rights, else
    // whatever the host says (success when the host allows it).
    let refused = |g: &mut Guest, label: &str, r: R<()>, lenient: Result<(), Errno>| match (
        strict, lenient,
    ) {
        (true, _) => g.errno(label, r, wasi::ERRNO_NOTCAPABLE),
        (false, Ok(())) => {
            g.ok(label, r);
        }
        (false, Err(e)) => g.errno(label, r, e),
    };

    // What the guest drops with fd_fdstat_set_rights is refused in both modes.
    let dropped = |g: &mut Guest, label: &str, r: R<()>| g.errno(label, r, wasi::ERRNO_NOTCAPABLE);

    // A file opened asking for FD_READ only.
    let Opened(fd) = g.must(
        "path_open(f.txt, FD_READ)",
        open(dir, "f.txt", 0, wasi::RIGHTS_FD_READ),
    );
    let st = g.must("fd_fdstat_get", fdstat(fd));
    g.that(
        "FD_READ reported",
        st.fs_rights_base & wasi::RIGHTS_FD_READ != 0,
        format!("{:#x}", st.fs_rights_base),
        "FD_READ",
    );
    g.that(
        "no FD_WRITE reported",
        st.fs_rights_base & wasi::RIGHTS_FD_WRITE == 0,
        format!("{:#x}", st.fs_rights_base),
        "no FD_WRITE",
    );
    if strict {
        g.eq(
            "strict: base rights are what was asked",
            st.fs_rights_base,
            wasi::RIGHTS_FD_READ,
        );
    }
    g.eq("fd_read", read(fd, 3), ok_bytes(b"rig"));
    // Opened read-only whatever the mode: the host refuses writing with EBADF.
    refused(
        g,
        "fd_write without FD_WRITE",
        write(fd, b"x").map(drop),
        Err(wasi::ERRNO_BADF),
    );
    refused(
        g,
        "fd_seek without FD_SEEK",
        seek(fd, 0, WHENCE_SET).map(drop),
        Ok(()),
    );
    refused(g, "fd_tell without FD_TELL", tell(fd).map(drop), Ok(()));
    refused(
        g,
        "fd_filestat_get without FD_FILESTAT_GET",
        fstat(fd).map(drop),
        Ok(()),
    );
    // SAFETY (the raw calls below): no pointers.
    refused(
        g,
        "fd_advise without FD_ADVISE",
        unsafe { wasi::fd_advise(fd, 0, 0, wasi::ADVICE_NORMAL) },
        Ok(()),
    );
    refused(
        g,
        "fd_sync without FD_SYNC",
        unsafe { wasi::fd_sync(fd) },
        Ok(()),
    );
    refused(
        g,
        "fd_datasync without FD_DATASYNC",
        unsafe { wasi::fd_datasync(fd) },
        Ok(()),
    );
    refused(
        g,
        "fd_pread without FD_SEEK",
        pread(fd, 1, 0).map(drop),
        Ok(()),
    );
    refused(
        g,
        "fd_fdstat_set_flags without FD_FDSTAT_SET_FLAGS",
        unsafe { wasi::fd_fdstat_set_flags(fd, 0) },
        Ok(()),
    );
    g.ok("fd_fdstat_get needs no right", fdstat(fd).map(drop));
    g.ok("fd_close", close(fd));

    // A file opened read-write, then narrowed to FD_READ: the kernel would allow writing.
    let Opened(fd) = g.must(
        "path_open(f.txt, read-write)",
        open(dir, "f.txt", 0, FILE_RIGHTS),
    );
    g.ok("fd_fdstat_set_rights(FD_READ)", unsafe {
        wasi::fd_fdstat_set_rights(fd, wasi::RIGHTS_FD_READ, 0)
    });
    g.eq(
        "rights after narrowing",
        fdstat(fd).map(|s| s.fs_rights_base),
        Ok(wasi::RIGHTS_FD_READ),
    );
    dropped(
        g,
        "fd_pwrite after dropping FD_WRITE",
        pwrite(fd, b"R", 0).map(drop),
    );
    dropped(g, "fd_filestat_set_size after dropping it", unsafe {
        wasi::fd_filestat_set_size(fd, 6)
    });
    dropped(g, "fd_allocate after dropping it", unsafe {
        wasi::fd_allocate(fd, 0, 6)
    });
    dropped(g, "fd_filestat_set_times after dropping it", unsafe {
        wasi::fd_filestat_set_times(fd, 0, 0, FSTFLAGS_MTIM_NOW)
    });
    g.errno(
        "fd_fdstat_set_rights(widen) in any mode",
        unsafe { wasi::fd_fdstat_set_rights(fd, FILE_RIGHTS, 0) },
        wasi::ERRNO_NOTCAPABLE,
    );
    g.ok("fd_close", close(fd));

    // A directory narrowed: no PATH_OPEN, no readdir, and files below it limited by its
    // inheriting rights.
    let Opened(d) = g.must("path_open(d, DIRECTORY)", open_dir(dir, "d"));
    g.ok(
        "fd_fdstat_set_rights(d: PATH_OPEN, inheriting FD_READ)",
        unsafe { wasi::fd_fdstat_set_rights(d, wasi::RIGHTS_PATH_OPEN, wasi::RIGHTS_FD_READ) },
    );
    g.ok(
        "path_open(d/x, FD_READ) within the inheriting rights",
        open(d, "x", 0, wasi::RIGHTS_FD_READ).map(|Opened(fd)| close(fd).unwrap()),
    );
    refused(
        g,
        "path_open(d/x, FD_WRITE) beyond the inheriting rights",
        open(d, "x", 0, wasi::RIGHTS_FD_READ | wasi::RIGHTS_FD_WRITE)
            .map(|Opened(fd)| close(fd).unwrap()),
        Ok(()),
    );
    dropped(
        g,
        "fd_readdir without FD_READDIR",
        readdir_raw(d, 128, 0).map(drop),
    );
    dropped(
        g,
        "path_create_directory without the right",
        mkdir(d, "new"),
    );
    dropped(
        g,
        "path_filestat_get without the right",
        stat(d, "x").map(drop),
    );
    dropped(
        g,
        "path_open(CREAT) without PATH_CREATE_FILE",
        open(d, "created", OFLAGS_CREAT, wasi::RIGHTS_FD_READ).map(|Opened(fd)| close(fd).unwrap()),
    );
    g.ok("fd_fdstat_set_rights(d: nothing)", unsafe {
        wasi::fd_fdstat_set_rights(d, 0, 0)
    });
    dropped(
        g,
        "path_open without PATH_OPEN",
        open(d, "x", 0, wasi::RIGHTS_FD_READ).map(|Opened(fd)| close(fd).unwrap()),
    );
    dropped(
        g,
        "path_unlink_file without the right",
        unlink(d, "created"),
    );
    g.ok("fd_close(d)", close(d));

    // A directory opened asking for no rights at all: what wasmtime's own tests do.
    let Opened(d) = g.must(
        "path_open(d, DIRECTORY, no rights)",
        open_with(dir, 0, "d", OFLAGS_DIRECTORY, 0, 0),
    );
    refused(
        g,
        "fd_readdir on a directory opened with no rights",
        readdir_raw(d, 128, 0).map(drop),
        Ok(()),
    );
    g.ok("fd_close(d)", close(d));
}

fn readonly(g: &mut Guest) {
    let dir = g.dir;
    const PERM: Errno = wasi::ERRNO_PERM;
    let st = g.must("fd_fdstat_get(preopen)", fdstat(dir));
    let writes = wasi::RIGHTS_PATH_CREATE_FILE
        | wasi::RIGHTS_PATH_CREATE_DIRECTORY
        | wasi::RIGHTS_PATH_UNLINK_FILE
        | wasi::RIGHTS_PATH_REMOVE_DIRECTORY
        | wasi::RIGHTS_PATH_RENAME_SOURCE
        | wasi::RIGHTS_PATH_SYMLINK;
    g.eq(
        "no write rights on a read-only preopen",
        st.fs_rights_base & writes,
        0,
    );
    g.eq(
        "no FD_WRITE inherited",
        st.fs_rights_inheriting & wasi::RIGHTS_FD_WRITE,
        0,
    );

    g.eq(
        "read ro.txt",
        read_file(dir, "ro.txt"),
        ok_bytes(b"read only"),
    );
    g.eq("read d/x", read_file(dir, "d/x"), ok_bytes(b"x"));
    let (entries, _) = g.must("fd_readdir(preopen)", readdir_all(dir, 256));
    g.eq("entries", entries.len(), 4);
    g.ok("path_filestat_get(ro.txt)", stat(dir, "ro.txt").map(drop));

    g.errno(
        "path_open(ro.txt, FD_WRITE)",
        open(dir, "ro.txt", 0, FILE_RIGHTS),
        PERM,
    );
    g.errno(
        "path_open(new, CREAT)",
        open(dir, "new", OFLAGS_CREAT, READ_RIGHTS),
        PERM,
    );
    g.errno(
        "path_open(ro.txt, TRUNC)",
        open(dir, "ro.txt", OFLAGS_TRUNC, READ_RIGHTS),
        PERM,
    );
    g.errno("path_create_directory(new)", mkdir(dir, "new"), PERM);
    g.errno("path_unlink_file(ro.txt)", unlink(dir, "ro.txt"), PERM);
    g.errno(
        "path_remove_directory(d) (not empty)",
        rmdir(dir, "d"),
        PERM,
    );
    g.errno(
        "path_rename(ro.txt -> moved)",
        rename(dir, "ro.txt", "moved"),
        PERM,
    );
    g.errno("path_link(ro.txt -> hl)", link(dir, "ro.txt", "hl"), PERM);
    g.errno(
        "path_symlink(ro.txt -> sl)",
        symlink("ro.txt", dir, "sl"),
        PERM,
    );
    // SAFETY (the raw calls below): no pointers beyond the paths.
    g.errno(
        "path_filestat_set_times(ro.txt)",
        unsafe { wasi::path_filestat_set_times(dir, 0, "ro.txt", 0, 0, FSTFLAGS_MTIM_NOW) },
        PERM,
    );
    g.errno(
        "fd_filestat_set_times(preopen)",
        unsafe { wasi::fd_filestat_set_times(dir, 0, 0, FSTFLAGS_MTIM_NOW) },
        PERM,
    );

    // Below a subdirectory opened from it, the same.
    let Opened(d) = g.must("path_open(d, DIRECTORY)", open_dir(dir, "d"));
    g.errno("d: path_unlink_file(x)", unlink(d, "x"), PERM);
    g.errno(
        "d: path_open(y, CREAT)",
        open(d, "y", OFLAGS_CREAT, READ_RIGHTS),
        PERM,
    );
    g.errno("d: path_create_directory(e)", mkdir(d, "e"), PERM);
    g.ok("fd_close(d)", close(d));

    // A file opened (for reading, the only way) cannot be changed either.
    let Opened(fd) = g.must(
        "path_open(ro.txt, FD_READ)",
        open(dir, "ro.txt", 0, READ_RIGHTS),
    );
    g.errno("fd_write", write(fd, b"x"), wasi::ERRNO_BADF);
    g.errno("fd_pwrite", pwrite(fd, b"x", 0), wasi::ERRNO_BADF);
    g.errno(
        "fd_filestat_set_size",
        unsafe { wasi::fd_filestat_set_size(fd, 0) },
        PERM,
    );
    g.errno(
        "fd_allocate",
        unsafe { wasi::fd_allocate(fd, 0, 100) },
        PERM,
    );
    g.errno(
        "fd_filestat_set_times",
        unsafe { wasi::fd_filestat_set_times(fd, 0, 0, FSTFLAGS_MTIM_NOW) },
        PERM,
    );
    g.errno(
        "fd_fdstat_set_rights(add FD_WRITE)",
        unsafe { wasi::fd_fdstat_set_rights(fd, READ_RIGHTS | wasi::RIGHTS_FD_WRITE, 0) },
        wasi::ERRNO_NOTCAPABLE,
    );
    g.eq("still readable", read_all(fd), ok_bytes(b"read only"));
    g.ok("fd_close", close(fd));
}

/// What an `std::io` call did: `ok`, `ok VALUE`, or the WASI errno behind the error (std's
/// `ErrorKind` leaves some uncategorized on wasm32-wasip1, ENOTEMPTY among them).
fn io<T: std::fmt::Debug>(r: std::io::Result<T>) -> String {
    match r {
        Ok(v) => format!("ok {v:?}"),
        Err(e) => match e.raw_os_error().map(raw_result) {
            Some(Err(errno)) => errno_name(errno),
            _ => format!("{e:?}"),
        },
    }
}

fn std_fs(g: &mut Guest) {
    use std::fs;
    use std::io::{Read, Seek, SeekFrom, Write};
    let p = |rel: &str| format!("/std/{rel}");
    g.eq(
        "fs::read_to_string(in.txt)",
        io(fs::read_to_string(p("in.txt"))),
        io(Ok("std in")),
    );
    g.eq(
        "fs::write(out.txt)",
        io(fs::write(p("out.txt"), "written by std")),
        io(Ok(())),
    );
    g.eq(
        "fs::create_dir_all(x/y/z)",
        io(fs::create_dir_all(p("x/y/z"))),
        io(Ok(())),
    );
    g.eq(
        "fs::write(x/y/z/deep)",
        io(fs::write(p("x/y/z/deep"), "deep")),
        io(Ok(())),
    );
    g.eq(
        "fs::copy(out.txt -> copy.txt)",
        io(fs::copy(p("out.txt"), p("copy.txt"))),
        io(Ok(14u64)),
    );
    g.eq(
        "fs::rename(copy.txt -> x/moved.txt)",
        io(fs::rename(p("copy.txt"), p("x/moved.txt"))),
        io(Ok(())),
    );
    g.eq(
        "fs::hard_link(out.txt -> hard)",
        io(fs::hard_link(p("out.txt"), p("hard"))),
        io(Ok(())),
    );
    // (std's own symlink_path is unstable: the raw call makes it.)
    g.ok(
        "path_symlink(out.txt -> sym)",
        symlink("out.txt", g.dir, "sym"),
    );
    g.eq(
        "fs::read_link(sym)",
        io(fs::read_link(p("sym"))),
        io(Ok(std::path::PathBuf::from("out.txt"))),
    );
    g.eq(
        "fs::symlink_metadata(sym).is_symlink",
        io(fs::symlink_metadata(p("sym")).map(|m| m.is_symlink())),
        io(Ok(true)),
    );
    g.eq(
        "fs::metadata(sym).len",
        io(fs::metadata(p("sym")).map(|m| m.len())),
        io(Ok(14u64)),
    );

    let mut names: Vec<String> = match fs::read_dir(p("x")) {
        Ok(rd) => rd
            .map(|e| {
                e.map(|e| e.file_name().to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect(),
        Err(e) => vec![format!("{:?}", e.kind())],
    };
    names.sort();
    g.eq(
        "fs::read_dir(x)",
        names,
        vec!["moved.txt".to_string(), "y".to_string()],
    );

    // Files: open options, seek, append, set_len.
    let r = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(p("out.txt"));
    if let Some(mut f) = g
        .ok(
            "OpenOptions(read, write).open(out.txt)",
            r.map_err(|_| wasi::ERRNO_IO).map(Holder),
        )
        .map(|h| h.0)
    {
        g.eq(
            "seek(End(-3))",
            io(f.seek(SeekFrom::End(-3))),
            io(Ok(11u64)),
        );
        let mut tail = String::new();
        g.eq(
            "read_to_string",
            io(f.read_to_string(&mut tail)),
            io(Ok(3usize)),
        );
        g.eq("the tail", tail.as_str(), "std");
        g.eq("set_len(7)", io(f.set_len(7)), io(Ok(())));
        g.eq("sync_all", io(f.sync_all()), io(Ok(())));
    }
    let r = fs::OpenOptions::new().append(true).open(p("out.txt"));
    if let Some(mut f) = g
        .ok(
            "OpenOptions(append).open(out.txt)",
            r.map_err(|_| wasi::ERRNO_IO).map(Holder),
        )
        .map(|h| h.0)
    {
        g.eq(
            "write_all(appended)",
            io(f.write_all(b" + appended")),
            io(Ok(())),
        );
    }
    g.eq(
        "fs::read_to_string(hard)",
        io(fs::read_to_string(p("hard"))),
        io(Ok("written + appended")),
    );

    // Errors.
    g.eq(
        "fs::read(missing)",
        io(fs::read(p("missing"))),
        "NOENT".to_string(),
    );
    g.eq(
        "fs::create_dir(x)",
        io(fs::create_dir(p("x"))),
        "EXIST".to_string(),
    );
    g.eq(
        "fs::remove_dir(x)",
        io(fs::remove_dir(p("x"))),
        "NOTEMPTY".to_string(),
    );
    g.eq(
        "fs::read_dir(out.txt)",
        io(fs::read_dir(p("out.txt")).map(drop)),
        "NOTDIR".to_string(),
    );
    g.eq(
        "fs::remove_file(x)",
        io(fs::remove_file(p("x"))),
        "ISDIR".to_string(),
    );
    g.eq(
        "fs::read(/etc/passwd), outside every preopen",
        io(fs::read("/etc/passwd")).starts_with("ok"),
        false,
    );

    g.eq(
        "fs::remove_file(sym)",
        io(fs::remove_file(p("sym"))),
        io(Ok(())),
    );
    g.eq(
        "fs::remove_dir_all(x/y)",
        io(fs::remove_dir_all(p("x/y"))),
        io(Ok(())),
    );
    g.eq("fs::exists(x/y)", io(fs::exists(p("x/y"))), io(Ok(false)));
}

/// An `std::fs::File` that prints as nothing in a check line.
struct Holder(std::fs::File);

impl Show for Holder {
    fn show(&self) -> Option<String> {
        None
    }
}
