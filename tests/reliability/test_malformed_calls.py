"""Malformed check_grad calls, generated: only the documented outcome, with a message naming what is wrong.

Each example draws a valid call (1-3 same-shape arguments named w, x, b; a scalar f; sometimes grad= or vjp=)
and breaks one thing in it: an argument's dtype, type or one element, the args container, f, what f or the
gradient returns, an option. The documented outcomes (docs/checker.md): `GradcheckUsageError` naming the
argument or option; an exception raised by your own f or gradient propagates unchanged (the very object);
a function or gradient returning different values at the same point gives the status `nondeterministic`.
Any other exception type, or a call that does not return within TIME_LIMIT seconds, fails the test.
"""

import contextlib
import math
import os
import signal
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_gradcheck import GradcheckError, GradcheckUsageError, check_grad
from pytest_gradcheck.strategies import shapes, well_scaled_arrays

EXAMPLES = int(os.environ.get("GRADCHECK_FUZZ_EXAMPLES", "60"))  # cheap: most calls end at validation
TIME_LIMIT = 30.0  # seconds; a usage error takes milliseconds, the slowest documented outcome well under 1 s
NAMES = ("w", "x", "b")


def f1(w):
    return np.sum(np.sin(w) * w)


def f2(w, x):
    return np.sum(np.tanh(w * x))


def f3(w, x, b):
    return np.sum(np.sin(w) * x + b * b)


def g1(w):
    return np.cos(w) * w + np.sin(w)


def g2(w, x):
    d = 1 - np.tanh(w * x) ** 2
    return d * x, d * w


def g3(w, x, b):
    return np.cos(w) * x, np.sin(w), 2 * b


FUNCTIONS = {1: (f1, g1), 2: (f2, g2), 3: (f3, g3)}


class PlantedError(Exception):
    """Raised by a user's function on purpose: it must reach the caller unchanged."""


@dataclass
class Call:
    label: str
    f: Any
    args: Any
    kwargs: dict[str, Any] = field(default_factory=dict)
    needles: tuple[str, ...] = ()  # what the usage error's message (or the result's notes) must contain
    raised: BaseException | None = None  # the user's own exception, expected to propagate as it is
    status: str | None = None  # a documented status instead of an exception

    def __repr__(self) -> str:
        return f"Call({self.label!r}, needles={self.needles})"


@st.composite
def valid_calls(draw):
    n = draw(st.integers(1, 3))
    shape = draw(shapes(max_dims=2, max_side=3))
    args = tuple(draw(well_scaled_arrays(shape)) for _ in range(n))
    f, grad = FUNCTIONS[n]
    return f, grad, args


def _usage(label, f, args, *needles, **kwargs):
    return Call(label, f, args, kwargs, needles=needles)


def _got(value):
    """How a message names what it got: None, a plain array by its dtype, anything else by its type."""
    if value is None:
        return "got None"
    return f"got {value.dtype} array" if type(value) is np.ndarray else f"got {type(value).__name__}"


def _replace(args, i, value):
    return (*args[:i], value, *args[i + 1:])


def _quiet(make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)  # np.matrix announces its own deprecation
        return make()


@st.composite
def bad_dtype(draw, f, grad, args):
    i = draw(st.integers(0, len(args) - 1))
    dtype = draw(st.sampled_from(["int64", "int32", "uint8", "bool", "float16", "complex128", "object",
                                  "longdouble", "U8"]))
    bad = args[i].astype(dtype)
    where = f"args[{i}] ({NAMES[i]!r}):"
    if dtype == "complex128":
        where = f"args[{i}] ({NAMES[i]!r}) is complex"  # with a user gradient its convention must be given
        return _usage("complex argument", f, _replace(args, i, bad), where, "complex_convention=", grad=grad)
    return _usage(f"{dtype} argument", f, _replace(args, i, bad), where, f"got {bad.dtype}", "nothing is coerced")


@st.composite
def non_finite(draw, f, grad, args):
    i = draw(st.integers(0, len(args) - 1))
    k = draw(st.integers(0, args[i].size - 1))
    bad = args[i].copy()
    bad.flat[k] = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
    index = tuple(int(j) for j in np.unravel_index(k, bad.shape))
    return _usage("non-finite element", f, _replace(args, i, bad), f"args[{i}] ({NAMES[i]!r}): non-finite input",
                  f"at element {index}")


@st.composite
def not_an_array(draw, f, grad, args):
    i = draw(st.integers(0, len(args) - 1))
    a = args[i]
    value = draw(st.sampled_from([
        lambda: a.tolist(), lambda: tuple(a.ravel()), lambda: float(a.flat[0]), lambda: None,
        lambda: np.float64(a.flat[0]), lambda: "0.5", lambda: {"value": a},
        lambda: np.matrix(a.reshape(1, -1)), lambda: np.ma.masked_array(a, mask=np.zeros(a.shape, dtype=bool)),
    ]))
    bad = _quiet(value)
    return _usage(f"{type(bad).__name__} argument", f, _replace(args, i, bad),
                  f"args[{i}] ({NAMES[i]!r}): expected a float64 or float32 numpy array, {_got(bad)}")


@st.composite
def bad_container(draw, f, grad, args):
    bad = draw(st.sampled_from([None, 3, "w", {"w": args[0]}, 2.5]))
    if draw(st.booleans()):
        return _usage("empty args", f, (), "args: at least one argument")
    return _usage(f"{type(bad).__name__} args", f, bad, f"args: expected a numpy float array or a tuple of them, "
                  f"{_got(bad)}")


@st.composite
def f_not_callable(draw, f, grad, args):
    bad = draw(st.sampled_from([None, 3, "f", np.ones(2), (f,)]))
    return _usage("f not callable", bad, args, f"f: expected a callable, {_got(bad)}")


@st.composite
def bad_output(draw, f, grad, args):
    returned, expected = draw(st.sampled_from([
        (None, "got None"), ([1.0], "got list"), ((1.0, 2.0), "got tuple"), ("loss", "got str"),
        ({"loss": 1.0}, "got dict"), (3, "got int"), (np.int64(3), "got int64"), (np.arange(3), "got int64"),
        (1 + 2j, "got complex"), (np.array(True), "got bool"), (np.float16(1.0), "got float16"),
        (math.nan, "non-finite"), (np.array([1.0, math.inf]), "non-finite"),
    ]))

    def wrong(*xs):
        return returned

    return _usage(f"f returns {returned!r}", wrong, args, "f(*args):", expected)


@st.composite
def bad_gradient(draw, f, grad, args):
    n = len(args)
    j = draw(st.integers(0, n - 1))
    right = grad(*args)
    right = right if isinstance(right, tuple) else (right,)
    kind = draw(st.sampled_from(["count", "shape", "complex", "bool", "text", "objects", "none", "list", "mapping"]))
    where = f"argument {j} ({NAMES[j]!r})"
    if kind == "count":
        returned, needles = (*right, right[0]), (f"grad returned {n + 1} arrays, expected {n}",)
    elif kind == "shape":
        wrong_shape = np.zeros(right[j].size + 1)
        returned, needles = _replace(right, j, wrong_shape), (f"grad returned shape {wrong_shape.shape} for {where}",)
    elif kind in ("complex", "bool", "text"):
        dtype = {"complex": complex, "bool": bool, "text": "U4"}[kind]
        bad = right[j].astype(dtype)
        returned, needles = _replace(right, j, bad), (f"grad returned dtype {bad.dtype} for {where}",)
    elif kind == "objects":
        bad = np.full(right[j].shape, None, dtype=object)
        returned, needles = _replace(right, j, bad), (f"grad returned an object array holding NoneType None for "
                                                      f"{where}",)
    elif kind in ("none", "mapping"):  # one argument: it is that argument's gradient; several: not a tuple
        returned = None if kind == "none" else {"w": right[0]}
        needles = (f"grad returned {_got(returned)[4:]}", "for argument 0 ('w'); expected a numpy array") if n == 1 \
            else (f"grad must return one array per argument ({n}), {_got(returned)}",)
    else:
        listed = right[j].tolist()
        floats = "float" if len(listed) == 1 else "floats"  # describe() says "a list of 1 float"
        held = f"a list of {len(listed)} {floats}" if right[j].ndim == 1 else "a list of"
        returned, needles = _replace(right, j, listed), ("grad returned list", held, f"for {where}")
    gradient = lambda *xs: returned  # noqa: E731
    return _usage(f"grad returns {kind}", f, args, *needles, grad=gradient)


@st.composite
def bad_gradient_option(draw, f, grad, args):
    kind = draw(st.sampled_from(["grad", "vjp", "both", "grad of an array f"]))
    if kind in ("grad", "vjp"):
        bad = draw(st.sampled_from([3, "grad", np.ones(2)]))
        return _usage(f"{kind} not callable", f, args, f"{kind}: expected a callable, {_got(bad)}",
                      **{kind: bad})
    if kind == "both":
        return _usage("grad and vjp", f, args, "give either grad= or vjp=, not both", grad=grad,
                      vjp=lambda v, *xs: grad(*xs))
    array_f = lambda *xs: np.sin(np.concatenate([xs[0].ravel(), xs[0].ravel()]))  # noqa: E731 - 2+ elements
    return _usage("grad of an array-valued f", array_f, args, "grad= needs a scalar-valued f", grad=grad)


BAD_OPTIONS = {
    "mode": ["slow", None, 1, ["full"]],
    "digits": [10, 40.0, "40", True, -5, np.int64(30)],
    "seed": [-1, 1.5, "0", True],
    "projections": [0, -1, 2.0, True],
    "float64_accuracy": ["ignore", None, True],
    "per_op": ["some", None, 1, ["all"]],
    "max_evaluations": [0, -3, 1.5, True, "10"],
    "max_seconds": [0, -1.0, math.nan, "60", True, None],
}


@st.composite
def bad_option(draw, f, grad, args):
    name = draw(st.sampled_from(sorted(BAD_OPTIONS)))
    value = draw(st.sampled_from(BAD_OPTIONS[name]))
    return _usage(f"{name}={value!r}", f, args, f"{name}: expected", repr(value), **{name: value})


@st.composite
def raising_user_code(draw, f, grad, args):
    error = PlantedError(f"planted {draw(st.integers(0, 99))}")
    where = draw(st.sampled_from(["f", "grad", "vjp"]))

    def boom(*xs):
        raise error

    if where == "f":
        return Call("f raises", boom, args, raised=error)
    if where == "grad":
        return Call("grad raises", f, args, {"grad": boom}, raised=error)
    array_f = lambda *xs: np.sin(xs[0]) * xs[-1]  # noqa: E731
    return Call("vjp raises", array_f, args, {"vjp": boom}, raised=error)


@st.composite
def different_each_call(draw, f, grad, args):
    """A value that changes at every call (a counter, so the example replays exactly)."""
    calls = [0]
    step = draw(st.sampled_from([1e-3, 1e-12]))

    def drift():
        calls[0] += 1
        return calls[0] * step

    if draw(st.booleans()):
        return Call("f differs each call", lambda *xs: f(*xs) + drift(), args, {"grad": grad},
                    needles=("f returned different values in two calls at the same point",),
                    status="nondeterministic")
    j = draw(st.integers(0, len(args) - 1))

    def drifting(*xs):
        right = grad(*xs)
        right = right if isinstance(right, tuple) else (right,)
        return _replace(right, j, right[j] + drift())

    return Call("grad differs each call", f, args, {"grad": drifting}, status="nondeterministic",
                needles=(f"the gradient (grad) for argument {j} ({NAMES[j]!r}) returned different values",))


CORRUPTIONS = [bad_dtype, non_finite, not_an_array, bad_container, f_not_callable, bad_output, bad_gradient,
               bad_gradient_option, bad_option, raising_user_code, different_each_call]


@st.composite
def malformed_calls(draw):
    f, grad, args = draw(valid_calls())
    corruption = draw(st.sampled_from(CORRUPTIONS))
    return draw(corruption(f, grad, args))


class Hang(BaseException):
    """Raised into a call that runs past its time limit; a BaseException, so no `except Exception` hides it."""


@contextlib.contextmanager
def time_limit(seconds):
    """Hang if the block runs longer than `seconds` (POSIX main thread; elsewhere no limit)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise Hang(f"no answer within {seconds} s: the call hangs")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def outcome(call):
    """Run the call: the exception it raised (any type, for the assertions to judge), or its result."""
    with time_limit(TIME_LIMIT):
        try:
            return check_grad(call.f, call.args, raise_on_mismatch=False, **call.kwargs)
        except Exception as error:  # judged by the caller: only the documented kinds pass
            return error


@settings(max_examples=EXAMPLES, deadline=None)
@given(malformed_calls())
def test_a_malformed_call_gives_only_its_documented_outcome(call):
    got = outcome(call)
    if call.raised is not None:
        assert got is call.raised, f"{call}: expected the user's own {call.raised!r} unchanged, got {got!r}"
    elif call.status is not None:
        assert not isinstance(got, Exception), f"{call}: raised {type(got).__name__}: {got}"
        assert got.status == call.status and not got.ok, f"{call}: {got.message()}"
        assert all(any(n in note for note in got.notes) for n in call.needles), f"{call}: {got.notes}"
    else:
        assert type(got) is GradcheckUsageError, f"{call}: expected GradcheckUsageError, got {got!r}"
        message = str(got)
        assert all(n in message for n in call.needles), f"{call}: {message!r}"
        assert "\n" not in message and len(message) < 400, f"{call}: not one clear line: {message!r}"


def test_a_nondeterministic_call_raises_gradcheck_error_by_default():
    calls = [0]

    def drifting(w):
        calls[0] += 1
        return np.sum(w * w) + calls[0] * 1e-3

    with pytest.raises(GradcheckError) as info:
        check_grad(drifting, np.array([0.5, -0.25]))
    assert info.value.result.status == "nondeterministic"
    assert "seed any randomness inside it" in str(info.value)


def test_the_hang_guard_itself_fires():
    """time_limit is what turns a hang into a failure: it must interrupt a call that does not return."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        pytest.skip("needs SIGALRM in the main thread")

    def endless(w):
        while True:
            pass

    with pytest.raises(Hang, match="hangs"), time_limit(0.2):
        check_grad(endless, np.array([0.5]))


# ----- known bugs in files this suite does not own: strict xfails, reproducers for whoever fixes them ----------


def _documented(f, args, **kwargs):
    """check_grad's result or a GradcheckUsageError; any other exception propagates (and fails the test)."""
    try:
        return check_grad(f, args, raise_on_mismatch=False, **kwargs)
    except GradcheckUsageError as error:
        return error


@pytest.mark.parametrize(("name", "value"), [("rtol", "1e-3"), ("rtol", math.nan), ("atol", -1.0),
                                             ("atol", math.inf)])
def test_bad_tolerance_is_a_usage_error(name, value):
    with pytest.raises(GradcheckUsageError, match=f"^{name}: expected"):
        check_grad(f1, np.array([0.5]), **{name: value})


def test_a_bool_tolerance_is_refused():
    with pytest.raises(GradcheckUsageError, match="rtol"):
        check_grad(f1, np.array([0.5]), rtol=True)


def test_raise_on_mismatch_must_be_a_bool():
    with pytest.raises(GradcheckUsageError, match="raise_on_mismatch"):
        check_grad(f1, np.array([0.5]), raise_on_mismatch="no")


def test_an_object_array_gradient_of_floats_is_checked_or_refused_clearly():
    got = _documented(f1, np.array([0.5, -0.25]), grad=lambda w: g1(w).astype(object))
    assert isinstance(got, GradcheckUsageError) or got.status == "pass"


def test_noise_that_starts_after_the_probes_is_never_a_pass():
    calls = [0]

    def noisy_later(w):
        calls[0] += 1
        noise = 0.0 if calls[0] <= 2 else np.random.default_rng(calls[0]).uniform(-1e-6, 1e-6)
        return np.sum(np.sin(w)) + noise

    result = check_grad(noisy_later, np.array([0.3, 0.5]), grad=np.cos, raise_on_mismatch=False)
    assert not result.ok and result.status in ("inconclusive", "nondeterministic"), result.message()
