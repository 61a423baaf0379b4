//! [`Replayer`]: the system that answers every call from a log. Its per-function code is
//! generated (`generated/<package>/replay.rs`); this is what that code calls.

use super::format::{Arg, Call, Header, LogError, MAGIC, VERSION, read_frame};
use super::value::{Args, Logged};
use crate::abi::GuestValue;
use crate::preview1::types::Errno;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};

/// The errno a call gets when the replay stops: the glue then asks
/// [`stop_requested`](crate::System::stop_requested), which is true, and ends the instance with
/// a trap instead of handing it to the guest.
const STOPPED: Errno = Errno::Notcapable;

/// Why a replay stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The guest made another call than the log holds at this point.
    #[error("divergence at call {number}: the guest called {came}, the log has {recorded}")]
    Diverged {
        /// The call's number, counting from 1.
        number: u64,
        /// The call in the log.
        recorded: String,
        /// The call the guest made.
        came: String,
    },
    /// The guest made a call after the last one the log holds.
    #[error("divergence at call {number}: the guest called {came} after the log's last call")]
    Ended {
        /// The call's number, counting from 1.
        number: u64,
        /// The call the guest made.
        came: String,
    },
    /// The guest ended before the log did.
    #[error("divergence at call {number}: the guest ended, the log has {recorded}")]
    Unfinished {
        /// The number of the first call left in the log.
        number: u64,
        /// That call.
        recorded: String,
    },
    /// The log could not be read.
    #[error("call {number}: {error}")]
    Log {
        /// The call being replayed.
        number: u64,
        /// What is wrong with the log.
        error: LogError,
    },
}

/// One call as read from the log.
#[derive(Clone, Debug)]
struct Recorded {
    function: String,
    args: Vec<u8>,
    errno: u16,
    ok: Vec<u8>,
    out: Vec<u8>,
}

impl Recorded {
    fn describe(&self, names: Option<&[&str]>) -> String {
        describe(&self.function, &self.args, names)
    }
}

/// `function(name=arg, ...)` from encoded arguments.
fn describe(function: &str, mut args: &[u8], names: Option<&[&str]>) -> String {
    let mut s = format!("{function}(");
    let mut i = 0;
    while !args.is_empty() {
        let Ok((arg, rest)) = postcard::take_from_bytes::<Arg<'_>>(args) else {
            s.push_str("<undecodable>");
            break;
        };
        if i > 0 {
            s.push_str(", ");
        }
        if let Some(name) = names.and_then(|n| n.get(i)) {
            let _ = write!(s, "{name}=");
        }
        let _ = write!(s, "{arg}");
        args = rest;
        i += 1;
    }
    s.push(')');
    s
}

/// A system that answers every call from a log a [`Recorder`](super::Recorder) wrote, without
/// touching the host: no file, socket or clock of this machine is used. The bytes the guest
/// writes to the descriptors given [`Replayer::output`] go there (its stdout and stderr, say),
/// as far as the recorded call wrote them.
///
/// A call that differs from the log's (another function, other arguments) stops the replay:
/// the call fails, [`stop_requested`](crate::System::stop_requested) says so, and the glue ends
/// the instance with a trap; [`Replayer::finish`] then says where and how it diverged. A log
/// that is truncated or corrupted stops it the same way, with a [`ReplayError::Log`].
///
/// ```
/// use wasirun_wasi::record::{Header, Recorder, Replayer};
/// use wasirun_wasi::{Clockid, Errno, Nosys, System, SystemDelegate, Timestamp};
///
/// struct Clock;
/// impl SystemDelegate for Clock {
///     fn delegate(&mut self) -> impl System {
///         Nosys
///     }
///     fn clock_time_get(&mut self, _: Clockid, _: Timestamp) -> Result<Timestamp, Errno> {
///         Ok(42)
///     }
/// }
///
/// let file = std::env::temp_dir().join(format!("replayer-doc-{}.log", std::process::id()));
/// let header = Header::new("app.wasm", b"\0asm\x01\0\0\0");
/// let mut recorder = Recorder::new(Clock, std::fs::File::create(&file)?, header)?;
/// System::clock_time_get(&mut recorder, Clockid::Realtime, 1).unwrap();
/// recorder.finish()?;
///
/// let mut replayer = Replayer::new(std::fs::File::open(&file)?)?;
/// assert_eq!(replayer.header().module, "app.wasm");
/// assert_eq!(replayer.clock_time_get(Clockid::Realtime, 1), Ok(42));
/// replayer.finish()?;
/// # std::fs::remove_file(&file)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Replayer {
    input: Box<dyn Read + Send>,
    header: Header,
    block: Vec<u8>,
    pos: usize,
    blocks: u64,
    next: Option<Recorded>,
    calls: u64,
    outputs: BTreeMap<u64, Box<dyn Write + Send>>,
    error: Option<ReplayError>,
    end: Option<(i32, String)>,
    on_end: Option<Box<dyn FnOnce() + Send>>,
}

impl Replayer {
    /// Reads the log's header from `log`; the calls are read as the guest makes them.
    pub fn new(log: impl Read + Send + 'static) -> Result<Self, LogError> {
        let mut input: Box<dyn Read + Send> = Box::new(log);
        let mut magic = [0u8; MAGIC.len()];
        let mut got = 0;
        while got < magic.len() {
            match input.read(&mut magic[got..]) {
                Ok(0) => return Err(LogError::NotALog),
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        if &magic != MAGIC {
            return Err(LogError::NotALog);
        }
        let mut block = Vec::new();
        if !read_frame(&mut input, 0, &mut block)? {
            return Err(LogError::Truncated { block: 0 });
        }
        let header: Header = postcard::from_bytes(&block).map_err(|e| LogError::Corrupt {
            block: 0,
            what: format!("header: {e}"),
        })?;
        if header.version != VERSION {
            return Err(LogError::Version {
                found: header.version,
            });
        }
        block.clear();
        Ok(Replayer {
            input,
            header,
            block,
            pos: 0,
            blocks: 1,
            next: None,
            calls: 0,
            outputs: BTreeMap::new(),
            error: None,
            end: None,
            on_end: None,
        })
    }

    /// Runs `on_end` once, when the replay reaches the recorded run's end (see
    /// [`Ending`](super::Ending)) after a call: the recorded guest made no call after that one,
    /// so a host whose guest may be running its own code (stopped there in the recorded run)
    /// stops it now, through epoch interruption.
    pub fn on_end(mut self, on_end: impl FnOnce() + Send + 'static) -> Self {
        self.on_end = Some(Box::new(on_end));
        self
    }

    /// How the recorded run ended, once the replay has reached its end: its exit status and
    /// message (empty for a guest's own exit).
    pub fn recorded_end(&self) -> Option<(i32, &str)> {
        self.end
            .as_ref()
            .map(|(status, message)| (*status, message.as_str()))
    }

    /// Whether the log has no call left and says how the run ended; runs `on_end` then.
    /// A log that fails to read here stops the replay at once: the error is the next call's.
    fn at_end(&mut self) -> bool {
        match self.peek().map(|next| next.is_some()) {
            Ok(false) if self.end.is_some() => {}
            Ok(_) => return false,
            Err(error) => {
                let number = self.calls + 1;
                self.stop(ReplayError::Log { number, error });
                return false;
            }
        }
        if let Some(on_end) = self.on_end.take() {
            on_end();
        }
        true
    }

    /// The log's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Sends what the guest writes to descriptor `fd` to `out` (`fd_write`, `sock_send`...: any
    /// function that takes a descriptor and bytes to write).
    pub fn output(mut self, fd: u32, out: impl Write + Send + 'static) -> Self {
        self.outputs.insert(u64::from(fd), Box::new(out));
        self
    }

    /// How many calls were replayed.
    pub fn calls(&self) -> u64 {
        self.calls
    }

    /// Why the replay stopped, if it did.
    pub fn error(&self) -> Option<&ReplayError> {
        self.error.as_ref()
    }

    /// Ends the replay: why it stopped, if it did, or the first call left in the log, if the
    /// guest ended before it. Flushes the outputs.
    pub fn finish(&mut self) -> Result<(), ReplayError> {
        for out in self.outputs.values_mut() {
            let _ = out.flush();
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let number = self.calls + 1;
        match self.peek() {
            Ok(Some(call)) => Err(ReplayError::Unfinished {
                number,
                recorded: call.describe(None),
            }),
            Ok(None) => Ok(()),
            Err(error) => Err(ReplayError::Log { number, error }),
        }
    }

    fn read_call(&mut self) -> Result<Option<Recorded>, LogError> {
        if self.end.is_some() {
            return Ok(None);
        }
        while self.pos >= self.block.len() {
            self.pos = 0;
            let read = read_frame(&mut self.input, self.blocks, &mut self.block);
            if !matches!(read, Ok(true)) {
                // Nothing of a block that did not read is left to read again.
                self.block.clear();
                return read.map(|_| None);
            }
            self.blocks += 1;
        }
        let block = self.blocks - 1;
        let (call, rest) =
            postcard::take_from_bytes::<Call<'_>>(&self.block[self.pos..]).map_err(|e| {
                LogError::Corrupt {
                    block,
                    what: format!("call: {e}"),
                }
            })?;
        if call.function == super::END {
            let status = <[u8; 4]>::try_from(call.ok).map_err(|_| LogError::Corrupt {
                block,
                what: "an end without a status".into(),
            })?;
            self.end = Some((
                i32::from_le_bytes(status),
                String::from_utf8_lossy(call.out).into_owned(),
            ));
            self.pos = self.block.len();
            return Ok(None);
        }
        let recorded = Recorded {
            function: call.function.to_string(),
            args: call.args.to_vec(),
            errno: call.errno,
            ok: call.ok.to_vec(),
            out: call.out.to_vec(),
        };
        self.pos = self.block.len() - rest.len();
        Ok(Some(recorded))
    }

    fn peek(&mut self) -> Result<Option<&Recorded>, LogError> {
        if self.next.is_none() {
            self.next = self.read_call()?;
        }
        Ok(self.next.as_ref())
    }

    fn stop(&mut self, error: ReplayError) -> Errno {
        if self.error.is_none() {
            self.error = Some(error);
        }
        STOPPED
    }

    fn corrupt(&mut self, what: &str) -> Errno {
        let number = self.calls;
        let block = self.blocks.saturating_sub(1);
        self.stop(ReplayError::Log {
            number,
            error: LogError::Corrupt {
                block,
                what: what.to_string(),
            },
        })
    }

    /// Stops the replay at the last call replayed, a divergence the log's bytes do not show: a
    /// wrapper that answers a call itself (the guest's arguments given anew, say) found that
    /// its answer, `came`, is not the log's, `recorded`. Returns the errno to fail the call
    /// with; the glue then ends the instance.
    pub fn diverge(&mut self, recorded: String, came: String) -> Errno {
        let number = self.calls;
        self.stop(ReplayError::Diverged {
            number,
            recorded,
            came,
        })
    }

    /// Starts encoding the arguments of a call (generated code calls this).
    #[doc(hidden)]
    pub fn args(&mut self, function: &'static str, names: &'static [&'static str]) -> Args {
        Args {
            function,
            names,
            buf: Vec::new(),
            full_writes: self.header.full_writes,
        }
    }

    /// Takes the log's next call, which must be the one `args` describes (generated code calls
    /// this): else the replay stops, and so does every call after a stop.
    #[doc(hidden)]
    pub fn replay(&mut self, args: Args) -> Result<Replay<'_>, Errno> {
        if self.error.is_some() {
            return Err(STOPPED);
        }
        let number = self.calls + 1;
        if self.at_end() {
            // The recorded run had ended before this call: the replay ends as it did.
            return Err(STOPPED);
        }
        let recorded = match self.peek() {
            Ok(Some(r)) => r,
            Ok(None) => {
                let came = describe(args.function, &args.buf, Some(args.names));
                return Err(self.stop(ReplayError::Ended { number, came }));
            }
            Err(error) => return Err(self.stop(ReplayError::Log { number, error })),
        };
        if recorded.function != args.function || recorded.args != args.buf {
            let names = (recorded.function == args.function).then_some(args.names);
            let recorded = recorded.describe(names);
            let came = describe(args.function, &args.buf, Some(args.names));
            return Err(self.stop(ReplayError::Diverged {
                number,
                recorded,
                came,
            }));
        }
        let Some(call) = self.next.take() else {
            return Err(STOPPED);
        };
        self.calls = number;
        Ok(Replay {
            replayer: self,
            call,
            out: 0,
        })
    }

    /// Whether the recording was stopped here (generated code calls this from
    /// `stop_requested`): the recorder logs a stop the system it wrapped asked for.
    #[doc(hidden)]
    pub fn stopped(&mut self) -> bool {
        if self.error.is_some() {
            return true;
        }
        match self.peek() {
            Ok(Some(call)) if call.function == super::STOP => {
                self.next = None;
                true
            }
            _ => self.at_end(),
        }
    }
}

/// The recorded call being replayed (generated code uses it).
#[doc(hidden)]
pub struct Replay<'r> {
    replayer: &'r mut Replayer,
    call: Recorded,
    out: usize,
}

impl Replay<'_> {
    /// The recorded result.
    pub fn result<T: Logged>(&mut self) -> Result<T, Errno> {
        if self.call.errno != 0 {
            return match Errno::load(&self.call.errno.to_le_bytes(), 0) {
                Ok(e) => Err(e),
                Err(_) => Err(self.replayer.corrupt("an errno out of range")),
            };
        }
        let mut ok = self.call.ok.as_slice();
        match T::unlog(&mut ok) {
            Some(v) if ok.is_empty() => Ok(v),
            _ => Err(self.replayer.corrupt("results that do not decode")),
        }
    }

    fn next_output(&mut self) -> Result<&[u8], Errno> {
        let rest = &self.call.out[self.out..];
        let Ok((bytes, after)) = postcard::take_from_bytes::<&[u8]>(rest) else {
            return Err(self.replayer.corrupt("outputs that do not decode"));
        };
        self.out = self.call.out.len() - after.len();
        Ok(bytes)
    }

    /// Writes the recorded bytes across `iovs`.
    pub fn iovecs(&mut self, iovs: &mut [IoSliceMut<'_>]) -> Result<(), Errno> {
        let mut bytes = self.next_output()?;
        for b in iovs.iter_mut() {
            let n = bytes.len().min(b.len());
            b[..n].copy_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
        }
        if !bytes.is_empty() {
            return Err(self
                .replayer
                .corrupt("more bytes than the guest's buffers hold"));
        }
        Ok(())
    }

    /// Writes the recorded bytes into `buf`.
    pub fn bytes(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
        let bytes = self.next_output()?;
        let Some(to) = buf.get_mut(..bytes.len()) else {
            return Err(self
                .replayer
                .corrupt("more bytes than the guest's buffer holds"));
        };
        to.copy_from_slice(bytes);
        Ok(())
    }

    /// Writes the recorded values into `values`.
    pub fn values<T: Logged>(&mut self, values: &mut [T]) -> Result<(), Errno> {
        let mut bytes = self.next_output()?;
        let mut slots = values.iter_mut();
        while !bytes.is_empty() {
            match (T::unlog(&mut bytes), slots.next()) {
                (Some(v), Some(slot)) => *slot = v,
                _ => return Err(self.replayer.corrupt("records that do not decode or fit")),
            }
        }
        Ok(())
    }

    /// Writes the recorded records into `records`.
    pub fn records<T: GuestValue>(&mut self, records: &mut [T]) -> Result<(), Errno> {
        self.values(records)
    }

    /// Sends the first `written` bytes of `iovs` to the output given for descriptor `fd`, if any.
    pub fn written(&mut self, fd: u64, iovs: &[IoSlice<'_>], written: usize) {
        let Some(out) = self.replayer.outputs.get_mut(&fd) else {
            return;
        };
        let mut left = written;
        for b in iovs {
            let n = left.min(b.len());
            let _ = out.write_all(&b[..n]);
            left -= n;
        }
    }

    /// Checks that every recorded output was used; at the log's recorded end, runs the
    /// replayer's `on_end`.
    pub fn finish(self) -> Result<(), Errno> {
        if self.out != self.call.out.len() {
            return Err(self.replayer.corrupt("outputs the call does not have"));
        }
        self.replayer.at_end();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Header, Recorder};
    use crate::{Nosys, System, SystemDelegate};
    use std::sync::{Arc, Mutex};

    /// A system whose random bytes are all 7.
    struct Sevens;
    impl SystemDelegate for Sevens {
        fn delegate(&mut self) -> impl System {
            Nosys
        }
        fn random_get(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
            buf.fill(7);
            Ok(())
        }
    }

    /// A log in memory, shared with the test.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().write(b)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A log of `calls` random_get calls, ended with `end` when given.
    fn log(calls: usize, end: Option<(i32, &str)>) -> Vec<u8> {
        let out = Shared::default();
        let header = Header::new("app.wasm", b"\0asm\x01\0\0\0");
        let mut recorder = Recorder::new(Sevens, out.clone(), header).unwrap();
        for _ in 0..calls {
            System::random_get(&mut recorder, &mut [0; 4]).unwrap();
        }
        let ending = recorder.ending();
        drop(recorder);
        if let Some((status, message)) = end {
            ending.end(status, message);
            ending.end(99, "a second ending is ignored");
        }
        drop(ending);
        out.0.lock().unwrap().clone()
    }

    #[test]
    fn the_last_call_is_replayed_once() {
        let mut replayer = Replayer::new(io::Cursor::new(log(2, None))).unwrap();
        let mut buf = [0; 4];
        assert_eq!(System::random_get(&mut replayer, &mut buf), Ok(()));
        assert_eq!(System::random_get(&mut replayer, &mut buf), Ok(()));
        assert_eq!(buf, [7; 4]);
        assert!(System::random_get(&mut replayer, &mut buf).is_err());
        assert!(matches!(
            replayer.finish(),
            Err(ReplayError::Ended { number: 3, .. })
        ));
    }

    #[test]
    fn the_recorded_end_is_reached_after_the_last_call() {
        let ended = Arc::new(Mutex::new(0));
        let seen = Arc::clone(&ended);
        let mut replayer = Replayer::new(io::Cursor::new(log(1, Some((124, "timed out")))))
            .unwrap()
            .on_end(move || *seen.lock().unwrap() += 1);
        assert_eq!(replayer.recorded_end(), None);
        assert_eq!(System::random_get(&mut replayer, &mut [0; 4]), Ok(()));
        // The end is seen as soon as the last call is done, before the guest calls again.
        assert_eq!(*ended.lock().unwrap(), 1);
        assert_eq!(replayer.recorded_end(), Some((124, "timed out")));
        // A call after it: the recorded run never made it; the replay stops, not diverges.
        assert!(System::random_get(&mut replayer, &mut [0; 4]).is_err());
        assert!(System::stop_requested(&mut replayer));
        assert_eq!(*ended.lock().unwrap(), 1);
        assert!(replayer.finish().is_ok());
    }
}
