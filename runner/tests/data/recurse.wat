;; Recurses 100000 calls deep: about 2 MiB of native stack (16 to 32 bytes a frame), more than
;; wasmtime's default 512 KiB, well under the 8 MiB Go's test wrapper asks for.
(module
  (memory (export "memory") 1)
  (func $down (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (i32.add (call $down (i32.sub (local.get $n) (i32.const 1))) (i32.const 1)))))
  (func (export "_start")
    (drop (call $down (i32.const 100000)))))
