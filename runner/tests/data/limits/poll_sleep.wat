;; Sets O_NONBLOCK (fdflags 4) on stdout, then sleeps a day in poll_oneoff (one relative
;; monotonic clock of 86,400 s); exits 3 if the sleep ends.
(module
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags"
    (func $set_flags (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  ;; The subscription at 0: userdata 0, tag 0 (clock), id 1 (monotonic), timeout, flags 0.
  (data (i32.const 16) "\01\00\00\00\00\00\00\00\00\00\4f\91\94\4e\00\00")
  (func (export "_start")
    (drop (call $set_flags (i32.const 1) (i32.const 4)))
    (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))
    (call $exit (i32.const 3))))
