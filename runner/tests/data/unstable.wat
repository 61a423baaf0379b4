;; A WASI preview 0 command: imports only from `wasi_unstable`. Writes a line with fd_write,
;; reads fd 1's stat to check preview 0's 56-byte filestat is written (the word after it stays
;; 0xAAAA_AAAA), then calls fd_seek with whence 3, which preview 0 does not have, and exits with
;; what it got (EINVAL, 28), or 99 when the filestat was too long.
(module
  (import "wasi_unstable" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "fd_filestat_get" (func $fd_filestat_get (param i32 i32) (result i32)))
  (import "wasi_unstable" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_unstable" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from wasi_unstable\n")
  (func (export "_start")
    ;; iovec at 0: (16, 25)
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 25))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store (i32.const 256) (i32.const 0xAAAAAAAA))
    (i32.store (i32.const 260) (i32.const 0xAAAAAAAA))
    (drop (call $fd_filestat_get (i32.const 1) (i32.const 200)))
    (if (i32.ne (i32.load (i32.const 256)) (i32.const 0xAAAAAAAA))
      (then (call $proc_exit (i32.const 99))))
    (call $proc_exit (call $fd_seek (i32.const 1) (i64.const 0) (i32.const 3) (i32.const 8)))))
