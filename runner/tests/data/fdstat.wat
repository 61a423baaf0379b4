;; Prints `FD:FILETYPE` (fd_fdstat_get) for each fd from 3 until EBADF, one digit each; exits
;; with the errno of any other failure.
(module
  (import "wasi_snapshot_preview1" "fd_fdstat_get"
    (func $fd_fdstat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  ;; 0: iovec; 16: nwritten; 32: fdstat; 64: the line "F:T\n".
  (data (i32.const 64) "0:0\n")
  (func (export "_start")
    (local $fd i32) (local $err i32)
    (local.set $fd (i32.const 3))
    (loop $next
      (local.set $err (call $fd_fdstat_get (local.get $fd) (i32.const 32)))
      (if (i32.eq (local.get $err) (i32.const 8)) (then (return)))
      (if (local.get $err) (then (call $proc_exit (local.get $err))))
      (i32.store8 (i32.const 64) (i32.add (i32.const 48) (local.get $fd)))
      (i32.store8 (i32.const 66) (i32.add (i32.const 48) (i32.load8_u (i32.const 32))))
      (i32.store (i32.const 0) (i32.const 64))
      (i32.store (i32.const 4) (i32.const 4))
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
      (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
      (br $next))))
