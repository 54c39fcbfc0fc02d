"""Twins of scipy.special: elementwise kernels, array functions, Bessel functions."""
