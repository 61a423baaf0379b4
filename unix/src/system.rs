//! [`UnixSystem`] and its `impl System`: one line per WASI function, naming the module that
//! does the work.

use crate::Policy;
use crate::clock::Clocks;
use crate::net::sock;
use crate::proc::Strings;
use crate::sandbox::Resolver;
use crate::stdio::Pumps;
use crate::stop::{Stop, StopHandle};
use crate::table::Table;
use crate::{fd, fs, poll, proc, random};
use rustix::fd::OwnedFd;
use rustix::fs::OFlags;
use std::io::{IoSlice, IoSliceMut};
use std::sync::Arc;
use wasirun_wasi::*;

/// WASI preview 1 on the host's Unix system calls.
///
/// Made by a [`Builder`](crate::Builder). Every host descriptor it holds is closed when it is
/// dropped.
pub struct UnixSystem {
    pub(crate) table: Table,
    /// The clocks `clock_time_get` reads.
    pub(crate) clocks: Clocks,
    /// `random_get`'s source when not the host's.
    random: Option<random::Shared>,
    /// The threads that empty in-memory stdout and stderr: dropped after the table, whose
    /// closing ends them (see `stdio.rs`).
    _pumps: Pumps,
    pub(crate) args: Strings,
    pub(crate) env: Strings,
    pub(crate) resolver: Resolver,
    pub(crate) exit_code: Option<Exitcode>,
    pub(crate) net: Net,
    /// Whether the guest was told to stop, and the descriptor every blocking wait watches.
    pub(crate) stop: Arc<Stop>,
    /// The host's stdio descriptions, with the flags to put back on drop.
    restore: Vec<(OwnedFd, OFlags)>,
    /// What `poll_oneoff` keeps between calls to hold back readiness the guest ignored.
    pub(crate) repeats: poll::Repeats,
}

/// What the embedder chose beside the table: clocks, randomness, and for stdio the pumps and
/// the host flags to put back.
pub(crate) struct Injected {
    pub clocks: Clocks,
    pub random: Option<random::Shared>,
    pub pumps: Pumps,
    pub restore: Vec<(OwnedFd, OFlags)>,
    /// [`Builder::spin_wait`](crate::Builder::spin_wait), in nanoseconds.
    pub spin_wait: Timestamp,
}

/// What the guest may do with sockets it makes itself.
pub(crate) struct Net {
    /// Where it may connect, what it may bind.
    pub policy: Policy,
}

impl UnixSystem {
    pub(crate) fn new(
        table: Table,
        args: Strings,
        env: Strings,
        resolver: Resolver,
        net: Net,
        stop: Arc<Stop>,
        injected: Injected,
    ) -> Self {
        UnixSystem {
            table,
            clocks: injected.clocks,
            random: injected.random,
            _pumps: injected.pumps,
            args,
            env,
            resolver,
            exit_code: None,
            net,
            stop,
            restore: injected.restore,
            repeats: poll::Repeats::new(injected.spin_wait),
        }
    }

    /// Hands the host descriptor `fd` to the guest at the lowest free fd number: how an embedder
    /// passes in a socket, a pipe or an open file. Its type comes from `fstat`, its rights are
    /// all that type and its access mode allow (a listening socket passes on socket rights to
    /// what it accepts). `ENFILE` when the table is full, `EBADF` when `fd` is not usable.
    pub fn add_fd(&mut self, fd: OwnedFd) -> Result<Fd, Errno> {
        self.table.reserve()?;
        let entry = crate::fd::host_entry(fd)?;
        self.table.insert(entry)
    }

    /// A handle that stops this system's guest from another thread; see [`StopHandle`].
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle::new(Arc::clone(&self.stop))
    }

    /// The status the guest passed to `proc_exit`, once it has.
    pub fn exit_code(&self) -> Option<Exitcode> {
        self.exit_code
    }
}

impl Drop for UnixSystem {
    fn drop(&mut self) {
        for (fd, flags) in &self.restore {
            let _ = rustix::fs::fcntl_setfl(fd, *flags);
        }
    }
}

impl System for UnixSystem {
    fn args_get(&mut self, argv_buf: &mut [u8]) -> Result<(), Errno> {
        self.args.copy_to(argv_buf)
    }
    fn args_sizes_get(&mut self) -> Result<(Size, Size), Errno> {
        Ok(self.args.sizes())
    }
    fn environ_get(&mut self, environ_buf: &mut [u8]) -> Result<(), Errno> {
        self.env.copy_to(environ_buf)
    }
    fn environ_sizes_get(&mut self) -> Result<(Size, Size), Errno> {
        Ok(self.env.sizes())
    }
    fn clock_res_get(&mut self, id: Clockid) -> Result<Timestamp, Errno> {
        self.clocks.res_get(id)
    }
    fn clock_time_get(&mut self, id: Clockid, precision: Timestamp) -> Result<Timestamp, Errno> {
        self.clocks.time_get(id, precision)
    }
    fn fd_advise(
        &mut self,
        fd: Fd,
        offset: Filesize,
        len: Filesize,
        advice: Advice,
    ) -> Result<(), Errno> {
        fs::file::advise(self, fd, offset, len, advice)
    }
    fn fd_allocate(&mut self, fd: Fd, offset: Filesize, len: Filesize) -> Result<(), Errno> {
        fs::file::allocate(self, fd, offset, len)
    }
    fn fd_close(&mut self, fd: Fd) -> Result<(), Errno> {
        fd::close(self, fd)
    }
    fn fd_datasync(&mut self, fd: Fd) -> Result<(), Errno> {
        fs::file::datasync(self, fd)
    }
    fn fd_fdstat_get(&mut self, fd: Fd) -> Result<Fdstat, Errno> {
        fd::fdstat_get(self, fd)
    }
    fn fd_fdstat_set_flags(&mut self, fd: Fd, flags: Fdflags) -> Result<(), Errno> {
        fd::fdstat_set_flags(self, fd, flags)
    }
    fn fd_fdstat_set_rights(
        &mut self,
        fd: Fd,
        base: Rights,
        inheriting: Rights,
    ) -> Result<(), Errno> {
        fd::fdstat_set_rights(self, fd, base, inheriting)
    }
    fn fd_filestat_get(&mut self, fd: Fd) -> Result<Filestat, Errno> {
        fs::stat::fd_filestat_get(self, fd)
    }
    fn fd_filestat_set_size(&mut self, fd: Fd, size: Filesize) -> Result<(), Errno> {
        fs::file::set_size(self, fd, size)
    }
    fn fd_filestat_set_times(
        &mut self,
        fd: Fd,
        atim: Timestamp,
        mtim: Timestamp,
        fst_flags: Fstflags,
    ) -> Result<(), Errno> {
        fs::stat::fd_set_times(self, fd, atim, mtim, fst_flags)
    }
    fn fd_pread(
        &mut self,
        fd: Fd,
        iovs: &mut [IoSliceMut<'_>],
        offset: Filesize,
    ) -> Result<Size, Errno> {
        fs::file::pread(self, fd, iovs, offset)
    }
    fn fd_prestat_get(&mut self, fd: Fd) -> Result<Prestat, Errno> {
        fd::prestat_get(self, fd)
    }
    fn fd_prestat_dir_name(&mut self, fd: Fd, path: &mut [u8]) -> Result<(), Errno> {
        fd::prestat_dir_name(self, fd, path)
    }
    fn fd_pwrite(&mut self, fd: Fd, iovs: &[IoSlice<'_>], offset: Filesize) -> Result<Size, Errno> {
        fs::file::pwrite(self, fd, iovs, offset)
    }
    fn fd_read(&mut self, fd: Fd, iovs: &mut [IoSliceMut<'_>]) -> Result<Size, Errno> {
        fs::file::read(self, fd, iovs)
    }
    fn fd_readdir(&mut self, fd: Fd, buf: &mut [u8], cookie: Dircookie) -> Result<Size, Errno> {
        fs::readdir::fd_readdir(self, fd, buf, cookie)
    }
    fn fd_renumber(&mut self, fd: Fd, to: Fd) -> Result<(), Errno> {
        fd::renumber(self, fd, to)
    }
    fn fd_seek(&mut self, fd: Fd, offset: Filedelta, whence: Whence) -> Result<Filesize, Errno> {
        fs::file::seek(self, fd, offset, whence)
    }
    fn fd_sync(&mut self, fd: Fd) -> Result<(), Errno> {
        fs::file::sync(self, fd)
    }
    fn fd_tell(&mut self, fd: Fd) -> Result<Filesize, Errno> {
        fs::file::tell(self, fd)
    }
    fn fd_write(&mut self, fd: Fd, iovs: &[IoSlice<'_>]) -> Result<Size, Errno> {
        fs::file::write(self, fd, iovs)
    }
    fn path_create_directory(&mut self, fd: Fd, path: &str) -> Result<(), Errno> {
        fs::path::create_directory(self, fd, path)
    }
    fn path_filestat_get(
        &mut self,
        fd: Fd,
        flags: Lookupflags,
        path: &str,
    ) -> Result<Filestat, Errno> {
        fs::stat::path_filestat_get(self, fd, flags, path)
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
        fs::stat::path_set_times(self, fd, flags, path, atim, mtim, fst_flags)
    }
    fn path_link(
        &mut self,
        old_fd: Fd,
        old_flags: Lookupflags,
        old_path: &str,
        new_fd: Fd,
        new_path: &str,
    ) -> Result<(), Errno> {
        fs::path::link(self, old_fd, old_flags, old_path, new_fd, new_path)
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
        let request = fs::open::Request {
            follow: dirflags.contains(Lookupflags::SYMLINK_FOLLOW),
            oflags,
            base: fs_rights_base,
            inheriting: fs_rights_inheriting,
            fdflags,
        };
        fs::open::path_open(self, fd, path, request)
    }
    fn path_readlink(&mut self, fd: Fd, path: &str, buf: &mut [u8]) -> Result<Size, Errno> {
        fs::path::readlink(self, fd, path, buf)
    }
    fn path_remove_directory(&mut self, fd: Fd, path: &str) -> Result<(), Errno> {
        fs::path::remove_directory(self, fd, path)
    }
    fn path_rename(
        &mut self,
        fd: Fd,
        old_path: &str,
        new_fd: Fd,
        new_path: &str,
    ) -> Result<(), Errno> {
        fs::path::rename(self, fd, old_path, new_fd, new_path)
    }
    fn path_symlink(&mut self, old_path: &str, fd: Fd, new_path: &str) -> Result<(), Errno> {
        fs::path::symlink(self, old_path, fd, new_path)
    }
    fn path_unlink_file(&mut self, fd: Fd, path: &str) -> Result<(), Errno> {
        fs::path::unlink_file(self, fd, path)
    }
    fn poll_oneoff(&mut self, in_: &[Subscription], out: &mut [Event]) -> Result<Size, Errno> {
        poll::poll_oneoff(self, in_, out)
    }
    fn proc_exit(&mut self, rval: Exitcode) {
        proc::exit(self, rval)
    }
    fn proc_raise(&mut self, sig: Signal) -> Result<(), Errno> {
        proc::raise(sig)
    }
    fn sched_yield(&mut self) -> Result<(), Errno> {
        proc::sched_yield()
    }
    fn random_get(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
        random::get(self.random.as_ref(), buf)
    }
    fn sock_accept(&mut self, fd: Fd, flags: Fdflags) -> Result<Fd, Errno> {
        sock::accept(self, fd, flags)
    }
    fn sock_recv(
        &mut self,
        fd: Fd,
        ri_data: &mut [IoSliceMut<'_>],
        ri_flags: Riflags,
    ) -> Result<(Size, Roflags), Errno> {
        sock::recv(self, fd, ri_data, ri_flags)
    }
    fn sock_send(
        &mut self,
        fd: Fd,
        si_data: &[IoSlice<'_>],
        si_flags: Siflags,
    ) -> Result<Size, Errno> {
        sock::send(self, fd, si_data, si_flags)
    }
    fn sock_shutdown(&mut self, fd: Fd, how: Sdflags) -> Result<(), Errno> {
        sock::shutdown(self, fd, how)
    }
    fn stop_requested(&mut self) -> bool {
        self.stop.requested()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_system_can_move_to_another_thread() {
        fn send<T: Send>() {}
        send::<super::UnixSystem>();
    }
}
