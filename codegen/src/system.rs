//! Emits the ABI-free trait of a witx module: one method per function, documented from witx.

use crate::model::{Func, Param, Ret};
use crate::names::snake;
use crate::types::rust_type;
use crate::{Error, Target, docs};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// The Rust parameters (name and type) of a trait method.
pub fn method_params(target: &Target, f: &Func) -> Result<Vec<(Ident, TokenStream)>, Error> {
    let rt = &target.runtime;
    let mut out = Vec::new();
    for p in &f.params {
        match p {
            Param::Value { name, tref } => {
                out.push((snake(name), rust_type(tref)?));
            }
            Param::Str { name } => {
                out.push((snake(name), quote!(&str)));
            }
            Param::Bytes { name, mutable } => {
                let t = if *mutable {
                    quote!(&mut [u8])
                } else {
                    quote!(&[u8])
                };
                out.push((snake(name), t));
            }
            Param::Iovecs { name, mutable } => {
                let t = if *mutable {
                    quote!(&mut [::std::io::IoSliceMut<'_>])
                } else {
                    quote!(&[::std::io::IoSlice<'_>])
                };
                out.push((snake(name), t));
            }
            Param::Records { slices, .. } => {
                for s in slices {
                    let t = rust_type(&s.elem)?;
                    let t = if s.mutable {
                        quote!(&mut [#t])
                    } else {
                        quote!(&[#t])
                    };
                    out.push((snake(&s.name), t));
                }
            }
            Param::StringTable { buf_name, .. } => {
                out.push((snake(buf_name), quote!(&mut [u8])));
            }
            Param::Buffer {
                name,
                mutable: false,
            } => out.push((snake(name), quote!(&[u8]))),
            Param::Buffer {
                name,
                mutable: true,
            }
            | Param::BytesInOut { name } => out.push((snake(name), quote!(&mut [u8]))),
            Param::Record { name, tref } => out.push((snake(name), rust_type(tref)?)),
            Param::Chain { name, elem, .. } => {
                let t = rust_type(elem)?;
                out.push((snake(name), quote!(&mut [<#t as #rt::abi::Chained>::Value])));
            }
        }
    }
    Ok(out)
}

/// The ok type of a method's `Result`.
pub fn ok_type(f: &Func) -> Result<Option<TokenStream>, Error> {
    match &f.ret {
        Ret::NoReturn => Ok(None),
        Ret::Expected { ok } => {
            let mut tys = ok.iter().map(rust_type).collect::<Result<Vec<_>, _>>()?;
            if f.inout().is_some() {
                tys.insert(0, quote!(Size));
            }
            Ok(Some(match tys.as_slice() {
                [] => quote!(()),
                [t] => quote!(#t),
                ts => quote!((#(#ts),*)),
            }))
        }
    }
}

/// The full return type of a method.
pub fn return_type(f: &Func) -> Result<TokenStream, Error> {
    Ok(match ok_type(f)? {
        None => quote!(),
        Some(t) => quote!(-> Result<#t, Errno>),
    })
}

fn param_docs(f: &Func, witx_func: &witx::InterfaceFunc) -> String {
    let mut s = String::new();
    let described: Vec<_> = witx_func
        .params
        .iter()
        .filter(|p| !p.docs.trim().is_empty())
        .collect();
    if !described.is_empty() {
        s.push_str("\n\n# Parameters\n");
        for p in described {
            let doc = p.docs.trim().replace('\n', " ");
            s.push_str(&format!("- `{}`: {}\n", p.name.as_str(), doc));
        }
    }
    for p in &f.params {
        match p {
            Param::StringTable { table_name, buf_name, sizes_func } => s.push_str(&format!(
                "\n\nABI-free form: `{buf_name}` has exactly the size `{sizes_func}` reports; fill it \
                 with the NUL-terminated strings back to back. The glue writes the `{table_name}` \
                 pointer table."
            )),
            Param::Records { slices, len_name } => {
                let names: Vec<_> = slices.iter().map(|s| format!("`{}`", s.name)).collect();
                s.push_str(&format!(
                    "\n\nABI-free form: {} are slices of length `{len_name}`; for an output slice, \
                     the glue copies out as many entries as the returned count says.",
                    names.join(" and ")
                ));
            }
            Param::Buffer { name, .. } => s.push_str(&format!(
                "\n\nABI-free form: `{name}` is the buffer its descriptor (pointer and length) \
                 points at."
            )),
            Param::BytesInOut { name } => s.push_str(&format!(
                "\n\nABI-free form: `{name}` is as long as the guest's length says; the method \
                 returns how many bytes of it it wrote (first, before any other result), which \
                 the glue stores back as the length."
            )),
            Param::Chain { name, max_name, .. } => s.push_str(&format!(
                "\n\nABI-free form: `{name}` has one value per record of the guest's list (at \
                 most `{max_name}`); fill them in order and return how many; the glue writes \
                 them into the records."
            )),
            _ => {}
        }
    }
    if let Some(r) = witx_func
        .results
        .first()
        .filter(|r| !r.docs.trim().is_empty())
    {
        s.push_str(&format!("\n\n# Returns\n{}", r.docs.trim()));
    }
    if matches!(f.ret, Ret::NoReturn) {
        s.push_str(
            "\n\nThe method returns to the glue, which then ends the instance: implementations \
             release what they must and return.",
        );
    } else {
        s.push_str("\n\nThe default implementation fails with `ENOSYS`.");
    }
    s
}

/// Emits `pub trait #name`.
pub fn emit(
    target: &Target,
    trait_doc: &str,
    funcs: &[(Func, std::rc::Rc<witx::InterfaceFunc>)],
) -> Result<TokenStream, Error> {
    let name = &target.trait_ident;
    let doc = docs(
        trait_doc,
        "The functions of a witx module, free of any ABI detail.",
    );
    let mut methods = Vec::new();
    for (f, wf) in funcs {
        let m = snake(&f.name);
        let params = method_params(target, f)?;
        let names: Vec<_> = params.iter().map(|(n, _)| n).collect();
        let tys: Vec<_> = params.iter().map(|(_, t)| t).collect();
        let ret = return_type(f)?;
        let d = docs(&format!("{}{}", wf.docs, param_docs(f, wf)), "");
        let body = match f.ret {
            Ret::NoReturn => quote!(),
            Ret::Expected { .. } => quote!(Err(Errno::Nosys)),
        };
        methods.push(quote! {
            #d
            fn #m(&mut self, #(#names: #tys),*) #ret {
                let _ = (#(#names,)*);
                #body
            }
        });
    }
    for (f, _) in funcs {
        methods.extend(sizes_for(
            f,
            funcs.iter().map(|(f, _)| f),
            |sizes| quote!(self.#sizes()),
        )?);
    }
    let rt = &target.runtime;
    methods.push(quote! {
        /// Told of a call the glue refused before it reached the system, because an argument
        /// could not be decoded (`EFAULT` for a bad pointer, `EINVAL` for an undefined enum or
        /// flags value): the guest made it, the system never saw it. Does nothing unless a
        /// wrapper observes calls: the tracer prints it.
        fn refused(&mut self, call: &#rt::glue::Refused<'_>) {
            let _ = call;
        }
    });
    methods.push(quote! {
        /// Whether the embedder told the guest to stop. The glue asks after a call that
        /// failed: a system whose blocking waits a stop cuts short fails the call and says so
        /// here, and the glue then ends the instance with `wasmtime::Trap::Interrupt` instead
        /// of handing the guest an errno it could ignore and call again. `false` by default.
        fn stop_requested(&self) -> bool {
            false
        }
    });
    Ok(quote! {
        #doc
        pub trait #name {
            #(#methods)*
        }
    })
}

/// For a function that fills a string table (`args_get`), the method the glue asks for the
/// table's sizes before calling it: `sizes_for_args_get`, which `args_sizes_get` answers by
/// default. A wrapper that observes calls (the tracer) forwards it unobserved, so that a trace
/// shows the calls the guest made, not the glue's. `body` calls the sizes function.
pub fn sizes_for<'a>(
    f: &Func,
    all: impl Iterator<Item = &'a Func> + Clone,
    body: impl Fn(&Ident) -> TokenStream,
) -> Result<Option<TokenStream>, Error> {
    let Some(sizes_func) = f.params.iter().find_map(|p| match p {
        Param::StringTable { sizes_func, .. } => Some(sizes_func),
        _ => None,
    }) else {
        return Ok(None);
    };
    let Some(sizes) = all.clone().find(|g| &g.name == sizes_func) else {
        return Err(Error::Unsupported {
            func: f.name.clone(),
            what: format!("a string table without `{sizes_func}`"),
        });
    };
    let method = quote::format_ident!("sizes_for_{}", f.name);
    let ret = return_type(sizes)?;
    let call = body(&snake(sizes_func));
    let doc = docs(
        &format!(
            "The sizes `{}` needs, which the glue asks for before calling it: `{sizes_func}` by \
             default. Wrappers forward it without observing it: the guest did not call it.",
            f.name
        ),
        "",
    );
    Ok(Some(quote! {
        #doc
        fn #method(&mut self) #ret {
            #call
        }
    }))
}
