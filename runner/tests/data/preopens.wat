;; Prints the guest name of each preopen (fd_prestat_dir_name), from fd 3 until EBADF; exits
;; with the errno of any other failure.
(module
  (import "wasi_snapshot_preview1" "fd_prestat_get"
    (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name"
    (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  ;; 0: iovecs; 16: nwritten; 32: prestat; 48: "\n"; 1024: the name.
  (data (i32.const 48) "\n")
  (func (export "_start")
    (local $fd i32) (local $err i32) (local $len i32)
    (local.set $fd (i32.const 3))
    (loop $next
      (local.set $err (call $fd_prestat_get (local.get $fd) (i32.const 32)))
      (if (i32.eq (local.get $err) (i32.const 8)) (then (return)))
      (if (local.get $err) (then (call $proc_exit (local.get $err))))
      (local.set $len (i32.load (i32.const 36)))
      (local.set $err
        (call $fd_prestat_dir_name (local.get $fd) (i32.const 1024) (local.get $len)))
      (if (local.get $err) (then (call $proc_exit (local.get $err))))
      (i32.store (i32.const 0) (i32.const 1024))
      (i32.store (i32.const 4) (local.get $len))
      (i32.store (i32.const 8) (i32.const 48))
      (i32.store (i32.const 12) (i32.const 1))
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 2) (i32.const 16)))
      (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
      (br $next))))
