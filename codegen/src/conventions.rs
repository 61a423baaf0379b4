//! A package's conventions: how its guests call its functions beyond what witx can say, read
//! from `conventions.toml` beside the package's `.witx` files. A package without the file has
//! none, and the generator applies no rule of one package to another.
//!
//! The file is a small subset of TOML: `key = value` lines, `#` comments, integers and arrays
//! of strings. Its keys:
//!
//! - `versions = ["v1", "v2"]`: the package spells the ABI versions of a function in its witx
//!   names (witx cannot give two functions one name), and guests import every version under
//!   the plain name; [`crate::links`] maps them back.
//! - `literal_inout_len = 4`: an in/out length "pointer" with this value is the length itself,
//!   not its address (nothing is stored back); any other value is the address of the length.

use crate::Error;
use std::path::Path;

/// The name of the conventions file in a package folder.
pub const FILE: &str = "conventions.toml";

/// What a package's `conventions.toml` says; the default is a package without one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conventions {
    /// The version suffixes of function names, oldest first (`v1` for `sock_accept_v1`).
    pub versions: Vec<String>,
    /// The in/out length "pointer" value that stands for the length itself.
    pub literal_inout_len: Option<u32>,
}

impl Conventions {
    /// Reads `dir`'s conventions file, or gives the defaults when there is none.
    pub fn load(dir: &Path, package: &str) -> Result<Conventions, Error> {
        let path = dir.join(FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Conventions::parse(&text).map_err(|message| Error::Conventions {
                package: package.to_string(),
                message,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Conventions::default()),
            Err(e) => Err(Error::Io(path, e)),
        }
    }

    /// Parses the text of a conventions file; the error names the line.
    pub fn parse(text: &str) -> Result<Conventions, String> {
        let mut out = Conventions::default();
        for (n, line) in text.lines().enumerate() {
            let at = |what: String| format!("line {}: {what}", n + 1);
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(at("expected `key = value`".to_string()));
            };
            let value = value.trim();
            match key.trim() {
                "versions" => out.versions = strings(value).map_err(at)?,
                "literal_inout_len" => {
                    let len = value
                        .parse()
                        .map_err(|_| at(format!("`{value}` is not a u32")))?;
                    out.literal_inout_len = Some(len);
                }
                other => return Err(at(format!("unknown key `{other}`"))),
            }
        }
        Ok(out)
    }
}

/// `["a", "b"]` as its strings.
fn strings(value: &str) -> Result<Vec<String>, String> {
    let inner = value
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .ok_or_else(|| format!("`{value}` is not an array of strings"))?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .filter(|s| !s.contains('"'))
                .map(String::from)
                .ok_or_else(|| format!("`{s}` is not a quoted string"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_key() {
        let c = Conventions::parse(
            "# a comment\n\nversions = [\"v1\", \"v2\"]  # oldest first\nliteral_inout_len = 4\n",
        )
        .unwrap();
        assert_eq!(c.versions, ["v1", "v2"]);
        assert_eq!(c.literal_inout_len, Some(4));
        assert_eq!(Conventions::parse("").unwrap(), Conventions::default());
    }

    #[test]
    fn refuses_what_it_does_not_know() {
        for bad in [
            "literal_inout_len 4",
            "literal_inout_len = four",
            "versions = v1",
            "versions = [v1]",
            "next = \"link\"",
        ] {
            let err = Conventions::parse(bad).unwrap_err();
            assert!(err.starts_with("line 1: "), "{bad}: {err}");
        }
    }
}
