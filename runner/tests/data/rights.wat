;; Opens the file "f" of preopen fd 3 with the right FD_READ only, then asks for its
;; fd_filestat_get, which needs FD_FILESTAT_GET: exits with that call's errno (ENOTCAPABLE, 76,
;; when rights are enforced).
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_get"
    (func $fd_filestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "f")
  (func (export "_start")
    (local $err i32)
    (local.set $err (call $path_open (i32.const 3) (i32.const 0) (i32.const 64) (i32.const 1)
                                     (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0)
                                     (i32.const 32)))
    (if (local.get $err) (then (call $proc_exit (i32.add (local.get $err) (i32.const 100)))))
    (call $proc_exit (call $fd_filestat_get (i32.load (i32.const 32)) (i32.const 128)))))
