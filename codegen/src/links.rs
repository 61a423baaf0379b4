//! The names guests import each function as, when a package's witx has several ABI versions of
//! a function (the WasmEdge sockets).
//!
//! Witx cannot give two functions one name, and guests import both versions under the plain
//! name (WasmEdge's guests mix them, module by module and function by function). So versions
//! are spelled in the witx function names, and this is the one place that maps them back:
//!
//! - `X_v1` is imported as `X`;
//! - `X_v2` as `X_v2` (WasmEdge's name for it) and as `X`;
//! - a plain `X`, in a package that has versioned functions, as `X` and as `X_v2` (one form
//!   serves both versions); in any other package, as `X` only.
//!
//! Where two functions answer one name, the number of core-wasm parameters the guest's import
//! declares picks one; two forms with the same name and arity are a witx error.

use crate::Error;
use crate::model::Func;

/// One name a function is imported as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The import name.
    pub name: String,
    /// The number of core-wasm parameters.
    pub params: usize,
    /// The index of the function in the package.
    pub func: usize,
    /// Whether another function answers the same name (with another arity).
    pub ambiguous: bool,
}

/// Every import name of `funcs`, in function order.
pub fn link_names(funcs: &[Func]) -> Result<Vec<Link>, Error> {
    let versioned = funcs
        .iter()
        .any(|f| f.name.ends_with("_v1") || f.name.ends_with("_v2"));
    let mut links: Vec<Link> = Vec::new();
    for (i, f) in funcs.iter().enumerate() {
        let names = if let Some(base) = f.name.strip_suffix("_v1") {
            vec![base.to_string()]
        } else if let Some(base) = f.name.strip_suffix("_v2") {
            vec![f.name.clone(), base.to_string()]
        } else if versioned && !funcs.iter().any(|g| g.name == format!("{}_v2", f.name)) {
            vec![f.name.clone(), format!("{}_v2", f.name)]
        } else {
            vec![f.name.clone()]
        };
        let params = f.wasm_params.len();
        for name in names {
            if let Some(clash) = links.iter().find(|l| l.name == name && l.params == params) {
                return Err(Error::Unsupported {
                    func: f.name.clone(),
                    what: format!(
                        "two forms of `{name}` with {params} parameters ({} and {})",
                        funcs[clash.func].name, f.name
                    ),
                });
            }
            links.push(Link {
                name,
                params,
                func: i,
                ambiguous: false,
            });
        }
    }
    let names: Vec<String> = links.iter().map(|l| l.name.clone()).collect();
    for l in &mut links {
        l.ambiguous = names.iter().filter(|n| **n == l.name).count() > 1;
    }
    Ok(links)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Ret;

    fn func(name: &str, params: usize) -> Func {
        Func {
            name: name.into(),
            docs: String::new(),
            params: Vec::new(),
            ret: Ret::Expected { ok: Vec::new() },
            wasm_params: vec![witx::WasmType::I32; params],
            wasm_results: vec![witx::WasmType::I32],
        }
    }

    fn names(links: &[Link]) -> Vec<(&str, usize, usize, bool)> {
        links
            .iter()
            .map(|l| (l.name.as_str(), l.params, l.func, l.ambiguous))
            .collect()
    }

    #[test]
    fn versions_share_the_plain_name() {
        let funcs = [func("open", 3), func("accept_v1", 2), func("accept_v2", 3)];
        let links = link_names(&funcs).unwrap();
        assert_eq!(
            names(&links),
            [
                ("open", 3, 0, false),
                ("open_v2", 3, 0, false),
                ("accept", 2, 1, true),
                ("accept_v2", 3, 2, false),
                ("accept", 3, 2, true),
            ]
        );
    }

    #[test]
    fn unversioned_packages_keep_their_names() {
        let links = link_names(&[func("fd_write", 4)]).unwrap();
        assert_eq!(names(&links), [("fd_write", 4, 0, false)]);
    }

    #[test]
    fn two_forms_with_one_arity_are_an_error() {
        let funcs = [func("recv_v1", 3), func("recv_v2", 3)];
        assert!(link_names(&funcs).is_err());
    }
}
