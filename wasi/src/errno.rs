//! Host errors to WASI errnos: the one place where that mapping lives.
//!
//! Every Linux errno maps to a WASI errno. Those WASI names have map one to one; the
//! Linux-only ones map to the nearest WASI meaning (the STREAMS and library errors to `EIO` or
//! `ENOEXEC`, `EHOSTDOWN` to `EHOSTUNREACH`, ...), and anything unknown to `EIO`, never a panic.
//!
//! The names every Unix has are matched first; those only some have (and that rustix defines
//! only there) in [`platform`]. The numbers differ between Unixes, never the names matched.

use crate::preview1::types::Errno;
use rustix::io::Errno as E;

impl From<E> for Errno {
    fn from(e: E) -> Errno {
        match e {
            E::TOOBIG => Errno::E2big,
            E::ACCESS => Errno::Acces,
            E::ADDRINUSE => Errno::Addrinuse,
            E::ADDRNOTAVAIL => Errno::Addrnotavail,
            E::AFNOSUPPORT | E::PFNOSUPPORT => Errno::Afnosupport,
            E::AGAIN => Errno::Again,
            E::ALREADY => Errno::Already,
            E::BADF => Errno::Badf,
            E::BADMSG => Errno::Badmsg,
            E::BUSY => Errno::Busy,
            E::CANCELED => Errno::Canceled,
            E::CHILD => Errno::Child,
            E::CONNABORTED => Errno::Connaborted,
            E::CONNREFUSED => Errno::Connrefused,
            E::CONNRESET => Errno::Connreset,
            E::DEADLK => Errno::Deadlk,
            E::DESTADDRREQ => Errno::Destaddrreq,
            E::DOM => Errno::Dom,
            E::DQUOT => Errno::Dquot,
            E::EXIST => Errno::Exist,
            E::FAULT => Errno::Fault,
            E::FBIG => Errno::Fbig,
            E::HOSTUNREACH | E::HOSTDOWN => Errno::Hostunreach,
            E::IDRM => Errno::Idrm,
            E::ILSEQ => Errno::Ilseq,
            E::INPROGRESS => Errno::Inprogress,
            E::INTR => Errno::Intr,
            E::INVAL => Errno::Inval,
            E::IO => Errno::Io,
            E::ISCONN => Errno::Isconn,
            E::ISDIR => Errno::Isdir,
            E::LOOP => Errno::Loop,
            E::MFILE => Errno::Mfile,
            E::MLINK => Errno::Mlink,
            E::MSGSIZE => Errno::Msgsize,
            E::MULTIHOP => Errno::Multihop,
            E::NAMETOOLONG => Errno::Nametoolong,
            E::NETDOWN => Errno::Netdown,
            E::NETRESET => Errno::Netreset,
            E::NETUNREACH => Errno::Netunreach,
            E::NFILE => Errno::Nfile,
            E::NOBUFS => Errno::Nobufs,
            E::NODEV | E::NOTBLK => Errno::Nodev,
            E::NOENT => Errno::Noent,
            E::NOEXEC => Errno::Noexec,
            E::NOLCK => Errno::Nolck,
            E::NOLINK => Errno::Nolink,
            E::NOMEM => Errno::Nomem,
            E::NOMSG => Errno::Nomsg,
            E::NOPROTOOPT => Errno::Noprotoopt,
            E::NOSPC => Errno::Nospc,
            E::NOSYS => Errno::Nosys,
            E::NOTCONN => Errno::Notconn,
            E::NOTDIR => Errno::Notdir,
            E::NOTEMPTY => Errno::Notempty,
            E::NOTSOCK => Errno::Notsock,
            E::NOTSUP => Errno::Notsup,
            E::NOTTY => Errno::Notty,
            E::NXIO => Errno::Nxio,
            E::OVERFLOW => Errno::Overflow,
            E::PERM => Errno::Perm,
            E::PIPE | E::SHUTDOWN => Errno::Pipe,
            E::PROTO => Errno::Proto,
            E::PROTONOSUPPORT | E::SOCKTNOSUPPORT => Errno::Protonosupport,
            E::PROTOTYPE => Errno::Prototype,
            E::RANGE => Errno::Range,
            E::ROFS => Errno::Rofs,
            E::SPIPE => Errno::Spipe,
            E::SRCH => Errno::Srch,
            E::STALE => Errno::Stale,
            E::TIMEDOUT => Errno::Timedout,
            E::TXTBSY => Errno::Txtbsy,
            E::XDEV => Errno::Xdev,
            _ => platform(e),
        }
    }
}

/// The errnos of one Unix that the others lack, or that are a distinct number only there.
#[cfg(target_os = "linux")]
fn platform(e: E) -> Errno {
    match e {
        E::BADFD => Errno::Badf,
        E::RESTART => Errno::Intr,
        E::REMOTEIO | E::COMM | E::HWPOISON | E::UCLEAN => Errno::Io,
        E::ISNAM => Errno::Isdir,
        E::RFKILL => Errno::Netdown,
        E::NONET => Errno::Netunreach,
        E::NOMEDIUM | E::MEDIUMTYPE => Errno::Nodev,
        E::LIBACC | E::LIBBAD | E::LIBSCN | E::LIBMAX | E::LIBEXEC => Errno::Noexec,
        E::NODATA => Errno::Nomsg,
        E::NOPKG => Errno::Nosys,
        E::NOTRECOVERABLE => Errno::Notrecoverable,
        E::OWNERDEAD => Errno::Ownerdead,
        E::KEYEXPIRED | E::KEYREJECTED | E::KEYREVOKED | E::NOKEY => Errno::Perm,
        E::STRPIPE => Errno::Pipe,
        E::TIME => Errno::Timedout,
        _ => Errno::Io,
    }
}

/// The errnos of one Unix that the others lack, or that are a distinct number only there:
/// on macOS `EOPNOTSUPP` (102, sockets) is not `ENOTSUP` (45, files) as it is elsewhere.
#[cfg(target_vendor = "apple")]
fn platform(e: E) -> Errno {
    match e {
        E::OPNOTSUPP => Errno::Notsup,
        E::NOTRECOVERABLE => Errno::Notrecoverable,
        E::OWNERDEAD => Errno::Ownerdead,
        E::NODATA => Errno::Nomsg,
        E::TIME => Errno::Timedout,
        _ => Errno::Io,
    }
}

/// The errnos of one Unix that the others lack, or that are a distinct number only there:
/// FreeBSD's Capsicum refusals (`ENOTCAPABLE`, `ECAPMODE`) are WASI's `ENOTCAPABLE`.
#[cfg(target_os = "freebsd")]
fn platform(e: E) -> Errno {
    match e {
        E::NOTCAPABLE | E::CAPMODE => Errno::Notcapable,
        _ => Errno::Io,
    }
}

impl From<std::io::Error> for Errno {
    fn from(e: std::io::Error) -> Errno {
        use std::io::ErrorKind as K;
        // rustix accepts only real errno values, 1 to 4095.
        if let Some(raw) = e.raw_os_error().filter(|r| (1..4096).contains(r)) {
            return E::from_raw_os_error(raw).into();
        }
        match e.kind() {
            K::NotFound => Errno::Noent,
            K::PermissionDenied => Errno::Acces,
            K::ConnectionRefused => Errno::Connrefused,
            K::ConnectionReset => Errno::Connreset,
            K::ConnectionAborted => Errno::Connaborted,
            K::NotConnected => Errno::Notconn,
            K::AddrInUse => Errno::Addrinuse,
            K::AddrNotAvailable => Errno::Addrnotavail,
            K::BrokenPipe => Errno::Pipe,
            K::AlreadyExists => Errno::Exist,
            K::WouldBlock => Errno::Again,
            K::InvalidInput | K::InvalidData => Errno::Inval,
            K::TimedOut => Errno::Timedout,
            K::Interrupted => Errno::Intr,
            K::Unsupported => Errno::Notsup,
            K::OutOfMemory => Errno::Nomem,
            K::NotADirectory => Errno::Notdir,
            K::IsADirectory => Errno::Isdir,
            K::DirectoryNotEmpty => Errno::Notempty,
            K::ReadOnlyFilesystem => Errno::Rofs,
            K::StorageFull => Errno::Nospc,
            K::FileTooLarge => Errno::Fbig,
            K::InvalidFilename => Errno::Nametoolong,
            K::CrossesDevices => Errno::Xdev,
            K::TooManyLinks => Errno::Mlink,
            K::Deadlock => Errno::Deadlk,
            K::ArgumentListTooLong => Errno::E2big,
            K::ResourceBusy => Errno::Busy,
            K::ExecutableFileBusy => Errno::Txtbsy,
            K::NotSeekable => Errno::Spipe,
            _ => Errno::Io,
        }
    }
}

impl std::error::Error for Errno {}

/// A host allocation that failed: `ENOMEM`, so that a guest asking for more than the host can
/// give gets an errno, never an aborted process.
impl From<std::collections::TryReserveError> for Errno {
    fn from(_: std::collections::TryReserveError) -> Errno {
        Errno::Nomem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_linux_errno_maps() {
        for raw in 1..4096 {
            let _ = Errno::from(E::from_raw_os_error(raw));
        }
        assert_eq!(Errno::from(E::NOENT), Errno::Noent);
        assert_eq!(Errno::from(E::OPNOTSUPP), Errno::Notsup);
        assert_eq!(Errno::from(E::WOULDBLOCK), Errno::Again);
        assert_eq!(Errno::from(E::from_raw_os_error(4000)), Errno::Io);
        let io = std::io::Error::from_raw_os_error(E::NOTDIR.raw_os_error());
        assert_eq!(Errno::from(io), Errno::Notdir);
        assert_eq!(Errno::from(std::io::Error::other("x")), Errno::Io);
        assert_eq!(Errno::from(std::io::Error::from_raw_os_error(0)), Errno::Io);
        assert_eq!(
            Errno::from(std::io::Error::from_raw_os_error(-5)),
            Errno::Io
        );
    }

    #[test]
    fn names_and_descriptions() {
        assert_eq!(Errno::Noent.to_string(), "ENOENT");
        assert_eq!(Errno::Noent.description(), "No such file or directory");
        assert_eq!(Errno::E2big.name(), "E2BIG");
    }
}
