;; invoke.wat: exports for --invoke: `add` (two i32s, one result), `pair` (an i64 and an f64,
;; two results) and a memory; no `_start`.
(module
  (memory (export "memory") 1)
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  (func (export "pair") (param i64 f64) (result i64 f64)
    (local.get 0) (local.get 1)))
