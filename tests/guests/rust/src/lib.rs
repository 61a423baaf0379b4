//! What the guests share: how they are started, how a check prints, and thin safe wrappers over
//! the raw preview 1 calls of the `wasi` crate.
//!
//! Every guest is `GUEST SCENARIO [PREOPEN] [ARGS...]`: the scenario picks what to run, PREOPEN
//! is the guest name of the preopened directory to work in (found with `fd_prestat_get` and
//! `fd_prestat_dir_name`, as wasi-libc finds its preopens).
//!
//! Each check prints one line, `label: outcome`, where the outcome is `ok`, `ok VALUE`, or the
//! errno's name (`NOENT`). When the outcome is not the one the check wants, the line ends with
//! `  <-- FAIL, want ...`, the guest carries on with the next check, and at the end exits with
//! status 1 after a summary line. So one run lists every wrong answer, not only the first, and
//! `runner/tests/guests.rs` shows that list when it fails. A step that later checks depend on
//! ([`Guest::must`]) stops the guest at once (status 1) instead.

use std::fmt::Debug;

pub use wasi::Errno;

/// A preview 1 result.
pub type R<T> = Result<T, Errno>;

/// The name of an errno as the witx spells it, without the `E`: `NOENT`, `NOTCAPABLE`.
pub fn errno_name(e: Errno) -> String {
    // `Errno::name` assumes a known code; a host may return anything.
    if e.raw() <= wasi::ERRNO_NOTCAPABLE.raw() {
        e.name().to_string()
    } else {
        format!("errno {}", e.raw())
    }
}

/// The result of a raw `wasi_snapshot_preview1` import: 0 is success, anything else an errno.
pub fn raw_result(ret: i32) -> R<()> {
    if ret == 0 {
        return Ok(());
    }
    // SAFETY: `Errno` is a `#[repr(transparent)]` wrapper of a `u16`, any value of which is
    // valid (`errno_name` handles the ones the witx does not define).
    Err(unsafe { std::mem::transmute::<u16, Errno>(ret as u16) })
}

/// What a call did: `ok`, `ok VALUE` for a value worth showing, or the errno's name.
pub fn outcome<T: Show>(r: &R<T>) -> String {
    match r {
        Ok(v) => match v.show() {
            Some(s) => format!("ok {s}"),
            None => "ok".to_string(),
        },
        Err(e) => errno_name(*e),
    }
}

/// How a successful result prints in a check line.
pub trait Show {
    /// `None`: just `ok`.
    fn show(&self) -> Option<String>;
}

impl Show for () {
    fn show(&self) -> Option<String> {
        None
    }
}

macro_rules! show_plain {
    ($($t:ty),*) => {$(
        impl Show for $t {
            fn show(&self) -> Option<String> {
                Some(self.to_string())
            }
        }
    )*};
}
show_plain!(u16, u32, u64, usize, i64, i32, bool, std::net::SocketAddr);

/// A `std::io` result as a preview 1 one, for the guests that go through a library (std,
/// `wasmedge_wasi_socket`) rather than the raw calls. On wasip1 an OS error's code is the WASI
/// errno itself; an error without one (a library's own `Unsupported`, say) becomes `EIO`. The
/// error's text is printed first, as `LABEL error: TEXT`, so that the host also sees what the
/// program itself would show (`Permission denied (os error 2)`).
pub fn from_io<T>(label: &str, r: std::io::Result<T>) -> R<T> {
    r.map_err(|e| {
        println!("{label} error: {e}");
        match e.raw_os_error() {
            Some(code) => raw_result(code).err().unwrap_or(wasi::ERRNO_IO),
            None => wasi::ERRNO_IO,
        }
    })
}

/// Opened descriptors are numbers too, but which number is the host's choice: not shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opened(pub wasi::Fd);

impl Show for Opened {
    fn show(&self) -> Option<String> {
        None
    }
}

impl Show for wasi::Filestat {
    fn show(&self) -> Option<String> {
        Some(filetype_name(self.filetype).to_string())
    }
}

impl Show for wasi::Fdstat {
    fn show(&self) -> Option<String> {
        Some(filetype_name(self.fs_filetype).to_string())
    }
}

/// Bytes read or to compare, shown as a byte string.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    /// The length.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "b\"{}\"", self.0.escape_ascii())
    }
}

impl Show for Bytes {
    fn show(&self) -> Option<String> {
        Some(format!("{self:?}"))
    }
}

/// `Ok(bytes)`, for comparing with what a read returned.
pub fn ok_bytes(b: &[u8]) -> R<Bytes> {
    Ok(Bytes(b.to_vec()))
}

impl Show for String {
    fn show(&self) -> Option<String> {
        Some(format!("{self:?}"))
    }
}

impl Show for Vec<Entry> {
    fn show(&self) -> Option<String> {
        Some(format!("{} entries", self.len()))
    }
}

impl Show for (Vec<Entry>, usize) {
    fn show(&self) -> Option<String> {
        self.0.show()
    }
}

impl Show for (usize, Bytes) {
    fn show(&self) -> Option<String> {
        Some(self.0.to_string())
    }
}

impl Show for (usize, u16, Bytes) {
    fn show(&self) -> Option<String> {
        Some(format!("{} {:#x} {:?}", self.0, self.1, self.2))
    }
}

impl Show for (usize, u16) {
    fn show(&self) -> Option<String> {
        Some(format!("{} {:#x}", self.0, self.1))
    }
}

/// The witx name of a file type.
pub fn filetype_name(t: wasi::Filetype) -> &'static str {
    match t.raw() {
        0 => "UNKNOWN",
        1 => "BLOCK_DEVICE",
        2 => "CHARACTER_DEVICE",
        3 => "DIRECTORY",
        4 => "REGULAR_FILE",
        5 => "SOCKET_DGRAM",
        6 => "SOCKET_STREAM",
        7 => "SYMBOLIC_LINK",
        _ => "INVALID",
    }
}

/// A running guest: its scenario, its preopen, and the tally of its checks.
pub struct Guest {
    /// The scenario to run.
    pub scenario: String,
    /// The preopened directory the scenario works in (fd 3 when none was named).
    pub dir: wasi::Fd,
    /// The arguments after the scenario and the preopen.
    pub args: Vec<String>,
    checks: usize,
    failures: usize,
}

impl Guest {
    /// Reads the command line; looks the preopen up by its guest name.
    pub fn start() -> Guest {
        let mut args = std::env::args().skip(1);
        let scenario = args.next().unwrap_or_else(|| usage());
        let preopen = args.next();
        let dir = match &preopen {
            Some(name) => find_preopen(name).unwrap_or_else(|| {
                println!("no preopen named {name:?}; preopens: {:?}", preopens());
                std::process::exit(1)
            }),
            None => 3,
        };
        Guest {
            scenario,
            dir,
            args: args.collect(),
            checks: 0,
            failures: 0,
        }
    }

    /// Reads the command line of a guest that works without a preopen: the scenario, then its
    /// arguments.
    pub fn start_without_preopen() -> Guest {
        let mut args = std::env::args().skip(1);
        let scenario = args.next().unwrap_or_else(|| usage());
        Guest {
            scenario,
            dir: u32::MAX,
            args: args.collect(),
            checks: 0,
            failures: 0,
        }
    }

    /// The `i`th argument after the preopen.
    pub fn arg(&self, i: usize) -> &str {
        self.args
            .get(i)
            .unwrap_or_else(|| panic!("scenario {} needs argument {i}", self.scenario))
    }

    fn line(&mut self, label: &str, got: &str, want: &str, pass: bool) {
        self.checks += 1;
        if pass {
            println!("{label}: {got}");
        } else {
            self.failures += 1;
            println!("{label}: {got}  <-- FAIL, want {want}");
        }
    }

    /// Checks that `r` failed with `want`.
    pub fn errno<T: Show>(&mut self, label: &str, r: R<T>, want: Errno) {
        let got = outcome(&r);
        self.line(label, &got, &errno_name(want), r.is_err_and(|e| e == want));
    }

    /// Checks that `r` failed with one of `want` (where POSIX allows either).
    pub fn errno_any<T: Show>(&mut self, label: &str, r: R<T>, want: &[Errno]) {
        let got = outcome(&r);
        let names: Vec<String> = want.iter().map(|e| errno_name(*e)).collect();
        let pass = r.is_err_and(|e| want.contains(&e));
        self.line(label, &got, &names.join(" or "), pass);
    }

    /// Checks that `r` succeeded; its value, if it did.
    pub fn ok<T: Show>(&mut self, label: &str, r: R<T>) -> Option<T> {
        let got = outcome(&r);
        self.line(label, &got, "ok", r.is_ok());
        r.ok()
    }

    /// Like [`Guest::ok`], for a step the rest depends on: a failure ends the guest.
    pub fn must<T: Show>(&mut self, label: &str, r: R<T>) -> T {
        match self.ok(label, r) {
            Some(v) => v,
            None => self.finish(),
        }
    }

    /// Checks that `got == want`.
    pub fn eq<T: PartialEq + Debug>(&mut self, label: &str, got: T, want: T) {
        let pass = got == want;
        self.line(label, &format!("{got:?}"), &format!("{want:?}"), pass);
    }

    /// Checks `cond`, with `got` describing what was seen.
    pub fn that(&mut self, label: &str, cond: bool, got: impl Debug, want: &str) {
        self.line(label, &format!("{got:?}"), want, cond);
    }

    /// Prints an observation for the host to compare, without judging it.
    pub fn report(&self, label: &str, value: impl std::fmt::Display) {
        println!("{label}: {value}");
    }

    /// Prints the summary and exits: 0 when every check passed, 1 otherwise.
    pub fn finish(&self) -> ! {
        if self.failures == 0 {
            println!("{}: {} checks ok", self.scenario, self.checks);
            std::process::exit(0);
        }
        println!(
            "{}: {} of {} checks FAILED",
            self.scenario, self.failures, self.checks
        );
        std::process::exit(1);
    }

    /// Exits 2 for a scenario this guest does not have.
    pub fn unknown(&self) -> ! {
        println!("unknown scenario {:?}", self.scenario);
        std::process::exit(2);
    }
}

fn usage() -> ! {
    println!("usage: GUEST SCENARIO [PREOPEN] [ARGS...]");
    std::process::exit(2)
}

/// Every preopen: its fd and guest name, as wasi-libc enumerates them (fd 3 up to the first
/// `EBADF`).
pub fn preopens() -> Vec<(wasi::Fd, String)> {
    let mut out = Vec::new();
    for fd in 3.. {
        match prestat_name(fd) {
            Ok(name) => out.push((fd, name)),
            Err(_) => break,
        }
    }
    out
}

/// The fd of the preopen named `name`.
pub fn find_preopen(name: &str) -> Option<wasi::Fd> {
    preopens()
        .into_iter()
        .find(|(_, n)| n == name)
        .map(|(fd, _)| fd)
}

/// The guest name of preopen `fd` (`fd_prestat_get`, then `fd_prestat_dir_name`).
pub fn prestat_name(fd: wasi::Fd) -> R<String> {
    // SAFETY: the buffer is as long as the length passed; the host writes at most that much.
    unsafe {
        let prestat = wasi::fd_prestat_get(fd)?;
        assert_eq!(prestat.tag, wasi::PREOPENTYPE_DIR.raw());
        let len = prestat.u.dir.pr_name_len;
        let mut buf = vec![0u8; len];
        wasi::fd_prestat_dir_name(fd, buf.as_mut_ptr(), buf.len())?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }
}

// Safe wrappers. The raw calls are `unsafe` only because they take pointers; each wrapper
// passes buffers it owns, with their true lengths.

/// Rights enough for anything on a file.
pub const FILE_RIGHTS: wasi::Rights = wasi::RIGHTS_FD_DATASYNC
    | wasi::RIGHTS_FD_READ
    | wasi::RIGHTS_FD_SEEK
    | wasi::RIGHTS_FD_FDSTAT_SET_FLAGS
    | wasi::RIGHTS_FD_SYNC
    | wasi::RIGHTS_FD_TELL
    | wasi::RIGHTS_FD_WRITE
    | wasi::RIGHTS_FD_ADVISE
    | wasi::RIGHTS_FD_ALLOCATE
    | wasi::RIGHTS_FD_FILESTAT_GET
    | wasi::RIGHTS_FD_FILESTAT_SET_SIZE
    | wasi::RIGHTS_FD_FILESTAT_SET_TIMES
    | wasi::RIGHTS_POLL_FD_READWRITE;

/// Rights for reading a file.
pub const READ_RIGHTS: wasi::Rights = wasi::RIGHTS_FD_READ
    | wasi::RIGHTS_FD_SEEK
    | wasi::RIGHTS_FD_TELL
    | wasi::RIGHTS_FD_ADVISE
    | wasi::RIGHTS_FD_FILESTAT_GET
    | wasi::RIGHTS_POLL_FD_READWRITE;

/// Every right there is (what wasi-libc asks for when it does not know better).
pub const ALL_RIGHTS: wasi::Rights = (1 << 30) - 1;

/// Rights for a directory.
pub const DIR_RIGHTS: wasi::Rights = ALL_RIGHTS & !(wasi::RIGHTS_FD_READ | wasi::RIGHTS_FD_WRITE);

/// `path_open` with the symlink-following lookup, rights and no fd flags.
pub fn open(dir: wasi::Fd, path: &str, oflags: wasi::Oflags, rights: wasi::Rights) -> R<Opened> {
    open_with(
        dir,
        wasi::LOOKUPFLAGS_SYMLINK_FOLLOW,
        path,
        oflags,
        rights,
        0,
    )
}

/// `path_open`, every argument given. A directory is opened with the inheriting rights of the
/// one it is opened from, as wasi-libc does, so that `--enforce-rights` allows it; a file
/// inherits nothing.
pub fn open_with(
    dir: wasi::Fd,
    lookup: wasi::Lookupflags,
    path: &str,
    oflags: wasi::Oflags,
    rights: wasi::Rights,
    fdflags: wasi::Fdflags,
) -> R<Opened> {
    let inheriting = if oflags & wasi::OFLAGS_DIRECTORY != 0 {
        inheriting_rights(dir)
    } else {
        0
    };
    // SAFETY: no pointers beyond the path, which the binding passes with its length.
    unsafe { wasi::path_open(dir, lookup, path, oflags, rights, inheriting, fdflags).map(Opened) }
}

/// What `dir` passes on to what is opened through it (every right when it cannot say).
pub fn inheriting_rights(dir: wasi::Fd) -> wasi::Rights {
    fdstat(dir).map_or(ALL_RIGHTS, |s| s.fs_rights_inheriting)
}

/// Opens a directory below `dir`, asking for the directory rights `dir` can pass on.
pub fn open_dir(dir: wasi::Fd, path: &str) -> R<Opened> {
    let rights = DIR_RIGHTS & inheriting_rights(dir);
    open(dir, path, wasi::OFLAGS_DIRECTORY, rights)
}

/// `fd_read` into one buffer of `n` bytes; what was read.
pub fn read(fd: wasi::Fd, n: usize) -> R<Bytes> {
    let mut buf = vec![0u8; n];
    let iov = [wasi::Iovec {
        buf: buf.as_mut_ptr(),
        buf_len: buf.len(),
    }];
    // SAFETY: the iovec describes `buf`.
    let got = unsafe { wasi::fd_read(fd, &iov)? };
    buf.truncate(got);
    Ok(Bytes(buf))
}

/// Reads until end of file, in chunks of `chunk` bytes.
pub fn read_all(fd: wasi::Fd) -> R<Bytes> {
    let mut out = Vec::new();
    loop {
        let chunk = read(fd, 4096)?;
        if chunk.is_empty() {
            return Ok(Bytes(out));
        }
        out.extend_from_slice(&chunk.0);
    }
}

/// `fd_pread` of `n` bytes at `offset`.
pub fn pread(fd: wasi::Fd, n: usize, offset: u64) -> R<Bytes> {
    let mut buf = vec![0u8; n];
    let iov = [wasi::Iovec {
        buf: buf.as_mut_ptr(),
        buf_len: buf.len(),
    }];
    // SAFETY: the iovec describes `buf`.
    let got = unsafe { wasi::fd_pread(fd, &iov, offset)? };
    buf.truncate(got);
    Ok(Bytes(buf))
}

/// `fd_write` of the pieces, one iovec each.
pub fn writev(fd: wasi::Fd, pieces: &[&[u8]]) -> R<usize> {
    let iovs: Vec<wasi::Ciovec> = pieces
        .iter()
        .map(|p| wasi::Ciovec {
            buf: p.as_ptr(),
            buf_len: p.len(),
        })
        .collect();
    // SAFETY: each ciovec describes one of `pieces`.
    unsafe { wasi::fd_write(fd, &iovs) }
}

/// `fd_write` of one buffer.
pub fn write(fd: wasi::Fd, data: &[u8]) -> R<usize> {
    writev(fd, &[data])
}

/// `fd_pwrite` of one buffer at `offset`.
pub fn pwrite(fd: wasi::Fd, data: &[u8], offset: u64) -> R<usize> {
    let iov = [wasi::Ciovec {
        buf: data.as_ptr(),
        buf_len: data.len(),
    }];
    // SAFETY: the ciovec describes `data`.
    unsafe { wasi::fd_pwrite(fd, &iov, offset) }
}

/// `fd_seek`.
pub fn seek(fd: wasi::Fd, offset: i64, whence: wasi::Whence) -> R<u64> {
    // SAFETY: no pointers.
    unsafe { wasi::fd_seek(fd, offset, whence) }
}

/// `fd_tell`.
pub fn tell(fd: wasi::Fd) -> R<u64> {
    // SAFETY: no pointers.
    unsafe { wasi::fd_tell(fd) }
}

/// `fd_close`.
pub fn close(fd: wasi::Fd) -> R<()> {
    // SAFETY: no pointers; closing an fd std does not own.
    unsafe { wasi::fd_close(fd) }
}

/// `fd_filestat_get`.
pub fn fstat(fd: wasi::Fd) -> R<wasi::Filestat> {
    // SAFETY: no pointers.
    unsafe { wasi::fd_filestat_get(fd) }
}

/// `path_filestat_get`, following a symlink in the last position.
pub fn stat(dir: wasi::Fd, path: &str) -> R<wasi::Filestat> {
    // SAFETY: no pointers beyond the path.
    unsafe { wasi::path_filestat_get(dir, wasi::LOOKUPFLAGS_SYMLINK_FOLLOW, path) }
}

/// `path_filestat_get` of a symlink itself.
pub fn lstat(dir: wasi::Fd, path: &str) -> R<wasi::Filestat> {
    // SAFETY: no pointers beyond the path.
    unsafe { wasi::path_filestat_get(dir, 0, path) }
}

/// `fd_fdstat_get`.
pub fn fdstat(fd: wasi::Fd) -> R<wasi::Fdstat> {
    // SAFETY: no pointers.
    unsafe { wasi::fd_fdstat_get(fd) }
}

/// `path_readlink` into a buffer of `n` bytes.
pub fn readlink(dir: wasi::Fd, path: &str, n: usize) -> R<Bytes> {
    let mut buf = vec![0u8; n];
    // SAFETY: `buf` is `n` bytes long.
    let got = unsafe { wasi::path_readlink(dir, path, buf.as_mut_ptr(), buf.len())? };
    buf.truncate(got);
    Ok(Bytes(buf))
}

/// `path_create_directory`.
pub fn mkdir(dir: wasi::Fd, path: &str) -> R<()> {
    // SAFETY: no pointers beyond the path.
    unsafe { wasi::path_create_directory(dir, path) }
}

/// `path_remove_directory`.
pub fn rmdir(dir: wasi::Fd, path: &str) -> R<()> {
    // SAFETY: no pointers beyond the path.
    unsafe { wasi::path_remove_directory(dir, path) }
}

/// `path_unlink_file`.
pub fn unlink(dir: wasi::Fd, path: &str) -> R<()> {
    // SAFETY: no pointers beyond the path.
    unsafe { wasi::path_unlink_file(dir, path) }
}

/// `path_rename` within one directory.
pub fn rename(dir: wasi::Fd, from: &str, to: &str) -> R<()> {
    // SAFETY: no pointers beyond the paths.
    unsafe { wasi::path_rename(dir, from, dir, to) }
}

/// `path_link` within one directory, not following a symlink `from`.
pub fn link(dir: wasi::Fd, from: &str, to: &str) -> R<()> {
    // SAFETY: no pointers beyond the paths.
    unsafe { wasi::path_link(dir, 0, from, dir, to) }
}

/// `path_symlink`: `link` in `dir` pointing to `target`.
pub fn symlink(target: &str, dir: wasi::Fd, link: &str) -> R<()> {
    // SAFETY: no pointers beyond the paths.
    unsafe { wasi::path_symlink(target, dir, link) }
}

/// Creates (or truncates) `path` below `dir` holding `data`.
pub fn create_file(dir: wasi::Fd, path: &str, data: &[u8]) -> R<()> {
    let Opened(fd) = open(
        dir,
        path,
        wasi::OFLAGS_CREAT | wasi::OFLAGS_TRUNC,
        FILE_RIGHTS,
    )?;
    let result = write(fd, data);
    close(fd)?;
    result.map(drop)
}

/// The contents of `path` below `dir`.
pub fn read_file(dir: wasi::Fd, path: &str) -> R<Bytes> {
    let Opened(fd) = open(dir, path, 0, READ_RIGHTS)?;
    let result = read_all(fd);
    close(fd)?;
    result
}

/// One directory entry as `fd_readdir` returned it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The cookie of the next entry.
    pub next: u64,
    /// The inode.
    pub ino: u64,
    /// The file type.
    pub kind: wasi::Filetype,
    /// The name.
    pub name: String,
}

/// The size of a `dirent` header in guest memory.
pub const DIRENT_SIZE: usize = 24;

/// Parses the complete entries at the front of `buf` (the first `used` bytes): the entries,
/// and whether the last one was cut.
pub fn parse_dirents(buf: &[u8], used: usize) -> (Vec<Entry>, bool) {
    let mut out = Vec::new();
    let mut at = 0;
    while at < used {
        if used - at < DIRENT_SIZE {
            return (out, true);
        }
        let h = &buf[at..at + DIRENT_SIZE];
        let next = u64::from_le_bytes(h[0..8].try_into().unwrap());
        let ino = u64::from_le_bytes(h[8..16].try_into().unwrap());
        let namlen = u32::from_le_bytes(h[16..20].try_into().unwrap()) as usize;
        let kind = h[20];
        if used - at - DIRENT_SIZE < namlen {
            return (out, true);
        }
        let name = &buf[at + DIRENT_SIZE..at + DIRENT_SIZE + namlen];
        out.push(Entry {
            next,
            ino,
            kind: filetype(kind),
            name: String::from_utf8_lossy(name).into_owned(),
        });
        at += DIRENT_SIZE + namlen;
    }
    (out, false)
}

/// The `wasi::Filetype` for a raw value.
pub fn filetype(raw: u8) -> wasi::Filetype {
    match raw {
        1 => wasi::FILETYPE_BLOCK_DEVICE,
        2 => wasi::FILETYPE_CHARACTER_DEVICE,
        3 => wasi::FILETYPE_DIRECTORY,
        4 => wasi::FILETYPE_REGULAR_FILE,
        5 => wasi::FILETYPE_SOCKET_DGRAM,
        6 => wasi::FILETYPE_SOCKET_STREAM,
        7 => wasi::FILETYPE_SYMBOLIC_LINK,
        _ => wasi::FILETYPE_UNKNOWN,
    }
}

/// `fd_readdir` into a buffer of `len` bytes from `cookie`: the bytes used, and the buffer.
pub fn readdir_raw(fd: wasi::Fd, len: usize, cookie: u64) -> R<(usize, Bytes)> {
    let mut buf = vec![0u8; len];
    // SAFETY: `buf` is `len` bytes long.
    let used = unsafe { wasi::fd_readdir(fd, buf.as_mut_ptr(), buf.len(), cookie)? };
    Ok((used, Bytes(buf)))
}

/// The whole listing of `fd`, read `len` bytes at a time the way wasi-libc does: continue from
/// the last complete entry's cookie, grow the buffer when not even one entry fits; the
/// listing is over when a call fills less than the buffer. Also returns how many calls it took.
pub fn readdir_all(fd: wasi::Fd, mut len: usize) -> R<(Vec<Entry>, usize)> {
    let mut entries = Vec::new();
    let mut cookie = 0;
    let mut calls = 0;
    loop {
        let (used, buf) = readdir_raw(fd, len, cookie)?;
        calls += 1;
        let (got, cut) = parse_dirents(&buf.0, used);
        if got.is_empty() && cut {
            len *= 2;
            continue;
        }
        if let Some(last) = got.last() {
            cookie = last.next;
        }
        entries.extend(got);
        if used < len {
            return Ok((entries, calls));
        }
    }
}

/// The realtime or monotonic clock, in nanoseconds.
pub fn now(clock: wasi::Clockid) -> u64 {
    // SAFETY: no pointers.
    unsafe { wasi::clock_time_get(clock, 1).expect("clock_time_get") }
}
