"""High precision: the mpmath context, the high-precision array and its registry of numpy twins."""
