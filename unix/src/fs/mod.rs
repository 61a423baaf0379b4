//! The file system: files, directories and paths, all beneath the preopens.

pub(crate) mod allocate;
pub(crate) mod file;
mod hints;
pub(crate) mod open;
pub(crate) mod path;
pub(crate) mod readdir;
pub(crate) mod stat;
