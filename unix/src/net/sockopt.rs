//! `sock_getsockopt` and `sock_setsockopt` (WasmEdge): the options by WasmEdge's numbers
//! (`witx/wasmedge/wasmedge.witx`), on rustix's typed socket options.
//!
//! Values are little-endian: booleans and sizes are an i32; `linger` is two i32s (on, seconds);
//! `rcvtimeo` and `sndtimeo` are a `timeval` of two i64s (seconds, microseconds), zero for no
//! timeout; `type` is the `$sock_type`; `error` is the pending `$errno`, cleared by reading.
//! A level other than `sol_socket` and `ipproto_tcp` is `EINVAL`; an option the level has not,
//! or that cannot be set (`type`, `error`, `acceptconn`), or that wasirun does not carry
//! (`dontroute`, `rcvlowat`, `bindtodevice`), is `ENOPROTOOPT`, as Linux answers for an
//! unknown one; a buffer too small for the value is `EINVAL`.

use rustix::fd::BorrowedFd;
use rustix::net::sockopt::{self, Timeout};
use std::time::Duration;
use wasirun_wasi::wasmedge::types::*;
use wasirun_wasi::{Errno, Size};

/// One option, by level and name.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Opt {
    ReuseAddr,
    Type,
    Error,
    Broadcast,
    SndBuf,
    RcvBuf,
    KeepAlive,
    OobInline,
    Linger,
    RcvTimeo,
    SndTimeo,
    AcceptConn,
    NoDelay,
}

fn opt(level: SockOptLevel, name: SockOptName) -> Result<Opt, Errno> {
    match level {
        SOCK_OPT_LEVEL_SOL_SOCKET => Ok(match name {
            SOCK_OPT_NAME_REUSEADDR => Opt::ReuseAddr,
            SOCK_OPT_NAME_TYPE => Opt::Type,
            SOCK_OPT_NAME_ERROR => Opt::Error,
            SOCK_OPT_NAME_BROADCAST => Opt::Broadcast,
            SOCK_OPT_NAME_SNDBUF => Opt::SndBuf,
            SOCK_OPT_NAME_RCVBUF => Opt::RcvBuf,
            SOCK_OPT_NAME_KEEPALIVE => Opt::KeepAlive,
            SOCK_OPT_NAME_OOBINLINE => Opt::OobInline,
            SOCK_OPT_NAME_LINGER => Opt::Linger,
            SOCK_OPT_NAME_RCVTIMEO => Opt::RcvTimeo,
            SOCK_OPT_NAME_SNDTIMEO => Opt::SndTimeo,
            SOCK_OPT_NAME_ACCEPTCONN => Opt::AcceptConn,
            _ => return Err(Errno::Noprotoopt),
        }),
        SOCK_OPT_LEVEL_IPPROTO_TCP if name == SOCK_OPT_NAME_TCP_NODELAY => Ok(Opt::NoDelay),
        SOCK_OPT_LEVEL_IPPROTO_TCP => Err(Errno::Noprotoopt),
        _ => Err(Errno::Inval),
    }
}

fn put(value: &mut [u8], bytes: &[u8]) -> Result<Size, Errno> {
    value
        .get_mut(..bytes.len())
        .ok_or(Errno::Inval)?
        .copy_from_slice(bytes);
    Ok(bytes.len() as Size)
}

fn int(value: &[u8]) -> Result<i32, Errno> {
    let b: [u8; 4] = value
        .get(..4)
        .ok_or(Errno::Inval)?
        .try_into()
        .map_err(|_| Errno::Inval)?;
    Ok(i32::from_le_bytes(b))
}

fn timeval(d: Option<Duration>) -> [u8; 16] {
    let d = d.unwrap_or_default();
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&(d.as_secs() as i64).to_le_bytes());
    out[8..].copy_from_slice(&i64::from(d.subsec_micros()).to_le_bytes());
    out
}

fn parse_timeval(value: &[u8]) -> Result<Option<Duration>, Errno> {
    let word = |r: std::ops::Range<usize>| -> Result<i64, Errno> {
        let b: [u8; 8] = value
            .get(r)
            .ok_or(Errno::Inval)?
            .try_into()
            .map_err(|_| Errno::Inval)?;
        Ok(i64::from_le_bytes(b))
    };
    let (secs, micros) = (word(0..8)?, word(8..16)?);
    if secs < 0 || !(0..1_000_000).contains(&micros) {
        return Err(Errno::Inval);
    }
    let d = Duration::from_secs(secs as u64) + Duration::from_micros(micros as u64);
    Ok((!d.is_zero()).then_some(d))
}

/// `sock_getsockopt`: writes the value at the start of `value`, returns its size.
pub(crate) fn get(
    fd: BorrowedFd<'_>,
    level: SockOptLevel,
    name: SockOptName,
    value: &mut [u8],
) -> Result<Size, Errno> {
    let flag = |b: bool| i32::from(b).to_le_bytes();
    let size = |n: usize| i32::try_from(n).unwrap_or(i32::MAX).to_le_bytes();
    match opt(level, name)? {
        Opt::ReuseAddr => put(value, &flag(sockopt::socket_reuseaddr(fd)?)),
        Opt::Broadcast => put(value, &flag(sockopt::socket_broadcast(fd)?)),
        Opt::KeepAlive => put(value, &flag(sockopt::socket_keepalive(fd)?)),
        Opt::OobInline => put(value, &flag(sockopt::socket_oobinline(fd)?)),
        Opt::AcceptConn => put(value, &flag(accepting(fd)?)),
        Opt::NoDelay => put(value, &flag(sockopt::tcp_nodelay(fd)?)),
        Opt::SndBuf => put(value, &size(sockopt::socket_send_buffer_size(fd)?)),
        Opt::RcvBuf => put(value, &size(sockopt::socket_recv_buffer_size(fd)?)),
        Opt::Type => {
            let t = match sockopt::socket_type(fd)? {
                rustix::net::SocketType::DGRAM => SockType::Dgram,
                rustix::net::SocketType::STREAM => SockType::Stream,
                _ => SockType::Any,
            };
            put(value, &i32::from(t as u8).to_le_bytes())
        }
        Opt::Error => {
            let e = match sockopt::socket_error(fd)? {
                Ok(()) => Errno::Success,
                Err(e) => e.into(),
            };
            put(value, &(e as i32).to_le_bytes())
        }
        Opt::Linger => {
            let l = sockopt::socket_linger(fd)?;
            let mut out = [0u8; 8];
            out[..4].copy_from_slice(&flag(l.is_some()));
            let secs = l.map_or(0, |d| i32::try_from(d.as_secs()).unwrap_or(i32::MAX));
            out[4..].copy_from_slice(&secs.to_le_bytes());
            put(value, &out)
        }
        Opt::RcvTimeo => put(value, &timeval(sockopt::socket_timeout(fd, Timeout::Recv)?)),
        Opt::SndTimeo => put(value, &timeval(sockopt::socket_timeout(fd, Timeout::Send)?)),
    }
}

/// `SO_ACCEPTCONN`: whether the socket listens.
#[cfg(not(target_vendor = "apple"))]
fn accepting(fd: BorrowedFd<'_>) -> Result<bool, Errno> {
    Ok(sockopt::socket_acceptconn(fd)?)
}

/// `SO_ACCEPTCONN`: macOS declares it but does not answer it (rustix leaves it out), and has
/// no other way to ask whether a socket listens: `ENOPROTOOPT`, as for an option it lacks.
#[cfg(target_vendor = "apple")]
fn accepting(_fd: BorrowedFd<'_>) -> Result<bool, Errno> {
    Err(Errno::Noprotoopt)
}

/// `sock_setsockopt`.
pub(crate) fn set(
    fd: BorrowedFd<'_>,
    level: SockOptLevel,
    name: SockOptName,
    value: &[u8],
) -> Result<(), Errno> {
    let on = || int(value).map(|v| v != 0);
    let size = || int(value).and_then(|v| usize::try_from(v).map_err(|_| Errno::Inval));
    match opt(level, name)? {
        Opt::ReuseAddr => Ok(sockopt::set_socket_reuseaddr(fd, on()?)?),
        Opt::Broadcast => Ok(sockopt::set_socket_broadcast(fd, on()?)?),
        Opt::KeepAlive => Ok(sockopt::set_socket_keepalive(fd, on()?)?),
        Opt::OobInline => Ok(sockopt::set_socket_oobinline(fd, on()?)?),
        Opt::NoDelay => Ok(sockopt::set_tcp_nodelay(fd, on()?)?),
        Opt::SndBuf => Ok(sockopt::set_socket_send_buffer_size(fd, size()?)?),
        Opt::RcvBuf => Ok(sockopt::set_socket_recv_buffer_size(fd, size()?)?),
        Opt::Linger => {
            let secs = int(value.get(4..).ok_or(Errno::Inval)?)?;
            let secs = u64::try_from(secs).map_err(|_| Errno::Inval)?;
            let linger = on()?.then(|| Duration::from_secs(secs));
            Ok(sockopt::set_socket_linger(fd, linger)?)
        }
        Opt::RcvTimeo => Ok(sockopt::set_socket_timeout(
            fd,
            Timeout::Recv,
            parse_timeval(value)?,
        )?),
        Opt::SndTimeo => Ok(sockopt::set_socket_timeout(
            fd,
            Timeout::Send,
            parse_timeval(value)?,
        )?),
        Opt::Type | Opt::Error | Opt::AcceptConn => Err(Errno::Noprotoopt),
    }
}
