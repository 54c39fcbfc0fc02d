"""The examples' shared setup: pytester, for the CI example that runs pytest on a small project of its own."""

# Imported up front: pytester's in-process runs drop the modules a run imported, and numpy cannot be imported a
# second time in one process.
import numpy  # noqa: F401

pytest_plugins = ["pytester"]
