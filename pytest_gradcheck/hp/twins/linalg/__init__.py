"""Twins of np.linalg and scipy.linalg: matrices, decompositions, solvers, norms, functions."""
