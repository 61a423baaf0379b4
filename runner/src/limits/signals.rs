//! SIGINT, SIGTERM and SIGHUP: the guest is stopped wherever it is (in wasm or blocked in a
//! host call) through its [`Stopper`], unwinds, and wasirun exits with 128 + the signal's
//! number, as a shell reports a process the signal killed, once the system is dropped (host
//! fds closed, the parent's stdio file status flags put back).
//!
//! The handler only writes the signal's number to a pipe (`write(2)` is async-signal-safe); a
//! thread of its own reads it and stops the guest. A second signal, or [`GRACE`] without the
//! guest unwinding, takes the [last resort](Stopper::last_resort).

use super::{GRACE, Reason, Stopper};
use rustix::event::{PollFd, PollFlags};
use std::sync::atomic::{AtomicI32, Ordering};

/// The pipe's write end, for the handler (-1 before [`install`]).
static PIPE: AtomicI32 = AtomicI32::new(-1);

/// The signals that stop the guest.
const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

extern "C" fn on_signal(sig: libc::c_int) {
    let byte = sig as u8;
    // SAFETY: write(2) is async-signal-safe; the fd is the pipe's write end, kept open for the
    // life of the process, and `byte` outlives the call.
    unsafe {
        libc::write(PIPE.load(Ordering::Relaxed), (&raw const byte).cast(), 1);
    }
}

/// Starts the signal thread and installs the handlers; `stopper` stops the guest.
pub fn install(stopper: Stopper) -> std::io::Result<()> {
    let (read, write) = rustix::pipe::pipe()?;
    std::thread::Builder::new()
        .name("wasirun-signals".into())
        .spawn(move || {
            let mut byte = [0u8];
            if rustix::io::retry_on_intr(|| rustix::io::read(&read, &mut byte)) != Ok(1) {
                return;
            }
            stopper.stop(Reason::Signal(libc::c_int::from(byte[0])));
            // The guest's thread exits the process once the guest has unwound; until then, a
            // second signal or the grace period ending is the last resort's cue.
            let mut fds = [PollFd::new(&read, PollFlags::IN)];
            let grace = rustix::time::Timespec {
                tv_sec: 0,
                tv_nsec: GRACE.as_nanos() as _,
            };
            let _ = rustix::event::poll(&mut fds, Some(&grace));
            stopper.last_resort();
        })?;
    PIPE.store(
        std::os::fd::IntoRawFd::into_raw_fd(write),
        Ordering::Relaxed,
    );
    for sig in SIGNALS {
        // SAFETY: a zeroed sigaction is valid (empty mask, no flags); `on_signal` only does
        // async-signal-safe work.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            if libc::sigaction(sig, &action, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
    }
    Ok(())
}
