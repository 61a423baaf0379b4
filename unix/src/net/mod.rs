//! Sockets: the preview 1 calls on them (`sock.rs`), the sockets the host preopens and the
//! guest opens with `path_open` ([`spec`], `socket.rs`, and the wrapper that makes them, `urls.rs`), the WasmEdge extension
//! (`wasmedge.rs`, with `sockopt.rs` and `resolve.rs`), and the [`policy`] that decides where
//! the guest may connect and bind. `make.rs` makes and accepts sockets as each Unix allows.

pub(crate) mod make;
pub mod policy;
mod resolve;
pub(crate) mod sock;
pub(crate) mod socket;
mod sockopt;
pub mod spec;
pub(crate) mod urls;
mod wasmedge;
