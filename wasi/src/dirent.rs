//! [`DirentWriter`] fills an `fd_readdir` buffer the way the ABI lays it out; [`DirentReader`]
//! reads one back (the tracer shows the entries a call returned).

use crate::abi::GuestValue;
use crate::preview1::types::{Dircookie, Dirent, Filetype, Inode};

/// Writes `dirent` records, each followed by its name, into an `fd_readdir` buffer.
///
/// As the ABI says, the last entry is cut at the end of the buffer: a caller that gets back a
/// full buffer knows there may be more and calls again from the last complete entry's cookie.
pub struct DirentWriter<'a> {
    buf: &'a mut [u8],
    used: usize,
}

impl<'a> DirentWriter<'a> {
    /// Starts filling `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        DirentWriter { buf, used: 0 }
    }

    /// Appends one entry; `next` is the cookie of the entry after it. Returns `false` once the
    /// buffer is full (this entry may then be cut).
    pub fn push(&mut self, next: Dircookie, ino: Inode, kind: Filetype, name: &[u8]) -> bool {
        let mut header = [0u8; Dirent::SIZE];
        let dirent = Dirent {
            d_next: next,
            d_ino: ino,
            d_namlen: name.len() as u32,
            d_type: kind,
        };
        if dirent.store(&mut header, 0).is_err() {
            return false;
        }
        let left = self.buf.len() - self.used;
        let parts = [&header[..], name];
        for part in parts {
            let room = self.buf.len() - self.used;
            let n = part.len().min(room);
            self.buf[self.used..self.used + n].copy_from_slice(&part[..n]);
            self.used += n;
        }
        Dirent::SIZE + name.len() <= left
    }

    /// How many bytes were written: the call's result.
    pub fn used(&self) -> usize {
        self.used
    }

    /// Whether the buffer is full.
    pub fn is_full(&self) -> bool {
        self.used == self.buf.len()
    }
}

/// The complete entries of a filled `fd_readdir` buffer, in order: each `dirent` with its name.
/// It stops at the first entry the buffer cuts (or bytes that are no entry); [`Self::rest`]
/// says what is left.
pub struct DirentReader<'a> {
    buf: &'a [u8],
}

impl<'a> DirentReader<'a> {
    /// Reads `buf`, the bytes the call reported it wrote.
    pub fn new(buf: &'a [u8]) -> Self {
        DirentReader { buf }
    }

    /// The bytes after the entries read so far.
    pub fn rest(&self) -> &'a [u8] {
        self.buf
    }
}

impl<'a> Iterator for DirentReader<'a> {
    type Item = (Dirent, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        // `load` also refuses a `d_type` that is no file type: such bytes are no entry.
        let dirent = Dirent::load(self.buf, 0).ok()?;
        let end = Dirent::SIZE.checked_add(dirent.d_namlen as usize)?;
        let name = self.buf.get(Dirent::SIZE..end)?;
        self.buf = &self.buf[end..];
        Some((dirent, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_entry_is_cut() {
        let mut buf = [0xffu8; 40];
        let mut w = DirentWriter::new(&mut buf);
        assert!(w.push(1, 7, Filetype::Directory, b"."));
        assert_eq!(w.used(), 25);
        assert!(!w.push(2, 8, Filetype::RegularFile, b"file"));
        assert!(w.is_full());
        assert_eq!(u64::from_le_bytes(buf[0..8].try_into().unwrap()), 1);
        assert_eq!(buf[20], Filetype::Directory as u8);
        assert_eq!(&buf[24..25], b".");
        assert_eq!(u64::from_le_bytes(buf[25..33].try_into().unwrap()), 2);
    }

    #[test]
    fn the_reader_reads_back_what_the_writer_wrote_up_to_the_cut_entry() {
        let mut buf = [0u8; 60];
        let mut w = DirentWriter::new(&mut buf);
        assert!(w.push(1, 7, Filetype::Directory, b"."));
        assert!(w.push(2, 8, Filetype::RegularFile, b"file"));
        assert!(!w.push(3, 9, Filetype::SymbolicLink, b"link"));
        let used = w.used();
        let mut r = DirentReader::new(&buf[..used]);
        let names: Vec<_> = r
            .by_ref()
            .map(|(d, name)| (d.d_next, d.d_type, name))
            .collect();
        assert_eq!(
            names,
            [
                (1, Filetype::Directory, &b"."[..]),
                (2, Filetype::RegularFile, &b"file"[..])
            ]
        );
        assert_eq!(r.rest().len(), 60 - 25 - 28);
    }

    #[test]
    fn bytes_that_are_no_entry_end_the_reader() {
        let mut buf = [0u8; 30];
        buf[20] = 200;
        let mut r = DirentReader::new(&buf);
        assert!(r.next().is_none());
        assert_eq!(r.rest().len(), 30);
        buf[20] = 0;
        buf[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(DirentReader::new(&buf).next().is_none());
    }
}
