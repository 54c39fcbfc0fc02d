"""Pictures of a check: error against step size, per-op errors (matplotlib, optional)."""
