//! [`SocketUrls`]: `path_open` makes sockets from URLs, as a [`System`] wrapper.
//!
//! This is the example of augmenting WASI by wrapping: the wrapped system's `path_open` only
//! opens files, and this wrapper, stacked on any system that can take a host descriptor
//! ([`AddFd`]), answers the paths that are socket URLs (`tcp+listen://127.0.0.1:8080`,
//! `udp+dial://[::1]:53?nonblock=1`, see [`Spec::parse_url`]) before they reach it. It
//! writes one method; the generated [`SystemDelegate`] forwards the 47 others, and
//! [`WasmedgeDelegate`] every WasmEdge function.
//!
//! ```no_run
//! use wasirun_unix::{Builder, Policy, SocketUrls};
//!
//! let mut policy = Policy::default();
//! policy.allow_connect("127.0.0.1:8080").unwrap();
//! let system = Builder::new().policy(policy.clone()).build().unwrap();
//! let system = SocketUrls::new(system, policy);
//! # let _ = system;
//! ```

use super::policy::Policy;
use super::spec::Spec;
use crate::{StopHandle, UnixSystem};
use rustix::fd::OwnedFd;
use wasirun_wasi::{
    Errno, Fd, Fdflags, Lookupflags, Oflags, Rights, System, SystemDelegate, Wasmedge,
    WasmedgeDelegate,
};

/// A system that can take a host descriptor into its fd table, as [`SocketUrls`] needs.
pub trait AddFd {
    /// `ENFILE` when the table has no room for one more descriptor: asked before a socket is
    /// made, so that a full table never connects and then drops the connection.
    fn reserve_fd(&self) -> Result<(), Errno>;
    /// Hands `fd` to the guest at a free fd number (see [`UnixSystem::add_fd`]).
    fn add_fd(&mut self, fd: OwnedFd) -> Result<Fd, Errno>;
}

impl AddFd for UnixSystem {
    fn reserve_fd(&self) -> Result<(), Errno> {
        self.table.reserve()
    }
    fn add_fd(&mut self, fd: OwnedFd) -> Result<Fd, Errno> {
        UnixSystem::add_fd(self, fd)
    }
}

/// `path_open` of a socket URL makes that socket (the URL forms are [`Spec::parse_url`]'s); every other
/// call goes to the wrapped system.
///
/// - The directory fd plays no part (any number, even one not open, will do).
/// - A bad URL is `EINVAL`; an address the [`Policy`] refuses `EACCES`.
/// - `NONBLOCK` in the fd flags is the same as `nonblock=1`; a blocking dial waits for the
///   connection, and a [`StopHandle`] stop wakes it (the glue then traps).
pub struct SocketUrls<S> {
    inner: S,
    policy: Policy,
    stop: StopHandle,
}

impl SocketUrls<UnixSystem> {
    /// Wraps `inner`: the sockets it makes are connected and bound as `policy` allows, and a
    /// blocking dial wakes for `inner`'s stop.
    pub fn new(inner: UnixSystem, policy: Policy) -> Self {
        let stop = inner.stop_handle();
        SocketUrls::with_stop(inner, policy, stop)
    }
}

impl<S> SocketUrls<S> {
    /// Wraps `inner`, any system that takes host descriptors; a blocking dial wakes for `stop`.
    pub fn with_stop(inner: S, policy: Policy, stop: StopHandle) -> Self {
        SocketUrls {
            inner,
            policy,
            stop,
        }
    }

    /// The wrapped system.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The wrapped system, mutable.
    pub fn inner_mut(&mut self) -> &mut S {
        &mut self.inner
    }
}

impl<S: System + AddFd> SystemDelegate for SocketUrls<S> {
    fn delegate(&mut self) -> impl System {
        &mut self.inner
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
        let Some(parsed) = Spec::parse_url(path) else {
            return System::path_open(
                &mut self.inner,
                fd,
                dirflags,
                path,
                oflags,
                fs_rights_base,
                fs_rights_inheriting,
                fdflags,
            );
        };
        let (role, mut spec) = parsed.map_err(|_| Errno::Inval)?;
        spec.nonblock |= fdflags.contains(Fdflags::NONBLOCK);
        self.inner.reserve_fd()?;
        let socket = super::socket::open(&spec, role, Some((&self.policy, self.stop.shared())))?;
        self.inner.add_fd(socket)
    }
}

impl<S: Wasmedge> WasmedgeDelegate for SocketUrls<S> {
    fn delegate(&mut self) -> impl Wasmedge {
        &mut self.inner
    }
}
