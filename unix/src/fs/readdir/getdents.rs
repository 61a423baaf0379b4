//! Linux's reader: `getdents64(2)` into a buffer of the stream's own, entries read in place.
//!
//! rustix's `RawDir` reads the same way, but borrows its buffer: it cannot live in the stream
//! beside the buffer it reads into, and one made per call would drop the entries left in its
//! buffer when the guest's buffer fills. So the stream keeps the buffer and where it is in it,
//! and reads the records itself (`linux_dirent64`, checked field by field: nothing is
//! reinterpreted in place).

use super::Dirent;
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::fs::{FileType, Mode, OFlags, SeekFrom};
use std::ffi::CStr;
use wasirun_wasi::Errno;

/// The bytes one `getdents64` may fill, as glibc's readdir(3) reads: some hundreds of entries
/// per call. With the default cap on streams, 1,024 of them take 32 MiB at most.
const BUF_LEN: usize = 32 * 1024;

/// Where the fields of a `linux_dirent64` are: `d_ino` (u64), `d_off` (i64), `d_reclen` (u16),
/// `d_type` (u8), then the name and its NUL.
const D_RECLEN: usize = 16;
const D_TYPE: usize = 18;
const D_NAME: usize = 19;

/// Reads one directory.
pub(super) struct Reader {
    /// The directory opened again, for a description the host shares; `None` reads through
    /// the entry's own descriptor.
    own: Option<OwnedFd>,
    buf: Box<[u8]>,
    /// How many bytes the last `getdents64` filled.
    len: usize,
    /// Where the next entry starts.
    pos: usize,
}

impl Reader {
    /// A reader of `dir`, which it opens again when `shared` (the host shares its open file
    /// description, and with it the offset `getdents64` moves).
    pub(super) fn open(dir: BorrowedFd<'_>, shared: bool) -> Result<Reader, Errno> {
        let own = match shared {
            true => Some(rustix::fs::openat(
                dir,
                c".",
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )?),
            false => None,
        };
        Ok(Reader {
            own,
            buf: vec![0; BUF_LEN].into_boxed_slice(),
            len: 0,
            pos: 0,
        })
    }

    /// Back to the first entry, as the directory is now.
    pub(super) fn rewind(&mut self, dir: BorrowedFd<'_>) -> Result<(), Errno> {
        rustix::fs::seek(source(&self.own, dir), SeekFrom::Start(0))?;
        self.len = 0;
        self.pos = 0;
        Ok(())
    }

    /// The next entry, left in place until [`advance`](Self::advance); `None` when
    /// `getdents64` says the listing has ended.
    pub(super) fn peek(&mut self, dir: BorrowedFd<'_>) -> Result<Option<Dirent<'_>>, Errno> {
        if self.pos >= self.len {
            self.len = getdents64(source(&self.own, dir), &mut self.buf)?;
            self.pos = 0;
            if self.len == 0 {
                return Ok(None);
            }
        }
        let record = self.buf[..self.len].get(self.pos..).ok_or(Errno::Io)?;
        let reclen = reclen(record)?;
        let name = CStr::from_bytes_until_nul(&record[D_NAME..reclen]).map_err(|_| Errno::Io)?;
        Ok(Some(Dirent {
            ino: u64::from_ne_bytes(record[..8].try_into().expect("8 bytes")),
            kind: file_type(record[D_TYPE]),
            name,
        }))
    }

    /// Past the entry [`peek`](Self::peek) returned.
    pub(super) fn advance(&mut self) {
        if let Some(Ok(n)) = self.buf[..self.len].get(self.pos..).map(reclen) {
            self.pos += n;
        }
    }
}

/// The descriptor a reader reads through: its own, else the entry's.
fn source<'a>(own: &'a Option<OwnedFd>, dir: BorrowedFd<'a>) -> BorrowedFd<'a> {
    own.as_ref().map_or(dir, |own| own.as_fd())
}

/// The length of the record at the start of `record`: `EIO` unless it holds the header and a
/// name and stays within what the kernel filled.
fn reclen(record: &[u8]) -> Result<usize, Errno> {
    let bytes = record.get(D_RECLEN..D_RECLEN + 2).ok_or(Errno::Io)?;
    let n = usize::from(u16::from_ne_bytes([bytes[0], bytes[1]]));
    if n <= D_NAME || n > record.len() {
        return Err(Errno::Io);
    }
    Ok(n)
}

/// `d_type`: `DT_UNKNOWN` (and any value Linux does not define) is `Unknown`.
fn file_type(d_type: u8) -> FileType {
    match d_type {
        libc::DT_REG => FileType::RegularFile,
        libc::DT_DIR => FileType::Directory,
        libc::DT_LNK => FileType::Symlink,
        libc::DT_CHR => FileType::CharacterDevice,
        libc::DT_BLK => FileType::BlockDevice,
        libc::DT_FIFO => FileType::Fifo,
        libc::DT_SOCK => FileType::Socket,
        _ => FileType::Unknown,
    }
}

/// `getdents64(2)` into `buf`: the bytes filled, 0 at the end of the directory.
fn getdents64(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most `buf.len()` bytes at `buf`, which is borrowed mutably
    // for the call; the fd is open for as long as `fd` borrows it.
    let n = unsafe {
        libc::syscall(
            libc::SYS_getdents64,
            fd.as_raw_fd(),
            buf.as_mut_ptr(),
            buf.len(),
        )
    };
    usize::try_from(n).map_err(|_| std::io::Error::last_os_error().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `linux_dirent64` as the kernel lays it out, padded to 8 bytes.
    fn record(ino: u64, d_type: u8, name: &[u8]) -> Vec<u8> {
        let len = (D_NAME + name.len() + 1).next_multiple_of(8);
        let mut r = vec![0u8; len];
        r[..8].copy_from_slice(&ino.to_ne_bytes());
        r[D_RECLEN..D_RECLEN + 2].copy_from_slice(&(len as u16).to_ne_bytes());
        r[D_TYPE] = d_type;
        r[D_NAME..D_NAME + name.len()].copy_from_slice(name);
        r
    }

    fn reader(bytes: &[u8]) -> Reader {
        let mut buf = vec![0; BUF_LEN].into_boxed_slice();
        buf[..bytes.len()].copy_from_slice(bytes);
        Reader {
            own: None,
            buf,
            len: bytes.len(),
            pos: 0,
        }
    }

    #[test]
    fn records_are_read_in_place_one_by_one() {
        let mut bytes = record(7, libc::DT_DIR, b".");
        bytes.extend(record(9, libc::DT_REG, b"a-longer-name"));
        let mut r = reader(&bytes);
        let dir = rustix::fs::CWD;
        let e = r.peek(dir).unwrap().unwrap();
        assert_eq!((e.ino, e.kind, e.name), (7, FileType::Directory, c"."));
        // Peeking again is the same entry.
        assert_eq!(r.peek(dir).unwrap().unwrap().ino, 7);
        r.advance();
        let e = r.peek(dir).unwrap().unwrap();
        assert_eq!(
            (e.ino, e.kind, e.name),
            (9, FileType::RegularFile, c"a-longer-name")
        );
        r.advance();
        assert_eq!(r.pos, r.len);
    }

    #[test]
    fn a_record_that_does_not_hold_together_is_eio() {
        let good = record(7, libc::DT_DIR, b"name");
        // Longer than what was filled.
        let mut r = reader(&good[..good.len() - 8]);
        assert_eq!(r.peek(rustix::fs::CWD).err(), Some(Errno::Io));
        // No room for a name.
        let mut short = good.clone();
        short[D_RECLEN..D_RECLEN + 2].copy_from_slice(&(D_NAME as u16).to_ne_bytes());
        assert_eq!(reader(&short).peek(rustix::fs::CWD).err(), Some(Errno::Io));
        // A name without its NUL.
        let mut unended = good;
        let len = unended.len();
        unended[D_NAME..len].fill(b'x');
        assert_eq!(
            reader(&unended).peek(rustix::fs::CWD).err(),
            Some(Errno::Io)
        );
    }

    #[test]
    fn d_types() {
        assert_eq!(file_type(libc::DT_LNK), FileType::Symlink);
        assert_eq!(file_type(libc::DT_SOCK), FileType::Socket);
        assert_eq!(file_type(libc::DT_UNKNOWN), FileType::Unknown);
        assert_eq!(file_type(200), FileType::Unknown);
    }
}
