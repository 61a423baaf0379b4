//! Embedding wasirun: run a WASI command with its stdout kept in memory, then show it.
//!
//! `cargo run -p wasirun --example embed [MODULE] [ARGS]...` (by default the bundled
//! `runner/examples/hello.wat`, which prints its arguments, environment and preopened files).

use wasirun::Command;
use wasirun_unix::{Builder, Capture, DirMode, Stdio};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let hello = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/hello.wat");
    let module = args.next().unwrap_or_else(|| hello.into());
    let engine = wasmtime::Engine::default();
    let command = Command::from_file(&engine, &module)?;

    let stdout = Capture::new();
    let system = Builder::new()
        .arg("hello")
        .args(args)
        .env("GREETING", "hi from the host")
        .stdout(Stdio::writer(stdout.clone()))
        .preopen_dir(env!("CARGO_MANIFEST_DIR"), "/runner", DirMode::ReadOnly)?
        .build()?;
    let status = command.run(system)?;

    let text = stdout.to_string_lossy();
    println!(
        "the guest exited with {status} and wrote {} bytes:",
        text.len()
    );
    for line in text.lines() {
        println!("  | {line}");
    }
    Ok(())
}
