"""Planted bugs in the custom rules of framework_corpus.py: a wrong Function / custom_vjp built from a correct one.

Each plant changes the rule's backward only (its forward, and so the reference, stay right):

- `scale_one` (graded by d): one element of one argument's gradient multiplied by 1 + d;
- `scale_all` (graded by d): every element of every gradient multiplied by 1 + d;
- `sign_flip`: the sign of one term of the backward formula (the rule's `term`; the whole gradient where the
  formula has one term);
- `missing_reduction` (rules with a broadcast argument: a bias, a scale, weights): the broadcast argument's
  gradient is not summed over the broadcast axis; the first slice is returned instead (the shape fits, the other
  rows' contributions are missing; a gradient of the full, unreduced shape would be no bug in torch, whose
  autograd sums it to the argument's shape, and an error in JAX, which checks the shape);
- `float32`: the whole backward computed in float32 (its inputs, data and cotangent cast down), the results cast
  back to float64: the formula is right, its evaluation loses about 1e-7 relative.

`mutate(name, framework, seed, plant)` builds the wrong op; `planted_backward(rule, plant)` is the same wrong
backward for any array namespace (the tests run it on numpy). The element a plant touches is drawn from the
seed alone, so every size d, checker and framework sees the same element.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


def _corpus() -> Any:
    """framework_corpus, imported by path under its own name (benchmarks/ is not put on sys.path: its corpus.py
    would shadow tests' own `corpus` modules)."""
    if "framework_corpus" not in sys.modules:
        path = Path(__file__).with_name("framework_corpus.py")
        spec = importlib.util.spec_from_file_location("framework_corpus", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["framework_corpus"] = module
        spec.loader.exec_module(module)
    return sys.modules["framework_corpus"]


corpus = _corpus()

SCALED_KINDS = ("scale_one", "scale_all")
FIXED_KINDS = ("sign_flip", "missing_reduction", "float32")
KINDS = SCALED_KINDS + FIXED_KINDS
SIZES = tuple(10.0**-k for k in range(1, 13))  # 1e-1 .. 1e-12


@dataclass(frozen=True)
class Plant:
    """One planted bug: its kind, size d (None for the fixed kinds), what it changes, and how."""

    kind: str
    d: float | None
    detail: str
    ops_changes: dict[str, Any] = field(default_factory=dict)  # sign / reduction of the namespace's hooks
    element: tuple[int, int] | None = None  # scale_one: (argument, flat index)

    @property
    def formula(self) -> bool:
        """A wrong formula (every kind but float32, which is a float64-accuracy bug)."""
        return self.kind != "float32"


def _element(name: str, seed: int) -> tuple[int, int]:
    """A seeded (argument, flat index) among the nonzero elements of the correct gradient at the point."""
    rule = corpus.RULES[name]
    args, data, weights = corpus.point(name, seed)
    grads = rule.backward(corpus.NUMPY, data, weights, *args)
    places = [(a, int(i)) for a, g in enumerate(grads) for i in np.flatnonzero(g)]
    return places[int(np.random.default_rng(seed).integers(len(places)))]


def plant(name: str, kind: str, d: float | None, seed: int) -> Plant | None:
    """The plant `kind` (of size d) in rule `name` at `seed`; None where it does not apply."""
    rule = corpus.RULES[name]
    if kind == "scale_one":
        a, i = _element(name, seed)
        return Plant(kind, d, f"argument {a}, flat element {i} of the gradient scaled by 1 + {d:.0e}", element=(a, i))
    if kind == "scale_all":
        return Plant(kind, d, f"every gradient element scaled by 1 + {d:.0e}")
    if kind == "sign_flip":
        return Plant(kind, None, f"sign of {rule.term} flipped", {"sign": -1.0})
    if kind == "missing_reduction":
        if rule.broadcast is None:
            return None
        return Plant(kind, None, f"gradient of {rule.broadcast} not summed over the broadcast axis (first row)",
                     {"reduction": "first"})
    if kind == "float32":
        return Plant(kind, None, "backward computed in float32")
    raise ValueError(f"kind: unknown plant {kind!r}")


def plants(name: str, seed: int, sizes: Sequence[float] = SIZES) -> list[Plant]:
    """Every graded kind at every size, then every fixed kind that applies to the rule."""
    graded = [plant(name, kind, d, seed) for kind in SCALED_KINDS for d in sizes]
    fixed = [plant(name, kind, None, seed) for kind in FIXED_KINDS]
    return [p for p in graded + fixed if p is not None]


def planted_backward(rule: Any, planted: Plant) -> Callable[..., tuple[Any, ...]]:
    """The rule's backward with the plant's change made after (scale_one, scale_all) or around it (float32);
    sign_flip and missing_reduction go through the namespace's hooks (`Plant.ops_changes`)."""
    correct = rule.backward
    if planted.kind == "scale_one":
        a, i = planted.element

        def scale_one(xp, data, g, *xs):
            grads = list(correct(xp, data, g, *xs))
            grads[a] = xp.scale_element(grads[a], i, 1 + planted.d)
            return tuple(grads)

        return scale_one
    if planted.kind == "scale_all":
        return lambda xp, data, g, *xs: tuple(r * (1 + planted.d) for r in correct(xp, data, g, *xs))
    if planted.kind == "float32":
        def in_float32(xp, data, g, *xs):
            low = correct(xp, tuple(xp.f32(v) for v in data), xp.f32(g), *(xp.f32(x) for x in xs))
            return tuple(xp.f64(r) for r in low)

        return in_float32
    return correct


def mutate(name: str, framework: str, seed: int, planted: Plant) -> corpus.Problem:
    """The rule `name` built for `framework` at `seed` with the plant in its backward."""
    rule = corpus.RULES[name]
    return corpus.make(name, framework, seed, backward=planted_backward(rule, planted),
                       ops=corpus.ops_for(framework, **planted.ops_changes))
