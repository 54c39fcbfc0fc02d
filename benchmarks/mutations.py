"""Seeded mutations of a correct gradient: the bugs a gradient checker should catch, graded by their size d.

Every mutated gradient is as precision-generic as the gradient it wraps: the same change is made whether
check_grad evaluates it on float64 arrays or at 40 digits, as a real formula bug would be. The one
exception is `float32`, which rounds only the float64 evaluation: the formula stays right, its float64
evaluation loses accuracy (check_grad's `float64_accuracy` diagnosis, not a formula error).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_gradcheck import is_high_precision

# Graded mutations, parametrised by a relative size d.
SCALED_KINDS = ("scale_one", "scale_all", "shifted_point")
# Mutations without a size: d is None.
FIXED_KINDS = ("sign_flip", "transpose", "float32")
KINDS = SCALED_KINDS + FIXED_KINDS
# d = 1e-1 .. 1e-12: from a gross error down to a few hundred float64 ulps of relative change.
SIZES = tuple(10.0**-k for k in range(1, 13))
FORMULA_KINDS = frozenset(KINDS) - {"float32"}  # float32 rounding is a float64-accuracy issue


@dataclass(frozen=True)
class Mutation:
    """A wrong gradient: `grad(*args)` like the correct one, with what was changed."""

    kind: str
    d: float | None
    grad: Callable[..., tuple[Any, ...]]
    detail: str

    @property
    def formula(self) -> bool:
        return self.kind in FORMULA_KINDS


def _as_list(grads: Any) -> list[Any]:
    return [np.array(g, dtype=np.asarray(g).dtype) for g in (grads if isinstance(grads, tuple | list) else (grads,))]


def _nonzero_element(grads: Sequence[np.ndarray], rng: np.random.Generator) -> tuple[int, int]:
    """A seeded (argument, flat index) among the nonzero gradient elements, uniform over all of them."""
    places = [(a, int(i)) for a, g in enumerate(grads) for i in np.flatnonzero(g)]
    return places[int(rng.integers(len(places)))]


def _scale_one(grad, args, d, rng):
    a, i = _nonzero_element(_as_list(grad(*args)), rng)

    def mutated(*xs):
        gs = _as_list(grad(*xs))
        gs[a].flat[i] = gs[a].flat[i] * (1 + d)
        return tuple(gs)

    return mutated, f"argument {a}, flat element {i} scaled by 1 + {d:.0e}"


def _scale_all(grad, args, d, rng):
    return (lambda *xs: tuple(g * (1 + d) for g in _as_list(grad(*xs)))), f"every element scaled by 1 + {d:.0e}"


def _shifted_point(grad, args, d, rng):
    return (lambda *xs: grad(*(x + d * np.abs(x) for x in xs))), f"gradient taken at x + {d:.0e} |x|"


def _sign_flip(grad, args, d, rng):
    a, i = _nonzero_element(_as_list(grad(*args)), rng)

    def mutated(*xs):
        gs = _as_list(grad(*xs))
        gs[a].flat[i] = -gs[a].flat[i]
        return tuple(gs)

    return mutated, f"argument {a}, flat element {i} sign-flipped"


def _transpose(grad, args, d, rng):
    square = [a for a, x in enumerate(args) if x.ndim == 2 and x.shape[0] == x.shape[1] > 1]
    if not square:
        return None, "no square matrix argument"
    a = square[int(rng.integers(len(square)))]

    def mutated(*xs):
        gs = _as_list(grad(*xs))
        gs[a] = gs[a].T.copy()
        return tuple(gs)

    return mutated, f"argument {a} transposed"


def _float32(grad, args, d, rng):
    def mutated(*xs):
        gs = _as_list(grad(*xs))
        if any(is_high_precision(g) for g in gs):
            return tuple(gs)  # the formula itself is right: only its float64 evaluation is rounded
        return tuple(g.astype(np.float32).astype(np.float64) for g in gs)

    return mutated, "float64 gradient rounded to float32"


_MAKERS = {"scale_one": _scale_one, "scale_all": _scale_all, "shifted_point": _shifted_point,
           "sign_flip": _sign_flip, "transpose": _transpose, "float32": _float32}


def mutate(kind: str, d: float | None, grad: Callable[..., Any], args: Sequence[np.ndarray],
           seed: int) -> Mutation | None:
    """The mutation `kind` of size d of `grad` at `args`, or None where it does not apply (transpose
    without a square matrix argument). The element it touches is drawn from `seed` alone, so every size d
    and every checker sees the same element."""
    made, detail = _MAKERS[kind](grad, args, d, np.random.default_rng(seed))
    return None if made is None else Mutation(kind, d, made, detail)


def mutations(grad: Callable[..., Any], args: Sequence[np.ndarray], seed: int,
              sizes: Sequence[float] = SIZES) -> list[Mutation]:
    """Every graded kind at every size, then every fixed kind once; inapplicable ones left out."""
    graded = [mutate(kind, d, grad, args, seed) for kind in SCALED_KINDS for d in sizes]
    fixed = [mutate(kind, None, grad, args, seed) for kind in FIXED_KINDS]
    return [m for m in graded + fixed if m is not None]
