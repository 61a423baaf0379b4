;; Sets O_NONBLOCK (fdflags 4) on stdout, then waits in sock_accept on fd 3 (a blocking
;; --listen socket nobody connects to); exits 3 if the accept ends.
(module
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags"
    (func $set_flags (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_accept"
    (func $accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (call $set_flags (i32.const 1) (i32.const 4)))
    (drop (call $accept (i32.const 3) (i32.const 0) (i32.const 0)))
    (call $exit (i32.const 3))))
