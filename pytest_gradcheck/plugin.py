"""pytest hooks for gradient checks. Thin by design: it imports nothing heavy at module level."""
