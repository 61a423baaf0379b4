;; Starts with a table of 20,000,000 elements.
(module (table 20000000 funcref) (func (export "_start")))
