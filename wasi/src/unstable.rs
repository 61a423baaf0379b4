//! [`Unstable`]: WASI preview 0 (`wasi_unstable`, what old binaries import) served by any
//! preview 1 [`System`], written once.
//!
//! The preview 0 witx (`witx/preview0/`) is preview 1's less `sock_accept`, with these
//! differences, each converted here and pinned by a test (unit tests below, guest tests in
//! `wasi/tests/preview0.rs`):
//!
//! | what | preview 0 | preview 1 | conversion |
//! |---|---|---|---|
//! | `filestat.nlink` (`linkcount`) | `u32`, at offset 20; the record is 56 bytes | `u64`, at 24; 64 bytes | a count past `u32::MAX` is `EOVERFLOW`, as `stat(2)` answers a value its structure cannot hold |
//! | `whence` | `cur` 0, `end` 1, `set` 2 | `set` 0, `cur` 1, `end` 2 | by name; 3 and above are `EINVAL` in the glue |
//! | `subscription_clock` | `identifier` (a `userdata`) first: 40 bytes, `subscription` 56 | no `identifier`: 32, `subscription` 48 | `identifier` is dropped (preview 0 never returned it: events carry the subscription's `userdata`) |
//! | `rights` | 29 bits | a 30th, `sock_accept` | out, `sock_accept` is left off; in, a right preview 0 cannot name is neither asked for nor dropped by its absence: `path_open` asks for it (the directory's inheriting rights decide, as ever), `fd_fdstat_set_rights` keeps it when the descriptor has it |
//! | `fdstat` | preview 0's `rights` | preview 1's | its rights, as above |
//! | `sock_accept` | none | a function | a preview 0 guest cannot import it |
//!
//! Everything else (`errno`, `filetype`, `dirent`, `event`, `prestat`, the flags, `signal`,
//! and every other function, `fd_filestat_set_size`, `path_filestat_set_times` and
//! `proc_raise` included) has one representation in both, so the generator shares those types
//! ([`crate::preview0::types`] re-exports preview 1's) and the call is forwarded as it is.
//!
//! `Unstable<S>` is also a [`System`] and, when `S` is, a [`Wasmedge`]: both forwarded to `S`
//! unchanged, so one store's `Host<Unstable<S>>` serves every module the guest imports, on
//! one descriptor table. Under a [`Tracer`](crate::Tracer) (`Tracer<Unstable<S>>`) preview 0
//! calls are traced as the guest made them, with preview 0's values (`fd_seek(3, 0, SET)` for
//! whence 2); inside one (`Unstable<Tracer<S>>`), as the preview 1 calls they became.

use crate::preview0::types::*;
use crate::preview0::{Preview0, types as p0};
use crate::preview1::types as p1;
use crate::{System, SystemDelegate, Wasmedge, WasmedgeDelegate};
use std::io::{IoSlice, IoSliceMut};

/// A preview 1 system that also serves preview 0 ([`Preview0`]), converting what differs.
///
/// ```
/// use wasirun_wasi::preview0::Preview0;
/// use wasirun_wasi::{Errno, Fd, Nosys, System, SystemDelegate, Unstable, Whence};
///
/// /// A preview 1 system whose every file is at offset 7 after a seek.
/// struct Seven;
/// impl SystemDelegate for Seven {
///     fn delegate(&mut self) -> impl System {
///         Nosys
///     }
///     fn fd_seek(&mut self, _: Fd, offset: i64, whence: Whence) -> Result<u64, Errno> {
///         assert_eq!((offset, whence), (7, Whence::Set));
///         Ok(7)
///     }
/// }
///
/// let mut system = Unstable::new(Seven);
/// // Preview 0's `set` is 2: the preview 1 system sees its own `Set`.
/// let p0 = wasirun_wasi::preview0::types::Whence::Set;
/// assert_eq!(Preview0::fd_seek(&mut system, Fd(3), 7, p0), Ok(7));
/// assert_eq!(Preview0::sched_yield(&mut system), Err(Errno::Nosys));
/// ```
#[derive(Debug, Default)]
pub struct Unstable<S> {
    inner: S,
}

impl<S> Unstable<S> {
    /// Serves preview 0 (and what `inner` serves) with `inner`.
    pub fn new(inner: S) -> Self {
        Unstable { inner }
    }

    /// The preview 1 system.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The preview 1 system, mutable.
    pub fn inner_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the preview 1 system.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// Preview 0's `whence` as preview 1's: the same three, in another order.
fn whence(w: p0::Whence) -> p1::Whence {
    match w {
        p0::Whence::Cur => p1::Whence::Cur,
        p0::Whence::End => p1::Whence::End,
        p0::Whence::Set => p1::Whence::Set,
    }
}

/// The rights preview 1 has and preview 0 cannot name (`sock_accept`).
fn unnamed() -> p1::Rights {
    p1::Rights::all().difference(p1::Rights::from_bits_retain(p0::Rights::all().bits()))
}

/// Preview 0's rights as preview 1's: the same bits (preview 1 only added one after them).
fn rights_in(r: p0::Rights) -> p1::Rights {
    p1::Rights::from_bits_retain(r.bits())
}

/// Preview 1's rights as preview 0's: those preview 0 can name.
fn rights_out(r: p1::Rights) -> p0::Rights {
    p0::Rights::from_bits_truncate(r.bits())
}

/// Preview 1's `fdstat` as preview 0's.
fn fdstat(s: p1::Fdstat) -> p0::Fdstat {
    p0::Fdstat {
        fs_filetype: s.fs_filetype,
        fs_flags: s.fs_flags,
        fs_rights_base: rights_out(s.fs_rights_base),
        fs_rights_inheriting: rights_out(s.fs_rights_inheriting),
    }
}

/// Preview 1's `filestat` as preview 0's: `EOVERFLOW` for a link count past `u32::MAX`.
fn filestat(s: p1::Filestat) -> Result<p0::Filestat, Errno> {
    Ok(p0::Filestat {
        dev: s.dev,
        ino: s.ino,
        filetype: s.filetype,
        nlink: u32::try_from(s.nlink).map_err(|_| Errno::Overflow)?,
        size: s.size,
        atim: s.atim,
        mtim: s.mtim,
        ctim: s.ctim,
    })
}

/// Preview 0's subscription as preview 1's: a clock's `identifier` is dropped.
fn subscription(s: &p0::Subscription) -> p1::Subscription {
    let u = match s.u {
        p0::SubscriptionU::Clock(c) => p1::SubscriptionU::Clock(p1::SubscriptionClock {
            id: c.id,
            timeout: c.timeout,
            precision: c.precision,
            flags: c.flags,
        }),
        p0::SubscriptionU::FdRead(fd) => p1::SubscriptionU::FdRead(fd),
        p0::SubscriptionU::FdWrite(fd) => p1::SubscriptionU::FdWrite(fd),
    };
    p1::Subscription {
        userdata: s.userdata,
        u,
    }
}

impl<S: System> Preview0 for Unstable<S> {
    fn args_get(&mut self, argv_buf: &mut [u8]) -> Result<(), Errno> {
        System::args_get(&mut self.inner, argv_buf)
    }
    fn args_sizes_get(&mut self) -> Result<(Size, Size), Errno> {
        System::args_sizes_get(&mut self.inner)
    }
    fn environ_get(&mut self, environ_buf: &mut [u8]) -> Result<(), Errno> {
        System::environ_get(&mut self.inner, environ_buf)
    }
    fn environ_sizes_get(&mut self) -> Result<(Size, Size), Errno> {
        System::environ_sizes_get(&mut self.inner)
    }
    fn clock_res_get(&mut self, id: Clockid) -> Result<Timestamp, Errno> {
        System::clock_res_get(&mut self.inner, id)
    }
    fn clock_time_get(&mut self, id: Clockid, precision: Timestamp) -> Result<Timestamp, Errno> {
        System::clock_time_get(&mut self.inner, id, precision)
    }
    fn fd_advise(
        &mut self,
        fd: Fd,
        offset: Filesize,
        len: Filesize,
        advice: Advice,
    ) -> Result<(), Errno> {
        System::fd_advise(&mut self.inner, fd, offset, len, advice)
    }
    fn fd_allocate(&mut self, fd: Fd, offset: Filesize, len: Filesize) -> Result<(), Errno> {
        System::fd_allocate(&mut self.inner, fd, offset, len)
    }
    fn fd_close(&mut self, fd: Fd) -> Result<(), Errno> {
        System::fd_close(&mut self.inner, fd)
    }
    fn fd_datasync(&mut self, fd: Fd) -> Result<(), Errno> {
        System::fd_datasync(&mut self.inner, fd)
    }
    fn fd_fdstat_set_flags(&mut self, fd: Fd, flags: Fdflags) -> Result<(), Errno> {
        System::fd_fdstat_set_flags(&mut self.inner, fd, flags)
    }
    fn fd_filestat_set_size(&mut self, fd: Fd, size: Filesize) -> Result<(), Errno> {
        System::fd_filestat_set_size(&mut self.inner, fd, size)
    }
    fn fd_filestat_set_times(
        &mut self,
        fd: Fd,
        atim: Timestamp,
        mtim: Timestamp,
        fst_flags: Fstflags,
    ) -> Result<(), Errno> {
        System::fd_filestat_set_times(&mut self.inner, fd, atim, mtim, fst_flags)
    }
    fn fd_pread(
        &mut self,
        fd: Fd,
        iovs: &mut [IoSliceMut<'_>],
        offset: Filesize,
    ) -> Result<Size, Errno> {
        System::fd_pread(&mut self.inner, fd, iovs, offset)
    }
    fn fd_prestat_get(&mut self, fd: Fd) -> Result<Prestat, Errno> {
        System::fd_prestat_get(&mut self.inner, fd)
    }
    fn fd_prestat_dir_name(&mut self, fd: Fd, path: &mut [u8]) -> Result<(), Errno> {
        System::fd_prestat_dir_name(&mut self.inner, fd, path)
    }
    fn fd_pwrite(&mut self, fd: Fd, iovs: &[IoSlice<'_>], offset: Filesize) -> Result<Size, Errno> {
        System::fd_pwrite(&mut self.inner, fd, iovs, offset)
    }
    fn fd_read(&mut self, fd: Fd, iovs: &mut [IoSliceMut<'_>]) -> Result<Size, Errno> {
        System::fd_read(&mut self.inner, fd, iovs)
    }
    fn fd_readdir(&mut self, fd: Fd, buf: &mut [u8], cookie: Dircookie) -> Result<Size, Errno> {
        System::fd_readdir(&mut self.inner, fd, buf, cookie)
    }
    fn fd_renumber(&mut self, fd: Fd, to: Fd) -> Result<(), Errno> {
        System::fd_renumber(&mut self.inner, fd, to)
    }
    fn fd_sync(&mut self, fd: Fd) -> Result<(), Errno> {
        System::fd_sync(&mut self.inner, fd)
    }
    fn fd_tell(&mut self, fd: Fd) -> Result<Filesize, Errno> {
        System::fd_tell(&mut self.inner, fd)
    }
    fn fd_write(&mut self, fd: Fd, iovs: &[IoSlice<'_>]) -> Result<Size, Errno> {
        System::fd_write(&mut self.inner, fd, iovs)
    }
    fn path_create_directory(&mut self, fd: Fd, path: &str) -> Result<(), Errno> {
        System::path_create_directory(&mut self.inner, fd, path)
    }
    fn path_filestat_set_times(
        &mut self,
        fd: Fd,
        flags: Lookupflags,
        path: &str,
        atim: Timestamp,
        mtim: Timestamp,
        fst_flags: Fstflags,
    ) -> Result<(), Errno> {
        System::path_filestat_set_times(&mut self.inner, fd, flags, path, atim, mtim, fst_flags)
    }
    fn path_link(
        &mut self,
        old_fd: Fd,
        old_flags: Lookupflags,
        old_path: &str,
        new_fd: Fd,
        new_path: &str,
    ) -> Result<(), Errno> {
        System::path_link(
            &mut self.inner,
            old_fd,
            old_flags,
            old_path,
            new_fd,
            new_path,
        )
    }
    fn path_readlink(&mut self, fd: Fd, path: &str, buf: &mut [u8]) -> Result<Size, Errno> {
        System::path_readlink(&mut self.inner, fd, path, buf)
    }
    fn path_remove_directory(&mut self, fd: Fd, path: &str) -> Result<(), Errno> {
        System::path_remove_directory(&mut self.inner, fd, path)
    }
    fn path_rename(
        &mut self,
        fd: Fd,
        old_path: &str,
        new_fd: Fd,
        new_path: &str,
    ) -> Result<(), Errno> {
        System::path_rename(&mut self.inner, fd, old_path, new_fd, new_path)
    }
    fn path_symlink(&mut self, old_path: &str, fd: Fd, new_path: &str) -> Result<(), Errno> {
        System::path_symlink(&mut self.inner, old_path, fd, new_path)
    }
    fn path_unlink_file(&mut self, fd: Fd, path: &str) -> Result<(), Errno> {
        System::path_unlink_file(&mut self.inner, fd, path)
    }
    fn proc_exit(&mut self, rval: Exitcode) {
        System::proc_exit(&mut self.inner, rval)
    }
    fn proc_raise(&mut self, sig: Signal) -> Result<(), Errno> {
        System::proc_raise(&mut self.inner, sig)
    }
    fn sched_yield(&mut self) -> Result<(), Errno> {
        System::sched_yield(&mut self.inner)
    }
    fn random_get(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
        System::random_get(&mut self.inner, buf)
    }
    fn sock_recv(
        &mut self,
        fd: Fd,
        ri_data: &mut [IoSliceMut<'_>],
        ri_flags: Riflags,
    ) -> Result<(Size, Roflags), Errno> {
        System::sock_recv(&mut self.inner, fd, ri_data, ri_flags)
    }
    fn sock_send(
        &mut self,
        fd: Fd,
        si_data: &[IoSlice<'_>],
        si_flags: Siflags,
    ) -> Result<Size, Errno> {
        System::sock_send(&mut self.inner, fd, si_data, si_flags)
    }
    fn sock_shutdown(&mut self, fd: Fd, how: Sdflags) -> Result<(), Errno> {
        System::sock_shutdown(&mut self.inner, fd, how)
    }
    fn fd_fdstat_get(&mut self, fd: Fd) -> Result<Fdstat, Errno> {
        System::fd_fdstat_get(&mut self.inner, fd).map(fdstat)
    }
    fn fd_fdstat_set_rights(
        &mut self,
        fd: Fd,
        fs_rights_base: Rights,
        fs_rights_inheriting: Rights,
    ) -> Result<(), Errno> {
        // Only rights preview 0 can name are dropped by leaving them out.
        let now = System::fd_fdstat_get(&mut self.inner, fd)?;
        let keep = unnamed();
        System::fd_fdstat_set_rights(
            &mut self.inner,
            fd,
            rights_in(fs_rights_base) | (now.fs_rights_base & keep),
            rights_in(fs_rights_inheriting) | (now.fs_rights_inheriting & keep),
        )
    }
    fn fd_filestat_get(&mut self, fd: Fd) -> Result<Filestat, Errno> {
        filestat(System::fd_filestat_get(&mut self.inner, fd)?)
    }
    fn fd_seek(&mut self, fd: Fd, offset: Filedelta, whence: Whence) -> Result<Filesize, Errno> {
        System::fd_seek(&mut self.inner, fd, offset, self::whence(whence))
    }
    fn path_filestat_get(
        &mut self,
        fd: Fd,
        flags: Lookupflags,
        path: &str,
    ) -> Result<Filestat, Errno> {
        filestat(System::path_filestat_get(&mut self.inner, fd, flags, path)?)
    }
    fn path_open(
        &mut self,
        fd: Fd,
        dirflags: Lookupflags,
        path: &str,
        oflags: Oflags,
        fs_rights_base: Rights,
        fs_rights_inheriting: Rights,
        fdflags: Fdflags,
    ) -> Result<Fd, Errno> {
        // Rights preview 0 cannot name are asked for: the directory's inheriting rights decide.
        System::path_open(
            &mut self.inner,
            fd,
            dirflags,
            path,
            oflags,
            rights_in(fs_rights_base) | unnamed(),
            rights_in(fs_rights_inheriting) | unnamed(),
            fdflags,
        )
    }
    fn poll_oneoff(&mut self, in_: &[Subscription], out: &mut [Event]) -> Result<Size, Errno> {
        // The glue bounds `in_` (RECORDS_MAX). The few a poll mostly has are converted on the
        // stack (384 bytes, cleared each call), more into a buffer allocated fallibly.
        const INLINE: usize = 8;
        if in_.len() <= INLINE {
            let mut buf = [p1::Subscription::default(); INLINE];
            for (to, from) in buf.iter_mut().zip(in_) {
                *to = subscription(from);
            }
            System::poll_oneoff(&mut self.inner, &buf[..in_.len()], out)
        } else {
            let mut buf = Vec::new();
            buf.try_reserve_exact(in_.len())?;
            buf.extend(in_.iter().map(subscription));
            System::poll_oneoff(&mut self.inner, &buf, out)
        }
    }
    fn sizes_for_args_get(&mut self) -> Result<(Size, Size), Errno> {
        System::sizes_for_args_get(&mut self.inner)
    }
    fn sizes_for_environ_get(&mut self) -> Result<(Size, Size), Errno> {
        System::sizes_for_environ_get(&mut self.inner)
    }
    fn refused(&mut self, call: &crate::glue::Refused<'_>) {
        System::refused(&mut self.inner, call)
    }
    fn stop_requested(&mut self) -> bool {
        System::stop_requested(&mut self.inner)
    }
}

impl<S: System> SystemDelegate for Unstable<S> {
    fn delegate(&mut self) -> impl System {
        &mut self.inner
    }
}

impl<S: Wasmedge> WasmedgeDelegate for Unstable<S> {
    fn delegate(&mut self) -> impl Wasmedge {
        &mut self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Nosys;
    use crate::abi::GuestValue;

    #[test]
    fn whence_converts_by_name_not_by_value() {
        assert_eq!(p0::Whence::from_repr(0).map(whence), Some(p1::Whence::Cur));
        assert_eq!(p0::Whence::from_repr(1).map(whence), Some(p1::Whence::End));
        assert_eq!(p0::Whence::from_repr(2).map(whence), Some(p1::Whence::Set));
        assert_eq!(p0::Whence::from_repr(3), None);
        assert_eq!(p1::Whence::Set as u8, 0);
    }

    #[test]
    fn rights_preview_0_cannot_name_are_sock_accept() {
        assert_eq!(unnamed(), p1::Rights::SOCK_ACCEPT);
        assert_eq!(rights_in(p0::Rights::all()) | unnamed(), p1::Rights::all());
        assert_eq!(rights_out(p1::Rights::all()), p0::Rights::all());
        assert_eq!(rights_out(p1::Rights::SOCK_ACCEPT), p0::Rights::empty());
        let some = p0::Rights::FD_READ | p0::Rights::PATH_FILESTAT_SET_TIMES;
        assert_eq!(rights_out(rights_in(some)), some);
        assert_eq!(
            rights_in(p0::Rights::SOCK_SHUTDOWN),
            p1::Rights::SOCK_SHUTDOWN
        );
    }

    #[test]
    fn filestat_keeps_every_field_and_refuses_a_link_count_past_u32() {
        let mut s = p1::Filestat {
            dev: 1,
            ino: 2,
            filetype: Filetype::RegularFile,
            nlink: u64::from(u32::MAX),
            size: 5,
            atim: 6,
            mtim: 7,
            ctim: 8,
        };
        let p = filestat(s).unwrap();
        assert_eq!(
            (
                p.dev, p.ino, p.filetype, p.nlink, p.size, p.atim, p.mtim, p.ctim
            ),
            (1, 2, Filetype::RegularFile, u32::MAX, 5, 6, 7, 8)
        );
        s.nlink += 1;
        assert_eq!(filestat(s), Err(Errno::Overflow));
        assert_eq!((p0::Filestat::SIZE, p1::Filestat::SIZE), (56, 64));
    }

    #[test]
    fn a_clock_subscription_loses_its_identifier() {
        let clock = p0::Subscription {
            userdata: 9,
            u: p0::SubscriptionU::Clock(p0::SubscriptionClock {
                identifier: 77,
                id: Clockid::Monotonic,
                timeout: 10,
                precision: 11,
                flags: Subclockflags::SUBSCRIPTION_CLOCK_ABSTIME,
            }),
        };
        let want = p1::Subscription {
            userdata: 9,
            u: p1::SubscriptionU::Clock(p1::SubscriptionClock {
                id: Clockid::Monotonic,
                timeout: 10,
                precision: 11,
                flags: Subclockflags::SUBSCRIPTION_CLOCK_ABSTIME,
            }),
        };
        assert_eq!(subscription(&clock), want);
        let fd = SubscriptionFdReadwrite {
            file_descriptor: Fd(4),
        };
        for (u0, u1) in [
            (p0::SubscriptionU::FdRead(fd), p1::SubscriptionU::FdRead(fd)),
            (
                p0::SubscriptionU::FdWrite(fd),
                p1::SubscriptionU::FdWrite(fd),
            ),
        ] {
            let s = subscription(&p0::Subscription { userdata: 1, u: u0 });
            assert_eq!(s, p1::Subscription { userdata: 1, u: u1 });
        }
        assert_eq!((p0::Subscription::SIZE, p1::Subscription::SIZE), (56, 48));
    }

    /// Keeps what the adapter asked of it.
    #[derive(Default)]
    struct Seen {
        rights: Option<(p1::Rights, p1::Rights)>,
        polled: Vec<p1::Subscription>,
    }

    impl SystemDelegate for Seen {
        fn delegate(&mut self) -> impl System {
            Nosys
        }
        fn fd_fdstat_get(&mut self, _: Fd) -> Result<p1::Fdstat, Errno> {
            Ok(p1::Fdstat {
                fs_filetype: Filetype::SocketStream,
                fs_flags: Fdflags::empty(),
                fs_rights_base: p1::Rights::all(),
                fs_rights_inheriting: p1::Rights::FD_READ,
            })
        }
        fn fd_fdstat_set_rights(
            &mut self,
            _: Fd,
            base: p1::Rights,
            inheriting: p1::Rights,
        ) -> Result<(), Errno> {
            self.rights = Some((base, inheriting));
            Ok(())
        }
        fn path_open(
            &mut self,
            _: Fd,
            _: Lookupflags,
            _: &str,
            _: Oflags,
            base: p1::Rights,
            inheriting: p1::Rights,
            _: Fdflags,
        ) -> Result<Fd, Errno> {
            self.rights = Some((base, inheriting));
            Ok(Fd(5))
        }
        fn poll_oneoff(
            &mut self,
            in_: &[p1::Subscription],
            _: &mut [Event],
        ) -> Result<Size, Errno> {
            self.polled = in_.to_vec();
            Ok(0)
        }
    }

    #[test]
    fn fdstat_leaves_sock_accept_out_and_set_rights_keeps_it() {
        let mut s = Unstable::new(Seen::default());
        let st = Preview0::fd_fdstat_get(&mut s, Fd(3)).unwrap();
        assert_eq!(st.fs_rights_base, p0::Rights::all());
        assert_eq!(st.fs_rights_inheriting, p0::Rights::FD_READ);
        Preview0::fd_fdstat_set_rights(&mut s, Fd(3), p0::Rights::FD_READ, p0::Rights::empty())
            .unwrap();
        assert_eq!(
            s.inner().rights,
            Some((
                p1::Rights::FD_READ | p1::Rights::SOCK_ACCEPT,
                p1::Rights::empty()
            ))
        );
    }

    #[test]
    fn path_open_asks_for_what_preview_0_cannot_name() {
        let mut s = Unstable::new(Seen::default());
        let fd = Preview0::path_open(
            &mut s,
            Fd(3),
            Lookupflags::empty(),
            "f",
            Oflags::empty(),
            p0::Rights::FD_WRITE,
            p0::Rights::empty(),
            Fdflags::empty(),
        );
        assert_eq!(fd, Ok(Fd(5)));
        assert_eq!(
            s.inner().rights,
            Some((
                p1::Rights::FD_WRITE | p1::Rights::SOCK_ACCEPT,
                p1::Rights::SOCK_ACCEPT
            ))
        );
    }

    #[test]
    fn poll_oneoff_converts_on_the_stack_and_past_it() {
        for n in [
            0,
            1,
            crate::abi::RECORDS_INLINE,
            crate::abi::RECORDS_INLINE + 1,
            1000,
        ] {
            let subs: Vec<_> = (0..n as u64)
                .map(|i| p0::Subscription {
                    userdata: i,
                    u: p0::SubscriptionU::Clock(p0::SubscriptionClock {
                        identifier: !i,
                        timeout: i * 2,
                        ..Default::default()
                    }),
                })
                .collect();
            let mut s = Unstable::new(Seen::default());
            assert_eq!(Preview0::poll_oneoff(&mut s, &subs, &mut []), Ok(0));
            let want: Vec<_> = subs.iter().map(subscription).collect();
            assert_eq!(s.inner().polled, want, "{n} subscriptions");
        }
    }

    #[test]
    fn the_rest_is_forwarded_and_the_adapter_is_a_system_too() {
        let mut s = Unstable::new(Nosys);
        assert_eq!(
            Preview0::proc_raise(&mut s, Signal::Term),
            Err(Errno::Nosys)
        );
        assert_eq!(
            Preview0::fd_filestat_set_size(&mut s, Fd(3), 1),
            Err(Errno::Nosys)
        );
        assert_eq!(System::sched_yield(&mut s), Err(Errno::Nosys));
        assert_eq!(Wasmedge::sock_listen(&mut s, Fd(3), 1), Err(Errno::Nosys));
    }
}
