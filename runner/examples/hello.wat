;; hello.wat: a WASI command in WebAssembly text, so trying wasirun needs no toolchain:
;;
;;     cargo run -p wasirun -- --dir . runner/examples/hello.wat a b
;;
;; prints, one per line: its arguments (argv[0] first), its environment (NAME=VALUE), and the
;; names in the first preopened directory (fd 3, the first --dir). When a call fails it says
;; which on stderr and exits with the WASI errno; without a --dir (fd_readdir(3) is EBADF, 8)
;; it says to pass one.
(module $hello
  (import "wasi_snapshot_preview1" "args_sizes_get"
    (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get"
    (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get"
    (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get"
    (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir"
    (func $fd_readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit"
    (func $proc_exit (param i32)))

  (memory (export "memory") 1)

  ;; 0..16: two iovecs; 16: nwritten; 24, 28: sizes from *_sizes_get; 32: fd_readdir's used;
  ;; 40: "\n"; 64..: the failure messages; 1024..: the heap.
  (data (i32.const 40) "\n")
  (data (i32.const 64) "hello: args_get failed\n")         ;; 23 bytes
  (data (i32.const 96) "hello: environ_get failed\n")      ;; 26 bytes
  (data (i32.const 128) "hello: fd_readdir(3) failed\n")   ;; 28 bytes
  (data (i32.const 160) "hello: no directory to list: pass one with --dir, e.g. --dir .\n")
                                                           ;; 63 bytes
  (global $heap (mut i32) (i32.const 1024))

  ;; Returns `n` bytes of memory, 8-aligned, growing the memory as needed.
  (func $alloc (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap
      (i32.and (i32.add (i32.add (local.get $p) (local.get $n)) (i32.const 7))
               (i32.const -8)))
    (block $fits
      (br_if $fits (i32.le_u (global.get $heap)
                             (i32.mul (memory.size) (i32.const 65536))))
      (drop (memory.grow
        (i32.add (i32.div_u (i32.sub (global.get $heap)
                                     (i32.mul (memory.size) (i32.const 65536)))
                            (i32.const 65536))
                 (i32.const 1)))))
    (local.get $p))

  ;; Writes `len` bytes at `p` then a newline to stdout.
  (func $puts (param $p i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $p))
    (i32.store (i32.const 4) (local.get $len))
    (i32.store (i32.const 8) (i32.const 40))
    (i32.store (i32.const 12) (i32.const 1))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 2) (i32.const 16))))

  ;; Writes the message at `p` to stderr and exits with `errno`.
  (func $fail (param $errno i32) (param $p i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $p))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 16)))
    (call $proc_exit (local.get $errno))
    unreachable)

  ;; Prints each of the `count` NUL-terminated strings the table at `table` points to.
  (func $put_all (param $table i32) (param $count i32)
    (local $i i32) (local $s i32) (local $len i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $s (i32.load (i32.add (local.get $table)
                                         (i32.mul (local.get $i) (i32.const 4)))))
        (local.set $len (i32.const 0))
        (block $end
          (loop $scan
            (br_if $end (i32.eqz (i32.load8_u (i32.add (local.get $s) (local.get $len)))))
            (local.set $len (i32.add (local.get $len) (i32.const 1)))
            (br $scan)))
        (call $puts (local.get $s) (local.get $len))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; Prints argv (args) or environ (not args).
  (func $strings (param $args i32)
    (local $count i32) (local $table i32) (local $buf i32) (local $err i32)
    (local.set $err
      (if (result i32) (local.get $args)
        (then (call $args_sizes_get (i32.const 24) (i32.const 28)))
        (else (call $environ_sizes_get (i32.const 24) (i32.const 28)))))
    (if (i32.eqz (local.get $err))
      (then
        (local.set $count (i32.load (i32.const 24)))
        (local.set $table (call $alloc (i32.mul (local.get $count) (i32.const 4))))
        (local.set $buf (call $alloc (i32.load (i32.const 28))))
        (local.set $err
          (if (result i32) (local.get $args)
            (then (call $args_get (local.get $table) (local.get $buf)))
            (else (call $environ_get (local.get $table) (local.get $buf)))))))
    (if (local.get $err)
      (then
        (if (local.get $args)
          (then (call $fail (local.get $err) (i32.const 64) (i32.const 23)))
          (else (call $fail (local.get $err) (i32.const 96) (i32.const 26))))))
    (call $put_all (local.get $table) (local.get $count)))

  ;; Prints the name of each entry of the directory fd 3, reading 4 KiB of dirents at a time:
  ;; each is d_next (u64), d_ino (u64), d_namlen (u32), d_type (u8), 3 bytes of padding, then
  ;; the name. A buffer that comes back full may end in a cut entry: read again from the
  ;; d_next of the last whole one.
  (func $list
    (local $buf i32) (local $used i32) (local $pos i32) (local $namlen i32)
    (local $cookie i64) (local $err i32)
    (local.set $buf (call $alloc (i32.const 4096)))
    (loop $read
      (local.set $err (call $fd_readdir (i32.const 3) (local.get $buf) (i32.const 4096)
                                        (local.get $cookie) (i32.const 32)))
      (if (i32.eq (local.get $err) (i32.const 8))
        (then (call $fail (local.get $err) (i32.const 160) (i32.const 63))))
      (if (local.get $err)
        (then (call $fail (local.get $err) (i32.const 128) (i32.const 28))))
      (local.set $used (i32.load (i32.const 32)))
      (local.set $pos (i32.const 0))
      (block $cut
        (loop $entry
          (br_if $cut (i32.gt_u (i32.add (local.get $pos) (i32.const 24)) (local.get $used)))
          (local.set $namlen (i32.load (i32.add (local.get $buf)
                                                (i32.add (local.get $pos) (i32.const 16)))))
          (br_if $cut (i32.gt_u (i32.add (i32.add (local.get $pos) (i32.const 24))
                                         (local.get $namlen))
                                (local.get $used)))
          (call $puts (i32.add (local.get $buf) (i32.add (local.get $pos) (i32.const 24)))
                      (local.get $namlen))
          (local.set $cookie (i64.load (i32.add (local.get $buf) (local.get $pos))))
          (local.set $pos (i32.add (local.get $pos)
                                   (i32.add (i32.const 24) (local.get $namlen))))
          (br $entry)))
      ;; A full buffer means there may be more; one without a whole entry in it cannot move on.
      (br_if $read (i32.and (i32.eq (local.get $used) (i32.const 4096))
                            (i32.ne (local.get $pos) (i32.const 0))))))

  (func (export "_start")
    (call $strings (i32.const 1))
    (call $strings (i32.const 0))
    (call $list)))
