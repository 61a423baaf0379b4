//! The WasmEdge sockets' address encodings, which the witx can only call byte buffers (see
//! `witx/wasmedge/wasmedge.witx`): decoding what a guest gives, encoding what it gets back, and
//! `sock_getaddrinfo`'s result records ([`Chained`] for [`Addrinfo`]).

use crate::abi::{Chained, GuestValue, region};
use crate::preview1::types::Errno;
use crate::trace::{TraceValue, Writer};
use crate::wasmedge::types::{AddressFamily, Addrinfo, IpVersion, Protocol, SockType, Sockaddr};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The size of the family-tagged address block.
pub const BLOCK: usize = 128;

/// An address a guest gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Address<'a> {
    /// IPv4 or IPv6, with the port passed beside it.
    Ip(SocketAddr),
    /// A Unix-domain path (without its NUL).
    Unix(&'a [u8]),
}

/// Decodes an address buffer: 4 bytes (IPv4), 16 (IPv6), or the 128-byte block (family, then
/// the address or a NUL-terminated path). `EINVAL` for any other length, an unknown family, or a
/// Unix path that fills the block without a NUL; `EAFNOSUPPORT` for `unspec`.
pub fn decode(buf: &[u8], port: u32) -> Result<Address<'_>, Errno> {
    let port = u16::try_from(port).map_err(|_| Errno::Inval)?;
    let ip = |ip: IpAddr| Ok(Address::Ip(SocketAddr::new(ip, port)));
    match buf.len() {
        4 => ip(Ipv4Addr::from(<[u8; 4]>::try_from(buf).map_err(|_| Errno::Inval)?).into()),
        16 => ip(Ipv6Addr::from(<[u8; 16]>::try_from(buf).map_err(|_| Errno::Inval)?).into()),
        BLOCK => {
            let family = u16::from_le_bytes([buf[0], buf[1]]);
            match AddressFamily::from_repr(u8::try_from(family).map_err(|_| Errno::Inval)?) {
                Some(AddressFamily::Inet4) => {
                    let b: [u8; 4] = buf[2..6].try_into().map_err(|_| Errno::Inval)?;
                    ip(Ipv4Addr::from(b).into())
                }
                Some(AddressFamily::Inet6) => {
                    let b: [u8; 16] = buf[2..18].try_into().map_err(|_| Errno::Inval)?;
                    ip(Ipv6Addr::from(b).into())
                }
                Some(AddressFamily::Unix) => {
                    let path = &buf[2..];
                    let end = path.iter().position(|&b| b == 0).ok_or(Errno::Inval)?;
                    Ok(Address::Unix(&path[..end]))
                }
                Some(AddressFamily::Unspec) => Err(Errno::Afnosupport),
                None => Err(Errno::Inval),
            }
        }
        _ => Err(Errno::Inval),
    }
}

/// Encodes an address as the v2 functions return it: the 128-byte block (the rest zeroed).
/// `EINVAL` when `buf` is shorter than the block needs.
pub fn encode_block(addr: &Address<'_>, buf: &mut [u8]) -> Result<(), Errno> {
    let (family, bytes): (AddressFamily, &[u8]) = match addr {
        Address::Ip(SocketAddr::V4(a)) => (AddressFamily::Inet4, &a.ip().octets()[..]),
        Address::Ip(SocketAddr::V6(a)) => (AddressFamily::Inet6, &a.ip().octets()[..]),
        Address::Unix(path) => (AddressFamily::Unix, path),
    };
    // A Unix path keeps a NUL after it.
    let nul = usize::from(matches!(addr, Address::Unix(_)));
    let need = 2 + bytes.len() + nul;
    if buf.len() < need {
        return Err(Errno::Inval);
    }
    buf.fill(0);
    buf[..2].copy_from_slice(&u16::from(family as u8).to_le_bytes());
    buf[2..2 + bytes.len()].copy_from_slice(bytes);
    Ok(())
}

/// Encodes an IP address as the v1 functions return it: the raw bytes at the start of `buf`,
/// and the version (4 or 6). `EINVAL` when `buf` is too short; `EAFNOSUPPORT` for a Unix-domain
/// address, which v1 cannot express.
pub fn encode_raw(addr: &Address<'_>, buf: &mut [u8]) -> Result<IpVersion, Errno> {
    let (version, bytes): (IpVersion, &[u8]) = match addr {
        Address::Ip(SocketAddr::V4(a)) => (4, &a.ip().octets()[..]),
        Address::Ip(SocketAddr::V6(a)) => (6, &a.ip().octets()[..]),
        Address::Unix(_) => return Err(Errno::Afnosupport),
    };
    buf.get_mut(..bytes.len())
        .ok_or(Errno::Inval)?
        .copy_from_slice(bytes);
    Ok(version)
}

/// One `sock_getaddrinfo` result, free of the records' pointers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddrInfo {
    /// The socket type.
    pub socktype: SockType,
    /// The protocol.
    pub protocol: Protocol,
    /// The address and port.
    pub addr: SocketAddr,
}

impl Default for AddrInfo {
    fn default() -> Self {
        AddrInfo {
            socktype: SockType::Any,
            protocol: Protocol::Ip,
            addr: SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 0),
        }
    }
}

impl TraceValue for AddrInfo {
    fn trace(&self, w: &mut Writer<'_>) {
        w.open_record();
        w.field("socktype", &self.socktype);
        w.field("protocol", &self.protocol);
        w.field("addr", &Display(&self.addr));
        w.close_record();
    }
}

/// A value traced by its `Display`.
struct Display<'a, T>(&'a T);

impl<T: std::fmt::Display> TraceValue for Display<'_, T> {
    fn trace(&self, w: &mut Writer<'_>) {
        w.symbol_display(self.0);
    }
}

/// Fills a result record the guest allocated: family, socket type, protocol and address
/// length in the record; in the `$sockaddr` it points at, the family and, in its `sa_data`
/// buffer, the port (big-endian) then the address bytes. The canonical name is never filled
/// (its length is set to 0). `EINVAL` when `sa_data` is too small.
impl Chained for Addrinfo {
    type Value = AddrInfo;

    fn store_value(mem: &mut [u8], at: usize, value: &AddrInfo) -> Result<(), Errno> {
        let mut record = Addrinfo::load_lenient(mem, at)?;
        let (family, ip): (AddressFamily, &[u8]) = match &value.addr {
            SocketAddr::V4(a) => (AddressFamily::Inet4, &a.ip().octets()[..]),
            SocketAddr::V6(a) => (AddressFamily::Inet6, &a.ip().octets()[..]),
        };
        let mut data = [0u8; 18];
        data[..2].copy_from_slice(&value.addr.port().to_be_bytes());
        data[2..2 + ip.len()].copy_from_slice(ip);
        let data = &data[..2 + ip.len()];
        if record.addr != 0 {
            let sa_at = region(
                mem,
                record.addr as i32,
                Sockaddr::SIZE as u64,
                Sockaddr::ALIGN,
            )?;
            let sa_len = u32::load(mem, sa_at + 4)?;
            let sa_data = u32::load(mem, sa_at + 8)?;
            if (sa_len as usize) < data.len() {
                return Err(Errno::Inval);
            }
            let data_at = region(mem, sa_data as i32, data.len() as u64, 1)?;
            mem[data_at..data_at + data.len()].copy_from_slice(data);
            u16::from(family as u8).store(mem, sa_at)?;
        }
        record.family = family;
        record.socktype = value.socktype;
        record.protocol = value.protocol;
        record.addrlen = data.len() as u32;
        record.canonnamelen = 0;
        // The protocol is one byte in the record; zero the padding after it, for guests that
        // read it as 32 bits.
        0u32.store(mem, at + 4)?;
        record.store(mem, at)
    }
}

impl Addrinfo {
    /// The record at `at`, keeping its pointers, with whatever the guest left in the fields the
    /// host fills (often garbage: the list is fresh memory) read as defaults.
    fn load_lenient(mem: &[u8], at: usize) -> Result<Addrinfo, Errno> {
        let word = |o: usize| u32::load(mem, at + o);
        Ok(Addrinfo {
            flags: Default::default(),
            family: AddressFamily::Unspec,
            socktype: SockType::Any,
            protocol: Protocol::Ip,
            addrlen: 0,
            addr: word(12)?,
            canonname: word(16)?,
            canonnamelen: 0,
            next: word(24)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_form() {
        let v4: SocketAddr = "1.2.3.4:80".parse().unwrap();
        assert_eq!(decode(&[1, 2, 3, 4], 80), Ok(Address::Ip(v4)));
        let mut block = [0u8; BLOCK];
        encode_block(&Address::Ip(v4), &mut block).unwrap();
        assert_eq!(&block[..6], &[1, 0, 1, 2, 3, 4]);
        assert_eq!(decode(&block, 80), Ok(Address::Ip(v4)));
        let v6: SocketAddr = "[::1]:8".parse().unwrap();
        encode_block(&Address::Ip(v6), &mut block).unwrap();
        assert_eq!(decode(&block, 8), Ok(Address::Ip(v6)));
        let mut raw = [0u8; 16];
        assert_eq!(encode_raw(&Address::Ip(v6), &mut raw), Ok(6));
        assert_eq!(decode(&raw, 8), Ok(Address::Ip(v6)));
        encode_block(&Address::Unix(b"/tmp/s"), &mut block).unwrap();
        assert_eq!(decode(&block, 0), Ok(Address::Unix(b"/tmp/s")));
    }

    #[test]
    fn fills_a_result_record() {
        // A record at 0, its sockaddr at 32, sa_data (26 bytes) at 48.
        let mut mem = vec![0xeeu8; 128];
        mem[12..16].copy_from_slice(&32u32.to_le_bytes());
        mem[24..28].copy_from_slice(&0u32.to_le_bytes());
        mem[36..40].copy_from_slice(&26u32.to_le_bytes());
        mem[40..44].copy_from_slice(&48u32.to_le_bytes());
        let value = AddrInfo {
            socktype: SockType::Dgram,
            protocol: Protocol::Udp,
            addr: "[::1]:53".parse().unwrap(),
        };
        Addrinfo::store_value(&mut mem, 0, &value).unwrap();
        assert_eq!(
            &mem[2..8],
            &[2, 1, 2, 0, 0, 0],
            "inet6, dgram, udp, padding"
        );
        assert_eq!(u32::from_le_bytes(mem[8..12].try_into().unwrap()), 18);
        assert_eq!(&mem[32..34], &[2, 0]);
        let mut want = vec![0, 53];
        want.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        assert_eq!(&mem[48..66], want.as_slice());
        // sa_data too small for it.
        mem[36..40].copy_from_slice(&4u32.to_le_bytes());
        assert_eq!(
            Addrinfo::store_value(&mut mem, 0, &value),
            Err(Errno::Inval)
        );
    }

    #[test]
    fn refuses_bad_ones() {
        assert_eq!(decode(&[1, 2, 3], 1), Err(Errno::Inval));
        assert_eq!(decode(&[1, 2, 3, 4], 70000), Err(Errno::Inval));
        let mut block = [0u8; BLOCK];
        assert_eq!(decode(&block, 1), Err(Errno::Afnosupport));
        block[0] = 9;
        assert_eq!(decode(&block, 1), Err(Errno::Inval));
        block[0] = 3;
        block[2..].fill(b'a');
        assert_eq!(decode(&block, 1), Err(Errno::Inval));
        let mut small = [0u8; 4];
        let v6: SocketAddr = "[::1]:8".parse().unwrap();
        assert_eq!(encode_raw(&Address::Ip(v6), &mut small), Err(Errno::Inval));
        assert_eq!(
            encode_block(&Address::Ip(v6), &mut small),
            Err(Errno::Inval)
        );
    }
}
