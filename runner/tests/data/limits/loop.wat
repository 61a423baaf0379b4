;; Loops forever, in wasm: only --timeout or --fuel stops it.
(module (func (export "_start") (loop br 0)))
