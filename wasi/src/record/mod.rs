//! Record and replay: a WebAssembly guest is deterministic except through its system calls, so
//! a log of every call's results is enough to run it again exactly, on another machine, with no
//! file, socket or clock of the host.
//!
//! - [`Recorder`] wraps any system (every package's trait: the per-function code is generated
//!   from the witx, as the tracer's is) and writes each call to a log: the function, its
//!   arguments, and everything it returned, the errno or results and every byte written into
//!   the guest's buffers (reads, directory entries, stat records, args and environ, random
//!   bytes, clocks, poll events). The bytes the guest wrote are in the log as their length and
//!   CRC-32 unless [`Header::full_writes`] asks for them: a log grows with what the guest read.
//! - [`Replayer`] is a system that answers each call from such a log; a call that differs from
//!   the log's stops the guest with a [`ReplayError`] naming the call, what was recorded and
//!   what came.
//!
//! The log (see [`format`](mod@format)) is postcard-encoded blocks, each with its CRC-32, after a
//! versioned [`Header`] holding the module's SHA-256: append-only and streamable (any
//! [`Write`](std::io::Write) to record to, any [`Read`](std::io::Read) to replay from). A log
//! that is truncated or corrupted is a [`LogError`], never a panic.
//!
//! Both run under the glue like any system; the replayer under the [`Tracer`](crate::Tracer)
//! prints the recorded calls line by line:
//!
//! ```
//! use wasirun_wasi::record::{Header, Recorder, Replayer};
//! use wasirun_wasi::trace::TraceOptions;
//! use wasirun_wasi::{Errno, Nosys, System, SystemDelegate, Tracer};
//!
//! /// A system whose random bytes are all 7.
//! struct Sevens;
//! impl SystemDelegate for Sevens {
//!     fn delegate(&mut self) -> impl System {
//!         Nosys
//!     }
//!     fn random_get(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
//!         buf.fill(7);
//!         Ok(())
//!     }
//! }
//!
//! let path = std::env::temp_dir().join(format!("record-doc-{}.log", std::process::id()));
//! let header = Header::new("app.wasm", b"\0asm\x01\0\0\0");
//! let mut recorder = Recorder::new(Sevens, std::fs::File::create(&path)?, header)?;
//! System::random_get(&mut recorder, &mut [0; 4]).unwrap();
//! recorder.finish()?;
//!
//! // Replayed, under the tracer: the bytes come from the log.
//! let replayer = Replayer::new(std::fs::File::open(&path)?)?;
//! # std::fs::remove_file(&path)?;
//! let mut traced = Tracer::new(replayer, std::io::sink(), TraceOptions::default());
//! let mut buf = [0; 4];
//! assert_eq!(System::random_get(&mut traced, &mut buf), Ok(()));
//! assert_eq!(buf, [7; 4]);
//! // Another call than the log's is a divergence, which stops the guest.
//! assert!(System::random_get(&mut traced, &mut buf).is_err());
//! assert!(System::stop_requested(&mut traced));
//! let error = traced.inner_mut().finish().unwrap_err();
//! assert!(error.to_string().starts_with("divergence at call 2"), "{error}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod format;
mod recorder;
mod replayer;
mod value;

pub use format::{Header, LogError, VERSION};
pub use recorder::{BLOCK_SIZE, Ending, Outputs, Recorder};
pub use replayer::{Replay, ReplayError, Replayer};
pub use value::{Args, Logged, scalar};

use sha2::{Digest, Sha256};

/// The entry a recorder writes when the system it wraps asks to stop the guest
/// (`stop_requested`), so that the replay stops at the same call.
#[doc(hidden)]
pub const STOP: &str = "stop_requested";

/// The entry an [`Ending`] writes last: the run's exit status (its ok bytes) and message (its
/// output bytes).
#[doc(hidden)]
pub const END: &str = "end";

/// The SHA-256 of a module's bytes, as a log's header holds it.
pub fn module_hash(module: &[u8]) -> [u8; 32] {
    Sha256::digest(module).into()
}

impl Header {
    /// The header of a log of the module `name` whose bytes are `module`, of this crate's
    /// version, the bytes the guest writes kept as their length and CRC-32.
    pub fn new(name: &str, module: &[u8]) -> Self {
        Header {
            version: VERSION,
            module_sha256: module_hash(module),
            module: name.to_string(),
            full_writes: false,
        }
    }
}
