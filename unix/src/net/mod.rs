//! Sockets: the preview 1 calls on them (`sock.rs`), the sockets the host preopens and the
//! guest opens with `path_open` ([`spec`], `socket.rs`), and the [`policy`] that decides where
//! the guest may connect and bind.

pub mod policy;
pub(crate) mod sock;
pub(crate) mod socket;
pub mod spec;
