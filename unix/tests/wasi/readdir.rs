//! `fd_readdir`: entries, types, inodes, cookies, cut buffers, the stream cap.

use crate::guest::{Guest, ROOT, TempDir, setup, setup_with, wasi::*};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use wasirun_unix::{Builder, DirMode};
use wasirun_wasi::Errno;

/// One parsed dirent: (d_next, d_ino, d_type, name).
type Dirent = (u64, u64, u8, Vec<u8>);

/// Parses a buffer; the last entry may be cut, and then is left out.
fn parse(buf: &[u8]) -> (Vec<Dirent>, bool) {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 24 <= buf.len() {
        let next = u64::from_le_bytes(buf[at..at + 8].try_into().unwrap());
        let ino = u64::from_le_bytes(buf[at + 8..at + 16].try_into().unwrap());
        let namlen = u32::from_le_bytes(buf[at + 16..at + 20].try_into().unwrap()) as usize;
        let kind = buf[at + 20];
        if at + 24 + namlen > buf.len() {
            return (out, true);
        }
        out.push((next, ino, kind, buf[at + 24..at + 24 + namlen].to_vec()));
        at += 24 + namlen;
    }
    (out, at < buf.len())
}

/// Reads the whole directory with buffers of `len` bytes, the way wasi-libc does.
fn read_all(g: &mut Guest, fd: u32, len: u32) -> Vec<Dirent> {
    let mut all = Vec::new();
    let mut cookie = 0;
    loop {
        let buf = g.fd_readdir(fd, len, cookie).unwrap();
        let full = buf.len() == len as usize;
        let (entries, _) = parse(&buf);
        if let Some(last) = entries.last() {
            cookie = last.0;
        }
        let got = entries.len();
        all.extend(entries);
        if !full {
            return all;
        }
        assert!(got > 0, "a buffer of {len} bytes fits no entry");
    }
}

fn fixture(dir: &TempDir) {
    std::fs::write(dir.join("file"), b"").unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::os::unix::fs::symlink("file", dir.join("link")).unwrap();
    for i in 0..40 {
        std::fs::write(
            dir.path().join(format!("many-{i:02}-with-a-longer-name")),
            b"",
        )
        .unwrap();
    }
}

#[test]
fn lists_everything_with_types_and_inodes() {
    let dir = TempDir::new();
    fixture(&dir);
    let mut g = setup(&dir);
    let entries = read_all(&mut g, ROOT, 64 * 1024);
    let by_name: BTreeMap<Vec<u8>, (u64, u8)> = entries
        .iter()
        .map(|(_, ino, t, n)| (n.clone(), (*ino, *t)))
        .collect();
    assert_eq!(by_name.len(), entries.len(), "no duplicates");
    assert_eq!(entries.len(), 2 + 3 + 40);
    assert_eq!(by_name[&b"."[..]].1, FILETYPE_DIRECTORY);
    assert_eq!(by_name[&b".."[..]].1, FILETYPE_DIRECTORY);
    assert_eq!(by_name[&b"sub"[..]].1, FILETYPE_DIRECTORY);
    assert_eq!(by_name[&b"file"[..]].1, FILETYPE_REGULAR_FILE);
    assert_eq!(by_name[&b"link"[..]].1, FILETYPE_SYMBOLIC_LINK);
    assert_eq!(
        by_name[&b"file"[..]].0,
        std::fs::metadata(dir.join("file")).unwrap().ino()
    );
    assert_eq!(
        by_name[&b"."[..]].0,
        std::fs::metadata(dir.path()).unwrap().ino()
    );
    for name in std::fs::read_dir(dir.path()).unwrap() {
        assert!(by_name.contains_key(name.unwrap().file_name().as_encoded_bytes()));
    }
    // Cookies are indexes: d_next counts up from 1.
    for (k, e) in entries.iter().enumerate() {
        assert_eq!(e.0, k as u64 + 1);
    }
}

/// `..` at the preopen root is the root itself (the host directory above stays unseen); below
/// the root it is the real parent.
#[test]
fn dot_dot_at_the_root_carries_the_roots_own_inode() {
    let dir = TempDir::new();
    fixture(&dir);
    let mut g = setup(&dir);
    let ino = |entries: &[Dirent], name: &[u8]| {
        entries.iter().find(|e| e.3 == name).map(|e| e.1).unwrap()
    };
    let root = std::fs::metadata(dir.path()).unwrap().ino();
    let entries = read_all(&mut g, ROOT, 64 * 1024);
    assert_eq!(ino(&entries, b".."), root);
    assert_ne!(
        root,
        std::fs::metadata(dir.path().parent().unwrap())
            .unwrap()
            .ino()
    );
    let sub = g
        .path_open(ROOT, 0, "sub", O_DIRECTORY, FD_READDIR, 0, 0)
        .unwrap();
    let entries = read_all(&mut g, sub, 64 * 1024);
    assert_eq!(ino(&entries, b".."), root);
    assert_eq!(
        ino(&entries, b"."),
        std::fs::metadata(dir.join("sub")).unwrap().ino()
    );
    // The root opened again, through "." or "sub/..", with O_DIRECTORY or without: the same
    // directory, the same answer.
    for path in [".", "sub/.."] {
        for oflags in [O_DIRECTORY, 0] {
            let again = g
                .path_open(ROOT, 0, path, oflags, FD_READDIR, 0, 0)
                .unwrap();
            let entries = read_all(&mut g, again, 64 * 1024);
            assert_eq!(ino(&entries, b".."), root, "{path} {oflags}");
        }
    }
}

#[test]
fn small_buffers_cut_and_continue() {
    let dir = TempDir::new();
    fixture(&dir);
    let mut g = setup(&dir);
    let whole = read_all(&mut g, ROOT, 64 * 1024);
    // From just above one entry up: every buffer size lists the same entries in the same order.
    for len in [60, 61, 77, 100, 128, 333, 1000] {
        assert_eq!(read_all(&mut g, ROOT, len), whole, "buffer of {len}");
    }
    // A buffer that holds only part of the first header is filled and cut.
    let buf = g.fd_readdir(ROOT, 10, 0).unwrap();
    assert_eq!(buf.len(), 10);
    assert_eq!(parse(&buf), (vec![], true));
}

#[test]
fn any_cookie_any_time() {
    let dir = TempDir::new();
    fixture(&dir);
    let mut g = setup(&dir);
    let whole = read_all(&mut g, ROOT, 64 * 1024);
    for cookie in [0u64, 5, 2, 44, 1, 30, 0] {
        let (entries, _) = parse(&g.fd_readdir(ROOT, 64 * 1024, cookie).unwrap());
        assert_eq!(entries, whole[cookie as usize..], "cookie {cookie}");
    }
    assert_eq!(g.fd_readdir(ROOT, 1000, 45).unwrap(), b"", "at the end");
    assert_eq!(
        g.fd_readdir(ROOT, 1000, 1 << 40).unwrap(),
        b"",
        "past the end"
    );
    assert_eq!(g.fd_readdir(ROOT, 0, 0).unwrap(), b"");
}

#[test]
fn new_entries_appear_after_a_rewind() {
    let dir = TempDir::new();
    let mut g = setup(&dir);
    assert_eq!(read_all(&mut g, ROOT, 1000).len(), 2);
    std::fs::write(dir.join("late"), b"").unwrap();
    let names: Vec<_> = read_all(&mut g, ROOT, 1000)
        .into_iter()
        .map(|e| e.3)
        .collect();
    assert!(names.contains(&b"late".to_vec()));
    // Also after a listing cut in its first entry, which the stream holds on to.
    assert_eq!(g.fd_readdir(ROOT, 10, 0).unwrap().len(), 10);
    std::fs::write(dir.join("later"), b"").unwrap();
    let names: Vec<_> = read_all(&mut g, ROOT, 1000)
        .into_iter()
        .map(|e| e.3)
        .collect();
    assert!(names.contains(&b"later".to_vec()));
    assert_eq!(names.len(), 4);
}

/// 3,000 entries of 40-byte names: about 190 KiB of `getdents64` records, several times what
/// the stream reads at once.
fn big_fixture(dir: &TempDir) {
    for i in 0..3000 {
        std::fs::write(dir.path().join(format!("{i:04}-{}", "n".repeat(35))), b"").unwrap();
    }
}

#[test]
fn a_directory_larger_than_the_kernel_buffer_lists_whole_at_any_buffer_size() {
    let dir = TempDir::new();
    big_fixture(&dir);
    let mut g = setup(&dir);
    // The preopen (read through a descriptor of the stream's own) and the same directory
    // opened by the guest (read through the guest's descriptor).
    let opened = g
        .path_open(ROOT, 0, ".", O_DIRECTORY, FD_READDIR, 0, 0)
        .unwrap();
    let whole = read_all(&mut g, ROOT, 128 * 1024);
    assert_eq!(whole.len(), 3002);
    let names: std::collections::BTreeSet<_> = whole.iter().map(|e| e.3.clone()).collect();
    assert_eq!(names.len(), whole.len(), "no duplicates");
    for (k, e) in whole.iter().enumerate() {
        assert_eq!(e.0, k as u64 + 1);
    }
    for fd in [ROOT, opened] {
        // Many calls with small buffers, each continuing where the last one was cut.
        for len in [70, 333, 4096] {
            assert_eq!(read_all(&mut g, fd, len), whole, "fd {fd}, buffer of {len}");
        }
        // Cookies deep in the listing, forward and back.
        for cookie in [2500u64, 40, 2999, 1200] {
            let (entries, _) = parse(&g.fd_readdir(fd, 4096, cookie).unwrap());
            assert_eq!(
                entries[..],
                whole[cookie as usize..][..entries.len()],
                "{cookie}"
            );
        }
        assert_eq!(g.fd_readdir(fd, 1000, 3002).unwrap(), b"", "at the end");
    }
}

/// Two systems built from one builder share the preopen's open file description (the builder
/// hands each a duplicate): one listing it must not move the other's place.
#[test]
fn listings_of_a_shared_preopen_do_not_disturb_each_other() {
    let dir = TempDir::new();
    big_fixture(&dir);
    let mut b = Builder::new();
    b.preopen_dir(dir.path(), "/sandbox", DirMode::ReadOnly)
        .unwrap();
    let mut first = Guest::new(b.build().unwrap());
    let mut second = Guest::new(b.build().unwrap());
    let (start, _) = parse(&first.fd_readdir(ROOT, 1000, 0).unwrap());
    let whole = read_all(&mut second, ROOT, 4096);
    assert_eq!(whole.len(), 3002);
    let mut cookie = start.last().unwrap().0;
    let mut listed = start;
    loop {
        let (entries, _) = parse(&first.fd_readdir(ROOT, 4096, cookie).unwrap());
        let Some(last) = entries.last() else { break };
        cookie = last.0;
        listed.extend(entries);
    }
    assert_eq!(listed, whole);
}

#[test]
fn not_a_directory() {
    let dir = TempDir::new();
    std::fs::write(dir.join("file"), b"").unwrap();
    let mut g = setup(&dir);
    let f = g.path_open(ROOT, 0, "file", 0, FD_READ, 0, 0).unwrap();
    assert_eq!(g.fd_readdir(f, 100, 0), Err(Errno::Notdir));
}

#[test]
fn the_stream_cap_is_emfile_and_closing_frees() {
    let dir = TempDir::new();
    for d in ["a", "b", "c"] {
        std::fs::create_dir(dir.join(d)).unwrap();
    }
    let mut g = setup_with(&dir, |b| {
        b.max_open_dirs(2);
    });
    let a = g.path_open(ROOT, 0, "a", O_DIRECTORY, 0, 0, 0).unwrap();
    let b = g.path_open(ROOT, 0, "b", O_DIRECTORY, 0, 0, 0).unwrap();
    let c = g.path_open(ROOT, 0, "c", O_DIRECTORY, 0, 0, 0).unwrap();
    g.fd_readdir(a, 100, 0).unwrap();
    g.fd_readdir(b, 100, 0).unwrap();
    g.fd_readdir(a, 100, 0).unwrap();
    assert_eq!(g.fd_readdir(c, 100, 0), Err(Errno::Mfile));
    g.fd_close(a).unwrap();
    g.fd_readdir(c, 100, 0).unwrap();
    // Renumbering over a directory with a stream frees its stream too.
    g.fd_renumber(ROOT, b).unwrap();
    let again = g.path_open(b, 0, "a", O_DIRECTORY, 0, 0, 0).unwrap();
    g.fd_readdir(again, 100, 0).unwrap();
}
