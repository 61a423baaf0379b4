//! The names guests import each function as, when a package's witx has several ABI versions of
//! a function (the WasmEdge sockets).
//!
//! Witx cannot give two functions one name, and guests import every version under the plain
//! name (WasmEdge's guests mix them, module by module and function by function). So a package
//! whose conventions list versions (`versions = ["v1", "v2"]` in its `conventions.toml`, see
//! [`crate::conventions`]) spells them in its witx function names, and this is the one place
//! that maps them back:
//!
//! - `X_<first version>` is imported as `X`;
//! - `X_<a later version>` as itself (WasmEdge's name for `X_v2`) and as `X`;
//! - a plain `X` as `X` and as `X_<v>` for every later version `v` it has no form `X_<v>` of
//!   (one form serves every version).
//!
//! A package without versions imports every function under its witx name. Where two functions
//! answer one name, the number of core-wasm parameters the guest's import declares picks one;
//! two forms with the same name and arity are a witx error.

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

/// Every import name of `funcs`, in function order, for a package whose function names carry
/// the version suffixes `versions` (oldest first; none for most packages).
pub fn link_names(funcs: &[Func], versions: &[String]) -> Result<Vec<Link>, Error> {
    let version_of = |name: &str| {
        versions.iter().enumerate().find_map(|(i, v)| {
            let base = name.strip_suffix(v.as_str())?.strip_suffix('_')?;
            Some((i, base.to_string()))
        })
    };
    let mut links: Vec<Link> = Vec::new();
    for (i, f) in funcs.iter().enumerate() {
        let names = match version_of(&f.name) {
            Some((0, base)) => vec![base],
            Some((_, base)) => vec![f.name.clone(), base],
            None => {
                let mut names = vec![f.name.clone()];
                for v in versions.iter().skip(1) {
                    let versioned = format!("{}_{v}", f.name);
                    if !funcs.iter().any(|g| g.name == versioned) {
                        names.push(versioned);
                    }
                }
                names
            }
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
            count: None,
        }
    }

    fn v1_v2() -> Vec<String> {
        vec!["v1".to_string(), "v2".to_string()]
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
        let links = link_names(&funcs, &v1_v2()).unwrap();
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
        let links = link_names(&[func("fd_write", 4)], &[]).unwrap();
        assert_eq!(names(&links), [("fd_write", 4, 0, false)]);
        // A version suffix is a convention of the package that declares it, nobody else's.
        let links = link_names(&[func("accept_v1", 2), func("accept_v2", 3)], &[]).unwrap();
        assert_eq!(
            names(&links),
            [("accept_v1", 2, 0, false), ("accept_v2", 3, 1, false)]
        );
    }

    #[test]
    fn two_forms_with_one_arity_are_an_error() {
        let funcs = [func("recv_v1", 3), func("recv_v2", 3)];
        assert!(link_names(&funcs, &v1_v2()).is_err());
    }
}
