"""torch tensors for check_grad: float64 CPU copies, f's forward and torch.autograd.grad as numpy functions, and
every custom torch.autograd.Function f's forward applies, recorded with the inputs it received.

Imported only when an argument is a torch tensor (frameworks.adapter_for): the core never imports torch.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from pytest_gradcheck.checker.inputs import GradcheckUsageError, argument_names, describe
from pytest_gradcheck.checker.per_op import BackwardRuleError, short_location
from pytest_gradcheck.frameworks import base
from pytest_gradcheck.frameworks.base import CustomRule, Prepared, float64_only

FLOAT64 = torch.float64
Function = torch.autograd.Function
_OUR_ROOTS = ("torch", "pytest_gradcheck")  # frames skipped when looking for the call site of a rule
Recorded = tuple[tuple[np.ndarray, ...], list[torch.Tensor], Any]  # a forward at arrays: its input tensors, output


class TorchAdapter:
    """The torch adapter (frameworks.base.Adapter)."""

    name = "torch"

    def owns(self, args: Any) -> bool:
        values = args if isinstance(args, tuple | list) else (args,)
        return any(isinstance(v, torch.Tensor) for v in values)

    @contextlib.contextmanager
    def state(self) -> Iterator[None]:
        """torch's default dtype and grad mode, restored on exit (the user's tensors are never modified)."""
        dtype, grad_mode = torch.get_default_dtype(), torch.is_grad_enabled()
        try:
            yield
        finally:
            torch.set_default_dtype(dtype)
            torch.set_grad_enabled(grad_mode)

    def prepare(self, f: Callable[..., Any], args: Any, reference: Any) -> Prepared:
        if not callable(f):
            raise GradcheckUsageError(f"f: expected a callable, got {describe(f)}; the function comes first: "
                                      "check_grad(f, args)")
        arrays = numpy_args(f, args)
        rules: list[CustomRule] = []
        with recording(rules):
            inputs, out = forward_with_grad(f, arrays)
        return Prepared("torch", arrays, numpy_forward(f), numpy_vjp(f, (arrays, inputs, out)), to_numpy,
                        reference=reference, rules=rules, gradient_source="torch.autograd",
                        value=numpy_copy(out))


ADAPTER = TorchAdapter()


def numpy_args(f: Callable[..., Any], args: Any) -> tuple[np.ndarray, ...]:
    """The arguments as float64 numpy copies; GradcheckUsageError naming an argument that is not a floating
    torch tensor or numpy array (numpy arrays are given to f as float64 tensors too)."""
    if isinstance(args, list):
        raise GradcheckUsageError(f"args: got {describe(args)}; a list is neither unpacked into arguments nor "
                                  "converted: pass a tensor or a tuple of tensors, check_grad(f, tuple(args))")
    values = args if isinstance(args, tuple) else (args,)
    names = argument_names(f, len(values))
    return tuple(numpy_arg(value, f"args[{i}] ({names[i]!r})") for i, value in enumerate(values))


def numpy_arg(value: Any, where: str) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value  # validated by the checker, with every other numpy argument
    if not isinstance(value, torch.Tensor):
        raise GradcheckUsageError(f"{where}: expected a floating torch tensor (or a numpy float array), got "
                                  f"{describe(value)}")
    if value.is_complex():
        raise GradcheckUsageError(f"{where}: complex torch tensors are not supported yet; pass the real and "
                                  "imaginary parts as two real tensors")
    if not value.is_floating_point():
        raise GradcheckUsageError(f"{where}: expected a floating torch tensor, got dtype {value.dtype}; a gradient "
                                  "needs a float argument (pass .double(), or close over the integer tensor in f)")
    return value.detach().to(device="cpu", dtype=FLOAT64).numpy().copy()


def tensors(xs: tuple[Any, ...], requires_grad: bool = False) -> list[torch.Tensor]:
    """float64 CPU tensors of numpy float64 arrays (copies: f may modify its inputs in place)."""
    float64_only("torch", xs)
    return [torch.from_numpy(np.array(x, dtype=np.float64)).requires_grad_(requires_grad) for x in xs]


def as_numpy(value: Any, what: str) -> Any:
    """A tensor (or a tuple/list of them, None kept) as float64 numpy arrays."""
    if isinstance(value, tuple | list):
        return type(value)(as_numpy(v, what) for v in value)
    if isinstance(value, torch.Tensor):
        return numpy_copy(value)
    if value is None or isinstance(value, np.ndarray | float | int | np.generic):
        return value
    raise GradcheckUsageError(f"{what}: expected a torch tensor, got {describe(value)}")


def numpy_forward(f: Callable[..., Any]) -> Callable[..., np.ndarray]:
    """f's float64 forward as a numpy function (the reference function when no reference= is given)."""

    def forward(*xs: Any) -> np.ndarray:
        inputs = tensors(xs)
        with torch.no_grad():
            return tensor_output(f(*inputs), "f")

    return forward


def tensor_output(value: Any, what: str) -> np.ndarray:
    return numpy_copy(torch_output(value, what))


def torch_output(value: Any, what: str) -> torch.Tensor:
    """f's output, which must be a tensor (GradcheckUsageError otherwise)."""
    if not isinstance(value, torch.Tensor):
        raise GradcheckUsageError(f"{what}: with torch arguments f must return a torch tensor, got {describe(value)}")
    return value


def numpy_copy(value: torch.Tensor) -> np.ndarray:
    """A float64 numpy copy of a tensor (no conversion when it is already a float64 CPU tensor)."""
    value = value.detach()
    if value.dtype != FLOAT64 or value.device.type != "cpu":
        value = value.to(device="cpu", dtype=FLOAT64)
    return value.numpy().copy()


def numpy_vjp(f: Callable[..., Any], recorded: Recorded | None = None) -> Callable[..., tuple[np.ndarray, ...]]:
    """torch.autograd.grad of f as a numpy vjp (cotangent, *xs) -> one array per argument. `recorded`: the
    forward prepare ran at the point (its arrays, input tensors and output), whose graph the first call at those
    very arrays differentiates instead of running f again; any first call frees it (a graph is used once, as a
    fresh forward's would be)."""
    kept = [recorded]

    def vjp(cotangent: Any, *xs: Any) -> tuple[np.ndarray, ...]:
        float64_only("torch", (cotangent,))
        point, kept[0] = kept[0], None
        if point is not None and len(xs) == len(point[0]) and all(x is p for x, p in zip(xs, point[0], strict=True)):
            inputs, out = point[1], point[2]
        else:
            inputs, out = forward_with_grad(f, xs)
        if not out.requires_grad:  # f does not depend on its arguments (through autograd)
            return tuple(np.zeros(np.shape(x)) for x in xs)
        with torch.enable_grad():
            seed = torch.from_numpy(np.array(cotangent, dtype=np.float64)).to(out.dtype).reshape(out.shape)
            grads = torch.autograd.grad(out, inputs, grad_outputs=seed, allow_unused=True)
        return tuple(np.zeros(np.shape(x)) if g is None else as_numpy(g, "gradient") for g, x in zip(grads, xs,
                                                                                                     strict=True))

    return vjp


def to_numpy(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A user's grad or vjp of torch tensors as a numpy function (tensors in, numpy arrays out)."""

    def on_numpy(*xs: Any) -> Any:
        return as_numpy(fn(*tensors(xs)), "the gradient")

    return on_numpy


def forward_with_grad(f: Callable[..., Any], arrays: tuple[np.ndarray, ...]) -> tuple[list[torch.Tensor], Any]:
    """One forward of f with autograd recording, as the gradient under test runs it: its input tensors and its
    output (a tensor, GradcheckUsageError otherwise)."""
    inputs = tensors(arrays, requires_grad=True)
    with torch.enable_grad():
        out = torch_output(f(*inputs), "f")
    return inputs, out


def _wrap_apply(original: Any, current: Callable[[], Any]) -> Any:
    """Function.apply, passing each call to this thread's recorder (RECORDING), if it has one."""

    def apply(cls: Any, *args: Any, **kwargs: Any) -> Any:
        recorder = current()
        if recorder is None:
            return original.__func__(cls, *args, **kwargs)
        return recorder(cls, args, kwargs, lambda: original.__func__(cls, *args, **kwargs))

    return classmethod(apply)


RECORDING = base.SharedPatch(Function, "apply", _wrap_apply)


@contextlib.contextmanager
def recording(rules: list[CustomRule]) -> Iterator[None]:
    """torch.autograd.Function.apply records each custom Function f's forward applies in this thread (at the
    outermost level: a Function applied inside another's forward is not on f's graph)."""
    depth = [0]

    def record(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], call: Callable[[], Any]) -> Any:
        depth[0] += 1
        try:
            out = call()
        finally:
            depth[0] -= 1
        if depth[0] == 0:
            rule = custom_rule(cls, args, kwargs, call_site())
            if rule.inputs:  # a Function applied to constants only is not on f's gradient
                rules.append(rule)
        return out

    with RECORDING.active(record):
        yield


def call_site() -> str:
    """file:line of the innermost frame outside torch and this package: where f applied the Function."""
    frame = inspect.currentframe()
    while frame is not None:
        root = str(frame.f_globals.get("__name__", "")).partition(".")[0]
        if root not in _OUR_ROOTS:
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return ""


@functools.lru_cache(maxsize=256)  # reading the source costs milliseconds; a Function is checked again and again
def definition(cls: Any) -> str:
    """file:line of a Function's class statement (its module when the source cannot be read)."""
    try:
        return f"{inspect.getsourcefile(cls)}:{inspect.getsourcelines(cls)[1]}"
    except (OSError, TypeError):
        return f"{cls.__module__}.{cls.__qualname__}"


def input_names(cls: Any, positions: list[int]) -> tuple[str, ...]:
    """The names of forward's parameters (after ctx) at `positions`, or input0, input1, ... (cached per class)."""
    return _input_names(cls, tuple(positions))


@functools.lru_cache(maxsize=256)  # inspect.signature costs ~20 us, and every recorded call asks
def _input_names(cls: Any, positions: tuple[int, ...]) -> tuple[str, ...]:
    """The names of forward's parameters (after ctx) at `positions`, or input0, input1, ..."""
    with_ctx = not any("setup_context" in vars(k) for k in cls.__mro__ if k.__module__ != Function.__module__)
    try:
        parameters = list(inspect.signature(cls.forward).parameters)[1 if with_ctx else 0:]
    except (TypeError, ValueError):
        parameters = []
    return tuple(parameters[p] if p < len(parameters) and not parameters[p].startswith("*") else f"input{p}"
                 for p in positions)


def custom_rule(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], site: str) -> CustomRule:
    """One applied Function: its differentiable inputs (floating tensors that required grad) as recorded, the
    others frozen, its forward and its own backward as numpy functions of the differentiable ones."""
    positions = [i for i, a in enumerate(args)
                 if isinstance(a, torch.Tensor) and a.is_floating_point() and a.requires_grad]
    frozen = [a.detach().clone() if isinstance(a, torch.Tensor) else a for a in args]
    inputs = tuple(frozen[p].to(device="cpu", dtype=FLOAT64).numpy().copy() for p in positions)

    def full(xs: list[torch.Tensor]) -> list[Any]:
        out = list(frozen)
        for p, x in zip(positions, xs, strict=True):
            out[p] = x
        return out

    def forward(*xs: Any) -> np.ndarray:
        with torch.no_grad():
            return flat_outputs(cls.apply(*full(tensors(xs)), **kwargs))

    def vjp(cotangent: Any, *xs: Any) -> tuple[np.ndarray, ...]:
        float64_only("torch", (cotangent,))
        return rule_backward(cls, full, tensors(xs, requires_grad=True), kwargs, np.asarray(cotangent))

    return CustomRule(cls.__qualname__, functools.partial(definition, cls), inputs, forward, vjp, short_location(site),
                      input_names(cls, positions))


def outputs_of(value: Any) -> list[torch.Tensor]:
    """A Function's floating outputs (one tensor, or those in a tuple), in order."""
    values = value if isinstance(value, tuple | list) else (value,)
    return [v for v in values if isinstance(v, torch.Tensor) and v.is_floating_point()]


def flat_outputs(value: Any) -> np.ndarray:
    """The outputs as one float64 array: the tensor itself, or several raveled and concatenated."""
    outs = outputs_of(value)
    if len(outs) == 1:
        return as_numpy(outs[0], "the Function's output")
    return np.concatenate([as_numpy(o, "the Function's output").ravel() for o in outs])


def rule_backward(cls: Any, full: Callable[[list[torch.Tensor]], list[Any]], xs: list[torch.Tensor],
                  kwargs: dict[str, Any], cotangent: np.ndarray) -> tuple[np.ndarray, ...]:
    """The Function's own backward at xs with `cotangent` on its (flattened) outputs; BackwardRuleError when it
    raises (or torch rejects what it returned)."""
    with torch.enable_grad():
        outs = outputs_of(cls.apply(*full(xs), **kwargs))
        seeds, start = [], 0
        flat = cotangent.ravel()
        for o in outs:
            seeds.append(torch.tensor(flat[start:start + o.numel()], dtype=o.dtype).reshape(o.shape))
            start += o.numel()
        used = [(o, s) for o, s in zip(outs, seeds, strict=True) if o.requires_grad]
        if not used:
            return tuple(np.zeros(tuple(x.shape)) for x in xs)
        try:
            grads = torch.autograd.grad([o for o, _ in used], xs, grad_outputs=[s for _, s in used],
                                        allow_unused=True)
        except Exception as error:  # the rule's own backward: its failure is the rule's verdict
            raise BackwardRuleError(f"its backward raised {type(error).__name__}: {error}") from error
    return tuple(np.zeros(tuple(x.shape)) if g is None else as_numpy(g, "the backward") for g, x in zip(grads, xs,
                                                                                                         strict=True))

