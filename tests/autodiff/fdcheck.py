"""Central differences for the engine's tests: the exact VJP of f at float64, element by element.

`check_vjp(f, *args)` draws a random cotangent v, asks the engine for vjp(f)(v), and compares each argument's
gradient with the central difference of <v, f(...)> along every one of that argument's elements.
"""

import numpy as np

import autodiff_ref

STEP = 1e-6  # truncation ~ STEP**2 * |f'''| ~ 1e-12; round-off ~ 1e-16 * |f| / STEP ~ 1e-10
RTOL, ATOL = 1e-6, 1e-8  # well above both errors; a wrong VJP rule is off by O(1)


def numerical_vjp(f, args, cotangent, argnum):
    """d <cotangent, f(*args)> / d args[argnum], one central difference per element."""
    x = np.array(args[argnum], dtype=np.float64)
    out = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        sides = []
        for step in (STEP, -STEP):
            shifted = x.copy()
            shifted[index] += step
            moved = [*args[:argnum], shifted, *args[argnum + 1:]]
            sides.append(np.sum(cotangent * f(*moved)))
        out[index] = (sides[0] - sides[1]) / (2 * STEP)
    return out


def check_vjp(f, *args, seed=0, rtol=RTOL, atol=ATOL):
    """Engine VJP of f at float64 `args` for a random cotangent, against central differences, per argument."""
    value, vjp_fn = autodiff_ref.vjp(f, *args)
    np.testing.assert_allclose(value, f(*args), rtol=1e-12, err_msg="traced forward value differs from numpy")
    cotangent = np.random.default_rng(seed).standard_normal(np.shape(value))
    grads = vjp_fn(cotangent)
    assert len(grads) == len(args)
    for argnum, (arg, g) in enumerate(zip(args, grads, strict=True)):
        assert type(g) is np.ndarray and g.shape == np.shape(arg), f"argument {argnum}: {type(g)} {np.shape(g)}"
        expected = numerical_vjp(f, args, cotangent, argnum)
        np.testing.assert_allclose(g, expected, rtol=rtol, atol=atol,
                                   err_msg=f"engine VJP vs central differences, argument {argnum}")
    return grads
