//! [`Error`]: why a command has no exit status.

use wasmtime::{Trap, WasmBacktrace};

/// Why a command did not run to an exit status, in the order the steps fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The module file cannot be read.
    #[error("cannot read module {path}: {source}", path = path.display())]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not a preview 1 command: not WebAssembly, a component, a module that does not validate
    /// or compile, or one without the entry asked for (`_start: func()`).
    #[error("{0}")]
    InvalidModule(String),
    /// The module imports something the linker does not define, or with another type.
    #[error("{0}")]
    Link(String),
    /// A limit refused the module as it started (its initial memory or a table over the
    /// [`Limits`](crate::Limits), or more instances, tables or memories than allowed).
    #[error("cannot start the module: {0}")]
    Limit(String),
    /// The guest trapped (in its start function or its entry), or a host function ended it
    /// with an error: the error itself, for [`trap`](Error::trap) and downcasts
    /// (`WasmBacktrace`). Displayed as its causes on one line, then the backtrace.
    #[error("{}", describe_trap(.0))]
    Trap(wasmtime::Error),
    /// wasmtime refused what wasirun asked of it (defining WASI, setting fuel).
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// The trap that ended the guest, when one did: [`Trap::Interrupt`] for a stop,
    /// [`Trap::OutOfFuel`] when its fuel ran out.
    pub fn trap(&self) -> Option<Trap> {
        match self {
            Error::Trap(e) => e.downcast_ref::<Trap>().copied(),
            _ => None,
        }
    }
}

/// A trap: its causes on the first line (`error: ` before a host error, which is not a
/// trap), then the backtrace.
fn describe_trap(err: &wasmtime::Error) -> String {
    let backtrace = err.downcast_ref::<WasmBacktrace>().map(|b| b.to_string());
    // The backtrace is attached as the outermost context; print it after the cause, not in it.
    let causes: Vec<String> = err
        .chain()
        .map(|e| e.to_string())
        .filter(|e| Some(e) != backtrace.as_ref())
        .collect();
    let mut message = causes.join(": ").replace('\n', " ");
    if err.downcast_ref::<Trap>().is_none() {
        message.insert_str(0, "error: ");
    }
    if let Some(b) = backtrace {
        message.push('\n');
        message.push_str(&b);
    }
    message
}

/// An error and its causes on one line, `outer: inner: innermost`, each cause's own lines
/// (a WAT parse error points at the source with several) joined by spaces.
pub fn one_line(err: &wasmtime::Error) -> String {
    let chain = format!("{err:#}");
    chain
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '|' || c == '^' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_joins_causes_and_lines() {
        let err = wasmtime::format_err!(
            "expected `(`\n     --> x.wat:1:1\n      |\n    1 | nope\n      | ^"
        )
        .context("cannot parse");
        assert_eq!(
            one_line(&err),
            "cannot parse: expected `(` --> x.wat:1:1 1 | nope"
        );
    }
}
