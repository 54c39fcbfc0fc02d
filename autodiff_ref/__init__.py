"""autodiff_ref: a small reverse-mode automatic differentiation engine that traces unmodified numpy code.

    >>> import numpy as np, autodiff_ref
    >>> autodiff_ref.grad(lambda x: np.sum(x * x))(np.array([1.0, 2.0]))
    array([2., 4.])
"""

from autodiff_ref import numpy_bridge as _numpy_bridge  # noqa: F401 - registers numpy dispatch
from autodiff_ref.api import Recording, grad, record, vjp
from autodiff_ref.functions import logsumexp, relu, sigmoid, softplus
from autodiff_ref.higher_order import hessian, hvp, jvp
from autodiff_ref.tensor import AutodiffError, Node, Primitive, Tensor, primitive

__all__ = [
    "AutodiffError", "Node", "Primitive", "Recording", "Tensor", "grad", "hessian", "hvp", "jvp", "logsumexp",
    "primitive", "record", "relu", "sigmoid", "softplus", "vjp",
]
