;; Traps on `unreachable` two calls deep, so the backtrace names both functions.
(module $trapper
  (memory (export "memory") 1)
  (func $boom
    unreachable)
  (func $middle
    call $boom)
  (func (export "_start")
    call $middle))
