//! The test guests of `tests/guests/` under the wasirun binary: real programs (Rust on the raw
//! preview 1 calls, C on wasi-libc) against the host's real file system.
//!
//! `cargo xtask test` builds the guests into `target/guests/` before it runs the tests; a
//! missing guest fails its test with a message saying so.
//!
//! Each test lays out a fresh directory on the host, runs one guest scenario in it, then checks
//! three things: the exit status, what the guest printed, and what the host sees in the
//! directory afterwards. The guests check what they can see themselves (each check is a line,
//! `label: outcome`, and a wrong outcome is marked `<-- FAIL, want ...`; see
//! `tests/guests/rust/src/lib.rs`); the host checks what only it can: that the bytes, names,
//! inodes and times the guest saw or made are the host's, and that nothing outside the
//! preopens changed.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const WASIRUN: &str = env!("CARGO_BIN_EXE_wasirun");

/// How long a guest may run before the test kills it: a hang is a failure, not a stuck run.
const TIMEOUT: Duration = Duration::from_secs(120);

// Finding the guests.

/// Where `cargo xtask test` (xtask/src/guests.rs) puts the built guests.
fn guests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/guests")
}

/// A built guest; fails the test when it is missing.
fn guest(path: PathBuf) -> PathBuf {
    assert!(
        path.exists(),
        "test guest {} is missing: build the guests with `cargo xtask test` \
         (`cargo xtask test --test guests` runs only these tests)",
        path.display()
    );
    path
}

/// A Rust guest, `tests/guests/rust/src/bin/NAME.rs`.
fn rust(name: &str) -> PathBuf {
    guest(
        guests_dir()
            .join("rust/wasm32-wasip1/release")
            .join(format!("{name}.wasm")),
    )
}

/// A C guest, `tests/guests/c/NAME.c`.
fn c(name: &str) -> PathBuf {
    guest(guests_dir().join("c").join(format!("{name}.wasm")))
}

// Running wasirun.

/// What a run printed and how it ended.
#[derive(Debug)]
struct Out {
    status: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    /// The value of the guest's line `label: value`.
    fn value(&self, label: &str) -> &str {
        let prefix = format!("{label}: ");
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no line {label:?} in the guest's output:\n{self}"))
    }

    /// The values of every line `label: value`.
    fn values(&self, label: &str) -> Vec<&str> {
        let prefix = format!("{label}: ");
        self.stdout
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix))
            .collect()
    }

    /// The lines a guest marked as failed checks.
    fn failures(&self) -> Vec<&str> {
        self.stdout.lines().filter(|l| l.contains("FAIL")).collect()
    }
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "status {}", self.status)?;
        writeln!(f, "--- stdout\n{}", self.stdout)?;
        write!(f, "--- stderr\n{}", self.stderr)
    }
}

/// Asserts that a guest ran every check of `scenario` and all of them passed: status 0, no
/// `FAIL` line, and the summary line last. A failure shows the failed checks first.
#[track_caller]
fn assert_checks_ok(out: &Out, scenario: &str) {
    let failures = out.failures();
    assert!(
        out.status == 0 && failures.is_empty(),
        "{scenario}: {} failed checks:\n{}\n\n{out}",
        failures.len(),
        failures.join("\n")
    );
    let last = out.stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!("{scenario}: ")) && last.ends_with(" checks ok"),
        "{scenario}: the guest did not finish: {out}"
    );
}

/// What the guest's stdin is.
enum Stdin {
    /// `/dev/null`.
    Null,
    /// A pipe the host closes at once.
    Closed,
    /// A pipe the host writes these bytes to, then closes.
    Bytes(Vec<u8>),
    /// A pipe the host keeps open, writing nothing, until the guest exits.
    Held,
    /// This descriptor (a socket, say).
    Fd(OwnedFd),
}

/// A wasirun command line being put together.
struct Wasirun {
    args: Vec<OsString>,
    env: Vec<(String, String)>,
    stdin: Stdin,
}

fn wasirun() -> Wasirun {
    Wasirun {
        args: Vec::new(),
        env: Vec::new(),
        stdin: Stdin::Null,
    }
}

impl Wasirun {
    fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// `--dir HOST::GUEST`.
    fn dir(self, host: &Path, guest: &str) -> Self {
        self.arg("--dir")
            .arg(format!("{}::{guest}", host.display()))
    }

    /// `--dir-ro HOST::GUEST`.
    fn dir_ro(self, host: &Path, guest: &str) -> Self {
        self.arg("--dir-ro")
            .arg(format!("{}::{guest}", host.display()))
    }

    /// The module and the guest's arguments.
    fn module(mut self, module: PathBuf, args: &[&str]) -> Self {
        self.args.push(module.into());
        self.args.extend(args.iter().map(OsString::from));
        self
    }

    /// Sets a variable in wasirun's own environment.
    fn host_env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    fn stdin(mut self, stdin: Stdin) -> Self {
        self.stdin = stdin;
        self
    }

    /// Starts wasirun, its compile cache in a directory of the tests (never the user's).
    fn spawn(self) -> Running {
        let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasirun-guests-cache");
        let mut cmd = Command::new(WASIRUN);
        cmd.args(&self.args)
            .env("XDG_CACHE_HOME", cache)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut data = None;
        let mut hold = false;
        match self.stdin {
            Stdin::Null => {
                cmd.stdin(Stdio::null());
            }
            Stdin::Closed => {
                cmd.stdin(Stdio::piped());
            }
            Stdin::Bytes(bytes) => {
                cmd.stdin(Stdio::piped());
                data = Some(bytes);
            }
            Stdin::Held => {
                cmd.stdin(Stdio::piped());
                hold = true;
            }
            Stdin::Fd(fd) => {
                cmd.stdin(Stdio::from(fd));
            }
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("starting {WASIRUN}: {e}"));
        let mut stdin = child.stdin.take();
        let writer = data.map(|bytes| {
            let mut pipe = stdin.take().expect("a stdin pipe");
            std::thread::spawn(move || {
                // The guest may exit without reading it all: a broken pipe is fine.
                let _ = pipe.write_all(&bytes);
            })
        });
        if !hold {
            stdin = None;
        }
        let stdout = BufReader::new(child.stdout.take().expect("a stdout pipe"));
        let mut stderr = child.stderr.take().expect("a stderr pipe");
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        Running {
            child,
            stdin,
            stdout,
            seen: String::new(),
            stderr,
            writer,
            started: Instant::now(),
        }
    }

    /// Runs wasirun to the end.
    fn run(self) -> Out {
        self.spawn().finish()
    }
}

/// A wasirun process running.
struct Running {
    child: Child,
    /// Stdin, when the test holds it open.
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    /// What was read from stdout so far.
    seen: String,
    stderr: JoinHandle<String>,
    writer: Option<JoinHandle<()>>,
    started: Instant,
}

impl Running {
    /// The next line the guest prints (without its newline); `None` at the end.
    fn line(&mut self) -> Option<String> {
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => {
                self.seen.push_str(&line);
                Some(line.trim_end_matches('\n').to_string())
            }
        }
    }

    /// Reads lines until one equal to `want`; panics if the output ends first.
    fn wait_for(&mut self, want: &str) {
        while let Some(line) = self.line() {
            if line == want {
                return;
            }
        }
        panic!(
            "the guest never printed {want:?}; its output:\n{}",
            self.seen
        );
    }

    /// Waits for the end (killing wasirun after [`TIMEOUT`]) and collects the output.
    fn finish(mut self) -> Out {
        let mut stdout = std::mem::take(&mut self.seen);
        let mut reader = self.stdout;
        let rest = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = reader.read_to_string(&mut s);
            s
        });
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("waiting for wasirun") {
                break status;
            }
            if self.started.elapsed() > TIMEOUT {
                let _ = self.child.kill();
                let _ = self.child.wait();
                stdout.push_str(&rest.join().unwrap_or_default());
                let stderr = self.stderr.join().unwrap_or_default();
                panic!(
                    "wasirun ran for more than {TIMEOUT:?} and was killed\n\
                     --- stdout\n{stdout}\n--- stderr\n{stderr}"
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        drop(self.stdin);
        if let Some(w) = self.writer {
            let _ = w.join();
        }
        stdout.push_str(&rest.join().expect("stdout reader"));
        Out {
            status: status
                .code()
                .expect("wasirun exited, not killed by a signal"),
            stdout,
            stderr: self.stderr.join().expect("stderr reader"),
        }
    }
}

// The host side.

/// A fresh, empty directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("wasirun-guests")
        .join(name);
    if dir.exists() {
        // Earlier runs may have left read-only or odd things behind.
        let _ = fs::remove_dir_all(&dir);
    }
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `contents` to `dir/rel`, creating the directories on the way.
fn put(dir: &Path, rel: &str, contents: &[u8]) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
}

/// Everything below `root`, one line per entry in name order: `dir/`, `file = "contents"`
/// (or `file = N bytes` when long), `link -> target`.
fn tree(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.is_symlink() {
                out.push(format!(
                    "{rel} -> {}",
                    fs::read_link(&path).unwrap().display()
                ));
            } else if meta.is_dir() {
                out.push(format!("{rel}/"));
                walk(root, &path, out);
            } else {
                let data = fs::read(&path).unwrap();
                if data.len() <= 64 {
                    out.push(format!("{rel} = {:?}", String::from_utf8_lossy(&data)));
                } else {
                    out.push(format!("{rel} = {} bytes", data.len()));
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out
}

/// Modification times, in nanoseconds, of everything below `root` (symlinks not followed).
fn mtimes(root: &Path) -> Vec<(String, i128)> {
    let mut out = vec![(".".to_string(), mtime_ns(root))];
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            out.push((rel, mtime_ns(&path)));
            if fs::symlink_metadata(&path).unwrap().is_dir() {
                todo.push(path);
            }
        }
    }
    out.sort();
    out
}

fn mtime_ns(path: &Path) -> i128 {
    let m = fs::symlink_metadata(path).unwrap();
    i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec())
}

fn atime_ns(path: &Path) -> i128 {
    let m = fs::symlink_metadata(path).unwrap();
    i128::from(m.atime()) * 1_000_000_000 + i128::from(m.atime_nsec())
}

fn ctime_ns(path: &Path) -> i128 {
    let m = fs::symlink_metadata(path).unwrap();
    i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec())
}

/// Lines as `String`s, to compare with [`tree`].
fn lines(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The fields of a guest's stat line (`dev=1 ino=2 ...`).
fn fields(line: &str) -> Vec<(&str, &str)> {
    line.split(' ')
        .filter_map(|kv| kv.split_once('='))
        .collect()
}

/// Asserts that the guest's stat line for `label` describes `path` as the host sees it.
#[track_caller]
fn assert_stat_matches(out: &Out, label: &str, path: &Path, filetype: &str) {
    let m = fs::symlink_metadata(path).unwrap();
    let want = [
        ("dev", m.dev().to_string()),
        ("ino", m.ino().to_string()),
        ("type", filetype.to_string()),
        ("nlink", m.nlink().to_string()),
        ("size", m.size().to_string()),
        ("mtim", mtime_ns(path).to_string()),
        ("ctim", ctime_ns(path).to_string()),
    ];
    let got = fields(out.value(label));
    let want: Vec<(&str, &str)> = want.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        got,
        want,
        "{label} against the host's stat of {}",
        path.display()
    );
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

// fs: files and directories.

/// `fs read`: what the host wrote is what the guest reads; the stats are the host's.
#[test]
fn fs_read_reads_and_stats_what_the_host_wrote() {
    let dir = scratch("fs-read");
    put(&dir, "hello.txt", b"Hello, WASI!\n");
    put(&dir, "sub/one", b"1");
    put(&dir, "sub/two", b"22");
    let out = wasirun()
        .dir(&dir, "sandbox")
        .module(rust("fs"), &["read", "sandbox"])
        .run();
    assert_checks_ok(&out, "read");
    assert_eq!(out.value("preopen name"), "sandbox");
    let hello = dir.join("hello.txt");
    assert_stat_matches(&out, "fd_filestat_get hello.txt", &hello, "REGULAR_FILE");
    assert_stat_matches(&out, "path_filestat_get sub", &dir.join("sub"), "DIRECTORY");
    assert_stat_matches(&out, "fd_filestat_get preopen", &dir, "DIRECTORY");
    assert_eq!(
        tree(&dir),
        lines(&[
            "hello.txt = \"Hello, WASI!\\n\"",
            "sub/",
            "sub/one = \"1\"",
            "sub/two = \"22\""
        ]),
        "reading changes nothing"
    );
}

/// `fs write`: the bytes the guest wrote, pwrote, appended and truncated are on the host.
#[test]
fn fs_write_leaves_the_bytes_on_the_host() {
    let dir = scratch("fs-write");
    put(&dir, "existing.txt", b"0123456789");
    let out = wasirun()
        .dir(&dir, "sandbox")
        .module(rust("fs"), &["write", "sandbox"])
        .run();
    assert_checks_ok(&out, "write");
    assert_eq!(
        tree(&dir),
        lines(&[
            "append.txt = \"one\\ntwo\\n\"",
            "big.bin = 65536 bytes",
            "existing.txt = \"new\"",
            "new.txt = \"aXYdef\\ntail\"",
            "sync.txt = \"synced\"",
        ])
    );
    let big = fs::read(dir.join("big.bin")).unwrap();
    let want: Vec<u8> = (0..65536u32).map(|i| (i % 251) as u8).collect();
    assert!(
        big == want,
        "big.bin differs from the pattern the guest wrote"
    );
}

/// `fs dirs`: directories made, renamed and removed by the guest, as the host sees them.
#[test]
fn fs_dirs_leaves_the_tree_on_the_host() {
    let dir = scratch("fs-dirs");
    let out = wasirun()
        .dir(&dir, "sandbox")
        .module(rust("fs"), &["dirs", "sandbox"])
        .run();
    assert_checks_ok(&out, "dirs");
    assert_eq!(
        tree(&dir),
        lines(&[
            "a/",
            "a/b2/",
            "a/moved.txt = \"deep\"",
            "a/y-moved = \"from x\"",
            "dir with spaces & [brackets]/",
            "h\u{e9}llo w\u{f6}rld \u{1f30d}.txt = \"unicode\"",
        ])
    );
}

/// `fs readdir`: the guest's listing, read with small buffers and cookies, is the host's.
#[test]
fn fs_readdir_lists_what_the_host_lists() {
    let dir = scratch("fs-readdir");
    let many = dir.join("many");
    for i in 0..60 {
        put(&many, &format!("f{i:02}-{}", "x".repeat(40)), b"");
    }
    fs::create_dir(many.join("subdir")).unwrap();
    symlink("f00-nowhere", many.join("link")).unwrap();
    let out = wasirun()
        .dir(&dir, "sandbox")
        .module(rust("fs"), &["readdir", "sandbox"])
        .run();
    assert_checks_ok(&out, "readdir");
    let mut want = vec![". DIRECTORY".to_string(), ".. DIRECTORY".to_string()];
    for e in fs::read_dir(&many).unwrap() {
        let e = e.unwrap();
        let t = e.file_type().unwrap();
        let kind = if t.is_symlink() {
            "SYMBOLIC_LINK"
        } else if t.is_dir() {
            "DIRECTORY"
        } else {
            "REGULAR_FILE"
        };
        want.push(format!("{} {kind}", e.file_name().to_str().unwrap()));
    }
    // The guest listed before it created `late1` and `late2`.
    want.retain(|e| !e.starts_with("late"));
    want.sort();
    assert_eq!(out.values("entry"), want);
    assert!(many.join("late1").exists() && many.join("late2").exists());
}

/// `fs times`: the times the guest set by fd and by path are the host's.
#[test]
fn fs_times_are_set_on_the_host() {
    const A: i128 = 1_600_000_000_123_456_789;
    const M: i128 = 1_500_000_000_987_654_321;
    const M2: i128 = 1_400_000_000_000_000_001;
    let dir = scratch("fs-times");
    put(&dir, "t.txt", b"t");
    put(&dir, "u.txt", b"u");
    let out = wasirun()
        .dir(&dir, "sandbox")
        .module(rust("fs"), &["times", "sandbox"])
        .run();
    assert_checks_ok(&out, "times");
    let t = dir.join("t.txt");
    assert_eq!((atime_ns(&t), mtime_ns(&t)), (A, M), "t.txt");
    assert_eq!(mtime_ns(&dir.join("u.txt")), M, "u.txt");
    assert_eq!(mtime_ns(&dir.join("tl")), M2, "the symlink tl itself");
    assert_eq!(mtime_ns(&dir.join("d")), M, "the directory d");
    assert_eq!(mtime_ns(&dir), M, "the preopen");
}

/// `fs links`: hard links share the host inode; symlinks hold the text the guest gave.
#[test]
fn fs_links_are_links_on_the_host() {
    let dir = scratch("fs-links");
    put(&dir, "target.txt", b"linked");
    fs::create_dir(dir.join("sub")).unwrap();
    let out = wasirun()
        .dir(&dir, "sandbox")
        .module(rust("fs"), &["links", "sandbox"])
        .run();
    assert_checks_ok(&out, "links");
    assert_eq!(
        tree(&dir),
        lines(&[
            "dangling -> nowhere",
            "hard.txt = \"linked\"",
            "soft2 -> target.txt",
            "sub/",
            "sub/inner = \"inner\"",
            "target.txt = \"linked\"",
        ])
    );
    let target = fs::metadata(dir.join("target.txt")).unwrap();
    let hard = fs::metadata(dir.join("hard.txt")).unwrap();
    assert_eq!((hard.ino(), hard.nlink()), (target.ino(), 2));
}

/// `fs fds`: stdio types, renumbering, closing; the host's files are only read.
#[test]
fn fs_fds_renumber_close_and_stdio() {
    let dir = scratch("fs-fds");
    put(&dir, "a.txt", b"AAAA");
    put(&dir, "b.txt", b"BB");
    let out = wasirun()
        .dir(&dir, "sandbox")
        .module(rust("fs"), &["fds", "sandbox"])
        .run();
    assert_checks_ok(&out, "fds");
    // stdin is /dev/null, stdout and stderr are pipes (FIFOs: UNKNOWN in preview 1).
    assert_eq!(out.value("fd 0 filetype"), "CHARACTER_DEVICE");
    assert_eq!(out.value("fd 1 filetype"), "UNKNOWN");
    assert_eq!(out.value("fd 2 filetype"), "UNKNOWN");
    assert_eq!(
        tree(&dir),
        lines(&[
            "a.txt = \"AAAA\"",
            "b.txt = \"BB\"",
            "err.txt = \"into the file via fd 2\\n\"",
        ])
    );
    assert_eq!(
        out.stderr, "",
        "fd 2 was renumbered over, the host's stderr closed for it"
    );
}

fn rights_dir(name: &str) -> PathBuf {
    let dir = scratch(name);
    put(&dir, "f.txt", b"rights");
    put(&dir, "d/x", b"x");
    dir
}

/// `fs rights lenient`: by default rights not asked for at open time are reported, not
/// enforced (wasmtime's behaviour): only what the host refuses fails. Rights the guest drops
/// are refused, so its writes after dropping them change nothing.
#[test]
fn fs_rights_are_not_enforced_by_default() {
    let dir = rights_dir("fs-rights-lenient");
    let out = wasirun()
        .dir(&dir, "sandbox")
        .module(rust("fs"), &["rights", "sandbox", "lenient"])
        .run();
    assert_checks_ok(&out, "rights");
    assert_eq!(
        tree(&dir),
        lines(&["d/", "d/x = \"x\"", "f.txt = \"rights\""]),
        "only the calls the host and the dropped rights allow went through"
    );
}

/// `fs rights strict`: under `--enforce-rights` every call the rights do not allow is
/// ENOTCAPABLE, and nothing changes on the host.
#[test]
fn fs_rights_are_enforced_with_enforce_rights() {
    let dir = rights_dir("fs-rights-strict");
    let out = wasirun()
        .arg("--enforce-rights")
        .dir(&dir, "sandbox")
        .module(rust("fs"), &["rights", "sandbox", "strict"])
        .run();
    assert_checks_ok(&out, "rights");
    assert_eq!(
        tree(&dir),
        lines(&["d/", "d/x = \"x\"", "f.txt = \"rights\""]),
        "no call the rights did not allow went through"
    );
}

/// `fs read` under `--enforce-rights`: a well-behaved guest (asking for the rights it uses)
/// runs the same.
#[test]
fn fs_read_runs_the_same_with_enforce_rights() {
    let dir = scratch("fs-read-strict");
    put(&dir, "hello.txt", b"Hello, WASI!\n");
    put(&dir, "sub/one", b"1");
    put(&dir, "sub/two", b"22");
    let out = wasirun()
        .arg("--enforce-rights")
        .dir(&dir, "sandbox")
        .module(rust("fs"), &["read", "sandbox"])
        .run();
    assert_checks_ok(&out, "read");
}

/// `fs readonly`: under `--dir-ro` reading works and every change is refused; the host's
/// directory is exactly as it was, times included.
#[test]
fn fs_dir_ro_refuses_every_change() {
    let dir = scratch("fs-readonly");
    put(&dir, "ro.txt", b"read only");
    put(&dir, "d/x", b"x");
    let (before, times) = (tree(&dir), mtimes(&dir));
    let out = wasirun()
        .dir_ro(&dir, "ro")
        .module(rust("fs"), &["readonly", "ro"])
        .run();
    assert_checks_ok(&out, "readonly");
    assert_eq!(tree(&dir), before);
    assert_eq!(mtimes(&dir), times);
}

/// `fs std`: Rust's `std::fs` (wasi-libc's preopen lookup underneath, as in most Rust
/// programs), in both rights modes; the host checks the tree it leaves.
#[test]
fn fs_rust_std() {
    for (name, enforce_rights) in [("fs-std", false), ("fs-std-strict", true)] {
        let dir = scratch(name);
        put(&dir, "in.txt", b"std in");
        let mut w = wasirun();
        if enforce_rights {
            w = w.arg("--enforce-rights");
        }
        let out = w
            .dir(&dir, "/std")
            .module(rust("fs"), &["std", "/std"])
            .run();
        assert_checks_ok(&out, "std");
        assert_eq!(
            tree(&dir),
            lines(&[
                "hard = \"written + appended\"",
                "in.txt = \"std in\"",
                "out.txt = \"written + appended\"",
                "x/",
                "x/moved.txt = \"written by std\"",
            ]),
            "{name}"
        );
    }
}

// clocks: clocks, randomness, poll_oneoff.

/// `clocks clocks`: all four clocks read; the realtime clock is the host's.
#[test]
fn clocks_read_all_four_clocks() {
    let out = wasirun().module(rust("clocks"), &["clocks"]).run();
    assert_checks_ok(&out, "clocks");
    let guest: u64 = out.value("realtime seconds").parse().unwrap();
    let host = now_secs();
    assert!(
        guest.abs_diff(host) < 60,
        "realtime: guest {guest} s, host {host} s"
    );
}

/// `clocks random`: random_get fills buffers with distinct, evenly spread bytes;
/// sched_yield returns.
#[test]
fn random_get_and_sched_yield() {
    let out = wasirun().module(rust("clocks"), &["random"]).run();
    assert_checks_ok(&out, "random");
}

/// `clocks poll`: clock subscriptions (relative, absolute, several, in the past), regular
/// files (always ready), stdout (a pipe with room), stdin (a pipe with nothing in it), and a
/// bad fd (an event with EBADF).
#[test]
fn poll_oneoff_on_clocks_files_and_pipes() {
    let dir = scratch("poll");
    put(&dir, "hello.txt", b"Hello, WASI!\n");
    let out = wasirun()
        .dir(&dir, "sandbox")
        .module(rust("clocks"), &["poll", "sandbox"])
        .stdin(Stdin::Held)
        .run();
    assert_checks_ok(&out, "poll");
}

/// `clocks poll_stdin`: poll_oneoff wakes when data arrives on stdin, and reports the hangup
/// when the host closes it.
#[test]
fn poll_oneoff_wakes_on_stdin_data_and_hangup() {
    let mut running = wasirun()
        .module(rust("clocks"), &["poll_stdin"])
        .stdin(Stdin::Held)
        .spawn();
    running.wait_for("send");
    let mut stdin = running.stdin.take().expect("stdin held");
    stdin.write_all(b"hello").unwrap();
    stdin.flush().unwrap();
    running.wait_for("close");
    drop(stdin);
    let out = running.finish();
    assert_checks_ok(&out, "poll_stdin");
}

// procs: arguments, environment, exit, stdio.

/// `procs args`: arguments reach the guest byte for byte, empty and non-ASCII ones included;
/// argv[0] is the module's file name or `--argv0`.
#[test]
fn args_reach_the_guest_byte_for_byte() {
    let args = [
        "args",
        "",
        "héllo wörld",
        "a=b",
        "--flag",
        "with space",
        "-",
    ];
    let out = wasirun().module(rust("procs"), &args).run();
    assert_eq!(out.status, 0, "{out}");
    let mut want = vec!["argv[0] = \"procs.wasm\"".to_string()];
    for (i, a) in args.iter().enumerate() {
        want.push(format!("argv[{}] = {a:?}", i + 1));
    }
    let size: usize = "procs.wasm".len() + 1 + args.iter().map(|a| a.len() + 1).sum::<usize>();
    assert_eq!(
        out.value("args_sizes_get"),
        format!("{} {size}", args.len() + 1)
    );
    let got: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("argv["))
        .collect();
    assert_eq!(got, want);

    let out = wasirun()
        .arg("--argv0")
        .arg("my-program")
        .module(rust("procs"), &["args"])
        .run();
    assert_eq!(out.status, 0, "{out}");
    assert!(out.stdout.contains("argv[0] = \"my-program\"\n"), "{out}");
}

/// `procs env`: the guest's environment is what `--env` and `--env-inherit` say, nothing of
/// the host's otherwise.
#[test]
fn env_is_what_the_command_line_says() {
    let out = wasirun()
        .host_env("WASIRUN_GUEST_HOST_VAR", "host")
        .module(rust("procs"), &["env"])
        .run();
    assert_eq!(out.status, 0, "{out}");
    assert_eq!(
        out.stdout, "environ_sizes_get: 0 0\n",
        "no host variable leaks in"
    );

    let out = wasirun()
        .args_env(&["A=1", "B=", "C=x=y", "A=2"])
        .module(rust("procs"), &["env"])
        .run();
    assert_eq!(out.status, 0, "{out}");
    assert_eq!(out.stdout, "environ_sizes_get: 3 13\nA=2\nB=\nC=x=y\n");

    let out = wasirun()
        .host_env("WASIRUN_GUEST_HOST_VAR", "host")
        .host_env("WASIRUN_GUEST_OVERRIDDEN", "host")
        .arg("--env-inherit")
        .args_env(&["WASIRUN_GUEST_OVERRIDDEN=mine"])
        .module(rust("procs"), &["env"])
        .run();
    assert_eq!(out.status, 0, "{out}");
    let vars: Vec<&str> = out.stdout.lines().skip(1).collect();
    assert!(vars.contains(&"WASIRUN_GUEST_HOST_VAR=host"), "{out}");
    assert!(vars.contains(&"WASIRUN_GUEST_OVERRIDDEN=mine"), "{out}");
    assert!(!vars.contains(&"WASIRUN_GUEST_OVERRIDDEN=host"), "{out}");
}

impl Wasirun {
    /// `--env` for each.
    fn args_env(mut self, vars: &[&str]) -> Self {
        for v in vars {
            self = self.arg("--env").arg(*v);
        }
        self
    }
}

/// `procs exit N`: the exit status is the guest's `proc_exit` code, and nothing runs after it.
#[test]
fn proc_exit_is_the_exit_status() {
    for (code, status) in [(0, 0), (1, 1), (42, 42), (125, 125), (255, 255)] {
        let out = wasirun()
            .module(rust("procs"), &["exit", &code.to_string()])
            .run();
        assert_eq!(out.status, status, "proc_exit({code}): {out}");
        assert_eq!(out.stdout, format!("exiting with {code}\n"), "{out}");
        assert_eq!(out.stderr, "", "{out}");
    }
}

/// `procs raise`: the host cannot raise a signal for the guest: ENOSYS, and the guest goes on.
#[test]
fn proc_raise_is_enosys() {
    let out = wasirun().module(rust("procs"), &["raise"]).run();
    assert_checks_ok(&out, "raise");
    assert!(out.stdout.contains("still running after proc_raise\n"));
}

/// `procs stdio`: a megabyte through stdin and stdout, a line on stderr.
#[test]
fn stdio_carries_a_megabyte_through_pipes() {
    let input: Vec<u8> = (0..1 << 20).map(|i| b"abcdefghij\n"[i % 11]).collect();
    let out = wasirun()
        .module(rust("procs"), &["stdio"])
        .stdin(Stdin::Bytes(input.clone()))
        .run();
    assert_eq!(out.status, 0, "{out}");
    let (types, body) = out.stdout.split_at(out.stdout.find("ABC").unwrap_or(0));
    assert_eq!(types, "fd 0: UNKNOWN\nfd 1: UNKNOWN\nfd 2: UNKNOWN\n");
    assert!(
        body.as_bytes() == input.to_ascii_uppercase(),
        "stdout is not stdin upper-cased"
    );
    assert_eq!(out.stderr, format!("read {} bytes\n", input.len()));
}

/// `procs stdio` with stdin from a file: a regular file the guest reads to the end.
#[test]
fn stdio_from_a_file() {
    let dir = scratch("stdio-file");
    put(&dir, "input", b"from a file\n");
    let file = fs::File::open(dir.join("input")).unwrap();
    let out = wasirun()
        .module(rust("procs"), &["stdio"])
        .stdin(Stdin::Fd(OwnedFd::from(file)))
        .run();
    assert_eq!(out.status, 0, "{out}");
    assert_eq!(
        out.stdout,
        "fd 0: REGULAR_FILE\nfd 1: UNKNOWN\nfd 2: UNKNOWN\nFROM A FILE\n"
    );
    assert_eq!(out.stderr, "read 12 bytes\n");
}

// errors: every errno path.

/// `errors all`: each errno by the calls that give it (EBADF, ENOTDIR, EISDIR, ENOTEMPTY,
/// EEXIST, EINVAL, ENOENT, ELOOP, ENAMETOOLONG, ENOTSOCK, ESPIPE, EFAULT, EILSEQ, ENOTCAPABLE),
/// and none of the failed calls changed anything.
#[test]
fn errors_every_errno_path() {
    let dir = scratch("errors");
    put(&dir, "file.txt", b"data");
    put(&dir, "huge.txt", b"");
    fs::create_dir(dir.join("dir")).unwrap();
    put(&dir, "full/x", b"x");
    symlink("loop2", dir.join("loop1")).unwrap();
    symlink("loop1", dir.join("loop2")).unwrap();
    let (before, times) = (tree(&dir), mtimes(&dir));
    let out = wasirun()
        .dir(&dir, "sandbox")
        .module(rust("errors"), &["all", "sandbox"])
        .stdin(Stdin::Closed)
        .run();
    assert_checks_ok(&out, "all");
    assert_eq!(tree(&dir), before);
    assert_eq!(mtimes(&dir), times);
}

// sandbox: escapes from the guest side.

/// `sandbox all`: ~70 ways out of a preopen (`..`, absolute paths, symlinks the host or the
/// guest made, hard links and renames of them, a second preopen, NUL bytes) are refused, and
/// nothing outside the preopen is read, written, created, removed or touched.
#[test]
fn sandbox_escapes_from_the_guest_are_refused() {
    let top = scratch("sandbox");
    let outside = top.join("outside");
    let root = top.join("root");
    let other = top.join("other");
    put(&outside, "secret.txt", b"TOP SECRET");
    put(&root, "file.txt", b"inside");
    fs::create_dir(root.join("sub")).unwrap();
    fs::create_dir(&other).unwrap();
    symlink("..", root.join("up")).unwrap();
    symlink(&outside, root.join("abs")).unwrap();
    symlink("sub/../../outside/secret.txt", root.join("sneaky")).unwrap();
    symlink("chain2", root.join("chain1")).unwrap();
    symlink("sub/../..", root.join("chain2")).unwrap();
    symlink("/proc/self/root", root.join("proc")).unwrap();
    let secret = outside.join("secret.txt");
    let (outside_before, outside_times) = (tree(&outside), mtimes(&outside));
    // An access time older than a day: under `relatime` (Linux's default) any read of the
    // secret now moves it.
    let long_ago = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    let times = fs::FileTimes::new().set_accessed(long_ago);
    fs::File::options()
        .write(true)
        .open(&secret)
        .unwrap()
        .set_times(times)
        .unwrap();
    let secret_atime = atime_ns(&secret);
    let top_before: Vec<String> = fs::read_dir(&top)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    let out = wasirun()
        .dir(&root, "sandbox")
        .dir(&other, "other")
        .module(
            rust("sandbox"),
            &[
                "all",
                "sandbox",
                secret.to_str().unwrap(),
                outside.to_str().unwrap(),
            ],
        )
        .run();
    assert_checks_ok(&out, "all");
    for link in ["mine", "mine_abs", "mine_root", "sub/deep"] {
        assert!(
            fs::symlink_metadata(root.join(link)).is_err(),
            "the guest made {link}, a symlink out: {out}"
        );
    }
    let attempts = out.stdout.lines().filter(|l| l.ends_with(": PERM")).count();
    assert!(
        attempts >= 15,
        "only {attempts} escapes refused with EPERM: {out}"
    );
    assert!(
        !out.stdout.contains("TOP SECRET"),
        "the secret leaked: {out}"
    );

    // Before `tree` reads the secret itself.
    assert_eq!(atime_ns(&secret), secret_atime, "the secret was read");
    assert_eq!(mtimes(&outside), outside_times, "outside was touched");
    assert_eq!(tree(&outside), outside_before, "outside changed");
    assert_eq!(
        tree(&other),
        Vec::<String>::new(),
        "the other preopen changed"
    );
    let top_after: Vec<String> = fs::read_dir(&top)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        top_after, top_before,
        "something was created next to the preopen"
    );
}

// sock: sockets handed to the guest as stdin.

/// `sock stream`: a connected Unix socket as stdin: poll, peek, receive, send, shut down.
#[test]
fn sock_calls_on_a_connected_socket() {
    use std::os::unix::net::UnixStream;
    let (mut host, guest_end) = UnixStream::pair().unwrap();
    host.write_all(b"ping").unwrap();
    let running = wasirun()
        .module(rust("sock"), &["stream"])
        .stdin(Stdin::Fd(OwnedFd::from(guest_end)))
        .spawn();
    // Until the guest shuts down writing, then the end of the stream.
    host.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut got = Vec::new();
    let r = host.read_to_end(&mut got);
    drop(host);
    let out = running.finish();
    assert_checks_ok(&out, "stream");
    r.unwrap();
    assert_eq!(got, b"pong");
}

/// `sock accept`: a listening TCP socket as stdin: accept a connection, receive, send, shut
/// it down.
#[test]
fn sock_accept_on_a_listening_socket() {
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut peer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    peer.write_all(b"hi").unwrap();
    let out = wasirun()
        .module(rust("sock"), &["accept"])
        .stdin(Stdin::Fd(OwnedFd::from(listener)))
        .run();
    assert_checks_ok(&out, "accept");
    peer.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut got = Vec::new();
    peer.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"bye");
}

// C guests: the POSIX layer of wasi-libc.

/// `posix_fs`: open/read/write/lseek/fstat/stat/ftruncate/mkdir/opendir/readdir/rmdir/unlink/
/// rename/link/symlink/readlink/utimensat/futimens/openat/chdir and the errno values, through
/// wasi-libc; the host checks the tree it leaves.
#[test]
fn c_posix_file_system() {
    c_posix_fs("c-posix-fs", false);
}

/// `posix_fs` under `--enforce-rights`: wasi-libc asks for the rights it uses (those the
/// directory passes on), so it runs the same.
#[test]
fn c_posix_file_system_with_enforce_rights() {
    c_posix_fs("c-posix-fs-strict", true);
}

fn c_posix_fs(name: &str, enforce_rights: bool) {
    let dir = scratch(name);
    put(&dir, "input.txt", b"from the host\n");
    let mut w = wasirun();
    if enforce_rights {
        w = w.arg("--enforce-rights");
    }
    let out = w
        .dir(&dir, "/sandbox")
        .module(c("posix_fs"), &["/sandbox"])
        .run();
    assert_checks_ok(&out, "posix_fs");
    assert_eq!(
        tree(&dir),
        lines(&[
            "at.txt = \"openat\"",
            "d/",
            "d/f.txt = \"HELLO\"",
            "d/renamed = \"HELLO\"",
            "d/sym -> f.txt",
            "full/",
            "full/x = \"x\"",
            "input.txt = \"from the host\\n\"",
            "stamped = \"\"",
        ])
    );
    let f = fs::metadata(dir.join("d/f.txt")).unwrap();
    let renamed = fs::metadata(dir.join("d/renamed")).unwrap();
    assert_eq!((renamed.ino(), renamed.nlink()), (f.ino(), 2));
    assert_eq!(mtime_ns(&dir.join("stamped")), 1_234_567_890_500_000_000);
}

/// `posix_proc`: argv, environ, getenv, clocks, nanosleep, poll, stdin, getentropy, the exit
/// status of `exit()`, through wasi-libc.
#[test]
fn c_posix_process() {
    let out = wasirun()
        .args_env(&["GREETING=hello"])
        .module(c("posix_proc"), &["one", "two words", "exit=3"])
        .stdin(Stdin::Bytes(b"abc".to_vec()))
        .run();
    let failures = out.failures();
    assert!(failures.is_empty(), "{failures:?}\n{out}");
    assert_eq!(out.status, 3, "{out}");
    assert!(
        out.stdout.starts_with(
            "argv[0] = \"posix_proc.wasm\"\nargv[1] = \"one\"\nargv[2] = \"two words\"\n\
             argv[3] = \"exit=3\"\nenv: GREETING=hello\n"
        ),
        "{out}"
    );
    assert!(out.stdout.ends_with("checks ok\n"), "{out}");
    assert_eq!(out.stderr, "to stderr\n");
    let guest: u64 = out.value("realtime seconds").parse().unwrap();
    assert!(guest.abs_diff(now_secs()) < 60, "{out}");
}

// Coverage.

/// Every preview 1 function, by its witx name.
const PREVIEW1: [&str; 46] = [
    "args_get",
    "args_sizes_get",
    "environ_get",
    "environ_sizes_get",
    "clock_res_get",
    "clock_time_get",
    "fd_advise",
    "fd_allocate",
    "fd_close",
    "fd_datasync",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_fdstat_set_rights",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_prestat_get",
    "fd_prestat_dir_name",
    "fd_pwrite",
    "fd_read",
    "fd_readdir",
    "fd_renumber",
    "fd_seek",
    "fd_sync",
    "fd_tell",
    "fd_write",
    "path_create_directory",
    "path_filestat_get",
    "path_filestat_set_times",
    "path_link",
    "path_open",
    "path_readlink",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
    "poll_oneoff",
    "proc_exit",
    "proc_raise",
    "sched_yield",
    "random_get",
    "sock_accept",
    "sock_recv",
    "sock_send",
    "sock_shutdown",
];

/// The functions a run of `module` with `args` calls, from its `--trace-file`. The guest's
/// own checks are not looked at: the other tests do that.
fn traced(name: &str, dirs: &[(&Path, &str)], module: PathBuf, args: &[&str]) -> BTreeSet<String> {
    let trace = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("wasirun-guests")
        .join(format!("coverage-{name}.trace"));
    let mut w = wasirun().arg("--trace-file").arg(&trace);
    for (host, guest) in dirs {
        w = w.dir(host, guest);
    }
    let out = w.module(module, args).stdin(Stdin::Closed).run();
    let text =
        fs::read_to_string(&trace).unwrap_or_else(|e| panic!("{}: {e}\n{out}", trace.display()));
    text.lines()
        .filter_map(|l| l.split_once('(').map(|(f, _)| f.to_string()))
        .collect()
}

/// The guests between them call each of the 46 preview 1 functions (the errors guest reaches
/// the socket calls on files and bad fds; `sock_calls_*` on real sockets).
#[test]
fn every_preview1_function_is_called_by_a_guest() {
    let mut called = BTreeSet::new();

    let dir = scratch("coverage-fs");
    put(&dir, "hello.txt", b"Hello, WASI!\n");
    put(&dir, "sub/one", b"1");
    put(&dir, "sub/two", b"22");
    put(&dir, "existing.txt", b"0123456789");
    put(&dir, "target.txt", b"linked");
    put(&dir, "a.txt", b"AAAA");
    put(&dir, "b.txt", b"BB");
    put(&dir, "t.txt", b"t");
    put(&dir, "u.txt", b"u");
    for scenario in ["read", "write", "dirs", "links", "times", "fds"] {
        called.extend(traced(
            scenario,
            &[(&dir, "sandbox")],
            rust("fs"),
            &[scenario, "sandbox"],
        ));
    }
    let dir = scratch("coverage-errors");
    put(&dir, "file.txt", b"data");
    fs::create_dir(dir.join("dir")).unwrap();
    put(&dir, "full/x", b"x");
    called.extend(traced(
        "errors",
        &[(&dir, "sandbox")],
        rust("errors"),
        &["all", "sandbox"],
    ));
    put(&dir, "hello.txt", b"Hello, WASI!\n");
    called.extend(traced(
        "poll",
        &[(&dir, "sandbox")],
        rust("clocks"),
        &["poll", "sandbox"],
    ));
    called.extend(traced("clocks", &[], rust("clocks"), &["clocks"]));
    called.extend(traced("random", &[], rust("clocks"), &["random"]));
    called.extend(traced("env", &[], rust("procs"), &["env"]));
    called.extend(traced("raise", &[], rust("procs"), &["raise"]));
    called.extend(traced("exit", &[], rust("procs"), &["exit", "7"]));

    let missing: Vec<&str> = PREVIEW1
        .iter()
        .copied()
        .filter(|f| !called.contains(*f))
        .collect();
    assert_eq!(
        missing,
        Vec::<&str>::new(),
        "never called by a guest; called: {called:?}"
    );
}
