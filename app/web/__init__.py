"""The page layer: what composes several domains into one page or header, above them all."""
