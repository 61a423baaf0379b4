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
    Usage,
    /// A `--dir` or `--dir-ro` directory cannot be opened, or a `--listen` or `--dial` socket
    /// cannot be made (`EX_USAGE`: a bad operand).
    Dir,
    /// The module is not WebAssembly, does not validate or compile, or is not a command (no
    /// `_start`) (`EX_DATAERR`).
    InvalidModule,
    /// The module file cannot be read (`EX_NOINPUT`).
    NoModule,
    /// The module imports something the host does not define, or with another type
    /// (`EX_UNAVAILABLE`).
    Link,
    /// A bug or a resource failure in wasirun itself (`EX_SOFTWARE`).
    Internal,
    /// The `--trace-file` cannot be created (`EX_CANTCREAT`).
    TraceFile,
    /// A limit refused the module as it started: its initial memory is over `--max-memory`, a
    /// table over `--max-table-elements`, or it has more instances, tables or memories than
    /// allowed (`EX_NOPERM`).
    Limit,
    /// The guest ran past `--timeout` (as `timeout(1)`).
    Timeout,
    /// The guest used all of its `--fuel`.
    OutOfFuel,
    /// The guest trapped, or a host function ended it with an error (128 + SIGABRT).
    Trap,
    /// SIGINT, SIGTERM or SIGHUP stopped the guest: 128 + the signal's number, as a shell
    /// reports a process the signal killed.
    Signal(i32),
    /// `wasirun replay` of a run that ended so: the recorded run's status, whatever ended it.
    Recorded(i32),
}

impl Status {
    /// The process exit status.
    pub fn code(self) -> i32 {
        match self {
            Status::Usage => 2,
            Status::Dir => 64,
            Status::InvalidModule => 65,
            Status::NoModule => 66,
            Status::Link => 69,
            Status::Internal => 70,
            Status::TraceFile => 73,
            Status::Limit => 77,
            Status::Timeout => 124,
            Status::OutOfFuel => 125,
            Status::Trap => 134,
            Status::Signal(sig) => 128 + sig,
            Status::Recorded(status) => status,
        }
    }
}

/// A failure to report as `wasirun: <message>` before exiting with `status`.
#[derive(Clone, Debug)]
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

pub use wasirun::one_line;
