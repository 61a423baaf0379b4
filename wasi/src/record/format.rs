//! The log's format: a magic string, then frames, each a block of postcard-encoded values with
//! its length and CRC-32 in front. The first frame holds the [`Header`], every other one a run of
//! [`Call`]s back to back.
//!
//! ```text
//! "WASIRUN\n" | len u32 LE | crc32 u32 LE | postcard(Header) | len | crc | postcard(Call)... | ...
//! ```
//!
//! A frame is written whole or not at all (the writer fills a block in memory first), so a log
//! is append-only and streamable: a reader needs nothing after the frame it reads, and a log
//! cut short loses only its last frame, which the reader reports as truncated.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::{self, Read, Write};

/// The bytes every log starts with.
pub const MAGIC: &[u8; 8] = b"WASIRUN\n";

/// The format version this crate writes and reads; a log of another version is refused.
pub const VERSION: u32 = 1;

/// What a log is a recording of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The format version ([`VERSION`]).
    pub version: u32,
    /// The SHA-256 of the module's bytes (see [`module_hash`](super::module_hash)).
    pub module_sha256: [u8; 32],
    /// The module's name as the embedder gave it (`wasirun` writes its path), for people.
    pub module: String,
    /// Whether the bytes the guest wrote (`fd_write`, `sock_send`...) are in the log in full;
    /// else as their length and CRC-32.
    pub full_writes: bool,
}

/// One argument of a call, as the recorder and the replayer both encode it: what is compared to
/// find a divergence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Arg<'a> {
    /// A scalar (integer, enum, flags, handle): its witx encoding read as a little-endian integer.
    Value(u64),
    /// A string.
    Str(&'a str),
    /// Bytes the guest passed in, or records in their witx layout.
    Bytes(&'a [u8]),
    /// The size of a buffer the guest handed out (bytes, or records for a list of them).
    Len(u64),
    /// Bytes the guest wrote, as their length and CRC-32.
    Written {
        /// How many bytes.
        len: u64,
        /// Their CRC-32.
        crc: u32,
    },
}

impl fmt::Display for Arg<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Value(v) => write!(f, "{v}"),
            Arg::Str(s) => write!(f, "{s:?}"),
            Arg::Bytes(b) => write!(f, "{:?}", String::from_utf8_lossy(b)),
            Arg::Len(n) => write!(f, "[{n} free]"),
            Arg::Written { len, crc } => write!(f, "[{len} bytes, crc32 {crc:08x}]"),
        }
    }
}

/// One call: what the guest asked and everything it got back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call<'a> {
    /// The witx function, or a hook of the trait (`sizes_for_args_get`, `stop_requested`).
    pub function: &'a str,
    /// The arguments: postcard-encoded [`Arg`]s back to back.
    pub args: &'a [u8],
    /// The errno, 0 for success.
    pub errno: u16,
    /// The ok values in their witx encoding, back to back.
    pub ok: &'a [u8],
    /// What the call wrote into guest buffers: one postcard byte string per output parameter.
    pub out: &'a [u8],
}

/// What is wrong with a log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Reading or writing it failed.
    #[error("log i/o: {0}")]
    Io(#[from] io::Error),
    /// It does not start with [`MAGIC`].
    #[error("not a wasirun log (no \"WASIRUN\" magic at its start)")]
    NotALog,
    /// It is of a version this crate does not read.
    #[error("log format version {found}, this wasirun reads version {VERSION}")]
    Version {
        /// The log's version.
        found: u32,
    },
    /// It ends inside a frame.
    #[error("log truncated in block {block}")]
    Truncated {
        /// The frame, counting the header as 0.
        block: u64,
    },
    /// A frame's CRC-32 does not match its bytes.
    #[error("log corrupted: block {block} fails its checksum")]
    Checksum {
        /// The frame, counting the header as 0.
        block: u64,
    },
    /// A frame's bytes do not decode.
    #[error("log corrupted: block {block}: {what}")]
    Corrupt {
        /// The frame, counting the header as 0.
        block: u64,
        /// What did not decode.
        what: String,
    },
}

/// Writes one frame: length, CRC-32, bytes.
pub(crate) fn write_frame(out: &mut dyn Write, bytes: &[u8]) -> io::Result<()> {
    let len = u32::try_from(bytes.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "log block over 4 GiB"))?;
    let mut head = [0u8; 8];
    head[..4].copy_from_slice(&len.to_le_bytes());
    head[4..].copy_from_slice(&crc32fast::hash(bytes).to_le_bytes());
    out.write_all(&head)?;
    out.write_all(bytes)
}

/// Reads frame number `block` into `buf`: `Ok(false)` at a clean end of the log. The bytes are
/// read as they come, so a corrupted length cannot make the reader allocate more than the log
/// holds.
pub(crate) fn read_frame(
    input: &mut dyn Read,
    block: u64,
    buf: &mut Vec<u8>,
) -> Result<bool, LogError> {
    let mut head = [0u8; 8];
    let mut got = 0;
    while got < head.len() {
        match input.read(&mut head[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err(LogError::Truncated { block }),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let [l0, l1, l2, l3, c0, c1, c2, c3] = head;
    let len = u32::from_le_bytes([l0, l1, l2, l3]);
    let crc = u32::from_le_bytes([c0, c1, c2, c3]);
    buf.clear();
    input.take(u64::from(len)).read_to_end(buf)?;
    if buf.len() != len as usize {
        return Err(LogError::Truncated { block });
    }
    if crc32fast::hash(buf) != crc {
        return Err(LogError::Checksum { block });
    }
    Ok(true)
}
