//! Exit statuses, and the one-line error that goes with each.
//!
//! The numbers follow `sysexits.h` where one fits, clap's 2 for a bad command line, and
//! wasmtime's 134 (128 + SIGABRT, what a shell reports for an aborted process) for a trap, so
//! scripts written for `wasmtime run` read them the same. The guest's own `proc_exit` statuses
//! share the range: a status alone does not tell a guest's 65 from ours, the message on stderr
//! does.

use std::fmt;

/// Why wasirun stopped before the guest could finish, or how the guest was stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// A bad command line (clap's status).
    Usage = 2,
    /// A `--dir` or `--dir-ro` directory cannot be opened, or a `--listen` or `--dial` socket
    /// cannot be made (`EX_USAGE`: a bad operand).
    Dir = 64,
    /// The module is not WebAssembly, does not validate or compile, or is not a command (no
    /// `_start`) (`EX_DATAERR`).
    InvalidModule = 65,
    /// The module file cannot be read (`EX_NOINPUT`).
    NoModule = 66,
    /// The module imports something the host does not define, or with another type
    /// (`EX_UNAVAILABLE`).
    Link = 69,
    /// A bug or a resource failure in wasirun itself (`EX_SOFTWARE`).
    Internal = 70,
    /// The `--trace-file` cannot be created (`EX_CANTCREAT`).
    TraceFile = 73,
    /// A limit refused the module as it started: its initial memory is over `--max-memory`, a
    /// table over `--max-table-elements`, or it has more instances, tables or memories than
    /// allowed (`EX_NOPERM`).
    Limit = 77,
    /// The guest ran past `--timeout` (as `timeout(1)`).
    Timeout = 124,
    /// The guest used all of its `--fuel`.
    OutOfFuel = 125,
    /// The guest trapped, or a host function ended it with an error (128 + SIGABRT).
    Trap = 134,
}

impl Status {
    /// The process exit status.
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// A failure to report as `wasirun: <message>` before exiting with `status`.
#[derive(Debug)]
pub struct Failure {
    /// The exit status.
    pub status: Status,
    /// What went wrong; one line, except a trap's backtrace that follows it.
    pub message: String,
}

impl Failure {
    /// A failure with `status`.
    pub fn new(status: Status, message: impl Into<String>) -> Self {
        Failure {
            status,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "wasirun: {}", self.message)
    }
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
