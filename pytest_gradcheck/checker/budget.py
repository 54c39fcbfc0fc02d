"""How much a check may spend: evaluations of f and seconds of wall time, checked before every evaluation.

A check that reaches either limit stops where it stands with status ``budget_exceeded`` and lists what it
did check. The limit is checked between evaluations: one evaluation of f that never returns is not
interrupted (pytest-timeout is the tool for that).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

# A check in a test suite should not take minutes: past this, `auto` falls back to a float64 reference (see
# check.py) and explicit modes stop with budget_exceeded. max_seconds=math.inf removes the limit.
DEFAULT_MAX_SECONDS = 60.0


class BudgetExceeded(Exception):
    """Raised inside a check when it reaches its budget; the check turns it into a `budget_exceeded` status."""


@dataclass
class Budget:
    """The limits of one check_grad call (its per-op checks share the deadline)."""

    max_evaluations: int | None = None
    max_seconds: float = math.inf
    started: float = field(default_factory=time.perf_counter)

    @property
    def deadline(self) -> float:
        return self.started + self.max_seconds

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def remaining(self) -> float:
        return self.deadline - time.perf_counter()

    def charge(self, evaluations: int) -> None:
        """Before evaluation number `evaluations + 1`: raise BudgetExceeded if either limit is reached."""
        if self.max_evaluations is not None and evaluations >= self.max_evaluations:
            raise BudgetExceeded(f"max_evaluations={self.max_evaluations} reached")
        if time.perf_counter() > self.deadline:
            raise BudgetExceeded(f"max_seconds={self.max_seconds:g} passed ({self.elapsed():.1f} s)")


def validate(max_evaluations: object, max_seconds: object) -> str | None:
    """The error message for bad budget settings, naming the argument, or None."""
    if max_evaluations is not None and (not isinstance(max_evaluations, int) or isinstance(max_evaluations, bool)
                                        or max_evaluations < 1):
        return f"max_evaluations: expected an int >= 1 or None, got {max_evaluations!r}"
    if (not isinstance(max_seconds, int | float) or isinstance(max_seconds, bool) or math.isnan(max_seconds)
            or max_seconds <= 0):
        return f"max_seconds: expected a positive number of seconds (math.inf for no limit), got {max_seconds!r}"
    return None
