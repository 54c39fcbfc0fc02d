"""Shared test settings: seeded randomness and a bounded hypothesis profile."""

import numpy as np
import pytest
from hypothesis import settings

pytest_plugins = ("pytester",)

# Bounded so that property tests stay fast; no deadline because the first example pays for imports and caches.
settings.register_profile("ci", max_examples=25, deadline=None)
settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _seed_numpy():
    np.random.seed(20240601)  # any fixed seed: a failure reproduces on rerun


@pytest.fixture
def rng():
    return np.random.default_rng(20240601)


@pytest.fixture(autouse=True)
def _no_step_summary(monkeypatch):
    """The runs a test starts (pytester) must not append to the step summary of the CI job running this suite;
    tests of that feature set the variable themselves."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
