//! Emits record and replay: the delegate trait implemented for `record::Recorder<S>`, each
//! function calling `S` and appending the call to the log, and the trait implemented for
//! `record::Replayer`, each function answering from the log. Both encode a call's arguments
//! with the same calls, so the replayer finds a divergence by comparing bytes; what a call
//! wrote into guest buffers is recorded in parameter order, bounded by its returned count as
//! the tracer's outputs are, and written back in the same order.

use crate::model::{Func, Param, Ret};
use crate::names::snake;
use crate::system::{method_params, return_type, sizes_hooks};
use crate::{Error, Target};
use proc_macro2::TokenStream;
use quote::quote;

/// Emits `impl TraitDelegate for Recorder<S>`.
pub fn emit_recorder(target: &Target, funcs: &[Func]) -> Result<TokenStream, Error> {
    let rt = &target.runtime;
    let tr = &target.trait_ident;
    let dl = crate::delegate::ident(target);
    let mut methods = Vec::new();
    for f in funcs {
        let call = Call::new(target, f)?;
        let Call {
            method,
            names,
            tys,
            ret,
            name,
            args,
            ..
        } = &call;
        let pnames = &call.pnames;
        let mut_args = (!args.is_empty()).then(|| quote!(mut));
        methods.push(match f.ret {
            Ret::NoReturn => quote! {
                fn #method(&mut self, #(#names: #tys),*) #ret {
                    let #mut_args log_args = self.args(#name, &[#(#pnames),*]);
                    #(#args)*
                    let log_out = self.outputs();
                    self.commit(log_args, &Ok::<(), Errno>(()), log_out);
                    self.flush();
                    self.inner_mut().#method(#(#names),*)
                }
            },
            Ret::Expected { .. } => {
                let outs = &call.record_outs;
                let outputs = if outs.is_empty() {
                    quote!(let log_out = self.outputs();)
                } else {
                    let count = &call.count;
                    quote! {
                        let mut log_out = self.outputs();
                        if let Ok(log_ok) = &log_result {
                            let log_limit: usize = #count;
                            #(#outs)*
                        }
                    }
                };
                quote! {
                    fn #method(&mut self, #(#names: #tys),*) #ret {
                        let log_result = self.inner_mut().#method(#(#names),*);
                        let #mut_args log_args = self.args(#name, &[#(#pnames),*]);
                        #(#args)*
                        #outputs
                        self.commit(log_args, &log_result, log_out);
                        log_result
                    }
                }
            }
        });
    }
    for hook in sizes_hooks(funcs)? {
        let (method, ret) = (&hook.method, &hook.ret);
        // Logged as the sizes function, which is what a recorder under a delegate sees (a
        // delegate's hook asks its own sizes function).
        let name = &hook.sizes_func;
        methods.push(quote! {
            fn #method(&mut self) #ret {
                let log_result = self.inner_mut().#method();
                let log_args = self.args(#name, &[]);
                let log_out = self.outputs();
                self.commit(log_args, &log_result, log_out);
                log_result
            }
        });
    }
    Ok(quote! {
        impl<S: #tr> #dl for #rt::record::Recorder<S> {
            fn delegate(&mut self) -> impl #tr {
                self.inner_mut()
            }
            #(#methods)*
            fn refused(&mut self, call: &#rt::glue::Refused<'_>) {
                self.inner_mut().refused(call);
            }
            fn stop_requested(&mut self) -> bool {
                let stop = self.inner_mut().stop_requested();
                self.record_stop(stop)
            }
        }
    })
}

/// Emits `impl Trait for Replayer`.
pub fn emit_replayer(target: &Target, funcs: &[Func]) -> Result<TokenStream, Error> {
    let rt = &target.runtime;
    let tr = &target.trait_ident;
    let mut methods = Vec::new();
    for f in funcs {
        let call = Call::new(target, f)?;
        let Call {
            method,
            names,
            tys,
            ret,
            name,
            args,
            ..
        } = &call;
        let pnames = &call.pnames;
        let mut_args = (!args.is_empty()).then(|| quote!(mut));
        methods.push(match f.ret {
            Ret::NoReturn => quote! {
                fn #method(&mut self, #(#names: #tys),*) #ret {
                    let #mut_args log_args = self.args(#name, &[#(#pnames),*]);
                    #(#args)*
                    if let Ok(log_replay) = self.replay(log_args) {
                        let _ = log_replay.finish();
                    }
                }
            },
            Ret::Expected { .. } => {
                let outs = &call.replay_outs;
                let outputs = if outs.is_empty() {
                    quote!()
                } else {
                    let count = &call.count;
                    let limit = call
                        .uses_limit
                        .then(|| quote!(let log_limit: usize = #count;));
                    let test = if call.uses_limit {
                        quote!(let Ok(log_ok) = &log_result)
                    } else {
                        quote!(log_result.is_ok())
                    };
                    quote! {
                        if #test {
                            #limit
                            #(#outs)*
                        }
                    }
                };
                quote! {
                    fn #method(&mut self, #(#names: #tys),*) #ret {
                        let #mut_args log_args = self.args(#name, &[#(#pnames),*]);
                        #(#args)*
                        let mut log_replay = self.replay(log_args)?;
                        let log_result = log_replay.result();
                        #outputs
                        log_replay.finish()?;
                        log_result
                    }
                }
            }
        });
    }
    for hook in sizes_hooks(funcs)? {
        let (method, ret) = (&hook.method, &hook.ret);
        // Logged as the sizes function, which is what a recorder under a delegate sees (a
        // delegate's hook asks its own sizes function).
        let name = &hook.sizes_func;
        methods.push(quote! {
            fn #method(&mut self) #ret {
                let log_args = self.args(#name, &[]);
                let mut log_replay = self.replay(log_args)?;
                let log_result = log_replay.result();
                log_replay.finish()?;
                log_result
            }
        });
    }
    Ok(quote! {
        impl #tr for #rt::record::Replayer {
            #(#methods)*
            fn stop_requested(&mut self) -> bool {
                self.stopped()
            }
        }
    })
}

/// What both emitters need of one function.
struct Call {
    method: proc_macro2::Ident,
    names: Vec<proc_macro2::Ident>,
    tys: Vec<TokenStream>,
    pnames: Vec<String>,
    ret: TokenStream,
    name: String,
    /// One statement per parameter, encoding it into `log_args`.
    args: Vec<TokenStream>,
    /// The recorder's statements for the outputs, given `log_limit`.
    record_outs: Vec<TokenStream>,
    /// The replayer's, given `log_limit` when `uses_limit`.
    replay_outs: Vec<TokenStream>,
    uses_limit: bool,
    /// How much of an output buffer holds data, from `log_ok`.
    count: TokenStream,
}

impl Call {
    fn new(target: &Target, f: &Func) -> Result<Self, Error> {
        let rt = &target.runtime;
        let params = method_params(target, f)?;
        let names: Vec<_> = params.iter().map(|(n, _)| n.clone()).collect();
        let tys: Vec<_> = params.iter().map(|(_, t)| t.clone()).collect();
        let pnames = names.iter().map(|n| n.to_string()).collect();
        // The descriptor a function writes to: its first handle parameter.
        let handle = f.params.iter().find_map(|p| match p {
            Param::Value { name, tref } if matches!(&**tref.type_(), witx::Type::Handle(_)) => {
                Some(snake(name))
            }
            _ => None,
        });
        let mut args = Vec::new();
        let mut record_outs = Vec::new();
        let mut replay_outs = Vec::new();
        let mut uses_limit = false;
        for p in &f.params {
            match p {
                Param::Value { name, .. } => {
                    let v = snake(name);
                    args.push(quote!(log_args.value(#v);));
                }
                Param::Str { name } => {
                    let v = snake(name);
                    args.push(quote!(log_args.str(#v);));
                }
                Param::Bytes {
                    name,
                    mutable: false,
                }
                | Param::Buffer {
                    name,
                    mutable: false,
                } => {
                    let v = snake(name);
                    args.push(quote!(log_args.bytes(#v);));
                }
                Param::Record { name, .. } => {
                    let v = snake(name);
                    args.push(quote!(log_args.record(#v);));
                }
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
                    args.push(quote!(log_args.len(#v.len());));
                    record_outs.push(quote!(log_out.bytes(#v, log_limit);));
                    replay_outs.push(quote!(log_replay.bytes(#v)?;));
                }
                Param::Iovecs {
                    name,
                    mutable: true,
                } => {
                    let v = snake(name);
                    args.push(quote!(log_args.iovecs_len(#v);));
                    record_outs.push(quote!(log_out.iovecs(#v, log_limit);));
                    replay_outs.push(quote!(log_replay.iovecs(#v)?;));
                }
                Param::Iovecs {
                    name,
                    mutable: false,
                } => {
                    let v = snake(name);
                    args.push(quote!(log_args.written(#v);));
                    if let Some(fd) = &handle {
                        uses_limit = true;
                        replay_outs.push(
                            quote!(log_replay.written(#rt::record::scalar(#fd), #v, log_limit);),
                        );
                    }
                }
                Param::Records { slices, .. } => {
                    for s in slices {
                        let v = snake(&s.name);
                        if s.mutable {
                            args.push(quote!(log_args.len(#v.len());));
                            record_outs.push(quote!(log_out.records(#v, log_limit);));
                            replay_outs.push(quote!(log_replay.records(#v)?;));
                        } else {
                            args.push(quote!(log_args.records(#v);));
                        }
                    }
                }
                Param::Chain { name, .. } => {
                    let v = snake(name);
                    args.push(quote!(log_args.len(#v.len());));
                    record_outs.push(quote!(log_out.values(#v, log_limit);));
                    replay_outs.push(quote!(log_replay.values(#v)?;));
                }
            }
        }
        Ok(Call {
            method: snake(&f.name),
            names,
            tys,
            pnames,
            ret: return_type(f)?,
            name: f.name.clone(),
            args,
            record_outs,
            replay_outs,
            uses_limit,
            count: count(f),
        })
    }
}

/// How much of an output buffer holds data: the returned count (in `log_ok`), or all of it.
fn count(f: &Func) -> TokenStream {
    let shift = usize::from(f.inout().is_some());
    let ok_len = match &f.ret {
        Ret::Expected { ok } => ok.len() + shift,
        Ret::NoReturn => 0,
    };
    match (f.count_result().map(|i| i + shift), f.inout()) {
        (Some(i), _) if ok_len > 1 => {
            let i = syn::Index::from(i);
            quote!(log_ok.#i as usize)
        }
        (None, Some(_)) if ok_len > 1 => quote!(log_ok.0 as usize),
        (Some(_), _) | (None, Some(_)) => quote!(*log_ok as usize),
        (None, None) => quote!({
            let _ = log_ok;
            usize::MAX
        }),
    }
}
