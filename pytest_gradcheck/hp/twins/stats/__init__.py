"""Twins of scipy.stats distributions, univariate and multivariate."""
