;; poll_oneoff with the most subscriptions a call takes (131,072 relative clocks of 0 ns, all
;; due at once), then one more. Exits 0 when the first reports every event and the second is
;; EINVAL; 1 or 2 otherwise, or the errno of a failed first call plus 100.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  ;; Subscriptions (48 bytes each) from 0, events (32 bytes each) from 8 MiB.
  (memory (export "memory") 256)
  (func (export "_start")
    (local $errno i32)
    (local.set $errno (call $poll (i32.const 0) (i32.const 0x800000) (i32.const 131072) (i32.const 0xfffff0)))
    (if (local.get $errno) (then (call $exit (i32.add (local.get $errno) (i32.const 100)))))
    (if (i32.ne (i32.load (i32.const 0xfffff0)) (i32.const 131072)) (then (call $exit (i32.const 1))))
    (if (i32.ne (call $poll (i32.const 0) (i32.const 0x800000) (i32.const 131073) (i32.const 0xfffff0)) (i32.const 28))
      (then (call $exit (i32.const 2))))
    (call $exit (i32.const 0))))
