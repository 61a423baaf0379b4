;; Creates new.txt in the preopen fd 3 and writes "x" to it; exits with the first errno.
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "new.txt")
  (data (i32.const 80) "x")
  (func (export "_start")
    (local $err i32)
    ;; oflags CREAT (1); rights FD_WRITE (1 << 6).
    (local.set $err (call $path_open (i32.const 3) (i32.const 0) (i32.const 64) (i32.const 7)
                                     (i32.const 1) (i64.const 64) (i64.const 0) (i32.const 0)
                                     (i32.const 32)))
    (if (local.get $err) (then (call $proc_exit (local.get $err))))
    (i32.store (i32.const 0) (i32.const 80))
    (i32.store (i32.const 4) (i32.const 1))
    (call $proc_exit
      (call $fd_write (i32.load (i32.const 32)) (i32.const 0) (i32.const 1) (i32.const 16)))))
