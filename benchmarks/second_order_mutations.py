"""Planted errors in the derivatives of benchmarks/second_order_corpus.py: one element of a Hessian (alone, or with
its mirror so the Hessian stays symmetric), one component of an HVP, a JVP or a VJP, or the real or the
imaginary part of one component of a complex gradient, scaled by 1 + d.

Every planted derivative stays precision-generic: the change is `g + (d * mask) * g` with a float64 one-hot mask
(for a part of a complex number, with (g + conj(g)) / 2 or (g - conj(g)) / 2 in place of g), so it is made
whether the checker evaluates the derivative on float64 arrays or at high precision, as a real formula slip
would be. The element is drawn from the seed alone among the elements that are nonzero at the point (for an HVP
or JVP, at a seeded direction), so every checker sees the same one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

HESSIAN_PLANTS = ("hessian_element", "hessian_symmetric_pair")
COMPLEX_PARTS = ("real", "imaginary")


@dataclass(frozen=True)
class Planted:
    """A derivative with one planted error, and where it is."""

    plant: str
    derivative: Callable[..., Any]
    detail: str


def _mask(shape: tuple[int, ...], k: int) -> np.ndarray:
    mask = np.zeros(shape)
    mask.flat[k] = 1.0
    return mask


def _scaled(g: Any, mask: np.ndarray, d: float) -> Any:
    return g + (d * mask) * g


def _pick(candidates: Sequence[Any], seed: int) -> Any:
    return candidates[int(np.random.default_rng(seed).integers(len(candidates)))]


def _nonzero(arrays: Sequence[Any]) -> list[tuple[int, int]]:
    """(array, flat index) of the nonzero elements of float64 arrays."""
    return [(a, int(k)) for a, g in enumerate(arrays) for k in np.flatnonzero(np.asarray(g))]


def _blocks(hessian: Any, n: int) -> list[list[Any]]:
    return [[hessian]] if n == 1 else [list(row) for row in hessian]


def _unblocks(blocks: list[list[Any]], n: int) -> Any:
    return blocks[0][0] if n == 1 else blocks


def plant_hessian(hessian: Callable[..., Any], args: Sequence[np.ndarray], d: float, seed: int,
                  symmetric: bool = False) -> Planted:
    """One element H[i][j][p, q] times (1 + d); with `symmetric`, its mirror H[j][i][q, p] too (a wrong value
    that keeps H symmetric; alone, the element also breaks the symmetry)."""
    n = len(args)
    blocks = _blocks(hessian(*args), n)
    places = [(i, j, k) for i in range(n) for j in range(n) for k in np.flatnonzero(np.asarray(blocks[i][j]))]
    i, j, k = _pick(places, seed)
    p, q = divmod(int(k), args[j].size)
    masks = {(i, j): _mask(blocks[i][j].shape, int(k))}
    if symmetric:
        mirror = _mask(blocks[j][i].shape, q * args[i].size + p)  # H[j][i][q, p]
        masks[(j, i)] = np.maximum(masks.get((j, i), 0 * mirror), mirror)

    def planted(*xs: Any) -> Any:
        got = _blocks(hessian(*xs), n)
        for (a, b), mask in masks.items():
            got[a][b] = _scaled(got[a][b], mask, d)
        return _unblocks(got, n)

    element = tuple(int(e) for e in np.unravel_index(int(k), np.shape(blocks[i][j])))
    where = f"H[{i}][{j}] element {element}" + (" and its mirror" if symmetric and (i, p) != (j, q) else "")
    return Planted("hessian_symmetric_pair" if symmetric else "hessian_element", planted,
                   f"{where} scaled by 1 + {d:.0e}")


def _direction(args: Sequence[np.ndarray], seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed + 1000)
    return tuple(rng.normal(size=a.shape) for a in args)


def plant_hvp(hvp: Callable[..., Any], args: Sequence[np.ndarray], d: float, seed: int) -> Planted:
    """Component (argument a, flat element k) of H v times (1 + d), whatever v is."""
    a, k = _pick(_nonzero(hvp(_direction(args, seed), *args)), seed)
    mask = _mask(args[a].shape, k)

    def planted(v: Any, *xs: Any) -> tuple[Any, ...]:
        return tuple(_scaled(g, mask, d) if b == a else g for b, g in enumerate(hvp(v, *xs)))

    return Planted("hvp_component", planted, f"HVP component {k} of argument {a} scaled by 1 + {d:.0e}")


def plant_jvp(jvp: Callable[..., Any], args: Sequence[np.ndarray], d: float, seed: int) -> Planted:
    """Element k of the output tangent times (1 + d)."""
    tangent = np.asarray(jvp(_direction(args, seed), *args))
    _, k = _pick(_nonzero([tangent]), seed)
    mask = _mask(tangent.shape, k)
    return Planted("jvp_component", lambda t, *xs: _scaled(jvp(t, *xs), mask, d),
                   f"JVP output element {k} scaled by 1 + {d:.0e}")


def plant_vjp(vjp: Callable[..., Any], f: Callable[..., Any], args: Sequence[np.ndarray], d: float,
              seed: int) -> Planted:
    """Component (argument a, flat element k) of the VJP times (1 + d)."""
    cotangent = np.random.default_rng(seed + 2000).normal(size=np.shape(f(*args)))
    a, k = _pick(_nonzero(vjp(cotangent, *args)), seed)
    mask = _mask(args[a].shape, k)

    def planted(u: Any, *xs: Any) -> tuple[Any, ...]:
        return tuple(_scaled(g, mask, d) if b == a else g for b, g in enumerate(vjp(u, *xs)))

    return Planted("vjp_component", planted, f"VJP component {k} of argument {a} scaled by 1 + {d:.0e}")


def plant_complex(grad: Callable[..., Any], args: Sequence[np.ndarray], d: float, seed: int, part: str) -> Planted:
    """The real or imaginary part of one gradient component times (1 + d), the other part unchanged."""
    grads = [np.asarray(g) for g in grad(*args)]
    parts = [g.real if part == "real" else g.imag for g in grads]
    a, k = _pick(_nonzero(parts), seed)
    mask = _mask(args[a].shape, k)
    sign = 1 if part == "real" else -1

    def planted(*xs: Any) -> tuple[Any, ...]:
        out = []
        for b, g in enumerate(grad(*xs)):
            # (g + conj g) / 2 is the real part, (g - conj g) / 2 is i times the imaginary part
            out.append(g + (d * mask) * ((g + sign * np.conj(g)) / 2) if b == a else g)
        return tuple(out)

    return Planted(f"{part}_part", planted, f"{part} part of component {k} of argument {a} scaled by 1 + {d:.0e}")
