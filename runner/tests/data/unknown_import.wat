;; Imports a function no host defines.
(module
  (import "env" "foo" (func $foo))
  (memory (export "memory") 1)
  (func (export "_start")
    call $foo))
