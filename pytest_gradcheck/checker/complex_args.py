"""Complex arguments: the check of f at a complex point as the check of a real function of the real and
imaginary parts, in one of three conventions for the gradient under test.

Each complex argument z becomes two real arguments (x, y), z = x + i y; the real function is
f(x + i y) for a real-valued f (conventions "torch" and "jax"), or the pair (Re f, Im f) stacked on a new first
axis for a holomorphic f. The gradient under test converts to the real gradient (df/dx, df/dy):

- "torch": g = df/dx + i df/dy (grad |z|^2 = 2 z), PyTorch's conjugate Wirtinger convention;
- "jax": g = df/dx - i df/dy (grad |z|^2 = 2 conj(z)), JAX's and autodiff_ref's;
- "holomorphic": g = f'(z) (grad= of a scalar f), or a vjp c * f'(z) elementwise, sum_j c_j df_j/dz in
  general (JAX's holomorphic vjp). The real cotangent (a, b) on (Re f, Im f) is the complex cotangent
  c = a - i b, and the real gradient of (x, y) is conj(vjp(c)).

The real checker then runs unchanged (screen, modes, both diagnoses, kinks, per-op) at mpmath precision
(numpy-quaddtype has no complex numbers), and `finish` names what it found in the user's terms: "argument z,
element (1,), imaginary part", the reference and gradient as complex arrays in the convention, a gradient in
another convention (`convention_note`), and a "holomorphic" f that fails the Cauchy-Riemann equations.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_gradcheck.checker.budget import Budget
from pytest_gradcheck.checker.check import run_check
from pytest_gradcheck.checker.inputs import GradcheckUsageError, argument_names, describe
from pytest_gradcheck.checker.options import Options
from pytest_gradcheck.checker.result import GradcheckResult
from pytest_gradcheck.hp import blame, mpmath_warnings, precision
from pytest_gradcheck.hp import install as hp_install

CONVENTIONS = ("torch", "jax", "holomorphic")
# Each convention's gradient, as messages state it.
CONVENTION_TEXT = {
    "torch": "g = df/dx + i df/dy, 2z for |z|^2",
    "jax": "g = df/dx - i df/dy, 2 conj(z) for |z|^2",
    "holomorphic": "g = f'(z), a vjp c * f'(z)",
}
# f at high precision along a random complex direction u: D_{iu} f must be i D_u f (Cauchy-Riemann). Central
# differences at a step of 1e-12 (40 digits: truncation ~1e-24, round-off ~1e-28) or, for an f that only runs
# in float64, 1e-5 (truncation ~1e-10, round-off ~1e-11); a relative gap beyond the limit is no round-off.
CR_STEP = {"hp": 1e-12, "float64": 1e-5}
CR_LIMIT = {"hp": 1e-12, "float64": 1e-5}
CR_DIGITS = 40
OPS_NOTE = "per-op checks do not cover complex arguments yet: the whole function is checked"


@dataclass(frozen=True)
class Reduction:
    """The real check that stands for a complex one, and how to read its result back."""

    f: Callable[..., Any]  # the real function of the real arguments
    args: tuple[np.ndarray, ...]  # the real arguments: each complex argument as (real part, imaginary part)
    user: tuple[Callable[..., Any], Any, Any, tuple[Any, ...]]  # f, grad, vjp and the arguments as given
    names: tuple[str, ...]  # the arguments' names as given
    parts: tuple[tuple[int, str], ...]  # per real argument: (argument as given, "" | "real" | "imaginary")
    convention: str
    source: str  # "grad", "vjp" or "autodiff_ref"


def has_complex(args: Any) -> bool:
    """Whether any argument (one array, or a tuple of them) is a complex numpy array."""
    return first_complex(args) is not None


def first_complex(args: Any) -> int | None:
    """The position of the first complex numpy array among the arguments (one array, or a tuple), or None."""
    arrays = (args,) if isinstance(args, np.ndarray) else args if isinstance(args, tuple) else ()
    return next((i for i, a in enumerate(arrays) if isinstance(a, np.ndarray) and a.dtype.kind == "c"), None)


def resolve_convention(convention: Any, f: Any, args: Any, grad: Any, vjp: Any) -> str | None:
    """The convention a check runs in: the one given, "jax" for the engine's gradient, None without complex
    arguments; GradcheckUsageError for an unknown one, or none given with a user grad/vjp and complex args."""
    if convention is not None and convention not in CONVENTIONS:
        raise GradcheckUsageError(f"complex_convention: expected None or one of {CONVENTIONS}, got {convention!r}")
    first = first_complex(args)
    if first is None:
        return convention
    if convention is None and (grad is not None or vjp is not None):
        name = argument_names(f, first + 1)[first] if callable(f) else f"arg{first}"
        raise GradcheckUsageError(
            f"args[{first}] ({name!r}) is complex: complex_convention= must say the convention of the gradient "
            f"under test, one of 'torch' ({CONVENTION_TEXT['torch']}), 'jax' ({CONVENTION_TEXT['jax']}) or "
            f"'holomorphic' ({CONVENTION_TEXT['holomorphic']}); e.g. check_grad(f, args, grad=..., "
            "complex_convention='torch')")
    return convention or "jax"


def reduce(f: Callable[..., Any], args: Any, grad: Any, vjp: Any, convention: str) -> Reduction:
    """The real check of f at complex `args` (validated here: a real-valued f for "torch" and "jax")."""
    arrays = (args,) if isinstance(args, np.ndarray) else tuple(args)
    names = argument_names(f, len(arrays))
    parts: list[tuple[int, str]] = []
    real_args: list[Any] = []
    for i, a in enumerate(arrays):
        if isinstance(a, np.ndarray) and a.dtype.kind == "c":
            parts += [(i, "real"), (i, "imaginary")]
            real_args += [a.real.copy(), a.imag.copy()]
        else:
            parts.append((i, ""))
            real_args.append(a)
    if convention != "holomorphic":
        _real_valued(f, arrays, convention)
    source = "grad" if grad is not None else "vjp" if vjp is not None else "autodiff_ref"
    return Reduction(_real_function(f, tuple(parts), names, convention), tuple(real_args), (f, grad, vjp, arrays),
                     names, tuple(parts), convention, source)


def _real_valued(f: Callable[..., Any], arrays: tuple[Any, ...], convention: str) -> None:
    """A real-valued f is needed for "torch" and "jax": a complex value with a nonzero imaginary part at the
    point is a usage error (one float64 evaluation)."""
    value = f(*arrays)
    imaginary = np.imag(np.asarray(value)) if np.iscomplexobj(value) else np.zeros(())
    if np.any(imaginary != 0):
        raise GradcheckUsageError(
            f"complex_convention: {convention!r} is for a real-valued f (a loss), but f returned {describe(value)} "
            "with a nonzero imaginary part; for a complex-valued holomorphic f pass complex_convention='holomorphic'")


def _complex(reals: tuple[Any, ...], parts: tuple[tuple[int, str], ...]) -> list[Any]:
    """The arguments as given from the real ones: x + 1j * y for each complex one (mpc on high precision)."""
    out: list[Any] = []
    for k, (_, part) in enumerate(parts):
        if part == "real":
            out.append(reals[k] + 1j * reals[k + 1])
        elif part == "":
            out.append(reals[k])
    return out


def real_part(value: Any) -> Any:
    """The real part of a number or array of any kind (float, complex, mpmath's mpf and mpc, object arrays)."""
    return _part(value, "real")


def imag_part(value: Any) -> Any:
    """The imaginary part, as `real_part` (0 for real numbers: an mpf's is its context's zero)."""
    return _part(value, "imag")


def _part(value: Any, which: str) -> Any:
    if isinstance(value, np.ndarray) and value.dtype == object and type(value) is np.ndarray:
        out = np.empty(value.shape, dtype=object)
        out.ravel()[:] = [getattr(e, which) for e in value.ravel().tolist()]
        return out
    if isinstance(value, np.ndarray) and value.dtype.kind != "c" and value.dtype != object and which == "imag":
        return np.zeros(value.shape, dtype=value.dtype)
    return getattr(value, which)


def _real_function(f: Callable[..., Any], parts: tuple[tuple[int, str], ...], names: tuple[str, ...],
                   convention: str) -> Callable[..., Any]:
    """f of the real arguments: its real part (torch, jax), or (Re f, Im f) stacked (holomorphic)."""
    call = blame.user_code(f)  # the user's own call: what it raises is the user's

    def real_f(*reals: Any) -> Any:
        value = call(*_complex(reals, parts))
        if convention != "holomorphic":
            return real_part(value)
        return np.stack([np.asarray(real_part(value)), np.asarray(imag_part(value))])

    real_f.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(real_name(names, i, part), inspect.Parameter.POSITIONAL_OR_KEYWORD)
         for i, part in parts])
    real_f.__qualname__ = real_f.__name__ = getattr(f, "__qualname__", repr(f))
    return real_f


def real_name(names: tuple[str, ...], i: int, part: str) -> str:
    """The real check's name of an argument's part: z_real, z_imag (an identifier), or the name itself."""
    return f"{names[i]}_{part[:4]}" if part else names[i]


def real_gradient(reduction: Reduction, *, conjugated: bool) -> Callable[..., Any]:
    """The gradient under test as a vjp of the real function: (cotangent, *reals) -> (df/dx, df/dy, ...).
    `conjugated` reads it as the conjugate of the convention's (conj(g(conj(c)))): the wrong-convention test."""
    f, grad, vjp, _ = reduction.user
    under_test = blame.user_code(grad) if grad is not None else blame.user_code(vjp) if vjp is not None else None
    holomorphic = reduction.convention == "holomorphic"
    flip = reduction.convention == "torch" and under_test is not None  # the engine's is JAX's

    def real_vjp(cotangent: Any, *reals: Any) -> tuple[Any, ...]:
        c = cotangent[0] - 1j * cotangent[1] if holomorphic else cotangent
        c = np.conj(c) if conjugated else c
        zs = _complex(reals, reduction.parts)
        if under_test is None:
            raw = _engine(f, zs, c)
        elif grad is not None:
            raw = under_test(*zs)
            raw = tuple(np.asarray(g) * c for g in _as_tuple(raw, len(zs))) if holomorphic else raw
        else:
            raw = under_test(c, *zs)
        return _split(_as_tuple(raw, len(zs)), reduction, flip=flip, conjugated=conjugated)

    return real_vjp


def _engine(f: Callable[..., Any], zs: list[Any], c: Any) -> Any:
    """autodiff_ref's vjp (JAX's convention); an engine without complex support is a usage error."""
    import autodiff_ref

    try:
        return autodiff_ref.vjp(f, *zs)[1](c)
    except TypeError as error:
        if "complex" not in str(error):
            raise
        raise GradcheckUsageError(f"complex arguments: autodiff_ref cannot differentiate them here ({error}); pass "
                                  "grad= or vjp= with complex_convention=") from error


def _as_tuple(raw: Any, count: int) -> Any:
    return (raw,) if count == 1 and not isinstance(raw, tuple | list) else raw


def _split(raw: Any, reduction: Reduction, *, flip: bool, conjugated: bool) -> tuple[Any, ...]:
    """One gradient per argument as given -> one per real argument: (Re g, -Im g) for JAX's convention and
    holomorphic, (Re g, Im g) for torch's; the other convention's when `conjugated`."""
    expected = len(reduction.names)
    if not isinstance(raw, tuple | list) or len(raw) != expected:
        raise GradcheckUsageError(f"the gradient ({reduction.source}) must return one array per argument "
                                  f"({expected}: {', '.join(repr(n) for n in reduction.names)}), got {describe(raw)}")
    sign = 1 if flip != conjugated else -1
    out: list[Any] = []
    for (i, part), given in zip(reduction.parts, (reduction.user[3][i] for i, _ in reduction.parts), strict=True):
        g = raw[i]
        if part and np.shape(g) != given.shape:
            raise GradcheckUsageError(f"the gradient ({reduction.source}) returned shape {np.shape(g)} for argument "
                                      f"{i} ({reduction.names[i]!r}), expected {given.shape}")
        if part == "real":
            out.append(real_part(np.asarray(g)))
        elif part == "imaginary":
            imag = imag_part(np.asarray(g))
            out.append(imag if sign > 0 else -imag)
        else:  # a real argument: Re(c * df/ds) under "holomorphic", its gradient as it is otherwise
            out.append(real_part(np.asarray(g)) if reduction.convention == "holomorphic" else g)
    return tuple(out)


def run(reduction: Reduction, options: Options, *, conjugated: bool = False) -> GradcheckResult:
    """The real check, on the mpmath tier (quad has no complex numbers), without per-op checks (the ops of the
    real function are not traced: OPS_NOTE); `conjugated`: of the gradient read in the other convention."""
    options = dataclasses.replace(options, backend="mpmath", per_op="off")
    result = run_check(reduction.f, reduction.args, None, real_gradient(reduction, conjugated=conjugated), options)
    result.ops_note = OPS_NOTE
    return result


def finish(result: GradcheckResult, reduction: Reduction, options: Options) -> GradcheckResult:
    """The real check's result in the user's terms, with what the complex check adds: a "holomorphic" f that
    fails the Cauchy-Riemann equations at the point (a formula_error whatever the gradient), and, for a
    failing check, whether the gradient passes in the other convention (`convention_note`)."""
    note = ""
    if reduction.convention == "holomorphic":
        note = cauchy_riemann(reduction.user[0], reduction.user[3])
        if note and result.ok:
            result.status = "formula_error"
    if not note and result.status == "formula_error":
        note = _other_convention(reduction, options)
    mapped = map_back(result, reduction)
    mapped.convention_note = note
    if options.backend == "quad":
        mapped.notes.append("backend='quad' was asked for, but numpy-quaddtype has no complex numbers: the "
                            f"reference ran on mpmath at {mapped.digits} digits")
    return mapped


def _other_convention(reduction: Reduction, options: Options) -> str:
    """The message for a gradient that passes the check read in the other convention (conjugated), or ''."""
    budget = Budget(options.max_evaluations, options.max_seconds)
    again = run(reduction, dataclasses.replace(options, budget=budget), conjugated=True)
    if not (again.ok and again.status != "nondifferentiable"):
        return ""
    given = reduction.convention
    if given == "holomorphic":
        return ("the gradient is conj(f'(z)), a vjp c * conj(f'(z)) (torch's convention for a holomorphic f); "
                f"complex_convention='holomorphic' expects {CONVENTION_TEXT['holomorphic']}: return its conjugate")
    found = "jax" if given == "torch" else "torch"
    who = {"jax": "JAX's", "torch": "torch's"}
    return (f"the gradient is in {who[found]} convention ({CONVENTION_TEXT[found]}); "
            f"complex_convention={given!r} expects {CONVENTION_TEXT[given]}: pass complex_convention={found!r} "
            "or return the conjugate")


def cauchy_riemann(f: Callable[..., Any], arrays: tuple[Any, ...]) -> str:
    """'' when f is complex-differentiable at the point along a random complex direction u (D_{iu} f = i D_u f,
    central differences at high precision, or in float64 when f only runs there), else what fails."""
    rng = np.random.default_rng(1)
    along = [rng.standard_normal(a.shape) + 1j * rng.standard_normal(a.shape) if a.dtype.kind == "c" else None
             for a in arrays]
    turned = [None if u is None else 1j * u for u in along]
    ctx = precision.context(CR_DIGITS)
    kind = "hp"
    derivatives = [_central(f, arrays, u, ctx) for u in (along, turned)]
    if any(d is None for d in derivatives):
        kind, derivatives = "float64", [_central(f, arrays, u, None) for u in (along, turned)]
    du, diu = (np.asarray(d, dtype=object).ravel() for d in derivatives)
    expected = 1j * du
    gap = max((abs(a - b) for a, b in zip(diu.tolist(), expected.tolist(), strict=True)), default=0)
    size = max((abs(a) for a in [*diu.tolist(), *du.tolist()]), default=0)
    if not size or float(gap) <= CR_LIMIT[kind] * float(size):
        return ""
    return (f"f is not holomorphic at this point: the Cauchy-Riemann equations fail (along a random direction u, "
            f"D_(iu) f differs from i D_u f by {float(gap) / float(size):.1e} relative); "
            "complex_convention='holomorphic' needs a complex-differentiable f; for a real-valued loss use 'torch' "
            "or 'jax'")


def _central(f: Callable[..., Any], arrays: tuple[Any, ...], direction: list[Any], ctx: Any) -> Any:
    """(f(z + h u) - f(z - h u)) / 2h at ctx's precision (None: f does not run there), or in float64."""
    scale = max([1.0] + [float(np.max(np.abs(a))) for a in arrays if a.size])
    h = (CR_STEP["hp"] if ctx is not None else CR_STEP["float64"]) * scale
    values = []
    for t in (h, -h):
        moved = [_moved(a, u, t, ctx) for a, u in zip(arrays, direction, strict=True)]
        if ctx is None:
            values.append(np.asarray(f(*moved), dtype=complex))
            continue
        value = _hp_value(f, moved, ctx)
        if value is None:
            return None
        values.append(value)
    if ctx is None:
        return (values[0] - values[1]) / (2 * h)
    return (values[0] - values[1]) * ctx.mpf(1 / (2 * h))


def _hp_value(f: Callable[..., Any], moved: list[Any], ctx: Any) -> np.ndarray | None:
    """f's value on mpc arguments as a flat object array of ctx's numbers, or None when it does not run there."""
    try:
        with hp_install.patched():
            value = mpmath_warnings.call(blame.user_code(f), moved)
    except Exception as error:  # the user's call boundary: f may not run at high precision; a checker bug raises
        fault = blame.checker_fault(error)
        if fault is not None:
            raise blame.CheckerError(f"the Cauchy-Riemann test of f at high precision: {fault}") from error
        return None
    flat = np.asarray(value, dtype=object).ravel()
    return flat if all(type(e) in (ctx.mpf, ctx.mpc) for e in flat.tolist()) else None


def _moved(a: np.ndarray, u: Any, t: float, ctx: Any) -> Any:
    """z + t u: in float64 (ctx None), or as mpc numbers of ctx; a real argument (u None) stays."""
    if ctx is None:
        return a if u is None else a + t * u
    if u is None:
        return precision.to_hp(a, ctx)
    real = precision.to_hp(a.real, ctx) + precision.to_hp(t * u.real, ctx)
    imag = precision.to_hp(a.imag, ctx) + precision.to_hp(t * u.imag, ctx)
    return real + 1j * imag


def map_back(result: GradcheckResult, reduction: Reduction) -> GradcheckResult:
    """The real check's result with the arguments as given: names, mismatches and kinks naming the real or
    imaginary part, the arrays as complex arrays in the convention."""
    sign = [-1 if part == "imaginary" and reduction.convention != "torch" else 1 for _, part in reduction.parts]
    result.mismatches = [_renamed(m, reduction, sign) for m in result.mismatches]
    result.kinks = [_renamed_kink(k, reduction, sign) for k in result.kinks]
    for name in ("reference", "gradient", "gradient_hp"):
        setattr(result, name, _joined(getattr(result, name), reduction, sign))
    result.reference_error = _joined(result.reference_error, reduction, [1] * len(sign))
    if reduction.convention == "holomorphic" and result.cotangent is not None:
        pair = result.cotangent.reshape(2, -1)
        result.cotangent = pair[0] - 1j * pair[1]
    result.argument_names = reduction.names
    result.gradient_source = reduction.source
    result.complex_convention = reduction.convention
    result.notes = [_words(n, reduction) for n in result.notes]
    result.ops_note, result.checked = _words(result.ops_note, reduction), [_words(c, reduction) for c in result.checked]
    result.notes.append(f"complex arguments checked as their real and imaginary parts, x + 1j y, in the "
                        f"{reduction.convention!r} convention: {CONVENTION_TEXT[reduction.convention]}")
    return result


def _words(text: str, reduction: Reduction) -> str:
    """A note of the real check in the arguments' own terms: "argument 1 ('z_imag')" -> "argument 0 ('z',
    imaginary part)", and 'z_real' -> 'z' (real part) elsewhere."""
    for k, (i, part) in enumerate(reduction.parts):
        if part:
            real = repr(real_name(reduction.names, i, part))
            text = text.replace(f"argument {k} ({real})", f"argument {i} ({reduction.names[i]!r}, {part} part)")
            text = text.replace(real, f"{reduction.names[i]!r} ({part} part)")
    return text


def _renamed(m: Any, reduction: Reduction, sign: list[int]) -> Any:
    if m.argument is None:
        return m
    i, part = reduction.parts[m.argument]
    s = sign[m.argument]
    return dataclasses.replace(m, argument=i, name=reduction.names[i],
                               where=f"{m.where}, {part} part" if part else m.where,
                               reference=s * m.reference, value=s * m.value)


def _renamed_kink(k: Any, reduction: Reduction, sign: list[int]) -> Any:
    if k.argument is None:
        return k
    i, part = reduction.parts[k.argument]
    s = sign[k.argument]
    return dataclasses.replace(k, argument=i, where=f"{k.where}, {part} part" if part else k.where,
                               left=s * k.left, right=s * k.right, value=s * k.value)


def _joined(arrays: Any, reduction: Reduction, sign: list[int]) -> Any:
    """Per real argument -> per argument as given: x + 1j * sign * y for a complex one."""
    if arrays is None or len(arrays) != len(reduction.parts):  # None, or () when the check stopped early
        return arrays
    out: list[Any] = []
    for k, (_, part) in enumerate(reduction.parts):
        a = arrays[k]
        if part == "real":
            b = arrays[k + 1]
            if np.asarray(a).dtype == object:
                out.append(np.asarray(a, dtype=object) + 1j * (sign[k + 1] * np.asarray(b, dtype=object)))
            else:
                out.append(precision.to_float64(a) + 1j * sign[k + 1] * precision.to_float64(b))
        elif part == "":
            out.append(a)
    return tuple(out)
