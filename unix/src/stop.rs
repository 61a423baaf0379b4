//! Stopping a guest from another thread: [`StopHandle`], and the waits it wakes.
//!
//! A guest is either running wasm or in a host call, and a stop reaches both:
//!
//! - Wasm code is stopped through wasmtime's epoch interruption: [`StopHandle::stop`] bumps the
//!   engine's epoch, and the deadline callback [`StopHandle::arm`] gives the store ends the guest
//!   with [`Trap::Interrupt`](wasmtime::Trap::Interrupt) at its next check (a loop header or a
//!   function entry). The callback looks at this guest's own flag, so stopping one guest leaves
//!   the others on the same engine running.
//! - A host call that would block waits in `poll(2)` on its descriptors and the system's wake
//!   descriptor ([`wake`]), which the stop makes readable: the call fails at once, the system
//!   says it was told to stop ([`System::stop_requested`](wasirun_wasi::System::stop_requested)),
//!   and the glue ends the guest with the same trap rather than hand it an errno it could
//!   ignore.
//!
//! A stop is for good: every later wait returns at once, every later epoch check traps.

mod wake;

use rustix::event::{PollFd, PollFlags};
use rustix::fd::BorrowedFd;
use rustix::io::Errno as E;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use wake::Wake;
use wasirun_wasi::Errno;
use wasmtime::{Engine, Store, UpdateDeadline};

/// What a system and its stop handles share.
pub(crate) struct Stop {
    stopped: AtomicBool,
    wake: Wake,
    /// The engine whose epoch a stop bumps, from the first [`StopHandle::arm`].
    engine: OnceLock<Engine>,
}

impl Stop {
    /// A stop not requested yet, with its own wake descriptor.
    pub fn new() -> rustix::io::Result<Arc<Stop>> {
        Ok(Arc::new(Stop {
            stopped: AtomicBool::new(false),
            wake: Wake::new()?,
            engine: OnceLock::new(),
        }))
    }

    /// Whether the guest was told to stop.
    #[inline]
    pub fn requested(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// The descriptor a wait polls for `POLLIN` beside its own: readable once stopped.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.wake.fd()
    }

    /// Waits until `fd` has one of `events` (or an error or hangup, which the call that follows
    /// reports); `EINTR` once the guest is told to stop, which the glue turns into a trap.
    pub fn wait(&self, fd: BorrowedFd<'_>, events: PollFlags) -> Result<(), Errno> {
        let mut fds = [
            PollFd::from_borrowed_fd(fd, events),
            PollFd::from_borrowed_fd(self.fd(), PollFlags::IN),
        ];
        loop {
            match rustix::event::poll(&mut fds, None) {
                Ok(_) | Err(E::INTR) => {}
                Err(e) => return Err(e.into()),
            }
            if !fds[1].revents().is_empty() {
                return Err(Errno::Intr);
            }
            if !fds[0].revents().is_empty() {
                return Ok(());
            }
        }
    }
}

/// Stops a guest from any thread: running wasm traps at its next epoch check, a host call
/// blocked in a wait (`poll_oneoff`, a read or write on a pipe, socket or terminal,
/// `sock_accept`, a connect) returns within microseconds, and the call into the guest fails
/// with [`Trap::Interrupt`](wasmtime::Trap::Interrupt). The store then drops as after any trap,
/// and with it the system: host descriptors closed, stdio flags put back.
///
/// Get one with [`UnixSystem::stop_handle`](crate::UnixSystem::stop_handle) before the system
/// moves into its store, then [`arm`](StopHandle::arm) the store. Stopping wasm code needs an
/// engine configured with [`Config::epoch_interruption`](wasmtime::Config::epoch_interruption);
/// without it, only host calls are cut short. Clones share one stop; it is `Send` and `Sync`.
/// Calls the host cannot wake, such as a name lookup in the system resolver, return when they
/// are done, and the guest stops then.
///
/// ```
/// use std::time::Duration;
/// use wasirun_unix::Builder;
/// use wasirun_wasi::{Host, add_to_linker};
/// use wasmtime::{Config, Engine, Linker, Module, Store, Trap};
///
/// let engine = Engine::new(Config::new().epoch_interruption(true))?;
/// // Sleeps for a day in poll_oneoff (a relative clock of 86,400 s), then loops for ever.
/// let module = Module::new(&engine, r#"(module
///     (import "wasi_snapshot_preview1" "poll_oneoff"
///       (func $poll (param i32 i32 i32 i32) (result i32)))
///     (memory (export "memory") 1)
///     (data (i32.const 16) "\01\00\00\00\00\00\00\00\00\00\4f\91\94\4e\00\00")
///     (func (export "_start")
///       (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))
///       (loop br 0)))"#)?;
/// let system = Builder::new().build()?;
/// let stop = system.stop_handle();
/// let mut store = Store::new(&engine, Host::new(system));
/// stop.arm(&mut store);
/// let mut linker = Linker::new(&engine);
/// add_to_linker(&mut linker, |h| h)?;
/// let guest = std::thread::spawn(move || -> wasmtime::Result<()> {
///     let instance = linker.instantiate(&mut store, &module)?;
///     instance.get_typed_func::<(), ()>(&mut store, "_start")?.call(&mut store, ())
/// });
/// std::thread::sleep(Duration::from_millis(50));
/// stop.stop();
/// let err = guest.join().unwrap().unwrap_err();
/// assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::Interrupt));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct StopHandle {
    stop: Arc<Stop>,
}

impl StopHandle {
    pub(crate) fn new(stop: Arc<Stop>) -> Self {
        StopHandle { stop }
    }

    /// The stop itself, for the waits of wrappers in this crate.
    pub(crate) fn shared(&self) -> &Stop {
        &self.stop
    }

    /// Tells the guest to stop, and returns without waiting for it to. It is not
    /// async-signal-safe: a signal handler should write to a pipe that a thread reads and
    /// calls this.
    pub fn stop(&self) {
        if self.stop.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        self.stop.wake.signal();
        if let Some(engine) = self.stop.engine.get() {
            engine.increment_epoch();
        }
    }

    /// Whether [`stop`](StopHandle::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.stop.requested()
    }

    /// Makes `store` (the store of this system's guest) trap at its next epoch check once
    /// stopped: an epoch deadline one tick away and a deadline callback that traps if the guest
    /// was stopped and otherwise waits for the next tick. This replaces the store's own epoch
    /// deadline and callback. A store armed after the stop traps at its first check.
    pub fn arm<T>(&self, store: &mut Store<T>) {
        let _ = self.stop.engine.set(store.engine().clone());
        let stop = Arc::clone(&self.stop);
        store.epoch_deadline_callback(move |_| {
            Ok(if stop.requested() {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::Continue(1)
            })
        });
        // Read after the engine is set: a stop that did not see the engine is seen here.
        store.set_epoch_deadline(if self.stop.requested() { 0 } else { 1 });
    }
}

impl std::fmt::Debug for StopHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StopHandle")
            .field("stopped", &self.is_stopped())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_handle_is_send_sync_and_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<StopHandle>();
    }

    #[test]
    fn a_stop_wakes_a_wait_on_a_pipe_nobody_writes() {
        let stop = Stop::new().unwrap();
        let handle = StopHandle::new(Arc::clone(&stop));
        let (read, _write) = rustix::pipe::pipe().unwrap();
        let stopper = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            handle.stop();
        });
        let started = Instant::now();
        assert_eq!(
            stop.wait(rustix::fd::AsFd::as_fd(&read), PollFlags::IN),
            Err(Errno::Intr)
        );
        assert!(started.elapsed() < Duration::from_secs(2));
        stopper.join().unwrap();
        // For good: the next wait returns at once.
        assert_eq!(
            stop.wait(rustix::fd::AsFd::as_fd(&read), PollFlags::IN),
            Err(Errno::Intr)
        );
        assert!(stop.requested());
    }
}
