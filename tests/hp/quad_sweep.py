"""Runs every operation that ``pytest_gradcheck.hp.quad_ops`` lets numpy-quaddtype run, on quad arrays in the
shapes and operand mixes user code produces, and checks the elementwise math against mpmath.

Meant to run in a subprocess (tests/hp/test_quad_ops.py): a crash inside numpy-quaddtype kills this interpreter,
and the ``start`` line flushed before each case names the operation that was running. Output: one JSON object a
line on stdout:

- ``{"start": op, "case": label}`` before a case runs;
- ``{"op": op, "case": label, "quad_error": str|null, "ref_error": str|null, "problems": [...]}``
  after it (the float64 run of the same case is the reference: its error, if any, and the quad run's);
- ``{"op": "accuracy:NAME", "case": point, "relative_error": float, "ok": bool, ...}``: the comparison with mpmath;
- ``{"uncovered": op}`` for an allowed name this script has no case for;
- ``{"done": count}`` at the end.

``op`` is ``ufunc:NAME``, ``reduce:NAME``, ``accumulate:NAME``, ``function:NAME`` or ``accuracy:NAME``.
Usage: ``python quad_sweep.py [--skip OP ...] [--only OP ...] [--crash-probe]``; ``--crash-probe`` adds op
``probe:crash``, which kills the process with SIGSEGV (the tests check that a crash is caught and named).
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import math
import os
import signal
import sys
import warnings

import mpmath
import numpy as np
import numpy_quaddtype as nq

from pytest_gradcheck.hp import quad_ops

Q = nq.QuadPrecDType()
QUAD_CLASS = type(Q)

# ---------------------------------------------------------------------------------------------------------------
# Operands. A case builds its arguments through ``v(spec)``: a quad operand is ("q", quad array), an output array
# ("out", (shape, dtype)), anything else (kind, value). Three runs per case: "quad" (quad operands as tier arrays,
# the others as they are), "ref" (quad operands as float64: the reference), "allquad" (every operand a quad tier
# array: a mixed call must give exactly this).


def grid(shape, lo=0.2, hi=0.8):
    """Quad values spread over (lo, hi) with full 113-bit significands (thirds and sevenths): a demotion to float64
    shows, and none equals a float64 operand of ``others``."""
    n = math.prod(shape)
    t = (np.arange(1, n + 1).astype(Q) + Q.type("1") / 3) / (n + Q.type("8") / 7)
    return (Q.type(str(lo)) + t * (Q.type(str(hi)) - Q.type(str(lo)))).reshape(shape)


def operand(spec, mode):
    kind, value = spec
    if kind == "q":
        return value.astype(np.float64) if mode == "ref" else value.view(Tier)
    if kind == "out":  # an output array: quad in the quad runs, the reference's dtype in the reference run
        shape, dtype = value
        return np.zeros(shape, dtype=dtype if mode == "ref" or dtype is bool else Q)
    return np.asarray(value).astype(Q).view(Tier) if mode == "allquad" else value


class NotAllowedError(Exception):
    """An allowed function called a ufunc method outside the lists: the tier would send it to mpmath mid-way."""


class Tier(np.ndarray):
    """The quad tier as quad_ops asks it to behave (a model of pytest_gradcheck.hp.quad.QuadArray, reduced to what
    the lists and flags promise): only the allowed ufunc methods run (anything else raises NotAllowedError, which
    the sweep reports); their operands are converted to quad first unless MIXED_OPERANDS_SAFE; a reduction named
    in REDUCTION_IDENTITIES gets its identity as ``initial`` when the call gives none; results stay tier arrays,
    0-d ones included (a QuadPrecision scalar would take the next operation out of the tier)."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        allowed = {"__call__": quad_ops.UFUNCS, "reduce": quad_ops.REDUCTIONS, "accumulate": quad_ops.REDUCTIONS}
        if ufunc.__name__ not in allowed.get(method, ()):
            raise NotAllowedError(f"np.{ufunc.__name__}.{method} is not in quad_ops")
        inputs = tuple(plain(a, convert=not quad_ops.MIXED_OPERANDS_SAFE) for a in inputs)
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(plain(o, convert=False) for o in out)
        if method == "reduce" and ufunc.__name__ in quad_ops.REDUCTION_IDENTITIES and "initial" not in kwargs:
            kwargs["initial"] = quad_ops.REDUCTION_IDENTITIES[ufunc.__name__]
        result = getattr(ufunc, method)(*inputs, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return np.asarray(result).view(Tier) if is_quad(np.asarray(result).dtype) else result


def plain(a, convert):
    if isinstance(a, Tier):
        return a.view(np.ndarray)
    if convert and not (isinstance(a, np.ndarray) and is_quad(a.dtype)):
        return np.asarray(a).astype(Q)
    return a


# nan, the infinities, signed zeros, halves and values outside most domains, against each other
_SPECIAL = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, -2.5, 2.5, 0.5, -1.0, 1.0, 3.0])
SPECIAL = ("q", _SPECIAL.astype(Q))
SPECIAL_T = ("q", np.add.outer(np.zeros(len(_SPECIAL)), _SPECIAL).T.copy().astype(Q))  # every pair, shape (11, 11)


def others(shape):
    """The non-quad operands user code mixes with a quad array of that broadcast shape."""
    size = math.prod(shape)
    return [
        ("float64", np.linspace(0.3, 0.7, size).reshape(shape)),
        ("float32", np.linspace(0.3, 0.7, size, dtype=np.float32).reshape(shape)),
        ("int64", (np.arange(size) % 3 + 1).reshape(shape)),
        ("bool", (np.arange(size) % 2 == 0).reshape(shape)),
        ("python-float", 0.5),
        ("python-int", 2),
        ("python-bool", True),
        ("np.float64", np.float64(0.375)),
    ]


# ---------------------------------------------------------------------------------------------------------------
# Cases: (label, build, flags) per op. build(v) -> result; flags: "novalues" (values are arbitrary: only dtypes and
# shapes are compared), "keepsdtypes" (a non-quad operand comes back with its own dtype, as np.broadcast_arrays).


def ufunc_domain(name):
    return (1.2, 3.0) if name == "arccosh" else (0.2, 0.8)


def ufunc_cases(name):
    uf = getattr(np, name)
    if uf.signature is not None:
        return GUFUNC_CASES.get(name, [])
    lo, hi = ufunc_domain(name)
    g = lambda shape: ("q", grid(shape, lo, hi))  # noqa: E731
    if uf.nin == 1:
        return [
            (f"{name}(0-d)", lambda v: uf(v(g(()))), ()),
            (f"{name}(1-D)", lambda v: uf(v(g((3,)))), ()),
            (f"{name}(2-D)", lambda v: uf(v(g((2, 3)))), ()),
            (f"{name}(2-D transposed)", lambda v: uf(v(g((2, 3))).T), ()),
            (f"{name}(1-D strided)", lambda v: uf(v(g((6,)))[::2]), ()),
            (f"{name}(empty)", lambda v: uf(v(g((0,)))), ()),
            (f"{name}(2-D empty)", lambda v: uf(v(g((2, 0)))), ()),
            (f"{name}(x, out=quad)", lambda v: unary_out(uf, v, g((2, 3))), ()),
            (f"{name}(nan, inf, -inf, -0.0, 0.0, -2.5, ...)", lambda v: uf(v(SPECIAL)), ()),
        ]
    cases = [
        (f"{name}(1-D, 1-D)", lambda v: uf(v(g((3,))), v(g((3,)))), ()),
        (f"{name}(0-d, 0-d)", lambda v: uf(v(g(())), v(g(()))), ()),
        (f"{name}(0-d, 1-D)", lambda v: uf(v(g(())), v(g((3,)))), ()),
        (f"{name}((2,1), (3,))", lambda v: uf(v(g((2, 1))), v(g((3,)))), ()),
        (f"{name}(2-D transposed, 2-D)", lambda v: uf(v(g((3, 2))).T, v(g((2, 3)))), ()),
        (f"{name}(1-D strided, 1-D)", lambda v: uf(v(g((6,)))[::2], v(g((3,)))), ()),
        (f"{name}(empty, empty)", lambda v: uf(v(g((0,))), v(g((0,)))), ()),
        (f"{name}(empty, 0.5)", lambda v: uf(v(g((0,))), v(("python-float", 0.5))), ()),
        (f"{name}((2,1) empty, (0,))", lambda v: uf(v(g((2, 1))), v(g((0,)))), ()),
        (f"{name}(x, y, out=quad)", lambda v: binary_out(uf, v, g((2, 3)), g((3,))), ()),
        (f"{name}(special values, special values)", lambda v: uf(v(SPECIAL), v(SPECIAL_T)), ()),
    ]
    for kind, value in others((3,)):
        cases.append((f"{name}(quad, {kind})", lambda v, s=(kind, value): uf(v(g((3,))), v(s)), ()))
        cases.append((f"{name}({kind}, quad)", lambda v, s=(kind, value): uf(v(s), v(g((3,)))), ()))
    for kind, _ in others((3,))[:4]:  # the arrays
        cases.append((f"{name}(quad (2,1), {kind} (3,))", lambda v, k=kind: uf(v(g((2, 1))), v(other(k, 3))), ()))
        cases.append((f"{name}({kind} (2,1), quad (3,))", lambda v, k=kind: uf(v(other(k, 2, 1)), v(g((3,)))), ()))
    return cases


def other(kind, *shape):
    return next(s for s in others(shape) if s[0] == kind)


def unary_out(uf, v, spec):
    x = v(spec)
    out = v(("out", (x.shape, bool if uf(np.zeros(1)).dtype == bool else np.float64)))
    result = uf(x, out=out)
    if result is not out:
        raise AssertionError("out= did not return the out array")
    return result


def binary_out(uf, v, a, b):
    x, y = v(a), v(b)
    shape = np.broadcast_shapes(x.shape, y.shape)
    out = v(("out", (shape, bool if uf(np.zeros(1), np.zeros(1)).dtype == bool else np.float64)))
    result = uf(x, y, out=out)
    if result is not out:
        raise AssertionError("out= did not return the out array")
    return result


def q(*shape):
    return ("q", grid(shape))


# Generalised ufuncs need cases of their own. matmul is out of quad_ops (quad_ops.EXCLUDED says why: these cases
# show it); its cases stay for the day it is tried again.
GUFUNC_CASES = {"matmul": [
    ("matmul((2,3), (3,2))", lambda v: np.matmul(v(q(2, 3)), v(q(3, 2))), ()),
    ("matmul((3,), (3,))", lambda v: np.matmul(v(q(3)), v(q(3))), ()),
    ("matmul((2,3), (3,))", lambda v: np.matmul(v(q(2, 3)), v(q(3))), ()),
    ("matmul((3,), (3,2))", lambda v: np.matmul(v(q(3)), v(q(3, 2))), ()),
    ("(2,3) @ (3,2) operator", lambda v: v(q(2, 3)) @ v(q(3, 2)), ()),
    ("matmul(batch (2,2,3), (3,1))", lambda v: np.matmul(v(q(2, 2, 3)), v(q(3, 1))), ()),
    ("matmul(transposed, strided)", lambda v: np.matmul(v(q(3, 2)).T, v(q(3, 4))[:, ::2]), ()),
    ("matmul(quad, float64)", lambda v: np.matmul(v(q(2, 3)), v(other("float64", 3, 2))), ()),
    ("matmul(float64, quad)", lambda v: np.matmul(v(other("float64", 2, 3)), v(q(3))), ()),
    ("matmul(quad, float32)", lambda v: np.matmul(v(q(2, 3)), v(("float32", np.ones((3, 2), np.float32) / 3))), ()),
    ("matmul(quad, int64)", lambda v: np.matmul(v(q(2, 3)), v(("int64", np.arange(6).reshape(3, 2)))), ()),
    ("matmul(bool, quad)", lambda v: np.matmul(v(("bool", np.eye(3, dtype=bool))), v(q(3, 2))), ()),
    ("matmul(x, y, out=quad)", lambda v: np.matmul(v(q(2, 3)), v(q(3, 2)), out=v(("out", ((2, 2), np.float64)))), ()),
    ("matmul((0,3), (3,2))", lambda v: np.matmul(v(q(0, 3)), v(q(3, 2))), ()),
    ("matmul((2,0), (0,3))", lambda v: np.matmul(v(q(2, 0)), v(q(0, 3))), ()),
    ("matmul((0,), (0,))", lambda v: np.matmul(v(q(0)), v(q(0))), ()),
]}


def reduce_cases(name):
    uf = getattr(np, name)
    return [
        (f"{name}.reduce(1-D)", lambda v: uf.reduce(v(q(3))), ()),
        (f"{name}.reduce(1-D, axis=-1)", lambda v: uf.reduce(v(q(3)), axis=-1), ()),
        (f"{name}.reduce(0-d, axis=None)", lambda v: uf.reduce(v(q()), axis=None), ()),
        (f"{name}.reduce(2-D, axis=None)", lambda v: uf.reduce(v(q(2, 3)), axis=None), ()),
        (f"{name}.reduce(2-D, axis=0)", lambda v: uf.reduce(v(q(2, 3)), axis=0), ()),
        (f"{name}.reduce(2-D, axis=-1)", lambda v: uf.reduce(v(q(2, 3)), axis=-1), ()),
        (f"{name}.reduce(2-D, axis=0, keepdims)", lambda v: uf.reduce(v(q(2, 3)), axis=0, keepdims=True), ()),
        (f"{name}.reduce(2-D, axis=None, keepdims)", lambda v: uf.reduce(v(q(2, 3)), axis=None, keepdims=True), ()),
        (f"{name}.reduce(2-D, axis=(0, 1))", lambda v: uf.reduce(v(q(2, 3)), axis=(0, 1)), ()),
        (f"{name}.reduce(3-D, axis=1)", lambda v: uf.reduce(v(q(2, 3, 2)), axis=1), ()),
        (f"{name}.reduce(transposed, axis=0)", lambda v: uf.reduce(v(q(3, 2)).T, axis=0), ()),
        (f"{name}.reduce(2-D, axis=0, out=quad)",
         lambda v: uf.reduce(v(q(2, 3)), axis=0, out=v(("out", ((3,), float)))), ()),
        (f"{name}.reduce(1-D, initial=0.5)", lambda v: uf.reduce(v(q(3)), initial=0.5), ()),
        (f"{name}.reduce(1-D, where=mask, initial=0.5)",
         lambda v: uf.reduce(v(q(3)), where=np.array([True, False, True]), initial=0.5), ()),
        (f"{name}.reduce(empty)", lambda v: uf.reduce(v(q(0))), ()),
        (f"{name}.reduce((0,3), axis=0)", lambda v: uf.reduce(v(q(0, 3)), axis=0), ()),
        (f"{name}.reduce((0,3), axis=1)", lambda v: uf.reduce(v(q(0, 3)), axis=1), ()),
        (f"{name}.reduce(empty, initial=0.5)", lambda v: uf.reduce(v(q(0)), initial=0.5), ()),
    ]


def accumulate_cases(name):
    uf = getattr(np, name)
    return [
        (f"{name}.accumulate(1-D)", lambda v: uf.accumulate(v(q(3))), ()),
        (f"{name}.accumulate(2-D, axis=0)", lambda v: uf.accumulate(v(q(2, 3)), axis=0), ()),
        (f"{name}.accumulate(2-D, axis=-1)", lambda v: uf.accumulate(v(q(2, 3)), axis=-1), ()),
        (f"{name}.accumulate(transposed, axis=0)", lambda v: uf.accumulate(v(q(3, 2)).T, axis=0), ()),
        (f"{name}.accumulate(1-D, out=quad)", lambda v: uf.accumulate(v(q(3)), out=v(("out", ((3,), float)))), ()),
        (f"{name}.accumulate(empty)", lambda v: uf.accumulate(v(q(0))), ()),
        (f"{name}.accumulate((0,3), axis=0)", lambda v: uf.accumulate(v(q(0, 3)), axis=0), ()),
    ]


F64 = ("float64", np.linspace(0.3, 0.7, 3))
F64_2D = ("float64", np.linspace(0.3, 0.7, 6).reshape(2, 3))
MASK = np.array([True, False, True])

# numpy function -> its cases; every name in quad_ops.FUNCTIONS needs an entry (the tests check it).
FUNCTION_CASES = {
    "reshape": [("reshape((2,3), (3,2))", lambda v: np.reshape(v(q(2, 3)), (3, 2))),
                ("reshape((2,3), -1)", lambda v: np.reshape(v(q(2, 3)), -1)),
                ("reshape(empty, (0, 2))", lambda v: np.reshape(v(q(0)), (0, 2)))],
    "ravel": [("ravel(2-D)", lambda v: np.ravel(v(q(2, 3)))), ("ravel(transposed)", lambda v: np.ravel(v(q(2, 3)).T))],
    "transpose": [("transpose(2-D)", lambda v: np.transpose(v(q(2, 3)))),
                  ("transpose(3-D, axes)", lambda v: np.transpose(v(q(2, 3, 2)), (2, 0, 1)))],
    "swapaxes": [("swapaxes(3-D, 0, 2)", lambda v: np.swapaxes(v(q(2, 3, 2)), 0, 2))],
    "moveaxis": [("moveaxis(3-D, 0, -1)", lambda v: np.moveaxis(v(q(2, 3, 2)), 0, -1))],
    "expand_dims": [("expand_dims(1-D, 0)", lambda v: np.expand_dims(v(q(3)), 0)),
                    ("expand_dims(0-d, -1)", lambda v: np.expand_dims(v(q()), -1))],
    "squeeze": [("squeeze((2,1))", lambda v: np.squeeze(v(q(2, 1)))), ("squeeze((1,))", lambda v: np.squeeze(v(q(1))))],
    "atleast_1d": [("atleast_1d(0-d)", lambda v: np.atleast_1d(v(q())))],
    "atleast_2d": [("atleast_2d(1-D)", lambda v: np.atleast_2d(v(q(3))))],
    "broadcast_to": [("broadcast_to((3,), (2,3))", lambda v: np.broadcast_to(v(q(3)), (2, 3))),
                     ("broadcast_to(0-d, (2,))", lambda v: np.broadcast_to(v(q()), (2,)))],
    "broadcast_arrays": [("broadcast_arrays(quad (2,1), float64 (3,))",  # each keeps its dtype
                          lambda v: np.broadcast_arrays(v(q(2, 1)), v(F64)), "keepsdtypes")],
    "concatenate": [("concatenate([quad, quad])", lambda v: np.concatenate([v(q(3)), v(q(2))])),
                    ("concatenate([quad, float64])", lambda v: np.concatenate([v(q(3)), v(F64)])),
                    ("concatenate([float64, quad])", lambda v: np.concatenate([v(F64), v(q(3))])),
                    ("concatenate(2-D, axis=1)", lambda v: np.concatenate([v(q(2, 3)), v(F64_2D)], axis=1)),
                    ("concatenate([quad, empty])", lambda v: np.concatenate([v(q(3)), v(q(0))]))],
    "stack": [("stack([quad, quad])", lambda v: np.stack([v(q(3)), v(q(3))])),
              ("stack([quad, float64], axis=1)", lambda v: np.stack([v(q(3)), v(F64)], axis=1)),
              ("stack([0-d, 0-d])", lambda v: np.stack([v(q()), v(q())]))],
    "vstack": [("vstack([quad, float64])", lambda v: np.vstack([v(q(3)), v(F64)]))],
    "hstack": [("hstack([quad, float64])", lambda v: np.hstack([v(q(3)), v(F64)])),
               ("hstack([0-d, 0-d])", lambda v: np.hstack([v(q()), v(q())]))],
    "where": [("where(quad > 0.5, quad, 0.0)", lambda v: np.where(v(q(3)) > 0.5, v(q(3)), 0.0)),
              ("where(mask, quad, float64)", lambda v: np.where(MASK, v(q(3)), v(F64))),
              ("where(mask, 1.0, quad (2,1))", lambda v: np.where(MASK, 1.0, v(q(2, 1)))),
              ("where(quad > 0.5)", lambda v: np.where(v(q(3)) > 0.5)),
              ("where(empty)", lambda v: np.where(np.zeros(0, bool), v(q(0)), 0.0))],
    "sum": [("sum(1-D)", lambda v: np.sum(v(q(3)))), ("sum(2-D, axis=0)", lambda v: np.sum(v(q(2, 3)), axis=0)),
            ("sum(2-D, axis=-1, keepdims)", lambda v: np.sum(v(q(2, 3)), axis=-1, keepdims=True)),
            ("x.sum()", lambda v: v(q(2, 3)).sum()),
            ("sum(where=mask)", lambda v: np.sum(v(q(3)), where=MASK)),
            ("sum(empty)", lambda v: np.sum(v(q(0)))),
            ("sum((0,3), axis=0)", lambda v: np.sum(v(q(0, 3)), axis=0))],
    "mean": [("mean(1-D)", lambda v: np.mean(v(q(3)))), ("mean(2-D, axis=0)", lambda v: np.mean(v(q(2, 3)), axis=0)),
             ("mean(2-D, axis=-1, keepdims)", lambda v: np.mean(v(q(2, 3)), axis=-1, keepdims=True)),
             ("x.mean()", lambda v: v(q(2, 3)).mean()),
             ("mean(empty)", lambda v: np.mean(v(q(0))))],
    "prod": [("prod(1-D)", lambda v: np.prod(v(q(3)))), ("prod(2-D, axis=-1)", lambda v: np.prod(v(q(2, 3)), axis=-1)),
             ("prod(empty)", lambda v: np.prod(v(q(0))))],
    "max": [("max(1-D)", lambda v: np.max(v(q(3)))), ("max(2-D, axis=0, keepdims)",
                                                        lambda v: np.max(v(q(2, 3)), axis=0, keepdims=True)),
            ("x.max()", lambda v: v(q(2, 3)).max()), ("max(empty)", lambda v: np.max(v(q(0))))],
    "min": [("min(1-D)", lambda v: np.min(v(q(3)))), ("min(2-D, axis=-1)", lambda v: np.min(v(q(2, 3)), axis=-1)),
            ("min(empty, initial=1.0)", lambda v: np.min(v(q(0)), initial=1.0))],
    "amax": [("amax(2-D, axis=1)", lambda v: np.amax(v(q(2, 3)), axis=1))],
    "amin": [("amin(2-D)", lambda v: np.amin(v(q(2, 3))))],
    "cumsum": [("cumsum(1-D)", lambda v: np.cumsum(v(q(3)))), ("cumsum(2-D)", lambda v: np.cumsum(v(q(2, 3)))),
               ("cumsum(2-D, axis=0)", lambda v: np.cumsum(v(q(2, 3)), axis=0)),
               ("cumsum(empty)", lambda v: np.cumsum(v(q(0))))],
    "cumprod": [("cumprod(1-D)", lambda v: np.cumprod(v(q(3)))),
                ("cumprod(2-D, axis=1)", lambda v: np.cumprod(v(q(2, 3)), axis=1))],
    "zeros_like": [("zeros_like(2-D)", lambda v: np.zeros_like(v(q(2, 3))))],
    "ones_like": [("ones_like(1-D)", lambda v: np.ones_like(v(q(3))))],
    "full_like": [("full_like(1-D, 2.5)", lambda v: np.full_like(v(q(3)), 2.5))],
    "empty_like": [("empty_like(2-D)", lambda v: np.empty_like(v(q(2, 3))), "novalues")],
    "copy": [("copy(2-D)", lambda v: np.copy(v(q(2, 3)))), ("x.copy() of transposed", lambda v: v(q(2, 3)).T.copy())],
    "outer": [("outer(quad, quad)", lambda v: np.outer(v(q(3)), v(q(2)))),
              ("outer(quad, float64)", lambda v: np.outer(v(q(2)), v(F64)))],
    "take": [("take(1-D, [0, 2])", lambda v: np.take(v(q(3)), [0, 2])),
             ("take(2-D, [1], axis=1)", lambda v: np.take(v(q(2, 3)), [1], axis=1))],
    "diagonal": [("diagonal(2-D)", lambda v: np.diagonal(v(q(3, 3))))],
    "trace": [("trace(3x3)", lambda v: np.trace(v(q(3, 3)))), ("trace(2x3)", lambda v: np.trace(v(q(2, 3))))],
    "tile": [("tile(1-D, 2)", lambda v: np.tile(v(q(3)), 2)),
             ("tile(2-D, (2, 1))", lambda v: np.tile(v(q(2, 3)), (2, 1)))],
    "repeat": [("repeat(1-D, 2)", lambda v: np.repeat(v(q(3)), 2))],
    "flip": [("flip(1-D)", lambda v: np.flip(v(q(3)))), ("flip(2-D, axis=0)", lambda v: np.flip(v(q(2, 3)), axis=0))],
    "roll": [("roll(1-D, 1)", lambda v: np.roll(v(q(3)), 1))],
    "argmax": [("argmax(1-D)", lambda v: np.argmax(v(q(3)))),
               ("argmax(2-D, axis=0)", lambda v: np.argmax(v(q(2, 3)), 0))],
    "argmin": [("argmin(1-D)", lambda v: np.argmin(v(q(3)))),
               ("argmin(2-D, axis=1)", lambda v: np.argmin(v(q(2, 3)), 1))],
    "shape": [("shape(2-D)", lambda v: np.shape(v(q(2, 3))))],
    "ndim": [("ndim(0-d)", lambda v: np.ndim(v(q())))],
    "size": [("size(2-D)", lambda v: np.size(v(q(2, 3))))],
}


def function_cases(name):
    return [(case[0], case[1], case[2:]) for case in FUNCTION_CASES.get(name, [])]


def all_cases():
    """op -> its cases, for every allowed name (an empty list: a name this script has no case for)."""
    table = {}
    for name in sorted(quad_ops.UFUNCS):
        table[f"ufunc:{name}"] = ufunc_cases(name)
    for name in sorted(quad_ops.REDUCTIONS):
        table[f"reduce:{name}"] = reduce_cases(name)
        table[f"accumulate:{name}"] = accumulate_cases(name)
    for name in sorted(quad_ops.FUNCTIONS):
        table[f"function:{name}"] = function_cases(name)
    return table


# ---------------------------------------------------------------------------------------------------------------
# Running a case and comparing the quad run with the float64 reference and the all-quad run.


def attempt(build, mode):
    try:
        return build(lambda spec: operand(spec, mode)), None
    except Exception as exc:  # any error is a finding (the tests decide which are acceptable)
        return None, f"{type(exc).__name__}: {exc}"


def parts(result):
    """A result as a list of arrays (tuples and lists of arrays, e.g. broadcast_arrays or where(cond))."""
    if isinstance(result, tuple | list):
        return [np.asarray(r) for r in result]
    return [np.asarray(result)]


def is_quad(dtype):
    return isinstance(dtype, type(Q))


def compare(got, ref, exact, novalues, keepsdtypes):
    """The problems of a quad run's result, against the float64 reference and the all-quad run."""
    got, ref, exact = parts(got), parts(ref), parts(exact)
    if len(got) != len(ref):
        return [f"{len(got)} results, the float64 run gives {len(ref)}"]
    problems = []
    for g, r, e in zip(got, ref, exact, strict=True):
        if g.shape != r.shape:
            problems.append(f"shape {g.shape}, float64 gives {r.shape}")
            continue
        if r.dtype.kind == "f" and not is_quad(g.dtype) and not (keepsdtypes and g.dtype == r.dtype):
            problems.append(f"dtype {g.dtype}: the result left quad precision")
            continue
        if r.dtype.kind != "f" and g.dtype != r.dtype:
            problems.append(f"dtype {g.dtype}, float64 gives {r.dtype}")
            continue
        if novalues or (keepsdtypes and not is_quad(g.dtype)):
            continue
        if r.dtype.kind != "f":
            if not np.array_equal(g, r):
                problems.append(f"values {g.ravel()[:4]} differ from float64's {r.ravel()[:4]}")
            continue
        g64 = g.astype(np.float64)
        if not np.allclose(g64, r, rtol=1e-12, atol=1e-300, equal_nan=True):
            bad = ~np.isclose(g64, r, rtol=1e-12, atol=1e-300, equal_nan=True)
            problems.append(f"values {g64[bad][:4]} where float64 gives {r[bad][:4]}")
        elif np.any((np.signbit(g64) != np.signbit(r)) & (g64 == 0)):
            problems.append(ZERO_SIGN)
        elif not same(g, e):
            problems.append("mixed operands give a different quad result than all-quad operands (a demotion)")
    return problems


ZERO_SIGN = "the sign of a zero differs from float64's"


def same(a, b):
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if not is_quad(a.dtype):
        return bool(np.array_equal(a, b))
    return bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def run_case(op, label, build, flags):
    emit({"start": op, "case": label})
    first, steady = refcount_change(build), refcount_change(build)  # every array of a run is gone by then
    quad_error, ref_error, problems = check_case(build, "novalues" in flags, "keepsdtypes" in flags)
    if steady - first > 0:
        problems.append(REFCOUNT_DROP.format(steady - first, "its first call"))
    if steady < 0:
        problems.append(REFCOUNT_DROP.format(-steady, "every call"))
    emit({"op": op, "case": label, "quad_error": quad_error, "ref_error": ref_error, "problems": problems})


def refcount_change(build):
    before = sys.getrefcount(QUAD_CLASS)
    attempt(build, "quad")
    return sys.getrefcount(QUAD_CLASS) - before


def check_case(build, novalues, keepsdtypes):
    got, quad_error = attempt(build, "quad")
    ref, ref_error = attempt(build, "ref")
    if quad_error is not None or ref_error is not None:
        return quad_error, ref_error, []
    exact, exact_error = attempt(build, "allquad")
    return None, None, [exact_error] if exact_error else compare(got, ref, exact, novalues, keepsdtypes)


REFCOUNT_DROP = ("drops {} reference(s) to the QuadPrecDType class on {} (numpy-quaddtype's promoter for mixed "
                 "operands): on Python 3.11 a few hundred such drops free the class and crash the interpreter")


def mixed_operand_probe():
    """The references to QuadPrecDType's class one mixed-operand ufunc call drops, in this (fresh) process."""
    x = grid((3,))
    before = sys.getrefcount(QUAD_CLASS)
    np.hypot(x, np.ones(3))
    return before - sys.getrefcount(QUAD_CLASS)


def identity_probe():
    """The reductions whose reduce over a size-0 axis raises on quad where float64 gives the identity."""
    failing = []
    for name in sorted(quad_ops.REDUCTIONS):
        reduce = getattr(np, name).reduce
        works_on_float64 = attempt(lambda v, r=reduce: r(v(("q", grid((0,))))), "ref")[1] is None
        if works_on_float64 and attempt(lambda _, r=reduce: r(grid((0,))), "quad")[1] is not None:
            failing.append(name)
    return failing


def emit(record):
    print(json.dumps(record), flush=True)


# ---------------------------------------------------------------------------------------------------------------
# Accuracy: quad results against mpmath at 256 bits (the reference's own rounding is then negligible), at points
# across each function's domain; inputs and results are taken at their exact binary values.

MP = mpmath.MPContext()
MP.prec = 256
TOLERANCE = 4 * 2.0**-113  # relative error allowed; at a point near a zero of the function, relative to its scale

# name -> (mpmath function, points: tuples of decimal strings, parsed by numpy-quaddtype to the nearest quad)
ACCURACY = {
    "add": (lambda a, b: a + b, [("0.1", "0.2"), ("1e10", "-3.3"), ("-1.5", "1e-20")]),
    "subtract": (lambda a, b: a - b, [("0.3", "0.1"), ("1e10", "3.3"), ("1.000000001", "1")]),
    "multiply": (lambda a, b: a * b, [("0.1", "0.3"), ("1e10", "-3.3"), ("1e-100", "7e90")]),
    "divide": (lambda a, b: a / b, [("1", "3"), ("0.3", "-7"), ("1e100", "3e-50")]),
    "true_divide": (lambda a, b: a / b, [("2", "3"), ("-0.3", "11")]),
    "reciprocal": (lambda a: 1 / a, [("3",), ("0.7",), ("-1e-30",)]),
    "square": (lambda a: a * a, [("0.3",), ("-1.1",), ("1e100",)]),
    "power": (MP.power, [("0.3", "2.5"), ("2", "-0.7"), ("1.1", "100"), ("10", "0.3"), ("7.5", "3")]),
    "float_power": (MP.power, [("0.3", "2.5"), ("2", "-0.7"), ("1.01", "1000")]),
    "sqrt": (MP.sqrt, [("0.3",), ("2",), ("1e-20",), ("7e15",), ("1e300",)]),
    "cbrt": (lambda a: MP.sign(a) * MP.cbrt(abs(a)), [("-0.3",), ("2",), ("1e-20",), ("27.5",), ("-1e100",)]),
    "exp": (MP.exp, [("-50",), ("-0.3",), ("1e-10",), ("0.7",), ("100",), ("700",)]),
    "exp2": (lambda a: MP.power(2, a), [("-100.3",), ("0.3",), ("1e-10",), ("50.5",)]),
    "expm1": (MP.expm1, [("1e-20",), ("-0.3",), ("1e-5",), ("2",), ("50",)]),
    "log": (MP.log, [("0.3",), ("1.0000001",), ("2",), ("1e-300",), ("1e300",)]),
    "log2": (lambda a: MP.log(a, 2), [("0.3",), ("3",), ("1e-200",), ("1e200",)]),
    "log10": (MP.log10, [("0.3",), ("3",), ("1e-200",), ("1e200",)]),
    "log1p": (MP.log1p, [("1e-20",), ("-0.3",), ("0.3",), ("100",)]),
    "logaddexp": (lambda a, b: MP.log(MP.exp(a) + MP.exp(b)), [("0.3", "-2"), ("100", "100.5"), ("-50", "-49")]),
    "logaddexp2": (lambda a, b: MP.log(MP.power(2, a) + MP.power(2, b), 2), [("0.3", "-2"), ("100", "100.5")]),
    "sin": (MP.sin, [("1e-10",), ("0.3",), ("-1.2",), ("3",), ("100",), ("1e6",)]),
    "cos": (MP.cos, [("1e-10",), ("0.3",), ("-1.2",), ("3",), ("100",), ("1e6",)]),
    "tan": (MP.tan, [("1e-10",), ("0.3",), ("-1.2",), ("1.5",), ("100",)]),
    "arcsin": (MP.asin, [("-0.9",), ("0.3",), ("1e-10",), ("0.999",)]),
    "arccos": (MP.acos, [("-0.9",), ("0.3",), ("1e-10",), ("0.999",)]),
    "arctan": (MP.atan, [("1e-10",), ("0.3",), ("-2",), ("1e10",)]),
    "arctan2": (MP.atan2, [("0.3", "-2"), ("-1", "0.5"), ("1e-10", "1"), ("2", "1e-10")]),
    "hypot": (MP.hypot, [("0.3", "4"), ("1e-10", "1"), ("3", "4"), ("1e100", "2e100")]),
    "sinh": (MP.sinh, [("1e-10",), ("0.3",), ("-2",), ("30",)]),
    "cosh": (MP.cosh, [("1e-10",), ("0.3",), ("-2",), ("30",)]),
    "tanh": (MP.tanh, [("1e-10",), ("0.3",), ("-2",), ("10",)]),
    "arcsinh": (MP.asinh, [("1e-10",), ("0.3",), ("-2",), ("1e10",)]),
    "arccosh": (MP.acosh, [("1.0000001",), ("1.5",), ("10",), ("1e10",)]),
    "arctanh": (MP.atanh, [("1e-10",), ("0.3",), ("-0.9",), ("0.999",)]),
    # Exact operations (0 ulps expected): a result that went through float64 would lose the low bits.
    "negative": (lambda a: -a, [("0.3",), ("-1e-20",)]),
    "positive": (lambda a: +a, [("0.3",), ("-1e-20",)]),
    "absolute": (abs, [("0.3",), ("-1e-20",)]),
    "fabs": (abs, [("-0.3",), ("1e20",)]),
    "sign": (MP.sign, [("-0.3",), ("1e-20",)]),
    "maximum": (max, [("0.3", "-0.3"), ("0.1", "0.10000000000000000001")]),
    "minimum": (min, [("0.3", "-0.3"), ("0.1", "0.10000000000000000001")]),
    "fmax": (max, [("0.3", "-0.3"), ("0.1", "0.10000000000000000001")]),
    "fmin": (min, [("0.3", "-0.3"), ("0.1", "0.10000000000000000001")]),
    "copysign": (lambda a, b: abs(a) if b > 0 else -abs(a), [("0.3", "-2"), ("-1e-20", "3")]),
    "floor": (MP.floor, [("-2.7",), ("12345678901234567890.3",), ("0.3",)]),
    "ceil": (MP.ceil, [("-2.7",), ("12345678901234567890.3",), ("0.3",)]),
    "trunc": (lambda a: MP.floor(a) if a >= 0 else MP.ceil(a), [("-2.7",), ("12345678901234567890.3",)]),
    "rint": (MP.nint, [("-2.7",), ("12345678901234567890.7",), ("2.5",), ("3.5",)]),
}


def exact_value(x):
    """The exact value of a quad scalar as an mpf: hi + lo + lo2 in float64 parts, after scaling near 1."""
    scale = math.frexp(float(x))[1]
    r = x * Q.type(math.ldexp(1.0, -scale))  # exact: a power of two
    total = MP.mpf(0)
    for _ in range(3):
        part = float(r)
        total += MP.mpf(part)
        r = r - Q.type(part)  # exact
    if r != 0:
        raise AssertionError(f"{x!r} did not split into three float64 parts")
    return MP.ldexp(total, scale)


# Points near a zero of the function, where an absolute error counts: relative to the result's scale
# sum |x_i df/dx_i| (the change half an ulp in every input makes), not to the tiny result.
NEAR_ZEROS = {
    "logaddexp": [("-1.326961908824726421", "-0.309458047814244352")],
    "logaddexp2": [("-0.360649531700581782", "-2.172244665069600345")],
    "log": [("1.00000000000000000000000000001",)],
    "sin": [("3.14159265358979323846264338327950288",)],
    "cos": [("1.57079632679489661923132169163975144",)],
}


def accuracy_record(name, point, near_zero):
    fn = ACCURACY[name][0]
    args = [Q.type(s) for s in point]
    got = getattr(np, name)(*[np.asarray(a, dtype=Q) for a in args])
    xs = [exact_value(a) for a in args]
    exact = fn(*xs)
    error = abs(exact_value(got[()] if isinstance(got, np.ndarray) else got) - exact)
    scale = abs(exact)
    if near_zero:
        partials = [MP.diff(lambda t, i=i: fn(*xs[:i], t, *xs[i + 1:]), x) for i, x in enumerate(xs)]
        scale = max(scale, sum(abs(x * d) for x, d in zip(xs, partials, strict=True)))
    relative = float(error / scale) if scale else (0.0 if error == 0 else math.inf)
    return {"op": f"accuracy:{name}", "case": f"{name}({', '.join(point)})", "relative_error": relative,
            "ok": relative <= TOLERANCE, "near_zero": near_zero, "got": str(got), "exact": MP.nstr(exact, 36)}


def run_accuracy(name):
    points = [(p, False) for p in ACCURACY[name][1]] + [(p, True) for p in NEAR_ZEROS.get(name, [])]
    for point, near_zero in points:
        label = f"{name}({', '.join(point)})"
        emit({"start": f"accuracy:{name}", "case": label})
        try:
            emit(accuracy_record(name, point, near_zero))
        except Exception as exc:
            emit({"op": f"accuracy:{name}", "case": label, "relative_error": None, "ok": False,
                  "error": f"{type(exc).__name__}: {exc}"})


# ---------------------------------------------------------------------------------------------------------------


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip", nargs="*", default=[])
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--crash-probe", action="store_true")
    args = parser.parse_args(argv)
    faulthandler.enable()  # a crash prints the Python stack on stderr
    wanted = lambda op: op not in args.skip and (args.only is None or op in args.only)  # noqa: E731
    table = all_cases()
    if args.crash_probe:  # a crash on purpose: the tests check that the harness catches and names it
        table["probe:crash"] = [("SIGSEGV", lambda v: os.kill(os.getpid(), signal.SIGSEGV), ())]
    emit({"mixed_operand_refs_dropped": mixed_operand_probe(), "no_identity": identity_probe()})
    count = 0
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for op, cases in table.items():
            if not cases:
                emit({"uncovered": op})
            for label, build, flags in cases if wanted(op) else []:
                run_case(op, label, build, flags)
                count += 1
        for name in sorted(quad_ops.UFUNCS & ACCURACY.keys()):
            if wanted(f"accuracy:{name}"):
                run_accuracy(name)
    emit({"done": count})


if __name__ == "__main__":
    main(sys.argv[1:])
