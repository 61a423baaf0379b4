//! The process: arguments, environment, stdio, exit and signals.
//!
//! Scenarios (`procs SCENARIO [ARGS...]`, no preopen):
//!
//! - `args ARGS...`: prints `args_sizes_get` and every argument as `args_get` returns it.
//! - `env`: prints `environ_sizes_get` and every variable, sorted.
//! - `exit N`: prints a line, then `proc_exit(N)`; a line printed after it would be a bug.
//! - `raise`: `proc_raise`, which a host cannot honour (ENOSYS), and a signal that does not
//!   exist (EINVAL).
//! - `stdio`: copies stdin to stdout upper-cased, reports the byte count on stderr, and the
//!   types of fds 0, 1, 2.

use wasirun_test_guests::*;

fn main() {
    // Not `Guest::start`: arguments are the subject here, and there is no preopen.
    let scenario = std::env::args().nth(1).unwrap_or_default();
    match scenario.as_str() {
        "args" => args(),
        "env" => env(),
        "exit" => exit(),
        "raise" => raise(),
        "stdio" => stdio(),
        _ => {
            println!("unknown scenario {scenario:?}");
            std::process::exit(2);
        }
    }
}

/// Splits a buffer of NUL-terminated strings.
fn strings(buf: &[u8], count: usize) -> Vec<String> {
    let list: Vec<String> = buf
        .split_inclusive(|&b| b == 0)
        .map(|s| String::from_utf8_lossy(&s[..s.len() - 1]).into_owned())
        .collect();
    assert_eq!(list.len(), count, "{count} strings expected in {buf:?}");
    list
}

fn args() {
    // SAFETY: the pointer table and the buffer have the sizes args_sizes_get gave.
    let (list, count, size) = unsafe {
        let (count, size) = wasi::args_sizes_get().expect("args_sizes_get");
        let mut ptrs = vec![std::ptr::null_mut::<u8>(); count];
        let mut buf = vec![0u8; size];
        wasi::args_get(ptrs.as_mut_ptr(), buf.as_mut_ptr()).expect("args_get");
        // The pointers point into the buffer, one per string, in order.
        for (i, p) in ptrs.iter().enumerate() {
            let offset = (*p as usize).checked_sub(buf.as_ptr() as usize);
            assert!(
                offset.is_some_and(|o| o < size),
                "argv[{i}] outside the buffer"
            );
        }
        (strings(&buf, count), count, size)
    };
    println!("args_sizes_get: {count} {size}");
    for (i, a) in list.iter().enumerate() {
        println!("argv[{i}] = {a:?}");
    }
    // std reads them the same way.
    let std_args: Vec<String> = std::env::args().collect();
    assert_eq!(std_args, list);
}

fn env() {
    // SAFETY: as in `args`.
    let (mut list, count, size) = unsafe {
        let (count, size) = wasi::environ_sizes_get().expect("environ_sizes_get");
        let mut ptrs = vec![std::ptr::null_mut::<u8>(); count];
        let mut buf = vec![0u8; size];
        wasi::environ_get(ptrs.as_mut_ptr(), buf.as_mut_ptr()).expect("environ_get");
        (strings(&buf, count), count, size)
    };
    println!("environ_sizes_get: {count} {size}");
    list.sort();
    for v in &list {
        println!("{v}");
    }
    let mut std_vars: Vec<String> = std::env::vars().map(|(k, v)| format!("{k}={v}")).collect();
    std_vars.sort();
    assert_eq!(std_vars, list);
}

fn exit() {
    let code: u32 = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .expect("exit N");
    println!("exiting with {code}");
    // SAFETY: proc_exit does not return.
    unsafe { wasi::proc_exit(code) };
    println!("still running after proc_exit");
    std::process::exit(99);
}

fn raise() {
    let mut g = Guest::start_without_preopen();
    // SAFETY (the raw calls): no pointers.
    g.errno(
        "proc_raise(TERM)",
        unsafe { wasi::proc_raise(wasi::SIGNAL_TERM) },
        wasi::ERRNO_NOSYS,
    );
    g.errno(
        "proc_raise(KILL)",
        unsafe { wasi::proc_raise(wasi::SIGNAL_KILL) },
        wasi::ERRNO_NOSYS,
    );
    let r = unsafe { wasi::wasi_snapshot_preview1::proc_raise(200) };
    g.errno(
        "proc_raise(200), no such signal",
        raw_result(r),
        wasi::ERRNO_INVAL,
    );
    println!("still running after proc_raise");
    g.finish()
}

fn stdio() {
    for fd in 0..3 {
        let st = fdstat(fd).expect("fd_fdstat_get");
        println!("fd {fd}: {}", filetype_name(st.fs_filetype));
    }
    let input = read_all(0).expect("read stdin");
    let upper = input.0.to_ascii_uppercase();
    let mut at = 0;
    while at < upper.len() {
        at += write(1, &upper[at..]).expect("write stdout");
    }
    let msg = format!("read {} bytes\n", input.len());
    write(2, msg.as_bytes()).expect("write stderr");
}
