"""Loading a benchmarks/<name>.py module from the tests, under a private name (tests/checker has a `corpus`
module of its own, and hp_coverage imports hp_corpus from its own folder)."""

import importlib.util
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name):
    """benchmarks/<name>.py as the module `benchmarks_<name>`."""
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
