//! [`Mounted`]: a [`MemFs`] stacked on another system, in one fd space.

use super::MemFs;
use crate::net::urls::AddFd;
use rustix::fd::OwnedFd;
use std::io::{IoSlice, IoSliceMut};
use wasirun_wasi::wasmedge::types::{
    AddressFamily, IpVersion, Port, SockOptLevel, SockOptName, SockType,
};
use wasirun_wasi::*;

/// Which system a guest fd is, and its number there.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Inner(Fd),
    Mem(Fd),
}

/// A system with a [`MemFs`] mounted beside it: the guest sees one fd space, and each of its
/// fds goes to the system that opened it.
///
/// The guest's numbers are this wrapper's own, lowest free first; each stands for an fd of
/// the wrapped system or of the file system. At the start the wrapped system's fds keep
/// their numbers up to its last preopened directory, the file system's preopens come next
/// (so that wasi-libc, which looks for preopens from fd 3 up to the first that is none,
/// finds them), then the wrapped system's other fds (preopened sockets). Calls on an fd go
/// to its system; `path_rename` and `path_link` between the two are `EXDEV`; `fd_renumber`
/// moves numbers here, closing what it replaces in its own system; calls with no fd go to the
/// wrapped system. `poll_oneoff` over both answers the file system's fds at once (files are
/// always ready) together with whatever of the wrapped system's is ready without waiting, and
/// waits in the wrapped system only when none of the file system's fds is subscribed.
/// The WasmEdge socket calls go to the wrapped system (`ENOTSOCK` on the file system's fds).
pub struct Mounted<S> {
    inner: S,
    mem: MemFs,
    fds: Vec<Option<Side>>,
}

impl<S: System> Mounted<S> {
    /// Stacks `mem` on `inner`, numbering their open fds as the type docs say. `inner`'s fds
    /// are found by asking `fd_fdstat_get` from 0 up to the first that is not open.
    pub fn new(mut inner: S, mem: MemFs) -> Self {
        let mut open = Vec::new();
        let mut last_preopen = None;
        while let Ok(n) = u32::try_from(open.len()) {
            if System::fd_fdstat_get(&mut inner, Fd(n)).is_err() {
                break;
            }
            if System::fd_prestat_get(&mut inner, Fd(n)).is_ok() {
                last_preopen = Some(open.len());
            }
            open.push(Side::Inner(Fd(n)));
        }
        let split = last_preopen.map_or(open.len().min(3), |at| at + 1);
        let rest = open.split_off(split);
        open.extend(mem.open_fds().map(Side::Mem));
        open.extend(rest);
        Mounted {
            inner,
            mem,
            fds: open.into_iter().map(Some).collect(),
        }
    }
}

impl<S> Mounted<S> {
    /// The wrapped system.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The wrapped system, mutable (fds it opens this way are not the guest's).
    pub fn inner_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Where guest fd `fd` goes: `EBADF` when it is not open.
    #[inline]
    fn side(&self, fd: Fd) -> Result<Side, Errno> {
        self.fds
            .get(fd.0 as usize)
            .copied()
            .flatten()
            .ok_or(Errno::Badf)
    }

    /// A guest number, the lowest free, for `side`.
    fn add(&mut self, side: Side) -> Fd {
        match self.fds.iter().position(Option::is_none) {
            Some(free) => {
                self.fds[free] = Some(side);
                Fd(free as u32)
            }
            None => {
                self.fds.push(Some(side));
                Fd((self.fds.len() - 1) as u32)
            }
        }
    }

    /// Forgets guest fd `fd`, keeping the map no longer than its last open fd.
    fn forget(&mut self, fd: Fd) {
        self.fds[fd.0 as usize] = None;
        while matches!(self.fds.last(), Some(None)) {
            self.fds.pop();
        }
    }

    /// The wrapped system's number for guest fd `fd`: `EBADF` when it is not open,
    /// `ENOTSOCK` when it is the file system's (the WasmEdge calls are all on sockets).
    fn inner_fd(&self, fd: Fd) -> Result<Fd, Errno> {
        match self.side(fd)? {
            Side::Inner(fd) => Ok(fd),
            Side::Mem(_) => Err(Errno::Notsock),
        }
    }
}

/// Calls `$method` on the system guest fd `$fd` belongs to, with its number there.
macro_rules! route {
    ($self:ident, $fd:expr, $method:ident($($arg:expr),*)) => {
        match $self.side($fd)? {
            Side::Inner(fd) => System::$method(&mut $self.inner, fd $(, $arg)*),
            Side::Mem(fd) => System::$method(&mut $self.mem, fd $(, $arg)*),
        }
    };
}

/// The fd a subscription is on, if any.
fn sub_fd(sub: &Subscription) -> Option<Fd> {
    match sub.u {
        SubscriptionU::Clock(_) => None,
        SubscriptionU::FdRead(r) | SubscriptionU::FdWrite(r) => Some(r.file_descriptor),
    }
}

/// `sub`, on fd `fd` instead.
fn on_fd(sub: &Subscription, fd: Fd) -> Subscription {
    let rw = SubscriptionFdReadwrite {
        file_descriptor: fd,
    };
    let u = match sub.u {
        SubscriptionU::FdRead(_) => SubscriptionU::FdRead(rw),
        SubscriptionU::FdWrite(_) => SubscriptionU::FdWrite(rw),
        clock => clock,
    };
    Subscription {
        userdata: sub.userdata,
        u,
    }
}

impl<S: System> SystemDelegate for Mounted<S> {
    fn delegate(&mut self) -> impl System {
        &mut self.inner
    }

    fn fd_advise(
        &mut self,
        fd: Fd,
        offset: Filesize,
        len: Filesize,
        advice: Advice,
    ) -> Result<(), Errno> {
        route!(self, fd, fd_advise(offset, len, advice))
    }
    fn fd_allocate(&mut self, fd: Fd, offset: Filesize, len: Filesize) -> Result<(), Errno> {
        route!(self, fd, fd_allocate(offset, len))
    }
    fn fd_close(&mut self, fd: Fd) -> Result<(), Errno> {
        route!(self, fd, fd_close())?;
        self.forget(fd);
        Ok(())
    }
    fn fd_datasync(&mut self, fd: Fd) -> Result<(), Errno> {
        route!(self, fd, fd_datasync())
    }
    fn fd_fdstat_get(&mut self, fd: Fd) -> Result<Fdstat, Errno> {
        route!(self, fd, fd_fdstat_get())
    }
    fn fd_fdstat_set_flags(&mut self, fd: Fd, flags: Fdflags) -> Result<(), Errno> {
        route!(self, fd, fd_fdstat_set_flags(flags))
    }
    fn fd_fdstat_set_rights(
        &mut self,
        fd: Fd,
        base: Rights,
        inheriting: Rights,
    ) -> Result<(), Errno> {
        route!(self, fd, fd_fdstat_set_rights(base, inheriting))
    }
    fn fd_filestat_get(&mut self, fd: Fd) -> Result<Filestat, Errno> {
        route!(self, fd, fd_filestat_get())
    }
    fn fd_filestat_set_size(&mut self, fd: Fd, size: Filesize) -> Result<(), Errno> {
        route!(self, fd, fd_filestat_set_size(size))
    }
    fn fd_filestat_set_times(
        &mut self,
        fd: Fd,
        atim: Timestamp,
        mtim: Timestamp,
        f: Fstflags,
    ) -> Result<(), Errno> {
        route!(self, fd, fd_filestat_set_times(atim, mtim, f))
    }
    fn fd_pread(
        &mut self,
        fd: Fd,
        iovs: &mut [IoSliceMut<'_>],
        offset: Filesize,
    ) -> Result<Size, Errno> {
        route!(self, fd, fd_pread(iovs, offset))
    }
    fn fd_prestat_get(&mut self, fd: Fd) -> Result<Prestat, Errno> {
        route!(self, fd, fd_prestat_get())
    }
    fn fd_prestat_dir_name(&mut self, fd: Fd, path: &mut [u8]) -> Result<(), Errno> {
        route!(self, fd, fd_prestat_dir_name(path))
    }
    fn fd_pwrite(&mut self, fd: Fd, iovs: &[IoSlice<'_>], offset: Filesize) -> Result<Size, Errno> {
        route!(self, fd, fd_pwrite(iovs, offset))
    }
    fn fd_read(&mut self, fd: Fd, iovs: &mut [IoSliceMut<'_>]) -> Result<Size, Errno> {
        route!(self, fd, fd_read(iovs))
    }
    fn fd_readdir(&mut self, fd: Fd, buf: &mut [u8], cookie: Dircookie) -> Result<Size, Errno> {
        route!(self, fd, fd_readdir(buf, cookie))
    }
    fn fd_renumber(&mut self, fd: Fd, to: Fd) -> Result<(), Errno> {
        let from = self.side(fd)?;
        self.side(to)?;
        if fd == to {
            return Ok(());
        }
        // The fd renumbered over is closed, as the wrapped systems do it; it is gone
        // whatever its close says.
        let _ = route!(self, to, fd_close());
        self.fds[to.0 as usize] = Some(from);
        self.forget(fd);
        Ok(())
    }
    fn fd_seek(&mut self, fd: Fd, offset: Filedelta, whence: Whence) -> Result<Filesize, Errno> {
        route!(self, fd, fd_seek(offset, whence))
    }
    fn fd_sync(&mut self, fd: Fd) -> Result<(), Errno> {
        route!(self, fd, fd_sync())
    }
    fn fd_tell(&mut self, fd: Fd) -> Result<Filesize, Errno> {
        route!(self, fd, fd_tell())
    }
    fn fd_write(&mut self, fd: Fd, iovs: &[IoSlice<'_>]) -> Result<Size, Errno> {
        route!(self, fd, fd_write(iovs))
    }
    fn path_create_directory(&mut self, fd: Fd, path: &str) -> Result<(), Errno> {
        route!(self, fd, path_create_directory(path))
    }
    fn path_filestat_get(
        &mut self,
        fd: Fd,
        flags: Lookupflags,
        path: &str,
    ) -> Result<Filestat, Errno> {
        route!(self, fd, path_filestat_get(flags, path))
    }
    fn path_filestat_set_times(
        &mut self,
        fd: Fd,
        flags: Lookupflags,
        path: &str,
        atim: Timestamp,
        mtim: Timestamp,
        f: Fstflags,
    ) -> Result<(), Errno> {
        route!(
            self,
            fd,
            path_filestat_set_times(flags, path, atim, mtim, f)
        )
    }
    fn path_link(
        &mut self,
        old_fd: Fd,
        old_flags: Lookupflags,
        old_path: &str,
        new_fd: Fd,
        new_path: &str,
    ) -> Result<(), Errno> {
        match (self.side(old_fd)?, self.side(new_fd)?) {
            (Side::Inner(a), Side::Inner(b)) => {
                System::path_link(&mut self.inner, a, old_flags, old_path, b, new_path)
            }
            (Side::Mem(a), Side::Mem(b)) => {
                System::path_link(&mut self.mem, a, old_flags, old_path, b, new_path)
            }
            _ => Err(Errno::Xdev),
        }
    }
    fn path_open(
        &mut self,
        fd: Fd,
        dirflags: Lookupflags,
        path: &str,
        oflags: Oflags,
        base: Rights,
        inheriting: Rights,
        fdflags: Fdflags,
    ) -> Result<Fd, Errno> {
        let side = match self.side(fd)? {
            Side::Inner(fd) => Side::Inner(System::path_open(
                &mut self.inner,
                fd,
                dirflags,
                path,
                oflags,
                base,
                inheriting,
                fdflags,
            )?),
            Side::Mem(fd) => Side::Mem(System::path_open(
                &mut self.mem,
                fd,
                dirflags,
                path,
                oflags,
                base,
                inheriting,
                fdflags,
            )?),
        };
        Ok(self.add(side))
    }
    fn path_readlink(&mut self, fd: Fd, path: &str, buf: &mut [u8]) -> Result<Size, Errno> {
        route!(self, fd, path_readlink(path, buf))
    }
    fn path_remove_directory(&mut self, fd: Fd, path: &str) -> Result<(), Errno> {
        route!(self, fd, path_remove_directory(path))
    }
    fn path_rename(
        &mut self,
        fd: Fd,
        old_path: &str,
        new_fd: Fd,
        new_path: &str,
    ) -> Result<(), Errno> {
        match (self.side(fd)?, self.side(new_fd)?) {
            (Side::Inner(a), Side::Inner(b)) => {
                System::path_rename(&mut self.inner, a, old_path, b, new_path)
            }
            (Side::Mem(a), Side::Mem(b)) => {
                System::path_rename(&mut self.mem, a, old_path, b, new_path)
            }
            _ => Err(Errno::Xdev),
        }
    }
    fn path_symlink(&mut self, old_path: &str, fd: Fd, new_path: &str) -> Result<(), Errno> {
        match self.side(fd)? {
            Side::Inner(fd) => System::path_symlink(&mut self.inner, old_path, fd, new_path),
            Side::Mem(fd) => System::path_symlink(&mut self.mem, old_path, fd, new_path),
        }
    }
    fn path_unlink_file(&mut self, fd: Fd, path: &str) -> Result<(), Errno> {
        route!(self, fd, path_unlink_file(path))
    }
    fn poll_oneoff(&mut self, in_: &[Subscription], out: &mut [Event]) -> Result<Size, Errno> {
        let mut subs = Vec::new();
        subs.try_reserve_exact(in_.len() + 1)
            .map_err(|_| Errno::Nomem)?;
        let mut ready = 0;
        for sub in in_ {
            let Some(fd) = sub_fd(sub) else {
                subs.push(*sub);
                continue;
            };
            match self.side(fd) {
                Ok(Side::Mem(fd)) => {
                    out[ready] = self.mem.ready(&on_fd(sub, fd))?;
                    ready += 1;
                }
                Ok(Side::Inner(fd)) => subs.push(on_fd(sub, fd)),
                // No wrapped system holds this many fds: it answers `EBADF` as it answers
                // for any closed fd.
                Err(_) => subs.push(on_fd(sub, Fd(u32::MAX))),
            }
        }
        if ready == 0 {
            return System::poll_oneoff(&mut self.inner, &subs, out);
        }
        if subs.is_empty() {
            return Ok(ready as Size);
        }
        // Something is ready: the wrapped system says what of its own is too, without waiting,
        // by a zero timeout whose userdata no subscription has.
        let mut marker = u64::MAX;
        while subs.iter().any(|s| s.userdata == marker) {
            marker -= 1;
        }
        subs.push(Subscription {
            userdata: marker,
            u: SubscriptionU::Clock(SubscriptionClock {
                id: Clockid::Monotonic,
                timeout: 0,
                precision: 0,
                flags: Subclockflags::empty(),
            }),
        });
        let mut events = Vec::new();
        events
            .try_reserve_exact(subs.len())
            .map_err(|_| Errno::Nomem)?;
        events.resize(subs.len(), Event::default());
        let n = System::poll_oneoff(&mut self.inner, &subs, &mut events)? as usize;
        for event in events[..n].iter().filter(|e| e.userdata != marker) {
            out[ready] = *event;
            ready += 1;
        }
        Ok(ready as Size)
    }
    fn sock_accept(&mut self, fd: Fd, flags: Fdflags) -> Result<Fd, Errno> {
        let new = route!(self, fd, sock_accept(flags))?;
        let side = match self.side(fd)? {
            Side::Inner(_) => Side::Inner(new),
            Side::Mem(_) => Side::Mem(new),
        };
        Ok(self.add(side))
    }
    fn sock_recv(
        &mut self,
        fd: Fd,
        ri_data: &mut [IoSliceMut<'_>],
        ri_flags: Riflags,
    ) -> Result<(Size, Roflags), Errno> {
        route!(self, fd, sock_recv(ri_data, ri_flags))
    }
    fn sock_send(
        &mut self,
        fd: Fd,
        si_data: &[IoSlice<'_>],
        si_flags: Siflags,
    ) -> Result<Size, Errno> {
        route!(self, fd, sock_send(si_data, si_flags))
    }
    fn sock_shutdown(&mut self, fd: Fd, how: Sdflags) -> Result<(), Errno> {
        route!(self, fd, sock_shutdown(how))
    }
}

impl<S: AddFd> AddFd for Mounted<S> {
    fn reserve_fd(&self) -> Result<(), Errno> {
        self.inner.reserve_fd()
    }
    fn add_fd(&mut self, fd: OwnedFd) -> Result<Fd, Errno> {
        let fd = self.inner.add_fd(fd)?;
        Ok(self.add(Side::Inner(fd)))
    }
}

impl<S: Wasmedge> WasmedgeDelegate for Mounted<S> {
    fn delegate(&mut self) -> impl Wasmedge {
        &mut self.inner
    }

    fn sock_open(&mut self, af: AddressFamily, socktype: SockType) -> Result<Fd, Errno> {
        let fd = Wasmedge::sock_open(&mut self.inner, af, socktype)?;
        Ok(self.add(Side::Inner(fd)))
    }
    fn sock_bind(&mut self, fd: Fd, addr: &[u8], port: Port) -> Result<(), Errno> {
        let fd = self.inner_fd(fd)?;
        Wasmedge::sock_bind(&mut self.inner, fd, addr, port)
    }
    fn sock_connect(&mut self, fd: Fd, addr: &[u8], port: Port) -> Result<(), Errno> {
        let fd = self.inner_fd(fd)?;
        Wasmedge::sock_connect(&mut self.inner, fd, addr, port)
    }
    fn sock_listen(&mut self, fd: Fd, backlog: u32) -> Result<(), Errno> {
        let fd = self.inner_fd(fd)?;
        Wasmedge::sock_listen(&mut self.inner, fd, backlog)
    }
    fn sock_accept_v1(&mut self, fd: Fd) -> Result<Fd, Errno> {
        let fd = self.inner_fd(fd)?;
        let new = Wasmedge::sock_accept_v1(&mut self.inner, fd)?;
        Ok(self.add(Side::Inner(new)))
    }
    fn sock_accept_v2(&mut self, fd: Fd, flags: Fdflags) -> Result<Fd, Errno> {
        let fd = self.inner_fd(fd)?;
        let new = Wasmedge::sock_accept_v2(&mut self.inner, fd, flags)?;
        Ok(self.add(Side::Inner(new)))
    }
    fn sock_recv_v2(
        &mut self,
        fd: Fd,
        ri_data: &mut [IoSliceMut<'_>],
        ri_flags: Riflags,
    ) -> Result<(Size, Roflags), Errno> {
        let fd = self.inner_fd(fd)?;
        Wasmedge::sock_recv_v2(&mut self.inner, fd, ri_data, ri_flags)
    }
    fn sock_send_v2(
        &mut self,
        fd: Fd,
        si_data: &[IoSlice<'_>],
        si_flags: Siflags,
    ) -> Result<Size, Errno> {
        let fd = self.inner_fd(fd)?;
        Wasmedge::sock_send_v2(&mut self.inner, fd, si_data, si_flags)
    }
    fn sock_recv_from_v1(
        &mut self,
        fd: Fd,
        ri_data: &mut [IoSliceMut<'_>],
        addr: &mut [u8],
        ri_flags: Riflags,
    ) -> Result<(Size, Roflags), Errno> {
        let fd = self.inner_fd(fd)?;
        Wasmedge::sock_recv_from_v1(&mut self.inner, fd, ri_data, addr, ri_flags)
    }
    fn sock_recv_from_v2(
        &mut self,
        fd: Fd,
        ri_data: &mut [IoSliceMut<'_>],
        addr: &mut [u8],
        ri_flags: Riflags,
    ) -> Result<(Port, Size, Roflags), Errno> {
        let fd = self.inner_fd(fd)?;
        Wasmedge::sock_recv_from_v2(&mut self.inner, fd, ri_data, addr, ri_flags)
    }
    fn sock_send_to(
        &mut self,
        fd: Fd,
        si_data: &[IoSlice<'_>],
        addr: &[u8],
        port: Port,
        si_flags: Siflags,
    ) -> Result<Size, Errno> {
        let fd = self.inner_fd(fd)?;
        Wasmedge::sock_send_to(&mut self.inner, fd, si_data, addr, port, si_flags)
    }
    fn sock_getsockopt(
        &mut self,
        fd: Fd,
        level: SockOptLevel,
        name: SockOptName,
        value: &mut [u8],
    ) -> Result<Size, Errno> {
        let fd = self.inner_fd(fd)?;
        Wasmedge::sock_getsockopt(&mut self.inner, fd, level, name, value)
    }
    fn sock_setsockopt(
        &mut self,
        fd: Fd,
        level: SockOptLevel,
        name: SockOptName,
        value: &[u8],
    ) -> Result<(), Errno> {
        let fd = self.inner_fd(fd)?;
        Wasmedge::sock_setsockopt(&mut self.inner, fd, level, name, value)
    }
    fn sock_getlocaladdr_v1(
        &mut self,
        fd: Fd,
        addr: &mut [u8],
    ) -> Result<(IpVersion, Port), Errno> {
        let fd = self.inner_fd(fd)?;
        Wasmedge::sock_getlocaladdr_v1(&mut self.inner, fd, addr)
    }
    fn sock_getlocaladdr_v2(&mut self, fd: Fd, addr: &mut [u8]) -> Result<Port, Errno> {
        let fd = self.inner_fd(fd)?;
        Wasmedge::sock_getlocaladdr_v2(&mut self.inner, fd, addr)
    }
    fn sock_getpeeraddr_v1(&mut self, fd: Fd, addr: &mut [u8]) -> Result<(IpVersion, Port), Errno> {
        let fd = self.inner_fd(fd)?;
        Wasmedge::sock_getpeeraddr_v1(&mut self.inner, fd, addr)
    }
    fn sock_getpeeraddr_v2(&mut self, fd: Fd, addr: &mut [u8]) -> Result<Port, Errno> {
        let fd = self.inner_fd(fd)?;
        Wasmedge::sock_getpeeraddr_v2(&mut self.inner, fd, addr)
    }
}
