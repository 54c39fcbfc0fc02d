"""At hypothesis-generated points of the smooth corpus: correct gradients always pass, and a formula error of
relative size 1e-9 in one element is always flagged, at that element."""

import numpy as np
from corpus import CORPUS
from hypothesis import assume, given
from hypothesis import strategies as st

from pytest_gradcheck import check_grad

NAMES = sorted(CORPUS)


@st.composite
def corpus_points(draw):
    name = draw(st.sampled_from(NAMES))
    f, grad, shapes = CORPUS[name]
    elements = st.floats(-1.5, 1.5, allow_nan=False, allow_subnormal=False)
    args = tuple(np.array(draw(st.lists(elements, min_size=int(np.prod(s)), max_size=int(np.prod(s)))),
                          dtype=float).reshape(s) for s in shapes)
    return name, f, grad, args


def _as_tuple(grads):
    return tuple(grads) if isinstance(grads, tuple) else (grads,)


@given(corpus_points())
def test_correct_gradient_is_never_flagged(point):
    name, f, grad, args = point
    result = check_grad(f, args, grad=grad, raise_on_mismatch=False)
    assert result.status == "pass", f"{name}: {result.message()}"


@given(corpus_points(), st.sampled_from([1e-9, -1e-9]))
def test_relative_error_of_1e_minus_9_in_the_largest_element_is_flagged_there(point, relative):
    name, f, grad, args = point
    clean = _as_tuple(grad(*args))
    # At 40 digits a reference resolves gradients down to ~1e-27 (log(cosh(x)) at x ~ 1e-148 rounds cosh to 1):
    # a 1e-9 relative error in a smaller gradient is below what the check can see, and it says so in a note.
    assume(max(np.max(np.abs(g)) for g in clean) > 1e-20)
    argument = int(np.argmax([np.max(np.abs(g)) for g in clean]))
    index = np.unravel_index(int(np.argmax(np.abs(clean[argument]))), clean[argument].shape)

    def planted(*xs):
        grads = list(_as_tuple(grad(*xs)))
        g = np.array(grads[argument], copy=True)
        g[index] = g[index] + relative * (abs(g[index]) or 1.0)  # an all-zero gradient gets 1e-9 added
        grads[argument] = g
        return tuple(grads) if len(grads) > 1 else grads[0]

    result = check_grad(f, args, grad=planted, mode="full", raise_on_mismatch=False)
    if result.status == "pass":  # honest only when the reference says it cannot see an error this small there
        # (log(cosh(x)) at x ~ 1e-19 on quad: cosh rounds to 1 + x^2/2 within 1e-34, its log keeps ~15 digits)
        assert any("cannot be seen" in n for n in result.notes), f"{name}: {result.message()}"
        planted_error = abs(relative) * abs(clean[argument][index])
        assert result.tolerance["safety"] * result.reference_error[argument][index] >= planted_error
        return
    assert result.status == "formula_error", f"{name}: {result.message()}"
    assert [(m.argument, m.index) for m in result.mismatches] == [(argument, tuple(int(k) for k in index))]


def test_a_pass_the_reference_cannot_resolve_says_how_much_it_cannot_see():
    # log(cosh(x)) at x ~ 4e-19 on quad: f ~ 7e-38 keeps only ~15 of its digits, so the reference of tanh(x)
    # has an error ~1e-22 (2e-4 relative): a 1e-9 error in the gradient cannot be seen, and the pass says so.
    x = np.array([0.0, 3.63221475e-19])

    def planted(x):
        g = np.tanh(x)
        return g + np.array([0.0, 1e-9 * g[1]])

    result = check_grad(lambda x: np.sum(np.log(np.cosh(x))), (x,), grad=planted, mode="full",
                        raise_on_mismatch=False)
    if result.status == "formula_error":  # a reference that resolves it (more digits) catches it: fine too
        assert [m.index for m in result.mismatches] == [(1,)]
        return
    assert result.status == "pass"
    note = next(n for n in result.notes if "cannot be seen" in n)
    assert f"{result.digits}-digit reference" in note and "relative cannot be seen" in note
