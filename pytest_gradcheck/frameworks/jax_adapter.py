"""The JAX adapter: check_grad on JAX arrays, with `jax.vjp` (and so the `jax.custom_vjp` rules inside f) as the
gradient under test, reduced to a check of numpy functions in float64 on the CPU.

- The point: each JAX array argument as a float64 numpy array (float32 ones widened, with a note); integer,
  complex and non-finite arrays are usage errors naming the argument.
- The functions: f and `jax.vjp` of f called on float64 JAX arrays on the CPU, their values back as numpy. They
  run in float64 only: on high-precision inputs they raise `HPUnsupported`, so the checker's float64 path
  (noise-aware differences, tolerances from measured round-off) is the reference unless `reference=` gives a
  numpy implementation that runs at high precision.
- The settings: every call of the check runs inside `float64_on_cpu`, which enables `jax_enable_x64` and makes
  the CPU the default device, and restores both afterwards, on error too.
- The custom rules, when a check needs them one by one (a failure, per_op="custom"): f runs once more with jit
  disabled and `jax.custom_vjp.__call__` wrapped, which records every custom_vjp function f calls with the
  concrete inputs it received (nested ones and those inside `lax.scan` too: with jit disabled they run eagerly).
  Each is then checked on its own at those inputs: its VJP (its fwd and bwd, through `jax.vjp`) against
  differences of its primal function. A call on traced values (inside `jax.vmap` or a `jax.grad` within f) cannot
  be recorded concretely: it is named in a note, unchecked.
  JAX's built-in ops are trusted. The wrapper records only the calls of the thread that runs the recording
  forward (frameworks.base.SharedPatch), so checks in parallel threads do not record each other's calls.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_gradcheck.checker.inputs import GradcheckUsageError, argument_names, describe
from pytest_gradcheck.frameworks.base import CustomRule, Prepared, SharedPatch
from pytest_gradcheck.hp import blame

NAME = "jax"
FLOAT64_ONLY = "JAX computes in float64 at most (no quad or mpmath numbers)"
# Each custom_vjp function is checked at most at this many of the calls f makes to it (a rule inside a scan is
# called once per step); the others are counted in a note.
CALLS_PER_RULE = 2


def loaded() -> bool:
    """Whether jax has been imported (the adapter never imports it for a check that does not involve it)."""
    return "jax" in sys.modules


def is_array(value: Any) -> bool:
    """Whether `value` is a JAX array (False without importing jax when it is not loaded)."""
    if not loaded():
        return False
    import jax

    return isinstance(value, jax.Array)


def claims(args: Any) -> bool:
    """Whether a check with these arguments (one array or a tuple) is JAX's: any of them is a JAX array."""
    values = args if isinstance(args, tuple) else (args,)
    return any(is_array(a) for a in values)


@contextlib.contextmanager
def float64_on_cpu() -> Iterator[None]:
    """x64 enabled and the CPU the default device for the block; the user's x64 flag restored afterwards, on
    error too. The global flag is set and so is the thread's own (a check called inside the user's
    `jax.enable_x64(False)` block runs in float64 too); the thread's settings are scoped by jax itself."""
    import jax

    previous = bool(jax.config.jax_enable_x64)
    jax.config.update("jax_enable_x64", True)
    try:
        with _thread_x64(jax), jax.default_device(jax.devices("cpu")[0]):
            yield
    finally:
        jax.config.update("jax_enable_x64", previous)


def _thread_x64(jax: Any) -> contextlib.AbstractContextManager[Any]:
    """x64 for this thread: `jax.enable_x64(True)` (newer jax), `jax.experimental.enable_x64()` (older)."""
    if callable(getattr(jax, "enable_x64", None)):
        return jax.enable_x64(True)
    import jax.experimental

    scoped = getattr(jax.experimental, "enable_x64", None)
    return scoped() if callable(scoped) else contextlib.nullcontext()


def to_numpy(f: Callable[..., Any], args: Any) -> tuple[tuple[np.ndarray, ...], list[str]]:
    """The arguments as float64 numpy arrays (JAX arrays and numpy float arrays; one array means one argument),
    and notes on what was widened; GradcheckUsageError names a bad argument."""
    if isinstance(args, list):
        raise GradcheckUsageError(f"args: got {describe(args)}; a list is not unpacked into arguments: pass "
                                  "check_grad(f, tuple(args)) for one argument per array")
    values = args if isinstance(args, tuple) else (args,)
    if not values:
        raise GradcheckUsageError("args: at least one argument is needed to check a gradient")
    names = argument_names(f, len(values))
    out, widened = [], []
    for i, value in enumerate(values):
        array = _as_numpy(value, f"args[{i}] ({names[i]!r})")
        if array.dtype != np.float64:
            widened.append(f"{names[i]!r} ({array.dtype})")
        out.append(array.astype(np.float64))
    notes = [f"JAX check in float64 on the CPU: {', '.join(widened)} widened to float64"] if widened else []
    return tuple(out), notes


def _as_numpy(value: Any, where: str) -> np.ndarray:
    """One argument as a numpy float array, or GradcheckUsageError naming it."""
    if not (is_array(value) or isinstance(value, np.ndarray)):
        raise GradcheckUsageError(f"{where}: expected a JAX array (or a numpy float array), got {describe(value)}; "
                                  "pass jnp.asarray(...)")
    array = np.asarray(value)
    if array.dtype.kind != "f" or array.dtype.itemsize < 4:
        raise GradcheckUsageError(f"{where}: expected a float32 or float64 array, got dtype {array.dtype}; "
                                  "convert explicitly (nothing is coerced): x.astype(jnp.float32)")
    finite = np.isfinite(array)
    if not finite.all():
        bad = tuple(int(k) for k in np.argwhere(~finite)[0])
        raise GradcheckUsageError(f"{where}: non-finite input {array[bad].item()!r} at element {bad}; a gradient "
                                  "is checked at a finite point")
    return array


def _jax_inputs(xs: tuple[Any, ...]) -> list[Any]:
    """float64 numpy points as JAX arrays; high-precision points (quad, mpmath) are refused deliberately, so that
    the checker takes its float64 path."""
    import jax.numpy as jnp

    if not all(_float_point(x) for x in xs):
        raise blame.HPUnsupported(FLOAT64_ONLY)
    return [jnp.asarray(x) for x in xs]


def _float_point(x: Any) -> bool:
    """A plain float64 or float32 numpy array or scalar (a scalar f's cotangent), not an array of the
    high-precision tiers: a quad array is a subclass that reports float64."""
    if type(x) in (np.float64, np.float32):
        return True
    return type(x) is np.ndarray and x.dtype in (np.dtype(np.float64), np.dtype(np.float32))


def numpy_forward(f: Callable[..., Any]) -> tuple[Callable[..., np.ndarray], Lazy]:
    """f on float64 numpy points: its value as a numpy array (call inside `float64_on_cpu`), and the switch that
    compiles it."""
    import jax

    run = Lazy(f, jax.jit(f))

    def forward(*xs: np.ndarray) -> np.ndarray:
        return np.asarray(run(*_jax_inputs(xs)))

    _named_like(forward, f)
    return forward, run


def numpy_batch(f: Callable[..., Any]) -> Callable[[list[list[np.ndarray]]], list[np.ndarray]]:
    """f at several float64 points in one call (`jax.vmap`, run eagerly: one dispatch per op for all the points),
    one numpy output per point; it raises when f does not batch (the caller then evaluates point by point)."""
    import jax

    batched = jax.vmap(f)

    def batch(points: list[list[np.ndarray]]) -> list[np.ndarray]:
        stacked = tuple(np.stack([point[a] for point in points]) for a in range(len(points[0])))
        return list(np.asarray(batched(*_jax_inputs(stacked))))

    return batch


def numpy_vjp(f: Callable[..., Any]) -> tuple[Callable[..., tuple[np.ndarray, ...]], Lazy]:
    """`jax.vjp` of f as the checker's vjp(cotangent, *xs): the custom rules inside f are what it runs; and the
    switch that compiles it."""
    run = Lazy(functools.partial(pullback, f), functools.partial(jitted_pullback(), f))

    def vjp(cotangent: np.ndarray, *xs: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(np.asarray(c, dtype=np.float64) for c in run(*_jax_inputs((cotangent, *xs))))

    return vjp, run


def pullback(function: Callable[..., Any], cotangent: Any, *inputs: Any) -> Any:
    """`jax.vjp(function, *inputs)`'s cotangents for `cotangent`, flat over the output's leaves end to end (one
    array's shape, or a pytree's), each piece cast to its leaf's dtype."""
    import jax

    value, back = jax.vjp(function, *inputs)
    leaves, tree = jax.tree_util.tree_flatten(value)
    flat, pieces, start = cotangent.ravel(), [], 0
    for leaf in leaves:
        pieces.append(flat[start:start + leaf.size].reshape(leaf.shape).astype(leaf.dtype))
        start += leaf.size
    return back(jax.tree_util.tree_unflatten(tree, pieces))


@functools.cache
def jitted_pullback() -> Callable[..., Any]:
    """`pullback` compiled, the function static: a check of the same f again reuses the compilation."""
    import jax

    return jax.jit(pullback, static_argnums=0)


class Lazy:
    """A function run eagerly (op by op) until `compile()`, then compiled when it traces (an evaluation costs
    microseconds, not a dispatch per op; the compilation, ~50 ms per function, is cached by jax for the same f),
    else still eagerly (Python control flow on values, numpy calls on its inputs). A passing quick screen takes
    ~15 evaluations, fewer than a compilation is worth; the thorough check takes hundreds and compiles first. The
    first compiled call decides, and the user's own error, if any, is the plain call's."""

    def __init__(self, plain: Callable[..., Any], jitted: Callable[..., Any]) -> None:
        self.plain, self.jitted = plain, jitted
        self.chosen: Callable[..., Any] | None = plain

    def compile(self) -> None:
        """Compile at the next call (when it traces)."""
        if self.chosen is self.plain:
            self.chosen = None

    def __call__(self, *inputs: Any) -> Any:
        if self.chosen is not None:
            return self.chosen(*inputs)
        try:
            value = self.jitted(*inputs)
        except Exception:  # not traceable: the plain function, whose own errors are the user's to see
            self.chosen = self.plain
        else:
            self.chosen = self.jitted
            return value
        return self.plain(*inputs)  # outside the handler: its error is not chained to the tracing one


def _named_like(wrapper: Callable[..., Any], f: Callable[..., Any]) -> None:
    """The wrapper reports f's name and signature (argument names in messages)."""
    wrapper.__qualname__ = getattr(f, "__qualname__", getattr(f, "__name__", "f"))
    wrapper.__name__ = getattr(f, "__name__", "f")
    with contextlib.suppress(TypeError, ValueError):
        wrapper.__signature__ = inspect.signature(f)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class CustomCall:
    """One call f made to a `jax.custom_vjp` function, with the concrete inputs it received (positional)."""

    rule: Any  # the custom_vjp function (its .fun, .fwd, .bwd, .nondiff_argnums)
    args: tuple[Any, ...]
    site: str = ""  # file:line of the call in the user's code


def rule_name(rule: Any) -> str:
    """A custom_vjp function's name, as its definition spells it."""
    return str(getattr(rule, "__qualname__", None) or getattr(rule.fun, "__qualname__", repr(rule)))


def rule_location(rule: Any) -> str:
    """file:line of a custom_vjp function's bwd rule (the code a failing check blames), else of its function."""
    for function in (rule.bwd, rule.fun):
        target = inspect.unwrap(getattr(function, "func", function))  # a functools.partial: its function
        code = getattr(target, "__code__", None)
        if code is not None:
            return f"{code.co_filename}:{code.co_firstlineno}"
    return "<unknown>"


def record_custom_calls(f: Callable[..., Any], xs: tuple[np.ndarray, ...]) -> tuple[list[CustomCall], list[str]]:
    """The custom_vjp calls f makes at the float64 point `xs`, in call order, from one run of f with jit disabled
    and `custom_vjp.__call__` wrapped (call inside `float64_on_cpu`); notes name calls that could not be
    recorded (on traced values, or with keyword-only inputs) and a run that raised."""
    import jax
    from jax import custom_derivatives

    calls: list[CustomCall] = []
    unrecorded: list[str] = []

    def record(rule: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        positional = _positional(rule, args, kwargs)
        if positional is not None and not any(isinstance(leaf, jax.core.Tracer)
                                              for leaf in jax.tree_util.tree_leaves(positional)):
            calls.append(CustomCall(rule, positional, _call_site()))
        else:
            unrecorded.append(rule_name(rule))

    try:
        with _recording(custom_derivatives.custom_vjp).active(record), jax.disable_jit():
            f(*_jax_inputs(xs))
    except Exception as error:  # the user's code, run with jit disabled: no per-op rows, the note says why
        return [], [f"per-op checks unavailable: f raised with jit disabled ({blame.describe(error)})"]
    notes = [f"custom_vjp function {name} was called on traced values (inside vmap, grad or a transformation "
             "within f): that call is not checked on its own" for name in dict.fromkeys(unrecorded)]
    return calls, notes


def _wrap_call(original: Any, current: Callable[[], Any]) -> Any:
    """custom_vjp.__call__, telling this thread's recorder of each call first, if it has one."""

    def call(rule: Any, *args: Any, **kwargs: Any) -> Any:
        recorder = current()
        if recorder is not None:
            recorder(rule, args, kwargs)
        return original(rule, *args, **kwargs)

    return call


@functools.cache
def _recording(custom_vjp: type) -> SharedPatch:
    """The shared patch of custom_vjp.__call__ (one per process: jax is imported when the first check needs it)."""
    return SharedPatch(custom_vjp, "__call__", _wrap_call)


def _call_site() -> str:
    """file:line of the innermost frame of the user's code calling into a custom_vjp function (not jax's, not
    the checker's, not the standard library's)."""
    frame = inspect.currentframe()
    while frame is not None:
        if blame.owner(frame) == "user" and blame.package_of(frame) not in ("jax", "jaxlib"):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return ""


def _positional(rule: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
    """The call's inputs as positional arguments of the rule's function (None: they cannot be)."""
    if not kwargs:
        return args
    try:
        bound = inspect.signature(rule.fun).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return None
    bound.apply_defaults()
    return tuple(bound.args) if not bound.kwargs else None


def custom_rule(call: CustomCall) -> CustomRule | None:
    """The check of one recorded call, or None when it has no differentiable input."""
    import jax

    rule = call.rule
    names = argument_names(rule.fun, len(call.args))
    flat: list[list[Any]] = []
    treedefs, slots, labels = [], [], []
    for i, arg in enumerate(call.args):
        leaves, treedef = jax.tree_util.tree_flatten(arg)
        flat.append(leaves)
        treedefs.append(treedef)
        if i in tuple(rule.nondiff_argnums):
            continue
        for k, leaf in enumerate(leaves):
            if (is_array(leaf) or isinstance(leaf, np.ndarray)) and np.asarray(leaf).dtype.kind == "f":
                slots.append((i, k))
                labels.append(names[i] if len(leaves) == 1 else f"{names[i]}[{k}]")
    if not slots:
        return None

    def rebuilt(values: list[Any]) -> list[Any]:
        leaves = [list(ls) for ls in flat]
        for (i, k), value in zip(slots, values, strict=True):
            leaves[i][k] = value
        return [jax.tree_util.tree_unflatten(t, ls) for t, ls in zip(treedefs, leaves, strict=True)]

    inputs = tuple(np.asarray(flat[i][k], dtype=np.float64) for i, k in slots)
    forward = _rule_forward(rule, rebuilt)
    return CustomRule(name=rule_name(rule), locate=functools.partial(rule_location, rule), inputs=inputs,
                      forward=forward, vjp=_rule_vjp(rule, rebuilt), call_site=call.site,
                      input_names=tuple(_identifiers(labels)))


def _identifiers(labels: list[str]) -> list[str]:
    """Parameter names for the labels (a pytree leaf 'params[1]' as 'params_1')."""
    return [label.replace("[", "_").replace("]", "") for label in labels]


def _rule_forward(rule: Any, rebuilt: Callable[[list[Any]], list[Any]]) -> Callable[..., np.ndarray]:
    """The rule's primal function (not its fwd) on float64 points, its outputs as one numpy array. Not compiled:
    a rule's closure is new at every check, and its few evaluations cost less than a compilation."""

    def forward(*xs: np.ndarray) -> np.ndarray:
        return _flat_output(rule.fun(*rebuilt(_jax_inputs(xs))))

    forward.__qualname__ = rule_name(rule)
    return forward


def _flat_output(value: Any) -> np.ndarray:
    """A rule's output as one float64 numpy array: one array as it is, a pytree's leaves raveled end to end."""
    import jax

    leaves = jax.tree_util.tree_leaves(value)
    if len(leaves) == 1:
        return np.asarray(leaves[0])
    return np.concatenate([np.asarray(leaf, dtype=np.float64).ravel() for leaf in leaves])


def _rule_vjp(rule: Any, rebuilt: Callable[[list[Any]], list[Any]]) -> Callable[..., tuple[np.ndarray, ...]]:
    """`jax.vjp` of the custom_vjp function itself (its fwd and bwd), the cotangent split over its outputs."""

    def vjp(cotangent: np.ndarray, *xs: np.ndarray) -> tuple[np.ndarray, ...]:
        cotangents = pullback(lambda *d: rule(*rebuilt(list(d))), *_jax_inputs((np.asarray(cotangent), *xs)))
        return tuple(np.asarray(c, dtype=np.float64) for c in cotangents)

    return vjp


def custom_rules(calls: list[CustomCall]) -> tuple[list[CustomRule], list[str]]:
    """The rules to check, in call order: each custom_vjp function at its first CALLS_PER_RULE calls; notes
    count the calls left out and name the rules without a differentiable input."""
    rules: list[CustomRule] = []
    seen: dict[Any, int] = {}
    notes: list[str] = []
    for call in calls:
        seen[call.rule] = seen.get(call.rule, 0) + 1
        if seen[call.rule] > CALLS_PER_RULE:
            continue
        rule = custom_rule(call)
        if rule is None:
            notes.append(f"custom_vjp function {rule_name(call.rule)} has no float array input to differentiate")
        else:
            rules.append(rule)
    notes += [f"custom_vjp function {rule_name(r)} was called {n} times: checked at its first {CALLS_PER_RULE} calls"
              for r, n in seen.items() if n > CALLS_PER_RULE]
    return rules, notes


def numpy_function(function: Callable[..., Any]) -> Callable[..., Any]:
    """A user's function of JAX arrays (a grad= or vjp= written in JAX) on float64 numpy points: its arrays
    (one, or a tuple or list of them) back as float64 numpy arrays."""

    def on_numpy(*xs: np.ndarray) -> Any:
        value = function(*_jax_inputs(xs))
        if isinstance(value, tuple | list):
            return tuple(np.asarray(v, dtype=np.float64) for v in value)
        return np.asarray(value, dtype=np.float64)

    _named_like(on_numpy, function)
    return on_numpy


class JaxAdapter:
    """check_grad on JAX arrays (see the module's docstring)."""

    name = NAME

    def owns(self, args: Any) -> bool:
        return claims(args)

    def state(self) -> contextlib.AbstractContextManager[None]:
        return float64_on_cpu()

    def prepare(self, f: Callable[..., Any], args: Any, reference: Callable[..., Any] | None) -> Prepared:
        xs, notes = to_numpy(f, args)
        (forward, run_forward), (vjp, run_vjp) = numpy_forward(f), numpy_vjp(f)
        return Prepared(framework=NAME, args=xs, f64=forward, vjp=vjp, to_numpy=numpy_function,
                        reference=reference, gradient_source="jax.vjp", notes=notes, batch=numpy_batch(f),
                        compile=lambda: (run_forward.compile(), run_vjp.compile()),
                        record=functools.partial(record_rules, f, xs))


def record_rules(f: Callable[..., Any], xs: tuple[np.ndarray, ...]) -> tuple[list[CustomRule], list[str]]:
    """The custom rules to check (custom_rules of the recorded calls) and the notes of both. Run when
    a check needs them: with jit disabled, f runs op by op, ~6x slower than its eager forward."""
    calls, recorded = record_custom_calls(f, xs)
    rules, counted = custom_rules(calls)
    return rules, [*recorded, *counted]


ADAPTER = JaxAdapter()
