//! Emits a witx document's types: Rust definitions with the witx memory layout, their guest
//! memory encoding, their trace formatting, and a test that the layouts match witx.

use crate::names::{case_ident, flag_const, snake, summary, symbol, type_ident};
use crate::{Error, Target, docs};
use proc_macro2::{Literal, TokenStream};
use quote::quote;
use witx::{BuiltinType, IntRepr, Layout, NamedType, RecordDatatype, Type, TypeRef, Variant};

fn int_repr(r: IntRepr) -> TokenStream {
    match r {
        IntRepr::U8 => quote!(u8),
        IntRepr::U16 => quote!(u16),
        IntRepr::U32 => quote!(u32),
        IntRepr::U64 => quote!(u64),
    }
}

/// The Rust type of a builtin.
pub fn builtin(b: BuiltinType) -> TokenStream {
    match b {
        BuiltinType::Char => quote!(char),
        BuiltinType::U8 { .. } => quote!(u8),
        BuiltinType::U16 => quote!(u16),
        BuiltinType::U32 { .. } => quote!(u32),
        BuiltinType::U64 => quote!(u64),
        BuiltinType::S8 => quote!(i8),
        BuiltinType::S16 => quote!(i16),
        BuiltinType::S32 => quote!(i32),
        BuiltinType::S64 => quote!(i64),
        BuiltinType::F32 => quote!(f32),
        BuiltinType::F64 => quote!(f64),
    }
}

/// The Rust type a value of `t` has in generated code.
pub fn rust_type(t: &TypeRef) -> Result<TokenStream, Error> {
    match t {
        TypeRef::Name(n) => {
            let id = type_ident(n.name.as_str());
            Ok(quote!(#id))
        }
        TypeRef::Value(v) => match &**v {
            Type::Builtin(b) => Ok(builtin(*b)),
            // A guest address: only the glue follows it.
            Type::Pointer(_) | Type::ConstPointer(_) => Ok(quote!(u32)),
            Type::Record(r) if r.is_tuple() => {
                let ms = r
                    .members
                    .iter()
                    .map(|m| rust_type(&m.tref))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(quote!((#(#ms,)*)))
            }
            other => Err(Error::Unsupported {
                func: String::new(),
                what: format!("an anonymous {} type", other.kind()),
            }),
        },
    }
}

/// Emits every named type of `doc` that `target` owns.
pub fn emit(target: &Target, types: &[std::rc::Rc<NamedType>]) -> Result<TokenStream, Error> {
    let mut out = TokenStream::new();
    let mut layout_tests = TokenStream::new();
    for nt in types {
        let (def, test) = emit_one(target, nt)?;
        out.extend(def);
        layout_tests.extend(test);
    }
    let rt = &target.runtime;
    out.extend(quote! {
        #[cfg(test)]
        mod layout_tests {
            use super::*;
            use #rt::abi::GuestValue;
            #[test]
            fn layouts_match_witx() {
                #layout_tests
            }
        }
    });
    Ok(out)
}

fn emit_one(target: &Target, nt: &NamedType) -> Result<(TokenStream, TokenStream), Error> {
    let rt = &target.runtime;
    let name = nt.name.as_str();
    let id = type_ident(name);
    let doc = docs(&nt.docs, &format!("The witx type `{name}`."));
    let sa = nt.mem_size_align();
    let (size, align) = (
        Literal::usize_unsuffixed(sa.size),
        Literal::usize_unsuffixed(sa.align),
    );
    let size_test = quote! {
        assert_eq!(<#id as GuestValue>::SIZE, #size, stringify!(#id));
        assert_eq!(<#id as GuestValue>::ALIGN, #align, stringify!(#id));
        assert_eq!(::core::mem::size_of::<#id>(), #size, stringify!(#id));
        assert_eq!(::core::mem::align_of::<#id>(), #align, stringify!(#id));
    };
    match &**nt.type_() {
        // Aliases of other named types and builtins.
        _ if matches!(&nt.tref, TypeRef::Name(_)) => {
            let ty = rust_type(&nt.tref)?;
            Ok((quote! { #doc pub type #id = #ty; }, quote!()))
        }
        Type::Builtin(b) => {
            let ty = builtin(*b);
            Ok((quote! { #doc pub type #id = #ty; }, quote!()))
        }
        // Lists are only ever parameters: the System sees them as slices.
        Type::List(_) => Ok((quote!(), quote!())),
        Type::Handle(_) => Ok((
            quote! {
                #doc
                #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
                #[repr(transparent)]
                pub struct #id(pub u32);
                impl ::core::fmt::Display for #id {
                    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                        ::core::fmt::Display::fmt(&self.0, f)
                    }
                }
                impl #rt::abi::GuestValue for #id {
                    const SIZE: usize = 4;
                    const ALIGN: usize = 4;
                    fn load(mem: &[u8], at: usize) -> Result<Self, Errno> {
                        u32::load(mem, at).map(#id)
                    }
                    fn store(self, mem: &mut [u8], at: usize) -> Result<(), Errno> {
                        self.0.store(mem, at)
                    }
                }
                impl #rt::abi::FromAbi<i32> for #id {
                    #[inline]
                    fn from_abi(raw: i32) -> Result<Self, Errno> {
                        Ok(#id(raw as u32))
                    }
                }
                impl #rt::trace::TraceValue for #id {
                    fn trace(&self, w: &mut #rt::trace::Writer<'_>) {
                        w.uint(u64::from(self.0));
                    }
                }
            },
            size_test,
        )),
        Type::Variant(v) if v.is_enum() => Ok((emit_enum(target, name, &doc, v), size_test)),
        Type::Variant(v) => emit_union(target, name, &doc, v, sa.size, sa.align),
        Type::Record(r) => match r.bitflags_repr() {
            Some(repr) => Ok((emit_flags(target, name, &doc, r, repr), size_test)),
            None => emit_record(target, name, &doc, r, sa.size, sa.align),
        },
        Type::Pointer(_) | Type::ConstPointer(_) => Err(Error::Unsupported {
            func: String::new(),
            what: format!("the named pointer type `{name}`"),
        }),
    }
}

fn emit_enum(target: &Target, name: &str, doc: &TokenStream, v: &Variant) -> TokenStream {
    let rt = &target.runtime;
    let id = type_ident(name);
    let repr = int_repr(v.tag_repr);
    let wasm = wasm_of(v.tag_repr);
    let cases: Vec<_> = v
        .cases
        .iter()
        .map(|c| case_ident(name, c.name.as_str()))
        .collect();
    let values: Vec<_> = (0..v.cases.len()).map(Literal::usize_unsuffixed).collect();
    let case_docs: Vec<_> = v
        .cases
        .iter()
        .map(|c| docs(&c.docs, &format!("The case `{}`.", c.name.as_str())))
        .collect();
    let symbols: Vec<_> = v
        .cases
        .iter()
        .map(|c| symbol(name, c.name.as_str()))
        .collect();
    let descriptions: Vec<_> = v
        .cases
        .iter()
        .map(|c| {
            let s = summary(&c.docs);
            if s.is_empty() {
                symbol(name, c.name.as_str())
            } else {
                s
            }
        })
        .collect();
    let n = Literal::usize_unsuffixed(v.cases.len());
    let first = &cases[0];
    let rest = &cases[1..];
    let rest_docs = &case_docs[1..];
    let rest_values = &values[1..];
    let first_doc = &case_docs[0];
    quote! {
        #doc
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        #[repr(#repr)]
        pub enum #id {
            #first_doc
            #[default]
            #first = 0,
            #(#rest_docs #rest = #rest_values,)*
        }
        impl #id {
            /// Every case, in the order of their values.
            pub const ALL: [#id; #n] = [#(#id::#cases,)*];
            /// The case with this value, if there is one.
            #[inline]
            pub const fn from_repr(value: #repr) -> Option<Self> {
                match value {
                    #(#values => Some(#id::#cases),)*
                    _ => None,
                }
            }
            /// The symbolic name, as a C header would spell it.
            pub const fn name(self) -> &'static str {
                match self { #(#id::#cases => #symbols,)* }
            }
            /// A short description, from the witx documentation.
            pub const fn description(self) -> &'static str {
                match self { #(#id::#cases => #descriptions,)* }
            }
        }
        impl ::core::fmt::Display for #id {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.name())
            }
        }
        impl #rt::abi::GuestValue for #id {
            const SIZE: usize = ::core::mem::size_of::<#repr>();
            const ALIGN: usize = ::core::mem::align_of::<#repr>();
            fn load(mem: &[u8], at: usize) -> Result<Self, Errno> {
                Self::from_repr(#repr::load(mem, at)?).ok_or(Errno::Inval)
            }
            fn store(self, mem: &mut [u8], at: usize) -> Result<(), Errno> {
                (self as #repr).store(mem, at)
            }
        }
        impl #rt::abi::FromAbi<#wasm> for #id {
            #[inline]
            fn from_abi(raw: #wasm) -> Result<Self, Errno> {
                let value = <#repr as #rt::abi::FromAbi<#wasm>>::from_abi(raw)?;
                Self::from_repr(value).ok_or(Errno::Inval)
            }
        }
        impl #rt::trace::TraceValue for #id {
            fn trace(&self, w: &mut #rt::trace::Writer<'_>) {
                w.symbol(self.name());
            }
        }
    }
}

fn wasm_of(r: IntRepr) -> TokenStream {
    match r {
        IntRepr::U64 => quote!(i64),
        _ => quote!(i32),
    }
}

fn emit_flags(
    target: &Target,
    name: &str,
    doc: &TokenStream,
    r: &RecordDatatype,
    repr: IntRepr,
) -> TokenStream {
    let rt = &target.runtime;
    let id = type_ident(name);
    let ty = int_repr(repr);
    let wasm = wasm_of(repr);
    let consts: Vec<_> = r
        .members
        .iter()
        .map(|m| flag_const(m.name.as_str()))
        .collect();
    let bits: Vec<_> = (0..r.members.len())
        .map(|i| Literal::u64_unsuffixed(1 << i))
        .collect();
    let member_docs: Vec<_> = r
        .members
        .iter()
        .map(|m| docs(&m.docs, &format!("The flag `{}`.", m.name.as_str())))
        .collect();
    quote! {
        #rt::bitflags::bitflags! {
            #doc
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
            #[repr(transparent)]
            pub struct #id: #ty {
                #(#member_docs const #consts = #bits;)*
            }
        }
        impl ::core::fmt::Display for #id {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                #rt::trace::fmt_flags(f, self.iter_names(), u64::from(self.bits()))
            }
        }
        impl #rt::abi::GuestValue for #id {
            const SIZE: usize = ::core::mem::size_of::<#ty>();
            const ALIGN: usize = ::core::mem::align_of::<#ty>();
            fn load(mem: &[u8], at: usize) -> Result<Self, Errno> {
                Self::from_bits(#ty::load(mem, at)?).ok_or(Errno::Inval)
            }
            fn store(self, mem: &mut [u8], at: usize) -> Result<(), Errno> {
                self.bits().store(mem, at)
            }
        }
        impl #rt::abi::FromAbi<#wasm> for #id {
            #[inline]
            fn from_abi(raw: #wasm) -> Result<Self, Errno> {
                let bits = <#ty as #rt::abi::FromAbi<#wasm>>::from_abi(raw)?;
                Self::from_bits(bits).ok_or(Errno::Inval)
            }
        }
        impl #rt::trace::TraceValue for #id {
            fn trace(&self, w: &mut #rt::trace::Writer<'_>) {
                w.flags(self);
            }
        }
    }
}

fn emit_record(
    target: &Target,
    name: &str,
    doc: &TokenStream,
    r: &RecordDatatype,
    size: usize,
    align: usize,
) -> Result<(TokenStream, TokenStream), Error> {
    let rt = &target.runtime;
    let id = type_ident(name);
    let mut fields = Vec::new();
    let mut field_docs = Vec::new();
    let mut tys = Vec::new();
    let mut offsets = Vec::new();
    let mut ats = Vec::new();
    let mut names = Vec::new();
    for ml in r.member_layout() {
        fields.push(snake(ml.member.name.as_str()));
        names.push(ml.member.name.as_str().to_string());
        field_docs.push(docs(
            &ml.member.docs,
            &format!("The field `{}`.", ml.member.name.as_str()),
        ));
        tys.push(rust_type(&ml.member.tref)?);
        offsets.push(Literal::usize_unsuffixed(ml.offset));
        ats.push(at_offset(ml.offset));
    }
    let (size_l, align_l) = (
        Literal::usize_unsuffixed(size),
        Literal::usize_unsuffixed(align),
    );
    let def = quote! {
        #doc
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
        #[repr(C)]
        pub struct #id {
            #(#field_docs pub #fields: #tys,)*
        }
        impl #rt::abi::GuestValue for #id {
            const SIZE: usize = #size_l;
            const ALIGN: usize = #align_l;
            fn load(mem: &[u8], at: usize) -> Result<Self, Errno> {
                Ok(#id { #(#fields: <#tys as #rt::abi::GuestValue>::load(mem, #ats)?,)* })
            }
            fn store(self, mem: &mut [u8], at: usize) -> Result<(), Errno> {
                #(self.#fields.store(mem, #ats)?;)*
                Ok(())
            }
        }
        impl #rt::trace::TraceValue for #id {
            fn trace(&self, w: &mut #rt::trace::Writer<'_>) {
                w.open_record();
                #(w.field(#names, &self.#fields);)*
                w.close_record();
            }
        }
    };
    let test = quote! {
        assert_eq!(<#id as GuestValue>::SIZE, #size_l, stringify!(#id));
        assert_eq!(<#id as GuestValue>::ALIGN, #align_l, stringify!(#id));
        assert_eq!(::core::mem::size_of::<#id>(), #size_l, stringify!(#id));
        assert_eq!(::core::mem::align_of::<#id>(), #align_l, stringify!(#id));
        #(assert_eq!(::core::mem::offset_of!(#id, #fields), #offsets, concat!(stringify!(#id), ".", #names));)*
    };
    Ok((def, test))
}

/// `at + offset`, or `at` for offset 0.
fn at_offset(offset: usize) -> TokenStream {
    if offset == 0 {
        quote!(at)
    } else {
        let o = Literal::usize_unsuffixed(offset);
        quote!(at + #o)
    }
}

fn emit_union(
    target: &Target,
    name: &str,
    doc: &TokenStream,
    v: &Variant,
    size: usize,
    align: usize,
) -> Result<(TokenStream, TokenStream), Error> {
    let rt = &target.runtime;
    let id = type_ident(name);
    let repr = int_repr(v.tag_repr);
    let payload_at = Literal::usize_unsuffixed(v.payload_offset());
    let (size_l, align_l) = (
        Literal::usize_unsuffixed(size),
        Literal::usize_unsuffixed(align),
    );
    let mut variants = Vec::new();
    let mut loads = Vec::new();
    let mut stores = Vec::new();
    let mut traces = Vec::new();
    for (i, c) in v.cases.iter().enumerate() {
        let case = case_ident(name, c.name.as_str());
        let cdoc = docs(&c.docs, &format!("The case `{}`.", c.name.as_str()));
        let tag = match v.tag_repr {
            IntRepr::U8 => Literal::u8_suffixed(i as u8),
            IntRepr::U16 => Literal::u16_suffixed(i as u16),
            IntRepr::U32 => Literal::u32_suffixed(i as u32),
            IntRepr::U64 => Literal::u64_suffixed(i as u64),
        };
        let sym = symbol(name, c.name.as_str());
        match &c.tref {
            Some(t) => {
                let ty = rust_type(t)?;
                variants.push(quote!(#cdoc #case(#ty)));
                loads.push(quote!(#tag => Ok(#id::#case(<#ty as #rt::abi::GuestValue>::load(mem, at + #payload_at)?))));
                stores.push(quote!(#id::#case(p) => { #tag.store(mem, at)?; p.store(mem, at + #payload_at) }));
                traces.push(quote!(#id::#case(p) => w.variant(#sym, p)));
            }
            None => {
                variants.push(quote!(#cdoc #case));
                loads.push(quote!(#tag => Ok(#id::#case)));
                stores.push(quote!(#id::#case => #tag.store(mem, at)));
                traces.push(quote!(#id::#case => w.symbol(#sym)));
            }
        }
    }
    let first = case_ident(name, v.cases[0].name.as_str());
    let default = if v.cases[0].tref.is_some() {
        quote!(#id::#first(Default::default()))
    } else {
        quote!(#id::#first)
    };
    let def = quote! {
        #doc
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(C, #repr)]
        pub enum #id {
            #(#variants,)*
        }
        impl Default for #id {
            fn default() -> Self {
                #default
            }
        }
        impl #rt::abi::GuestValue for #id {
            const SIZE: usize = #size_l;
            const ALIGN: usize = #align_l;
            fn load(mem: &[u8], at: usize) -> Result<Self, Errno> {
                match #repr::load(mem, at)? {
                    #(#loads,)*
                    _ => Err(Errno::Inval),
                }
            }
            fn store(self, mem: &mut [u8], at: usize) -> Result<(), Errno> {
                match self { #(#stores,)* }
            }
        }
        impl #rt::trace::TraceValue for #id {
            fn trace(&self, w: &mut #rt::trace::Writer<'_>) {
                match self { #(#traces,)* }
            }
        }
    };
    let test = quote! {
        assert_eq!(<#id as GuestValue>::SIZE, #size_l, stringify!(#id));
        assert_eq!(<#id as GuestValue>::ALIGN, #align_l, stringify!(#id));
        assert_eq!(::core::mem::size_of::<#id>(), #size_l, stringify!(#id));
        assert_eq!(::core::mem::align_of::<#id>(), #align_l, stringify!(#id));
    };
    Ok((def, test))
}
