//! Output byte buffers the tracer decodes instead of printing their bytes.
//!
//! Generated code hands every output byte buffer to [`super::Line::arg_out_bytes`], which asks
//! [`decoder`] here by the call and the parameter. Why a table by name and not the type: the
//! witx types `fd_readdir`'s buffer as `(@witx pointer u8)`, and only its doc comment says it
//! holds `dirent` records, each followed by a name of `d_namlen` bytes; preview 1's witx is
//! copied verbatim, so no annotation can be added to it. A side table next to the witx would
//! need a small language for "records each followed by a length-prefixed name", which this one
//! buffer uses, and the generator would still need the layout code that `crate::dirent`
//! already has. So the generator stays generic (every byte buffer goes through here) and the
//! table lives with the hand-written layout code it calls.

use super::{Bytes, Writer};
use crate::dirent::DirentReader;

/// Writes a buffer's bytes (those the call reported) as what they hold.
pub(super) type Decoder = fn(&mut Writer<'_>, &[u8]);

/// How to show the output buffer `param` of `function`, when it is more than bytes.
pub(super) fn decoder(function: &str, param: &str) -> Option<Decoder> {
    match (function, param) {
        ("fd_readdir", "buf") => Some(dirents),
        _ => None,
    }
}

/// `[{name: ".", type: DIRECTORY, next: 1}, ...]`: the complete entries, at most the string
/// size of them, then `...` when more entries or a cut one follow.
fn dirents(w: &mut Writer<'_>, buf: &[u8]) {
    let mut entries = DirentReader::new(buf);
    let mut more = false;
    w.out.push(b'[');
    for (i, (dirent, name)) in entries.by_ref().enumerate() {
        if i == w.max {
            more = true;
            break;
        }
        w.sep();
        w.open_record();
        w.field("name", &Bytes(name));
        w.field("type", &dirent.d_type);
        w.field("next", &dirent.d_next);
        w.close_record();
    }
    if more || !entries.rest().is_empty() {
        w.sep();
        w.symbol("...");
    }
    w.out.push(b']');
}
