//! Cargo's unit graph (`cargo test --unit-graph`), read enough to tell which units one
//! selection builds that another does not: what decides whether `cargo test -p PACKAGE` rebuilds
//! after `cargo test --workspace`. `cargo tree` shows features, but not that the workspace
//! builds proc-macro2 once for proc macros and normal code (with the normal profile) where one
//! package builds it for proc macros only (with the build-override profile, no debuginfo):
//! every proc macro, and so wasmtime, then differs.
//!
//! No JSON crate: adding one to xtask would itself change which units the workspace shares.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::process::Command;

/// A JSON value, numbers kept as written.
#[derive(Debug, Hash)]
enum Json {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.s.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: u8) {
        self.skip_ws();
        assert_eq!(
            self.s.get(self.at),
            Some(&c),
            "unit graph at byte {}",
            self.at
        );
        self.at += 1;
    }

    fn value(&mut self) -> Json {
        self.skip_ws();
        match self.s[self.at] {
            b'{' => {
                self.at += 1;
                let mut fields = Vec::new();
                self.skip_ws();
                if self.s[self.at] == b'}' {
                    self.at += 1;
                    return Json::Obj(fields);
                }
                loop {
                    self.skip_ws();
                    let Json::Str(key) = self.value() else {
                        panic!("unit graph: a key that is not a string at byte {}", self.at)
                    };
                    self.eat(b':');
                    fields.push((key, self.value()));
                    self.skip_ws();
                    self.at += 1;
                    if self.s[self.at - 1] == b'}' {
                        return Json::Obj(fields);
                    }
                }
            }
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.s[self.at] == b']' {
                    self.at += 1;
                    return Json::Arr(items);
                }
                loop {
                    items.push(self.value());
                    self.skip_ws();
                    self.at += 1;
                    if self.s[self.at - 1] == b']' {
                        return Json::Arr(items);
                    }
                }
            }
            b'"' => {
                // Escapes are kept as written: the values are only compared.
                let start = self.at + 1;
                self.at = start;
                while self.s[self.at] != b'"' {
                    self.at += if self.s[self.at] == b'\\' { 2 } else { 1 };
                }
                self.at += 1;
                Json::Str(String::from_utf8_lossy(&self.s[start..self.at - 1]).into_owned())
            }
            b't' | b'f' | b'n' => {
                let word = [&b"true"[..], b"false", b"null"]
                    .into_iter()
                    .find(|w| self.s[self.at..].starts_with(w))
                    .expect("unit graph: true, false or null");
                self.at += word.len();
                match word {
                    b"true" => Json::Bool(true),
                    b"false" => Json::Bool(false),
                    _ => Json::Null,
                }
            }
            _ => {
                let start = self.at;
                while self
                    .s
                    .get(self.at)
                    .is_some_and(|c| matches!(c, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                {
                    self.at += 1;
                }
                assert!(self.at > start, "unit graph: no value at byte {start}");
                Json::Num(String::from_utf8_lossy(&self.s[start..self.at]).into_owned())
            }
        }
    }
}

/// The units `cargo test --no-run ARGS` would build, each as a hash of everything cargo
/// decides a rebuild by (package, target, mode, profile, features, platform) and of its
/// dependencies' hashes, with the package it builds.
pub fn units(args: &[&str]) -> HashMap<u64, String> {
    let out = Command::new(env!("CARGO"))
        .current_dir(crate::root())
        .args([
            "test",
            "--offline",
            "--no-run",
            "-Z",
            "unstable-options",
            "--unit-graph",
        ])
        .args(args)
        // The unit graph is an unstable cargo output; this lets a stable cargo print it.
        .env("RUSTC_BOOTSTRAP", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let graph = Parser {
        s: &out.stdout,
        at: 0,
    }
    .value();
    let Some(Json::Arr(units)) = graph.get("units") else {
        panic!("no units in cargo's unit graph");
    };
    let mut memo = HashMap::new();
    (0..units.len())
        .map(|i| (key(units, i, &mut memo), package(&units[i])))
        .collect()
}

/// The unit's package as `name@version`, its whole id for the workspace's own (`path+...`).
fn package(unit: &Json) -> String {
    match unit.get("pkg_id") {
        Some(Json::Str(id)) if !id.starts_with("path+") => {
            id.rsplit('#').next().unwrap_or(id).to_string()
        }
        Some(Json::Str(id)) => id.clone(),
        _ => String::new(),
    }
}

fn key(units: &[Json], i: usize, memo: &mut HashMap<usize, u64>) -> u64 {
    if let Some(&k) = memo.get(&i) {
        return k;
    }
    let Json::Obj(fields) = &units[i] else {
        panic!("a unit that is not an object");
    };
    let mut h = DefaultHasher::new();
    for (name, value) in fields {
        if name != "dependencies" {
            (name, value).hash(&mut h);
        }
    }
    let deps: BTreeSet<u64> = match units[i].get("dependencies") {
        Some(Json::Arr(deps)) => deps
            .iter()
            .map(|d| match d.get("index") {
                Some(Json::Num(n)) => key(units, n.parse().unwrap(), memo),
                _ => panic!("a dependency without an index"),
            })
            .collect(),
        _ => BTreeSet::new(),
    };
    deps.hash(&mut h);
    let k = h.finish();
    memo.insert(i, k);
    k
}

/// The dependencies (not the workspace's own packages, which are quick to build) of which
/// `selection` builds a unit that `base` does not.
pub fn extra_dependencies(selection: &[&str], base: &[&str]) -> BTreeSet<String> {
    let base: HashSet<u64> = units(base).into_keys().collect();
    units(selection)
        .into_iter()
        .filter(|(k, package)| !base.contains(k) && !package.starts_with("path+"))
        .map(|(_, package)| package)
        .collect()
}
