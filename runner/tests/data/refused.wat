;; Two calls the glue refuses before they reach the system: `path_open` with rights bits the
;; witx does not define (EINVAL) and `fd_write` with iovecs past the end of memory (EFAULT).
;; Exits with the sum of the two errnos (28 + 21), so the test sees what the guest got.
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "f.txt")
  (func (export "_start")
    (local $open i32)
    (local.set $open
      (call $path_open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 5) (i32.const 0)
        (i64.const -1) (i64.const 0) (i32.const 0) (i32.const 32)))
    (call $proc_exit
      (i32.add
        (local.get $open)
        (call $fd_write (i32.const 1) (i32.const 65532) (i32.const 2) (i32.const 40))))))
