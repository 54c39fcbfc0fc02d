"""Whether a JVP and a VJP are transposes of each other: <u, jvp(v)> = <vjp(u), v> for random u (output-shaped)
and v (one array per argument), at high precision when both run there. A violation is a mismatch of its own kind,
"transpose", and a note that says so; it makes the check's status "formula_error"."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pytest_gradcheck.checker.inputs import validate_gradients
from pytest_gradcheck.checker.jvp_setup import JvpSetup, hp_array
from pytest_gradcheck.checker.nonfinite import floats
from pytest_gradcheck.checker.result import Mismatch
from pytest_gradcheck.checker.setup import CannotRun, call_at_high_precision
from pytest_gradcheck.hp import precision, quad

TRANSPOSE_WHERE = "<u, jvp(v)> against <vjp(u), v> for random u, v"


def transpose_mismatches(setup: JvpSetup, notes: list[str]) -> list[Mismatch]:
    """The transpose check along one random pair (u, v): a JVP that is not the transpose of the VJP makes
    u^T (J_jvp - J_vjp) v nonzero for almost every Gaussian pair, far beyond the tolerance of a wrong element."""
    assert setup.vjp is not None
    u = setup.rng.standard_normal(setup.value.shape)
    v = [setup.rng.standard_normal(x.shape) for x in setup.args]
    pair = _at_high_precision(setup, u, v, notes)
    rtol = setup.tol.rtol_formula if pair is not None else setup.tol.rtol_float64
    if pair is None:
        pair = _in_float64(setup, u, v)
    (forward, forward_terms), (backward, backward_terms) = pair
    difference = float(abs(forward - backward))
    allowed = setup.tol.atol + rtol * (forward_terms + backward_terms)
    size = max(abs(float(backward)), forward_terms + backward_terms)
    setup.worst["transpose"] = max(setup.worst.get("transpose", 0.0), difference / size if size else 0.0)
    if difference <= allowed:
        return []
    relative = difference / abs(float(backward)) if float(backward) else math.inf
    notes.append(f"jvp and vjp are not transposes of each other: <u, jvp(v)> = {float(forward):.16g} but "
                 f"<vjp(u), v> = {float(backward):.16g} for random u, v (difference {difference:.1e}, tolerance "
                 f"{allowed:.1e}); one of them is wrong")
    return [Mismatch("transpose", None, "jvp and vjp", TRANSPOSE_WHERE, None, float(backward), 0.0, float(forward),
                     difference, relative, allowed)]


def _inner(left: Any, right: Any) -> tuple[Any, float]:
    """<left, right> at the arrays' precision, and the magnitude of its terms sum |left_i right_i|."""
    left, right = np.asarray(left).ravel(), np.asarray(right).ravel()
    terms = float(np.sum(np.abs(floats(left) * floats(right))))
    return np.sum(left * right) if left.size else 0.0, terms


def _both(pairs: list[tuple[Any, float]]) -> tuple[Any, float]:
    return sum((p[0] for p in pairs), 0), sum(p[1] for p in pairs)


def _at_high_precision(setup: JvpSetup, u: np.ndarray, v: list[np.ndarray], notes: list[str]) -> Any:
    """((<u, jvp(v)>, its terms), (<vjp(u), v>, its terms)) at high precision, or None when either runs only in
    float64 (a note says why)."""
    ev = setup.evaluator
    if not (ev.high_precision and setup.high_precision_jvp):
        return None
    forward = setup.jvp_hp(v, "a random tangent (transpose check)")
    raw = call_at_high_precision(setup.vjp, (hp_array(u.astype(setup.value.dtype), ev), *ev.args_hp), "vjp")
    if forward is None or isinstance(raw, CannotRun):
        notes.append(f"transpose check in float64: vjp {raw.reason}" if isinstance(raw, CannotRun) else
                     "transpose check in float64: the jvp runs only in float64")
        return None
    raw = type(raw)(quad.objects_if_quad(g, ev.ctx) for g in raw) if isinstance(raw, tuple | list) else \
        quad.objects_if_quad(raw, ev.ctx)
    grads = validate_gradients(raw, setup.args, setup.names, "vjp")
    if not all(np.asarray(g).dtype == object and precision.is_hp(np.asarray(g), ev.ctx) for g in grads):
        notes.append("transpose check in float64: the vjp returns float64 when given high-precision inputs")
        return None
    u_hp = precision.to_hp(u, ev.ctx).view(np.ndarray)
    v_hp = [precision.to_hp(x, ev.ctx).view(np.ndarray) for x in v]
    return _inner(u_hp, forward), _both([_inner(g, x) for g, x in zip(grads, v_hp, strict=True)])


def _in_float64(setup: JvpSetup, u: np.ndarray, v: list[np.ndarray]) -> Any:
    forward = setup.jvp64(v, "a random tangent (transpose check)")
    grads = validate_gradients(setup.vjp(u.astype(setup.value.dtype), *setup.args), setup.args, setup.names, "vjp")
    pairs = [_inner(np.asarray(g, dtype=float), x) for g, x in zip(grads, v, strict=True)]
    return _inner(u, forward), _both(pairs)

