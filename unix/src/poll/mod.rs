//! `poll_oneoff`: clocks and descriptors in one `poll(2)`.
//!
//! - Zero subscriptions is `EINVAL` (there is nothing to wake up for), as in wasmtime.
//! - Clock subscriptions on the realtime and monotonic clocks, relative or absolute, become
//!   one deadline on the host's monotonic clock; the CPU-time clocks cannot be waited on
//!   (`EINVAL`, as in wasmtime). The precision is ignored. An absolute deadline on a clock
//!   the embedder replaced ([`Builder::clock`](crate::Builder::clock)) is measured from that
//!   clock's `now`, read once per call; the wait itself is in host time.
//! - A descriptor that is not open, or lacks the rights under `enforce_rights`, gives an event
//!   carrying the error (`EBADF`, `ENOTCAPABLE`), not a failed call.
//! - Regular files are always ready, as `poll(2)` says of them; a read event carries the bytes
//!   left between the offset and the end of the file. A directory is `EBADF`, as for `fd_read`.
//! - Other descriptors go to `poll(2)`; a read event carries `FIONREAD` where the descriptor
//!   has it, and `FD_READWRITE_HANGUP` on `POLLHUP`.
//! - A write event's `nbytes` is 0: the room left is not known.
//! - With clocks only, the call waits in `poll(2)` on the stop descriptor alone.
//! - Every wait also watches the system's stop descriptor ([`crate::stop`]): a stop ends it
//!   with `EINTR`, which the glue turns into a trap.
//! - A call that would only repeat, at once, readiness the guest ignored since the last call
//!   waits a little for something else first ([`repeat`]).
//!
//! Up to 64 subscriptions, nothing is allocated: the `pollfd`s (one per subscription, and the
//! stop descriptor's) live in an array on the stack.
//! Past that they are allocated fallibly (`ENOMEM`), at most one per subscription, whose count
//! the glue bounds (`wasirun_wasi::abi::RECORDS_MAX`).

mod repeat;

pub(crate) use repeat::Repeats;
use repeat::Told;

use crate::clock::{self, Clocks};
use crate::rights;
use crate::stop::Stop;
use crate::system::UnixSystem;
use crate::table::Table;
use rustix::event::{PollFd, PollFlags};
use rustix::fd::{AsFd, BorrowedFd};
use rustix::fs::SeekFrom;
use rustix::io::Errno as E;
use rustix::time::ClockId;
use wasirun_wasi::{
    Clockid, Errno, Event, EventFdReadwrite, Eventrwflags, Eventtype, Filetype, Rights, Size,
    Subclockflags, Subscription, SubscriptionClock, SubscriptionU, Timestamp,
};

/// How many subscriptions are handled without a heap allocation.
pub(crate) const INLINE: usize = 64;

/// `poll_oneoff`: writes the events that happened at the front of `out`, returns how many.
pub(crate) fn poll_oneoff(
    sys: &mut UnixSystem,
    subs: &[Subscription],
    out: &mut [Event],
) -> Result<Size, Errno> {
    let mut told = Told::new();
    let result = events(sys, subs, out, &mut told);
    sys.repeats.answered(&result, told, sys.table.touches());
    result
}

/// The call itself; its descriptor events are also noted in `told`.
fn events(
    sys: &mut UnixSystem,
    subs: &[Subscription],
    out: &mut [Event],
    told: &mut Told,
) -> Result<Size, Errno> {
    if subs.is_empty() {
        return Err(Errno::Inval);
    }
    if sys.stop.requested() {
        return Err(Errno::Intr);
    }
    let start = Start::now(subs, &mut sys.clocks)?;
    let (table, stop) = (&sys.table, &*sys.stop);
    let poll = Poll::new(subs, out, told, sys.repeats.hold(table.touches()));
    // A placeholder for the unused pollfd slots: any descriptor a subscription names.
    let Some(any) = subs.iter().find_map(|s| pollable(table, s)) else {
        let mut fds = [PollFd::from_borrowed_fd(stop.fd(), PollFlags::empty())];
        return poll.run(start, table, stop, &mut fds, &mut []);
    };
    if subs.len() <= INLINE {
        let mut fds: [PollFd<'_>; INLINE + 1] =
            std::array::from_fn(|_| PollFd::from_borrowed_fd(any, PollFlags::empty()));
        let mut which = [0usize; INLINE];
        poll.run(start, table, stop, &mut fds, &mut which)
    } else {
        let mut fds = filled(
            subs.len() + 1,
            PollFd::from_borrowed_fd(any, PollFlags::empty()),
        )?;
        let mut which = filled(subs.len(), 0usize)?;
        poll.run(start, table, stop, &mut fds, &mut which)
    }
}

/// `len` copies of `value`, `ENOMEM` when the host cannot allocate them (`len` is bounded by
/// `wasirun_wasi::abi::RECORDS_MAX` already).
fn filled<T: Clone>(len: usize, value: T) -> Result<Vec<T>, Errno> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)?;
    v.resize(len, value);
    Ok(v)
}

/// The descriptor behind an fd subscription, if it is one that `poll(2)` must watch.
fn pollable<'t>(table: &'t Table, sub: &Subscription) -> Option<BorrowedFd<'t>> {
    let fd = match sub.u {
        SubscriptionU::FdRead(s) | SubscriptionU::FdWrite(s) => s.file_descriptor,
        SubscriptionU::Clock(_) => return None,
    };
    let entry = table.entry(fd).ok()?;
    (!always_ready(entry.filetype().ok()?)).then(|| entry.fd.as_fd())
}

/// The type of the events a subscription makes.
fn event_type(sub: &Subscription) -> Eventtype {
    match sub.u {
        SubscriptionU::Clock(_) => Eventtype::Clock,
        SubscriptionU::FdRead(_) => Eventtype::FdRead,
        SubscriptionU::FdWrite(_) => Eventtype::FdWrite,
    }
}

/// Files never block (`poll(2)`: "always ready").
fn always_ready(filetype: Filetype) -> bool {
    matches!(
        filetype,
        Filetype::RegularFile | Filetype::Directory | Filetype::BlockDevice
    )
}

/// One call in progress.
struct Poll<'a> {
    subs: &'a [Subscription],
    out: &'a mut [Event],
    count: usize,
    /// The descriptor events made so far.
    told: &'a mut Told,
    /// How long readiness the guest ignored may be held back, and what the guest was told
    /// last time ([`repeat`]).
    hold: Option<(Timestamp, &'a Told)>,
}

impl<'a> Poll<'a> {
    fn new(
        subs: &'a [Subscription],
        out: &'a mut [Event],
        told: &'a mut Told,
        hold: Option<(Timestamp, &'a Told)>,
    ) -> Self {
        Poll {
            subs,
            out,
            count: 0,
            told,
            hold,
        }
    }

    fn emit(&mut self, sub: &Subscription, error: Errno, nbytes: u64, flags: Eventrwflags) {
        let type_ = event_type(sub);
        if let Some(slot) = self.out.get_mut(self.count) {
            if let SubscriptionU::FdRead(s) | SubscriptionU::FdWrite(s) = sub.u {
                self.told.push(s.file_descriptor, type_);
            }
            *slot = Event {
                userdata: sub.userdata,
                error,
                type_,
                fd_readwrite: EventFdReadwrite { nbytes, flags },
            };
            self.count += 1;
        }
    }

    /// Sorts the subscriptions (immediate events, pollfds, deadlines), waits, reports. `fds`
    /// has a slot for every descriptor subscription and one for the stop descriptor.
    fn run<'t>(
        mut self,
        start: Start,
        table: &'t Table,
        stop: &'t Stop,
        fds: &mut [PollFd<'t>],
        which: &mut [usize],
    ) -> Result<Size, Errno> {
        let mut npoll = 0;
        // The earliest deadline, on the monotonic clock.
        let mut wake: Option<Timestamp> = None;
        for (i, sub) in self.subs.iter().enumerate() {
            let (fd, read) = match sub.u {
                SubscriptionU::Clock(c) => {
                    let at = start.deadline(&c)?;
                    wake = Some(wake.map_or(at, |w| w.min(at)));
                    continue;
                }
                SubscriptionU::FdRead(s) => (s.file_descriptor, true),
                SubscriptionU::FdWrite(s) => (s.file_descriptor, false),
            };
            let needed = Rights::POLL_FD_READWRITE
                | if read {
                    Rights::FD_READ
                } else {
                    Rights::FD_WRITE
                };
            let checked = table.entry(fd).and_then(|e| {
                rights::check(e, needed, table.strict)?;
                Ok((e, e.filetype()?))
            });
            let (entry, filetype) = match checked {
                Ok(checked) => checked,
                Err(e) => {
                    self.emit(sub, e, 0, Eventrwflags::empty());
                    continue;
                }
            };
            if always_ready(filetype) {
                let nbytes = if read {
                    bytes_left(entry.fd.as_fd())
                } else {
                    0
                };
                self.emit(sub, Errno::Success, nbytes, Eventrwflags::empty());
                continue;
            }
            let events = if read { PollFlags::IN } else { PollFlags::OUT };
            fds[npoll] = PollFd::from_borrowed_fd(entry.fd.as_fd(), events);
            which[npoll] = i;
            npoll += 1;
        }
        fds[npoll] = PollFd::from_borrowed_fd(stop.fd(), PollFlags::IN);
        let fds = &mut fds[..=npoll];
        // The monotonic clock as last read: the start, until a call may have waited. Each read
        // costs 20 to 60 ns (more under a hypervisor), and a zero timeout needs only the one.
        let mut now = start.monotonic;
        if let Some((hold, told)) = self.hold {
            let hold = wake.map_or(hold, |at| at.saturating_sub(now).min(hold));
            if hold > 0 && npoll > 0 && self.hold_back(fds, which, hold, told)? {
                self.expire(&start, clock::now(ClockId::Monotonic)?)?;
                return Ok(self.count as Size);
            }
        }
        loop {
            // Wait for nothing when something happened already, else until the first deadline.
            let timeout = match (self.count, wake) {
                (0, Some(at)) => Some(at.saturating_sub(now)),
                (0, None) => None,
                _ => Some(0),
            };
            match timeout {
                // With no descriptor to watch, a zero timeout makes no call: even a poll that
                // waits for nothing goes through the scheduler and costs its timer slack.
                Some(0) if npoll == 0 => {}
                None if npoll == 0 => return Ok(0),
                _ => {
                    let polled = rustix::event::poll(fds, timeout.map(clock::timespec).as_ref());
                    now = clock::now(ClockId::Monotonic)?;
                    match polled {
                        Ok(0) | Err(E::INTR) => {}
                        Ok(_) if !fds[npoll].revents().is_empty() => return Err(Errno::Intr),
                        Ok(_) => {
                            for (pollfd, &i) in fds[..npoll].iter().zip(which.iter()) {
                                self.report(&self.subs[i], pollfd);
                            }
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            self.expire(&start, now)?;
            // Otherwise a signal woke us early: wait again.
            if self.count > 0 {
                return Ok(self.count as Size);
            }
        }
    }

    /// Looks at what is ready now. When something is that the guest was not told last time
    /// (`told`), that is news: it is the answer. When only readiness the guest was told is,
    /// reports it, then waits up to `hold` nanoseconds for any other descriptor to be (or a
    /// stop), with the ready ones left out of the wait, and reports those too. `true` when it
    /// answered so, `false` when nothing was ready (the call goes on as usual).
    /// `fds[..npoll]` are the watched descriptors (`which[k]` the subscription of `fds[k]`),
    /// the last slot the stop descriptor's; both may be reordered.
    ///
    /// Every event it reports was true at a moment of the call, as `poll(2)`'s are: the ones
    /// ready at once as they were then (a hangup that comes during the wait is the next call's
    /// news), the others as the wait saw them. That is one `poll(2)` fewer than asking the
    /// kernel again once the wait is over.
    fn hold_back(
        &mut self,
        fds: &mut [PollFd<'_>],
        which: &mut [usize],
        hold: Timestamp,
        told: &Told,
    ) -> Result<bool, Errno> {
        let zero = clock::timespec(0);
        match rustix::event::poll(fds, Some(&zero)) {
            Ok(0) | Err(E::INTR) => return Ok(false),
            Ok(_) => {}
            Err(e) => return Err(e.into()),
        }
        let npoll = fds.len() - 1;
        if !fds[npoll].revents().is_empty() {
            return Err(Errno::Intr);
        }
        let subs = self.subs;
        let news = fds[..npoll].iter().zip(which.iter()).any(|(pollfd, &i)| {
            let fd = match subs[i].u {
                SubscriptionU::FdRead(s) | SubscriptionU::FdWrite(s) => s.file_descriptor,
                SubscriptionU::Clock(_) => return false,
            };
            !pollfd.revents().is_empty() && !told.contains(fd, event_type(&subs[i]))
        });
        if news {
            for (pollfd, &i) in fds[..npoll].iter().zip(which.iter()) {
                self.report(&subs[i], pollfd);
            }
            return Ok(true);
        }
        // The ready ones are reported now and left out of the wait: the others are moved to
        // the front, in `fds[..waiting]`, and the stop descriptor after them.
        let mut waiting = 0;
        for j in 0..npoll {
            if fds[j].revents().is_empty() {
                fds.swap(waiting, j);
                which.swap(waiting, j);
                waiting += 1;
            } else {
                self.report(&subs[which[j]], &fds[j]);
            }
        }
        fds.swap(waiting, npoll);
        let fds = &mut fds[..=waiting];
        match rustix::event::poll(fds, Some(&clock::timespec(hold))) {
            Ok(0) | Err(E::INTR) => return Ok(true),
            Ok(_) => {}
            Err(e) => return Err(e.into()),
        }
        if !fds[waiting].revents().is_empty() {
            return Err(Errno::Intr);
        }
        for (pollfd, &i) in fds[..waiting].iter().zip(which.iter()) {
            self.report(&subs[i], pollfd);
        }
        Ok(true)
    }

    /// The event for a descriptor `poll(2)` watched, if it is ready.
    fn report(&mut self, sub: &Subscription, pollfd: &PollFd<'_>) {
        let revents = pollfd.revents();
        if revents.is_empty() {
            return;
        }
        let mut flags = Eventrwflags::empty();
        if revents.contains(PollFlags::HUP) {
            flags |= Eventrwflags::FD_READWRITE_HANGUP;
        }
        if revents.contains(PollFlags::NVAL) {
            self.emit(sub, Errno::Badf, 0, flags);
            return;
        }
        if revents.contains(PollFlags::ERR) {
            // A socket's pending error is the event's error; a pipe whose reader is gone says
            // POLLERR alone, which is a hangup to the writer.
            match rustix::net::sockopt::socket_error(pollfd.as_fd()) {
                Ok(Err(e)) => return self.emit(sub, e.into(), 0, flags),
                _ => flags |= Eventrwflags::FD_READWRITE_HANGUP,
            }
        }
        let nbytes = match sub.u {
            SubscriptionU::FdRead(_) => rustix::io::ioctl_fionread(pollfd.as_fd()).unwrap_or(0),
            _ => 0,
        };
        self.emit(sub, Errno::Success, nbytes, flags);
    }

    /// The events of the clocks whose time has come by `now` (the monotonic clock).
    fn expire(&mut self, start: &Start, now: Timestamp) -> Result<(), Errno> {
        let subs = self.subs;
        for sub in subs {
            if let SubscriptionU::Clock(c) = sub.u
                && start.deadline(&c)? <= now
            {
                self.emit(sub, Errno::Success, 0, Eventrwflags::empty());
            }
        }
        Ok(())
    }
}

/// The clocks when the call started: every deadline is turned into one on the host's monotonic
/// clock from these, once, so that they do not move while we wait. An absolute realtime deadline
/// thus becomes "that much later than now", as in wasmtime: a change to the realtime clock while
/// we wait is not seen.
struct Start {
    /// The host's monotonic clock.
    monotonic: Timestamp,
    /// The guest's realtime clock, read only when a subscription has an absolute realtime
    /// deadline, the one kind that needs it (0 otherwise, never read).
    realtime: Timestamp,
    /// The guest's monotonic clock when the embedder replaced it and a subscription has an
    /// absolute monotonic deadline; `None` when that deadline is the host's own time.
    guest_monotonic: Option<Timestamp>,
}

impl Start {
    /// The clocks now, each read only when a deadline in `subs` needs it.
    fn now(subs: &[Subscription], clocks: &mut Clocks) -> Result<Start, Errno> {
        let absolute = |id: Clockid| {
            subs.iter().any(|s| {
                matches!(s.u, SubscriptionU::Clock(c) if c.id == id
                    && c.flags.contains(Subclockflags::SUBSCRIPTION_CLOCK_ABSTIME))
            })
        };
        let guest_monotonic = if !clocks.is_host(Clockid::Monotonic) && absolute(Clockid::Monotonic)
        {
            Some(clocks.time_get(Clockid::Monotonic, 0)?)
        } else {
            None
        };
        Ok(Start {
            monotonic: clock::now(ClockId::Monotonic)?,
            realtime: if absolute(Clockid::Realtime) {
                clocks.time_get(Clockid::Realtime, 0)?
            } else {
                0
            },
            guest_monotonic,
        })
    }

    /// A clock subscription's deadline on the host's monotonic clock.
    fn deadline(&self, c: &SubscriptionClock) -> Result<Timestamp, Errno> {
        let absolute = c.flags.contains(Subclockflags::SUBSCRIPTION_CLOCK_ABSTIME);
        let from = |now: Timestamp| self.monotonic.saturating_add(c.timeout.saturating_sub(now));
        match (c.id, absolute) {
            (Clockid::Realtime | Clockid::Monotonic, false) => {
                Ok(self.monotonic.saturating_add(c.timeout))
            }
            (Clockid::Monotonic, true) => Ok(self.guest_monotonic.map_or(c.timeout, from)),
            (Clockid::Realtime, true) => Ok(from(self.realtime)),
            (Clockid::ProcessCputimeId | Clockid::ThreadCputimeId, _) => Err(Errno::Inval),
        }
    }
}

/// For a read event on a file: the bytes between the offset and the end.
fn bytes_left(fd: BorrowedFd<'_>) -> u64 {
    let size = rustix::fs::fstat(fd).map_or(0, |st| u64::try_from(st.st_size).unwrap_or(0));
    let pos = rustix::fs::seek(fd, SeekFrom::Current(0)).unwrap_or(size);
    size.saturating_sub(pos)
}
