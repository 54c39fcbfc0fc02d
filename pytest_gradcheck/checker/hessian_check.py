"""check_hessian's derivative under test: the user's `hessian(*args)` (or autodiff_ref's), its shapes validated,
as products H v; and its symmetry, judged apart from its values."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from pytest_gradcheck.checker import second_per_op, verdict
from pytest_gradcheck.checker.hvp_check import engine_check
from pytest_gradcheck.checker.inputs import GradcheckUsageError, argument_names, describe, validate_args
from pytest_gradcheck.checker.options import Options
from pytest_gradcheck.checker.result import GradcheckResult, Mismatch
from pytest_gradcheck.checker.second_check import run_second
from pytest_gradcheck.checker.second_modes import SecondOutcome
from pytest_gradcheck.checker.second_setup import (
    SecondSetup,
    UnderTest,
    as_high_precision,
    high_precision_call,
    hp_inputs,
    stop_context,
)
from pytest_gradcheck.checker.setup import same_twice
from pytest_gradcheck.hp import blame
from pytest_gradcheck.hp.precision import to_float64

Blocks = list[list[Any]]


def run_hessian(f: Callable[..., Any], args: Any, hessian: Callable[..., Any] | None,
                options: Options) -> GradcheckResult:
    """check_hessian with validated options."""
    if hessian is not None and not callable(hessian):
        raise GradcheckUsageError(f"hessian: expected a callable, got {describe(hessian)}; pass the function "
                                  "itself, check_hessian(f, args, hessian=my_hessian)")
    kept: dict[str, Any] = {}

    def build(arrays: tuple[np.ndarray, ...], names: tuple[str, ...], ctx: Any) -> UnderTest:
        under_test, kept["blocks"] = hessian_under_test(f, hessian, arrays, names, ctx, options)
        return under_test

    def symmetry(setup: SecondSetup, outcome: SecondOutcome) -> list[Mismatch]:
        tol = outcome.tol if outcome.tol is not None else setup.tolerances(True)
        return asymmetry(kept["blocks"], setup.names, tuple(a.ndim for a in setup.args), tol, setup.worst)

    result = run_second(f, args, build, options, "hessian", symmetry)
    if hessian is None:
        second_per_op.attach(result, f, validate_args(args, lambda n: argument_names(f, n)), options, engine_check)
    return result


def engine_hessian(f: Callable[..., Any], count: int) -> Callable[..., Any]:
    """autodiff_ref's Hessian of f in every argument: `(*args) -> H` (nested for several arguments)."""
    import autodiff_ref

    return autodiff_ref.hessian(f, argnums=tuple(range(count)))


def validate_hessian(raw: Any, args: tuple[np.ndarray, ...], names: tuple[str, ...], source: str) -> Blocks:
    """What hessian(*args) returned, as blocks [i][j] shaped args[i].shape + args[j].shape; one argument: an
    array (or [[array]]); several: a nested tuple or list, n by n. GradcheckUsageError names the block."""
    n = len(args)
    if n == 1 and not isinstance(raw, tuple | list):
        raw = [[raw]]
    if not isinstance(raw, tuple | list) or len(raw) != n or any(
            not isinstance(row, tuple | list) or len(row) != n for row in raw):
        raise GradcheckUsageError(f"{source} must return a nested tuple H[i][j] of {n} by {n} arrays (one per pair "
                                  f"of arguments {', '.join(repr(m) for m in names)}), got {describe(raw)}")
    blocks: Blocks = []
    for i, row in enumerate(raw):
        blocks.append([])
        for j, block in enumerate(row):
            if block is None or isinstance(block, tuple | list | dict | str):  # numbers of any precision pass
                raise GradcheckUsageError(f"{source} returned {describe(block)} for block [{i}][{j}] (arguments "
                                          f"{names[i]!r} and {names[j]!r}); expected a numpy array")
            block = np.asarray(block)
            expected = args[i].shape + args[j].shape
            if block.shape != expected:
                raise GradcheckUsageError(f"{source} returned shape {block.shape} for block [{i}][{j}] (arguments "
                                          f"{names[i]!r} and {names[j]!r}), expected {expected} "
                                          f"({names[i]!r}.shape + {names[j]!r}.shape)")
            blocks[i].append(block)
    return blocks


def hessian_under_test(f: Callable[..., Any], hessian: Callable[..., Any] | None, args: tuple[np.ndarray, ...],
                       names: tuple[str, ...], ctx: Any, options: Options) -> tuple[UnderTest, Blocks]:
    """Products H v from the Hessian, evaluated once in float64 (twice: they must agree) and once at high
    precision; the blocks judged for symmetry (high precision when available)."""
    source = "autodiff_ref" if hessian is None else "hessian"
    fn = blame.user_code(engine_hessian(f, len(args)) if hessian is None else hessian)
    low = validate_hessian(fn(*args), args, names, source)
    again = validate_hessian(fn(*args), args, names, source)
    for i, row in enumerate(low):
        for j, block in enumerate(row):
            same_twice(f"{source} block [{i}][{j}]", block, again[i][j], stop_context(source, names, options))
    notes: list[str] = []
    raw = high_precision_call(fn, hp_inputs(args, ctx), source, notes)
    high = None
    try:
        high = None if raw is None else validate_hessian(raw, args, names, source)
    except GradcheckUsageError as error:
        notes.append(f"{source} at high precision: {error}; the formula is judged in float64")
    if high is not None:
        flat = as_high_precision(tuple(b for row in high for b in row), ctx, source, notes)
        high = None if flat is None else [list(flat[i * len(args):(i + 1) * len(args)]) for i in range(len(args))]
    floats = [[np.asarray(b, dtype=float) for b in row] for row in low]
    under_test = UnderTest(lambda v: product(floats, v),
                           lambda v: None if high is None else product(high, tuple(hp_inputs(v, ctx))), source, notes)
    return under_test, high if high is not None else floats


def product(blocks: Blocks, v: tuple[Any, ...]) -> tuple[Any, ...]:
    """(H v)_i = sum_j H[i][j] . v[j], contracting v[j]'s axes."""
    out = []
    for i, row in enumerate(blocks):
        terms = [np.tensordot(np.asarray(h), np.asarray(x), axes=np.ndim(x)) for h, x in zip(row, v, strict=True)]
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        out.append(np.asarray(total).reshape(np.shape(row[i])[:np.ndim(row[i]) // 2]))
    return tuple(out)


def asymmetry(blocks: Blocks, names: tuple[str, ...], ndims: tuple[int, ...], tol: verdict.Tolerances,
              worst: dict[str, float]) -> list[Mismatch]:
    """"symmetry" mismatches: H[i][j] against the transpose of H[j][i], once per pair of elements, judged with
    the formula tolerance on the scale of the whole Hessian."""
    scale = max(verdict.scale_of(b) for row in blocks for b in row) if blocks else 0.0
    out: list[Mismatch] = []
    for i, row in enumerate(blocks):
        for j in range(i, len(blocks)):
            h, di, dj = np.asarray(row[j]), ndims[i], ndims[j]
            transposed = np.transpose(np.asarray(blocks[j][i]), [*range(dj, dj + di), *range(dj)])
            for m in verdict.compare("symmetry", transposed, 0.0, h, rtol=tol.rtol_formula, tol=tol, scale=scale,
                                     argument=i, name=names[i], worst=worst, reference64=to_float64(transposed)):
                index = m.index or ()
                row_index, col_index = index[:di], index[di:]
                if i == j and di and np.ravel_multi_index(row_index, h.shape[:di]) > np.ravel_multi_index(
                        col_index, h.shape[di:]):
                    continue  # the same pair, seen from its other element
                where = (f"element {index} of block [{names[i]}][{names[j]}] against element {col_index + row_index}"
                         f" of block [{names[j]}][{names[i]}]")
                out.append(dataclasses.replace(m, where=where))
    return out
