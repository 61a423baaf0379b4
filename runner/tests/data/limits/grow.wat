;; Grows its table by 1e9 elements, then its memory by 2000 pages (125 MiB); exits 1 or 2 if
;; either grew, 10 when both failed as memory.grow and table.grow report failure (-1).
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory 1)
  (table 1 funcref)
  (func (export "_start")
    (if (i32.ne (table.grow (ref.null func) (i32.const 1000000000)) (i32.const -1))
      (then (call $exit (i32.const 1))))
    (if (i32.ne (memory.grow (i32.const 2000)) (i32.const -1))
      (then (call $exit (i32.const 2))))
    (call $exit (i32.const 10))))
