//! Emits what wrapping a system needs, beside its trait: the `<Trait>Delegate` trait (implement
//! it, name the system the rest goes to, write only the methods you change), the blanket impl
//! that makes every delegate a system, `&mut S` and `Box<S>` as delegates of `S`, and the
//! runtime's `Nosys` answering `ENOSYS` to every function. Nothing depends on which functions a
//! package has: every method of the trait is forwarded the same way.

use crate::model::{Func, Ret};
use crate::names::snake;
use crate::system::{method_params, return_type, sizes_hooks};
use crate::{Error, Target, docs};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// The delegate trait's name: `SystemDelegate` for `System`.
pub fn ident(target: &Target) -> Ident {
    format_ident!("{}Delegate", target.trait_ident)
}

/// The path of the runtime's `Nosys` as a doc link target (`crate::Nosys`, or
/// `wasirun_wasi::Nosys` outside the crate).
pub fn nosys_path(target: &Target) -> String {
    let rt = &target.runtime;
    let path = quote!(#rt::Nosys).to_string().replace(' ', "");
    path.trim_start_matches("::").to_string()
}

/// The names the delegate trait and the hooks take: a witx function of one of these names
/// would clash with them.
const RESERVED: &[&str] = &["delegate", "refused", "stop_requested"];

/// One method of the trait, as every forwarding impl writes it.
struct Method {
    name: Ident,
    params: Vec<(Ident, TokenStream)>,
    ret: TokenStream,
    /// What `Nosys` answers: `None` for a hook, which keeps its default.
    nosys: Option<TokenStream>,
    /// For a `sizes_for_*` hook, the sizes function the delegate asks by default: its own, so
    /// that a system delegating to `Nosys` that answers `args_get` and `args_sizes_get` is
    /// asked its own sizes, not `Nosys`'s.
    sizes: Option<Ident>,
}

impl Method {
    /// `fn name(&mut self, params) -> ret { body }`; `body` gets the parameter names.
    fn forward(&self, body: impl Fn(&Ident, &[&Ident]) -> TokenStream) -> TokenStream {
        let name = &self.name;
        let names: Vec<_> = self.params.iter().map(|(n, _)| n).collect();
        let tys = self.params.iter().map(|(_, t)| t);
        let ret = &self.ret;
        let body = body(name, &names);
        quote! {
            fn #name(&mut self, #(#names: #tys),*) #ret {
                #body
            }
        }
    }
}

/// Every method of the trait: the witx functions, then the hooks.
fn methods(target: &Target, funcs: &[Func]) -> Result<Vec<Method>, Error> {
    let rt = &target.runtime;
    let mut out = Vec::new();
    for f in funcs {
        let name = snake(&f.name);
        if RESERVED.contains(&name.to_string().as_str()) || f.name.starts_with("sizes_for_") {
            return Err(Error::Unsupported {
                func: f.name.clone(),
                what: "a function named like a method the trait reserves".to_string(),
            });
        }
        out.push(Method {
            name,
            params: method_params(target, f)?,
            ret: return_type(f)?,
            nosys: Some(match f.ret {
                Ret::NoReturn => quote!(),
                Ret::Expected { .. } => quote!(Err(Errno::Nosys)),
            }),
            sizes: None,
        });
    }
    for hook in sizes_hooks(funcs)? {
        out.push(Method {
            name: hook.method,
            params: Vec::new(),
            ret: hook.ret,
            nosys: None,
            sizes: Some(hook.sizes),
        });
    }
    out.push(Method {
        name: format_ident!("refused"),
        params: vec![(format_ident!("call"), quote!(&#rt::glue::Refused<'_>))],
        ret: quote!(),
        nosys: None,
        sizes: None,
    });
    out.push(Method {
        name: format_ident!("stop_requested"),
        params: Vec::new(),
        ret: quote!(-> bool),
        nosys: None,
        sizes: None,
    });
    Ok(out)
}

/// Emits the delegate trait, the blanket impls and `Nosys`'s impl of the trait.
pub fn emit(target: &Target, funcs: &[Func]) -> Result<TokenStream, Error> {
    let rt = &target.runtime;
    let tr = &target.trait_ident;
    let dl = ident(target);
    let methods = methods(target, funcs)?;

    let provided = methods.iter().map(|m| {
        let doc = match &m.sizes {
            None => format!(
                "[`{tr}::{}`], forwarded to [`Self::delegate`] unless this impl writes it.",
                m.name
            ),
            Some(sizes) => format!(
                "[`{tr}::{}`]: this delegate's own [`{sizes}`](Self::{sizes}) unless this impl \
                 writes it.",
                m.name
            ),
        };
        let doc = docs(&doc, "");
        let forward = m.forward(|name, args| match &m.sizes {
            None => quote!(#tr::#name(&mut #dl::delegate(self), #(#args),*)),
            Some(sizes) => quote!(#dl::#sizes(self)),
        });
        quote!(#doc #[inline] #forward)
    });
    let blanket = methods
        .iter()
        .map(|m| m.forward(|name, args| quote!(#dl::#name(self, #(#args),*))));
    let direct = methods
        .iter()
        .map(|m| m.forward(|name, args| quote!(<S as #tr>::#name(&mut *self.0, #(#args),*))));
    let nosys = methods.iter().filter_map(|m| {
        let body = m.nosys.as_ref()?;
        let name = &m.name;
        let tys = m.params.iter().map(|(_, t)| t);
        let ret = &m.ret;
        Some(quote!(fn #name(&mut self, #(_: #tys),*) #ret { #body }))
    });

    let nosys_link = nosys_path(target);
    let doc = docs(
        &format!(
            "A [`{tr}`] that writes only the methods it changes: every method it leaves out goes \
             to the system [`delegate`](Self::delegate) returns, and every `{dl}` is a `{tr}` \
             (a blanket impl). A wrapper returns the system it wraps (`&mut self.inner`) and is \
             one line per method it changes; a system that leaves functions out returns \
             [`Nosys`]({nosys_link}), which answers `ENOSYS`, and so says it. A function added to \
             the witx reaches the delegate by itself.\n\n\
             `&mut S` and `Box<S>` are delegates of `S`, for any `S: {tr} + ?Sized`, and the \
             tracer is a delegate whose methods write a line and call its inner system. \
             Forwarding is generic and `#[inline]`: a wrapper costs what its own methods do.\n\n\
             Both traits name every method: where both are in scope, call a delegate's methods \
             through `{tr}` (`{tr}::method(&mut d, ...)`, `&mut dyn {tr}`, or code generic over \
             `{tr}`, as the glue is), since a call by name is ambiguous."
        ),
        "",
    );
    let delegate_doc = docs(
        &format!(
            "The system the methods this impl does not write go to: the wrapped one \
             (`&mut self.inner`), or [`Nosys`]({nosys_link}) to answer `ENOSYS`."
        ),
        "",
    );
    Ok(quote! {
        #doc
        pub trait #dl {
            #delegate_doc
            fn delegate(&mut self) -> impl #tr;
            #(#provided)*
        }

        impl<T: #dl + ?Sized> #tr for T {
            #(#[inline] #blanket)*
        }

        impl<S: #tr + ?Sized> #dl for &mut S {
            #[inline]
            fn delegate(&mut self) -> impl #tr {
                Direct(&mut **self)
            }
        }

        impl<S: #tr + ?Sized> #dl for ::std::boxed::Box<S> {
            #[inline]
            fn delegate(&mut self) -> impl #tr {
                Direct(&mut **self)
            }
        }

        /// Calls `S`'s own methods: the delegate of `&mut S` and `Box<S>`, which would call
        /// themselves if they returned `&mut S` (a system through the blanket impl).
        struct Direct<'a, S: ?Sized>(&'a mut S);

        impl<S: #tr + ?Sized> #tr for Direct<'_, S> {
            #(#[inline] #direct)*
        }

        impl #tr for #rt::Nosys {
            #(#nosys)*
        }
    })
}
