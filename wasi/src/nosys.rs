//! [`Nosys`]: the system that implements no function.

/// A system that implements no function: every method of every package's trait fails with
/// `ENOSYS` (`proc_exit` returns, and the glue ends the instance), and the hooks keep their
/// defaults. Each generated package implements its trait for it.
///
/// It is the explicit base of a system that leaves functions out: return it from the
/// delegate trait's `delegate` ([`SystemDelegate`](crate::SystemDelegate),
/// [`WasmedgeDelegate`](crate::WasmedgeDelegate)) and write only the methods the system has.
///
/// ```
/// use wasirun_wasi::{Errno, Nosys, System, SystemDelegate};
///
/// struct Yields;
/// impl SystemDelegate for Yields {
///     fn delegate(&mut self) -> impl System {
///         Nosys
///     }
///     fn sched_yield(&mut self) -> Result<(), Errno> {
///         Ok(())
///     }
/// }
///
/// let system: &mut dyn System = &mut Yields;
/// assert_eq!(system.sched_yield(), Ok(()));
/// assert_eq!(system.fd_close(wasirun_wasi::Fd(3)), Err(Errno::Nosys));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Nosys;
