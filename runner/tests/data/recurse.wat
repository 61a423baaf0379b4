;; Recurses 100000 calls deep: about 2 MiB of native stack (16 to 32 bytes a frame), more than
;; wasmtime's default 512 KiB, well under the 8 MiB Go's test wrapper asks for. At the bottom
;; it writes "bottom\n" to stdout: a host function called from the deepest frame.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; iovec at 0: "bottom\n" at 16, 7 bytes; nwritten at 8.
  (data (i32.const 0) "\10\00\00\00\07\00\00\00")
  (data (i32.const 16) "bottom\n")
  (func $down (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
      (else (i32.add (call $down (i32.sub (local.get $n) (i32.const 1))) (i32.const 1)))))
  (func (export "_start")
    (drop (call $down (i32.const 100000)))))
