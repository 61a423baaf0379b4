//! Emits the tracer: the delegate trait implemented for `Tracer<S>`, each function calling `S`
//! and writing one line per call (and counting it, when the tracer keeps a summary). Output buffers are printed
//! after the call, bounded by the returned count; output byte buffers through
//! `Line::arg_out_bytes`, which decodes those the runtime knows the layout of.

use crate::model::{Func, Param, Ret};
use crate::names::snake;
use crate::system::{method_params, return_type};
use crate::{Error, Target};
use proc_macro2::TokenStream;
use quote::quote;

/// Emits `impl TraitDelegate for Tracer<S>`: the tracer is a delegate of its inner system, as
/// any wrapper is, which writes the witx functions and `refused`, and forwards the glue's
/// `sizes_for_*` questions to its inner system's unobserved (the guest did not ask them).
pub fn emit(target: &Target, funcs: &[Func]) -> Result<TokenStream, Error> {
    let rt = &target.runtime;
    let tr = &target.trait_ident;
    let dl = crate::delegate::ident(target);
    let mut methods = funcs
        .iter()
        .map(|f| emit_method(target, f))
        .collect::<Result<Vec<_>, _>>()?;
    for hook in crate::system::sizes_hooks(funcs)? {
        let (method, ret) = (&hook.method, &hook.ret);
        methods.push(quote! {
            fn #method(&mut self) #ret {
                self.inner_mut().#method()
            }
        });
    }
    Ok(quote! {
        impl<S: #tr> #dl for #rt::trace::Tracer<S> {
            fn delegate(&mut self) -> impl #tr {
                self.inner_mut()
            }
            #(#methods)*
            fn refused(&mut self, call: &#rt::glue::Refused<'_>) {
                self.trace_refused(call);
                self.inner_mut().refused(call);
            }
        }
    })
}

fn emit_method(target: &Target, f: &Func) -> Result<TokenStream, Error> {
    let rt = &target.runtime;
    let name = &f.name;
    let method = snake(name);
    let params = method_params(target, f)?;
    let names: Vec<_> = params.iter().map(|(n, _)| n).collect();
    let tys: Vec<_> = params.iter().map(|(_, t)| t).collect();
    let ret = return_type(f)?;

    // How much of an output buffer holds data: the returned count, or all of it.
    let shift = usize::from(f.inout().is_some());
    let ok_len = match &f.ret {
        Ret::Expected { ok } => ok.len() + shift,
        Ret::NoReturn => 0,
    };
    let count = match (f.count_result().map(|i| i + shift), f.inout()) {
        (Some(i), _) if ok_len > 1 => {
            let i = syn::Index::from(i);
            Some(quote!(r.#i as usize))
        }
        (None, Some(_)) if ok_len > 1 => Some(quote!(r.0 as usize)),
        (Some(_), _) | (None, Some(_)) => Some(quote!(*r as usize)),
        (None, None) => None,
    };
    let limit = match count {
        Some(count) => quote!(let limit = result.as_ref().ok().map(|r| #count);),
        None => quote!(let limit = result.as_ref().ok().map(|_| usize::MAX);),
    };
    let mut args = Vec::new();
    for p in &f.params {
        match p {
            Param::Value { name, .. } | Param::Str { name } => {
                let v = snake(name);
                args.push(quote!(line.arg(#name, #v);));
            }
            Param::Bytes {
                name,
                mutable: false,
            } => {
                let v = snake(name);
                args.push(quote!(line.arg(#name, #rt::trace::Bytes(#v));));
            }
            Param::Buffer {
                name,
                mutable: false,
            } => {
                let v = snake(name);
                args.push(quote!(line.arg(#name, #rt::trace::Bytes(#v));));
            }
            Param::Record { name, .. } => {
                let v = snake(name);
                args.push(quote!(line.arg(#name, #v);));
            }
            Param::Chain { name, .. } => {
                let v = snake(name);
                args.push(quote!(line.arg_out(#name, limit.map(|l| #rt::trace::List(&#v[..l.min(#v.len())])));));
            }
            // Every output byte buffer goes through one call: the tracer decides by the function
            // and parameter whether the bytes hold records it can decode (`fd_readdir`'s), so
            // the generator has no case for a function of its own.
            Param::Bytes {
                name,
                mutable: true,
            }
            | Param::Buffer {
                name,
                mutable: true,
            }
            | Param::BytesInOut { name }
            | Param::StringTable { buf_name: name, .. } => {
                let v = snake(name);
                args.push(
                    quote!(line.arg_out_bytes(#name, limit.map(|n| &#v[..n.min(#v.len())]));),
                );
            }
            Param::Iovecs {
                name,
                mutable: false,
            } => {
                let v = snake(name);
                args.push(quote!(line.arg(#name, #rt::trace::Iovecs(#v));));
            }
            Param::Iovecs {
                name,
                mutable: true,
            } => {
                let v = snake(name);
                args.push(
                    quote!(line.arg_out(#name, limit.map(|n| #rt::trace::IovecsMut(#v, n)));),
                );
            }
            Param::Records { slices, .. } => {
                for s in slices {
                    let v = snake(&s.name);
                    let n = &s.name;
                    args.push(if s.mutable {
                        quote!(line.arg_out(#n, limit.map(|l| #rt::trace::List(&#v[..l.min(#v.len())])));)
                    } else {
                        quote!(line.arg(#n, #rt::trace::List(#v));)
                    });
                }
            }
        }
    }
    let has_outputs = f.params.iter().any(|p| match p {
        Param::Bytes { mutable, .. }
        | Param::Iovecs { mutable, .. }
        | Param::Buffer { mutable, .. } => *mutable,
        Param::Records { slices, .. } => slices.iter().any(|s| s.mutable),
        Param::StringTable { .. } | Param::BytesInOut { .. } | Param::Chain { .. } => true,
        Param::Value { .. } | Param::Str { .. } | Param::Record { .. } => false,
    });
    let limit = if has_outputs { limit } else { quote!() };
    let line = if args.is_empty() {
        quote!(let line = self.line(#name);)
    } else {
        quote!(let mut line = self.line(#name);)
    };
    let body = match f.ret {
        Ret::NoReturn => quote! {
            #line
            #(#args)*
            line.no_return();
            self.inner_mut().#method(#(#names),*)
        },
        Ret::Expected { .. } => quote! {
            let start = ::std::time::Instant::now();
            let result = self.inner_mut().#method(#(#names),*);
            let elapsed = start.elapsed();
            #limit
            #line
            #(#args)*
            line.result(&result, elapsed);
            result
        },
    };
    Ok(quote! {
        fn #method(&mut self, #(#names: #tys),*) #ret {
            #body
        }
    })
}
