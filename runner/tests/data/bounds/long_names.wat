;; Paths and names of 1 GiB - 64 KiB bytes ('a's), in bounds of a 1 GiB memory: path_open,
;; path_symlink's target and sock_getaddrinfo's node. Copied to add a NUL, each would take as
;; much host memory. Exits 0 when the path calls are ENAMETOOLONG and the name is EINVAL, else
;; the step that was not.
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_symlink"
    (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_getaddrinfo"
    (func $getaddrinfo (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 16384)
  (data (i32.const 16) "link")
  (data (i32.const 32) "80")
  (func (export "_start")
    (memory.fill (i32.const 0x10000) (i32.const 0x61) (i32.const 0x3fff0000))
    (if (i32.ne (call $open (i32.const 3) (i32.const 0) (i32.const 0x10000) (i32.const 0x3fff0000)
          (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 64)) (i32.const 37))
      (then (call $exit (i32.const 1))))
    (if (i32.ne (call $symlink (i32.const 0x10000) (i32.const 0x3fff0000) (i32.const 3)
          (i32.const 16) (i32.const 4)) (i32.const 37))
      (then (call $exit (i32.const 2))))
    (if (i32.ne (call $getaddrinfo (i32.const 0x10000) (i32.const 0x3fff0000) (i32.const 32)
          (i32.const 2) (i32.const 96) (i32.const 128) (i32.const 1) (i32.const 64)) (i32.const 28))
      (then (call $exit (i32.const 3))))
    (call $exit (i32.const 0))))
