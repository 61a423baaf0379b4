;; poll_oneoff with 20,000,000 subscriptions, all in bounds of a 1 GiB memory (zeroed records
;; are relative clocks of 0 ns): copied whole, they would take about 1.9 GB of host memory.
;; Exits with the errno.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 16384)
  (func (export "_start")
    (call $exit (call $poll (i32.const 0) (i32.const 0) (i32.const 20000000) (i32.const 0x3ffffff0)))))
