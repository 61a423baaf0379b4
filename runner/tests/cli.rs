//! The `wasirun` binary, end to end: every flag and every documented exit status, with the
//! WAT guests of `tests/data/` (each says what it does at its top).
//!
//! Tests marked `// unix:` need the Unix system's calls (args, env, files, directories); the
//! others only need the glue, the tracer and `proc_exit`.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

const WASIRUN: &str = env!("CARGO_BIN_EXE_wasirun");

/// WASI errnos the guests exit with.
const EBADF: i32 = 8;
const EMFILE: i32 = 33;
const ENFILE: i32 = 41;
const ENOTCAPABLE: i32 = 76;

/// What a run printed and how it ended.
#[derive(Debug)]
struct Out {
    status: i32,
    stdout: String,
    stderr: String,
}

/// A `tests/data/` file.
fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `examples/hello.wat`.
fn hello() -> String {
    format!("{}/examples/hello.wat", env!("CARGO_MANIFEST_DIR"))
}

/// A fresh, empty directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("wasirun-cli")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs wasirun with `args`, its compile cache in a directory shared by the tests (never the
/// user's), and `env` added to the environment.
fn run_env(args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut cmd = wasirun(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    output(cmd)
}

/// wasirun with `args`, its compile cache in a directory shared by the tests.
fn wasirun(args: &[&str]) -> Command {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasirun-cli-cache");
    let mut cmd = Command::new(WASIRUN);
    cmd.args(args).env("XDG_CACHE_HOME", &cache);
    cmd
}

/// Runs `cmd` to its end.
fn output(mut cmd: Command) -> Out {
    let out = cmd.output().unwrap();
    Out {
        status: out.status.code().expect("exited, not killed by a signal"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run(args: &[&str]) -> Out {
    run_env(args, &[])
}

/// Asserts a failure of wasirun itself: `status`, nothing on stdout, and one line on stderr,
/// `wasirun: ...`, containing `what`.
#[track_caller]
fn assert_error(out: &Out, status: i32, what: &str) {
    assert_eq!(out.status, status, "{out:?}");
    assert_eq!(out.stdout, "", "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "not one line: {out:?}");
    assert!(out.stderr.starts_with("wasirun: "), "{out:?}");
    assert!(out.stderr.contains(what), "no {what:?} in {out:?}");
}

/// Asserts a successful run.
#[track_caller]
fn assert_ok(out: &Out) {
    assert_eq!(out.status, 0, "{out:?}");
}

// Exit statuses.

#[test]
fn proc_exit_status_is_the_exit_status() {
    let out = run(&[&data("exit42.wat")]);
    assert_eq!(out.status, 42, "{out:?}");
    assert_eq!(out.stderr, "");
}

#[test]
fn returning_from_start_exits_0() {
    let out = run(&[&data("return.wat")]);
    assert_ok(&out);
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
}

#[test]
fn a_trap_exits_134_with_the_trap_and_the_backtrace() {
    let out = run(&[&data("trap.wat")]);
    assert_eq!(out.status, 134, "{out:?}");
    let mut lines = out.stderr.lines();
    assert_eq!(
        lines.next(),
        Some("wasirun: wasm trap: wasm `unreachable` instruction executed")
    );
    let backtrace: Vec<&str> = lines.collect();
    assert!(backtrace[0].contains("wasm backtrace"), "{out:?}");
    assert!(backtrace[1].contains("trapper!boom"), "{out:?}");
    assert!(backtrace[2].contains("trapper!middle"), "{out:?}");
}

#[test]
fn a_trap_in_the_start_function_exits_134() {
    let out = run(&[&data("start_trap.wat")]);
    assert_eq!(out.status, 134, "{out:?}");
    assert!(
        out.stderr
            .starts_with("wasirun: wasm trap: wasm `unreachable`")
    );
}

#[test]
fn a_fatal_host_error_exits_134() {
    let out = run(&[&data("no_memory.wat")]);
    assert_eq!(out.status, 134, "{out:?}");
    assert!(
        out.stderr
            .starts_with("wasirun: error: the module does not export a memory named `memory`\n"),
        "{out:?}"
    );
    assert!(out.stderr.contains("wasm backtrace"), "{out:?}");
}

#[test]
fn a_missing_module_exits_66() {
    let out = run(&[&data("nope.wasm")]);
    assert_error(&out, 66, "cannot read module");
    assert!(out.stderr.contains("nope.wasm"));
}

#[test]
fn an_invalid_module_exits_65() {
    for name in ["invalid.wasm", "truncated.wasm", "syntax_error.wat"] {
        let out = run(&[&data(name)]);
        assert_error(&out, 65, &format!("invalid module {}", data(name)));
    }
}

#[test]
fn a_component_is_named_as_one_and_exits_65() {
    for name in ["component.wasm", "component.wat"] {
        let out = run(&[&data(name)]);
        assert_error(
            &out,
            65,
            "a component (WASI preview 2): wasirun runs preview 1 modules (built for wasm32-wasip1)",
        );
    }
}

#[test]
fn a_file_that_is_not_webassembly_says_so() {
    for name in ["not_wasm.csv", "invalid.wasm"] {
        let out = run(&[&data(name)]);
        assert_error(
            &out,
            65,
            &format!(
                "invalid module {}: not WebAssembly (neither binary nor text)",
                data(name)
            ),
        );
    }
    // Text that starts like WAT keeps the parser's message.
    let out = run(&[&data("syntax_error.wat")]);
    assert_error(&out, 65, "frobnicate");
}

#[test]
fn invoke_calls_an_export_with_the_arguments_and_prints_its_results() {
    let module = data("invoke.wat");
    let out = run(&["--invoke", "add", &module, "40", "2"]);
    assert_ok(&out);
    assert_eq!(out.stdout, "42\n");
    let out = run(&["run", "--invoke", "pair", &module, "-7", "2.5"]);
    assert_ok(&out);
    assert_eq!(out.stdout, "-7\n2.5\n");
    let out = run(&["--invoke", "nope", &module]);
    assert_error(&out, 65, "--invoke nope: no export `nope`");
    let out = run(&["--invoke", "memory", &module]);
    assert_error(&out, 65, "`memory` is not a function");
    let out = run(&["--invoke", "add", &module, "1"]);
    assert_eq!(out.status, 134, "{out:?}");
    assert!(
        out.stderr.contains("takes 2 parameters, 1 given"),
        "{out:?}"
    );
    let out = run(&["--invoke", "add", &module, "1", "x"]);
    assert!(out.stderr.contains("\"x\" is not an i32"), "{out:?}");
}

#[test]
fn run_is_an_alias_and_a_module_named_run_runs_as_dot_slash_run() {
    let out = run(&["run", &data("exit42.wat")]);
    assert_eq!(out.status, 42, "{out:?}");
    assert_error(
        &run(&["run"]),
        2,
        "run needs a MODULE (a module named run runs as ./run)",
    );
    let dir = scratch("named-run");
    fs::copy(data("exit42.wat"), dir.join("run")).unwrap();
    let out = Command::new(WASIRUN)
        .args(["--no-cache", "./run"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(42), "{out:?}");
}

#[test]
fn a_misplaced_option_gets_wasiruns_tip_not_clap_s() {
    let out = run(&["-S", &data("return.wat")]);
    assert_error(
        &out,
        2,
        "tip: options go before MODULE, the guest's arguments after it",
    );
    assert!(!out.stderr.contains("'-- -S'"), "{out:?}");
}

#[test]
fn completions_and_the_man_page_cover_the_options_and_commands() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = run(&["completions", shell]);
        assert_ok(&out);
        assert!(out.stdout.contains("dir-ro"), "{shell}: {out:?}");
        assert!(out.stdout.contains("cache"), "{shell}: {out:?}");
    }
    assert_error(&run(&["completions", "tcsh"]), 2, "tcsh");
    let out = run(&["man"]);
    assert_ok(&out);
    assert!(out.stdout.starts_with(".ie"), "{out:?}");
    assert!(out.stdout.contains(".TH wasirun"), "{out:?}");
    for section in [r"\-\-dir\-ro", "Exit status", "Examples", "completions"] {
        assert!(out.stdout.contains(section), "no {section} in the man page");
    }
}

#[test]
fn hello_without_a_dir_says_to_pass_one() {
    let out = run(&[&hello()]);
    assert_eq!(out.status, EBADF, "{out:?}");
    assert!(
        out.stderr.ends_with("pass one with --dir, e.g. --dir .\n"),
        "{out:?}"
    );
}

#[test]
fn a_module_without_start_exits_65() {
    let out = run(&[&data("no_start.wat")]);
    assert_error(&out, 65, "no `_start` function");
    let out = run(&[&data("start_wrong_type.wat")]);
    assert_error(&out, 65, "`_start` has type");
}

#[test]
fn an_unknown_import_exits_69_and_names_it() {
    let out = run(&[&data("unknown_import.wat")]);
    assert_error(&out, 69, "unknown import: env::foo has not been defined");
}

#[test]
fn an_import_of_the_wrong_type_exits_69() {
    let out = run(&[&data("bad_import_type.wat")]);
    assert_error(
        &out,
        69,
        "incompatible import: wasi_snapshot_preview1::fd_write",
    );
}

#[test]
fn a_bad_command_line_exits_2() {
    let module = data("return.wat");
    for (args, what) in [
        (vec!["--bogus", &module], "unexpected argument '--bogus'"),
        (vec![], "<MODULE>"),
        (vec!["--max-wasm-stack", "0", &module], "--max-wasm-stack"),
        (vec!["--max-open-files", "x", &module], "--max-open-files"),
        (vec!["--trace-format", "xml", &module], "xml"),
        (vec!["--dir", "", &module], "--dir"),
        (vec!["--dir", "a::", &module], "guest name"),
        (vec!["--env", "=x", &module], "variable name"),
    ] {
        let out = run(&args);
        assert_error(&out, 2, what);
    }
}

// unix: the directory is opened when the system is built.
// unix: preopened sockets are made when the system is built, after linking.
#[test]
fn a_socket_that_cannot_be_made_exits_64() {
    let module = data("return.wat");
    // An address that is not this host's (TEST-NET-1): EADDRNOTAVAIL.
    let out = run(&["--listen", "192.0.2.1:80", &module]);
    assert_error(&out, 64, "cannot listen on 192.0.2.1:80");
    // Refused: nothing listens on the port any more.
    let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = gone.local_addr().unwrap().to_string();
    drop(gone);
    let out = run(&["--dial", &addr, &module]);
    assert_error(&out, 64, &format!("cannot dial {addr}"));
    // A host name that does not resolve.
    let out = run(&["--dial", "nonexistent.invalid:80", &module]);
    assert_error(&out, 64, "cannot dial nonexistent.invalid:80");
}

/// A port nothing listens on any more.
fn refused_addr() -> String {
    let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = gone.local_addr().unwrap().to_string();
    drop(gone);
    addr
}

// The sockets are made once the module is compiled and linked: a peer sees the connection
// only when the guest can use it, however long compiling took.
#[test]
fn sockets_are_made_after_the_module_compiles_and_links() {
    let refused = refused_addr();
    for (name, status, what) in [
        ("invalid.wasm", 65, "invalid module"),
        ("syntax_error.wat", 65, "invalid module"),
        ("no_start.wat", 65, "no `_start` function"),
        ("unknown_import.wat", 69, "unknown import"),
        ("return.wat", 64, "cannot dial"),
    ] {
        let out = run(&["--dial", &refused, &data(name)]);
        assert_error(&out, status, what);
    }
    // A module that does not link never connects: the listener has nothing to accept.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let out = run(&["--dial", &addr, &data("unknown_import.wat")]);
    assert_error(&out, 69, "unknown import");
    listener.set_nonblocking(true).unwrap();
    let accepted = listener.accept();
    assert!(
        matches!(&accepted, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "a connection arrived: {accepted:?}"
    );
    // One that links does.
    let out = run(&["--dial", &addr, &data("return.wat")]);
    assert_ok(&out);
    listener.set_nonblocking(false).unwrap();
    listener.accept().expect("the guest's connection");
}

#[test]
fn bad_socket_flags_exit_2() {
    let module = data("return.wat");
    for (flag, value, why) in [
        ("--listen", "8080", "no `:PORT`"),
        ("--dial", "ftp://h:1", "unknown scheme"),
        ("--listen", "h:1?backlog=x", "not a count"),
        ("--listen", "::1:80", "brackets"),
        ("--allow-connect", "10.0.0.0/33", "prefix length"),
        ("--allow-bind", "1.2.3.4:9-1", "bad ports"),
        ("--sockets", "all", "invalid value"),
    ] {
        let out = run(&[flag, value, &module]);
        assert_error(&out, 2, why);
    }
}

#[test]
fn sockets_are_preopened_after_the_dirs_in_order() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dial = listener.local_addr().unwrap().to_string();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let out = run(&[
        "--listen",
        "127.0.0.1:0",
        "--dir",
        dir,
        "--dial",
        &dial,
        &data("fdstat.wat"),
    ]);
    assert_ok(&out);
    assert_eq!(
        out.stdout, "3:3\n4:6\n5:6\n",
        "fd:filetype, directory then sockets"
    );
}

#[test]
fn a_missing_dir_exits_64() {
    let module = data("return.wat");
    for flag in ["--dir", "--dir-ro"] {
        let out = run(&[flag, "/nonexistent/wasirun", &module]);
        assert_error(&out, 64, "/nonexistent/wasirun");
    }
}

/// A tar archive in `dir` holding `files` (name, contents).
fn archive(dir: &Path, files: &[(&str, &str)]) -> String {
    let path = dir.join("app.tar");
    let mut b = tar::Builder::new(fs::File::create(&path).unwrap());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, name, data.as_bytes()).unwrap();
    }
    b.finish().unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn mount_tar_preopens_the_archive_in_memory() {
    let dir = scratch("mount-tar");
    let tar = archive(&dir, &[("a.txt", "a"), ("sub/b.txt", "b")]);
    let out = run(&["--mount-tar", &format!("{tar}::/app"), &hello()]);
    assert_ok(&out);
    let names: Vec<&str> = out.stdout.lines().skip(1).collect();
    assert!(names.starts_with(&[".", "..", "a.txt", "sub"]), "{out:?}");
}

#[test]
fn mounts_come_after_the_dirs_and_before_the_sockets() {
    let dir = scratch("mount-order");
    let tar = archive(&dir, &[("a.txt", "a")]);
    let data_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let out = run(&[
        "--listen",
        "127.0.0.1:0",
        "--mount-tar",
        &format!("{tar}::/app"),
        "--dir",
        data_dir,
        &data("fdstat.wat"),
    ]);
    assert_ok(&out);
    assert_eq!(out.stdout, "3:3\n4:3\n5:6\n", "directory, mount, socket");
}

#[test]
fn a_bad_mount_tar_is_one_line() {
    let module = data("return.wat");
    let dir = scratch("mount-bad");
    let garbage = dir.join("garbage.tar");
    fs::write(&garbage, vec![0x5a; 1536]).unwrap();
    let garbage = format!("{}::/app", garbage.display());
    let out = run(&["--mount-tar", &garbage, &module]);
    assert_error(&out, 64, "--mount-tar: cannot read");
    let out = run(&["--mount-tar", "/nonexistent/app.tar::/app", &module]);
    assert_error(&out, 64, "/nonexistent/app.tar");
    for (value, what) in [
        ("app.tar", "ARCHIVE::GUEST"),
        ("::/app", "archive is empty"),
    ] {
        let out = run(&["--mount-tar", value, &module]);
        assert_error(&out, 2, what);
    }
}

#[test]
fn an_uncreatable_trace_file_exits_73() {
    let out = run(&["--trace-file", "/nonexistent/trace", &data("return.wat")]);
    assert_error(&out, 73, "cannot create trace file /nonexistent/trace");
}

// Arguments and environment.

/// Runs hello without a preopen: it prints its args then its environment, then fails on
/// fd_readdir(3) with EBADF.
fn hello_env(args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut all = args.to_vec();
    let module = hello();
    let at = all.iter().position(|a| *a == "HELLO").unwrap();
    all[at] = &module;
    let out = run_env(&all, env);
    assert_eq!(out.status, EBADF, "{out:?}");
    out
}

// unix: args_get, environ_get.
#[test]
fn args_follow_the_module_and_argv0_is_its_file_name() {
    let out = hello_env(&["HELLO", "a", "--trace", "-x"], &[]);
    assert_eq!(out.stdout, "hello.wat\na\n--trace\n-x\n");
    assert_eq!(
        out.stderr, "hello: no directory to list: pass one with --dir, e.g. --dir .\n",
        "--trace after MODULE is the guest's"
    );
    let out = hello_env(&["HELLO", "--", "--", "b"], &[]);
    assert_eq!(out.stdout, "hello.wat\n--\nb\n");
    let out = hello_env(&["--", "HELLO", "--", "c"], &[]);
    assert_eq!(out.stdout, "hello.wat\nc\n");
    let out = hello_env(&["--argv0", "prog", "HELLO", "d"], &[]);
    assert_eq!(out.stdout, "prog\nd\n");
}

// unix: environ_get.
#[test]
fn env_sets_variables_and_a_later_value_wins() {
    let args = [
        "--env", "A=1", "--env", "B=x=y", "--env", "A=2", "--env", "C=", "HELLO",
    ];
    let out = hello_env(&args, &[]);
    assert_eq!(out.stdout, "hello.wat\nA=2\nB=x=y\nC=\n");
}

// unix: environ_get.
#[test]
fn env_name_alone_passes_the_hosts_value() {
    let args = ["--env", "WASIRUN_T1", "--env", "WASIRUN_UNSET", "HELLO"];
    let out = hello_env(&args, &[("WASIRUN_T1", "one")]);
    assert_eq!(out.stdout, "hello.wat\nWASIRUN_T1=one\n");
}

// unix: environ_get.
#[test]
fn env_inherit_passes_the_host_environment_then_env_overrides() {
    let args = ["--env-inherit", "--env", "WASIRUN_T2=mine", "HELLO"];
    let out = hello_env(&args, &[("WASIRUN_T1", "host"), ("WASIRUN_T2", "host")]);
    let env: Vec<&str> = out.stdout.lines().skip(1).collect();
    assert!(env.contains(&"WASIRUN_T1=host"), "{out:?}");
    assert!(env.contains(&"WASIRUN_T2=mine"), "{out:?}");
    assert!(!env.contains(&"WASIRUN_T2=host"), "{out:?}");
    assert!(env.iter().any(|e| e.starts_with("PATH=")), "{out:?}");
    let out = hello_env(&["HELLO"], &[("WASIRUN_T1", "host")]);
    assert_eq!(out.stdout, "hello.wat\n", "no --env-inherit");
}

// Directories.

// unix: fd_readdir.
#[test]
fn hello_lists_the_dir() {
    let dir = scratch("hello");
    fs::write(dir.join("one"), "").unwrap();
    fs::create_dir(dir.join("two")).unwrap();
    let out = run(&["--dir", dir.to_str().unwrap(), &hello(), "x"]);
    assert_ok(&out);
    let mut entries: Vec<&str> = out.stdout.lines().skip(2).collect();
    entries.sort();
    assert_eq!(entries, [".", "..", "one", "two"], "{out:?}");
}

// unix: fd_prestat_get, fd_prestat_dir_name.
#[test]
fn preopens_are_numbered_in_command_line_order_with_their_guest_names() {
    let a = scratch("preopens-a");
    let b = scratch("preopens-b");
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let out = run(&[
        "--dir-ro",
        &format!("{a}::/ro"),
        "--dir",
        b,
        "--dir",
        &format!("{a}::data"),
        &data("preopens.wat"),
    ]);
    assert_ok(&out);
    assert_eq!(out.stdout, format!("/ro\n{b}\ndata\n"));
}

// unix: path_open, fd_write.
#[test]
fn dir_allows_writes_and_dir_ro_refuses_them() {
    let dir = scratch("rw");
    let out = run(&["--dir", dir.to_str().unwrap(), &data("create.wat")]);
    assert_eq!(out.status, 0, "fd_write returned an errno: {out:?}");
    assert_eq!(fs::read(dir.join("new.txt")).unwrap(), b"x");

    let dir = scratch("ro");
    let out = run(&["--dir-ro", dir.to_str().unwrap(), &data("create.wat")]);
    assert_ne!(out.status, 0, "{out:?}");
    assert!(!dir.join("new.txt").exists());
}

// unix: path_open.
#[test]
fn max_open_files_gives_enfile() {
    let dir = scratch("max-open-files");
    fs::write(dir.join("f"), "").unwrap();
    let dir = dir.to_str().unwrap();
    let out = run(&["--dir", dir, &data("open_many.wat")]);
    assert_eq!(out.status, 0, "200 files are fine by default: {out:?}");
    let out = run(&[
        "--dir",
        dir,
        "--max-open-files",
        "10",
        &data("open_many.wat"),
    ]);
    assert_eq!(out.status, ENFILE, "{out:?}");
}

// unix: path_open, fd_readdir.
#[test]
fn max_open_dirs_gives_emfile() {
    let dir = scratch("max-open-dirs");
    for i in 0..10 {
        fs::write(dir.join(format!("file-{i}")), "").unwrap();
    }
    let dir = dir.to_str().unwrap();
    let out = run(&["--dir", dir, &data("read_dirs.wat")]);
    assert_eq!(out.status, 0, "{out:?}");
    let out = run(&["--dir", dir, "--max-open-dirs", "2", &data("read_dirs.wat")]);
    assert_eq!(out.status, EMFILE, "{out:?}");
}

// unix: path_open, fd_filestat_get.
#[test]
fn enforce_rights_refuses_what_the_rights_do_not_allow() {
    let dir = scratch("rights");
    fs::write(dir.join("f"), "").unwrap();
    let dir = dir.to_str().unwrap();
    let out = run(&["--dir", dir, &data("rights.wat")]);
    assert_eq!(out.status, 0, "{out:?}");
    let out = run(&["--dir", dir, "--enforce-rights", &data("rights.wat")]);
    assert_eq!(out.status, ENOTCAPABLE, "{out:?}");
}

// unix: fd_fdstat_get.
#[test]
fn non_blocking_stdio_sets_nonblock_on_stdout() {
    let out = run(&[&data("nonblock.wat")]);
    assert_eq!(out.status, 0, "{out:?}");
    let out = run(&["--non-blocking-stdio", &data("nonblock.wat")]);
    assert_eq!(out.status, 4, "{out:?}");
}

// Tracing.

#[test]
fn trace_prints_text_lines_to_stderr() {
    let out = run(&["--trace", &data("exit42.wat")]);
    assert_eq!(out.status, 42);
    assert_eq!(out.stderr, "proc_exit(42) = ?\n");
    let out = run(&["--trace", &data("write.wat")]);
    assert!(
        out.stderr
            .starts_with("fd_write(1, [iov(\"abcdefghijklmnopqrstuvwxyz\\n\")]) = "),
        "{out:?}"
    );
}

#[test]
fn trace_shows_the_guests_calls_only() {
    // hello.wat asks for args_sizes_get once, then args_get; the glue asks for the sizes again
    // to size args_get's buffer, which the trace must not show as a call of the guest's.
    let out = hello_env(&["--trace", "HELLO", "a"], &[]);
    let calls: Vec<&str> = out
        .stderr
        .lines()
        .map(|l| l.split('(').next().unwrap())
        .collect();
    assert_eq!(calls[..2], ["args_sizes_get", "args_get"], "{}", out.stderr);
    assert_eq!(calls.iter().filter(|c| **c == "args_sizes_get").count(), 1);
    assert_eq!(
        calls.iter().filter(|c| **c == "environ_sizes_get").count(),
        1
    );
}

#[test]
fn trace_format_json_prints_one_object_per_line() {
    // --trace-format implies --trace.
    let out = run(&["--trace-format", "json", &data("write.wat")]);
    assert_ok(&out);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{out:?}");
    assert!(lines[0].starts_with("{\"name\":\"fd_write\",\"args\":{\"fd\":1,"));
    assert!(lines[0].contains("abcdefghijklmnopqrstuvwxyz\\n"));
    assert!(lines[0].ends_with('}'));
}

#[test]
fn trace_string_size_cuts_buffers() {
    let out = run(&["--trace", "--trace-string-size", "5", &data("write.wat")]);
    assert!(out.stderr.contains("iov(\"abcde\"...)"), "{out:?}");
    let out = run(&[
        "--trace",
        "--trace-format",
        "json",
        "--trace-string-size",
        "3",
        &data("write.wat"),
    ]);
    assert!(out.stderr.contains("\"abc...\""), "{out:?}");
    assert!(!out.stderr.contains("abcd"), "{out:?}");
}

#[test]
fn trace_file_gets_the_trace_and_implies_trace() {
    let dir = scratch("trace-file");
    let path = dir.join("trace.txt");
    let out = run(&["--trace-file", path.to_str().unwrap(), &data("exit42.wat")]);
    assert_eq!(out.status, 42);
    assert_eq!(out.stderr, "");
    assert_eq!(fs::read_to_string(&path).unwrap(), "proc_exit(42) = ?\n");
}

#[test]
fn no_trace_without_a_trace_flag() {
    // --trace-string-size only shapes a trace that something else asks for.
    let out = run(&["--trace-string-size", "8", &data("exit42.wat")]);
    assert_eq!((out.status, out.stderr.as_str()), (42, ""));
}

/// The rows of a `--trace-summary` table in `text` (what follows its header): function, calls
/// and errors of each, the total last. Asserts the header and rules are there.
#[track_caller]
fn summary_rows(text: &str) -> Vec<(String, u64, u64)> {
    let header = "% time     seconds  usecs/call     calls    errors function\n";
    let at = text
        .find(header)
        .unwrap_or_else(|| panic!("no summary in {text:?}"));
    let rule = "------ ----------- ----------- --------- --------- ----------------";
    let lines: Vec<&str> = text[at + header.len()..].lines().collect();
    assert_eq!(lines[0], rule, "{text}");
    assert_eq!(lines[lines.len() - 2], rule, "{text}");
    lines[1..]
        .iter()
        .filter(|l| **l != rule)
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(cols.len(), 6, "{l:?}");
            let n = |i: usize| cols[i].parse::<u64>().unwrap();
            (cols[5].to_string(), n(3), n(4))
        })
        .collect()
}

#[test]
fn trace_summary_without_trace_prints_only_the_table() {
    let out = run(&["--trace-summary", &data("write.wat")]);
    assert_ok(&out);
    assert_eq!(out.stdout, "abcdefghijklmnopqrstuvwxyz\n");
    assert!(out.stderr.starts_with("% time "), "{out:?}");
    assert_eq!(
        summary_rows(&out.stderr),
        [("fd_write".to_string(), 1, 0), ("total".to_string(), 1, 0)]
    );
}

// unix: environ_get, fd_readdir.
#[test]
fn trace_summary_counts_errors_and_follows_the_trace() {
    let out = hello_env(&["--trace", "--trace-summary", "HELLO"], &[]);
    let table = out.stderr.find("% time ").unwrap();
    // The trace's lines come first, the guest's message among them, then the table.
    assert!(out.stderr.starts_with("args_sizes_get() = "), "{out:?}");
    assert!(
        out.stderr[..table].contains("fd_readdir(3, ..., 0) = EBADF"),
        "{out:?}"
    );
    let mut rows = summary_rows(&out.stderr);
    assert_eq!(
        rows.pop(),
        Some(("total".to_string(), 8, 1)),
        "{}",
        out.stderr
    );
    rows.sort();
    let expected = [
        ("args_get", 1, 0),
        ("args_sizes_get", 1, 0),
        ("environ_get", 1, 0),
        ("environ_sizes_get", 1, 0),
        ("fd_readdir", 1, 1),
        ("fd_write", 2, 0),
        ("proc_exit", 1, 0),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(f, c, e)| (f.to_string(), *c, *e))
        .collect();
    assert_eq!(rows, expected, "{}", out.stderr);
}

#[test]
fn trace_summary_goes_to_the_trace_file() {
    let dir = scratch("trace-summary-file");
    let path = dir.join("trace.txt");
    let out = run(&[
        "--trace-summary",
        "--trace-file",
        path.to_str().unwrap(),
        &data("exit42.wat"),
    ]);
    assert_eq!((out.status, out.stderr.as_str()), (42, ""));
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("proc_exit(42) = ?\n% time "), "{text}");
    assert_eq!(
        summary_rows(&text),
        [("proc_exit".to_string(), 1, 0), ("total".to_string(), 1, 0)]
    );
}

// unix: path_open, fd_readdir on a real directory.
#[test]
fn trace_lines_stay_short_and_show_directory_entries() {
    let dir = scratch("trace-readdir");
    fs::write(dir.join("notes.txt"), "").unwrap();
    fs::create_dir(dir.join("sub")).unwrap();
    let out = run(&["--trace", "--dir", dir.to_str().unwrap(), &hello()]);
    assert_ok(&out);
    let readdir = out
        .stderr
        .lines()
        .find(|l| l.starts_with("fd_readdir(3, ["))
        .unwrap_or_else(|| panic!("{}", out.stderr));
    for entry in [
        r#"{name: ".", type: DIRECTORY, next: "#,
        r#"{name: "notes.txt", type: REGULAR_FILE, next: "#,
        r#"{name: "sub", type: DIRECTORY, next: "#,
    ] {
        assert!(readdir.contains(entry), "{readdir}");
    }
    // Rights sets are `all`, `all-but(...)` or short lists, not the 30 names of every right.
    let longest = out.stderr.lines().map(str::len).max().unwrap();
    assert!(longest < 400, "{}", out.stderr);
}

// Stack.
// Stack.

#[test]
fn max_wasm_stack_bounds_recursion() {
    let module = data("recurse.wat");
    let out = run(&["--max-wasm-stack", "65536", &module]);
    assert_eq!(out.status, 134, "{out:?}");
    assert!(
        out.stderr
            .starts_with("wasirun: wasm trap: call stack exhausted\n")
    );
    let out = run(&[&module]);
    assert_eq!(
        out.status, 134,
        "the default, 512 KiB, is too small: {out:?}"
    );
    let out = run(&["--max-wasm-stack", "8388608", &module]);
    assert_ok(&out);
    assert_eq!(out.stdout, "bottom\n");
}

/// Runs `args` with the stack limit (`RLIMIT_STACK`) set to `soft` (`None`: unlimited).
fn run_with_stack_limit(args: &[&str], soft: Option<u64>) -> Out {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    use std::os::unix::process::CommandExt;
    let hard = getrlimit(Resource::Stack).maximum;
    let limit = Rlimit {
        current: soft,
        maximum: hard,
    };
    let mut cmd = wasirun(args);
    // SAFETY: the closure makes one system call, which is async-signal-safe, and touches no
    // memory the parent's other threads may hold locked.
    unsafe {
        cmd.pre_exec(move || setrlimit(Resource::Stack, limit).map_err(Into::into));
    }
    output(cmd)
}

/// The guest's stack, and the host's below its deepest frame, are there whatever the stack
/// limit: the main thread runs the guest where its stack may grow that far, another thread of
/// that stack runs it elsewhere.
#[test]
fn the_guest_has_its_stack_whatever_the_stack_limit() {
    let module = data("recurse.wat");
    let hard = rustix::process::getrlimit(rustix::process::Resource::Stack).maximum;
    let allowed = |soft: &Option<u64>| match (soft, hard) {
        (_, None) => true,
        (Some(soft), Some(hard)) => *soft <= hard,
        (None, Some(_)) => false,
    };
    for soft in [Some(1 << 20), Some(8 << 20), None]
        .into_iter()
        .filter(allowed)
    {
        // 8 MiB of wasm stack needs a thread but where the limit is unlimited; the 1.8 MB
        // that 100000 calls need fits the main thread under the usual 8 MiB limit too.
        for stack in ["8388608", "1800000"] {
            let out = run_with_stack_limit(&["--max-wasm-stack", stack, &module], soft);
            assert_ok(&out);
            assert_eq!(
                out.stdout, "bottom\n",
                "stack limit {soft:?}, wasm stack {stack}"
            );
        }
    }
}

// Compile cache.

/// The entries of a cache directory.
fn entries(cache: &Path) -> Vec<PathBuf> {
    match fs::read_dir(cache.join("wasirun")) {
        Ok(dir) => dir.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn a_second_run_loads_the_module_from_the_cache() {
    let cache = scratch("cache-hit");
    let env = [("XDG_CACHE_HOME", cache.to_str().unwrap())];
    let out = run_env(&[&data("exit42.wat")], &env);
    assert_eq!(out.status, 42);
    let stored = entries(&cache);
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(stored[0].to_str().unwrap().ends_with(".cwasm"));
    let inode = fs::metadata(&stored[0]).unwrap().ino();
    let mode = fs::metadata(cache.join("wasirun")).unwrap().mode();
    assert_eq!(mode & 0o777, 0o700);

    // A hit maps the entry and writes nothing: the same inode.
    let out = run_env(&[&data("exit42.wat")], &env);
    assert_eq!(out.status, 42);
    assert_eq!(entries(&cache), stored);
    assert_eq!(fs::metadata(&stored[0]).unwrap().ino(), inode);

    // Another module is another entry.
    let out = run_env(&[&data("return.wat")], &env);
    assert_ok(&out);
    assert_eq!(entries(&cache).len(), 2);
}

#[test]
fn a_hit_is_the_module_as_it_is_now() {
    // A hit is found by hashing the file in chunks: a module rewritten in place under the same
    // name (and length) is another entry, and a module from a pipe is read whole as before.
    let cache = scratch("cache-rewritten");
    let env = [("XDG_CACHE_HOME", cache.to_str().unwrap())];
    let module = cache.join("exit.wat");
    let wat = |code: u8| {
        format!(
            r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32))) (func (export "_start") (call $exit (i32.const {code}))))"#
        )
    };
    for code in [41, 42, 41] {
        fs::write(&module, wat(code)).unwrap();
        assert_eq!(
            run_env(&[module.to_str().unwrap()], &env).status,
            i32::from(code)
        );
    }
    assert_eq!(entries(&cache).len(), 2);
    let out = Command::new(WASIRUN)
        .arg("/dev/stdin")
        .env("XDG_CACHE_HOME", &cache)
        .stdin(fs::File::open(&module).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(41), "{out:?}");
}

#[test]
fn the_cache_is_bounded_least_recently_used_first() {
    let cache = scratch("cache-bounded");
    let home = cache.to_str().unwrap();
    assert_eq!(
        run_env(&[&data("exit42.wat")], &[("XDG_CACHE_HOME", home)]).status,
        42
    );
    let first = entries(&cache);
    let size = fs::metadata(&first[0]).unwrap().len();
    // Room for one entry and a half: each new module evicts the one before.
    let max = (size + size / 2).to_string();
    let env = [
        ("XDG_CACHE_HOME", home),
        ("WASIRUN_CACHE_MAX_SIZE", max.as_str()),
    ];
    assert_ok(&run_env(&[&data("return.wat")], &env));
    let second = entries(&cache);
    assert_eq!(second.len(), 1, "{second:?}");
    assert_ne!(second, first);
    // Old entries go whatever the room.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3 * 24 * 3600);
    fs::File::options()
        .append(true)
        .open(&second[0])
        .unwrap()
        .set_modified(old)
        .unwrap();
    let env = [("XDG_CACHE_HOME", home), ("WASIRUN_CACHE_MAX_AGE", "2")];
    assert_eq!(run_env(&[&data("exit42.wat")], &env).status, 42);
    assert_eq!(entries(&cache), first);

    let out = run_env(&["cache", "info"], &env);
    assert_ok(&out);
    let dir = cache.join("wasirun");
    assert!(
        out.stdout
            .starts_with(&format!("directory: {}\nentries: 1\n", dir.display())),
        "{out:?}"
    );
    assert!(
        out.stdout.contains("\nlimit: 1.0 GiB (1073741824 bytes)\n"),
        "{out:?}"
    );
    assert!(out.stdout.contains("max age: 2 days"), "{out:?}");
    let out = run_env(&["cache", "clean"], &env);
    assert_ok(&out);
    assert_eq!(
        out.stdout,
        format!("removed 1 entries from {}\n", dir.display())
    );
    assert_eq!(entries(&cache), Vec::<PathBuf>::new());
    assert_error(&run_env(&["cache", "wipe"], &env), 2, "wipe");
}

#[test]
fn a_truncated_cache_entry_is_compiled_again() {
    let cache = scratch("cache-truncated");
    let env = [("XDG_CACHE_HOME", cache.to_str().unwrap())];
    assert_eq!(run_env(&[&data("exit42.wat")], &env).status, 42);
    let entry = entries(&cache).remove(0);
    let len = fs::metadata(&entry).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&entry)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    assert_eq!(run_env(&[&data("exit42.wat")], &env).status, 42);
    assert_eq!(fs::metadata(&entry).unwrap().len(), len, "replaced whole");
}

#[test]
fn no_cache_neither_reads_nor_writes_the_cache() {
    let cache = scratch("no-cache");
    let env = [("XDG_CACHE_HOME", cache.to_str().unwrap())];
    let out = run_env(&["--no-cache", &data("exit42.wat")], &env);
    assert_eq!(out.status, 42);
    assert!(entries(&cache).is_empty());

    // A bogus entry would fail the run if it were read.
    assert_eq!(run_env(&[&data("exit42.wat")], &env).status, 42);
    let entry = entries(&cache).remove(0);
    fs::write(&entry, b"garbage").unwrap();
    let out = run_env(&["--no-cache", &data("exit42.wat")], &env);
    assert_eq!(out.status, 42);
    assert_eq!(fs::read(&entry).unwrap(), b"garbage");
}

#[test]
fn a_cache_directory_others_can_write_to_is_not_used() {
    let cache = scratch("cache-shared");
    fs::create_dir(cache.join("wasirun")).unwrap();
    fs::set_permissions(cache.join("wasirun"), fs::Permissions::from_mode(0o777)).unwrap();
    let env = [("XDG_CACHE_HOME", cache.to_str().unwrap())];
    assert_eq!(run_env(&[&data("exit42.wat")], &env).status, 42);
    assert!(entries(&cache).is_empty());
}

// Help and version.

#[test]
fn version_names_wasirun_and_wasmtime() {
    let out = run(&["--version"]);
    assert_ok(&out);
    assert_eq!(
        out.stdout,
        concat!(
            "wasirun ",
            env!("CARGO_PKG_VERSION"),
            " (wasmtime 48.0.8)\n"
        )
    );
    assert_eq!(run(&["-V"]).stdout, out.stdout);
}

/// `tests/data/help.txt` is `wasirun --help`; `WASIRUN_BLESS=1 cargo test -p wasirun` rewrites
/// it after a deliberate change.
#[test]
fn help_matches_the_golden_file() {
    for (flag, file) in [("--help", "help.txt"), ("-h", "help_short.txt")] {
        let out = run(&[flag]);
        assert_ok(&out);
        let golden = data(file);
        if std::env::var_os("WASIRUN_BLESS").is_some() {
            fs::write(&golden, &out.stdout).unwrap();
        }
        let want = fs::read_to_string(&golden).unwrap();
        assert_eq!(
            out.stdout, want,
            "wasirun {flag} changed: rerun with WASIRUN_BLESS=1 if on purpose"
        );
        assert!(
            want.lines().all(|l| l.len() <= 100),
            "a {flag} line is over 100 columns"
        );
    }
    let long = run(&["--help"]).stdout;
    let short = run(&["-h"]).stdout;
    assert!(short.len() < long.len() / 2, "-h is not short");
    assert!(long.contains("\nExamples:\n") && !short.contains("Examples:"));
    assert_eq!(run(&["run", "--help"]).stdout, long);
}

#[test]
fn the_go_exec_script_is_executable() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/misc/go_wasip1_wasm_exec");
    let mode = fs::metadata(script).unwrap().mode();
    assert_eq!(mode & 0o111, 0o111, "not executable");
}

#[test]
fn the_go_exec_script_runs_wasirun() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/misc/go_wasip1_wasm_exec");
    let out = Command::new(script)
        .arg(data("exit42.wat"))
        .arg("-test.v")
        .env("WASIRUN", WASIRUN)
        .env("GOWASIRUNTIMEARGS", "--trace --no-cache")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(42), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "proc_exit(42) = ?\n");
}

// unix: args_get, environ_get.
#[test]
fn the_go_exec_script_passes_args_and_environment() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/misc/go_wasip1_wasm_exec");
    let out = Command::new(script)
        .arg(hello())
        .args(["-test.run", "X"])
        .env("WASIRUN", WASIRUN)
        .env("GOCACHE", "/tmp/gocache")
        .current_dir("/")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(lines[..3], ["hello.wat", "-test.run", "X"], "{out:?}");
    assert!(lines.contains(&"GOCACHE=/tmp/gocache"), "{out:?}");
    assert!(lines.contains(&"PWD=/"), "{out:?}");
    assert!(lines.contains(&"tmp"), "/ is preopened as fd 3: {out:?}");
}

#[test]
fn trace_shows_calls_refused_while_decoding_with_their_raw_arguments() {
    let out = run(&["--trace", "--dir", ".", &data("refused.wat")]);
    // EINVAL is 28, EFAULT 21.
    assert_eq!(out.status, 28 + 21, "{out:?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "path_open(fd=3, dirflags=0, path_ptr=16, path_len=5, oflags=0, \
             fs_rights_base=0xffffffffffffffff, fs_rights_inheriting=0, fdflags=0, \
             result0_ptr=32) = EINVAL (Invalid argument)",
            "fd_write(fd=1, iovs_ptr=0xfffc, iovs_len=2, result0_ptr=40) = EFAULT (Bad address)",
            "proc_exit(49) = ?",
        ],
        "{out:?}"
    );
}
