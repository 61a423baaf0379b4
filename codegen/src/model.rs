//! The ABI-free view of a witx function: how its core-wasm parameters group into the values a
//! `System` method takes, and what it returns. The trait, the glue and the tracer are all emitted
//! from this one model, so they cannot disagree.

use crate::Error;
use witx::{BuiltinType, InterfaceFunc, Module, Type, TypeRef};

/// One parameter of a trait method, made from one or more core-wasm parameters.
#[derive(Debug, Clone)]
pub enum Param {
    /// A scalar passed by value: integer, enum, flags or handle (one wasm parameter).
    Value { name: String, tref: TypeRef },
    /// A `string`: pointer and length, UTF-8, as `&str`.
    Str { name: String },
    /// Bytes: `(list u8)`, or `(@witx pointer u8)` followed by its `$size`, as `&[u8]`/`&mut [u8]`.
    Bytes { name: String, mutable: bool },
    /// A `(list $iovec)` or `(list $ciovec)`, as `&mut [IoSliceMut]` / `&[IoSlice]`.
    Iovecs { name: String, mutable: bool },
    /// Pointers to records that share one count parameter (`poll_oneoff`'s `in`, `out`,
    /// `nsubscriptions`): each becomes a slice of that length, copied in or out.
    Records {
        slices: Vec<RecordSlice>,
        len_name: String,
    },
    /// `(@witx pointer (@witx pointer u8))` followed by `(@witx pointer u8)`: a table of
    /// NUL-terminated strings (`args_get`). The method fills one `&mut [u8]` buffer whose size the
    /// module's `*_sizes_get` function reports; the glue writes the pointer table.
    StringTable {
        table_name: String,
        buf_name: String,
        sizes_func: String,
    },
    /// A pointer to a buffer descriptor: a record of exactly a `(@witx pointer u8)` and its
    /// `$size` (the WasmEdge `$address`), as `&[u8]` (`const_pointer`) or `&mut [u8]`.
    Buffer { name: String, mutable: bool },
    /// `(@witx pointer u8)` followed by `(@witx pointer $size)`: a buffer whose length is in and
    /// out (`getsockopt(2)`'s). The method takes `&mut [u8]` and returns the bytes it wrote,
    /// which the glue stores back through the length pointer.
    BytesInOut { name: String },
    /// One `(@witx const_pointer $record)` on its own: the record, copied in by value.
    Record { name: String, tref: TypeRef },
    /// `(@witx pointer (@witx pointer $record))` followed by a `$size`: a list the guest
    /// allocated, linked through the record's `next` member, of at most that many records
    /// (`sock_getaddrinfo`'s results). The method fills a slice of the ABI-free values that
    /// `abi::Chained` gives the record; the first `$size` result says how many it filled.
    Chain {
        name: String,
        elem: TypeRef,
        max_name: String,
        next_offset: usize,
    },
}

/// One slice of a [`Param::Records`] group.
#[derive(Debug, Clone)]
pub struct RecordSlice {
    pub name: String,
    pub elem: TypeRef,
    pub mutable: bool,
}

/// What a function gives back.
#[derive(Debug, Clone)]
pub enum Ret {
    /// `(@witx noreturn)`: the glue ends the instance after the call.
    NoReturn,
    /// `(expected T (error $errno))`: the ok values, zero, one or a tuple's members, each written
    /// through its own out-pointer.
    Expected { ok: Vec<TypeRef> },
}

/// A witx function, ready to emit.
#[derive(Debug, Clone)]
pub struct Func {
    pub name: String,
    pub docs: String,
    pub params: Vec<Param>,
    pub ret: Ret,
    /// The exact core-wasm signature: parameter types, then result types.
    pub wasm_params: Vec<witx::WasmType>,
    pub wasm_results: Vec<witx::WasmType>,
}

impl Func {
    /// The first ok value that is a `$size` count, which bounds what output buffers hold.
    pub fn count_result(&self) -> Option<usize> {
        match &self.ret {
            Ret::Expected { ok } => ok
                .iter()
                .position(|t| matches!(t, TypeRef::Name(n) if n.name.as_str() == "size")),
            Ret::NoReturn => None,
        }
    }

    /// The parameter whose length is in and out, if any.
    pub fn inout(&self) -> Option<&str> {
        self.params.iter().find_map(|p| match p {
            Param::BytesInOut { name } => Some(name.as_str()),
            _ => None,
        })
    }

    /// Whether the glue needs the guest's linear memory for this function.
    pub fn uses_memory(&self) -> bool {
        let ret_ptrs = matches!(&self.ret, Ret::Expected { ok } if !ok.is_empty());
        ret_ptrs
            || self
                .params
                .iter()
                .any(|p| !matches!(p, Param::Value { .. }))
    }
}

fn is_u8(t: &TypeRef) -> bool {
    matches!(&**t.type_(), Type::Builtin(BuiltinType::U8 { .. }))
}

fn is_size(t: &TypeRef) -> bool {
    matches!(&**t.type_(), Type::Builtin(BuiltinType::U32 { .. }))
}

/// A record of exactly a pointer to bytes and its size.
fn is_buffer_descriptor(t: &TypeRef) -> bool {
    let Type::Record(r) = &**t.type_() else {
        return false;
    };
    matches!(r.members.as_slice(), [buf, len]
        if matches!(&**buf.tref.type_(), Type::Pointer(b) if is_u8(b)) && is_size(&len.tref))
}

/// The offset of a record's `next` member, when it has one that can hold a guest address.
fn next_offset(t: &TypeRef) -> Option<usize> {
    let Type::Record(r) = &**t.type_() else {
        return None;
    };
    let layout = r.member_layout();
    r.members.iter().zip(layout).find_map(|(m, l)| {
        let address = matches!(
            &**m.tref.type_(),
            Type::Pointer(_) | Type::ConstPointer(_) | Type::Builtin(BuiltinType::U32 { .. })
        );
        (m.name.as_str() == "next" && address).then_some(l.offset)
    })
}

fn is_iovec(t: &TypeRef) -> Option<bool> {
    match t {
        TypeRef::Name(n) if n.name.as_str() == "iovec" => Some(true),
        TypeRef::Name(n) if n.name.as_str() == "ciovec" => Some(false),
        _ => None,
    }
}

/// Groups `func`'s witx parameters into trait parameters.
pub fn lower(module: &Module, func: &InterfaceFunc) -> Result<Func, Error> {
    let fname = func.name.as_str();
    let unsupported = |what: &str| Error::Unsupported {
        func: fname.to_string(),
        what: what.to_string(),
    };
    let mut params = Vec::new();
    let ps = &func.params;
    let mut i = 0;
    while i < ps.len() {
        let p = &ps[i];
        let name = p.name.as_str().to_string();
        match &**p.tref.type_() {
            Type::List(elem) => {
                if matches!(&**elem.type_(), Type::Builtin(BuiltinType::Char)) {
                    params.push(Param::Str { name });
                } else if is_u8(elem) {
                    params.push(Param::Bytes {
                        name,
                        mutable: false,
                    });
                } else if let Some(mutable) = is_iovec(elem) {
                    params.push(Param::Iovecs { name, mutable });
                } else {
                    return Err(unsupported(
                        "a list of anything but char, u8, iovec, ciovec",
                    ));
                }
                i += 1;
            }
            Type::Pointer(_) | Type::ConstPointer(_) => {
                let (param, used) = pointer_param(module, fname, ps, i)?;
                params.push(param);
                i += used;
            }
            Type::Record(r) if r.bitflags_repr().is_none() => {
                return Err(unsupported("a record passed by value"));
            }
            Type::Variant(v) if !v.is_enum() => {
                return Err(unsupported("a union passed by value"));
            }
            Type::Builtin(BuiltinType::F32 | BuiltinType::F64 | BuiltinType::Char) => {
                return Err(unsupported("a float or char parameter"));
            }
            _ => {
                params.push(Param::Value {
                    name,
                    tref: p.tref.clone(),
                });
                i += 1;
            }
        }
    }

    let ret = if func.noreturn {
        Ret::NoReturn
    } else {
        match func.results.as_slice() {
            [r] => {
                let Type::Variant(v) = &**r.tref.type_() else {
                    return Err(unsupported("a result that is not `expected`"));
                };
                let Some((ok, err)) = v.as_expected() else {
                    return Err(unsupported("a result that is not `expected`"));
                };
                let err_is_errno =
                    matches!(err, Some(TypeRef::Name(n)) if n.name.as_str() == "errno");
                if !err_is_errno {
                    return Err(unsupported("an error type other than $errno"));
                }
                let ok = match ok {
                    None => vec![],
                    Some(t) => match &**t.type_() {
                        Type::Record(r) if r.is_tuple() && !t.named() => {
                            r.members.iter().map(|m| m.tref.clone()).collect()
                        }
                        _ => vec![t.clone()],
                    },
                };
                Ret::Expected { ok }
            }
            _ => return Err(unsupported("other than one result")),
        }
    };

    let (wasm_params, wasm_results) = func.wasm_signature();
    Ok(Func {
        name: fname.to_string(),
        docs: func.docs.clone(),
        params,
        ret,
        wasm_params,
        wasm_results,
    })
}

/// Lowers the pointer parameter `ps[i]` (with what follows it, when it takes a count or a
/// length): the trait parameter, and how many witx parameters it took.
fn pointer_param(
    module: &Module,
    fname: &str,
    ps: &[witx::InterfaceFuncParam],
    i: usize,
) -> Result<(Param, usize), Error> {
    let unsupported = |what: &str| Error::Unsupported {
        func: fname.to_string(),
        what: what.to_string(),
    };
    let p = &ps[i];
    let name = p.name.as_str().to_string();
    let (Type::Pointer(inner) | Type::ConstPointer(inner)) = &**p.tref.type_() else {
        return Err(unsupported("a pointer parameter that is not one"));
    };
    let mutable = matches!(&**p.tref.type_(), Type::Pointer(_));
    let inner_ty = &**inner.type_();
    let next = ps.get(i + 1);
    if let Type::Pointer(pp) = inner_ty {
        if !is_u8(pp) {
            let max = next.filter(|n| is_size(&n.tref));
            let (Some(max), Some(offset)) = (max, next_offset(pp)) else {
                return Err(unsupported(
                    "a pointer to pointers to records without a `next` member and \
                     a count after it",
                ));
            };
            return Ok((
                Param::Chain {
                    name,
                    elem: pp.clone(),
                    max_name: max.name.as_str().to_string(),
                    next_offset: offset,
                },
                2,
            ));
        }
        let buf_ok =
            next.is_some_and(|n| matches!(&**n.tref.type_(), Type::Pointer(b) if is_u8(b)));
        let sizes_func = fname.strip_suffix("_get").map(|s| format!("{s}_sizes_get"));
        let sizes_ok = sizes_func
            .as_ref()
            .is_some_and(|s| module.func(&witx::Id::new(s)).is_some());
        if !buf_ok || !sizes_ok {
            return Err(unsupported(
                "a pointer to pointers that is not a string table (X_get + X_sizes_get)",
            ));
        }
        return Ok((
            Param::StringTable {
                table_name: name,
                buf_name: next
                    .map(|n| n.name.as_str().to_string())
                    .unwrap_or_default(),
                sizes_func: sizes_func.unwrap_or_default(),
            },
            2,
        ));
    }
    if is_buffer_descriptor(inner) {
        return Ok((Param::Buffer { name, mutable }, 1));
    }
    let len_by_pointer =
        next.is_some_and(|n| matches!(&**n.tref.type_(), Type::Pointer(l) if is_size(l)));
    if is_u8(inner) && mutable && len_by_pointer {
        return Ok((Param::BytesInOut { name }, 2));
    }
    let followed_by_size = next.is_some_and(|n| is_size(&n.tref));
    let record = matches!(inner_ty, Type::Record(_)) && inner.named();
    let next_is_record_pointer = next.is_some_and(|n| {
        matches!(&**n.tref.type_(), Type::Pointer(e) | Type::ConstPointer(e)
                if matches!(&**e.type_(), Type::Record(_)) && !is_buffer_descriptor(e))
    });
    if record && !mutable && !followed_by_size && !next_is_record_pointer {
        return Ok((
            Param::Record {
                name,
                tref: inner.clone(),
            },
            1,
        ));
    }
    // A run of pointers followed by one size.
    let mut j = i;
    while j < ps.len()
        && matches!(
            &**ps[j].tref.type_(),
            Type::Pointer(_) | Type::ConstPointer(_)
        )
    {
        j += 1;
    }
    let Some(len) = ps.get(j).filter(|l| is_size(&l.tref)) else {
        return Err(unsupported("a pointer not followed by its size"));
    };
    let run = &ps[i..j];
    let param = if run.len() == 1 && is_u8(inner) {
        Param::Bytes { name, mutable }
    } else {
        let mut slices = Vec::new();
        for rp in run {
            let (elem, mutable) = match &**rp.tref.type_() {
                Type::Pointer(e) => (e.clone(), true),
                Type::ConstPointer(e) => (e.clone(), false),
                _ => unreachable!("the run holds pointers only"),
            };
            if !matches!(&**elem.type_(), Type::Record(_)) || !elem.named() {
                return Err(unsupported("a pointer run to non-record elements"));
            }
            slices.push(RecordSlice {
                name: rp.name.as_str().to_string(),
                elem,
                mutable,
            });
        }
        Param::Records {
            slices,
            len_name: len.name.as_str().to_string(),
        }
    };
    Ok((param, j + 1 - i))
}
