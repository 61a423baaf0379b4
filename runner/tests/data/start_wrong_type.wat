;; Exports a _start that takes a parameter: not a WASI command.
(module
  (memory (export "memory") 1)
  (func (export "_start") (param i32)))
