"""Evaluating the user's function along a direction, at high precision when it allows, in float64 when not.

`Evaluator` decides once per check whether f is precision-generic: it runs f on high-precision inputs and
inspects the output; then it verifies with difference behaviour that no float64 buffer hides inside (an
output that is high precision but was computed from float64-rounded copies of the inputs). Directional
derivatives of f along u (the whole vector J u, so that every cotangent shares the evaluations) come from
`differences` (or `float64_differences` in the fallback), with their error estimates.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import mpmath
import numpy as np

from pytest_gradcheck.checker import consistency, differences, float64_differences, nonfinite
from pytest_gradcheck.checker.budget import Budget
from pytest_gradcheck.hp import array as hparray
from pytest_gradcheck.hp import blame, constants, dtype_questions, precision, quad
from pytest_gradcheck.hp.mpmath_warnings import call as call_hp

# The round-off probe evaluates f once more at 20 more digits: its result is 1e20 times more accurate, so the
# difference is the working evaluation's own error.
EXTRA_DIGITS = 20
# Round-off differs from point to point near x; ten times the measured level covers that spread.
NOISE_SAFETY = 10
# Same function: f's float64 value within this many ulps of (|float64 value| + |high-precision value|) of its
# high-precision value is accepted at once (sums of 1000 terms err by ~15 ulps at worst, scipy's special
# functions by a few); a larger difference is weighed against f's measured float64 noise.
SAME_FUNCTION_ULPS = 64
# ... and beyond this many standard deviations of that noise (NOISE_SAFETY times the 3-sigma bound of one
# evaluation), it is compared with the round-off f shows on its high-precision path computed with float64's
# 53-bit rounding (ill-conditioned code: a solve with a Hilbert matrix errs by cond * eps, smoothly in x).
SAME_FUNCTION_SIGMAS = NOISE_SAFETY * float64_differences.NOISE_BOUND
# float64's unit round-off emulated: 15 decimal digits are mpmath's 53 bits.
EMULATED_DIGITS = 15
# The round-off of two summation orders or LU implementations differs by a factor of ~10 either way; a
# difference 1000 times the emulated round-off is another function.
EMULATION_SLACK = 1000


# One evaluation of f on quad erring by more than this (relative, measured against mpmath at EXTRA_DIGITS more)
# is not quad's round-off (2**-113 = 1e-34, times a condition number) but a path through lower precision
# (a conversion numpy-quaddtype rounds to float64): the check moves to the mpmath tier.
QUAD_NOISE_LIMIT = 1e-24
F64_EPS = float(np.finfo(np.float64).eps)
# The round-off measurement evaluates f once on mpmath at EXTRA_DIGITS more; on the quad tier that evaluation is
# predicted to take this many times the quad probe's time (mpmath object arrays were 6 to 110 times slower on the
# benchmark corpus), and is skipped when the prediction exceeds MEASURE_SHARE of the time left in the budget.
MPMATH_SLOWDOWN = 60
MEASURE_SHARE = 0.25


class Evaluator:
    """f at the point `args`, perturbed along directions; counts every evaluation of f."""

    def __init__(self, f: Callable[..., Any], args: Sequence[np.ndarray], ctx: mpmath.MPContext,
                 value64: np.ndarray, budget: Budget | None = None, backend: str = "mpmath") -> None:
        self.f, self.args, self.ctx = f, tuple(args), ctx
        self.budget = Budget() if budget is None else budget
        self.probe_seconds = 0.0  # wall time of the one high-precision evaluation in _probe
        self.constants: list[str] = []  # float64 roundings of famous constants (np.pi) f mixes in
        self.value64 = np.asarray(value64, dtype=float).ravel()  # f(x) in float64, already computed by the caller
        self.value_hp: np.ndarray | None = None
        self.noise: Any = 0  # measured round-off of one high-precision evaluation, per output (measure_noise)
        self.evaluations = 0
        self.notes: list[str] = []
        self.float64_noise = 0.0  # fallback only: the largest estimated noise (std) of one evaluation of f
        # The direction of the precision checks and its derivative: fast mode's first projection reuses them.
        self.verified: tuple[Sequence[np.ndarray | None], differences.Derivative] | None = None
        self._memo: tuple[Sequence[np.ndarray | None], dict[Any, np.ndarray]] | None = None
        self._cotangent_hp: tuple[np.ndarray, np.ndarray] | None = None
        self._direction_hp: tuple[list[np.ndarray | None], list[np.ndarray | None]] | None = None
        self.backend = backend  # the tier f runs on: "quad" (numpy-quaddtype) or "mpmath"
        self.args_hp = self._tier_args()
        self.scale = max([1.0] + [float(np.max(np.abs(a))) for a in self.args if a.size])
        self.high_precision = False  # until the probe says otherwise (its same-function check calls f too)
        self.reads_dtype = False  # whether f read the dtype of its high-precision input in the probe
        self.high_precision, self.note = self._probe()
        if not self.high_precision and self.backend == "quad":  # what quad could not run, mpmath may
            self.switch_to_mpmath(self.note)

    def switch_to_mpmath(self, why: str) -> bool:
        """Leave the quad tier for the mpmath tier at the same precision (f did something quad cannot carry:
        `why`): probe f again there; whether it runs at high precision."""
        self.backend = "mpmath"
        self.args_hp, self.value_hp = self._tier_args(), None
        why = why.removeprefix("reference limited to float64 by ").removeprefix("reference limited to float64: ")
        self.high_precision, self.note = self._probe()
        self.notes.append(f"the quad tier could not carry f ({why}); the mpmath tier ran it"
                          if self.high_precision else f"the quad tier could not carry f ({why})")
        return self.high_precision

    @property
    def tier(self) -> str:
        """The reference's tier: "quad", "mpmath", or "float64" once the check fell back to float64."""
        return self.backend if self.high_precision else "float64"

    def _tier_args(self) -> tuple[np.ndarray, ...]:
        if self.backend == "quad":
            return tuple(quad.to_quad(a, self.ctx) for a in self.args)
        return tuple(precision.to_hp(a, self.ctx) for a in self.args)

    def _call(self, args: Sequence[Any]) -> Any:
        self.budget.charge(self.evaluations)
        self.evaluations += 1
        if self.high_precision:  # a warning mpmath raises as an error inside is no reason to fail
            return quad.objects_if_quad(call_hp(self.f, args), self.ctx)
        return self.f(*args)

    def _probe(self) -> tuple[bool, str]:
        self.budget.charge(self.evaluations)
        self.evaluations += 1
        started = time.perf_counter()
        with dtype_questions.recording() as asked:  # dtype branches of f (the same-function check)
            value, reason, found = precision.evaluate_hp_traced(self.f, self.args_hp, self.ctx)
        self.probe_seconds = time.perf_counter() - started
        if found:
            self.constants = sorted(found)
            self.notes.append(constants.describe(found))
        if reason is not None:
            return False, reason
        self.value_hp = np.asarray(value).ravel()  # phi(0) of every direction: saves one evaluation each
        self.reads_dtype = bool(asked)
        different = self._different_function(asked) or self._quad_unconfirmed()
        if different is not None:
            self.value_hp = None
            return False, different
        return True, ""

    def _quad_unconfirmed(self) -> str | None:
        """On the quad tier, f's value beyond float64 round-off of its float64 value is confirmed on mpmath (one
        more evaluation): quad's edges (a conversion numpy-quaddtype rounds, a result it gets wrong) must not
        pass for f. Why quad's value is not f's, or None."""
        if self.backend != "quad" or self.value_hp is None:
            return None
        hp = precision.to_float64(self.value_hp)
        if hp.shape != self.value64.shape:
            return None  # the same-function check names a shape change
        with np.errstate(invalid="ignore"):
            bound = SAME_FUNCTION_ULPS * F64_EPS * (np.abs(self.value64) + np.abs(hp))
            if not np.any(np.abs(self.value64 - hp) > bound):
                return None
        self.budget.charge(self.evaluations)
        self.evaluations += 1
        value, _ = precision.evaluate_hp(self.f, [precision.to_hp(a, self.ctx) for a in self.args], self.ctx)
        if value is None:
            return None  # nothing to confirm against: quad stands
        worst = differences_from(np.asarray(value, dtype=object).ravel(), self.value_hp, self.ctx)
        return None if worst <= QUAD_NOISE_LIMIT else f"f's value on quad differs from mpmath's by {worst:.1e} relative"

    def _different_function(self, asked: list[str]) -> str | None:
        """Why f's high-precision value is another function's (a dtype branch, a cutoff from np.finfo of its
        dtype), or None. Both are needed: f's code read the dtype of a high-precision array (`asked`, where it
        did; without that question nothing is compared and nothing spent: ill-conditioned float64 code, a solve
        with a Hilbert matrix, errs by 1e-8 relative, smoothly in x, and looks like another function by value
        alone), and a value beyond float64 round-off (`_beyond_roundoff`)."""
        assert self.value_hp is not None
        if not asked:
            return None
        hp = np.array([float(e) for e in self.value_hp.tolist()])
        if hp.shape != self.value64.shape:
            return f"f returns {hp.size} values on high-precision input but {self.value64.size} in float64"
        beyond = self._beyond_roundoff(hp)
        if beyond is None:
            return None
        k, difference, bound = beyond
        size = f"{difference / abs(hp[k]):.1e} relative" if hp[k] else f"{difference:.1e} absolute"
        return (f"f computes a different function on high-precision input (value differs by {size} at output "
                f"element {k}, beyond float64 round-off {bound:.1e}; it reads the dtype of a high-precision array "
                f"at {asked[0]})")

    def _beyond_roundoff(self, hp: np.ndarray) -> tuple[int, float, float] | None:
        """(element, |difference|, bound) where f's float64 value is furthest beyond float64 round-off of its
        high-precision value, or None. Within SAME_FUNCTION_ULPS of the magnitudes it is round-off at once;
        beyond, the bound grows to f's float64 noise (ECnoise along a random direction: 12 float64
        evaluations), then to the round-off of f's own path at 53 bits (one more evaluation), each spent only
        if the difference is still beyond."""
        eps = max(float(np.finfo(a.dtype).eps) for a in self.args) if self.args else float64_differences.F64_EPS
        difference = np.abs(self.value64 - hp)
        bound = SAME_FUNCTION_ULPS * eps * (np.abs(self.value64) + np.abs(hp))
        for widen in (lambda: SAME_FUNCTION_SIGMAS * self._float64_noise(),
                      lambda: EMULATION_SLACK * self._emulated_roundoff(hp)):
            if not np.any(difference > bound):
                return None
            bound = np.maximum(bound, widen())
        ratio = np.where(difference > bound, difference / np.where(bound > 0, bound, 1), 0.0)
        if not np.any(ratio):
            return None
        k = int(np.argmax(ratio))
        return k, float(difference[k]), float(bound[k])

    def _emulated_roundoff(self, hp: np.ndarray) -> np.ndarray:
        """|f at 53-bit precision - f at the working precision| per output: the round-off of f's own
        high-precision path at float64's precision (0 where that evaluation fails: no evidence of round-off)."""
        self.budget.charge(self.evaluations)
        self.evaluations += 1
        emulated = precision.build_context(EMULATED_DIGITS)
        value, _ = precision.evaluate_hp(self.f, [precision.to_hp(a, emulated) for a in self.args], emulated)
        if value is None:
            return np.zeros(hp.shape)
        low = np.array([float(e) for e in np.asarray(value).ravel().tolist()])
        return np.abs(low - hp) if low.shape == hp.shape else np.zeros(hp.shape)

    def _float64_noise(self) -> np.ndarray:
        """f's float64 noise per output near x (ECnoise on both sides along a fixed random direction); the
        moved points are cast back to each argument's dtype, so f sees the dtypes it was given."""
        rng = np.random.default_rng(0)  # a fixed direction: the decision is reproducible
        direction = [rng.standard_normal(a.shape) for a in self.args]

        def phi(t: float) -> np.ndarray:
            moved = [(x + t * u).astype(x.dtype) for x, u in zip(self.args, direction, strict=True)]
            return np.asarray(self._call(moved), dtype=float).ravel()

        return float64_differences.float64_noise(phi, self.value64, self.scale)[0]  # _call counts the evaluations

    def fall_back(self, note: str) -> None:
        """Use the float64 reference from now on (f runs at high precision, but the check cannot afford it)."""
        self.high_precision, self.note, self.value_hp = False, note, None

    def measure_noise(self, direction: Sequence[np.ndarray | None]) -> None:
        """Round-off of one evaluation near x, measured: f at the first step along u, at the working precision
        and at EXTRA_DIGITS more. Every later derivative bounds its round-off by at least NOISE_SAFETY times it."""
        if not self.high_precision:
            return
        predicted = self.probe_seconds * (MPMATH_SLOWDOWN if self.backend == "quad" else 1)
        if predicted > MEASURE_SHARE * self.budget.remaining():
            self.notes.append(f"round-off of one evaluation not measured: f at {self.ctx.dps + EXTRA_DIGITS} digits "
                              f"on mpmath would take ~{predicted:.0f} s of the budget; its assumed bound stands")
            return
        step = differences.hp_steps(self.ctx, self.scale)[0]
        self._memo = (direction, {})  # phi at this step is also the first point of the derivative along u
        working = self.phi(direction)(step)
        fine = precision.context(self.ctx.dps + EXTRA_DIGITS)
        base = [precision.to_hp(x, fine) for x in self.args]
        moved = [x if u is None else x + precision.to_hp(u, fine) * fine.mpf(step)
                 for x, u in zip(base, direction, strict=True)]
        try:
            reference = np.asarray(self._call(moved)).ravel()
        except Exception as exc:  # the user's call boundary: f may run on quad but not on mpmath (a float64
            fault = blame.checker_fault(exc)  # buffer written in place): round-off keeps its assumed bound
            if fault is not None:
                raise blame.CheckerError(f"measuring the round-off of f: {fault}") from exc
            self.notes.append(f"round-off of one evaluation not measured: f cannot run at {fine.dps} digits on "
                              f"mpmath ({precision.describe_failure(exc)}); its assumed bound stands")
            return
        error = [abs(fine.mpf(a) - fine.mpf(b)) for a, b in zip(working, reference, strict=True)]
        # f non-finite at this step (sqrt of a component the step made negative): nothing measured, and a nan
        # must not become every later derivative's error bound; those derivatives name the step themselves
        error = [e if nonfinite.finite(e) else fine.mpf(0) for e in error]
        self.noise = np.array([self.ctx.mpf(NOISE_SAFETY * e) for e in error], dtype=object)
        worst = max((float(e / abs(r)) for e, r in zip(error, reference, strict=True) if r and nonfinite.finite(r)),
                    default=0.0)
        if self.backend != "quad" or worst <= QUAD_NOISE_LIMIT:
            return
        if self.reads_dtype:  # another branch on mpmath
            self._leave_quad(direction, f"f reads its input's dtype and its value at higher precision differs by "
                                        f"{worst:.1e} relative: the round-off of its quad evaluation is unmeasurable")
        elif _rounded_to_float64(working, reference):
            self._leave_quad(direction, f"its value on quad is a float64 number, {worst:.1e} relative from f's value "
                                        "at higher precision: f rounds through float64 on quad")

    def _leave_quad(self, direction: Sequence[np.ndarray | None], why: str, verify: bool = False) -> None:
        """switch_to_mpmath in the middle of the precision checks: they run again on the mpmath tier."""
        self._memo = None
        if self.switch_to_mpmath(why):
            self.measure_noise(direction)
            if verify:
                self.verify_no_float64_buffer(direction)

    def verify_no_float64_buffer(self, direction: Sequence[np.ndarray | None]) -> None:
        """Compare tiny-step and float64-visible-step derivatives; fall back to float64 if they disagree."""
        if not self.high_precision:
            return
        phi = self.phi(direction)
        tiny = differences.hp_derivative(phi, self.ctx, scale=self.scale, phi0=self.value_hp, noise=self.noise)
        if tiny.status != "ok":
            return
        check = consistency.hp_consistency(phi, self.ctx, scale=self.scale, reference=tiny)
        if not check.ok and check.conclusive and self.backend == "quad":
            self._leave_quad(direction, f"a float64 buffer on the quad tier: {check.reason}", verify=True)
            return
        if not check.ok and check.conclusive:
            self.high_precision = False
            self.note = ("f returns high-precision numbers but passes through float64 on the way (its derivative "
                         f"at tiny steps disagrees with float64-visible steps: {check.reason})")
        else:
            self.verified = (direction, tiny)
        self._memo = None

    def cotangent_hp(self, cotangent: np.ndarray) -> np.ndarray:
        """The check's cotangent at high precision (a plain object array), converted once (a flattened view of
        the same cotangent gets the same numbers, flattened)."""
        root = cotangent if cotangent.base is None else cotangent.base
        if self._cotangent_hp is None or self._cotangent_hp[0] is not root:
            self._cotangent_hp = (root, precision.to_hp(root, self.ctx).view(np.ndarray))
        return self._cotangent_hp[1].reshape(cotangent.shape)

    def direction_hp(self, direction: Sequence[np.ndarray | None]) -> list[np.ndarray | None]:
        """The direction's arrays at high precision (the last direction converted is remembered: the
        derivative along it and the gradient's projection on it share the conversion)."""
        if self._direction_hp is not None and _same(direction, self._direction_hp[0]):
            return self._direction_hp[1]
        converted = [None if u is None else precision.to_hp(u, self.ctx) for u in direction]
        self._direction_hp = (list(direction), converted)
        return converted

    def phi(self, direction: Sequence[np.ndarray | None]) -> Callable[[Any], np.ndarray]:
        """t -> f(x + t u) flattened; u has one array per argument (None: that argument is held fixed)."""
        if self.high_precision and self.backend == "quad":
            return self._quad_phi(direction)
        if self.high_precision:
            base, steps = self.args_hp, self.direction_hp(direction)
        else:
            base, steps = self.args, list(direction)

        # A unit direction (full mode) moves one element: recompute just that one, not the whole x + t u.
        single = [None if u is None or np.count_nonzero(u) != 1 else int(np.flatnonzero(u)[0]) for u in direction]

        scaled: dict[Any, np.ndarray] = {}  # |t| u per argument: phi(-t) reuses phi(t)'s (rounding is symmetric)

        def moved(x: np.ndarray, u: np.ndarray | None, i: int | None, t: Any) -> np.ndarray:
            if u is None:
                return x
            if i is None and self.high_precision:  # plain object arithmetic: every element is the context's
                size = -t if t < 0 else t
                key = (id(u), size)
                if key not in scaled:
                    scaled[key] = u.view(np.ndarray) * np.asarray(size, dtype=object)
                step = scaled[key]
                return hparray.hp_view(x.view(np.ndarray) - step if t < 0 else x.view(np.ndarray) + step, self.ctx)
            if i is None:
                return x + u * t  # not t * u: mpf * ndarray formats the whole array into an error first
            out = x.copy()
            out.flat[i] = x.flat[i] + u.flat[i] * t
            return out

        memo = self._memo[1] if self._memo is not None and _same(direction, self._memo[0]) else None

        def phi(t: Any) -> np.ndarray:
            if memo is not None and t in memo:
                return memo[t]
            out = np.asarray(self._call([moved(x, u, i, t) for x, u, i in zip(base, steps, single, strict=True)]))
            out = out.ravel() if self.high_precision else np.asarray(out, dtype=float).ravel()
            if memo is not None:
                memo[t] = out
            return out

        return phi

    def _quad_phi(self, direction: Sequence[np.ndarray | None]) -> Callable[[Any], np.ndarray]:
        """phi on the quad tier: x + t u formed in quad (t converted once per step), f's value as ctx's numbers."""
        steps = [None if u is None else quad.to_quad(u, self.ctx) for u in direction]
        memo = self._memo[1] if self._memo is not None and _same(direction, self._memo[0]) else None

        def phi(t: Any) -> np.ndarray:
            if memo is not None and t in memo:
                return memo[t]
            step = quad.from_objects(np.asarray(t, dtype=object), self.ctx)
            moved = [x if u is None else quad.moved(x, u, step) for x, u in zip(self.args_hp, steps, strict=True)]
            out = np.asarray(self._call(moved)).ravel()
            if memo is not None:
                memo[t] = out
            return out

        return phi

    def derivative(self, direction: Sequence[np.ndarray | None]) -> differences.Derivative:
        """J u with its error estimate: central differences at high precision or, in the fallback, float64."""
        if self.verified is not None and self.high_precision and _same(direction, self.verified[0]):
            return self.verified[1]
        phi = self.phi(direction)
        if self.high_precision:
            return differences.hp_derivative(phi, self.ctx, scale=self.scale, phi0=self.value_hp, noise=self.noise)
        result = float64_differences.float64_derivative(phi, scale=self.scale, phi0=self.value64)
        self.float64_noise = max(self.float64_noise, float(np.max(result.noise, initial=0.0)))
        return result

    def quick_derivative(self, direction: Sequence[np.ndarray | None], step: Any = None) -> differences.Derivative:
        """J u from 3 high-precision evaluations, for auto's screen (differences.hp_quick_derivative); `step`
        replaces the first of hp_steps."""
        return differences.hp_quick_derivative(self.phi(direction), self.ctx, scale=self.scale, phi0=self.value_hp,
                                               step=step)

    def richardson_derivative(self, direction: Sequence[np.ndarray | None]) -> differences.Derivative:
        """J u from 6 high-precision evaluations at a larger step, its round-off ~eps^(4/5) instead of ~eps^(2/3)
        of |phi| (differences.hp_richardson_derivative): the screen of check_jvp on quad."""
        return differences.hp_richardson_derivative(self.phi(direction), self.ctx, scale=self.scale,
                                                    phi0=self.value_hp)

    def unit(self, argument: int, flat_index: int) -> list[np.ndarray | None]:
        """The direction e_i of one element of one argument."""
        u = np.zeros(self.args[argument].shape)
        u.flat[flat_index] = 1.0
        return [u if a == argument else None for a in range(len(self.args))]



def _rounded_to_float64(values: Any, reference: Any) -> bool:
    """Whether every finite value is the float64 number nearest its reference (f at higher precision): what
    a quad evaluation that rounds through float64 gives, and round-off at quad's precision (a cancellation
    included) does not."""
    pairs = [(v, r) for v, r in zip(np.asarray(values).ravel().tolist(), np.asarray(reference).ravel().tolist(),
                                    strict=True) if nonfinite.finite(v) and nonfinite.finite(r)]
    return bool(pairs) and all(v == float(v) == float(r) for v, r in pairs)


def differences_from(reference: np.ndarray, values: np.ndarray, ctx: Any) -> float:
    """The largest |value - reference| relative to the largest |reference| (0 when all are zero or not
    finite), over two flat object arrays of numbers of any context."""
    pairs = [(ctx.mpf(r), ctx.mpf(v)) for r, v in zip(reference.tolist(), values.tolist(), strict=True)
             if nonfinite.finite(r) and nonfinite.finite(v)]
    largest = max((abs(r) for r, _ in pairs), default=0)
    if not largest:
        return 0.0
    return float(max(abs(v - r) for r, v in pairs) / largest)


def _same(a: Sequence[np.ndarray | None], b: Sequence[np.ndarray | None]) -> bool:
    """The same direction: the very same arrays (directions are never modified after they are drawn)."""
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))
