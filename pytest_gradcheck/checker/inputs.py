"""Validation of what users pass to check_grad, and the gradient under test as one uniform function.

Nothing is coerced silently: integer, complex, float16 and non-finite inputs, outputs of the wrong shape or
count, and ambiguous options raise errors that name the argument and what was expected.
"""

from __future__ import annotations

import contextlib
import inspect
import numbers
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from pytest_gradcheck.hp import quad

SUPPORTED_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
# ndarray subclasses whose semantics differ from a plain array: np.matrix (`*` is a matrix product, results stay
# 2-D) and masked arrays (the mask would be silently ignored by the reference). Convert with np.asarray.
REFUSED_ARRAY_TYPES = (np.matrix, np.ma.MaskedArray)
# What f may return at the point: a numpy array or scalar, or a Python float (never a list, None, ...).
OUTPUT_TYPES = (np.ndarray, np.generic, float)


class GradcheckUsageError(ValueError):
    """A call to check_grad that cannot be checked as given (bad input, wrong gradient shapes, ...)."""

    __module__ = "pytest_gradcheck"  # shown in tracebacks: the name users import it by


_positional: weakref.WeakKeyDictionary[Any, tuple[str, ...]] = weakref.WeakKeyDictionary()


def argument_names(f: Callable[..., Any], count: int) -> tuple[str, ...]:
    """Names of f's first `count` positional parameters, or arg0, arg1, ... where they cannot be read."""
    try:
        known = _positional.get(f)
    except TypeError:  # not weakly referenceable (some builtins): read each time
        known = None
    if known is None:
        known = _positional_names(f)
        with contextlib.suppress(TypeError):
            _positional[f] = known
    names = list(known[:count])
    return tuple(names + [f"arg{i}" for i in range(len(names), count)])


def _positional_names(f: Callable[..., Any]) -> tuple[str, ...]:
    """inspect.signature is slower than a small check: read once per function."""
    try:
        return tuple(p.name for p in inspect.signature(f).parameters.values()
                     if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
    except (TypeError, ValueError):
        return ()


def validate_args(args: Any, names_of: Callable[[int], tuple[str, ...]]) -> tuple[np.ndarray, ...]:
    """`args` as a tuple of finite float32/float64 arrays; one array (not a tuple) means one argument.

    A list is refused, not guessed at: a list of floats is one vector to most users, a list of arrays one
    argument per array to others."""
    if isinstance(args, np.ndarray) and not isinstance(args, REFUSED_ARRAY_TYPES):
        args = (args,)
    if isinstance(args, list):
        raise GradcheckUsageError(_list_of_args(args, names_of))
    if not isinstance(args, tuple):
        fix = _fix(args, names_of(1)[0])
        raise GradcheckUsageError(f"args: expected a numpy float array or a tuple of them, got {describe(args)}; "
                                  f"pass {fix}{_zero_d(args)}: check_grad(f, {fix}) or check_grad(f, ({fix},))")
    if not args:
        raise GradcheckUsageError("args: at least one argument is needed to check a gradient")
    names = names_of(len(args))
    return tuple(_validate_arg(i, value, names) for i, value in enumerate(args))


def _list_of_args(args: list[Any], names_of: Callable[[int], tuple[str, ...]]) -> str:
    name = names_of(1)[0]
    return (f"args: got {describe(args)}; a list is neither unpacked into arguments nor converted. For one vector "
            f"argument pass check_grad(f, np.array({name})) or check_grad(f, (np.array({name}),)); for a list of "
            "arrays, one per argument, pass check_grad(f, tuple(args))")


def _validate_arg(i: int, value: Any, names: tuple[str, ...]) -> np.ndarray:
    """One argument: a finite float32/float64 ndarray (not a matrix or masked array)."""
    name = names[i]
    where = f"args[{i}] ({name!r})"
    if not isinstance(value, np.ndarray) or isinstance(value, REFUSED_ARRAY_TYPES):
        fix = _fix(value, name)
        call = ", ".join(fix if k == i else n for k, n in enumerate(names)) + ("," if len(names) == 1 else "")
        raise GradcheckUsageError(f"{where}: expected a float64 or float32 numpy array, got {describe(value)}; "
                                  f"pass {fix}{_zero_d(value)}: check_grad(f, ({call}))")
    if np.iscomplexobj(value):
        raise GradcheckUsageError(f"{where}: complex inputs are not supported (yet); got dtype {value.dtype}; "
                                  f"pass the real and imaginary parts as two float64 arguments "
                                  f"({name}.real, {name}.imag)")
    if value.dtype not in SUPPORTED_DTYPES:
        raise GradcheckUsageError(f"{where}: expected dtype float64 or float32, got {value.dtype}; "
                                  f"convert explicitly (nothing is coerced): np.asarray({name}, dtype=np.float64)")
    finite = np.isfinite(value)
    if not finite.all():
        bad = tuple(int(k) for k in np.argwhere(~finite)[0])
        raise GradcheckUsageError(f"{where}: non-finite input {value[bad].item()!r} at element {bad} "
                                  f"({int(np.count_nonzero(~finite))} of {value.size} elements non-finite); "
                                  "a gradient is checked at a finite point")
    return value


def _fix(value: Any, name: str) -> str:
    """How to pass `value` as an array: np.array(1.5) for a Python scalar, np.asarray(name) for a matrix."""
    if isinstance(value, REFUSED_ARRAY_TYPES):
        return f"np.asarray({name})" if not isinstance(value, np.ma.MaskedArray) else f"{name}.filled()"
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return f"np.array({float(value)!r})"
    return f"np.array({name})"


def _zero_d(value: Any) -> str:
    return " (a 0-d array)" if isinstance(value, numbers.Real) and not isinstance(value, bool) else ""


def describe(value: Any) -> str:
    """What a user passed, in words: 'None', 'float 1.5', 'list [0.1, 0.2] (a list of 2 floats)', 'int64 array'."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        if type(value) is not np.ndarray:  # np.matrix, a masked array: named by their class
            return f"{type(value).__name__} of dtype {value.dtype} and shape {value.shape}"
        return f"{value.dtype} array of shape {value.shape}"
    if isinstance(value, np.generic):
        return f"{type(value).__name__} {value.item()!r}"
    if isinstance(value, list | tuple):
        kind = type(value).__name__
        if not value:
            return f"an empty {kind}"
        kinds = sorted({_kind(v) for v in value})
        held = f"{len(value)} {_plural(kinds[0], len(value))}" if len(kinds) == 1 else \
            f"{len(value)} items ({', '.join(kinds)})"
        return f"{kind} {_brief(value)} (a {kind} of {held})"
    return f"{type(value).__name__} {_brief(value)}"


def _kind(value: Any) -> str:
    return "array" if isinstance(value, np.ndarray) else "None" if value is None else type(value).__name__


def _plural(word: str, count: int) -> str:
    return word if count == 1 or word == "None" else word + "s"


def validate_output(value: Any, context: str) -> np.ndarray:
    """f's float64 output: a finite float array (or scalar); a non-finite element is named with its value."""
    if not isinstance(value, OUTPUT_TYPES):
        raise GradcheckUsageError(f"{context}: f must return a float64/float32 scalar or numpy array, "
                                  f"got {describe(value)}")
    out = np.asarray(value)
    if out.dtype not in SUPPORTED_DTYPES:
        raise GradcheckUsageError(f"{context}: f must return a float64/float32 scalar or array, got {out.dtype}")
    finite = np.isfinite(out)
    if not finite.all():
        bad = tuple(int(k) for k in np.argwhere(~finite)[0])
        where = f" at output element {bad} ({int(np.count_nonzero(~finite))} of {out.size} elements non-finite)" \
            if out.ndim else " (its scalar value is non-finite)"
        raise GradcheckUsageError(f"{context}: returned {out[bad].item()!r}{where}; a gradient needs a finite value "
                                  "at the point being checked")
    return out


def validate_gradients(grads: Any, args: Sequence[np.ndarray], names: Sequence[str], source: str) -> tuple[Any, ...]:
    """What grad/vjp returned: exactly one array per argument, each of that argument's shape."""
    if len(args) == 1 and not isinstance(grads, tuple | list):
        grads = (grads,)
    if not isinstance(grads, tuple | list):
        raise GradcheckUsageError(f"{source} must return one array per argument ({len(args)}), "
                                  f"got {describe(grads)}")
    if len(grads) != len(args):
        arrays = all(isinstance(g, np.ndarray) for g in grads)
        hint = "" if arrays else "; return a numpy array, np.array([...]), for a vector argument"
        raise GradcheckUsageError(f"{source} returned {f'{len(grads)} arrays' if arrays else describe(grads)}, "
                                  f"expected {len(args)} (one array per argument: "
                                  f"{', '.join(repr(n) for n in names)}){hint}")
    out = []
    for i, (g, x) in enumerate(zip(grads, args, strict=True)):
        if not (isinstance(g, np.ndarray | np.generic | numbers.Real) or _is_mp_real(g)):
            raise GradcheckUsageError(f"{source} returned {describe(g)} for argument {i} ({names[i]!r}); "
                                      "expected a numpy array: return np.array(...)")
        g = np.asarray(g)
        if g.shape != x.shape:
            raise GradcheckUsageError(f"{source} returned shape {g.shape} for argument {i} ({names[i]!r}), "
                                      f"expected {x.shape}")
        problem = _not_real(g)
        if problem:
            raise GradcheckUsageError(f"{source} returned {problem} for argument {i} ({names[i]!r}); "
                                      "expected real numbers (float arrays)")
        out.append(g)
    return tuple(out)


def _not_real(g: np.ndarray) -> str:
    """Why `g` cannot be a gradient (complex, boolean, text, ... or an object array holding such), or ''."""
    if g.dtype.kind in "fiu" or quad.is_quad(g):  # quad: the quad tier's gradient
        return ""
    if g.dtype.kind != "O":
        return f"dtype {g.dtype}"
    for element in g.flat:  # high-precision gradients: mpmath reals (or plain reals numpy put in)
        if not (_is_mp_real(element) or isinstance(element, numbers.Real)):
            return f"an object array holding {type(element).__name__} {_brief(element)}"
    return ""


def _is_mp_real(value: Any) -> bool:
    """A real mpmath number of any context (recognised by its raw value tuple, as autodiff_ref does)."""
    return isinstance(getattr(value, "_mpf_", None), tuple)


def _brief(value: Any) -> str:
    text = " ".join(repr(value).split())  # one line: an array's repr inside a dict spans several
    return text if len(text) <= 40 else text[:40] + "..."


def gradient_under_test(
    f: Callable[..., Any], grad: Callable[..., Any] | None, vjp: Callable[..., Any] | None, scalar_output: bool
) -> tuple[Callable[..., Any], str]:
    """One function `(cotangent, *args) -> raw per-argument gradients` for grad=, vjp= or the built-in engine."""
    if grad is not None and vjp is not None:
        raise GradcheckUsageError("give either grad= or vjp=, not both")
    for name, given in (("grad", grad), ("vjp", vjp)):
        if given is not None and not callable(given):
            raise GradcheckUsageError(f"{name}: expected a callable, got {describe(given)}; pass the function "
                                      f"itself, check_grad(f, args, {name}=my_{name})")
    if grad is not None:
        if not scalar_output:
            raise GradcheckUsageError("grad= needs a scalar-valued f; for an array-valued f pass "
                                      "vjp=(cotangent, *args)")
        return _from_grad(grad), "grad"
    if vjp is not None:
        return vjp, "vjp"
    import autodiff_ref

    def engine(cotangent: Any, *args: Any) -> tuple[np.ndarray, ...]:
        return autodiff_ref.vjp(f, *args)[1](cotangent)

    return engine, "autodiff_ref"


def _from_grad(grad: Callable[..., Any]) -> Callable[..., Any]:
    """A scalar f is checked with cotangent 1, so grad(*args) is its VJP as it stands."""

    def as_vjp(cotangent: Any, *args: Any) -> Any:
        return grad(*args)

    return as_vjp
