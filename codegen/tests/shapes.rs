//! Shapes are recognised by type, whatever a package calls them: a package whose names share
//! nothing with preview 1's or WasmEdge's (no `iovec`, no `next`, no `X_get` + `X_sizes_get`)
//! gets the same lowering, and one package's conventions (`conventions.toml`) apply to it alone.

use proc_macro2::{Ident, Span};
use quote::quote;
use std::path::{Path, PathBuf};
use wasirun_codegen::{Target, generate_package};

/// The types every test package starts with: its own errno and size.
const PRELUDE: &str = r#"
(typename $errno (enum (@witx tag u16) $success $fault $nosys))
(typename $length u32)
(typename $stamp u64)
"#;

/// A package folder under the temporary directory, removed when dropped.
struct Package(PathBuf);

impl Package {
    fn new(name: &str, witx: &str, conventions: Option<&str>) -> Package {
        let dir = std::env::temp_dir().join(format!(
            "wasirun-codegen-shapes-{}-{name}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.witx")), format!("{PRELUDE}{witx}")).unwrap();
        if let Some(c) = conventions {
            std::fs::write(dir.join("conventions.toml"), c).unwrap();
        }
        Package(dir)
    }

    /// Generates the package; the contents of one of its files.
    fn generate(&self, name: &str) -> impl Fn(&str) -> String {
        let target = Target {
            runtime: quote!(crate),
            trait_ident: Ident::new("Shapes", Span::call_site()),
            known_types: Default::default(),
        };
        let (files, _) = generate_package(&self.0, name, name, &target).unwrap();
        let name = name.to_string();
        move |file: &str| {
            let f = files
                .iter()
                .find(|f| f.path == Path::new(&name).join(file))
                .unwrap();
            f.contents.clone()
        }
    }
}

impl Drop for Package {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const SHAPES: &str = r#"
;;; Bytes to write into: an iovec by shape, not by name.
(typename $span (record (field $start (@witx pointer u8)) (field $count $length)))
;;; Bytes to read from: a ciovec by shape.
(typename $const_span (record (field $start (@witx const_pointer u8)) (field $count $length)))
;;; A record the guest links into a list through its last member.
(typename $item
  (record
    (field $value u64)
    (field $label (@witx pointer u8))
    (field $label_len u32)
    (field $following (@witx pointer u8))))

(module $shapes
  (import "memory" (memory))

  ;;; Scatters into spans; the count of bytes.
  (@interface func (export "scatter")
    (param $into (list $span))
    (result $error (expected $length (error $errno))))

  ;;; Gathers from spans.
  (@interface func (export "gather")
    (param $from (list $const_span))
    (result $error (expected (error $errno))))

  ;;; Fills the guest's list of items; how many it filled.
  (@interface func (export "items")
    (param $first (@witx pointer (@witx pointer $item)))
    (param $most $length)
    (result $error (expected (tuple $stamp $length) (error $errno))))

  ;;; Fills a table of names: its sizes come from the function after it.
  (@interface func (export "labels")
    (param $table (@witx pointer (@witx pointer u8)))
    (param $bytes (@witx pointer u8))
    (result $error (expected (error $errno))))

  ;;; How many labels, and their bytes.
  (@interface func (export "how_many_labels")
    (result $error (expected (tuple $length $length) (error $errno))))

  ;;; An in/out length, with no convention on it.
  (@interface func (export "option")
    (param $value (@witx pointer u8))
    (param $value_len (@witx pointer $length))
    (result $error (expected (error $errno))))
)
"#;

/// Asserts that `text` holds `what`, showing the text when it does not. Whitespace and the
/// trailing commas prettyplease adds when it breaks a long call over lines do not count.
fn has(text: &str, what: &str) {
    let squeeze = |s: &str| {
        let s: String = s.split_whitespace().collect();
        s.replace(",)", ")").replace(",]", "]").replace(",>", ">")
    };
    assert!(
        squeeze(text).contains(&squeeze(what)),
        "no `{what}` in:\n{text}"
    );
}

#[test]
fn shapes_are_recognised_by_type_under_any_name() {
    let package = Package::new("shapes", SHAPES, None);
    let file = package.generate("shapes");
    let system = file("system.rs");
    let glue = file("glue.rs");
    // A list of pointer + length records is iovecs, writable or not by its pointer.
    has(
        &system,
        "fn scatter(&mut self, into: &mut [::std::io::IoSliceMut<'_>])",
    );
    has(
        &system,
        "fn gather(&mut self, from: &[::std::io::IoSlice<'_>])",
    );
    has(&glue, "borrows.iovecs(into_ptr, into_len,");
    has(&glue, "borrows.ciovecs(from_ptr, from_len,");
    // A pointer to a pointer to records, then a count: a list linked through the last member
    // (`following`, at offset 16), bounded by the result of the lengths' type (the second).
    has(
        &system,
        "fn items(&mut self, first: &mut [<Item as crate::abi::Chained>::Value]) -> Result<(Stamp, Length), Errno>;",
    );
    has(
        &glue,
        "crate::abi::chain::<Item>(mem, first_ptr, most, 16)?",
    );
    has(
        &glue,
        "crate::abi::store_chain::<Item>(mem, first_ptr, 16, &first, ret1 as usize)?",
    );
    // A table of strings whose sizes function is named nothing like it.
    has(
        &system,
        "fn labels(&mut self, bytes: &mut [u8]) -> Result<(), Errno>;",
    );
    has(
        &system,
        "fn sizes_for_labels(&mut self) -> Result<(Length, Length), Errno> { self.how_many_labels() }",
    );
    has(&glue, "system.sizes_for_labels()?");
    // Without the WasmEdge convention, an in/out length is always an address.
    has(&glue, "crate::abi::inout_len(mem, value_len_ptr, None)?");
    // Without versions, a name keeps its form.
    has(&glue, "name: \"how_many_labels\"");
}

#[test]
fn conventions_apply_to_their_package() {
    let witx = r#"
(module $versions
  (import "memory" (memory))
  (@interface func (export "open_old") (param $n u32) (result $error (expected (error $errno))))
  (@interface func (export "open_new") (param $n u32) (param $m u32) (result $error (expected (error $errno))))
  (@interface func (export "get") (param $v (@witx pointer u8)) (param $len (@witx pointer $length)) (result $error (expected (error $errno))))
)
"#;
    let conventions = "versions = [\"old\", \"new\"]\nliteral_inout_len = 8\n";
    let package = Package::new("versions", witx, Some(conventions));
    let glue = package.generate("versions")("glue.rs");
    for import in [
        "name: \"open\", params: 1, function: \"open_old\"",
        "name: \"open_new\", params: 2, function: \"open_new\"",
        "name: \"open\", params: 2, function: \"open_new\"",
        "name: \"get\", params: 2, function: \"get\"",
        "name: \"get_new\", params: 2, function: \"get\"",
    ] {
        has(&glue, import);
    }
    has(&glue, "crate::abi::inout_len(mem, v_len_ptr, Some(8))?");
}

#[test]
fn a_bad_conventions_file_is_an_error() {
    let package = Package::new("bad", "(module $bad)", Some("link = \"next\"\n"));
    let target = Target {
        runtime: quote!(crate),
        trait_ident: Ident::new("Bad", Span::call_site()),
        known_types: Default::default(),
    };
    let err = generate_package(&package.0, "bad", "bad", &target).unwrap_err();
    assert!(
        err.to_string().contains("conventions.toml: line 1"),
        "{err}"
    );
}
