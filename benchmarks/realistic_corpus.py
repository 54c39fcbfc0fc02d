"""A corpus of functions written the way a machine-learning library writes them, each with its hand-written
float64 gradient and planted bugs.

The functions (realistic_gp, realistic_nn, realistic_glm, realistic_misc) carry the library's habits: input
validation casts (`np.asarray(x, dtype=np.float64)`, `astype(float)`, `np.array(x, dtype=float)`, a
`check_array` helper), dtype branches, `np.finfo(dtype).eps` clipping, float32 internals, scipy helpers
(`expit`, `logsumexp`, `xlogy`, `pdist`/`cdist`/`squareform`, `cholesky`/`cho_solve`), solves with a
tolerance, and compiled calls without a high-precision twin (`math.fsum` over `float()`, `np.frompyfunc`,
`np.vectorize`).

`cases()` gives every check of the benchmark: each function's correct gradient and its bugs. Bug kinds:
- `sign_flip`: the element of largest magnitude (over all arguments) with its sign flipped.
- `missing_chain`: the function's own gradient with one chain factor left out (written per function).
- `relative_1e-9`: every element times 1 + 1e-9, in float64. Planted only where f resolves it: not in
  float32-internal code (its noise is ~1e-7 relative) nor after a linearly convergent solve stopped at a
  tolerance of 1e-9, where no checker can see a 1e-9 change of the gradient from f.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import realistic_glm
import realistic_gp
import realistic_misc
import realistic_nn

BUILDERS = {**realistic_gp.BUILDERS, **realistic_nn.BUILDERS, **realistic_glm.BUILDERS, **realistic_misc.BUILDERS}
NAMES = tuple(BUILDERS)
COMPILED = frozenset({"fsum_squared_loss", "probit_frompyfunc", "negative_binomial_lgamma_vectorize"})
FLOAT64_TWINS = {**realistic_nn.FLOAT64_TWINS, **realistic_misc.FLOAT64_TWINS}
FLOAT32 = frozenset(FLOAT64_TWINS)
TOLERANCE_NOISE = frozenset({"fixed_point_tolerance"})
# A solve that stops at tol = 1e-9 with contraction 0.5 computes z to ~2e-9, and its derivative to about the
# same: the implicit gradient (the derivative of the converged z) is right only to that, so the user states it.
# Without it the high-precision check says, correctly, that the gradient is not the derivative of f as computed.
SOLVER_RTOL = {"fixed_point_tolerance": 1e-7}
BUG_KINDS = ("sign_flip", "missing_chain", "relative_1e-9")
RELATIVE_ERROR = 1e-9  # the size of a float64 gradient's relative error


@dataclass(frozen=True)
class Case:
    """One check: f, a gradient (correct when `bug` is None), the point, and what the code contains."""

    name: str
    bug: str | None
    f: Callable[..., Any]
    grad: Callable[..., tuple[Any, ...]]
    args: tuple[np.ndarray, ...]
    compiled: bool
    float32: bool
    rtol: float | None = None  # what the case's author would pass to check_grad (None: the default)

    @property
    def label(self) -> str:
        return f"{self.name}[{self.bug or 'correct'}]"


def bug_kinds(name: str) -> tuple[str, ...]:
    """The bugs planted in `name`: all three, without the 1e-9 one where f's own noise hides it."""
    if name in FLOAT32 or name in TOLERANCE_NOISE:
        return BUG_KINDS[:2]
    return BUG_KINDS


def largest_element(grads: tuple[Any, ...]) -> tuple[int, tuple[int, ...]]:
    """(argument, index) of the gradient element of largest magnitude: where `sign_flip` plants its bug."""
    grads = [np.asarray(g, dtype=np.float64) for g in grads]
    which = int(np.argmax([np.max(np.abs(g)) for g in grads]))
    index = np.unravel_index(int(np.argmax(np.abs(grads[which]))), grads[which].shape)
    return which, tuple(int(i) for i in index)


def _sign_flip(grad):
    def wrong(*args):
        grads = [np.array(g, dtype=np.float64) for g in grad(*args)]
        which, index = largest_element(tuple(grads))
        grads[which][index] *= -1
        return tuple(grads)
    return wrong


def _relative(grad):
    def wrong(*args):
        return tuple(np.asarray(g, dtype=np.float64) * (1 + RELATIVE_ERROR) for g in grad(*args))
    return wrong


def make(name: str, bug: str | None = None, seed: int = 0) -> Case:
    """The case `name` built from `seed`, with its correct gradient (bug None) or the planted `bug`."""
    if name not in BUILDERS:
        raise ValueError(f"name: unknown case {name!r}; known: {', '.join(NAMES)}")
    if bug is not None and bug not in bug_kinds(name):
        raise ValueError(f"bug: {bug!r} is not planted in {name!r}; planted: {', '.join(bug_kinds(name))}")
    f, grad, chain_bug, args = BUILDERS[name](np.random.default_rng(seed))
    wrong = {None: grad, "sign_flip": _sign_flip(grad), "missing_chain": chain_bug,
             "relative_1e-9": _relative(grad)}[bug]
    return Case(name, bug, f, wrong, tuple(args), name in COMPILED, name in FLOAT32, SOLVER_RTOL.get(name))


def smooth_function(name: str, seed: int = 0) -> Callable[..., Any]:
    """f computed in float64 throughout (float32 cases: their float64 twin): what the correct gradient is of."""
    builder = FLOAT64_TWINS.get(name, BUILDERS[name])
    return builder(np.random.default_rng(seed))[0]


def cases(seed: int = 0) -> list[Case]:
    """Every check of the corpus: each function with its correct gradient, then with each planted bug."""
    return [make(name, bug, seed) for name in NAMES for bug in (None, *bug_kinds(name))]
