//! Escapes from the guest side: every way out of a preopen the guest can try, each refused.
//!
//! `sandbox all PREOPEN SECRET OUTSIDE`: the host lays out
//!
//! ```text
//! T/outside/secret.txt      "TOP SECRET"   (SECRET is its absolute host path)
//! T/outside/                                (OUTSIDE is its absolute host path)
//! T/root/                   PREOPEN (--dir T/root::PREOPEN)
//! T/root/file.txt           "inside"
//! T/root/sub/
//! T/root/up      -> ..                      symlinks the host made, pointing out
//! T/root/abs     -> OUTSIDE
//! T/root/sneaky  -> sub/../../outside/secret.txt
//! T/root/chain1  -> chain2,  T/root/chain2 -> sub/../..
//! T/root/proc    -> /proc/self/root
//! T/other/                  a second preopen, named `other`
//! ```
//!
//! Escapes fail with `EPERM`, the errno wasmtime gives (cap-std's "a path led outside of the
//! filesystem"); a few fail earlier for their own reason, as noted. Symlinks to relative paths
//! outside can be made (their text is only text) but not followed; symlinks to absolute paths
//! cannot be made at all, as in wasmtime. Afterwards the host checks that nothing outside
//! `T/root` changed and the secret was not read.

use wasi::{LOOKUPFLAGS_SYMLINK_FOLLOW as FOLLOW, OFLAGS_CREAT, OFLAGS_DIRECTORY};
use wasirun_test_guests::*;

const PERM: Errno = wasi::ERRNO_PERM;

fn main() {
    let mut g = Guest::start();
    match g.scenario.as_str() {
        "all" => all(&mut g),
        _ => g.unknown(),
    }
    g.finish()
}

/// Opens `path` for reading; if that worked, reads it, so a leak shows in the output.
fn try_read(dir: wasi::Fd, lookup: wasi::Lookupflags, path: &str) -> R<Bytes> {
    let Opened(fd) = open_with(dir, lookup, path, 0, READ_RIGHTS, 0)?;
    let r = read_all(fd);
    close(fd)?;
    r
}

fn all(g: &mut Guest) {
    let dir = g.dir;
    let secret = g.arg(0).to_string();
    let outside = g.arg(1).to_string();
    let other = find_preopen("other").expect("a preopen named other");

    // Sanity: the inside is reachable, so the refusals below are about escaping.
    g.eq(
        "read file.txt",
        try_read(dir, 0, "file.txt"),
        ok_bytes(b"inside"),
    );
    g.eq(
        "read sub/../file.txt",
        try_read(dir, 0, "sub/../file.txt"),
        ok_bytes(b"inside"),
    );

    // Opening, by `..`, by absolute paths, through the host's symlinks.
    for (label, path, lookup) in [
        (
            "path_open(../outside/secret.txt)",
            "../outside/secret.txt",
            0,
        ),
        ("path_open(..)", "..", 0),
        ("path_open(sub/../..)", "sub/../..", 0),
        (
            "path_open(sub/../../outside/secret.txt)",
            "sub/../../outside/secret.txt",
            0,
        ),
        (
            "path_open(./../outside/secret.txt)",
            "./../outside/secret.txt",
            0,
        ),
        (
            "path_open(sub/./../../outside/secret.txt)",
            "sub/./../../outside/secret.txt",
            0,
        ),
        ("path_open(/etc/passwd)", "/etc/passwd", 0),
        ("path_open(/)", "/", 0),
        ("path_open(SECRET), absolute", secret.as_str(), 0),
        (
            "path_open(up/outside/secret.txt): symlink to ..",
            "up/outside/secret.txt",
            0,
        ),
        ("path_open(up/): symlink to .., trailing slash", "up/", 0),
        ("path_open(up, follow)", "up", FOLLOW),
        (
            "path_open(abs/secret.txt): absolute symlink",
            "abs/secret.txt",
            0,
        ),
        ("path_open(abs, follow)", "abs", FOLLOW),
        (
            "path_open(sneaky, follow): symlink through sub/../..",
            "sneaky",
            FOLLOW,
        ),
        (
            "path_open(chain1/outside/secret.txt): chained symlinks",
            "chain1/outside/secret.txt",
            0,
        ),
        (
            "path_open(proc/etc/passwd): symlink to /proc/self/root",
            "proc/etc/passwd",
            0,
        ),
    ] {
        g.errno(label, try_read(dir, lookup, path), PERM);
    }
    g.errno(
        "path_open(.., DIRECTORY)",
        open(dir, "..", OFLAGS_DIRECTORY, DIR_RIGHTS),
        PERM,
    );
    g.errno(
        "path_open(up, DIRECTORY)",
        open(dir, "up", OFLAGS_DIRECTORY, DIR_RIGHTS),
        PERM,
    );

    // A directory opened below the preopen is a sandbox of its own: no `..` above it either.
    let Opened(sub) = g.must("path_open(sub, DIRECTORY)", open_dir(dir, "sub"));
    g.errno(
        "sub: path_open(../file.txt)",
        try_read(sub, 0, "../file.txt"),
        PERM,
    );
    g.errno(
        "sub: path_open(../../outside/secret.txt)",
        try_read(sub, 0, "../../outside/secret.txt"),
        PERM,
    );
    g.errno("sub: path_filestat_get(..)", stat(sub, ".."), PERM);
    g.ok("fd_close(sub)", close(sub));
    // Nor from one preopen into another.
    g.errno(
        "other: path_open(../root/file.txt)",
        try_read(other, 0, "../root/file.txt"),
        PERM,
    );

    // Creating outside.
    let creat = |dir: wasi::Fd, path: &str| {
        open(dir, path, OFLAGS_CREAT, FILE_RIGHTS).map(|Opened(fd)| close(fd).unwrap())
    };
    g.errno(
        "path_open(../outside/created, CREAT)",
        creat(dir, "../outside/created"),
        PERM,
    );
    g.errno(
        "path_open(up/outside/created, CREAT)",
        creat(dir, "up/outside/created"),
        PERM,
    );
    g.errno(
        "path_open(abs/created, CREAT)",
        creat(dir, "abs/created"),
        PERM,
    );
    let abs_created = format!("{outside}/created");
    g.errno(
        "path_open(OUTSIDE/created, CREAT), absolute",
        creat(dir, &abs_created),
        PERM,
    );
    g.errno(
        "path_create_directory(../outside/newdir)",
        mkdir(dir, "../outside/newdir"),
        PERM,
    );
    g.errno(
        "path_create_directory(up/outside/newdir)",
        mkdir(dir, "up/outside/newdir"),
        PERM,
    );
    g.errno(
        "path_symlink(x -> ../outside/newlink)",
        symlink("x", dir, "../outside/newlink"),
        PERM,
    );

    // Removing, renaming, linking across the boundary.
    g.errno(
        "path_unlink_file(../outside/secret.txt)",
        unlink(dir, "../outside/secret.txt"),
        PERM,
    );
    g.errno(
        "path_unlink_file(up/outside/secret.txt)",
        unlink(dir, "up/outside/secret.txt"),
        PERM,
    );
    g.errno(
        "path_unlink_file(abs/secret.txt)",
        unlink(dir, "abs/secret.txt"),
        PERM,
    );
    g.errno(
        "path_remove_directory(../outside)",
        rmdir(dir, "../outside"),
        PERM,
    );
    g.errno("path_remove_directory(..)", rmdir(dir, ".."), PERM);
    g.errno(
        "path_rename(file.txt -> ../outside/stolen)",
        rename(dir, "file.txt", "../outside/stolen"),
        PERM,
    );
    g.errno(
        "path_rename(../outside/secret.txt -> here)",
        rename(dir, "../outside/secret.txt", "here"),
        PERM,
    );
    g.errno(
        "path_rename(abs/secret.txt -> here)",
        rename(dir, "abs/secret.txt", "here"),
        PERM,
    );
    // SAFETY: no pointers beyond the paths.
    g.errno(
        "path_rename(other:../outside/secret.txt -> here)",
        unsafe { wasi::path_rename(other, "../outside/secret.txt", dir, "here") },
        PERM,
    );
    g.errno(
        "path_link(../outside/secret.txt -> hl)",
        link(dir, "../outside/secret.txt", "hl"),
        PERM,
    );
    g.errno(
        "path_link(file.txt -> ../outside/hl)",
        link(dir, "file.txt", "../outside/hl"),
        PERM,
    );
    // SAFETY: as above. (SYMLINK_FOLLOW on path_link is EINVAL anyway, as in wasmtime.)
    g.errno_any(
        "path_link(sneaky -> hl, follow)",
        unsafe { wasi::path_link(dir, FOLLOW, "sneaky", dir, "hl") },
        &[PERM, wasi::ERRNO_INVAL],
    );

    // Looking at what is outside: no stat, no times, no readlink.
    g.errno(
        "path_filestat_get(../outside/secret.txt)",
        stat(dir, "../outside/secret.txt"),
        PERM,
    );
    g.errno(
        "path_filestat_get(sneaky, follow)",
        stat(dir, "sneaky"),
        PERM,
    );
    g.errno("path_filestat_get(abs, follow)", stat(dir, "abs"), PERM);
    g.errno(
        "path_filestat_get(SECRET), absolute",
        stat(dir, &secret),
        PERM,
    );
    g.eq(
        "path_filestat_get(sneaky, no follow): the link itself is inside",
        lstat(dir, "sneaky").map(|s| filetype_name(s.filetype)),
        Ok("SYMBOLIC_LINK"),
    );
    // SAFETY: as above.
    g.errno(
        "path_filestat_set_times(../outside/secret.txt)",
        unsafe {
            wasi::path_filestat_set_times(
                dir,
                0,
                "../outside/secret.txt",
                0,
                0,
                wasi::FSTFLAGS_MTIM_NOW,
            )
        },
        PERM,
    );
    g.errno(
        "path_filestat_set_times(sneaky, follow)",
        unsafe {
            wasi::path_filestat_set_times(dir, FOLLOW, "sneaky", 0, 0, wasi::FSTFLAGS_MTIM_NOW)
        },
        PERM,
    );
    g.errno(
        "path_readlink(up/outside/x)",
        readlink(dir, "up/outside/x", 64),
        PERM,
    );
    g.eq(
        "path_readlink(up): the link itself is inside",
        readlink(dir, "up", 64),
        ok_bytes(b".."),
    );

    // Symlinks the guest makes that lead out are refused when made, relative or absolute:
    // wasirun would never follow them out, but host programs walking the tree would.
    g.errno(
        "path_symlink(../outside/secret.txt -> mine)",
        symlink("../outside/secret.txt", dir, "mine"),
        PERM,
    );
    g.errno(
        "path_open(mine, follow): never made",
        try_read(dir, FOLLOW, "mine"),
        wasi::ERRNO_NOENT,
    );
    // An absolute target could never be followed: refused at once, as in wasmtime (cap-std).
    g.errno(
        "path_symlink(SECRET -> mine_abs), absolute",
        symlink(&secret, dir, "mine_abs"),
        PERM,
    );
    g.errno(
        "path_symlink(/ -> mine_root), absolute",
        symlink("/", dir, "mine_root"),
        PERM,
    );
    g.errno(
        "path_symlink(../.. -> sub/deep)",
        symlink("../..", dir, "sub/deep"),
        PERM,
    );
    g.ok(
        "path_symlink(.. -> sub/back): stays inside",
        symlink("..", dir, "sub/back"),
    );
    g.eq(
        "path_open(sub/back/file.txt)",
        try_read(dir, 0, "sub/back/file.txt"),
        ok_bytes(b"inside"),
    );

    // A hard link to an escaping symlink, or the symlink renamed, escapes no better.
    g.ok(
        "path_link(up -> up2), the symlink itself",
        link(dir, "up", "up2"),
    );
    g.errno(
        "path_open(up2/outside/secret.txt)",
        try_read(dir, 0, "up2/outside/secret.txt"),
        PERM,
    );
    g.ok("path_rename(up2 -> sub/up3)", rename(dir, "up2", "sub/up3"));
    g.eq(
        "path_open(sub/up3/file.txt): now .. of sub, inside",
        try_read(dir, 0, "sub/up3/file.txt"),
        ok_bytes(b"inside"),
    );
    g.errno(
        "path_open(sub/up3/../outside/secret.txt)",
        try_read(dir, 0, "sub/up3/../outside/secret.txt"),
        PERM,
    );

    // A NUL byte cannot cut a path short.
    g.errno(
        "path_open(\"file.txt\\0/../..\")",
        try_read(dir, 0, "file.txt\0/../.."),
        wasi::ERRNO_INVAL,
    );

    // The preopen itself cannot be removed or renamed away from inside.
    g.errno(
        "path_remove_directory(.)",
        rmdir(dir, "."),
        wasi::ERRNO_INVAL,
    );
    g.errno_any(
        "path_rename(. -> x)",
        rename(dir, ".", "x"),
        &[wasi::ERRNO_INVAL, wasi::ERRNO_BUSY, PERM],
    );
}
