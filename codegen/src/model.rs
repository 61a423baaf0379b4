//! The ABI-free view of a witx function: how its core-wasm parameters group into the values a
//! `System` method takes, and what it returns. The trait, the glue and the tracer are all emitted
//! from this one model, so they cannot disagree.
//!
//! Every shape is recognised by the types of the parameters (and of the records they point
//! to), never by a function, parameter, member or type name: a package whose types have the
//! shape gets the same lowering whatever it calls them. Where witx cannot say a relation with
//! types alone, the rule is positional and documented on the [`Param`] it makes (a list
//! record's link is its last member; a string table's sizes come from the nearest function
//! that returns a pair of sizes).

use crate::Error;
use witx::{BuiltinType, InterfaceFunc, Module, Type, TypeRef};

/// One parameter of a trait method, made from one or more core-wasm parameters.
#[derive(Debug, Clone)]
pub enum Param {
    /// A scalar passed by value: integer, enum, flags or handle (one wasm parameter).
    Value {
        /// The parameter's witx name.
        name: String,
        /// Its type.
        tref: TypeRef,
    },
    /// A `string`: pointer and length, UTF-8, as `&str`.
    Str {
        /// The parameter's witx name.
        name: String,
    },
    /// Bytes: `(list u8)`, or `(@witx pointer u8)` followed by its `$size`, as `&[u8]`/`&mut [u8]`.
    Bytes {
        /// The parameter's witx name.
        name: String,
        /// The host writes the bytes (`pointer`), not only reads them (`const_pointer`).
        mutable: bool,
    },
    /// A list of buffer descriptors: records of exactly a pointer to bytes and its size
    /// (preview 1's `(list $iovec)` and `(list $ciovec)`), as `&mut [IoSliceMut]` when the
    /// record's pointer is a `pointer`, `&[IoSlice]` when it is a `const_pointer`.
    Iovecs {
        /// The parameter's witx name.
        name: String,
        /// The buffers are written (`IoSliceMut`), not only read (`IoSlice`).
        mutable: bool,
    },
    /// Pointers to records that share one count parameter (`poll_oneoff`'s `in`, `out`,
    /// `nsubscriptions`): each becomes a slice of that length, copied in or out.
    Records {
        /// The record pointers, in parameter order.
        slices: Vec<RecordSlice>,
        /// The count parameter's witx name.
        len_name: String,
    },
    /// `(@witx pointer (@witx pointer u8))` followed by `(@witx pointer u8)`: a table of
    /// NUL-terminated strings (`args_get`). The method fills one `&mut [u8]` buffer whose size
    /// the table's sizes function reports: the nearest function of the module, after this one
    /// (else before), that takes nothing and returns a pair of sizes, the count and the bytes
    /// (`args_sizes_get`). The glue writes the pointer table.
    StringTable {
        /// The pointer table parameter's witx name.
        table_name: String,
        /// The string buffer parameter's witx name.
        buf_name: String,
        /// The witx name of the function that reports the table's sizes.
        sizes_func: String,
    },
    /// A pointer to a buffer descriptor: a record of exactly a `(@witx pointer u8)` and its
    /// `$size` (the WasmEdge `$address`), as `&[u8]` (`const_pointer`) or `&mut [u8]`.
    Buffer {
        /// The parameter's witx name.
        name: String,
        /// The host writes the buffer (`pointer`), not only reads it (`const_pointer`).
        mutable: bool,
    },
    /// `(@witx pointer u8)` followed by `(@witx pointer $size)`: a buffer whose length is in and
    /// out (`getsockopt(2)`'s). The method takes `&mut [u8]` and returns the bytes it wrote,
    /// which the glue stores back through the length pointer.
    BytesInOut {
        /// The buffer parameter's witx name.
        name: String,
    },
    /// One `(@witx const_pointer $record)` on its own: the record, copied in by value.
    Record {
        /// The parameter's witx name.
        name: String,
        /// The record's type.
        tref: TypeRef,
    },
    /// `(@witx pointer (@witx pointer $record))` followed by a `$size`: a list the guest
    /// allocated, of at most that many records (`sock_getaddrinfo`'s results), linked through
    /// the record's last member, a pointer or a `u32` (witx cannot name a record inside itself,
    /// so the link cannot be typed as a pointer to its own record). The method fills a slice of the ABI-free values that
    /// `abi::Chained` gives the record; the first `$size` result says how many it filled.
    Chain {
        /// The list parameter's witx name.
        name: String,
        /// The record's type.
        elem: TypeRef,
        /// The witx name of the parameter that bounds the list's length.
        max_name: String,
        /// The byte offset of the link member in the record.
        next_offset: usize,
    },
}

/// One slice of a [`Param::Records`] group.
#[derive(Debug, Clone)]
pub struct RecordSlice {
    /// The pointer parameter's witx name.
    pub name: String,
    /// The record's type.
    pub elem: TypeRef,
    /// The host writes the records (out), not only reads them (in).
    pub mutable: bool,
}

/// What a function gives back.
#[derive(Debug, Clone)]
pub enum Ret {
    /// `(@witx noreturn)`: the glue ends the instance after the call.
    NoReturn,
    /// `(expected T (error $errno))`: the ok values, zero, one or a tuple's members, each written
    /// through its own out-pointer.
    Expected {
        /// The ok values' types, in order.
        ok: Vec<TypeRef>,
    },
}

/// A witx function, ready to emit.
#[derive(Debug, Clone)]
pub struct Func {
    /// The function's witx name.
    pub name: String,
    /// Its witx doc comment.
    pub docs: String,
    /// Its parameters, grouped by shape.
    pub params: Vec<Param>,
    /// What it gives back.
    pub ret: Ret,
    /// The exact core-wasm signature's parameter types.
    pub wasm_params: Vec<witx::WasmType>,
    /// The exact core-wasm signature's result types.
    pub wasm_results: Vec<witx::WasmType>,
    /// The first ok value of the type the function's lengths have (`$size`): the count that
    /// bounds what its output buffers hold.
    pub count: Option<usize>,
}

impl Func {
    /// The first ok value that is a count, of the type of the function's lengths, which
    /// bounds what output buffers hold.
    pub fn count_result(&self) -> Option<usize> {
        self.count
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

/// Whether two types are one: the same named type (witx names are unique in a document), or
/// equal anonymous ones.
fn same_type(a: &TypeRef, b: &TypeRef) -> bool {
    match (a, b) {
        (TypeRef::Name(a), TypeRef::Name(b)) => std::rc::Rc::ptr_eq(a, b),
        _ => a == b,
    }
}

/// A buffer descriptor, a record of exactly a pointer to bytes and its size: whether the
/// pointer lets the bytes be written (`pointer`, not `const_pointer`), and the size's type.
fn buffer_descriptor(t: &TypeRef) -> Option<(bool, TypeRef)> {
    let Type::Record(r) = &**t.type_() else {
        return None;
    };
    let [buf, len] = r.members.as_slice() else {
        return None;
    };
    let mutable = match &**buf.tref.type_() {
        Type::Pointer(b) if is_u8(b) => true,
        Type::ConstPointer(b) if is_u8(b) => false,
        _ => return None,
    };
    is_size(&len.tref).then(|| (mutable, len.tref.clone()))
}

fn is_buffer_descriptor(t: &TypeRef) -> bool {
    buffer_descriptor(t).is_some()
}

/// The offset of a list record's link, its last member, when that can hold a guest address.
fn link_offset(t: &TypeRef) -> Option<usize> {
    let Type::Record(r) = &**t.type_() else {
        return None;
    };
    let last = r.member_layout().pop()?;
    matches!(
        &**last.member.tref.type_(),
        Type::Pointer(_) | Type::ConstPointer(_) | Type::Builtin(BuiltinType::U32 { .. })
    )
    .then_some(last.offset)
}

/// Whether `f` answers a string table's sizes: no parameters, a pair of sizes.
fn is_sizes_func(f: &InterfaceFunc) -> bool {
    let [r] = f.results.as_slice() else {
        return false;
    };
    let Type::Variant(v) = &**r.tref.type_() else {
        return false;
    };
    let Some((Some(ok), _)) = v.as_expected() else {
        return false;
    };
    let pair = matches!(&**ok.type_(), Type::Record(t) if t.is_tuple()
        && matches!(t.members.as_slice(), [a, b] if is_size(&a.tref) && is_size(&b.tref)));
    f.params.is_empty() && !f.noreturn && pair
}

/// The sizes function of the string table `fname` fills: the nearest sizes-shaped function
/// after it in the module, else the nearest before it.
fn sizes_func(module: &Module, fname: &str) -> Option<String> {
    let funcs: Vec<_> = module.funcs().collect();
    let at = funcs.iter().position(|f| f.name.as_str() == fname)?;
    let after = funcs[at + 1..].iter();
    let before = funcs[..at].iter().rev();
    after
        .chain(before)
        .find(|f| is_sizes_func(f))
        .map(|f| f.name.as_str().to_string())
}

/// Groups `func`'s witx parameters into trait parameters.
pub fn lower(module: &Module, func: &InterfaceFunc) -> Result<Func, Error> {
    let fname = func.name.as_str();
    let unsupported = |what: &str| Error::Unsupported {
        func: fname.to_string(),
        what: what.to_string(),
    };
    let mut params = Vec::new();
    // The types of the parameters' lengths, which the count result has.
    let mut lens = Vec::new();
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
                } else if let Some((mutable, len)) = buffer_descriptor(elem) {
                    params.push(Param::Iovecs { name, mutable });
                    lens.push(len);
                } else {
                    return Err(unsupported(
                        "a list of anything but char, u8 and buffer descriptors (records of a \
                         pointer to bytes and its size)",
                    ));
                }
                i += 1;
            }
            Type::Pointer(_) | Type::ConstPointer(_) => {
                let (param, used, len) = pointer_param(module, fname, ps, i)?;
                params.push(param);
                lens.extend(len);
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

    let count = match &ret {
        Ret::Expected { ok } => ok.iter().position(|t| lens.iter().any(|l| same_type(l, t))),
        Ret::NoReturn => None,
    };
    let (wasm_params, wasm_results) = func.wasm_signature();
    Ok(Func {
        name: fname.to_string(),
        docs: func.docs.clone(),
        params,
        ret,
        wasm_params,
        wasm_results,
        count,
    })
}

/// Lowers the pointer parameter `ps[i]` (with what follows it, when it takes a count or a
/// length): the trait parameter, how many witx parameters it took, and the type of its length.
fn pointer_param(
    module: &Module,
    fname: &str,
    ps: &[witx::InterfaceFuncParam],
    i: usize,
) -> Result<(Param, usize, Option<TypeRef>), Error> {
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
            let (Some(max), Some(offset)) = (max, link_offset(pp)) else {
                return Err(unsupported(
                    "a pointer to pointers to records whose last member is no link (a pointer \
                     or u32), or without a count after it",
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
                Some(max.tref.clone()),
            ));
        }
        let buf = next.filter(|n| matches!(&**n.tref.type_(), Type::Pointer(b) if is_u8(b)));
        let (Some(buf), Some(sizes_func)) = (buf, sizes_func(module, fname)) else {
            return Err(unsupported(
                "a pointer to pointers that is not a string table (a pointer to bytes after \
                 it, and a function returning a pair of sizes)",
            ));
        };
        return Ok((
            Param::StringTable {
                table_name: name,
                buf_name: buf.name.as_str().to_string(),
                sizes_func,
            },
            2,
            None,
        ));
    }
    if let Some((writable, len)) = buffer_descriptor(inner) {
        let mutable = mutable && writable;
        return Ok((Param::Buffer { name, mutable }, 1, Some(len)));
    }
    let len_by_pointer = next.and_then(|n| match &**n.tref.type_() {
        Type::Pointer(l) if is_size(l) => Some(l.clone()),
        _ => None,
    });
    if is_u8(inner) && mutable && len_by_pointer.is_some() {
        return Ok((Param::BytesInOut { name }, 2, len_by_pointer));
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
            None,
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
    Ok((param, j + 1 - i, Some(len.tref.clone())))
}
