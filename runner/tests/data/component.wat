;; An empty component (preview 2), in text.
(component)
