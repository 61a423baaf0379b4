//! The compile cache: a module compiled once is mapped from disk on later runs instead of being
//! compiled again, so a 10 MB Go test binary starts in milliseconds the second time.
//!
//! One file per module, `<dir>/<key>.cwasm`, where the key is a SHA-256 of:
//!
//! - a format tag (`FORMAT`), changed whenever this file's layout changes,
//! - [`Engine::precompile_compatibility_hash`]: the target, the compiler's flags and the host's
//!   CPU features, the engine's tunables and wasm features, and the wasmtime version,
//! - the module's bytes as read from disk (binary or text: a hit skips the WAT parse too).
//!
//! The file is what [`Module::serialize`] returns followed by a trailer: the key, the length of
//! the serialized module, and a magic number. A file whose trailer does not match (truncated,
//! written by something else) is a miss: the module is compiled again and the file replaced.
//! Files are written under a temporary name and renamed into place, so a reader never sees a
//! partial file and a file that is mapped is never modified (a rename replaces the directory
//! entry, not the mapped inode).
//!
//! Every failure of the cache is silent and falls back to compiling: the cache only ever makes
//! things faster.
//!
//! The cache is bounded ([`Limits`]): after each store, entries unused for longer than the age
//! limit go, then the least recently used ones until the rest fit the size limit. An entry's
//! modification time is its last use: a hit sets it to now (the file's bytes never change,
//! and access times are not kept on many mounts).

use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::hash::{Hash, Hasher};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};
use wasmtime::{Engine, Module};

/// Changes whenever the file layout or the key's inputs change, so old files become misses.
const FORMAT: &[u8] = b"wasirun compile cache 1\0";

/// The last bytes of a cache file.
const MAGIC: [u8; 8] = *b"wasirun\x01";

/// Trailer: key (32 bytes), serialized length (u64 little-endian), magic (8 bytes).
const TRAILER: usize = 32 + 8 + 8;

/// The name of a cache entry: a SHA-256.
pub type Key = [u8; 32];

/// How much the cache keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes its entries take together.
    pub max_size: u64,
    /// The longest an entry is kept since it was last used.
    pub max_age: Duration,
}

impl Default for Limits {
    /// 1 GiB, 30 days.
    fn default() -> Self {
        Limits {
            max_size: 1 << 30,
            max_age: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

impl Limits {
    /// The defaults, overridden by `WASIRUN_CACHE_MAX_SIZE` (bytes, or with a `K`, `M` or `G`
    /// suffix) and `WASIRUN_CACHE_MAX_AGE` (days); a value that does not parse is ignored.
    pub fn from_env() -> Self {
        let mut limits = Limits::default();
        let var = |name: &str| std::env::var(name).ok();
        if let Some(size) = var("WASIRUN_CACHE_MAX_SIZE")
            .as_deref()
            .and_then(parse_size)
        {
            limits.max_size = size;
        }
        if let Some(days) = var("WASIRUN_CACHE_MAX_AGE").and_then(|d| d.trim().parse::<u64>().ok())
        {
            limits.max_age = Duration::from_secs(days.saturating_mul(24 * 3600));
        }
        limits
    }
}

/// `123`, `64K`, `512M`, `1G` (powers of 1024).
fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, shift) = match s.char_indices().last()? {
        (i, 'k' | 'K') => (&s[..i], 10),
        (i, 'm' | 'M') => (&s[..i], 20),
        (i, 'g' | 'G') => (&s[..i], 30),
        _ => (s, 0),
    };
    digits.parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// A cache directory.
#[derive(Clone, Debug)]
pub struct Cache {
    dir: PathBuf,
    limits: Limits,
}

/// Temporary files older than this are left over from a crash, and removed by eviction.
const STALE_TMP: Duration = Duration::from_secs(3600);

impl Cache {
    /// The cache in `dir`, created when the first module is stored, with the default limits.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Cache {
            dir: dir.into(),
            limits: Limits::default(),
        }
    }

    /// The same cache with other limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The cache's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `$XDG_CACHE_HOME/wasirun`, or `$HOME/.cache/wasirun` (the XDG base directory spec
    /// ignores a relative `XDG_CACHE_HOME`); `None` if neither variable helps.
    pub fn from_env() -> Option<Self> {
        let absolute = |var: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
        };
        let base =
            absolute("XDG_CACHE_HOME").or_else(|| absolute("HOME").map(|h| h.join(".cache")))?;
        Some(Cache::new(base.join("wasirun")).with_limits(Limits::from_env()))
    }

    /// The key of `wasm` compiled by `engine`.
    pub fn key(engine: &Engine, wasm: &[u8]) -> Key {
        let mut h = key_hasher(engine, wasm.len() as u64);
        h.update(wasm);
        h.finalize().into()
    }

    /// The key of the module in `file`, read from its start in chunks: what [`key`](Self::key)
    /// gives for the file's bytes, without holding them all (a 25 MB module is neither copied
    /// into a buffer of its size nor faulted into one). `None` if the file did not read to the
    /// length its metadata gave (it changed meanwhile) or is not a regular file: the caller
    /// reads it whole instead. Reads at offsets: the file's position does not move.
    pub fn key_of_file(engine: &Engine, file: &File) -> io::Result<Option<Key>> {
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Ok(None);
        }
        let len = meta.len();
        let mut h = key_hasher(engine, len);
        // A byte more than the file holds: a small module is read in one call and never gets a
        // buffer `malloc` maps and unmaps, and a file that grew still reads past `len`.
        let size = usize::try_from(len).map_or(KEY_CHUNK, |len| len.saturating_add(1));
        let mut chunk = vec![0u8; size.min(KEY_CHUNK)];
        let mut read = 0u64;
        loop {
            match file.read_at(&mut chunk, read) {
                Ok(0) => break,
                Ok(n) => {
                    h.update(&chunk[..n]);
                    read += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
            if read > len {
                return Ok(None);
            }
        }
        Ok((read == len).then(|| h.finalize().into()))
    }

    /// Where the entry for `key` lives.
    pub fn path(&self, key: &Key) -> PathBuf {
        let mut name = String::with_capacity(2 * key.len() + 6);
        for b in key {
            name.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
            name.push(char::from_digit(u32::from(b & 15), 16).unwrap_or('0'));
        }
        name.push_str(".cwasm");
        self.dir.join(name)
    }

    /// The module stored under `key`, if there is a complete, trusted entry that `engine`
    /// accepts.
    pub fn load(&self, engine: &Engine, key: &Key) -> Option<Module> {
        if !trusted(&self.dir) {
            return None;
        }
        let file = File::open(self.path(key)).ok()?;
        let meta = file.metadata().ok()?;
        if !meta.is_file() || meta.uid() != euid() {
            return None;
        }
        let len = meta.len();
        let body = len.checked_sub(TRAILER as u64)?;
        let mut trailer = [0u8; TRAILER];
        file.read_exact_at(&mut trailer, body).ok()?;
        let (stored_key, rest) = trailer.split_at(32);
        let (stored_len, magic) = rest.split_at(8);
        if magic != MAGIC || stored_key != key || stored_len != body.to_le_bytes() {
            return None;
        }
        // SAFETY: `deserialize_open_file` trusts the file to be the unmodified output of
        // `Module::serialize` by this wasmtime, and to stay unchanged while mapped. The file
        // is ours: it sits in a directory owned by this user and writable by no one else, is
        // owned by this user, and is only ever created whole under a temporary name and then
        // renamed into place (`store`), never written in place, so the mapped inode does not
        // change. Its trailer names the key we asked for, which covers the engine's
        // configuration and the wasmtime version, and the exact length `store` wrote, so a
        // truncated or foreign file is rejected above. Wasmtime checks the rest: the header,
        // the engine compatibility section, and the ELF structure (trailing bytes are outside
        // the ELF image it parses).
        let module =
            unsafe { Module::deserialize_open_file(engine, file.try_clone().ok()?) }.ok()?;
        // Used now: the last to be evicted. Only the inode's times change, never its bytes.
        let _ = file.set_modified(SystemTime::now());
        Some(module)
    }

    /// The module stored for the module in `file` ([`key_of_file`](Self::key_of_file)), if
    /// there is an entry `engine` accepts; the file is only hashed when the cache is usable.
    pub fn load_file(&self, engine: &Engine, file: &File) -> Option<Module> {
        if !trusted(&self.dir) {
            return None;
        }
        let key = Self::key_of_file(engine, file).ok()??;
        self.load(engine, &key)
    }

    /// Stores `module` under `key`: written to a temporary file, then renamed into place.
    pub fn store(&self, key: &Key, module: &Module) -> io::Result<()> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)?;
        if !trusted(&self.dir) {
            return Err(io::Error::other("the cache directory is not private"));
        }
        let bytes = module.serialize().map_err(io::Error::other)?;
        let path = self.path(key);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let tmp = self.dir.join(format!(
            ".{}.{}.{nanos}.tmp",
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("module"),
            std::process::id()
        ));
        let written = write_entry(&tmp, key, &bytes).and_then(|()| fs::rename(&tmp, &path));
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written?;
        self.evict().map(drop)
    }

    /// The entries, most recently used first, and the stale temporary files.
    fn entries(&self) -> io::Result<(Vec<Entry>, Vec<PathBuf>)> {
        let mut entries = Vec::new();
        let mut stale = Vec::new();
        let now = SystemTime::now();
        let listing = match fs::read_dir(&self.dir) {
            Ok(listing) => listing,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((entries, stale)),
            Err(e) => return Err(e),
        };
        for item in listing {
            let item = item?;
            let path = item.path();
            let Ok(meta) = item.metadata() else { continue };
            if !meta.is_file() || meta.uid() != euid() {
                continue;
            }
            let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            let name = item.file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".cwasm") {
                entries.push(Entry {
                    path,
                    size: meta.len(),
                    used,
                });
            } else if name.ends_with(".tmp")
                && now.duration_since(used).unwrap_or_default() > STALE_TMP
            {
                stale.push(path);
            }
        }
        entries.sort_by_key(|e| std::cmp::Reverse(e.used));
        Ok((entries, stale))
    }

    /// Removes the entries past the age limit, then the least recently used ones until the
    /// rest fit the size limit; the number removed.
    pub fn evict(&self) -> io::Result<usize> {
        let (entries, stale) = self.entries()?;
        let now = SystemTime::now();
        let mut kept = 0u64;
        let mut removed = 0;
        for entry in entries {
            let age = now.duration_since(entry.used).unwrap_or_default();
            if age <= self.limits.max_age && kept.saturating_add(entry.size) <= self.limits.max_size
            {
                kept += entry.size;
            } else if fs::remove_file(&entry.path).is_ok() {
                removed += 1;
            }
        }
        for tmp in stale {
            let _ = fs::remove_file(tmp);
        }
        Ok(removed)
    }

    /// Removes every entry (and temporary file); the number of entries removed.
    pub fn clean(&self) -> io::Result<usize> {
        let (entries, _) = self.entries()?;
        let mut removed = 0;
        for entry in entries {
            fs::remove_file(&entry.path)?;
            removed += 1;
        }
        if let Ok(listing) = fs::read_dir(&self.dir) {
            for item in listing.flatten() {
                if item.file_name().to_string_lossy().ends_with(".tmp") {
                    let _ = fs::remove_file(item.path());
                }
            }
        }
        Ok(removed)
    }

    /// What `wasirun cache info` prints: the directory, the entries and their size, the
    /// limits.
    pub fn info(&self) -> io::Result<String> {
        let (entries, _) = self.entries()?;
        let size: u64 = entries.iter().map(|e| e.size).sum();
        let days = self.limits.max_age.as_secs() / (24 * 3600);
        Ok(format!(
            "directory: {}\nentries: {}\nsize: {}\nlimit: {}\nmax age: {days} days since last use\n",
            self.dir.display(),
            entries.len(),
            human(size),
            human(self.limits.max_size),
        ))
    }
}

/// A cache entry.
struct Entry {
    path: PathBuf,
    size: u64,
    /// When it was last stored or loaded.
    used: SystemTime,
}

/// `1.5 MiB (1572864 bytes)`, `12 bytes`.
fn human(bytes: u64) -> String {
    let units = [(1u64 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    match units.into_iter().find(|(unit, _)| bytes >= *unit) {
        Some((unit, name)) => format!("{:.1} {name} ({bytes} bytes)", bytes as f64 / unit as f64),
        None => format!("{bytes} bytes"),
    }
}

/// Writes the serialized module and its trailer to a new file at `path`.
fn write_entry(path: &Path, key: &Key, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    let mut trailer = [0u8; TRAILER];
    trailer[..32].copy_from_slice(key);
    trailer[32..40].copy_from_slice(&(bytes.len() as u64).to_le_bytes());
    trailer[40..].copy_from_slice(&MAGIC);
    file.write_all(bytes)?;
    file.write_all(&trailer)
}

/// Whether `dir` is a directory owned by this user that no one else may write to: only then
/// can its files be trusted to be ours.
fn trusted(dir: &Path) -> bool {
    fs::metadata(dir).is_ok_and(|m| m.is_dir() && m.uid() == euid() && m.mode() & 0o022 == 0)
}

fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// The bytes [`Cache::key_of_file`] hashes at a time: small enough to stay in the processor's
/// cache, large enough that the reads cost little.
const KEY_CHUNK: usize = 256 << 10;

/// A key's hasher, fed everything but the module's bytes, which are `len` long.
fn key_hasher(engine: &Engine, len: u64) -> Sha256 {
    let mut h = Sha256Hasher(Sha256::new());
    h.0.update(FORMAT);
    engine.precompile_compatibility_hash().hash(&mut h);
    // The length separates the engine's variable-length part from the module's bytes.
    h.0.update(len.to_le_bytes());
    h.0
}

/// Feeds a `Hash` into SHA-256; `finish` is never called by `Hash` implementations.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(digest[..8].try_into().unwrap_or_default())
    }
}

/// The module for `wasm`: from `cache` if it has it, else compiled, and then stored in the
/// cache in the background; join the handle before exiting so the entry is complete.
pub fn load_or_compile(
    engine: &Engine,
    wasm: &[u8],
    cache: Option<&Cache>,
) -> wasmtime::Result<(Module, Option<JoinHandle<()>>)> {
    let Some(cache) = cache else {
        return Ok((Module::new(engine, wasm)?, None));
    };
    let key = Cache::key(engine, wasm);
    if let Some(module) = cache.load(engine, &key) {
        return Ok((module, None));
    }
    let module = Module::new(engine, wasm)?;
    let (cache, stored) = (cache.clone(), module.clone());
    let handle = std::thread::Builder::new()
        .name("wasirun-cache".into())
        .spawn(move || {
            let _ = cache.store(&key, &stored);
        })
        .ok();
    Ok((module, handle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wasirun-cache-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    const WAT: &str = r#"(module (func (export "_start")))"#;

    #[test]
    fn store_then_load() {
        let engine = Engine::default();
        let cache = Cache::new(scratch("roundtrip"));
        let key = Cache::key(&engine, WAT.as_bytes());
        assert!(cache.load(&engine, &key).is_none());
        let module = Module::new(&engine, WAT).unwrap();
        cache.store(&key, &module).unwrap();
        let loaded = cache.load(&engine, &key).expect("a hit");
        assert!(loaded.get_export("_start").is_some());
        let _ = fs::remove_dir_all(&cache.dir);
    }

    #[test]
    fn truncated_or_foreign_entries_are_misses() {
        let engine = Engine::default();
        let cache = Cache::new(scratch("truncated"));
        let key = Cache::key(&engine, WAT.as_bytes());
        let module = Module::new(&engine, WAT).unwrap();
        cache.store(&key, &module).unwrap();
        let path = cache.path(&key);
        let len = fs::metadata(&path).unwrap().len();
        for cut in [1, TRAILER as u64, len / 2, len] {
            cache.store(&key, &module).unwrap();
            let f = OpenOptions::new().write(true).open(&path).unwrap();
            f.set_len(len - cut).unwrap();
            assert!(cache.load(&engine, &key).is_none(), "cut {cut}");
        }
        // The right length and magic under another key.
        cache.store(&key, &module).unwrap();
        let mut other = key;
        other[0] ^= 1;
        fs::rename(&path, cache.path(&other)).unwrap();
        assert!(cache.load(&engine, &other).is_none());
        let _ = fs::remove_dir_all(&cache.dir);
    }

    #[test]
    fn a_file_hashes_to_the_key_of_its_bytes() {
        let engine = Engine::default();
        let dir = scratch("key-of-file");
        fs::create_dir_all(&dir).unwrap();
        for len in [0, 1, KEY_CHUNK - 1, KEY_CHUNK, 3 * KEY_CHUNK + 17] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let path = dir.join(format!("{len}.wasm"));
            fs::write(&path, &bytes).unwrap();
            let file = File::open(&path).unwrap();
            let key = Cache::key_of_file(&engine, &file).unwrap();
            assert_eq!(key, Some(Cache::key(&engine, &bytes)), "{len} bytes");
        }
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_stored_module_loads_from_its_file() {
        let engine = Engine::default();
        let cache = Cache::new(scratch("load-file"));
        let path = std::env::temp_dir().join(format!("wasirun-cache-{}.wat", std::process::id()));
        fs::write(&path, WAT).unwrap();
        let file = File::open(&path).unwrap();
        assert!(
            cache.load_file(&engine, &file).is_none(),
            "no directory yet"
        );
        let key = Cache::key(&engine, WAT.as_bytes());
        cache
            .store(&key, &Module::new(&engine, WAT).unwrap())
            .unwrap();
        let loaded = cache.load_file(&engine, &file).expect("a hit");
        assert!(loaded.get_export("_start").is_some());
        let _ = fs::remove_file(&path);
        let _ = fs::remove_dir_all(&cache.dir);
    }

    #[test]
    fn key_depends_on_module_and_engine() {
        let engine = Engine::default();
        let a = Cache::key(&engine, b"(module)");
        assert_eq!(a, Cache::key(&engine, b"(module)"));
        assert_ne!(a, Cache::key(&engine, b"(module )"));
        let mut config = wasmtime::Config::new();
        config.cranelift_opt_level(wasmtime::OptLevel::None);
        let other = Engine::new(&config).unwrap();
        assert_ne!(a, Cache::key(&other, b"(module)"));
    }

    #[test]
    fn sizes_parse_with_suffixes() {
        assert_eq!(parse_size("123"), Some(123));
        assert_eq!(parse_size("64K"), Some(64 << 10));
        assert_eq!(parse_size("512m"), Some(512 << 20));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("G"), None);
        assert_eq!(parse_size("1T"), None);
        assert_eq!(parse_size(""), None);
    }

    fn module(engine: &Engine, n: u32) -> (Key, Module) {
        let wat = format!(r#"(module (func (export "_start")) (func (export "f{n}")))"#);
        let module = Module::new(engine, &wat).unwrap();
        (Cache::key(engine, wat.as_bytes()), module)
    }

    #[test]
    fn eviction_keeps_the_most_recently_used_within_the_limits() {
        let engine = Engine::default();
        let dir = scratch("evict");
        let (a, ma) = module(&engine, 1);
        Cache::new(&dir).store(&a, &ma).unwrap();
        let size = fs::metadata(Cache::new(&dir).path(&a)).unwrap().len();
        let limits = Limits {
            max_size: 2 * size + size / 2,
            ..Limits::default()
        };
        let cache = Cache::new(&dir).with_limits(limits);
        let (b, mb) = module(&engine, 2);
        let (c, mc) = module(&engine, 3);
        std::thread::sleep(Duration::from_millis(20));
        cache.store(&b, &mb).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        // A hit makes `a` the most recently used: `b` goes first.
        assert!(cache.load(&engine, &a).is_some());
        std::thread::sleep(Duration::from_millis(20));
        cache.store(&c, &mc).unwrap();
        let present = |k: &Key| cache.path(k).exists();
        assert_eq!((present(&a), present(&b), present(&c)), (true, false, true));
        // Past the age limit: gone at the next store, however small the cache.
        let old = SystemTime::now() - Duration::from_secs(31 * 24 * 3600);
        File::options()
            .append(true)
            .open(cache.path(&a))
            .unwrap()
            .set_modified(old)
            .unwrap();
        cache.store(&b, &mb).unwrap();
        assert_eq!((present(&a), present(&b), present(&c)), (false, true, true));
        assert!(cache.info().unwrap().contains("entries: 2\n"));
        assert_eq!(cache.clean().unwrap(), 2);
        assert!(cache.info().unwrap().contains("entries: 0\n"));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn entry_names_are_hex() {
        let cache = Cache::new("/c");
        let mut key = [0u8; 32];
        key[0] = 0xab;
        key[31] = 0x0f;
        let name = cache.path(&key);
        let name = name.file_name().unwrap().to_str().unwrap();
        assert_eq!(name.len(), 64 + 6);
        assert!(name.starts_with("ab00") && name.ends_with("0f.cwasm"));
    }
}
