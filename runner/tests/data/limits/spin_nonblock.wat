;; Sets O_NONBLOCK (fdflags 4) on stdout, then loops forever in wasm.
(module
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags"
    (func $set_flags (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (call $set_flags (i32.const 1) (i32.const 4)))
    (loop br 0)))
