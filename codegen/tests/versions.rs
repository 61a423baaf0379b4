//! Two versions of one interface side by side (preview 1 and preview 0 under `witx/`): the later
//! package shares the types whose witx representation is unchanged and defines its own where it
//! differs, and an extension that `use`s preview 1's typenames keeps preview 1's.

use std::path::Path;
use wasirun_codegen::generate_crate;

#[test]
fn a_package_shares_only_the_types_laid_out_the_same() {
    let witx = Path::new(env!("CARGO_MANIFEST_DIR")).join("../witx");
    let (files, defined) = generate_crate(&witx).unwrap();
    let types = |package: &str| {
        files
            .iter()
            .find(|f| f.path == Path::new(package).join("types.rs"))
            .map(|f| f.contents.clone())
            .unwrap()
    };
    let mut own = defined["preview0"].clone();
    own.sort();
    assert_eq!(
        own,
        [
            "fdstat",
            "filestat",
            "linkcount",
            "rights",
            "subscription",
            "subscription_clock",
            "subscription_u",
            "whence"
        ]
    );
    let p0 = types("preview0");
    for shared in ["Errno", "Fd", "Event", "Dirent", "Prestat", "Filetype"] {
        let line = format!("pub use crate::preview1::types::{shared};");
        assert!(p0.contains(&line), "preview0 does not import {shared}");
    }
    assert!(p0.contains("pub struct Filestat"));
    assert!(p0.contains("pub type Linkcount = u32;"));
    // The extension built on preview 1 imports preview 1's filestat, not preview 0's.
    let wasmedge = types("wasmedge");
    assert!(!wasmedge.contains("crate::preview0"));
    assert!(defined["wasmedge"].iter().all(|t| t != "filestat"));
}
