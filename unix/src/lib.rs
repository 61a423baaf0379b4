//! The Unix [`System`](wasirun_wasi::System): WASI preview 1 on `rustix`, with an fd table,
//! preopened directories, and a sandbox that no path escapes.
//!
//! ```no_run
//! use wasirun_unix::{Builder, DirMode};
//!
//! let system = Builder::new()
//!     .arg("app.wasm")
//!     .env("HOME", "/")
//!     .preopen_dir(".", "/", DirMode::ReadWrite)
//!     .unwrap()
//!     .build()
//!     .unwrap();
//! # let _ = system;
//! ```
#![warn(missing_docs)]

use std::path::{Path, PathBuf};

/// Errors while setting a system up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A preopened directory could not be opened.
    #[error("cannot open directory {path}: {source}")]
    OpenDir {
        /// The host path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Whether the guest may change what is below a preopened directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirMode {
    /// Read and write.
    ReadWrite,
    /// Read only: no create, write, mkdir, unlink, rename, link, symlink, set-times or
    /// truncate through it or anything opened below it.
    ReadOnly,
}

/// Builds a [`UnixSystem`].
pub struct Builder {
    args: Vec<Vec<u8>>,
    env: Vec<Vec<u8>>,
    dirs: Vec<(PathBuf, String, DirMode)>,
    max_open_files: usize,
    max_open_dirs: usize,
    enforce_rights: bool,
    nonblocking_stdio: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            args: Vec::new(),
            env: Vec::new(),
            dirs: Vec::new(),
            max_open_files: 1024,
            max_open_dirs: 1024,
            enforce_rights: false,
            nonblocking_stdio: false,
        }
    }
}

impl Builder {
    /// An empty builder: no args, no env, no preopens, 1024 open files and directory streams
    /// at most, rights enforced as wasmtime does, blocking stdio.
    pub fn new() -> Self {
        Self::default()
    }

    /// The most files the guest may have open at once (`ENFILE` past it), stdio and preopens
    /// included.
    pub fn max_open_files(&mut self, n: usize) -> &mut Self {
        self.max_open_files = n;
        self
    }

    /// The most directory streams (`fd_readdir` in progress) open at once (`EMFILE` past it).
    pub fn max_open_dirs(&mut self, n: usize) -> &mut Self {
        self.max_open_dirs = n;
        self
    }

    /// Refuses (`ENOTCAPABLE`) any call the fd's rights do not allow, as wasi-go and Node do,
    /// instead of enforcing only what the host granted, as wasmtime does.
    pub fn enforce_rights(&mut self, on: bool) -> &mut Self {
        self.enforce_rights = on;
        self
    }

    /// Puts the host's stdin, stdout and stderr in non-blocking mode for the guest.
    pub fn nonblocking_stdio(&mut self, on: bool) -> &mut Self {
        self.nonblocking_stdio = on;
        self
    }

    /// Appends a command-line argument (the first is the program name).
    pub fn arg(&mut self, arg: impl Into<Vec<u8>>) -> &mut Self {
        self.args.push(arg.into());
        self
    }

    /// Sets an environment variable; a later value for the same name wins.
    pub fn env(&mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> &mut Self {
        let mut entry = name.as_ref().to_vec();
        entry.push(b'=');
        entry.extend_from_slice(value.as_ref());
        self.env.push(entry);
        self
    }

    /// Preopens the host directory `host` for the guest under the name `guest`.
    pub fn preopen_dir(
        &mut self,
        host: impl AsRef<Path>,
        guest: impl Into<String>,
        mode: DirMode,
    ) -> Result<&mut Self, Error> {
        self.dirs
            .push((host.as_ref().to_path_buf(), guest.into(), mode));
        Ok(self)
    }

    /// Builds the system.
    pub fn build(&mut self) -> Result<UnixSystem, Error> {
        Ok(UnixSystem {})
    }
}

/// WASI preview 1 on the host's Unix system calls.
pub struct UnixSystem {}

impl wasirun_wasi::System for UnixSystem {}
