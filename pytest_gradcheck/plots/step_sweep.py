"""Error of numerical derivatives against step size, for one component of a check that did not pass.

For the component a picture explains (the worst mismatching element, a kink, or else a seeded random
direction), the directional derivative of v^T f along u is taken by plain central differences
(phi(h) - phi(-h)) / 2h over a log-spaced ladder of steps, once in float64 and once at the check's high
precision, and each is compared with a high-precision reference (`differences.hp_derivative`, or the float64
fallback's `float64_differences.float64_derivative` when f cannot run at high precision). In float64 the error
first falls (truncation, ~h^2) and then rises again (round-off, ~eps/h): the V. At 40 digits it keeps falling
to a floor far below, set by the reference's own accuracy. Alongside: the step the checker uses for its
reference and how far the gradient under test is from the reference. Plain data, no drawing (see `plots`).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_gradcheck.checker import differences, float64_differences
from pytest_gradcheck.hp import blame, precision, quad

# The ladder runs from 1e-1 to 1e-16 (times the scale of x): from truncation-dominated steps to steps where
# x + h u no longer moves in float64, so the whole V shows. Four steps per decade: 61 steps, 122 evaluations
# of f per precision.
LADDER_DECADES = (1, 16)
STEPS_PER_DECADE = 4
# The ladder's evaluations are capped at about this much wall time per precision (timed on the first one): a
# slow f gets every 2nd or 4th step; one slower still gets no curve at that precision, and a note says so.
SWEEP_SECONDS = 5.0
MAX_STRIDE = 4
RANDOM_SEED = 0  # the direction of a check with no element to point at (a projection, a Taylor verdict)


@dataclass(frozen=True)
class Component:
    """What a sweep differentiates: v^T f along `direction` (one array or None per argument)."""

    label: str
    direction: tuple[np.ndarray | None, ...]
    argument: int | None  # the argument of a single element, else None
    index: tuple[int, ...] | None
    tolerance: float | None  # the absolute tolerance the checker used for this quantity, when it compared one


@dataclass(frozen=True)
class Sweep:
    """Errors of central differences at each step, against the reference, for one component.

    Errors are absolute, |estimate - reference|, NaN where f could not be evaluated at a step. `hp_*` are None
    when f does not run at high precision. `right_*`: the one-sided difference (phi(h) - phi(0)) / h, whose
    error stays at half the slope jump at a kink (no extra evaluations: phi(h) and phi(0) are at hand).
    """

    label: str
    steps: np.ndarray  # largest first
    float64_error: np.ndarray
    hp_error: np.ndarray | None
    right_float64_error: np.ndarray
    right_hp_error: np.ndarray | None
    reference: float
    reference_error: float
    reference_status: str  # "ok", "nondifferentiable" (reference: midpoint of left and right) or "not_converged"
    left: float | None  # one-sided derivatives at a kink
    right: float | None
    chosen_step: float  # the step the checker's reference uses (hp: the first of Richardson's pair)
    gradient: float  # the gradient under test along the direction (high precision when available)
    gradient_error: float  # |gradient - reference|
    gradient64: float  # the same in float64
    gradient64_error: float
    tolerance: float | None
    high_precision: bool
    digits: int
    evaluations: int
    notes: tuple[str, ...] = ()

    @property
    def float64_best(self) -> tuple[float, float]:
        """(step, error) at the smallest float64 error over the ladder."""
        k = int(np.nanargmin(self.float64_error))
        return float(self.steps[k]), float(self.float64_error[k])

    def to_dict(self) -> dict[str, Any]:
        def floats(values: Any) -> Any:
            return None if values is None else [float(v) for v in values]

        return {"label": self.label, "steps": floats(self.steps), "float64_error": floats(self.float64_error),
                "hp_error": floats(self.hp_error), "right_float64_error": floats(self.right_float64_error),
                "right_hp_error": floats(self.right_hp_error), "reference": self.reference,
                "reference_error": self.reference_error, "reference_status": self.reference_status,
                "left": self.left, "right": self.right, "chosen_step": self.chosen_step, "gradient": self.gradient,
                "gradient_error": self.gradient_error, "gradient64": self.gradient64,
                "gradient64_error": self.gradient64_error, "tolerance": self.tolerance,
                "high_precision": self.high_precision, "digits": self.digits, "evaluations": self.evaluations,
                "notes": list(self.notes)}


def ladder(scale: float) -> np.ndarray:
    """Steps scale * 10^-k for k from 1 to 16 in quarters of a decade, largest first."""
    first, last = LADDER_DECADES
    exponents = np.linspace(first, last, (last - first) * STEPS_PER_DECADE + 1)
    return scale * 10.0 ** -exponents


def _unit(shapes: Sequence[tuple[int, ...]], a: int, index: tuple[int, ...]) -> tuple[np.ndarray | None, ...]:
    u = np.zeros(shapes[a])
    u[index] = 1.0
    return tuple(u if b == a else None for b in range(len(shapes)))


def choose_component(result: Any, shapes: Sequence[tuple[int, ...]]) -> Component:
    """The component a picture of `result` shows: at a kink the kink, else the worst mismatching element, else
    any kink on an element, else a seeded random direction over all arguments."""
    def describe(a: int, index: tuple[int, ...]) -> str:
        return f"argument {a} ({result.argument_names[a]!r}), element {index}"

    kinks = sorted((k for k in result.kinks if k.argument is not None and k.index is not None),
                   key=lambda k: k.valid_choice)  # a gradient outside the one-sided derivatives first
    from_kinks = [Component(describe(k.argument, k.index), _unit(shapes, k.argument, k.index), k.argument, k.index,
                            None) for k in kinks if len(k.index) == len(shapes[k.argument])]
    from_mismatches = [Component(describe(m.argument, m.index), _unit(shapes, m.argument, m.index), m.argument,
                                 m.index, m.tolerance)
                       for m in result.mismatches if m.argument is not None and m.index is not None]
    ordered = [*from_kinks, *from_mismatches] if result.status == "nondifferentiable" else [
        *from_mismatches, *from_kinks]
    if ordered:
        return ordered[0]
    rng = np.random.default_rng(RANDOM_SEED)
    return Component(f"random direction (seed {RANDOM_SEED}) over all arguments",
                     tuple(rng.standard_normal(shape) for shape in shapes), None, None, None)


def _moved(x: np.ndarray, u: np.ndarray | None, t: Any) -> np.ndarray:
    if u is None:
        return x
    if isinstance(x, quad.QuadArray):  # the quad tier: x + t u formed in quad, the step converted exactly
        return quad.moved(x, u, quad.from_objects(np.asarray(t, dtype=object), x.hp_context))
    if np.count_nonzero(u) == 1:  # one element moves: leave the others untouched (and cheap at high precision)
        i = int(np.flatnonzero(u)[0])
        out = x.copy()
        out.flat[i] = x.flat[i] + u.flat[i] * t
        return out
    return x + u * t  # not t * u: mpf * ndarray formats the whole array into an error first


def _phi(f: Callable[..., Any], args: Sequence[np.ndarray], direction: Sequence[np.ndarray | None],
         convert: Callable[[np.ndarray], np.ndarray] | None) -> Callable[[Any], np.ndarray]:
    """t -> f(x + t u) flattened: in float64 when `convert` is None, else at the precision `convert` gives."""
    base = [x if convert is None else convert(x) for x in args]
    steps = [u if convert is None or u is None else convert(u) for u in direction]

    def phi(t: Any) -> np.ndarray:
        out = f(*(_moved(x, u, t) for x, u in zip(base, steps, strict=True)))
        if convert is None:
            return np.asarray(np.asarray(out).ravel(), dtype=float)
        context = getattr(base[0], "hp_context", None) if base else None
        return np.asarray(quad.objects_if_quad(out, context) if context is not None else out).ravel()

    return phi


def _quietly(call: Callable[[], Any]) -> Any:
    """call(), or None when f raises at this step (a step that leaves f's domain is no data point); warnings
    (overflow, invalid values) are expected at the ends of the ladder and silenced. An exception of the checker's
    own code raises blame.CheckerError: a missing point must be f's doing."""
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call()
    except Exception as error:  # the user's call boundary: classified, a checker bug is re-raised
        fault = blame.checker_fault(error)
        if fault is not None:
            raise blame.CheckerError(f"the step sweep: {fault}") from error
        return None


def _differences(psi: Callable[[Any], Any], steps: Sequence[Any], distance: Callable[[Any], float],
                 max_seconds: float) -> tuple[np.ndarray, np.ndarray, int, str]:
    """`distance` from the reference of the central and the right one-sided differences of psi at each step
    (NaN where psi fails or the step is skipped), the evaluations spent, and a note on skipped steps."""
    started = time.perf_counter()
    zero = _quietly(lambda: psi(0 * steps[0]))
    per_evaluation = time.perf_counter() - started
    stride = max(1, math.ceil(2 * len(steps) * per_evaluation / max_seconds))
    central, right = np.full(len(steps), np.nan), np.full(len(steps), np.nan)
    if stride > MAX_STRIDE:
        return central, right, 1, (f"one evaluation took {per_evaluation:.2g} s: the {2 * len(steps)} of the "
                                   f"ladder would exceed {max_seconds:g} s, so this curve is not drawn")
    for k in range(0, len(steps), stride):
        h = steps[k]
        plus, minus = _quietly(lambda h=h: psi(h)), _quietly(lambda h=h: psi(-h))
        if plus is None or minus is None:
            continue
        central[k] = distance((plus - minus) / (2 * h))
        if zero is not None:
            right[k] = distance((plus - zero) / h)
    note = f"every {stride}th step only (one evaluation took {per_evaluation:.2g} s)" if stride > 1 else ""
    return central, right, 1 + 2 * len(range(0, len(steps), stride)), note


def _gradient_along(result: Any, component: Component, ctx: Any) -> tuple[Any, float]:
    """<g, u> for the gradient under test: at high precision when it ran there (else float64), and in float64."""
    g64, g_hp, u = result.gradient, result.gradient_hp, component.direction
    if component.argument is not None:
        a, index = component.argument, component.index
        value64 = float(np.asarray(g64[a], dtype=float)[index])
        return (g_hp[a][index] if g_hp is not None else value64), value64
    value64 = float(sum(np.sum(np.asarray(g, dtype=float) * w) for g, w in zip(g64, u, strict=True)))
    if g_hp is None:
        return value64, value64
    return sum(np.sum(g * precision.to_hp(w, ctx)) for g, w in zip(g_hp, u, strict=True)), value64


def _tier_converter(result: Any, ctx: Any) -> Callable[[np.ndarray], np.ndarray]:
    """Float arrays as the check's tier takes them: quad arrays on the quad tier, else mpmath numbers."""
    convert = quad.to_quad if result.backend == "quad" and quad.available() else precision.to_hp
    return lambda x: convert(np.asarray(x, dtype=float), ctx)


def compute_sweep(f: Callable[..., Any], args: Sequence[np.ndarray], result: Any, *,
                  max_seconds: float = SWEEP_SECONDS) -> Sweep:
    """The sweep of the component `choose_component` picks, for a check `result` of f at `args`.

    Costs the reference derivative (5 to 13 evaluations of f, 23 in float64) and 2 * 61 + 1 evaluations per
    precision on the ladder, thinned to stay near `max_seconds` per precision.
    """
    args = tuple(np.asarray(x) for x in args)
    f = blame.user_code(f)  # where the user's calls begin, for _quietly's verdict on who raised
    component = choose_component(result, [x.shape for x in args])
    cotangent = np.asarray(result.cotangent, dtype=float).ravel()
    scale = max([1.0] + [float(np.max(np.abs(x))) for x in args if x.size])  # as the checker's Evaluator
    steps = ladder(scale)
    ctx = precision.context(result.digits)
    hp = bool(result.high_precision)

    to_hp = _tier_converter(result, ctx)

    if hp:
        d = differences.hp_derivative(_phi(f, args, component.direction, to_hp), ctx, scale=ctx.mpf(scale))
        v: np.ndarray = precision.to_hp(cotangent, ctx)  # the checker's arithmetic: mpmath numbers
    else:
        d = float64_differences.float64_derivative(_phi(f, args, component.direction, None), scale=scale)
        v = cotangent
    reference = ctx.mpf(np.dot(v, d.value))  # exact for a float64 reference too: every float is an mpf
    left = right = None
    if d.status == "nondifferentiable" and d.left is not None:
        left, right = float(np.dot(v, d.left)), float(np.dot(v, d.right))

    def distance(estimate: Any) -> float:  # at high precision: comparing adds no rounding of its own
        return float(abs(ctx.mpf(estimate) - reference))

    phi64 = _phi(f, args, component.direction, None)
    central64, right64, spent, note = _differences(lambda t: float(np.dot(cotangent, phi64(t))),
                                                   [float(h) for h in steps], distance, max_seconds)
    evaluations, notes = d.evaluations + spent, [f"float64 curve: {note}"] if note else []
    central_hp = right_hp = None
    if hp:
        phi_hp = _phi(f, args, component.direction, to_hp)
        central_hp, right_hp, spent, note = _differences(lambda t: np.dot(v, phi_hp(t)),
                                                         [ctx.mpf(float(h)) for h in steps], distance, max_seconds)
        evaluations += spent
        notes += [f"{result.digits}-digit curve: {note}"] if note else []
    tested, tested64 = _gradient_along(result, component, ctx)
    return Sweep(
        label=component.label, steps=steps, float64_error=central64, hp_error=central_hp,
        right_float64_error=right64, right_hp_error=right_hp, reference=float(reference),
        reference_error=float(np.dot(np.abs(cotangent), np.asarray(d.error, dtype=float))),
        reference_status=str(d.status), left=left, right=right,
        chosen_step=float(np.max(np.asarray(d.step, dtype=float))), gradient=float(tested),
        gradient_error=distance(tested), gradient64=tested64, gradient64_error=distance(tested64),
        tolerance=component.tolerance, high_precision=hp, digits=int(result.digits), evaluations=evaluations,
        notes=tuple(notes))
