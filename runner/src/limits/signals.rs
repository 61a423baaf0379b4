//! SIGINT, SIGTERM and SIGHUP: the guest stops at once, wherever it is (in wasm or blocked in a
//! host call), the parent's stdio file status flags are put back, and wasirun exits with
//! 128 + the signal's number, as a shell reports a process the signal killed.
//!
//! The handler only writes the signal's number to a pipe (`write(2)` is async-signal-safe); a
//! thread of its own reads it and does the rest. Exiting closes every host fd.

use super::StdioFlags;
use std::sync::atomic::{AtomicI32, Ordering};

/// The pipe's write end, for the handler (-1 before [`install`]).
static PIPE: AtomicI32 = AtomicI32::new(-1);

/// The signals that stop the guest.
const SIGNALS: [(libc::c_int, &str); 3] = [
    (libc::SIGINT, "SIGINT"),
    (libc::SIGTERM, "SIGTERM"),
    (libc::SIGHUP, "SIGHUP"),
];

extern "C" fn on_signal(sig: libc::c_int) {
    let byte = sig as u8;
    // SAFETY: write(2) is async-signal-safe; the fd is the pipe's write end, kept open for the
    // life of the process, and `byte` outlives the call.
    unsafe {
        libc::write(PIPE.load(Ordering::Relaxed), (&raw const byte).cast(), 1);
    }
}

/// Starts the signal thread and installs the handlers; `stdio` is what to put back.
pub fn install(stdio: StdioFlags) -> std::io::Result<()> {
    let (read, write) = rustix::pipe::pipe()?;
    std::thread::Builder::new()
        .name("wasirun-signals".into())
        .spawn(move || {
            let mut byte = [0u8];
            if rustix::io::retry_on_intr(|| rustix::io::read(&read, &mut byte)) != Ok(1) {
                return;
            }
            let sig = libc::c_int::from(byte[0]);
            stdio.restore();
            let name = SIGNALS
                .iter()
                .find(|(s, _)| *s == sig)
                .map_or("a signal", |(_, n)| n);
            eprintln!("wasirun: the guest was stopped by {name}");
            std::process::exit(128 + sig);
        })?;
    PIPE.store(
        std::os::fd::IntoRawFd::into_raw_fd(write),
        Ordering::Relaxed,
    );
    for (sig, _) in SIGNALS {
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
