//! Scratch directories for the harnesses, and snapshots that show whether anything in a tree
//! changed.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory of our own, removed on drop. On `/dev/shm` where there is one: `fd_sync`
/// and friends are then free, and nothing the fuzzer writes reaches a disk.
pub(crate) struct Scratch {
    pub(crate) path: PathBuf,
}

impl Scratch {
    pub(crate) fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let shm = Path::new("/dev/shm");
        let parent = match shm.is_dir() {
            true => shm.to_path_buf(),
            false => std::env::temp_dir(),
        };
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = parent.join(format!("wasirun-fuzz-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("scratch directory");
        Scratch { path }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Removes everything in `dir`, not `dir` itself.
pub(crate) fn clear(dir: &Path) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        let gone = match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&path),
            _ => std::fs::remove_file(&path),
        };
        gone.expect("clear the scratch tree");
    }
}

/// What a tree holds, with what any change to it shows (contents, sizes, modes, links,
/// modification and change times; not access times, which reading changes).
pub(crate) fn snapshot(root: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

fn walk(root: &Path, path: &Path, out: &mut Vec<(PathBuf, String)>) {
    let m = std::fs::symlink_metadata(path).expect("stat in a snapshot");
    let what = if m.file_type().is_symlink() {
        format!("link {:?}", std::fs::read_link(path).expect("readlink"))
    } else if m.is_file() {
        format!("file {:?}", std::fs::read(path).expect("read"))
    } else {
        String::from("dir")
    };
    let rel = path
        .strip_prefix(root)
        .expect("below the root")
        .to_path_buf();
    out.push((
        rel,
        format!(
            "{what} ino={} mode={:o} nlink={} size={} mtime={}.{} ctime={}.{}",
            m.ino(),
            m.mode(),
            m.nlink(),
            m.size(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec()
        ),
    ));
    if m.is_dir() {
        for entry in std::fs::read_dir(path).expect("read_dir") {
            walk(root, &entry.expect("entry").path(), out);
        }
    }
}
