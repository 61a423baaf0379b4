//! File attributes: `fstat`/`fstatat` to `filestat`, and `futimens`/`utimensat` from `fstflags`.

use crate::rights;
use crate::sandbox;
use crate::system::UnixSystem;
use crate::table::Host;
use rustix::fd::{AsFd, BorrowedFd};
use rustix::fs::{AtFlags, FileType, Stat, Timestamps, UTIME_NOW, UTIME_OMIT};
use rustix::net::SocketType;
use rustix::time::Timespec;
use wasirun_wasi::{Errno, Fd, Filestat, Filetype, Fstflags, Lookupflags, Rights, Timestamp};

/// The WASI type of a host file type. Preview 1 has no FIFO type: FIFOs are `UNKNOWN`, as in
/// wasmtime. A socket found by name cannot say whether it streams: Unix sockets mostly do.
pub(crate) fn filetype(ft: FileType) -> Filetype {
    match ft {
        FileType::RegularFile => Filetype::RegularFile,
        FileType::Directory => Filetype::Directory,
        FileType::Symlink => Filetype::SymbolicLink,
        FileType::CharacterDevice => Filetype::CharacterDevice,
        FileType::BlockDevice => Filetype::BlockDevice,
        FileType::Socket => Filetype::SocketStream,
        FileType::Fifo | FileType::Unknown => Filetype::Unknown,
    }
}

/// The WASI type of an open descriptor; for a socket, `SO_TYPE` tells streams from datagrams.
pub(crate) fn fd_filetype(fd: BorrowedFd<'_>) -> rustix::io::Result<Filetype> {
    let stat = rustix::fs::fstat(fd)?;
    Ok(match FileType::from_raw_mode(stat.st_mode) {
        FileType::Socket => match rustix::net::sockopt::socket_type(fd)? {
            SocketType::DGRAM => Filetype::SocketDgram,
            SocketType::STREAM => Filetype::SocketStream,
            _ => Filetype::Unknown,
        },
        ft => filetype(ft),
    })
}

/// The [`Describe`](crate::fdtable::Describe) of the Unix system's entries: the type of the
/// host descriptor ([`fd_filetype`]) and the rights a descriptor of that type can have (for a
/// character device, whether it is a terminal: `isatty`).
pub(crate) fn describe(host: &Host) -> Result<(Filetype, Rights), Errno> {
    Ok(describe_fd(host.fd.as_fd())?)
}

/// [`describe`] for a host descriptor.
pub(crate) fn describe_fd(fd: BorrowedFd<'_>) -> rustix::io::Result<(Filetype, Rights)> {
    let filetype = fd_filetype(fd)?;
    let tty = filetype == Filetype::CharacterDevice && rustix::termios::isatty(fd);
    Ok((filetype, rights::applicable(filetype, tty)))
}

/// Whether an `fstat` tells all that [`describe`] would about a descriptor of this type: not
/// for a socket (stream or datagram: `SO_TYPE`) nor a character device (a terminal or not).
fn stat_tells_all(filetype: Filetype) -> bool {
    !matches!(filetype, Filetype::SocketStream | Filetype::CharacterDevice)
}

/// Converts a host `stat`. The field types vary with the architecture, hence the generic
/// conversions; times before the epoch read as 0.
pub(crate) fn filestat(st: &Stat) -> Filestat {
    Filestat {
        dev: wide(st.st_dev),
        ino: wide(st.st_ino),
        filetype: filetype(FileType::from_raw_mode(st.st_mode)),
        nlink: wide(st.st_nlink),
        size: wide(st.st_size),
        atim: time(st.st_atime, st.st_atime_nsec),
        mtim: time(st.st_mtime, st.st_mtime_nsec),
        ctim: time(st.st_ctime, st.st_ctime_nsec),
    }
}

/// A file's device and inode: what tells one file from another.
pub(crate) fn file_id(st: &Stat) -> (u64, u64) {
    (wide(st.st_dev), wide(st.st_ino))
}

fn wide<T: TryInto<u64>>(v: T) -> u64 {
    v.try_into().unwrap_or(0)
}

fn time<S: TryInto<i64>, N: TryInto<i64>>(secs: S, nanos: N) -> Timestamp {
    let secs = secs.try_into().unwrap_or(0);
    let nanos = nanos.try_into().unwrap_or(0);
    crate::clock::timestamp(Timespec {
        tv_sec: secs,
        tv_nsec: nanos as _,
    })
    .unwrap_or(0)
}

/// `fd_filestat_get`: `fstat(2)`; a socket keeps the type found at open, and a descriptor
/// whose type was still to be asked learns it here when the `fstat` says enough. The host's
/// stdio keeps its type, size and link count, with device, inode and times zero, as wasmtime
/// has them: which terminal or file the host connected is none of the guest's business.
#[inline]
pub(crate) fn fd_filestat_get(sys: &mut UnixSystem, fd: Fd) -> Result<Filestat, Errno> {
    let entry = sys.table.get(fd, Rights::FD_FILESTAT_GET)?;
    let mut stat = filestat(&rustix::fs::fstat(&entry.fd)?);
    if entry.stdio {
        stat = Filestat {
            dev: 0,
            ino: 0,
            atim: 0,
            mtim: 0,
            ctim: 0,
            ..stat
        };
    }
    match entry.filetype_if_known() {
        Some(known @ (Filetype::SocketStream | Filetype::SocketDgram)) => stat.filetype = known,
        Some(_) => {}
        None if stat_tells_all(stat.filetype) => {
            entry.learn(stat.filetype, rights::applicable(stat.filetype, false));
        }
        None => {}
    }
    Ok(stat)
}

/// `path_filestat_get`: `fstatat(2)` on what [`sandbox::target`] resolves.
pub(crate) fn path_filestat_get(
    sys: &mut UnixSystem,
    fd: Fd,
    flags: Lookupflags,
    path: &str,
) -> Result<Filestat, Errno> {
    let dir = sys.table.dir(fd, Rights::PATH_FILESTAT_GET)?;
    // The name itself first: unless it is a symlink to follow, that is the answer, in one
    // syscall (following resolves a symlink's target itself, in the sandbox; asking whether
    // the name is one first would cost a readlinkat on every call).
    let at = sandbox::target(dir.fd.as_fd(), path, false, sys.resolver)?;
    let stat = rustix::fs::statat(at.dir(), at.name(), AtFlags::SYMLINK_NOFOLLOW)?;
    let is_link = FileType::from_raw_mode(stat.st_mode) == FileType::Symlink;
    if !(is_link && flags.contains(Lookupflags::SYMLINK_FOLLOW)) {
        return Ok(filestat(&stat));
    }
    let at = sandbox::target(dir.fd.as_fd(), path, true, sys.resolver)?;
    let stat = rustix::fs::statat(at.dir(), at.name(), AtFlags::SYMLINK_NOFOLLOW)?;
    Ok(filestat(&stat))
}

/// The `futimens`/`utimensat` times for `fstflags`: a time and `*_NOW` together is `EINVAL`,
/// neither leaves that time alone.
pub(crate) fn timestamps(
    atim: Timestamp,
    mtim: Timestamp,
    flags: Fstflags,
) -> Result<Timestamps, Errno> {
    fn one(value: Timestamp, set: bool, now: bool) -> Result<Timespec, Errno> {
        Ok(match (set, now) {
            (true, true) => return Err(Errno::Inval),
            (true, false) => crate::clock::timespec(value),
            (false, true) => Timespec {
                tv_sec: 0,
                tv_nsec: UTIME_NOW,
            },
            (false, false) => Timespec {
                tv_sec: 0,
                tv_nsec: UTIME_OMIT,
            },
        })
    }
    Ok(Timestamps {
        last_access: one(
            atim,
            flags.contains(Fstflags::ATIM),
            flags.contains(Fstflags::ATIM_NOW),
        )?,
        last_modification: one(
            mtim,
            flags.contains(Fstflags::MTIM),
            flags.contains(Fstflags::MTIM_NOW),
        )?,
    })
}

/// `fd_filestat_set_times`: `futimens(2)`.
pub(crate) fn fd_set_times(
    sys: &mut UnixSystem,
    fd: Fd,
    atim: Timestamp,
    mtim: Timestamp,
    flags: Fstflags,
) -> Result<(), Errno> {
    let times = timestamps(atim, mtim, flags)?;
    let entry = sys.table.get(fd, Rights::FD_FILESTAT_SET_TIMES)?;
    Ok(rustix::fs::futimens(&entry.fd, &times)?)
}

/// `path_filestat_set_times`: `utimensat(2)` with `AT_SYMLINK_NOFOLLOW` on what
/// [`sandbox::target`] resolves (which followed the symlink already when asked to).
pub(crate) fn path_set_times(
    sys: &mut UnixSystem,
    fd: Fd,
    flags: Lookupflags,
    path: &str,
    atim: Timestamp,
    mtim: Timestamp,
    fst_flags: Fstflags,
) -> Result<(), Errno> {
    let times = timestamps(atim, mtim, fst_flags)?;
    let dir = sys.table.dir(fd, Rights::PATH_FILESTAT_SET_TIMES)?;
    let follow = flags.contains(Lookupflags::SYMLINK_FOLLOW);
    let at = sandbox::target(dir.fd.as_fd(), path, follow, sys.resolver)?;
    Ok(rustix::fs::utimensat(
        at.dir(),
        at.name(),
        &times,
        AtFlags::SYMLINK_NOFOLLOW,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_now_together_are_einval() {
        let both = Fstflags::ATIM | Fstflags::ATIM_NOW;
        assert_eq!(timestamps(0, 0, both).err(), Some(Errno::Inval));
        let both = Fstflags::MTIM | Fstflags::MTIM_NOW;
        assert_eq!(timestamps(0, 0, both).err(), Some(Errno::Inval));
        let t = timestamps(1_500_000_000, 0, Fstflags::ATIM | Fstflags::MTIM_NOW).unwrap();
        assert_eq!(
            (t.last_access.tv_sec, t.last_access.tv_nsec),
            (1, 500_000_000)
        );
        assert_eq!(t.last_modification.tv_nsec, UTIME_NOW);
        let t = timestamps(0, 0, Fstflags::empty()).unwrap();
        assert_eq!(t.last_access.tv_nsec, UTIME_OMIT);
    }

    #[test]
    fn stat_of_a_file() {
        let st = rustix::fs::stat("/").unwrap();
        let fs = filestat(&st);
        assert_eq!(fs.filetype, Filetype::Directory);
        assert!(fs.nlink >= 2 && fs.mtim > 0);
    }
}
