"""The quick float64 screen (checker.float64_screen): a clear pass only when gradient and differences agree,
never a pass on a wrong gradient, a kink, or a noisy (float32) backward; small elements weighted up."""

from __future__ import annotations

import numpy as np
import pytest
from screen_cases import (
    POINT,
    RELU_AT_ZERO,
    SMALL_FIFTH,
    relu_sin,
    relu_sin_vjp,
    softplus,
    softplus_vjp,
    square_sin,
    square_sin_vjp,
)

from pytest_gradcheck.checker import float64_screen


def layer(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.tanh(x @ w)


def layer_vjp(c: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
    s = c * (1 - np.tanh(x @ w) ** 2)
    return s @ w.T, np.outer(x, s)


def screen(f, vjp, args, *, seed=0, planted=None):
    def gradient(cotangent):
        g = [np.array(v, dtype=float) for v in vjp(cotangent, *args)]
        if planted is not None:
            argument, index, factor = planted
            g[argument][index] *= factor
        return g

    return float64_screen.run_screen(f, args, gradient, projections=2, rng=np.random.default_rng(seed))


LAYER = (np.array([0.5, -1.0, 0.25]), np.array([[0.3, -0.2, 0.5, 0.1], [0.7, 0.4, -0.6, 0.2], [-0.1, 0.9, 0.3, -0.8]]))


@pytest.mark.parametrize("seed", range(4))
def test_a_correct_gradient_passes_on_13_evaluations(seed):
    run = screen(softplus, softplus_vjp, (POINT,), seed=seed)
    assert run.passed, run.why
    assert run.evaluations == 13  # f(x), then 6 per projection
    assert run.worst() <= float64_screen.AGREEMENT
    for p in run.projections:
        assert p.error <= float64_screen.AGREEMENT * p.size  # the table resolved the derivative to the agreement


def test_a_vector_output_is_screened_through_a_random_cotangent():
    run = screen(layer, layer_vjp, LAYER)
    assert run.passed, run.why
    assert run.cotangent.shape == (4,) and len(set(np.round(run.cotangent, 12))) == 4


@pytest.mark.parametrize("planted", [(3, 1 + 1e-6), (0, 1 + 1e-4), (5, -1.0)])
def test_a_wrong_element_is_no_clear_pass(planted):
    index, factor = planted
    run = screen(softplus, softplus_vjp, (POINT,), planted=(0, index, factor))
    assert not run.passed
    assert "the gradient and the table differ" in run.why


def test_a_wrong_weight_gradient_of_a_layer_is_no_clear_pass():
    run = screen(layer, layer_vjp, LAYER, planted=(1, (2, 1), 1 + 1e-7))
    assert not run.passed and "differ by" in run.why


def test_a_float32_backward_is_no_clear_pass():
    def vjp32(w, x):
        return (np.asarray(softplus_vjp(w, x.astype(np.float32))[0], dtype=np.float32).astype(float),)

    assert not screen(softplus, vjp32, (POINT,)).passed


def test_a_kink_whose_subgradient_is_the_central_average_is_no_clear_pass():
    """relu at exactly 0 with the subgradient 1/2: central differences give exactly the same average, so only the
    kink measure of the even part can tell."""
    for seed in range(5):
        run = screen(relu_sin, relu_sin_vjp, (RELU_AT_ZERO,), seed=seed)
        assert not run.passed and "one-sided slopes" in run.why


def test_small_elements_weigh_ten_times_in_the_projections():
    """The 5th element is ~5e-4 of the largest: unweighted, a 1e-7 error in it moves a projection by ~3e-11 |z| of
    its size, within the agreement unless the random weight z is large (8 of 20 seeds caught); weighted 10x it
    shows 10x larger, beyond the agreement (20 of 20). Still 13 evaluations."""
    x, f, vjp = SMALL_FIFTH, square_sin, square_sin_vjp

    assert abs(vjp(1.0, x)[0][4]) < 1e-3 * np.max(np.abs(vjp(1.0, x)[0]))
    run = screen(f, vjp, (x,))
    assert run.passed, run.why
    assert [p.label for p in run.projections] == ["projection 0", "projection 1"] and run.evaluations == 13
    for seed in range(10):
        wrong = screen(f, vjp, (x,), seed=seed, planted=(0, 4, 1 + 1e-7))
        assert not wrong.passed and "differ" in wrong.why


def test_a_gradient_spanning_many_decades_passes_and_a_zero_gradient_is_left_to_the_thorough_check():
    x = np.array([1.0, 1e-4, 2e-4, 3e-4, 4e-4, 5e-4, 0.8])

    def f(x):
        return np.sum(x * x)

    def vjp(w, x):
        return (2 * w * x,)

    run = screen(f, vjp, (x,))
    assert run.passed and run.evaluations == 13, run.why
    assert not screen(f, vjp, (x,), planted=(0, 3, 1 + 1e-6)).passed  # an element 3e-4 of the largest
    zero = screen(lambda x: np.sum(0.0 * x), lambda w, x: (0 * x,), (POINT,))
    assert not zero.passed and "0 or not finite" in zero.why


def test_a_gradient_of_the_wrong_shape_is_no_pass():
    run = screen(softplus, lambda w, x: (np.ones(3),), (POINT,))
    assert not run.passed and "shapes" in run.why


def test_traces_have_the_thorough_checks_shape():
    run = screen(softplus, softplus_vjp, (POINT,))
    trace = run.projections[0].trace()
    assert set(trace) == {"label", "steps", "estimates", "value", "error", "status", "high_precision"}
    assert len(trace["steps"]) == len(trace["estimates"]) == float64_screen.LEVELS + 1
    assert trace["status"] == "ok" and trace["high_precision"] is False


def test_well_scaled():
    assert float64_screen.well_scaled((np.array([1.0, 0.5]), np.array([0.02])))
    assert not float64_screen.well_scaled((np.array([1.0, 0.001]),))
    assert not float64_screen.well_scaled((np.array([0.0, 0.0]),))
    assert not float64_screen.well_scaled((np.array([1.0, np.nan]),))
    assert not float64_screen.well_scaled(())


def test_a_batch_evaluates_every_point_at_once_and_gives_the_same_verdicts():
    calls = []

    def batch(points):
        calls.append(len(points))
        return [softplus(*p) for p in points]

    def gradient(cotangent):
        return softplus_vjp(cotangent, POINT)

    run = float64_screen.run_screen(softplus, (POINT,), gradient, projections=2, rng=np.random.default_rng(0),
                                    batch=batch)
    one_by_one = screen(softplus, softplus_vjp, (POINT,))
    assert run.passed and calls == [12] and run.evaluations == one_by_one.evaluations == 13
    assert [p.value for p in run.projections] == [p.value for p in one_by_one.projections]
    wrong = float64_screen.run_screen(softplus, (POINT,), lambda c: [g * 1.001 for g in gradient(c)],
                                      projections=2, rng=np.random.default_rng(0), batch=batch)
    assert not wrong.passed and wrong.evaluations == 13  # the batch evaluated both tables before the first verdict


def test_a_batch_that_raises_falls_back_to_point_by_point():
    def batch(points):
        raise TypeError("not batchable")

    run = float64_screen.run_screen(softplus, (POINT,), lambda c: softplus_vjp(c, POINT), projections=2,
                                    rng=np.random.default_rng(0), batch=batch)
    assert run.passed and run.evaluations == 13
