;; Opens the preopen fd 3's "." 5 times as a directory and starts reading each (fd_readdir into
;; a 32-byte buffer, so none is finished); exits with the errno of the first failure (EMFILE,
;; 33, past --max-open-dirs), or 0.
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir"
    (func $fd_readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) ".")
  (func (export "_start")
    (local $i i32) (local $err i32)
    (loop $next
      ;; oflags DIRECTORY (2); rights FD_READDIR (1 << 14).
      (local.set $err (call $path_open (i32.const 3) (i32.const 0) (i32.const 64) (i32.const 1)
                                       (i32.const 2) (i64.const 16384) (i64.const 0)
                                       (i32.const 0) (i32.const 32)))
      (if (local.get $err) (then (call $proc_exit (local.get $err))))
      (local.set $err (call $fd_readdir (i32.load (i32.const 32)) (i32.const 128) (i32.const 32)
                                        (i64.const 0) (i32.const 40)))
      (if (local.get $err) (then (call $proc_exit (local.get $err))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 5))))))
