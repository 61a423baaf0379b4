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
    }
    s
}

/// Emits `pub trait #name`: the witx functions as methods without defaults (an impl that
/// forgets one does not compile; [`crate::delegate`] is how a system leaves some out), then the
/// hooks, which have harmless defaults.
pub fn emit(
    target: &Target,
    trait_doc: &str,
    funcs: &[(Func, std::rc::Rc<witx::InterfaceFunc>)],
) -> Result<TokenStream, Error> {
    let name = &target.trait_ident;
    let doc = docs(
        &format!(
            "{}\n\n{}",
            if trait_doc.trim().is_empty() {
                "The functions of a witx module, free of any ABI detail."
            } else {
                trait_doc.trim_end()
            },
            implementing_doc(target)
        ),
        "",
    );
    let mut methods = Vec::new();
    for (f, wf) in funcs {
        let m = snake(&f.name);
        let params = method_params(target, f)?;
        let names: Vec<_> = params.iter().map(|(n, _)| n).collect();
        let tys: Vec<_> = params.iter().map(|(_, t)| t).collect();
        let ret = return_type(f)?;
        let d = docs(&format!("{}{}", wf.docs, param_docs(f, wf)), "");
        methods.push(quote! {
            #d
            fn #m(&mut self, #(#names: #tys),*) #ret;
        });
    }
    let lowered: Vec<_> = funcs.iter().map(|(f, _)| f.clone()).collect();
    for hook in sizes_hooks(&lowered)? {
        let (method, sizes, ret) = (&hook.method, &hook.sizes, &hook.ret);
        let doc = docs(
            &format!(
                "The sizes `{}` needs, which the glue asks for before calling it: `{}` by \
                 default, a delegate's own too (so that it agrees with the `{}` it answers). \
                 The tracer forwards it to its inner system's, unobserved: the guest did not \
                 call it.",
                hook.func, hook.sizes_func, hook.func
            ),
            "",
        );
        methods.push(quote! {
            #doc
            fn #method(&mut self) #ret {
                self.#sizes()
            }
        });
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
        fn stop_requested(&mut self) -> bool {
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

/// The trait's section on implementing it: no defaults, and the delegate for what is left out.
fn implementing_doc(target: &Target) -> String {
    let tr = &target.trait_ident;
    let delegate = crate::delegate::ident(target);
    let nosys = crate::delegate::nosys_path(target);
    format!(
        "# Implementing\n\n\
         Every witx function is a method without a default body: `impl {tr} for X` writes each \
         one, and a function added to the witx fails to compile until it is written, instead of \
         failing at run time. Only the hooks after them (`refused`, `stop_requested`, and the \
         `sizes_for_*` of string-table functions) have defaults.\n\n\
         To write only some methods, implement [`{delegate}`](super::{delegate}) instead (every \
         `{delegate}` is a `{tr}`): its [`delegate`](super::{delegate}::delegate) names the system each method it does \
         not write goes to, so a wrapper is one line per method it changes. A system that \
         leaves functions out says so there: [`Nosys`]({nosys}) answers `ENOSYS` to each. `&mut S` \
         and `Box<S>` (`Box<dyn {tr}>` too) are systems for any `S: {tr}` this way, and so is \
         the tracer."
    )
}

/// A string-table function's `sizes_for_<function>` hook: the glue asks it for the table's
/// sizes before calling the function.
pub struct SizesHook {
    /// The function that fills the table (`args_get`).
    pub func: String,
    /// The function that answers its sizes (`args_sizes_get`).
    pub sizes_func: String,
    /// The hook's method: `sizes_for_args_get`.
    pub method: Ident,
    /// The sizes function's method.
    pub sizes: Ident,
    /// The hook's return type, the sizes function's.
    pub ret: TokenStream,
}

/// The `sizes_for_*` hooks of `funcs`, one per function that fills a string table.
pub fn sizes_hooks(funcs: &[Func]) -> Result<Vec<SizesHook>, Error> {
    let mut hooks = Vec::new();
    for f in funcs {
        let Some(sizes_func) = f.params.iter().find_map(|p| match p {
            Param::StringTable { sizes_func, .. } => Some(sizes_func),
            _ => None,
        }) else {
            continue;
        };
        let Some(sizes) = funcs.iter().find(|g| &g.name == sizes_func) else {
            return Err(Error::Unsupported {
                func: f.name.clone(),
                what: format!("a string table without `{sizes_func}`"),
            });
        };
        hooks.push(SizesHook {
            func: f.name.clone(),
            sizes_func: sizes_func.clone(),
            method: quote::format_ident!("sizes_for_{}", f.name),
            sizes: snake(sizes_func),
            ret: return_type(sizes)?,
        });
    }
    Ok(hooks)
}
