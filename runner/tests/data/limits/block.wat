;; Sets O_NONBLOCK (fdflags 4) on stdout, then blocks reading stdin; exits 3 if the read ends.
(module
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags"
    (func $set_flags (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  ;; One iovec: 16 bytes at 16.
  (data (i32.const 0) "\10\00\00\00\10\00\00\00")
  (func (export "_start")
    (drop (call $set_flags (i32.const 1) (i32.const 4)))
    (drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 100)))
    (call $exit (i32.const 3))))
