;; WasmEdge sock_getaddrinfo of localhost whose result list points back to itself, with the
;; largest maximum: walking it by remembering every record would take host memory up to the
;; size of guest memory. Exits with the errno.
(module
  (import "wasi_snapshot_preview1" "sock_getaddrinfo"
    (func $getaddrinfo (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 16384)
  ;; The list's head at 16 points at the record at 64, whose next (offset 24) is itself.
  (data (i32.const 16) "\40\00\00\00")
  (data (i32.const 88) "\40\00\00\00")
  (data (i32.const 128) "localhost")
  (data (i32.const 144) "80")
  (func (export "_start")
    (call $exit (call $getaddrinfo
      (i32.const 128) (i32.const 9) (i32.const 144) (i32.const 2)
      (i32.const 160) (i32.const 16) (i32.const 0x7fffffff) (i32.const 200)))))
