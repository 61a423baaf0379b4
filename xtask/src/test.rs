//! `cargo xtask test`: sets up what the tests need on a fresh machine ([`crate::setup`]: the
//! wasm32-wasip1 target, a C compiler for wasm32-wasi, Go), builds the test guests, then runs
//! every test binary with `cargo test --workspace --no-fail-fast`, showing cargo's output as it
//! comes and, at the end, a summary: passed and failed per binary, and how to rerun one.

use crate::setup;
use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs `cmd`, failing when it does.
pub fn exec(cmd: &mut Command) -> Result<()> {
    eprintln!("xtask: {cmd:?}");
    let status = cmd.status().with_context(|| format!("starting {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(())
}

/// What `cmd` prints, or `None` when it cannot run or fails.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `1m 05s`, `42s`.
fn elapsed(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// Runs the set-up steps and the guest build, one progress line each.
pub fn guests() -> Result<()> {
    let root = crate::root();
    let start = Instant::now();
    let steps: [(&str, &dyn Fn() -> Result<()>); 4] = [
        ("the wasm32-wasip1 target", &setup::wasm_target),
        ("a C compiler for wasm32-wasi", &|| {
            setup::c_compiler(&root).map(drop)
        }),
        ("Go", &|| {
            setup::go(&root).and_then(|go| setup::goroot(&go)).map(drop)
        }),
        ("the test guests", &|| crate::guests::build(&root)),
    ];
    let count = steps.len();
    for (i, (what, step)) in steps.iter().enumerate() {
        eprintln!(
            "xtask: [{}/{count}] {what} ({})",
            i + 1,
            elapsed(start.elapsed())
        );
        step().with_context(|| format!("setting up {what}"))?;
    }
    Ok(())
}

/// Runs the whole test suite; `extra` goes to `cargo test`.
pub fn run(extra: &[&str]) -> Result<()> {
    guests()?;
    let root = crate::root();
    let start = Instant::now();
    eprintln!(
        "xtask: cargo test --workspace --no-fail-fast: the first build takes about 20 minutes \
         on 2 cores"
    );
    let (reader, writer) = std::io::pipe().context("making a pipe")?;
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(&root)
        .args(["test", "--workspace", "--no-fail-fast"])
        .args(extra)
        .stdout(writer.try_clone().context("cloning a pipe")?)
        .stderr(writer);
    // The Go tests run `go`: the venv's when that is where Go is.
    let venv_bin = setup::venv(&root).join("bin");
    if venv_bin.join("go").exists() {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths: Vec<_> = std::env::split_paths(&path).collect();
        paths.push(venv_bin);
        cmd.env("PATH", std::env::join_paths(paths).context("PATH")?);
    }
    let mut child = cmd.spawn().with_context(|| format!("starting {cmd:?}"))?;
    // The command holds the pipe's write ends: drop them so reading ends with the child.
    drop(cmd);
    let mut summary = Summary::default();
    let mut stdout = std::io::stdout();
    for line in BufReader::new(reader).lines() {
        let line = line.context("reading cargo's output")?;
        let _ = writeln!(stdout, "{line}");
        summary.line(&line);
    }
    let status = child.wait().context("waiting for cargo test")?;
    eprint!("{}", summary.report(elapsed(start.elapsed())));
    if !status.success() || summary.failed() > 0 {
        bail!("cargo test failed: {status}");
    }
    Ok(())
}

/// One test binary's results.
#[derive(Debug, PartialEq, Eq)]
struct Binary {
    /// What cargo calls it: `tests/cli.rs (cli)`, `unittests src/lib.rs (wasirun_unix)`,
    /// `doc-tests wasirun_wasi`.
    name: String,
    /// How to run it alone.
    rerun: String,
    passed: u32,
    failed: u32,
    ignored: u32,
    /// Its `test result:` line was seen (a binary that crashed has none).
    finished: bool,
}

/// The binaries seen in `cargo test`'s output, in order.
#[derive(Debug, Default)]
struct Summary {
    binaries: Vec<Binary>,
}

impl Summary {
    /// Takes in one line of cargo's output.
    fn line(&mut self, line: &str) {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("Running ") {
            // `tests/cli.rs (target/debug/deps/cli-0123abcd)`
            let (target, binary) = rest.split_once(" (").unwrap_or((rest, ""));
            let binary = Path::new(binary.trim_end_matches(')'))
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let krate = binary.rsplit_once('-').map_or(binary.as_str(), |(c, _)| c);
            let rerun = match target.strip_prefix("tests/") {
                Some(test) => format!("--test {}", test.trim_end_matches(".rs")),
                None if target.ends_with("main.rs") => format!("--bin {krate}"),
                None => "--lib".into(),
            };
            self.start(format!("{target} ({krate})"), rerun);
        } else if let Some(krate) = line.strip_prefix("Doc-tests ") {
            self.start(format!("doc-tests {krate}"), "--doc".into());
        } else if let Some(result) = line.strip_prefix("test result: ")
            && let Some(b) = self.binaries.last_mut()
        {
            // `ok. 3 passed; 0 failed; 1 ignored; 0 measured; ...`
            let count = |what: &str| -> u32 {
                result
                    .split(';')
                    .find_map(|part| part.trim().rsplit_once(' ').filter(|(_, w)| *w == what))
                    .and_then(|(n, _)| n.rsplit(' ').next()?.parse().ok())
                    .unwrap_or(0)
            };
            b.finished = true;
            b.passed = count("passed");
            b.failed = count("failed");
            b.ignored = count("ignored");
        }
    }

    fn start(&mut self, name: String, rerun: String) {
        self.binaries.push(Binary {
            name,
            rerun,
            passed: 0,
            failed: 0,
            ignored: 0,
            finished: false,
        });
    }

    /// The binaries that failed or did not finish.
    fn failed(&self) -> usize {
        self.binaries
            .iter()
            .filter(|b| b.failed > 0 || !b.finished)
            .count()
    }

    /// The table printed at the end.
    fn report(&self, took: String) -> String {
        let width = self
            .binaries
            .iter()
            .map(|b| b.name.len())
            .max()
            .unwrap_or(0);
        let mut out = format!(
            "\nxtask: summary ({} test binaries, {took})\n",
            self.binaries.len()
        );
        let (mut passed, mut failed) = (0, 0);
        for b in &self.binaries {
            let verdict = match (b.finished, b.failed) {
                (false, _) => "CRASHED",
                (true, 0) => "ok",
                (true, _) => "FAILED",
            };
            out.push_str(&format!(
                "  {verdict:<7} {:<width$}  {} passed, {} failed, {} ignored\n",
                b.name, b.passed, b.failed, b.ignored
            ));
            passed += b.passed;
            failed += b.failed;
        }
        out.push_str(&format!(
            "xtask: {passed} passed, {failed} failed; {} of {} binaries failed\n",
            self.failed(),
            self.binaries.len()
        ));
        for b in self.binaries.iter().filter(|b| b.failed > 0 || !b.finished) {
            // --workspace keeps the features of this build: `-p` would unify them differently
            // and rebuild wasmtime.
            out.push_str(&format!(
                "  rerun {}: cargo test --workspace {}\n",
                b.name, b.rerun
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "\
   Compiling wasirun v0.1.0 (/w/runner)
    Finished `test` profile [unoptimized + debuginfo] target(s) in 1m 02s
     Running unittests src/lib.rs (target/debug/deps/wasirun_unix-0123abcd)

running 3 tests
test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s

     Running tests/cli.rs (target/debug/deps/cli-89ab)
test result: FAILED. 80 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 9s

     Running tests/guests.rs (target/debug/deps/guests-77)
error: test failed, to rerun pass `-p wasirun --test guests`
     Running unittests src/main.rs (target/debug/deps/wasirun-55)
test result: ok. 12 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.1s
   Doc-tests wasirun_wasi
test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.3s
";

    #[test]
    fn the_summary_counts_each_binary_and_says_how_to_rerun_the_failed_ones() {
        let mut summary = Summary::default();
        for line in OUTPUT.lines() {
            summary.line(line);
        }
        let names: Vec<&str> = summary.binaries.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "unittests src/lib.rs (wasirun_unix)",
                "tests/cli.rs (cli)",
                "tests/guests.rs (guests)",
                "unittests src/main.rs (wasirun)",
                "doc-tests wasirun_wasi"
            ]
        );
        let b = &summary.binaries[1];
        assert_eq!(
            (b.passed, b.failed, b.ignored, b.finished),
            (80, 2, 0, true)
        );
        assert_eq!(summary.binaries[0].ignored, 1);
        assert!(!summary.binaries[2].finished);
        assert_eq!(summary.failed(), 2);
        let report = summary.report("1m 05s".into());
        assert!(
            report.contains("summary (5 test binaries, 1m 05s)"),
            "{report}"
        );
        assert!(report.contains("  FAILED  tests/cli.rs (cli)"), "{report}");
        assert!(
            report.contains("  CRASHED tests/guests.rs (guests)"),
            "{report}"
        );
        assert!(
            report.contains("xtask: 96 passed, 2 failed; 2 of 5 binaries failed"),
            "{report}"
        );
        assert!(
            report.contains("cargo test --workspace --test cli\n"),
            "{report}"
        );
        assert!(
            report.contains("cargo test --workspace --test guests\n"),
            "{report}"
        );
    }

    #[test]
    fn durations_read_as_minutes_and_seconds() {
        assert_eq!(elapsed(Duration::from_secs(42)), "42s");
        assert_eq!(elapsed(Duration::from_secs(65)), "1m 05s");
    }

    /// What `cargo tree` prints for `args` (every package with its features, one a line),
    /// offline: it builds nothing.
    fn cargo_tree(args: &[&str]) -> String {
        let out = Command::new(env!("CARGO"))
            .current_dir(crate::root())
            .args([
                "tree",
                "--offline",
                "-e",
                "normal,build,dev",
                "-f",
                "{p} [{f}]",
                "--prefix",
                "none",
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `cargo test --workspace --test NAME` (the summary's rerun hint) must not rebuild
    /// wasmtime: every package that builds it asks for the same features (checked with
    /// `cargo tree`, which builds nothing).
    #[test]
    fn every_package_builds_wasmtime_with_the_workspace_features() {
        let features = |selection: &[&str]| -> String {
            let text = cargo_tree(&[&["-i", "wasmtime@48.0.8"], selection].concat());
            text.lines().next().unwrap_or_default().to_string()
        };
        let workspace = features(&["--workspace"]);
        assert!(workspace.contains("cranelift"), "{workspace}");
        for package in ["wasirun", "wasirun-wasi", "wasirun-unix"] {
            assert_eq!(features(&["-p", package]), workspace, "{package}");
        }
    }

    /// `cargo test -p PACKAGE` after `cargo test --workspace` builds no dependency again, unit
    /// for unit (package, profile, features and dependencies, as cargo decides): the packages'
    /// dev-dependencies declare the rest of the workspace for this (unix/Cargo.toml says why).
    #[test]
    fn cargo_test_p_builds_no_dependency_the_workspace_build_has_not() {
        for package in ["wasirun", "wasirun-wasi", "wasirun-unix"] {
            let extra = crate::unit_graph::extra_dependencies(&["-p", package], &["--workspace"]);
            assert!(
                extra.is_empty(),
                "cargo test -p {package} builds again: {extra:?}"
            );
        }
    }

    /// Every package `cargo test -p PACKAGE` builds, with its features, is one the workspace
    /// build has, as `cargo tree` sees it (the test above checks the rest: profiles, and units
    /// cargo shares between proc macros and normal code).
    #[test]
    fn cargo_test_p_has_the_workspace_features() {
        let packages = |selection: &[&str]| -> std::collections::BTreeSet<String> {
            cargo_tree(selection)
                .lines()
                .map(|l| l.trim_end_matches(" (*)").to_string())
                .filter(|l| !l.is_empty())
                .collect()
        };
        let workspace = packages(&["--workspace"]);
        for package in ["wasirun", "wasirun-wasi", "wasirun-unix"] {
            let selected = packages(&["-p", package]);
            let extra: Vec<&String> = selected.difference(&workspace).collect();
            assert!(
                extra.is_empty(),
                "{package} built with other features: {extra:?}"
            );
        }
    }
}
