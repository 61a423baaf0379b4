//! The file system: files, directories and paths, all beneath the preopens.

pub(crate) mod file;
pub(crate) mod open;
pub(crate) mod path;
pub(crate) mod readdir;
pub(crate) mod stat;
