//! The tracer: [`Tracer`] wraps any system and writes one line per call, strace style
//! (`fd_write(1, [iov("hi\n")]) = 3`) or as JSON lines. The per-function code is generated
//! (every witx package gets it for free); this module holds the formatting it calls.
//!
//! Each line is built in a buffer the tracer reuses and written to the sink with one
//! `write_all` under the sink's lock, so lines from threads sharing a sink never interleave.
//!
//! What a line shows, beyond `Debug`:
//!
//! - Flags are their names joined by `|` (`0` when none is set). A set of more than
//!   [`COMPACT_FLAGS`] flags (the rights) is written, in text, as whichever is shorter: `all`
//!   when every flag is set, `all-but(A|B)` naming the flags missing from the full set, or the
//!   flags that are set; a tie lists what is set. JSON always has the array of the names set
//!   (`["FD_READ","FD_WRITE"]`), for a program to read without knowing the rule.
//! - Output byte buffers whose layout the witx leaves as bytes, but that hold records
//!   (`fd_readdir`'s `dirent`s), are decoded (`[{name: ".", type: DIRECTORY, next: 1}, ...]`);
//!   `trace/buffers.rs` says which and why.
//! - Strings and buffers are cut at [`TraceOptions::string_size`] bytes, lists of decoded
//!   entries at as many entries, with `...` after what was cut.
//!
//! A [`Summary`] counts calls, errors and time per function (`strace -c`): a tracer adds to it
//! beside its lines ([`Tracer::summarize`]), or instead of them ([`Tracer::summary_only`]).

use crate::preview1::types::Errno;
use std::fmt::{self, Display, Write as _};
use std::io::{IoSlice, IoSliceMut, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod buffers;
mod summary;

pub use summary::{Stat, Summary};

/// Flag sets with more flags than this are written compactly in text (`all`, `all-but(...)`).
pub const COMPACT_FLAGS: usize = 8;

/// The line format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// `name(arg, ...) = result`, like strace.
    #[default]
    Text,
    /// One JSON object per call: `name`, `args`, `result` or `errno`, `ns`.
    Json,
}

/// How the tracer prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceOptions {
    /// The line format.
    pub format: Format,
    /// How many bytes of a string or buffer to print before cutting it (like `strace -s`), and
    /// how many entries of a decoded buffer.
    pub string_size: usize,
}

impl Default for TraceOptions {
    fn default() -> Self {
        TraceOptions {
            format: Format::Text,
            string_size: 32,
        }
    }
}

/// Where trace lines go; shareable between tracers.
pub type Sink = Arc<Mutex<dyn Write + Send>>;

/// A system that traces every call of the system it wraps: one line per call to any `Write`
/// (strace's text, or JSON lines), and with [`summarize`](Tracer::summarize) the calls, errors
/// and time per function in a [`Summary`]. It is a [`SystemDelegate`](crate::SystemDelegate)
/// of the system it wraps, so it stacks with any other wrapper, either side.
///
/// ```
/// use std::io::IoSlice;
/// use std::sync::{Arc, Mutex};
/// use wasirun_wasi::trace::{Summary, TraceOptions};
/// use wasirun_wasi::{Errno, Fd, Nosys, Size, System, SystemDelegate, Tracer};
///
/// /// Takes every write; answers nothing else.
/// struct Sink;
/// impl SystemDelegate for Sink {
///     fn delegate(&mut self) -> impl System {
///         Nosys
///     }
///     fn fd_write(&mut self, _: Fd, iovs: &[IoSlice<'_>]) -> Result<Size, Errno> {
///         Ok(iovs.iter().map(|iov| iov.len() as Size).sum())
///     }
/// }
///
/// let lines = Arc::new(Mutex::new(Vec::<u8>::new()));
/// let summary = Summary::new();
/// let mut tracer = Tracer::with_sink(Sink, lines.clone(), TraceOptions::default())
///     .summarize(summary.clone());
/// let calls: &mut dyn System = &mut tracer;
/// assert_eq!(calls.fd_write(Fd(1), &[IoSlice::new(b"hi\n")]), Ok(3));
/// assert_eq!(calls.sched_yield(), Err(Errno::Nosys));
/// let text = String::from_utf8(lines.lock().unwrap().clone()).unwrap();
/// assert!(text.starts_with("fd_write(1, [iov(\"hi\\n\")]) = 3\nsched_yield() = ENOSYS"));
/// let counted: Vec<_> = summary.stats().iter().map(|(f, s)| (*f, s.calls, s.errors)).collect();
/// assert!(counted.contains(&("fd_write", 1, 0)) && counted.contains(&("sched_yield", 1, 1)));
/// ```
pub struct Tracer<S> {
    inner: S,
    sink: Sink,
    options: TraceOptions,
    buf: Vec<u8>,
    /// Whether lines are written (a [`Self::summary_only`] tracer only counts).
    lines: bool,
    summary: Option<Summary>,
}

impl<S> Tracer<S> {
    /// Wraps `inner`, writing to `sink`.
    pub fn new(inner: S, sink: impl Write + Send + 'static, options: TraceOptions) -> Self {
        Self::with_sink(inner, Arc::new(Mutex::new(sink)), options)
    }

    /// Wraps `inner`, writing to a sink shared with other tracers.
    pub fn with_sink(inner: S, sink: Sink, options: TraceOptions) -> Self {
        Tracer {
            inner,
            sink,
            options,
            buf: Vec::with_capacity(256),
            lines: true,
            summary: None,
        }
    }

    /// Wraps `inner`, writing no lines: every call is only counted into `summary`.
    pub fn summary_only(inner: S, summary: Summary) -> Self {
        let mut tracer = Self::new(inner, std::io::sink(), TraceOptions::default());
        tracer.lines = false;
        tracer.summarize(summary)
    }

    /// Counts every call into `summary` too (a summary may be shared between tracers).
    pub fn summarize(mut self, summary: Summary) -> Self {
        self.summary = Some(summary);
        self
    }

    /// The wrapped system.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The wrapped system, mutable.
    pub fn inner_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the system.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// Writes the line of a call the glue refused before decoding it (generated code calls
    /// this): each raw argument with its name, since there are no decoded values to show
    /// (`path_open(fd=3, dirflags=0, path_ptr=16, ..., fs_rights_base=0xffffffffffffffff, ...)
    /// = EINVAL (...)`).
    #[doc(hidden)]
    pub fn trace_refused(&mut self, call: &crate::glue::Refused<'_>) {
        let mut line = self.line(call.function);
        for &(name, value) in call.args {
            line.raw(name, value);
        }
        line.result(&Err::<(), _>(call.errno), Duration::ZERO);
    }

    /// Starts the line for a call of `name` (generated code calls this).
    #[doc(hidden)]
    pub fn line(&mut self, name: &'static str) -> Line<'_> {
        self.buf.clear();
        let json = self.options.format == Format::Json;
        if self.lines && json {
            self.buf.extend_from_slice(b"{\"name\":\"");
            self.buf.extend_from_slice(name.as_bytes());
            self.buf.extend_from_slice(b"\",\"args\":{");
        } else if self.lines {
            self.buf.extend_from_slice(name.as_bytes());
            self.buf.push(b'(');
        }
        Line {
            w: Writer {
                out: &mut self.buf,
                json,
                max: self.options.string_size,
            },
            sink: self.lines.then_some(&self.sink),
            summary: self.summary.as_ref(),
            function: name,
            args: 0,
        }
    }
}

/// One trace line being written.
#[doc(hidden)]
pub struct Line<'t> {
    w: Writer<'t>,
    /// Where the line goes; `None` when lines are off and only the summary counts.
    sink: Option<&'t Sink>,
    summary: Option<&'t Summary>,
    function: &'static str,
    args: usize,
}

impl Line<'_> {
    fn name(&mut self, name: &str) {
        if self.args > 0 {
            self.w
                .out
                .extend_from_slice(if self.w.json { b"," } else { b", " });
        }
        self.args += 1;
        if self.w.json {
            self.w.json_str(name.as_bytes(), usize::MAX);
            self.w.out.push(b':');
        }
    }

    /// An argument known before the call.
    pub fn arg(&mut self, name: &str, value: impl TraceValue) {
        if self.sink.is_none() {
            return;
        }
        self.name(name);
        value.trace(&mut self.w);
    }

    /// A raw core-wasm argument the glue could not decode, named in text too: small values in
    /// decimal, others (pointers, flags) in hex.
    fn raw(&mut self, name: &str, value: u64) {
        if self.sink.is_none() {
            return;
        }
        self.name(name);
        if self.w.json {
            let _ = write!(Fmt(self.w.out), "{value}");
        } else if value < 4096 {
            let _ = write!(Fmt(self.w.out), "{name}={value}");
        } else {
            let _ = write!(Fmt(self.w.out), "{name}={value:#x}");
        }
    }

    /// An output argument: its value after a successful call, `...` after a failed one.
    pub fn arg_out(&mut self, name: &str, value: Option<impl TraceValue>) {
        if self.sink.is_none() {
            return;
        }
        self.name(name);
        match value {
            Some(v) => v.trace(&mut self.w),
            None if self.w.json => self.w.out.extend_from_slice(b"null"),
            None => self.w.out.extend_from_slice(b"..."),
        }
    }

    /// An output byte buffer: the bytes written, decoded when `buffers` knows what this
    /// function's parameter holds, else as a string; `...` after a failed call.
    pub fn arg_out_bytes(&mut self, name: &str, written: Option<&[u8]>) {
        match buffers::decoder(self.function, name) {
            Some(decode) => self.arg_out(name, written.map(|b| Decoded(b, decode))),
            None => self.arg_out(name, written.map(Bytes)),
        }
    }

    /// Ends the line with the call's result and writes it.
    pub fn result<T: TraceValue>(mut self, result: &Result<T, Errno>, elapsed: Duration) {
        if let Some(summary) = self.summary {
            summary.record(self.function, result.is_err(), elapsed);
        }
        if self.sink.is_none() {
            return;
        }
        let w = &mut self.w;
        if w.json {
            w.out.extend_from_slice(b"}");
            match result {
                Ok(v) => {
                    w.out.extend_from_slice(b",\"result\":");
                    v.trace(w);
                }
                Err(e) => {
                    w.out.extend_from_slice(b",\"errno\":");
                    w.json_str(e.name().as_bytes(), usize::MAX);
                }
            }
            let _ = write!(Fmt(w.out), ",\"ns\":{}}}", elapsed.as_nanos());
        } else {
            w.out.extend_from_slice(b") = ");
            match result {
                Ok(v) => v.trace(w),
                Err(e) => {
                    let _ = write!(Fmt(w.out), "{} ({})", e.name(), e.description());
                }
            }
        }
        self.finish();
    }

    /// Ends the line of a call that does not return, and writes it.
    pub fn no_return(mut self) {
        if let Some(summary) = self.summary {
            summary.record(self.function, false, Duration::ZERO);
        }
        if self.sink.is_none() {
            return;
        }
        let out = &mut self.w.out;
        out.extend_from_slice(if self.w.json {
            b"},\"result\":null}"
        } else {
            b") = ?"
        });
        self.finish();
    }

    fn finish(self) {
        self.w.out.push(b'\n');
        // A sink that fails (a closed pipe) must not fail the guest's call: the line is dropped.
        if let Some(Ok(mut sink)) = self.sink.map(|s| s.lock()) {
            let _ = sink.write_all(self.w.out);
        }
    }
}

/// Adapts a byte buffer for `write!`.
struct Fmt<'a>(&'a mut Vec<u8>);

impl fmt::Write for Fmt<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Formats values into a trace line.
pub struct Writer<'a> {
    out: &'a mut Vec<u8>,
    json: bool,
    max: usize,
}

impl Writer<'_> {
    fn sep(&mut self) {
        if !matches!(self.out.last(), Some(b'{' | b'[' | b'(')) {
            self.out
                .extend_from_slice(if self.json { b"," } else { b", " });
        }
    }

    /// An unsigned number.
    pub fn uint(&mut self, v: u64) {
        let _ = write!(Fmt(self.out), "{v}");
    }

    /// A signed number.
    pub fn int(&mut self, v: i64) {
        let _ = write!(Fmt(self.out), "{v}");
    }

    /// A symbolic name (an enum case).
    pub fn symbol(&mut self, name: &str) {
        if self.json {
            self.json_str(name.as_bytes(), usize::MAX);
        } else {
            self.out.extend_from_slice(name.as_bytes());
        }
    }

    /// A set of flags: the names set, or in text, for a set of more than [`COMPACT_FLAGS`]
    /// flags, `all` or `all-but(...)` when that is shorter (the module docs give the rule).
    /// Bits without a name, which a system may make but a guest cannot pass, come last in hex.
    pub fn flags<F: bitflags::Flags>(&mut self, set: &F)
    where
        F::Bits: Into<u64>,
    {
        let unnamed = set.bits().into() & !F::all().bits().into();
        let unnamed = (unnamed != 0).then_some(unnamed);
        let names = |f: &F| f.iter_names().map(|(name, _)| name).collect::<Vec<_>>();
        let set_names = names(set);
        if self.json {
            self.out.push(b'[');
            for name in &set_names {
                self.sep();
                self.symbol(name);
            }
            if let Some(bits) = unnamed {
                self.sep();
                let _ = write!(Fmt(self.out), "\"{bits:#x}\"");
            }
            self.out.push(b']');
            return;
        }
        let missing = names(&F::all().difference(F::from_bits_retain(set.bits())));
        let compact = F::FLAGS.len() > COMPACT_FLAGS && unnamed.is_none();
        if compact && missing.is_empty() {
            self.out.extend_from_slice(b"all");
        } else if compact && missing.len() < set_names.len() {
            self.out.extend_from_slice(b"all-but(");
            self.joined(&missing);
            self.out.push(b')');
        } else {
            self.joined(&set_names);
            match (set_names.is_empty(), unnamed) {
                (true, None) => self.out.push(b'0'),
                (true, Some(bits)) => {
                    let _ = write!(Fmt(self.out), "{bits:#x}");
                }
                (false, Some(bits)) => {
                    let _ = write!(Fmt(self.out), "|{bits:#x}");
                }
                (false, None) => {}
            }
        }
    }

    fn joined(&mut self, names: &[&str]) {
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                self.out.push(b'|');
            }
            self.out.extend_from_slice(name.as_bytes());
        }
    }

    /// A symbolic value printed through `Display`.
    pub fn symbol_display(&mut self, v: &impl Display) {
        if self.json {
            self.out.push(b'"');
            let _ = write!(Fmt(self.out), "{v}");
            self.out.push(b'"');
        } else {
            let _ = write!(Fmt(self.out), "{v}");
        }
    }

    /// Bytes as a quoted, escaped string cut at the string size.
    pub fn bytes(&mut self, b: &[u8]) {
        if self.json {
            self.json_str(b, self.max);
        } else {
            self.c_str(b, self.max);
        }
    }

    fn c_str(&mut self, b: &[u8], max: usize) {
        self.out.push(b'"');
        for &c in b.iter().take(max) {
            match c {
                b'\n' => self.out.extend_from_slice(b"\\n"),
                b'\t' => self.out.extend_from_slice(b"\\t"),
                b'\r' => self.out.extend_from_slice(b"\\r"),
                b'"' => self.out.extend_from_slice(b"\\\""),
                b'\\' => self.out.extend_from_slice(b"\\\\"),
                0x20..=0x7e => self.out.push(c),
                _ => {
                    let _ = write!(Fmt(self.out), "\\x{c:02x}");
                }
            }
        }
        self.out.push(b'"');
        if b.len() > max {
            self.out.extend_from_slice(b"...");
        }
    }

    fn json_str(&mut self, b: &[u8], max: usize) {
        self.out.push(b'"');
        for &c in b.iter().take(max) {
            match c {
                b'"' => self.out.extend_from_slice(b"\\\""),
                b'\\' => self.out.extend_from_slice(b"\\\\"),
                b'\n' => self.out.extend_from_slice(b"\\n"),
                b'\t' => self.out.extend_from_slice(b"\\t"),
                b'\r' => self.out.extend_from_slice(b"\\r"),
                0x20..=0x7e => self.out.push(c),
                _ => {
                    let _ = write!(Fmt(self.out), "\\\\x{c:02x}");
                }
            }
        }
        if b.len() > max {
            self.out.extend_from_slice(b"...");
        }
        self.out.push(b'"');
    }

    /// Opens a record.
    pub fn open_record(&mut self) {
        self.out.push(b'{');
    }

    /// A field of the open record.
    pub fn field(&mut self, name: &str, v: &impl TraceValue) {
        self.sep();
        if self.json {
            self.json_str(name.as_bytes(), usize::MAX);
            self.out.push(b':');
        } else {
            self.out.extend_from_slice(name.as_bytes());
            self.out.extend_from_slice(b": ");
        }
        v.trace(self);
    }

    /// Closes a record.
    pub fn close_record(&mut self) {
        self.out.push(b'}');
    }

    /// A union case with its payload.
    pub fn variant(&mut self, name: &str, payload: &impl TraceValue) {
        if self.json {
            self.out.push(b'{');
            self.json_str(name.as_bytes(), usize::MAX);
            self.out.push(b':');
            payload.trace(self);
            self.out.push(b'}');
        } else {
            self.out.extend_from_slice(name.as_bytes());
            self.out.push(b'(');
            payload.trace(self);
            self.out.push(b')');
        }
    }

    fn list<T>(&mut self, items: impl Iterator<Item = T>, mut each: impl FnMut(&mut Self, T)) {
        self.out.push(b'[');
        for item in items {
            self.sep();
            each(self, item);
        }
        self.out.push(b']');
    }

    fn iov(&mut self, b: &[u8]) {
        if self.json {
            self.bytes(b);
        } else {
            self.out.extend_from_slice(b"iov(");
            self.bytes(b);
            self.out.push(b')');
        }
    }
}

/// A value that can be written into a trace line.
pub trait TraceValue {
    /// Writes the value.
    fn trace(&self, w: &mut Writer<'_>);
}

impl<T: TraceValue + ?Sized> TraceValue for &T {
    fn trace(&self, w: &mut Writer<'_>) {
        (**self).trace(w);
    }
}

macro_rules! trace_uint {
    ($($t:ty),*) => {$(
        impl TraceValue for $t {
            fn trace(&self, w: &mut Writer<'_>) {
                w.uint(u64::from(*self));
            }
        }
    )*};
}
trace_uint!(u8, u16, u32, u64);

macro_rules! trace_int {
    ($($t:ty),*) => {$(
        impl TraceValue for $t {
            fn trace(&self, w: &mut Writer<'_>) {
                w.int(i64::from(*self));
            }
        }
    )*};
}
trace_int!(i8, i16, i32, i64);

impl TraceValue for str {
    fn trace(&self, w: &mut Writer<'_>) {
        w.bytes(self.as_bytes());
    }
}

impl TraceValue for () {
    fn trace(&self, w: &mut Writer<'_>) {
        w.out.push(b'0');
    }
}

macro_rules! tuple_value {
    ($first:ident $(, $rest:ident)*) => {
        impl<$first: TraceValue, $($rest: TraceValue),*> TraceValue for ($first, $($rest),*) {
            #[allow(non_snake_case)]
            fn trace(&self, w: &mut Writer<'_>) {
                let ($first, $($rest),*) = self;
                w.out.push(if w.json { b'[' } else { b'(' });
                $first.trace(w);
                $(w.sep(); $rest.trace(w);)*
                w.out.push(if w.json { b']' } else { b')' });
            }
        }
    };
}

tuple_value!(A, B);
tuple_value!(A, B, C);

/// A byte buffer argument.
pub struct Bytes<'a>(pub &'a [u8]);

impl TraceValue for Bytes<'_> {
    fn trace(&self, w: &mut Writer<'_>) {
        w.bytes(self.0);
    }
}

/// An input iovec list, each buffer cut at the string size.
pub struct Iovecs<'a, 'b>(pub &'a [IoSlice<'b>]);

impl TraceValue for Iovecs<'_, '_> {
    fn trace(&self, w: &mut Writer<'_>) {
        w.list(self.0.iter(), |w, b| w.iov(b));
    }
}

/// An output iovec list after the call, showing the first `.1` bytes across its buffers.
pub struct IovecsMut<'a, 'b>(pub &'a [IoSliceMut<'b>], pub usize);

impl TraceValue for IovecsMut<'_, '_> {
    fn trace(&self, w: &mut Writer<'_>) {
        let mut left = self.1;
        w.list(self.0.iter(), |w, b| {
            let n = left.min(b.len());
            left -= n;
            w.iov(&b[..n]);
        });
    }
}

/// An output buffer `buffers` decodes.
struct Decoded<'a>(&'a [u8], buffers::Decoder);

impl TraceValue for Decoded<'_> {
    fn trace(&self, w: &mut Writer<'_>) {
        (self.1)(w, self.0);
    }
}

/// A list of values.
pub struct List<'a, T>(pub &'a [T]);

impl<T: TraceValue> TraceValue for List<'_, T> {
    fn trace(&self, w: &mut Writer<'_>) {
        w.list(self.0.iter(), |w, v| v.trace(w));
    }
}

/// Formats flags as `A|B`, `0` when none is set, hex for bits without a name.
pub fn fmt_flags<'a, T>(
    f: &mut fmt::Formatter<'_>,
    names: impl Iterator<Item = (&'a str, T)>,
    bits: u64,
) -> fmt::Result {
    let mut any = false;
    for (name, _) in names {
        if any {
            f.write_char('|')?;
        }
        f.write_str(name)?;
        any = true;
    }
    match (any, bits) {
        (false, 0) => f.write_char('0'),
        (false, b) => write!(f, "{b:#x}"),
        _ => Ok(()),
    }
}
