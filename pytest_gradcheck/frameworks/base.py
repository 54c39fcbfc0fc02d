"""What an adapter gives the checker about a framework (torch, JAX): float64 numpy copies of the arguments, f's
forward and the framework's own gradient as numpy functions, and the custom rules f's forward used.

The checker then runs unchanged on numpy functions (frameworks.check), the way complex arguments are checked as a
real check of their parts: an adapter only converts, records and restores.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from pytest_gradcheck.hp import blame

NumpyFunction = Callable[..., Any]


@dataclass(frozen=True)
class CustomRule:
    """One call of a custom rule (a torch.autograd.Function, a jax.custom_vjp function) during f's forward."""

    name: str  # the class or function name, e.g. "Softplus"
    locate: Callable[[], str]  # "file:line" of its definition, found when asked (reading a class's source is slow)
    inputs: tuple[np.ndarray, ...]  # float64 copies of the differentiable inputs it received, in order
    forward: NumpyFunction  # (*inputs) -> ndarray: the rule's forward in float64, the other inputs as received
    vjp: NumpyFunction  # (cotangent, *inputs) -> tuple of ndarrays: the rule's own backward, numpy in and out
    call_site: str = ""  # "file:line" of the call inside f, when known
    input_names: tuple[str, ...] = ()  # names of the differentiable inputs ("input0", ...), when known

    @property
    def location(self) -> str:
        """"file:line" of the rule's definition (computed once per class or function by the adapter)."""
        return self.locate()


@dataclass
class Prepared:
    """f and its arguments as the numpy checker sees them, with what the framework's own autograd says."""

    framework: str  # "torch", "jax": named in notes and in gradient_source ("torch.autograd", "jax.vjp")
    args: tuple[np.ndarray, ...]  # float64 CPU copies of the arguments
    f64: NumpyFunction  # (*np_args) -> ndarray: f's forward in float64 by the framework
    vjp: NumpyFunction  # (cotangent, *np_args) -> tuple of ndarrays: the framework's autograd gradient
    to_numpy: Callable[[NumpyFunction], NumpyFunction]  # a user's function of framework arrays, as a numpy one
    reference: NumpyFunction | None = None  # the numpy reference= function, when given
    gradient_source: str = ""  # how results name the framework's gradient ("" -> "<framework>.autograd")
    rules: list[CustomRule] = field(default_factory=list)  # the custom rules seen during f's forward, in order
    notes: list[str] = field(default_factory=list)  # what the adapter did or could not do (widened inputs, ...)
    # Called before a thorough check: a framework that runs f eagerly for the quick screen compiles it (JAX's jit)
    compile: Callable[[], Any] = field(default=lambda: None)
    # f64 at several points in one call (list of points, each one array per argument -> one output per point), when
    # the framework batches (JAX's vmap); the quick float64 screen evaluates its tables with it
    batch: Callable[[list[list[np.ndarray]]], Any] | None = None
    value: np.ndarray | None = None  # f64 at args, when the adapter has it already (its recording forward)
    # Records the custom rules (and notes on them) when a check first needs them, for an adapter whose recording
    # forward is costly (JAX's, with jit disabled); None once recorded, or when `rules` were recorded up front
    record: Callable[[], tuple[list[CustomRule], list[str]]] | None = None

    def custom_rules(self) -> tuple[list[CustomRule], list[str]]:
        """The custom rules f's forward used, recording them now if need be, and the notes of that recording
        (each returned once, to join the result's notes)."""
        if self.record is None:
            return self.rules, []
        self.rules, notes = self.record()
        self.record = None
        return self.rules, notes


class Adapter(Protocol):
    """One framework. `owns` is cheap and imports nothing; the rest may import the framework."""

    name: str

    def owns(self, args: Any) -> bool:
        """Whether any argument (one array, or a tuple of them) is this framework's array."""
        ...

    def prepare(self, f: Callable[..., Any], args: Any, reference: NumpyFunction | None) -> Prepared:
        """Validate (GradcheckUsageError naming the argument), convert, and record f's custom rules; called inside
        `state()`."""
        ...

    def state(self) -> contextlib.AbstractContextManager[None]:
        """The framework's global settings the check changes (JAX's x64, torch's grad mode and default dtype),
        restored on exit."""
        ...


def float64_only(framework: str, values: tuple[Any, ...]) -> None:
    """Framework code runs in float64 only: high-precision inputs (object or quad arrays) are a deliberate
    HPUnsupported, so that the checker falls back to a float64 reference with measured noise."""
    for value in values:
        plain = type(value) is np.ndarray and (value.dtype == np.float64 or value.dtype.kind in "biu")
        if not (plain or isinstance(value, float | int | np.float64)):  # quad arrays are an ndarray subclass
            raise blame.HPUnsupported(f"{framework} code runs in float64 only")


@contextlib.contextmanager
def nothing_to_restore() -> Iterator[None]:
    yield


class SharedPatch:
    """`owner.attribute` replaced while any thread records through it, restored when the last one stops.

    `wrap(original, current)` builds the replacement; it must call `current()` on every call and pass the call
    straight to `original` when that is None: only the thread inside `active(handler)` has a handler, so checks
    running in parallel threads (or other code calling the same method meanwhile) never see each other's calls,
    and overlapping patches cannot restore each other's replacement.
    """

    def __init__(self, owner: Any, attribute: str, wrap: Callable[[Any, Callable[[], Any]], Any]) -> None:
        self.owner, self.attribute, self.wrap = owner, attribute, wrap
        self._lock = threading.Lock()
        self._local = threading.local()
        self._users = 0
        self._original: Any = None

    def current(self) -> Any:
        """This thread's handler, or None outside `active`."""
        return getattr(self._local, "handler", None)

    @contextlib.contextmanager
    def active(self, handler: Any) -> Iterator[None]:
        with self._lock:
            if self._users == 0:
                self._original = self.owner.__dict__[self.attribute]
                setattr(self.owner, self.attribute, self.wrap(self._original, self.current))
            self._users += 1
        previous = self.current()
        self._local.handler = handler
        try:
            yield
        finally:
            self._local.handler = previous
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    setattr(self.owner, self.attribute, self._original)
