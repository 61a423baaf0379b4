//! Generates the `wasirun-wasi` crate's Rust from witx: for each package (a folder of `.witx`
//! files holding one module), the types with their witx memory layout, an ABI-free trait, the
//! delegate trait that wrappers implement, the wasmtime glue and a tracer. `cargo xtask codegen` drives it and checks the output in.
//!
//! The pipeline: [`witx::load`] reads a package, [`model::lower`] groups each function's core-wasm
//! parameters into ABI-free values, and the emitters in [`types`], [`system`], [`delegate`],
//! [`glue`] and [`tracer`] write Rust with `quote`, which [`prettyplease`] formats.
//!
//! # What a new extension needs
//!
//! The generator knows no package by name: [`model`] recognises every parameter shape by its
//! types (a list of pointer + size records is iovecs whatever it is called, a guest-linked list
//! is linked through its record's last member, a string table's sizes come from the nearest
//! function returning a pair of sizes, ...), and what witx cannot say lives in the package's
//! own `conventions.toml` ([`conventions`]: WasmEdge's `_v1`/`_v2` versions and its literal
//! in/out length). So a new extension needs:
//!
//! 1. its witx, one module in `witx/<package>/` (`use` preview 1's typenames to share them:
//!    shared types are imported, not copied), then `cargo xtask codegen`;
//! 2. a `conventions.toml` beside it only if its guests call it in ways witx cannot describe
//!    (names carrying ABI versions, a length "pointer" that is the length itself);
//! 3. an implementation of its trait (or of its `<Trait>Delegate`, delegating the rest to
//!    `Nosys`), linked with its `add_imports_to_linker` where the embedder builds the linker
//!    (the runner's `runner/src/link.rs`);
//! 4. for a list the guest links ([`model::Param::Chain`]), an `abi::Chained` impl for its
//!    record, saying what the system fills in (as `wasi/src/sockaddr.rs` does for `addrinfo`).
//!
//! Only a genuinely new parameter shape needs a generator edit: a [`model::Param`] variant
//! recognised by types in [`model::lower`], and its arm in each emitter's exhaustive match
//! ([`system::method_params`] and its docs, [`glue`]'s `emit_func`, [`tracer`]'s
//! `emit_method`), with any runtime helper the glue calls in `wasi/src/abi.rs`; the compiler
//! points at each arm. `codegen/tests/shapes.rs` shows each shape recognised under foreign
//! names.
#![deny(missing_docs)]

pub mod conventions;
pub mod delegate;
pub mod glue;
pub mod links;
pub mod model;
pub mod names;
pub mod record;
pub mod system;
pub mod tracer;
pub mod types;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use witx::Representable;

/// What can go wrong while generating.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A witx file could not be read or validated.
    #[error("witx package {package}: {message}")]
    Witx {
        /// The package folder.
        package: String,
        /// The witx crate's report.
        message: String,
    },
    /// A witx construct the generator has no ABI-free form for.
    #[error("{func}: the generator does not support {what}")]
    Unsupported {
        /// The function (empty for a type).
        func: String,
        /// What it found.
        what: String,
    },
    /// A package's `conventions.toml` could not be parsed.
    #[error("witx package {package}: conventions.toml: {message}")]
    Conventions {
        /// The package folder.
        package: String,
        /// What is wrong, and on which line.
        message: String,
    },
    /// A package must hold exactly one module.
    #[error("witx package {0}: expected exactly one module")]
    ModuleCount(String),
    /// Generated tokens that do not parse as Rust: a generator bug.
    #[error("generated code for {0} does not parse: {1}")]
    Syntax(String, syn::Error),
    /// A folder could not be listed.
    #[error("reading {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// Where generated code lives, which decides the paths it uses.
#[derive(Clone)]
pub struct Target {
    /// The path of the `wasirun-wasi` runtime: `crate` inside it, `::wasirun_wasi` outside.
    pub runtime: TokenStream,
    /// The trait's name: `System` for preview1, the package name in CamelCase otherwise.
    pub trait_ident: Ident,
    /// Types defined by earlier packages, by witx name, with the path of their module.
    pub known_types: BTreeMap<String, TokenStream>,
}

/// One generated file, its path relative to the output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the output folder, e.g. `preview1/types.rs`.
    pub path: PathBuf,
    /// Formatted Rust source with its header.
    pub contents: String,
}

/// The witx names of the types each package defines, by package.
pub type DefinedTypes = BTreeMap<String, Vec<String>>;

/// The package whose trait is called `System` rather than after the package.
pub const PREVIEW1: &str = "preview1";

/// The name of the trait generated for `package`.
pub fn trait_name(package: &str) -> String {
    if package == PREVIEW1 {
        "System".to_string()
    } else {
        names::camel(package, "W")
    }
}

/// Turns witx doc text into `#[doc]` attributes, one per line, or `fallback` when empty.
pub fn docs(text: &str, fallback: &str) -> TokenStream {
    let text = if text.trim().is_empty() {
        fallback
    } else {
        text
    };
    let lines = text
        .trim_end()
        .lines()
        .map(|l| format!(" {}", l.trim_end()));
    quote!(#(#[doc = #lines])*)
}

/// The witx files of a package folder, sorted.
pub fn witx_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::Io(dir.to_path_buf(), e))?;
    let mut files = Vec::new();
    for entry in rd {
        let path = entry.map_err(|e| Error::Io(dir.to_path_buf(), e))?.path();
        if path.extension().is_some_and(|e| e == "witx") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The package folders under `root` (every folder holding `.witx` files), preview1 first.
pub fn packages(root: &Path) -> Result<Vec<PathBuf>, Error> {
    let rd = std::fs::read_dir(root).map_err(|e| Error::Io(root.to_path_buf(), e))?;
    let mut dirs = Vec::new();
    for entry in rd {
        let path = entry.map_err(|e| Error::Io(root.to_path_buf(), e))?.path();
        if path.is_dir() && !witx_files(&path)?.is_empty() {
            dirs.push(path);
        }
    }
    dirs.sort_by_key(|d| (d.file_name() != Some(PREVIEW1.as_ref()), d.clone()));
    Ok(dirs)
}

fn render(what: &str, source: &str, tokens: TokenStream) -> Result<String, Error> {
    let file = syn::parse2::<syn::File>(tokens).map_err(|e| Error::Syntax(what.to_string(), e))?;
    Ok(format!(
        "// @generated by `cargo xtask codegen` from {source}. Do not edit: change the witx or \
         the generator (codegen/) and run it again.\n\n{}",
        prettyplease::unparse(&file)
    ))
}

/// Generates every package under `root` for the `wasirun-wasi` crate itself. Returns the files
/// and, by witx name, the types each package defined (what an extension outside the crate
/// imports instead of redefining).
///
/// A package uses the type an earlier package defined under the same name only where the
/// witx representations are equal ([`witx::Representable`]): an extension that `use`s preview
/// 1's typenames shares them all, while another version of preview 1 (preview 0, whose
/// `filestat` and `whence` differ) shares what is unchanged and defines the rest itself. The
/// first package to define a name keeps it.
pub fn generate_crate(root: &Path) -> Result<(Vec<GeneratedFile>, DefinedTypes), Error> {
    let mut known: BTreeMap<String, (TokenStream, std::rc::Rc<witx::NamedType>)> = BTreeMap::new();
    let mut owned = BTreeMap::new();
    let mut files = Vec::new();
    for dir in packages(root)? {
        let package = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let doc = witx::load(&witx_files(&dir)?).map_err(|e| Error::Witx {
            package: package.clone(),
            message: e.report(),
        })?;
        let same = |name: &str, earlier: &witx::NamedType| {
            doc.typename(&witx::Id::new(name))
                .is_some_and(|t| t.representable(earlier) == witx::RepEquality::Eq)
        };
        let target = Target {
            runtime: quote!(crate),
            trait_ident: Ident::new(&trait_name(&package), Span::call_site()),
            known_types: known
                .iter()
                .filter(|(name, (_, earlier))| same(name, earlier))
                .map(|(name, (path, _))| (name.clone(), path.clone()))
                .collect(),
        };
        let source = format!("witx/{package}");
        let (package_files, defined) = generate_package(&dir, &package, &source, &target)?;
        let module = Ident::new(&package, Span::call_site());
        for name in &defined {
            if let Some(t) = doc.typename(&witx::Id::new(name)) {
                known
                    .entry(name.clone())
                    .or_insert((quote!(crate::#module::types), t));
            }
        }
        files.extend(package_files);
        owned.insert(package, defined);
    }
    Ok((files, owned))
}

/// Generates one package: `<package>/{mod,types,system,delegate,glue,trace}.rs`. Returns the files and
/// the witx names of the types it defined.
pub fn generate_package(
    dir: &Path,
    package: &str,
    source: &str,
    target: &Target,
) -> Result<(Vec<GeneratedFile>, Vec<String>), Error> {
    let witx_err = |message: String| Error::Witx {
        package: package.to_string(),
        message,
    };
    let doc = witx::load(&witx_files(dir)?).map_err(|e| witx_err(e.report()))?;
    let modules: Vec<_> = doc.modules().collect();
    let [module] = modules.as_slice() else {
        return Err(Error::ModuleCount(package.to_string()));
    };
    let rt = &target.runtime;
    let tr = &target.trait_ident;

    let all: Vec<_> = doc.typenames().collect();
    let (shared, own): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|t| target.known_types.contains_key(t.name.as_str()));
    // Lists are never emitted as types (the trait takes slices), so there is nothing to import.
    let imports: Vec<_> = shared
        .iter()
        .filter(|t| !matches!(&**t.type_(), witx::Type::List(_)))
        .map(|t| {
            let path = &target.known_types[t.name.as_str()];
            let id = names::type_ident(t.name.as_str());
            quote!(#[allow(unused_imports)] pub use #path::#id;)
        })
        .collect();
    let type_defs = types::emit(target, &own)?;
    let consts = doc.constants().map(|c| {
        let id = Ident::new(
            &format!("{}_{}", c.ty.as_str(), c.name.as_str()).to_uppercase(),
            Span::call_site(),
        );
        let ty = names::type_ident(c.ty.as_str());
        let value = proc_macro2::Literal::u64_unsuffixed(c.value);
        let d = docs(&c.docs, &format!("A `{}` value.", c.ty.as_str()));
        quote!(#d pub const #id: #ty = #value;)
    });
    let types_file = quote! {
        #![doc = " The types and constants of the witx package, with their witx memory layout."]
        #![allow(clippy::useless_conversion)]
        #[allow(unused_imports)]
        use #rt::abi::GuestValue;
        #(#imports)*
        #(#consts)*
        #type_defs
    };

    let funcs = module
        .funcs()
        .map(|f| model::lower(module, &f).map(|m| (m, f)))
        .collect::<Result<Vec<_>, _>>()?;
    let lowered: Vec<_> = funcs.iter().map(|(m, _)| m.clone()).collect();
    let trait_def = system::emit(target, &module.docs, &funcs)?;
    let system_file = quote! {
        #![doc = " The ABI-free trait: one method per witx function."]
        #![allow(clippy::too_many_arguments)]
        use super::types::*;
        #trait_def
    };
    let delegate_def = delegate::emit(target, &lowered)?;
    let delegate_file = quote! {
        #![doc = " The delegate trait: a system that writes only the methods it changes."]
        #![allow(clippy::too_many_arguments)]
        use super::types::*;
        use super::#tr;
        #delegate_def
    };
    let conventions = conventions::Conventions::load(dir, package)?;
    let glue_def = glue::emit(target, module.name.as_str(), &lowered, &conventions)?;
    let glue_file = quote! {
        #![doc = " The wasmtime glue: core-wasm functions that check guest pointers and call the trait."]
        #![allow(clippy::too_many_arguments, clippy::redundant_closure_call, unused_parens)]
        use super::types::*;
        use super::#tr;
        #glue_def
    };
    let trace_def = tracer::emit(target, &lowered)?;
    let dl = delegate::ident(target);
    let trace_file = quote! {
        #![doc = " The tracer: a delegate of the system it wraps, writing one line per call."]
        #![allow(clippy::too_many_arguments)]
        use super::types::*;
        use super::{#tr, #dl};
        #trace_def
    };
    let record_def = record::emit_recorder(target, &lowered)?;
    let record_file = quote! {
        #![doc = " The recorder: a delegate of the system it wraps, logging every call."]
        #![allow(clippy::too_many_arguments)]
        use super::types::*;
        use super::{#tr, #dl};
        #record_def
    };
    let replay_def = record::emit_replayer(target, &lowered)?;
    let replay_file = quote! {
        #![doc = " The replayer: the trait answered from a log."]
        #![allow(clippy::too_many_arguments)]
        use super::types::*;
        use super::#tr;
        #replay_def
    };
    let module_doc = format!(
        " The witx package `{package}` (module `{}`): types, the [`{tr}`] trait and its \
         [`{dl}`] for wrappers, the wasmtime glue ([`add_to_linker`]) and the tracer's \
         implementation of the trait.",
        module.name.as_str()
    );
    let mod_file = quote! {
        #![doc = #module_doc]
        pub mod types;
        mod system;
        mod delegate;
        mod glue;
        mod trace;
        mod record;
        mod replay;
        pub use system::#tr;
        pub use delegate::#dl;
        pub use glue::{IMPORTS, MODULE, add_imports_to_linker, add_to_linker};
    };
    let mut files = Vec::new();
    for (name, tokens) in [
        ("mod.rs", mod_file),
        ("types.rs", types_file),
        ("system.rs", system_file),
        ("delegate.rs", delegate_file),
        ("glue.rs", glue_file),
        ("trace.rs", trace_file),
        ("record.rs", record_file),
        ("replay.rs", replay_file),
    ] {
        let path = PathBuf::from(package).join(name);
        let contents = render(&path.display().to_string(), source, tokens)?;
        files.push(GeneratedFile { path, contents });
    }
    let defined = own.iter().map(|t| t.name.as_str().to_string()).collect();
    Ok((files, defined))
}
