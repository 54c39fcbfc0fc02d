"""High-precision twins of numpy and scipy functions, one module per family."""
