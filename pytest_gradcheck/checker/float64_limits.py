"""What a float64 reference can resolve, in words: the notes of a check whose reference is float64.

A float64 reference's error comes from f's noise (one evaluation's round-off, or more: float32 arithmetic, a
solver's tolerance, randomness), measured by `float64_differences`. More digits cannot help it; what helps is
an f that runs at high precision (or in float64 throughout). These notes say so, with the figures.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pytest_gradcheck.checker import verdict

__all__ = ["below_error_note", "limit_note", "noise_description", "unresolved_note"]

# One float64 evaluation of a well-conditioned f rounds to ~1e-16 of |f|, a few hundred ulps at most after many
# operations; noise beyond 1e-13 of |f| comes from something else inside f.
ROUND_OFF_SHARE = 1e-13
HELP = ("make f run at high precision (see the precision note for what kept it in float64) or compute in float64 "
        "throughout")


def noise_description(evaluator: Any) -> str:
    """'2.5e-07 of |f|, more than float64 round-off: ...?': f's measured noise relative to its size, and why."""
    size = float(np.max(np.abs(evaluator.value64), initial=0.0))
    noise = float(evaluator.float64_noise)
    if size == 0:
        return f"{noise:.1e} absolute"
    relative = noise / size
    if relative <= ROUND_OFF_SHARE:
        cause = "float64 round-off"
    else:
        cause = "more than float64 round-off: float32 or float16 arithmetic, a solver's tolerance or randomness inside?"
    return f"{relative:.1e} of |f|, {cause}"


def below_error_note(setup: Any, a: int, largest: float, error: float) -> str:
    """An argument's whole gradient is below the reference's error: how to see errors that small."""
    ev = setup.evaluator
    head = f"argument {a} ({setup.names[a]!r}): its gradient (largest element {largest:.1e}) is below the reference's "
    if ev.high_precision:
        return head + f"error ({error:.1e}) at {ev.ctx.dps} digits: errors this small cannot be seen; raise digits="
    return head + (f"error ({error:.1e}), a float64 reference limited by f's noise ({noise_description(ev)}): errors "
                   f"this small cannot be seen; {HELP}")


def unresolved_note(setup: Any, label: str, what: str, reference: float, error: float, tested: float) -> str:
    """A comparison whose reference is too uncertain for a verdict (`what`: which, e.g. "2 element(s), e.g.
    element (3,)", or "" for a projection): why, and what would help."""
    ev = setup.evaluator
    head = f"{label}: the reference is too uncertain to judge{' ' + what if what else ''}"
    if ev.high_precision:
        return head + f" (error estimate {error:.1e}): is f noisy or nondeterministic?"
    size = max(abs(reference), 1e-300)  # 1e-300: a zero reference reads as an unbounded relative error
    return head + (f": reference {reference:.6g} +- {error:.1e}, under test {tested:.6g}, they differ by "
                   f"{abs(tested - reference):.1e}, which the reference cannot resolve. f's float64 noise "
                   f"({noise_description(ev)}) limits the reference to {error / size:.0e} relative; {HELP}")


def limit_note(setup: Any, references: list[np.ndarray], errors: list[np.ndarray]) -> str | None:
    """A reference whose error, not rtol, sets the tolerance somewhere: the tolerance it used, and why (f's
    float64 noise; at high precision, digits f loses at the point, as log(cosh(x)) does for tiny x)."""
    ev, tol = setup.evaluator, setup.tol
    worst: tuple[float, int, tuple[int, ...], float] | None = None
    for a, (reference, error) in enumerate(zip(references, errors, strict=True)):
        if not error.size:
            continue
        size = verdict.error_scale(reference, verdict.scale_of(reference), tol)
        share = np.divide(tol.safety * error, size, out=np.zeros(size.shape), where=size > 0)
        index = tuple(int(k) for k in np.unravel_index(int(np.argmax(share)), share.shape))
        if worst is None or share[index] > worst[0]:
            worst = (float(share[index]), a, index, float(tol.safety * error[index]))
    if worst is None or worst[0] <= setup.formula_rtol:
        return None
    share, a, index, allowed = worst
    if ev.high_precision:
        return (f"the {ev.ctx.dps}-digit reference is limited by the digits f loses at this point: gradient errors "
                f"up to {share:.0e} relative cannot be seen (argument {a} ({setup.names[a]!r}), element {index}: "
                f"tolerance {allowed:.1e} from the reference's error, not rtol); more digits (digits=...) "
                f"resolve more")
    return (f"float64 reference limited by f's noise ({noise_description(ev)}): gradient errors up to "
            f"{share:.0e} relative cannot be seen (argument {a} ({setup.names[a]!r}), element {index}: "
            f"tolerance {allowed:.1e} from the reference's error, not rtol); {HELP}")
