"""Passing framework checks: check_grad on torch and JAX custom rules against the frameworks' own checkers at
their defaults, median time side by side in the same run, warm and cold (issue 19: "median time of a passing
check at most torch's gradcheck's on the same function").

Command: `fwvenv/bin/python benchmarks/bench_framework_speed.py [--quick] [--json [PATH]]` (about a minute on
2 cores; `--quick` one torch case, a few seconds). Needs torch (and jax for the JAX rows; either alone works).

- Cases: f = a loss over one custom rule of the kinds people write (torch.autograd.Function; jax.custom_vjp), all
  correct: stable softplus on 8 inputs, logsumexp, a matmul with a broadcast bias, GELU, layer norm.
- Checkers: `check_grad(f, args, raise_on_mismatch=False)` at its defaults (no reference=: the framework's float64
  forward is the reference, noise-aware), the same with `reference=` (a numpy forward, high precision),
  `torch.autograd.gradcheck(f, args)` at its defaults, `jax.test_util.check_grads(f, args, order=1,
  modes=("rev",))` (forward mode does not apply to a custom_vjp).
- Warm: after one untimed check of each kind, REPEATS checks of each, alternating; the median of each. Cold: the
  first check in a fresh interpreter (framework and pytest_gradcheck imported, not timed), one child per case
  and checker.
- Ratio: check_grad's median over the framework checker's, same case, same temperature.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.special

HERE = Path(__file__).resolve().parent
DEFAULT_JSON = "reports/bench_framework_speed.json"  # reports/ is git-ignored
REPEATS = 7
QUICK_REPEATS = 3
CASES = ("softplus", "logsumexp", "linear_bias", "gelu", "layer_norm")


def available(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


# --- numpy references -----------------------------------------------------------------------------------------

def np_softplus(x: np.ndarray) -> Any:
    return np.sum(np.logaddexp(0.0, x))


def np_logsumexp(x: np.ndarray) -> Any:
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def np_linear_bias(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> Any:
    return np.sum(np.tanh(x @ w + b))


def np_gelu(x: np.ndarray) -> Any:
    return np.sum((0.5 * x * (1 + scipy.special.erf(x / np.sqrt(2.0)))) ** 2)


def np_layer_norm(x: np.ndarray) -> Any:
    centred = x - np.mean(x)
    out = centred / np.sqrt(np.mean(centred * centred) + 1e-5)
    return np.sum(out * np.arange(1, x.size + 1))


REFERENCES = {"softplus": np_softplus, "logsumexp": np_logsumexp, "linear_bias": np_linear_bias,
              "gelu": np_gelu, "layer_norm": np_layer_norm}


def points(case: str) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(CASES.index(case))
    if case == "linear_bias":
        return rng.normal(size=(3, 2)), rng.normal(size=(2, 2)), rng.normal(size=2)
    return (rng.normal(size=8),)


# --- torch ----------------------------------------------------------------------------------------------------

@functools.cache  # built once per process: a test module defines its Functions once, and jax caches by function
def torch_case(case: str) -> tuple[Any, tuple[Any, ...]]:
    """f (a loss over one custom torch.autograd.Function) and its float64 tensor arguments."""
    import torch

    class Softplus(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return torch.nn.functional.softplus(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * torch.sigmoid(x)

    class LogSumExp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            m = x.max()
            out = m + torch.log(torch.exp(x - m).sum())
            ctx.save_for_backward(x, out)
            return out

        @staticmethod
        def backward(ctx, g):
            x, out = ctx.saved_tensors
            return g * torch.exp(x - out)

    class LinearBias(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, b):
            ctx.save_for_backward(x, w)
            return x @ w + b

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            return g @ w.T, x.T @ g, g.sum(0)

    class Gelu(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return 0.5 * x * (1 + torch.erf(x / 2 ** 0.5))

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            pdf = torch.exp(-0.5 * x * x) / (2 * torch.pi) ** 0.5
            return g * (0.5 * (1 + torch.erf(x / 2 ** 0.5)) + x * pdf)

    class LayerNorm(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            centred = x - x.mean()
            std = torch.sqrt((centred * centred).mean() + 1e-5)
            y = centred / std
            ctx.save_for_backward(y, std)
            return y

        @staticmethod
        def backward(ctx, g):
            y, std = ctx.saved_tensors
            return (g - g.mean() - y * (g * y).mean()) / std

    weights = torch.arange(1, 9, dtype=torch.float64)
    fs = {"softplus": lambda x: Softplus.apply(x).sum(),
          "logsumexp": lambda x: LogSumExp.apply(x),  # apply looked up at call time
          "linear_bias": lambda x, w, b: torch.tanh(LinearBias.apply(x, w, b)).sum(),
          "gelu": lambda x: (Gelu.apply(x) ** 2).sum(),
          "layer_norm": lambda x: (LayerNorm.apply(x) * weights).sum()}
    args = tuple(torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in points(case))
    return fs[case], args


# --- JAX ------------------------------------------------------------------------------------------------------

@functools.cache
def jax_case(case: str) -> tuple[Any, tuple[Any, ...]]:
    """f (a loss over one jax.custom_vjp function) and its float64 JAX arguments."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)  # jax's own checker needs float64 to be fair

    def rule(forward, backward):
        fn = jax.custom_vjp(forward)
        fn.defvjp(lambda *xs: (forward(*xs), xs), lambda res, g: backward(g, *res))
        fn.__name__ = fn.__qualname__ = forward.__name__
        return fn

    softplus = rule(lambda x: jnp.logaddexp(0.0, x), lambda g, x: (g * jax.nn.sigmoid(x),))
    logsumexp = rule(lambda x: jax.nn.logsumexp(x), lambda g, x: (g * jnp.exp(x - jax.nn.logsumexp(x)),))
    linear_bias = rule(lambda x, w, b: x @ w + b, lambda g, x, w, b: (g @ w.T, x.T @ g, g.sum(0)))
    gelu = rule(lambda x: 0.5 * x * (1 + jax.scipy.special.erf(x / 2 ** 0.5)),
                lambda g, x: (g * (0.5 * (1 + jax.scipy.special.erf(x / 2 ** 0.5))
                                   + x * jnp.exp(-0.5 * x * x) / (2 * jnp.pi) ** 0.5),))

    def norm(x):
        centred = x - x.mean()
        return centred / jnp.sqrt((centred * centred).mean() + 1e-5)

    def norm_back(g, x):
        y = norm(x)
        std = jnp.sqrt(((x - x.mean()) ** 2).mean() + 1e-5)
        return ((g - g.mean() - y * (g * y).mean()) / std,)

    layer_norm = rule(norm, norm_back)
    weights = jnp.arange(1.0, 9.0)
    fs = {"softplus": lambda x: softplus(x).sum(), "logsumexp": lambda x: logsumexp(x),
          "linear_bias": lambda x, w, b: jnp.tanh(linear_bias(x, w, b)).sum(),
          "gelu": lambda x: (gelu(x) ** 2).sum(), "layer_norm": lambda x: (layer_norm(x) * weights).sum()}
    return fs[case], tuple(jnp.asarray(a) for a in points(case))


# --- one check ------------------------------------------------------------------------------------------------

def run_one(framework: str, case: str, checker: str) -> dict[str, Any]:
    """One timed check: seconds, and check_grad's status, evaluations and mode."""
    f, args = torch_case(case) if framework == "torch" else jax_case(case)
    if checker.startswith("check_grad"):
        from pytest_gradcheck import check_grad

        reference = REFERENCES[case] if checker == "check_grad_reference" else None
        started = time.perf_counter()
        result = check_grad(f, args, reference=reference, raise_on_mismatch=False)
        seconds = time.perf_counter() - started
        return {"seconds": seconds, "status": result.status, "evaluations": result.evaluations,
                "mode": result.mode, "backend": result.backend, "ops": len(result.ops)}
    started = time.perf_counter()
    if checker == "torch_gradcheck":
        import torch

        status = "pass" if torch.autograd.gradcheck(f, args, raise_exception=False) else "fail"
    else:
        from jax.test_util import check_grads

        try:
            check_grads(f, args, order=1, modes=("rev",))
            status = "pass"
        except AssertionError:
            status = "fail"
    return {"seconds": time.perf_counter() - started, "status": status}


def checkers_of(framework: str) -> tuple[str, ...]:
    native = "torch_gradcheck" if framework == "torch" else "jax_check_grads"
    return ("check_grad", "check_grad_reference", native)


def warm(framework: str, case: str, repeats: int) -> dict[str, Any]:
    """Medians in this process, after one untimed check of each kind, the checkers alternating."""
    kinds = checkers_of(framework)
    for kind in kinds:
        run_one(framework, case, kind)
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    for _ in range(repeats):
        for kind in kinds:
            runs[kind].append(run_one(framework, case, kind))
    return {kind: summary(done) for kind, done in runs.items()}


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out = dict(runs[-1])
    out["seconds"] = statistics.median(r["seconds"] for r in runs)
    out["all_seconds"] = [r["seconds"] for r in runs]
    return out


def cold(framework: str, case: str) -> dict[str, Any]:
    """The first check in a fresh interpreter, per checker (imports not timed)."""
    out = {}
    for kind in checkers_of(framework):
        done = subprocess.run([sys.executable, __file__, "--child", framework, case, kind], capture_output=True,
                              text=True, timeout=600, check=True)
        out[kind] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def child(framework: str, case: str, kind: str) -> None:
    __import__(framework)
    import pytest_gradcheck  # noqa: F401  (imported before timing, as a test session would)

    if framework == "jax":
        import jax.test_util  # noqa: F401
    print(json.dumps(run_one(framework, case, kind)))


def ratios(rows: list[dict[str, Any]], temperature: str) -> dict[str, float]:
    """Median over cases of check_grad's time over the native checker's, per check_grad variant."""
    out = {}
    for kind in ("check_grad", "check_grad_reference"):
        values = [row[temperature][kind]["seconds"] / row[temperature][native(row)]["seconds"] for row in rows
                  if temperature in row]
        if values:
            out[kind] = statistics.median(values)
    return out


def native(row: dict[str, Any]) -> str:
    return checkers_of(row["framework"])[2]


def render(payload: dict[str, Any]) -> str:
    lines = ["| framework | case | temp | check_grad ms (mode, evals, ops) | with reference= ms | native ms | "
             "ratio | ratio ref |", "|---|---|---|---|---|---|---|---|"]
    for row in payload["rows"]:
        for temperature in ("warm", "cold"):
            if temperature not in row:
                continue
            cell = row[temperature]
            own, ref, nat = cell["check_grad"], cell["check_grad_reference"], cell[native(row)]
            lines.append(f"| {row['framework']} | {row['case']} | {temperature} | {1e3 * own['seconds']:.1f} "
                         f"({own['status']}, {own['mode']}, {own['evaluations']}, {own['ops']}) | "
                         f"{1e3 * ref['seconds']:.1f} ({ref['status']}) | {1e3 * nat['seconds']:.1f} "
                         f"({nat['status']}) | {own['seconds'] / nat['seconds']:.1f} | "
                         f"{ref['seconds'] / nat['seconds']:.1f} |")
    for temperature, values in payload["summary"].items():
        text = ", ".join(f"{k} {v:.2f}" for k, v in values.items())
        lines.append(f"\nmedian ratio ({temperature}): {text}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one torch case, fewer repeats, no cold run")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--frameworks", default="torch,jax")
    parser.add_argument("--no-cold", action="store_true")
    parser.add_argument("--json", nargs="?", const=DEFAULT_JSON, default=None)
    parser.add_argument("--child", nargs=3, metavar=("FRAMEWORK", "CASE", "CHECKER"), help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child:
        child(*options.child)
        return 0
    frameworks = [name for name in options.frameworks.split(",") if available(name)]
    cases = options.cases.split(",")[:1] if options.quick else options.cases.split(",")
    if options.quick:
        frameworks = frameworks[:1]
    if not frameworks:
        print("neither torch nor jax is installed: nothing to measure")
        return 0
    rows = []
    for framework in frameworks:
        for case in cases:
            row = {"framework": framework, "case": case,
                   "warm": warm(framework, case, QUICK_REPEATS if options.quick else REPEATS)}
            if not (options.quick or options.no_cold):
                row["cold"] = cold(framework, case)
            rows.append(row)
    payload = {"rows": rows, "summary": {t: ratios(rows, t) for t in ("warm", "cold")
                                         if any(t in row for row in rows)}}
    print(render(payload))
    if options.json:
        Path(options.json).parent.mkdir(parents=True, exist_ok=True)
        Path(options.json).write_text(json.dumps(payload, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
