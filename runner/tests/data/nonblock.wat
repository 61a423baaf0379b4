;; Exits with the NONBLOCK bit (4) of stdout's fdstat flags, or 100 + errno.
(module
  (import "wasi_snapshot_preview1" "fd_fdstat_get"
    (func $fd_fdstat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (local $err i32)
    (local.set $err (call $fd_fdstat_get (i32.const 1) (i32.const 0)))
    (if (local.get $err) (then (call $proc_exit (i32.add (local.get $err) (i32.const 100)))))
    ;; fdstat: fs_filetype u8 at 0, fs_flags u16 at 2.
    (call $proc_exit (i32.and (i32.load16_u (i32.const 2)) (i32.const 4)))))
