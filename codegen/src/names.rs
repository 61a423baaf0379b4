//! How witx identifiers become Rust identifiers and symbolic names.

use proc_macro2::{Ident, Span};

/// Rust keywords that a witx name may collide with; such names get a `_` suffix.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use",
    "where", "while", "yield", "box", "gen", "try",
];

fn ident(s: &str) -> Ident {
    Ident::new(s, Span::call_site())
}

/// `event_fd_readwrite` -> `EventFdReadwrite`. A name that starts with a digit gets `prefix` in
/// front (`2big` in `errno` -> `E2big`), since Rust identifiers cannot start with one.
pub fn camel(s: &str, prefix: &str) -> String {
    let mut out = String::new();
    for part in s.split('_').filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, prefix);
    }
    out
}

/// The Rust type for a witx type name.
pub fn type_ident(s: &str) -> Ident {
    ident(&camel(s, "T"))
}

/// The Rust variant for a case of the enum or union named `owner`.
pub fn case_ident(owner: &str, case: &str) -> Ident {
    let prefix = camel(owner, "T")
        .chars()
        .next()
        .map(String::from)
        .unwrap_or_default();
    ident(&camel(case, &prefix))
}

/// A field, parameter or function name, escaped when it is a keyword.
pub fn snake(s: &str) -> Ident {
    if KEYWORDS.contains(&s) {
        ident(&format!("{s}_"))
    } else {
        ident(s)
    }
}

/// The bitflags constant for a flag.
pub fn flag_const(s: &str) -> Ident {
    ident(&s.to_uppercase())
}

/// The symbolic name printed for an enum case: `ENOENT` for errno, `REALTIME` otherwise.
pub fn symbol(owner: &str, case: &str) -> String {
    if owner == "errno" {
        format!("E{}", case.to_uppercase())
    } else {
        case.to_uppercase()
    }
}

/// The first sentence of a doc comment, without its final period: errno descriptions.
pub fn summary(docs: &str) -> String {
    let line = docs.lines().next().unwrap_or("").trim();
    line.strip_suffix('.').unwrap_or(line).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(camel("event_fd_readwrite", "T"), "EventFdReadwrite");
        assert_eq!(case_ident("errno", "2big").to_string(), "E2big");
        assert_eq!(snake("type").to_string(), "type_");
        assert_eq!(snake("fd").to_string(), "fd");
        assert_eq!(symbol("errno", "noent"), "ENOENT");
        assert_eq!(symbol("clockid", "realtime"), "REALTIME");
        assert_eq!(
            summary("No such file or directory.\nMore."),
            "No such file or directory"
        );
    }
}
