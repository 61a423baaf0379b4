//! Emits the wasmtime glue: `add_to_linker`, one `Linker::func_wrap` per function with the exact
//! core-wasm signature. The glue turns guest pointers into checked slices and values (bad ones
//! become `EFAULT`/`EINVAL`), calls the trait, and writes results back.

use crate::conventions::Conventions;
use crate::model::{Func, Param, Ret};
use crate::names::snake;
use crate::types::rust_type;
use crate::{Error, Target};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use witx::WasmType;

/// The most slices one generated call borrows from guest memory: what the runtime's `Borrows`
/// holds (`abi::BORROWS_MAX`; the generated glue asserts at compile time that it holds at
/// least this many). A function that needs more is refused here, when the code is generated,
/// rather than answering `EFAULT` at run time.
const BORROWS_MAX: usize = 8;

fn wasm_ty(t: WasmType) -> TokenStream {
    match t {
        WasmType::I32 => quote!(i32),
        WasmType::I64 => quote!(i64),
        WasmType::F32 => quote!(f32),
        WasmType::F64 => quote!(f64),
    }
}

/// Emits the glue for `funcs` of the witx module `module`: one `link_<function>` per function,
/// the `IMPORTS` table of the names each answers (see [`crate::links`]), `add_to_linker` and
/// `add_imports_to_linker`, following the package's `conventions`.
pub fn emit(
    target: &Target,
    module: &str,
    funcs: &[Func],
    conventions: &Conventions,
) -> Result<TokenStream, Error> {
    let rt = &target.runtime;
    let tr = &target.trait_ident;
    let links = crate::links::link_names(funcs, &conventions.versions)?;
    let linkers = funcs
        .iter()
        .map(|f| {
            let body = emit_func(target, f, conventions)?;
            let link = format_ident!("link_{}", f.name);
            let doc = format!(" Registers `{}` as `name`.", f.name);
            Ok(quote! {
                #[doc = #doc]
                fn #link<T: 'static, S: #tr + 'static>(
                    linker: &mut ::wasmtime::Linker<T>,
                    as_name: &str,
                    get: impl Fn(&mut T) -> &mut #rt::Host<S> + Send + Sync + Copy + 'static,
                ) -> ::wasmtime::Result<()> {
                    #body
                    Ok(())
                }
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let imports = links.iter().map(|l| {
        let (name, function) = (&l.name, &funcs[l.func].name);
        let params = proc_macro2::Literal::usize_unsuffixed(l.params);
        quote!(#rt::glue::Import { name: #name, params: #params, function: #function })
    });
    let unambiguous = links.iter().filter(|l| !l.ambiguous).map(|l| {
        let (name, link) = (&l.name, format_ident!("link_{}", funcs[l.func].name));
        quote!(#link(linker, #name, get)?;)
    });
    let arms = funcs.iter().map(|f| {
        let (name, link) = (&f.name, format_ident!("link_{}", f.name));
        quote!(#name => #link(linker, name, get),)
    });
    let doc = format!(
        "Registers the functions of the witx module `{module}` in `linker` under every name in \
         [`IMPORTS`] that only one of them answers, calling the [`{tr}`] that `get` finds in the \
         store's data. A name two forms answer (by arity) needs [`add_imports_to_linker`].\n\n\
         Guest pointers are checked against the memory (bounds, alignment, overflow): a bad one \
         gives `EFAULT`, a bad enum or flags value `EINVAL`, never a host panic."
    );
    let doc = crate::docs(&doc, "");
    let imports_doc = crate::docs(
        "Every name a guest may import a function of this module as: the name, its number of \
         core-wasm parameters (which picks the form when two answer one name), and the witx \
         function.",
        "",
    );
    let by_import_doc = crate::docs(
        "Registers, for each import of `module` from this witx module that [`IMPORTS`] \
         answers by name and arity, the function that answers it under that name, replacing \
         what `linker` defines there (call `Linker::allow_shadowing(true)` first when it may \
         define some). Imports equal by name and arity to an entry of `skip` are left alone \
         (another package answers them). Returns how many imports it linked.",
        "",
    );
    let borrows_max = proc_macro2::Literal::usize_unsuffixed(BORROWS_MAX);
    Ok(quote! {
        /// The module name guests import these functions from.
        pub const MODULE: &str = #module;

        // The generator kept every function within this many borrowed slices.
        const _: () = assert!(#borrows_max <= #rt::abi::BORROWS_MAX);

        #imports_doc
        pub const IMPORTS: &[#rt::glue::Import] = &[#(#imports),*];

        #doc
        pub fn add_to_linker<T: 'static, S: #tr + 'static>(
            linker: &mut ::wasmtime::Linker<T>,
            get: impl Fn(&mut T) -> &mut #rt::Host<S> + Send + Sync + Copy + 'static,
        ) -> ::wasmtime::Result<()> {
            #(#unambiguous)*
            Ok(())
        }

        #by_import_doc
        pub fn add_imports_to_linker<T: 'static, S: #tr + 'static>(
            linker: &mut ::wasmtime::Linker<T>,
            module: &::wasmtime::Module,
            skip: &[#rt::glue::Import],
            get: impl Fn(&mut T) -> &mut #rt::Host<S> + Send + Sync + Copy + 'static,
        ) -> ::wasmtime::Result<usize> {
            let mut linked = 0;
            for import in #rt::glue::imports_from(module, MODULE) {
                if skip.iter().any(|s| s.answers(&import)) {
                    continue;
                }
                let Some(found) = IMPORTS.iter().find(|i| i.answers(&import)) else {
                    continue;
                };
                let name = import.name.as_str();
                match found.function {
                    #(#arms)*
                    _ => unreachable!("IMPORTS names generated functions only"),
                }?;
                linked += 1;
            }
            Ok(linked)
        }

        #(#linkers)*
    })
}

/// Names the next core-wasm parameter.
fn raw(raws: &mut Vec<Ident>, name: String) -> Ident {
    let ident = Ident::new(&name, Span::call_site());
    raws.push(ident.clone());
    ident
}

fn emit_func(target: &Target, f: &Func, conventions: &Conventions) -> Result<TokenStream, Error> {
    let rt = &target.runtime;
    let method = snake(&f.name);
    let mut raws: Vec<Ident> = Vec::new();

    let mut convs = Vec::new(); // value conversions, before anything else
    let mut pre = Vec::new(); // record copies and string table sizes
    let mut borrows = Vec::new(); // slices borrowed from memory for the call
    let mut args = Vec::new(); // the method's arguments
    let mut post = Vec::new(); // writes after the call
    let mut iovecs: Option<(Ident, Ident, Ident, bool)> = None;
    let mut records_out: Vec<(Ident, Ident)> = Vec::new();
    let mut chains: Vec<(Ident, Ident, proc_macro2::Literal, TokenStream)> = Vec::new();

    for p in &f.params {
        match p {
            Param::Value { name, tref } => {
                let r = raw(&mut raws, name.clone());
                let v = snake(name);
                let t = rust_type(tref)?;
                convs.push(quote!(let #v: #t = #rt::abi::FromAbi::from_abi(#r)?;));
                args.push(quote!(#v));
            }
            Param::Str { name } => {
                let (ptr, len) = (
                    raw(&mut raws, format!("{name}_ptr")),
                    raw(&mut raws, format!("{name}_len")),
                );
                let v = snake(name);
                borrows.push(quote!(let #v = borrows.str(#ptr, #len)?;));
                args.push(quote!(#v));
            }
            Param::Bytes { name, mutable } => {
                let (ptr, len) = (
                    raw(&mut raws, format!("{name}_ptr")),
                    raw(&mut raws, format!("{name}_len")),
                );
                let v = snake(name);
                borrows.push(if *mutable {
                    quote!(let #v = borrows.bytes_mut(#ptr, #len)?;)
                } else {
                    quote!(let #v = borrows.bytes(#ptr, #len)?;)
                });
                args.push(quote!(#v));
            }
            Param::Iovecs { name, mutable } => {
                let (ptr, len) = (
                    raw(&mut raws, format!("{name}_ptr")),
                    raw(&mut raws, format!("{name}_len")),
                );
                if iovecs.is_some() {
                    return Err(Error::Unsupported {
                        func: f.name.clone(),
                        what: "two iovec arrays".into(),
                    });
                }
                let v = snake(name);
                iovecs = Some((v.clone(), ptr, len, *mutable));
                args.push(quote!(#v));
            }
            Param::Records { slices, len_name } => {
                let ptrs: Vec<_> = slices
                    .iter()
                    .map(|s| raw(&mut raws, format!("{}_ptr", s.name)))
                    .collect();
                let len = raw(&mut raws, len_name.clone());
                for (s, ptr) in slices.iter().zip(ptrs) {
                    let v = snake(&s.name);
                    let t = rust_type(&s.elem)?;
                    if s.mutable {
                        let at = format_ident!("{}_at", s.name);
                        pre.push(quote! {
                            let #at = #rt::abi::array_at::<#t>(mem, #ptr, #len)?;
                            let mut #v = #rt::abi::RecordBuf::<#t>::empty();
                            #v.fill_default(#len)?;
                        });
                        args.push(quote!(#v.as_mut_slice()));
                        records_out.push((v, at));
                    } else {
                        pre.push(quote! {
                            let mut #v = #rt::abi::RecordBuf::<#t>::empty();
                            #v.fill_load(mem, #ptr, #len)?;
                        });
                        args.push(quote!(#v.as_slice()));
                    }
                }
            }
            Param::Buffer { name, mutable } => {
                let ptr = raw(&mut raws, format!("{name}_ptr"));
                let v = snake(name);
                let (buf, len) = (format_ident!("{}_buf", name), format_ident!("{}_len", name));
                pre.push(quote!(let (#buf, #len) = #rt::abi::descriptor(mem, #ptr)?;));
                borrows.push(if *mutable {
                    quote!(let #v = borrows.bytes_mut(#buf, #len)?;)
                } else {
                    quote!(let #v = borrows.bytes(#buf, #len)?;)
                });
                args.push(quote!(#v));
            }
            Param::BytesInOut { name } => {
                let (ptr, len_ptr) = (
                    raw(&mut raws, format!("{name}_ptr")),
                    raw(&mut raws, format!("{name}_len_ptr")),
                );
                let v = snake(name);
                let (at, len) = (
                    format_ident!("{}_len_at", name),
                    format_ident!("{}_len", name),
                );
                let literal = match conventions.literal_inout_len {
                    Some(l) => {
                        let l = proc_macro2::Literal::i32_unsuffixed(l as i32);
                        quote!(Some(#l))
                    }
                    None => quote!(None),
                };
                pre.push(quote!(let (#at, #len) = #rt::abi::inout_len(mem, #len_ptr, #literal)?;));
                borrows.push(quote!(let #v = borrows.bytes_mut(#ptr, #len)?;));
                args.push(quote!(#v));
                post.push(quote!(#rt::abi::store_inout_len(mem, #at, written)?;));
            }
            Param::Record { name, tref } => {
                let ptr = raw(&mut raws, format!("{name}_ptr"));
                let v = snake(name);
                let t = rust_type(tref)?;
                pre.push(quote!(let #v = #rt::abi::load_at::<#t>(mem, #ptr)?;));
                args.push(quote!(#v));
            }
            Param::Chain {
                name,
                elem,
                max_name,
                next_offset,
            } => {
                let (ptr, max) = (
                    raw(&mut raws, format!("{name}_ptr")),
                    raw(&mut raws, max_name.clone()),
                );
                let v = snake(name);
                let len = format_ident!("{}_len", name);
                let next_offset_lit = proc_macro2::Literal::usize_unsuffixed(*next_offset);
                let t = rust_type(elem)?;
                pre.push(quote! {
                    let #len = #rt::abi::chain::<#t>(mem, #ptr, #max, #next_offset_lit)?;
                    let mut #v = #rt::abi::chain_values::<#t>(#len)?;
                });
                args.push(quote!(&mut #v));
                chains.push((v, ptr, next_offset_lit, t));
            }
            Param::StringTable {
                table_name,
                buf_name,
                ..
            } => {
                let (table, buf) = (
                    raw(&mut raws, format!("{table_name}_ptr")),
                    raw(&mut raws, format!("{buf_name}_ptr")),
                );
                let sizes = format_ident!("sizes_for_{}", f.name);
                let v = snake(buf_name);
                pre.push(quote! {
                    let (count, size) = system.#sizes()?;
                    let table_at = #rt::abi::array_at::<u32>(mem, #table, count as i32)?;
                });
                borrows.push(quote!(let #v = borrows.bytes_mut(#buf, size as i32)?;));
                args.push(quote!(#v));
                post.push(quote! {
                    #rt::abi::store_string_table(mem, table_at, count, #buf, size)?;
                });
            }
        }
    }

    let regions = borrows.len() + usize::from(iovecs.is_some());
    if regions > BORROWS_MAX {
        return Err(Error::Unsupported {
            func: f.name.clone(),
            what: format!("{regions} slices of guest memory in one call (at most {BORROWS_MAX})"),
        });
    }

    if let Ret::NoReturn = f.ret {
        let params = &raws;
        let tys: Vec<_> = f.wasm_params.iter().map(|t| wasm_ty(*t)).collect();
        if raws.len() != 1 || f.wasm_params != [WasmType::I32] {
            return Err(Error::Unsupported {
                func: f.name.clone(),
                what: "a noreturn function whose only parameter is not an i32 exit code".into(),
            });
        }
        let code = &raws[0];
        return Ok(quote! {
            linker.func_wrap(MODULE, as_name, move |mut caller: ::wasmtime::Caller<'_, T>, #(#params: #tys),*| -> ::wasmtime::Result<()> {
                let system = #rt::glue::system(&mut caller, get);
                let result = (|| -> Result<(), Errno> {
                    #(#convs)*
                    system.#method(#(#args),*);
                    Ok(())
                })();
                Err(#rt::glue::exit(#code, result))
            })?;
        });
    }

    // Out-pointers for the ok values come last in the wasm signature.
    let Ret::Expected { ok } = &f.ret else {
        unreachable!("NoReturn returned above")
    };
    let mut out_checks = Vec::new();
    let mut stores = Vec::new();
    let ret_names: Vec<Ident> = (0..ok.len()).map(|i| format_ident!("ret{}", i)).collect();
    for (i, t) in ok.iter().enumerate() {
        let ptr = raw(&mut raws, format!("result{i}_ptr"));
        let at = format_ident!("result{}_at", i);
        let ty = rust_type(t)?;
        let v = &ret_names[i];
        out_checks.push(quote!(let #at = #rt::abi::out_at::<#ty>(mem, #ptr)?;));
        stores.push(quote!(#rt::abi::GuestValue::store(#v, mem, #at)?;));
    }
    let count_limit = match f.count_result() {
        Some(i) => {
            let r = &ret_names[i];
            quote!(#r as usize)
        }
        None => quote!(usize::MAX),
    };
    for (v, at) in &records_out {
        post.push(quote!(#rt::abi::store_array(mem, #at, #v.as_slice(), #count_limit)?;));
    }
    for (v, ptr, next_offset, t) in &chains {
        post.push(
            quote!(#rt::abi::store_chain::<#t>(mem, #ptr, #next_offset, &#v, #count_limit)?;),
        );
    }

    if raws.len() != f.wasm_params.len() {
        return Err(Error::Unsupported {
            func: f.name.clone(),
            what: format!(
                "a signature the model cannot reproduce ({} wasm parameters, {} lowered)",
                f.wasm_params.len(),
                raws.len()
            ),
        });
    }
    let params = &raws;
    let tys: Vec<_> = f.wasm_params.iter().map(|t| wasm_ty(*t)).collect();

    let call = quote!({
        called = true;
        system.#method(#(#args),*)
    });
    let call = match &iovecs {
        None => call,
        Some((v, ptr, len, true)) => quote!(borrows.iovecs(#ptr, #len, |#v| #call)?),
        Some((v, ptr, len, false)) => quote!(borrows.ciovecs(#ptr, #len, |#v| #call)?),
    };
    let needs_borrows = !borrows.is_empty() || iovecs.is_some();
    let borrow_init = if needs_borrows {
        quote!(let mut borrows = #rt::abi::Borrows::new(mem);)
    } else {
        quote!()
    };
    let mut bound = ret_names.clone();
    if f.inout().is_some() {
        bound.insert(0, format_ident!("written"));
    }
    let bind = match bound.as_slice() {
        [] => quote!(()),
        [one] => quote!(#one),
        many => quote!((#(#many),*)),
    };
    let access = if f.uses_memory() {
        quote!(let (mem, system) = #rt::glue::memory(&mut caller, get)?;)
    } else {
        quote!(let system = #rt::glue::system(&mut caller, get);)
    };
    let result_ty = wasm_ty(f.wasm_results[0]);
    let name = &f.name;
    let raw_names: Vec<String> = raws.iter().map(|r| r.to_string()).collect();
    let raw_values: Vec<TokenStream> = raws
        .iter()
        .zip(&f.wasm_params)
        .map(|(r, t)| match t {
            WasmType::I32 => quote!(#r as u32 as u64),
            _ => quote!(#r as u64),
        })
        .collect();
    Ok(quote! {
        linker.func_wrap(MODULE, as_name, move |mut caller: ::wasmtime::Caller<'_, T>, #(#params: #tys),*| -> ::wasmtime::Result<#result_ty> {
            #access
            let mut called = false;
            let result = (|| -> Result<(), Errno> {
                #(#out_checks)*
                #(#convs)*
                #(#pre)*
                #[allow(clippy::let_unit_value)]
                let #bind = {
                    #borrow_init
                    #(#borrows)*
                    #call
                }?;
                #(#stores)*
                #(#post)*
                Ok(())
            })();
            if let (false, Err(errno)) = (called, result) {
                system.refused(&#rt::glue::Refused {
                    function: #name,
                    args: &[#((#raw_names, #raw_values)),*],
                    errno,
                });
            }
            if result.is_err() && system.stop_requested() {
                return Err(::wasmtime::Trap::Interrupt.into());
            }
            Ok(#rt::abi::errno(result))
        })?;
    })
}
