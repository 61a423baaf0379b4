//! Guest memory access for the generated glue: every pointer and length a guest passes is checked
//! here (bounds, alignment, overflow) before anything reads or writes through it.
//!
//! Pointers and lengths arrive as the raw `i32`s of the core-wasm signature and are read as
//! `u32`. An out-of-bounds or misaligned pointer is `EFAULT`: the witx spec leaves misalignment
//! undefined, and we choose an errno over a trap so that a guest can report it.
//!
//! Slices handed to a `System` are borrowed from the memory for one call through [`Borrows`],
//! which refuses (`EFAULT`) a mutable slice that overlaps any other: Rust forbids aliasing
//! `&mut`, so a guest that passes overlapping buffers gets an error rather than undefined
//! behaviour. Overlapping `fd_read` iovecs are the exception: the read stops before the first
//! overlapping one, a short read that POSIX allows.
//!
//! Not public API: the generated glue, here and in the crates of extensions generated outside
//! this one, is its only user (hence `#[doc(hidden)]`). The bounds it keeps are listed in the
//! crate docs ("Bounds").

use crate::preview1::types::{Errno, Size};
use std::io::{IoSlice, IoSliceMut};
use std::marker::PhantomData;
use std::mem::MaybeUninit;

/// The most iovecs one call takes, as Linux's `IOV_MAX`; more is `EINVAL`, as for `readv(2)`.
pub const IOV_MAX: usize = 1024;

/// How many iovecs live in the small stack buffer before the large one is used.
const IOV_SMALL: usize = 16;

/// How many records (`poll_oneoff` subscriptions and events) are copied on the stack before a
/// heap buffer is used.
pub const RECORDS_INLINE: usize = 64;

/// The most records one call copies (`poll_oneoff`: subscriptions in, as many events out);
/// more is `EINVAL`, as `poll(2)` answers more descriptors than `RLIMIT_NOFILE`. 131,072
/// subscriptions take about 12 MiB of host memory; no real program waits on more things at
/// once than it has descriptors.
pub const RECORDS_MAX: usize = 1 << 17;

/// A value with a fixed little-endian encoding in guest memory.
pub trait GuestValue: Sized + Copy {
    /// The encoded size in bytes.
    const SIZE: usize;
    /// The required alignment in bytes.
    const ALIGN: usize;
    /// Decodes the value at `mem[at..]`: `EFAULT` when out of bounds, `EINVAL` for a bad enum tag
    /// or flag bit.
    fn load(mem: &[u8], at: usize) -> Result<Self, Errno>;
    /// Encodes the value at `mem[at..]`: `EFAULT` when out of bounds.
    fn store(self, mem: &mut [u8], at: usize) -> Result<(), Errno>;
}

macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl GuestValue for $t {
            const SIZE: usize = size_of::<$t>();
            const ALIGN: usize = align_of::<$t>();
            #[inline]
            fn load(mem: &[u8], at: usize) -> Result<Self, Errno> {
                let bytes = mem.get(at..at + Self::SIZE).ok_or(Errno::Fault)?;
                let mut raw = [0u8; size_of::<$t>()];
                raw.copy_from_slice(bytes);
                Ok(<$t>::from_le_bytes(raw))
            }
            #[inline]
            fn store(self, mem: &mut [u8], at: usize) -> Result<(), Errno> {
                let bytes = mem.get_mut(at..at + Self::SIZE).ok_or(Errno::Fault)?;
                bytes.copy_from_slice(&self.to_le_bytes());
                Ok(())
            }
        }
    )*};
}
int_value!(u8, u16, u32, u64, i8, i16, i32, i64);

/// Converts a raw core-wasm argument into a typed value: `EINVAL` when it is out of range.
pub trait FromAbi<Raw>: Sized {
    /// Converts `raw`.
    fn from_abi(raw: Raw) -> Result<Self, Errno>;
}

macro_rules! narrow_from_i32 {
    ($($t:ty),*) => {$(
        impl FromAbi<i32> for $t {
            #[inline]
            fn from_abi(raw: i32) -> Result<Self, Errno> {
                <$t>::try_from(raw as u32).map_err(|_| Errno::Inval)
            }
        }
    )*};
}
narrow_from_i32!(u8, u16);

impl FromAbi<i32> for u32 {
    #[inline]
    fn from_abi(raw: i32) -> Result<Self, Errno> {
        Ok(raw as u32)
    }
}

impl FromAbi<i32> for i32 {
    #[inline]
    fn from_abi(raw: i32) -> Result<Self, Errno> {
        Ok(raw)
    }
}

impl FromAbi<i64> for u64 {
    #[inline]
    fn from_abi(raw: i64) -> Result<Self, Errno> {
        Ok(raw as u64)
    }
}

impl FromAbi<i64> for i64 {
    #[inline]
    fn from_abi(raw: i64) -> Result<Self, Errno> {
        Ok(raw)
    }
}

/// The errno a call's result becomes: 0 for success.
#[inline]
pub fn errno(result: Result<(), Errno>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => e as i32,
    }
}

/// Checks that `len` bytes at guest address `ptr`, aligned to `align`, lie in `mem`; returns the
/// start offset.
#[inline]
pub fn region(mem: &[u8], ptr: i32, len: u64, align: usize) -> Result<usize, Errno> {
    let start = ptr as u32 as usize;
    if !start.is_multiple_of(align) {
        return Err(Errno::Fault);
    }
    let end = start as u64 + len;
    if end > mem.len() as u64 {
        return Err(Errno::Fault);
    }
    Ok(start)
}

/// Checks an out-pointer for one `T`; returns its offset.
#[inline]
pub fn out_at<T: GuestValue>(mem: &[u8], ptr: i32) -> Result<usize, Errno> {
    region(mem, ptr, T::SIZE as u64, T::ALIGN)
}

/// Checks an array of `len` values of `T` at `ptr`; returns its offset.
#[inline]
pub fn array_at<T: GuestValue>(mem: &[u8], ptr: i32, len: i32) -> Result<usize, Errno> {
    region(mem, ptr, T::SIZE as u64 * u64::from(len as u32), T::ALIGN)
}

/// Writes at most `limit` values of `values` as an array at `at`.
pub fn store_array<T: GuestValue>(
    mem: &mut [u8],
    at: usize,
    values: &[T],
    limit: usize,
) -> Result<(), Errno> {
    for (i, v) in values.iter().take(limit).enumerate() {
        v.store(mem, at + i * T::SIZE)?;
    }
    Ok(())
}

/// Writes the pointer table of a string table (`args_get`, `environ_get`): entry `i` of the
/// `count` entries at `table_at` points at the `i`-th NUL-terminated string of the `size` bytes
/// at guest address `buf_ptr`.
pub fn store_string_table(
    mem: &mut [u8],
    table_at: usize,
    count: Size,
    buf_ptr: i32,
    size: Size,
) -> Result<(), Errno> {
    let buf_at = region(mem, buf_ptr, u64::from(size), 1)?;
    let mut offset = 0usize;
    for i in 0..count as usize {
        if offset >= size as usize {
            break;
        }
        let entry = (buf_ptr as u32).wrapping_add(offset as u32);
        entry.store(mem, table_at + i * 4)?;
        let rest = &mem[buf_at + offset..buf_at + size as usize];
        offset += rest
            .iter()
            .position(|&b| b == 0)
            .map_or(rest.len(), |p| p + 1);
    }
    Ok(())
}

/// Decodes the `T` at guest address `ptr` (a record passed by pointer, read once).
#[inline]
pub fn load_at<T: GuestValue>(mem: &[u8], ptr: i32) -> Result<T, Errno> {
    T::load(mem, out_at::<T>(mem, ptr)?)
}

/// Reads a buffer descriptor (a pointer to bytes, then their length, 4 bytes each) at `ptr`:
/// the raw pointer and length, for [`Borrows`] to check.
#[inline]
pub fn descriptor(mem: &[u8], ptr: i32) -> Result<(i32, i32), Errno> {
    let at = region(mem, ptr, 8, 4)?;
    Ok((u32::load(mem, at)? as i32, u32::load(mem, at + 4)? as i32))
}

/// An in/out length: where it is and its value. `literal` is the package's
/// `literal_inout_len` convention (`witx/<package>/conventions.toml`): a `ptr` equal to it is
/// the length itself, not its address (`None` for where). WasmEdge's is 4: Go guests built on
/// the stealthrocket `net` package pass `sock_getsockopt` the literal size 4 where WasmEdge
/// guests pass a pointer to the size, and no real guest puts its size word at address 4 (the
/// first page holds the module's data or nothing).
#[inline]
pub fn inout_len(
    mem: &[u8],
    ptr: i32,
    literal: Option<i32>,
) -> Result<(Option<usize>, i32), Errno> {
    if Some(ptr) == literal {
        return Ok((None, ptr));
    }
    let at = out_at::<u32>(mem, ptr)?;
    Ok((Some(at), u32::load(mem, at)? as i32))
}

/// Stores the length an in/out buffer ended with, unless it was given as a literal.
#[inline]
pub fn store_inout_len(mem: &mut [u8], at: Option<usize>, len: Size) -> Result<(), Errno> {
    match at {
        Some(at) => len.store(mem, at),
        None => Ok(()),
    }
}

/// A record that guests link into a list for the host to fill (`sock_getaddrinfo`'s results):
/// the ABI-free value a system fills in for each, and how one is written into a record.
pub trait Chained: GuestValue {
    /// What the system fills in.
    type Value: Default + Clone + crate::trace::TraceValue;
    /// Writes `value` into the record at offset `at`, and into what the record points to.
    fn store_value(mem: &mut [u8], at: usize, value: &Self::Value) -> Result<(), Errno>;
}

/// The most records of a list [`chain`] walks, whatever the guest's maximum: a name resolves
/// to a few dozen addresses at most, so this bounds the host's work and memory without cutting
/// any real answer short.
pub const CHAIN_MAX: usize = 1024;

/// How many records the list whose first address is stored at `ptr` holds, linked through the
/// `u32` at `next_offset` of each, until a 0 or `max` records (at most [`CHAIN_MAX`]). Nothing
/// is kept per record: the list is walked again to store the values. A list that loops is
/// walked around the loop until the maximum, as WasmEdge does (its records are written again),
/// which the bound keeps to [`CHAIN_MAX`] steps.
pub fn chain<T: Chained>(
    mem: &[u8],
    ptr: i32,
    max: i32,
    next_offset: usize,
) -> Result<usize, Errno> {
    let max = (max as u32 as usize).min(CHAIN_MAX);
    let mut node = load_at::<u32>(mem, ptr)?;
    let mut count = 0;
    while node != 0 && count < max {
        let at = out_at::<T>(mem, node as i32)?;
        count += 1;
        node = u32::load(mem, at + next_offset)?;
    }
    Ok(count)
}

/// One default value per record of a [`chain`] of `len` records, for the system to fill.
pub fn chain_values<T: Chained>(len: usize) -> Result<Vec<T::Value>, Errno> {
    let mut values = Vec::new();
    values.try_reserve_exact(len)?;
    values.resize(len, T::Value::default());
    Ok(values)
}

/// Writes the first `limit` values into the records of the [`chain`] at `ptr`, walking it
/// again: each record's link is read before the record is written, and a list that a write
/// cut short is `EFAULT`.
pub fn store_chain<T: Chained>(
    mem: &mut [u8],
    ptr: i32,
    next_offset: usize,
    values: &[T::Value],
    limit: usize,
) -> Result<(), Errno> {
    let mut node = load_at::<u32>(mem, ptr)?;
    for v in values.iter().take(limit) {
        if node == 0 {
            return Err(Errno::Fault);
        }
        let at = out_at::<T>(mem, node as i32)?;
        node = u32::load(mem, at + next_offset)?;
        T::store_value(mem, at, v)?;
    }
    Ok(())
}

/// Records copied out of, or into, guest memory for one call: on the stack up to
/// [`RECORDS_INLINE`] of them, on the heap past that. Only the records in use are ever
/// written: the stack buffer is not cleared first (a call with one subscription would clear
/// 3 KiB for it).
pub struct RecordBuf<T: GuestValue + Default> {
    /// The first `len` are initialized when `len <= RECORDS_INLINE`.
    inline: [MaybeUninit<T>; RECORDS_INLINE],
    /// `len` values when `len > RECORDS_INLINE`, else empty.
    heap: Vec<T>,
    len: usize,
}

impl<T: GuestValue + Default> RecordBuf<T> {
    /// An empty buffer, to fill where it stands with [`fill_default`](Self::fill_default) or
    /// [`fill_load`](Self::fill_load): filled in place, its stack array (kilobytes for 64
    /// records) is never moved, where returning a filled one by value copies it on the way.
    #[inline(always)]
    pub const fn empty() -> Self {
        RecordBuf {
            inline: [const { MaybeUninit::uninit() }; RECORDS_INLINE],
            heap: Vec::new(),
            len: 0,
        }
    }

    /// Holds `len` values made by `value(i)` instead of what it held (`len` is a raw count
    /// from the guest, already checked against memory by the caller): `EINVAL` past
    /// [`RECORDS_MAX`], `ENOMEM` when the host cannot allocate them, or the first error of
    /// `value`; on an error it is left empty.
    #[inline(always)]
    fn fill(
        &mut self,
        len: i32,
        mut value: impl FnMut(usize) -> Result<T, Errno>,
    ) -> Result<(), Errno> {
        self.len = 0;
        self.heap.clear();
        let len = len as u32 as usize;
        if len > RECORDS_MAX {
            return Err(Errno::Inval);
        }
        if len > RECORDS_INLINE {
            self.heap.try_reserve_exact(len)?;
            for i in 0..len {
                let v = value(i).inspect_err(|_| self.heap.clear())?;
                self.heap.push(v);
            }
        } else {
            for (i, slot) in self.inline[..len].iter_mut().enumerate() {
                slot.write(value(i)?);
            }
        }
        self.len = len;
        Ok(())
    }

    /// Holds `len` default values, as [`fill_load`](Self::fill_load) bounds them.
    pub fn fill_default(&mut self, len: i32) -> Result<(), Errno> {
        self.fill(len, |_| Ok(T::default()))
    }

    /// Holds the `len` values decoded from the array at guest address `ptr`.
    pub fn fill_load(&mut self, mem: &[u8], ptr: i32, len: i32) -> Result<(), Errno> {
        self.len = 0;
        self.heap.clear();
        let at = array_at::<T>(mem, ptr, len)?;
        self.fill(len, |i| T::load(mem, at + i * T::SIZE))
    }

    /// The values.
    pub fn as_slice(&self) -> &[T] {
        if self.len > RECORDS_INLINE {
            &self.heap
        } else {
            // SAFETY: the first `len` slots were written by `filled` (`len` is set only after).
            unsafe { std::slice::from_raw_parts(self.inline.as_ptr().cast::<T>(), self.len) }
        }
    }

    /// The values, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        if self.len > RECORDS_INLINE {
            &mut self.heap
        } else {
            // SAFETY: as in `as_slice`.
            unsafe {
                std::slice::from_raw_parts_mut(self.inline.as_mut_ptr().cast::<T>(), self.len)
            }
        }
    }
}

/// The most slices one [`Borrows`] hands out (an iovec array counts as one); more is `EFAULT`.
/// The generator refuses a function that would need more, so generated glue never meets it.
pub const BORROWS_MAX: usize = 8;

/// The slices borrowed from guest memory for one call, with the regions already handed out so
/// that no mutable slice aliases another.
///
/// Slices from [`bytes`](Self::bytes), [`bytes_mut`](Self::bytes_mut) and [`str`](Self::str)
/// live as long as the memory borrow and are recorded, so later ones are checked against them.
/// The iovec buffers of [`ciovecs`](Self::ciovecs) and [`iovecs`](Self::iovecs) are checked
/// against those, but not recorded: they exist only inside the closure, whose lifetime for
/// them is chosen by the caller (`for<'b>`), so none can leave it.
///
/// ```compile_fail
/// use wasirun_wasi::abi::Borrows;
///
/// let mut mem = [0u8; 64];
/// let mut borrows = Borrows::new(&mut mem);
/// // An `IoSlice` is `Copy`, but cannot be taken out of the closure...
/// let leaked = borrows.ciovecs(0, 1, |iovs| iovs[0]).unwrap();
/// // ... where it would alias this mutable slice of the same bytes.
/// let alias = borrows.bytes_mut(0, 8).unwrap();
/// alias[0] = leaked[0];
/// ```
pub struct Borrows<'a> {
    base: *mut u8,
    len: usize,
    /// (start, end, mutable) of each region handed out.
    regions: [(usize, usize, bool); BORROWS_MAX],
    count: usize,
    /// Whether any region handed out is mutable: shared ones cannot conflict with each other.
    has_mut: bool,
    _memory: PhantomData<&'a mut [u8]>,
}

impl<'a> Borrows<'a> {
    /// Starts borrowing from `mem` for the lifetime `'a`.
    #[inline]
    pub fn new(mem: &'a mut [u8]) -> Self {
        Borrows {
            base: mem.as_mut_ptr(),
            len: mem.len(),
            regions: [(0, 0, false); BORROWS_MAX],
            count: 0,
            has_mut: false,
            _memory: PhantomData,
        }
    }

    #[inline]
    fn check(&self, ptr: i32, len: i32) -> Result<(usize, usize), Errno> {
        let start = ptr as u32 as usize;
        let end = start as u64 + u64::from(len as u32);
        if end > self.len as u64 {
            return Err(Errno::Fault);
        }
        Ok((start, end as usize))
    }

    #[inline]
    fn conflicts(&self, start: usize, end: usize, mutable: bool) -> bool {
        (mutable || self.has_mut)
            && start < end
            && self.regions[..self.count]
                .iter()
                .any(|&(s, e, m)| (m || mutable) && start < e && s < end)
    }

    #[inline]
    fn claim(&mut self, ptr: i32, len: i32, mutable: bool) -> Result<(usize, usize), Errno> {
        let (start, end) = self.check(ptr, len)?;
        if self.conflicts(start, end, mutable) || self.count == self.regions.len() {
            return Err(Errno::Fault);
        }
        self.regions[self.count] = (start, end, mutable);
        self.count += 1;
        self.has_mut |= mutable;
        Ok((start, end))
    }

    /// A shared byte slice.
    #[inline]
    pub fn bytes(&mut self, ptr: i32, len: i32) -> Result<&'a [u8], Errno> {
        let (start, end) = self.claim(ptr, len, false)?;
        // SAFETY: `start..end` lies within the memory (checked by `claim`), which `'a` borrows
        // exclusively, and no mutable slice handed out overlaps it (checked by `claim`).
        Ok(unsafe { std::slice::from_raw_parts(self.base.add(start), end - start) })
    }

    /// A mutable byte slice.
    #[inline]
    pub fn bytes_mut(&mut self, ptr: i32, len: i32) -> Result<&'a mut [u8], Errno> {
        let (start, end) = self.claim(ptr, len, true)?;
        // SAFETY: as in `bytes`, and no other slice handed out overlaps this one.
        Ok(unsafe { std::slice::from_raw_parts_mut(self.base.add(start), end - start) })
    }

    /// A string: `EILSEQ` when it is not UTF-8.
    #[inline]
    pub fn str(&mut self, ptr: i32, len: i32) -> Result<&'a str, Errno> {
        std::str::from_utf8(self.bytes(ptr, len)?).map_err(|_| Errno::Ilseq)
    }

    /// Reads entry `i` of the iovec array at `at`: (buf, buf_len).
    #[inline]
    fn iovec(&self, at: usize, i: usize) -> (i32, i32) {
        // SAFETY: the caller checked that the array lies within the memory and overlaps no
        // mutable slice; the reads copy bytes out.
        let entry = unsafe { std::slice::from_raw_parts(self.base.add(at + i * 8), 8) };
        let word =
            |o: usize| i32::from_le_bytes([entry[o], entry[o + 1], entry[o + 2], entry[o + 3]]);
        (word(0), word(4))
    }

    #[inline]
    fn iovec_array(&mut self, ptr: i32, len: i32) -> Result<(usize, usize), Errno> {
        let n = len as u32 as usize;
        if n > IOV_MAX {
            return Err(Errno::Inval);
        }
        if !(ptr as u32 as usize).is_multiple_of(4) {
            return Err(Errno::Fault);
        }
        let (at, _) = self.claim(ptr, (n * 8) as i32, false)?;
        Ok((at, n))
    }

    /// Calls `f` with the `ciovec` array at `ptr` as `IoSlice`s, built on the stack; the
    /// slices cannot leave `f`.
    #[inline]
    pub fn ciovecs<R>(
        &mut self,
        ptr: i32,
        len: i32,
        f: impl for<'b> FnOnce(&[IoSlice<'b>]) -> R,
    ) -> Result<R, Errno> {
        let (at, n) = self.iovec_array(ptr, len)?;
        if n <= IOV_SMALL {
            self.fill_ciovecs::<IOV_SMALL, R>(at, n, f)
        } else {
            self.fill_ciovecs::<IOV_MAX, R>(at, n, f)
        }
    }

    #[inline]
    fn fill_ciovecs<const N: usize, R>(
        &mut self,
        at: usize,
        n: usize,
        f: impl for<'b> FnOnce(&[IoSlice<'b>]) -> R,
    ) -> Result<R, Errno> {
        let mut storage = [const { MaybeUninit::<IoSlice<'a>>::uninit() }; N];
        for (i, slot) in storage.iter_mut().enumerate().take(n) {
            let (buf, buf_len) = self.iovec(at, i);
            let (start, end) = self.check(buf, buf_len)?;
            if self.conflicts(start, end, false) {
                return Err(Errno::Fault);
            }
            // SAFETY: in bounds and overlapping no mutable slice (both checked above).
            let bytes = unsafe { std::slice::from_raw_parts(self.base.add(start), end - start) };
            slot.write(IoSlice::new(bytes));
        }
        // SAFETY: the first `n` slots were initialized by the loop, which returns early
        // otherwise; `IoSlice` needs no drop.
        let iovs = unsafe { std::slice::from_raw_parts(storage.as_ptr().cast::<IoSlice<'a>>(), n) };
        Ok(f(iovs))
    }

    /// Calls `f` with the `iovec` array at `ptr` as `IoSliceMut`s, built on the stack; the
    /// slices cannot leave `f`. The list ends before the first buffer that overlaps an earlier
    /// one or the array itself; `EFAULT` when that is the first.
    #[inline]
    pub fn iovecs<R>(
        &mut self,
        ptr: i32,
        len: i32,
        f: impl for<'b> FnOnce(&mut [IoSliceMut<'b>]) -> R,
    ) -> Result<R, Errno> {
        let (at, n) = self.iovec_array(ptr, len)?;
        if n <= IOV_SMALL {
            self.fill_iovecs::<IOV_SMALL, R>(at, n, f)
        } else {
            self.fill_iovecs::<IOV_MAX, R>(at, n, f)
        }
    }

    #[inline]
    fn fill_iovecs<const N: usize, R>(
        &mut self,
        at: usize,
        n: usize,
        f: impl for<'b> FnOnce(&mut [IoSliceMut<'b>]) -> R,
    ) -> Result<R, Errno> {
        let mut storage = [const { MaybeUninit::<IoSliceMut<'a>>::uninit() }; N];
        let mut ranges = [(0usize, 0usize); N];
        let mut used = 0;
        // Read every entry before any mutable slice exists.
        for (i, range) in ranges.iter_mut().enumerate().take(n) {
            let (buf, buf_len) = self.iovec(at, i);
            *range = self.check(buf, buf_len)?;
        }
        for i in 0..n {
            let (start, end) = ranges[i];
            let overlaps_earlier = start < end
                && ranges[..i]
                    .iter()
                    .any(|&(s, e)| s < e && start < e && s < end);
            if overlaps_earlier || self.conflicts(start, end, true) {
                if i == 0 {
                    return Err(Errno::Fault);
                }
                break;
            }
            // SAFETY: in bounds, and overlapping neither another slice handed out for this call
            // nor an earlier buffer of this list (both checked above).
            let bytes =
                unsafe { std::slice::from_raw_parts_mut(self.base.add(start), end - start) };
            storage[i].write(IoSliceMut::new(bytes));
            used = i + 1;
        }
        // SAFETY: the first `used` slots were initialized by the loop; `IoSliceMut` needs no drop.
        let iovs = unsafe {
            std::slice::from_raw_parts_mut(storage.as_mut_ptr().cast::<IoSliceMut<'a>>(), used)
        };
        Ok(f(iovs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_checked() {
        let mem = [0u8; 16];
        assert_eq!(region(&mem, 8, 8, 4), Ok(8));
        assert_eq!(region(&mem, 9, 4, 4), Err(Errno::Fault));
        assert_eq!(region(&mem, 12, 8, 1), Err(Errno::Fault));
        assert_eq!(region(&mem, -1, 1, 1), Err(Errno::Fault));
        assert_eq!(array_at::<u64>(&mem, 0, i32::MAX), Err(Errno::Fault));
    }

    #[test]
    fn an_inout_length_is_literal_only_by_convention() {
        let mut mem = [0u8; 16];
        mem[4..8].copy_from_slice(&12u32.to_le_bytes());
        // Without the convention, 4 is the address of the length, stored back.
        assert_eq!(inout_len(&mem, 4, None), Ok((Some(4), 12)));
        store_inout_len(&mut mem, Some(4), 3).unwrap();
        assert_eq!(mem[4..8], 3u32.to_le_bytes());
        // With it (WasmEdge's 4), 4 is the length itself, and nothing is stored.
        assert_eq!(inout_len(&mem, 4, Some(4)), Ok((None, 4)));
        assert_eq!(inout_len(&mem, 8, Some(4)), Ok((Some(8), 0)));
        assert_eq!(inout_len(&mem, 14, Some(4)), Err(Errno::Fault));
    }

    #[test]
    fn mutable_borrows_do_not_alias() {
        let mut mem = [0u8; 32];
        let mut b = Borrows::new(&mut mem);
        assert!(b.bytes(0, 8).is_ok());
        assert_eq!(b.bytes_mut(4, 8).err(), Some(Errno::Fault));
        assert!(b.bytes(4, 8).is_ok());
        assert!(b.bytes_mut(16, 8).is_ok());
        assert_eq!(b.bytes(20, 1).err(), Some(Errno::Fault));
        assert_eq!(b.str(30, 4).err(), Some(Errno::Fault));
    }

    #[test]
    fn overlapping_iovecs_read_short() {
        let mut mem = [0u8; 64];
        // Three iovecs at 0: [32..40), [36..44) overlaps the first, [48..56).
        for (i, (p, l)) in [(32u32, 8u32), (36, 8), (48, 8)].iter().enumerate() {
            mem[i * 8..i * 8 + 4].copy_from_slice(&p.to_le_bytes());
            mem[i * 8 + 4..i * 8 + 8].copy_from_slice(&l.to_le_bytes());
        }
        let mut b = Borrows::new(&mut mem);
        assert_eq!(b.iovecs(0, 3, |iovs| iovs.len()), Ok(1));
        let mut b = Borrows::new(&mut mem);
        assert_eq!(b.iovecs(0, 2000, |iovs| iovs.len()), Err(Errno::Inval));
    }

    /// A record of 8 bytes whose second word links to the next.
    #[derive(Clone, Copy, Default)]
    struct Node(u32);

    impl GuestValue for Node {
        const SIZE: usize = 8;
        const ALIGN: usize = 4;
        fn load(mem: &[u8], at: usize) -> Result<Self, Errno> {
            u32::load(mem, at).map(Node)
        }
        fn store(self, mem: &mut [u8], at: usize) -> Result<(), Errno> {
            self.0.store(mem, at)
        }
    }

    impl crate::trace::TraceValue for Node {
        fn trace(&self, w: &mut crate::trace::Writer<'_>) {
            w.uint(u64::from(self.0));
        }
    }

    impl Chained for Node {
        type Value = Node;
        fn store_value(mem: &mut [u8], at: usize, value: &Node) -> Result<(), Errno> {
            value.store(mem, at)
        }
    }

    /// Memory whose word 0 points at the first of the records at `nodes`, each linked to `next`.
    fn list(links: &[(u32, u32)]) -> Vec<u8> {
        let mut mem = vec![0u8; 64 * 1024];
        links[0].0.store(&mut mem, 0).unwrap();
        for &(at, next) in links {
            next.store(&mut mem, at as usize + 4).unwrap();
        }
        mem
    }

    #[test]
    fn chains_are_walked_in_constant_memory_up_to_the_bound() {
        let mem = list(&[(8, 16), (16, 24), (24, 0)]);
        assert_eq!(chain::<Node>(&mem, 0, 10, 4), Ok(3));
        assert_eq!(chain::<Node>(&mem, 0, 2, 4), Ok(2));
        // A list that points back into itself: around the loop, up to the maximum.
        let looped = list(&[(8, 8)]);
        assert_eq!(chain::<Node>(&looped, 0, 5, 4), Ok(5));
        assert_eq!(chain::<Node>(&looped, 0, i32::MAX, 4), Ok(CHAIN_MAX));
        // The host's own bound, past any guest maximum.
        let links: Vec<(u32, u32)> = (1..=2000).map(|i| (i * 8, (i + 1) * 8)).collect();
        assert_eq!(chain::<Node>(&list(&links), 0, -1, 4), Ok(CHAIN_MAX));
        assert_eq!(
            chain::<Node>(&list(&[(8, 1 << 20)]), 0, 5, 4),
            Err(Errno::Fault)
        );
    }

    #[test]
    fn chains_are_stored_by_walking_again() {
        let mut mem = list(&[(8, 16), (16, 24), (24, 0)]);
        let values = [Node(7), Node(8), Node(9)];
        store_chain::<Node>(&mut mem, 0, 4, &values, 2).unwrap();
        let word = |m: &[u8], at| u32::load(m, at).unwrap();
        assert_eq!((word(&mem, 8), word(&mem, 16), word(&mem, 24)), (7, 8, 0));
        // A list cut short (here by the guest, in a real call by a record's own write).
        let mut short = list(&[(8, 0)]);
        assert_eq!(
            store_chain::<Node>(&mut short, 0, 4, &values, 3),
            Err(Errno::Fault)
        );
    }

    #[test]
    fn record_counts_are_bounded() {
        let mut buf = RecordBuf::<u64>::empty();
        assert_eq!(buf.as_slice().len(), 0);
        assert_eq!(buf.fill_default(3), Ok(()));
        assert_eq!(buf.as_slice().len(), 3);
        assert_eq!(buf.fill_default(RECORDS_MAX as i32), Ok(()));
        assert_eq!(buf.as_slice().len(), RECORDS_MAX);
        assert_eq!(buf.fill_default(RECORDS_MAX as i32 + 1), Err(Errno::Inval));
        assert_eq!(buf.as_slice().len(), 0, "left empty");
        assert_eq!(buf.fill_default(-1), Err(Errno::Inval));
    }

    #[test]
    fn records_load_in_place_and_refill() {
        let mut mem = [0u8; 64];
        for (i, b) in mem.iter_mut().enumerate() {
            *b = i as u8;
        }
        let mut buf = RecordBuf::<u32>::empty();
        assert_eq!(buf.fill_load(&mem, 4, 2), Ok(()));
        assert_eq!(
            buf.as_slice(),
            &[
                u32::from_le_bytes([4, 5, 6, 7]),
                u32::from_le_bytes([8, 9, 10, 11])
            ]
        );
        assert_eq!(buf.fill_load(&mem, 62, 1), Err(Errno::Fault));
        assert!(buf.as_slice().is_empty(), "a failed load leaves it empty");
        assert_eq!(buf.fill_load(&mem, 0, 1), Ok(()));
        assert_eq!(buf.as_slice(), &[u32::from_le_bytes([0, 1, 2, 3])]);
    }

    #[test]
    fn string_table() {
        let mut mem = [0u8; 64];
        mem[32..40].copy_from_slice(b"ab\0cde\0\0");
        store_string_table(&mut mem, 0, 3, 32, 8).unwrap();
        let ptr = |i: usize| u32::from_le_bytes(mem[i * 4..i * 4 + 4].try_into().unwrap());
        assert_eq!((ptr(0), ptr(1), ptr(2)), (32, 35, 39));
    }
}
