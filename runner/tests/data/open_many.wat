;; Opens the file "f" of preopen fd 3 200 times without closing it; exits with the errno of
;; the first failure (ENFILE, 41, past --max-open-files), or 0.
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "f")
  (func (export "_start")
    (local $i i32) (local $err i32)
    (loop $next
      ;; rights FD_READ (1 << 1).
      (local.set $err (call $path_open (i32.const 3) (i32.const 0) (i32.const 64) (i32.const 1)
                                       (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0)
                                       (i32.const 32)))
      (if (local.get $err) (then (call $proc_exit (local.get $err))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 200))))))
