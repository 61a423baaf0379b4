;; Has a 64-bit memory.
(module (memory i64 1) (func (export "_start")))
