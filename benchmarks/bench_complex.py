"""Complex arguments: false positives, a planted 1e-9 relative error, and the wrong convention, per case.

Run: .venv/bin/python benchmarks/bench_complex.py [--seeds N]

Each case of CASES (real-valued losses of complex arrays in the "torch" and "jax" conventions, holomorphic
functions in "holomorphic") is checked with check_grad's defaults (per_op off) at N seeded random points:
- the correct gradient (a flagged one is a false positive);
- the correct gradient with a 1e-9 relative error planted in the real part, then in the imaginary part, of one
  random element (caught: flagged; named: the first mismatch names that element, and for a real-valued f that
  part: for a holomorphic f the parts compared are those of the vjp c * f'(z), c a random complex cotangent, and
  an error in one part of f'(z) moves both);
- the conjugate gradient, the other convention's (named: `result.convention_note` says which convention it is in).
Prints one table row per case and convention, and the totals.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from pytest_gradcheck import check_grad

A = np.array([[1.0 + 2.0j, 0.5, -0.3j, 0.2], [0.1j, 2.0, 1.0 - 1.0j, -0.5], [0.3, -1.0j, 0.7, 1.0 + 0.5j]])
B = np.array([1.0, 1.0j, -0.5])
W = np.array([0.5, 1.5, 2.0, 1.0])
H = np.array([[2.0, 1.0 - 1.0j, 0.0, 0.5j], [1.0 + 1.0j, 3.0, 0.2, 0.0], [0.0, 0.2, 1.0, -1.0j],
              [-0.5j, 0.0, 1.0j, 2.0]])  # Hermitian: z^H H z is real


def _quadratic(z: Any) -> Any:
    return np.real(np.conj(z) @ (H @ z))


# name: (f, gradient in torch's convention (real-valued f) or f'(z) (holomorphic), kind, shape)
CASES: dict[str, tuple[Callable[..., Any], Callable[..., Any], str, tuple[int, ...]]] = {
    "norm2": (lambda z: np.sum(np.abs(z) ** 2), lambda z: 2 * z, "real", (4,)),
    "least_squares": (lambda z: np.sum(np.abs(A @ z - B) ** 2), lambda z: 2 * (A.conj().T @ (A @ z - B)), "real",
                      (4,)),
    "fft_loss": (lambda z: np.sum(np.abs(np.fft.fft(z) * W) ** 2),
                 lambda z: 2 * len(z) * np.fft.ifft(W**2 * np.fft.fft(z)), "real", (4,)),
    "hermitian_form": (_quadratic, lambda z: 2 * (H @ z), "real", (4,)),
    "log_abs2": (lambda z: np.sum(np.log(1 + np.abs(z) ** 2)), lambda z: 2 * z / (1 + np.abs(z) ** 2), "real", (2, 2)),
    "exp": (np.exp, np.exp, "holomorphic", (3,)),
    "sin": (np.sin, np.cos, "holomorphic", (3,)),
    "polynomial": (lambda z: z**3 - 2j * z + 1, lambda z: 3 * z**2 - 2j, "holomorphic", (3,)),
    "sum_exp_sin": (lambda z: np.sum(np.exp(z) * np.sin(z)),
                    lambda z: np.exp(z) * (np.sin(z) + np.cos(z)), "holomorphic_scalar", (2, 2)),
}


def _gradient(case: str, convention: str, *, conjugate: bool = False,
              plant: tuple[int, str] | None = None) -> dict[str, Any]:
    """check_grad's keyword for the case's gradient in `convention`, conjugated or with an error planted."""
    _, derivative, kind, _ = CASES[case]

    def value(z: Any) -> Any:
        g = derivative(z)
        g = np.conj(g) if (convention == "jax") != conjugate else g
        if plant is not None:
            g = np.array(g, dtype=complex if g.dtype != object else object)
            k, part = plant
            component = g.flat[k].real if part == "real" else g.flat[k].imag
            size = abs(component) or float(np.max(np.abs(np.asarray(g, dtype=complex))))
            g.flat[k] = g.flat[k] + (1e-9 * size if part == "real" else 1e-9j * size)
        return g

    if kind == "holomorphic":
        return {"vjp": lambda c, z: c * value(z)}
    return {"grad": value}


def _run(case: str, convention: str, z: np.ndarray, **gradient: Any) -> Any:
    f = CASES[case][0]
    return check_grad(f, z, complex_convention=convention, raise_on_mismatch=False, per_op="off", **gradient)


def bench(case: str, convention: str, seeds: int) -> dict[str, Any]:
    """One case in one convention at `seeds` points: counts and the median seconds of a correct check."""
    shape = CASES[case][3]
    counts = {"false_positive": 0, "caught": 0, "named": 0, "planted": 0, "convention_named": 0}
    seconds = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        z = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
        started = time.perf_counter()
        correct = _run(case, convention, z, **_gradient(case, convention))
        seconds.append(time.perf_counter() - started)
        counts["false_positive"] += not correct.ok
        k = int(rng.integers(z.size))
        for part in ("real", "imaginary"):
            planted = _run(case, convention, z, **_gradient(case, convention, plant=(k, part)))
            element = f"element {tuple(int(i) for i in np.unravel_index(k, shape))}, "
            # holomorphic: the parts compared are those of the vjp c * f'(z), c complex: both parts move
            where = element if convention == "holomorphic" else f"{element}{part} part"
            counts["planted"] += 1
            counts["caught"] += not planted.ok
            counts["named"] += bool(planted.mismatches) and planted.mismatches[0].where.startswith(where)
        other = _run(case, convention, z, **_gradient(case, convention, conjugate=True))
        counts["convention_named"] += other.convention_note.startswith("the gradient is")
    return {**counts, "seconds": statistics.median(seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    seeds = parser.parse_args().seeds
    print("| case | convention | false positives | 1e-9 caught | element (and part) named | conjugate named | "
          "median s |")
    print("|---|---|---|---|---|---|---|")
    totals: dict[str, int] = {}
    started = time.perf_counter()
    for case, (_, _, kind, _) in CASES.items():
        for convention in ("torch", "jax") if kind == "real" else ("holomorphic",):
            row = bench(case, convention, seeds)
            for key in ("false_positive", "caught", "named", "planted", "convention_named"):
                totals[key] = totals.get(key, 0) + row[key]
            totals["checks"] = totals.get("checks", 0) + seeds
            print(f"| {case} | {convention} | {row['false_positive']}/{seeds} | {row['caught']}/{row['planted']} | "
                  f"{row['named']}/{row['planted']} | {row['convention_named']}/{seeds} | {row['seconds']:.3f} |")
    print(f"\ntotal: false positives {totals['false_positive']}/{totals['checks']}, 1e-9 caught "
          f"{totals['caught']}/{totals['planted']}, named {totals['named']}/{totals['planted']}, conjugate named "
          f"{totals['convention_named']}/{totals['checks']}; {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
