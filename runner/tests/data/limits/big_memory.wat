;; Starts with 2000 pages (125 MiB) of memory.
(module (memory 2000) (func (export "_start")))
