//! `cargo xtask bench-table`: runs the benches that compare wasirun with its peers
//! (`syscalls`, `copy`, `echo`, `startup`) and prints their tables of ratios as Markdown, under
//! a line saying on what machine and when, ready for the README's Benchmarks section.

use crate::root;
use anyhow::{Context, Result, ensure};
use std::process::Command;

/// The benches run, in the README's order.
const BENCHES: &[&str] = &["syscalls", "copy", "echo", "startup"];

pub fn run() -> Result<()> {
    println!("{}", machine()?);
    println!();
    let mut cargo = Command::new(env!("CARGO"));
    cargo.current_dir(root()).args(["bench", "-p", "wasirun"]);
    for bench in BENCHES {
        cargo.args(["--bench", bench]);
    }
    // The benches print their tables on stdout, which is ours; cargo's progress goes to stderr.
    let status = cargo.status().context("running cargo bench")?;
    ensure!(status.success(), "cargo bench failed: {status}");
    Ok(())
}

/// The processor, how many CPUs this process may use, the kernel, and the time.
fn machine() -> Result<String> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("an unknown processor", |(_, m)| m.trim());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let output = |cmd: &str, arg: &str| -> Result<String> {
        let out = Command::new(cmd)
            .arg(arg)
            .output()
            .with_context(|| format!("running {cmd}"))?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let kernel = output("uname", "-sr")?;
    let date = output("date", "-u")?;
    Ok(format!(
        "{cpus} CPUs ({cpu}), {kernel}, {date}; read the ratios: figures from one run"
    ))
}
