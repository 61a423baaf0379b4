//! How values go into a log: [`Logged`] for what a call returns, [`Args`] for what it was asked.

use super::format::Arg;
use crate::abi::GuestValue;
use crate::sockaddr::AddrInfo;
use crate::wasmedge::types::{Protocol, SockType};
use std::io::{IoSlice, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// A value a call returns, encoded into the log and decoded back by the replayer: every witx
/// type in its witx encoding (through [`GuestValue`], so the log holds what the guest's memory
/// would), tuples of them, and the ABI-free values systems fill in for records (`AddrInfo`).
pub trait Logged: Sized {
    /// Appends the value to `out`.
    fn log(&self, out: &mut Vec<u8>);
    /// Takes a value from the front of `input`: `None` when it does not hold one.
    fn unlog(input: &mut &[u8]) -> Option<Self>;
}

impl<T: GuestValue> Logged for T {
    fn log(&self, out: &mut Vec<u8>) {
        let at = out.len();
        out.resize(at + T::SIZE, 0);
        // The bytes were just made to fit.
        let _ = self.store(out, at);
    }

    fn unlog(input: &mut &[u8]) -> Option<Self> {
        let value = T::load(input, 0).ok()?;
        *input = &input[T::SIZE..];
        Some(value)
    }
}

impl Logged for () {
    fn log(&self, _: &mut Vec<u8>) {}

    fn unlog(_: &mut &[u8]) -> Option<Self> {
        Some(())
    }
}

macro_rules! logged_tuple {
    ($($t:ident),*) => {
        impl<$($t: Logged),*> Logged for ($($t,)*) {
            #[allow(non_snake_case)]
            fn log(&self, out: &mut Vec<u8>) {
                let ($($t,)*) = self;
                $($t.log(out);)*
            }

            fn unlog(input: &mut &[u8]) -> Option<Self> {
                Some(($($t::unlog(input)?,)*))
            }
        }
    };
}
logged_tuple!(A, B);
logged_tuple!(A, B, C);

impl Logged for AddrInfo {
    fn log(&self, out: &mut Vec<u8>) {
        self.socktype.log(out);
        self.protocol.log(out);
        self.addr.port().log(out);
        match self.addr.ip() {
            IpAddr::V4(ip) => {
                4u8.log(out);
                out.extend_from_slice(&ip.octets());
            }
            IpAddr::V6(ip) => {
                6u8.log(out);
                out.extend_from_slice(&ip.octets());
            }
        }
    }

    fn unlog(input: &mut &[u8]) -> Option<Self> {
        let socktype = SockType::unlog(input)?;
        let protocol = Protocol::unlog(input)?;
        let port = u16::unlog(input)?;
        let ip = match u8::unlog(input)? {
            4 => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(take(input, 4)?).ok()?)),
            6 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(take(input, 16)?).ok()?)),
            _ => return None,
        };
        Some(AddrInfo {
            socktype,
            protocol,
            addr: SocketAddr::new(ip, port),
        })
    }
}

fn take<'a>(input: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (head, rest) = input.split_at_checked(n)?;
    *input = rest;
    Some(head)
}

/// A scalar's witx encoding read as a little-endian integer (what [`Arg::Value`] holds).
pub fn scalar<T: GuestValue>(value: T) -> u64 {
    let mut raw = [0u8; 8];
    if T::SIZE <= raw.len() {
        let _ = value.store(&mut raw, 0);
    }
    u64::from_le_bytes(raw)
}

/// The arguments of one call being encoded, in the same way by the recorder and the replayer
/// (generated code calls these, one per parameter).
#[doc(hidden)]
pub struct Args {
    pub(crate) function: &'static str,
    pub(crate) names: &'static [&'static str],
    pub(crate) buf: Vec<u8>,
    pub(crate) full_writes: bool,
}

impl Args {
    fn push(&mut self, arg: Arg<'_>) {
        // Encoding into a Vec cannot fail.
        let _ = postcard::to_io(&arg, &mut self.buf);
    }

    /// A scalar.
    pub fn value<T: GuestValue>(&mut self, value: T) {
        self.push(Arg::Value(scalar(value)));
    }

    /// A string.
    pub fn str(&mut self, s: &str) {
        self.push(Arg::Str(s));
    }

    /// Bytes passed in.
    pub fn bytes(&mut self, b: &[u8]) {
        self.push(Arg::Bytes(b));
    }

    /// Records passed in, in their witx layout.
    pub fn records<T: GuestValue>(&mut self, records: &[T]) {
        let mut bytes = Vec::with_capacity(records.len() * T::SIZE);
        records.iter().for_each(|r| r.log(&mut bytes));
        self.push(Arg::Bytes(&bytes));
    }

    /// One record passed in.
    pub fn record<T: GuestValue>(&mut self, record: T) {
        self.records(&[record]);
    }

    /// The size of an output buffer or list.
    pub fn len(&mut self, len: usize) {
        self.push(Arg::Len(len as u64));
    }

    /// The total size of output iovecs.
    pub fn iovecs_len(&mut self, iovs: &[IoSliceMut<'_>]) {
        self.len(iovs.iter().map(|b| b.len()).sum());
    }

    /// Bytes the guest wrote: their length and CRC-32, or in full when the log keeps them.
    pub fn written(&mut self, iovs: &[IoSlice<'_>]) {
        if self.full_writes {
            let all: Vec<u8> = iovs.iter().flat_map(|b| b.iter().copied()).collect();
            self.push(Arg::Bytes(&all));
            return;
        }
        let mut crc = crc32fast::Hasher::new();
        let mut len = 0u64;
        for b in iovs {
            crc.update(b);
            len += b.len() as u64;
        }
        self.push(Arg::Written {
            len,
            crc: crc.finalize(),
        });
    }
}
