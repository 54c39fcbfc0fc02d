"""The checker: validation, the check's steps and modes, central differences, verdicts and results."""
