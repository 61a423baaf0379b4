;; Has two memories and two tables.
(module (memory 1) (memory 1) (table 1 funcref) (table 1 funcref) (func (export "_start")))
