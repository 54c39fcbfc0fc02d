"""Pictures of failing checks (check_grad's plots=): the step-size sweep data, the PNG files, bad input."""

import os
import struct
import subprocess
import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest

from pytest_gradcheck import GradcheckError, GradcheckUsageError, check_grad
from pytest_gradcheck.plots import plots, step_sweep
from pytest_gradcheck.report import report

X = np.array([0.3, -1.2, 2.0])
FORMULA_ERROR = 1e-13  # far below what float64 central differences can see, far above the 40-digit reference's


def f(x):
    return np.sum(np.sin(x) * x)


def right_grad(x):
    return np.cos(x) * x + np.sin(x)


def wrong_grad(x):
    return right_grad(x) * (1 + FORMULA_ERROR)


def exact_derivative(x):
    with mpmath.workdps(50):
        x = mpmath.mpf(float(x))
        return mpmath.cos(x) * x + mpmath.sin(x)


def png_size(data):
    """Width and height from a PNG's IHDR chunk, after checking the signature and the final IEND chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert data[-12:] == b"\x00\x00\x00\x00IEND\xaeB`\x82"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    folder = tmp_path_factory.mktemp("drawn") / "pictures"  # not there yet: created by the first picture
    with pytest.raises(GradcheckError) as caught:
        check_grad(f, X, grad=wrong_grad, plots=folder)
    return folder, caught.value.result


def test_a_wrong_gradient_draws_two_pngs_named_after_the_check(drawn):
    folder, result = drawn
    assert result.status == "formula_error"
    assert [os.path.dirname(p) for p in result.plots] == [str(folder)] * 2
    names = [os.path.basename(p) for p in result.plots]
    assert names[0].endswith(".sweep.png") and names[1].endswith(".ops.png")
    assert all("--f-" in name for name in names)  # <test id>--f, made file-safe
    assert sorted(os.listdir(folder)) == sorted(names)  # no temporary files left behind
    for path in result.plots:
        data = Path(path).read_bytes()
        width, height = png_size(data)
        assert (width, height) in {(800, 550), (600, 550)} and len(data) > 20_000
    image = pytest.importorskip("matplotlib.image").imread(result.plots[0])
    assert image.shape[:2] == (550, 800) and float(np.std(image[..., :3])) > 0.05  # not a blank canvas


def test_the_failure_message_and_the_result_dict_list_the_pictures(drawn):
    _, result = drawn
    assert all(f"picture: {path}" in result.message() for path in result.plots)
    assert result.to_dict()["plots"] == result.plots


def test_sweep_shows_the_float64_v_and_the_high_precision_floor(drawn):
    _, result = drawn
    sweep = step_sweep.compute_sweep(f, (X,), result)
    worst = result.mismatches[0]
    assert sweep.label == f"argument 0 ('x'), element {worst.index}"
    true = exact_derivative(X[worst.index])
    assert abs(sweep.reference - float(true)) <= 1e-15 * abs(float(true))
    errors, steps = sweep.float64_error, sweep.steps
    assert np.all(np.isfinite(errors)) and np.all(np.diff(steps) < 0)
    best = int(np.argmin(errors))
    # The V: truncation at large steps, round-off at small ones, both far above the bottom.
    assert errors[0] > 1e4 * errors[best] and errors[-1] > 1e4 * errors[best]
    assert 1e-8 < steps[best] / steps[0] < 1e-2
    # At large steps both precisions see the same truncation error; below the float64 optimum, 40 digits
    # keep falling while float64 rises.
    assert sweep.hp_error[0] == pytest.approx(errors[0], rel=1e-6)
    below = steps < steps[best] / 10
    assert np.all(sweep.hp_error[below] < errors[best])
    assert np.nanmin(sweep.hp_error) < 1e-20 < errors[best]
    # The injected formula error sits under the float64 V's bottom (float64 cannot see it) and far above the
    # reference's error: the checker's own step is at high precision.
    assert sweep.gradient_error == pytest.approx(FORMULA_ERROR * abs(float(true)), rel=1e-3)
    assert sweep.reference_error < 1e-6 * sweep.gradient_error and sweep.gradient_error < errors[best]
    assert sweep.tolerance == worst.tolerance and sweep.chosen_step < steps[best]
    assert sweep.reference_status == "ok" and sweep.left is None and sweep.high_precision


def test_kink_sweep_has_the_one_sided_derivatives_and_a_flat_one_sided_error(tmp_path):
    def kinked(x):
        return np.sum(np.abs(x) + x**3)

    def grad(x):  # 3 at the kink: outside [-1, 1], not a valid one-sided choice
        return np.where(x == 0, 3.0, np.sign(x)) + 3 * x**2

    x = np.array([0.0, 0.5])
    result = check_grad(kinked, x, grad=grad, raise_on_mismatch=False, plots=tmp_path)
    assert result.status == "nondifferentiable" and not result.ok and len(result.plots) == 2
    sweep = step_sweep.compute_sweep(kinked, (x,), result)
    assert sweep.label == "argument 0 ('x'), element (0,)" and sweep.reference_status == "nondifferentiable"
    assert sweep.left == pytest.approx(-1.0, abs=1e-12) and sweep.right == pytest.approx(1.0, abs=1e-12)
    assert sweep.gradient_error == pytest.approx(3.0, abs=1e-12)  # from the midpoint 0 of left and right
    # (phi(h) - phi(0)) / h = 1 + h^2: its distance from the midpoint stays at half the jump as h shrinks.
    small = sweep.steps < 1e-4
    assert np.allclose(sweep.right_hp_error[small], 1.0, atol=1e-8)


def test_float64_fallback_has_only_the_float64_curve():
    matrix = np.array([[2.0, 0.3], [0.1, 1.5]])

    def solve(b):  # rebuilt from a list: float64 reference
        return np.sum(np.exp(np.linalg.solve(matrix, np.array(b.tolist(), dtype=float))))

    def grad(b):
        return np.linalg.solve(matrix.T, np.exp(np.linalg.solve(matrix, b))) * 1.01

    result = check_grad(solve, np.array([0.4, -0.7]), grad=grad, raise_on_mismatch=False, per_op="off")
    assert result.status == "formula_error" and not result.high_precision
    sweep = step_sweep.compute_sweep(solve, (np.array([0.4, -0.7]),), result)
    assert sweep.hp_error is None and sweep.right_hp_error is None and not sweep.high_precision
    assert sweep.gradient_error == pytest.approx(0.01 * abs(sweep.reference), rel=1e-6)
    best = int(np.argmin(sweep.float64_error))
    assert sweep.float64_error[0] > 100 * sweep.float64_error[best] < sweep.float64_error[-1]


def test_a_check_without_elements_is_swept_along_a_seeded_direction():
    result = check_grad(f, X, grad=lambda x: right_grad(x) * 1.01, mode="taylor", raise_on_mismatch=False,
                        per_op="off")
    assert result.status == "formula_error" and result.mismatches[0].index is None  # Taylor mode names no element
    sweep = step_sweep.compute_sweep(f, (X,), result)
    u = np.random.default_rng(step_sweep.RANDOM_SEED).standard_normal(X.shape)
    assert sweep.label.startswith("random direction")
    exact = sum(float(exact_derivative(x)) * w for x, w in zip(X, u, strict=True))
    assert sweep.reference == pytest.approx(exact, rel=1e-14)
    assert sweep.gradient_error == pytest.approx(0.01 * abs(exact), rel=1e-6)


def test_a_slow_function_gets_a_thinned_ladder_or_none(drawn):
    _, result = drawn
    thinned = step_sweep.compute_sweep(f, (X,), result, max_seconds=1e-9)
    assert thinned.hp_error is not None and np.all(np.isnan(thinned.hp_error))
    assert any("not drawn" in note for note in thinned.notes)


def test_a_passing_check_draws_nothing(tmp_path):
    folder = tmp_path / "pictures"
    result = check_grad(f, X, grad=right_grad, plots=folder)
    assert result.status == "pass" and result.plots == [] and not folder.exists()


@pytest.mark.parametrize(
    ("value", "needle"),
    [(3, "plots: expected a directory path (str or os.PathLike), got 3"),
     ("", "plots: expected a directory path"),
     (b"bytes", "plots: expected a directory path"),
     ("FILE", "plots: expected a directory, but"),
     ],
)
def test_bad_plots_values_are_usage_errors_naming_plots(tmp_path, value, needle):
    if value == "FILE":
        value = tmp_path / "a-file"
        value.write_text("not a folder")
    with pytest.raises(GradcheckUsageError) as caught:
        check_grad(f, X, grad=wrong_grad, plots=value)
    assert needle in str(caught.value)


def test_without_matplotlib_the_option_says_how_to_install_it(tmp_path, monkeypatch, drawn):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(GradcheckUsageError) as caught:
        check_grad(f, X, grad=wrong_grad, plots=tmp_path)
    assert "plots:" in str(caught.value) and "pip install 'pytest-gradcheck[plot]'" in str(caught.value)
    for module in ("matplotlib.figure", "matplotlib.backends.backend_agg"):  # even when imported before
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(GradcheckUsageError, match=r"pip install 'pytest-gradcheck\[plot\]'"):
        plots.draw_ops(drawn[1])


def test_importing_the_plugin_and_the_checker_does_not_import_matplotlib():
    code = ("import sys, pytest_gradcheck.plugin, pytest_gradcheck.checker.check, pytest_gradcheck.plots.plots; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_file_names_are_safe_distinct_and_stable():
    plain = plots.file_stem("loss")
    tricky = plots.file_stem("<lambda>", "tests/a b.py::test_x[1/2]")
    similar = plots.file_stem("<lambda>", "tests/a b.py::test_x[1_2]")
    assert plain == "loss"
    assert set(tricky) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    assert tricky != similar and tricky == plots.file_stem("<lambda>", "tests/a b.py::test_x[1/2]")
    assert len(plots.file_stem("f" * 1000, "t" * 1000)) <= plots.MAX_STEM + 9
    assert plots.file_stem("loss", "tests/" + "deep/" * 50 + "test_m.py::test_grad").startswith("deep_")
    assert "test_m.py_test_grad--loss-" in plots.file_stem("loss", "tests/" + "deep/" * 50 + "test_m.py::test_grad")


def test_pictures_are_written_atomically(tmp_path, monkeypatch):
    target = tmp_path / "p.png"
    target.write_bytes(b"old picture")

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="No space"):
        report.write_bytes(target, b"\x89PNG new")
    assert target.read_bytes() == b"old picture" and os.listdir(tmp_path) == ["p.png"]


def test_a_sweep_that_cannot_be_computed_leaves_the_chart_and_a_note(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("f is singular off the check's steps")

    monkeypatch.setattr(step_sweep, "compute_sweep", broken)
    result = check_grad(f, X, grad=wrong_grad, raise_on_mismatch=False, plots=tmp_path)
    assert result.status == "formula_error" and [os.path.basename(p)[-8:] for p in result.plots] == [".ops.png"]
    assert "plots: no error-against-step picture: computing it raised ZeroDivisionError: f is singular" in (
        result.message())


def test_checks_in_several_threads_draw_their_pictures_without_interfering(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    def one(i):
        result = check_grad(lambda x: np.sum(np.sin(x)), np.array([0.1 * i, 0.3]), grad=lambda x: np.cos(x) * 1.01,
                            plots=tmp_path / f"t{i}", raise_on_mismatch=False, per_op="off")
        return result.plots, [n for n in result.notes if n.startswith("plots")]

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(one, range(8)))
    for paths, notes in outcomes:
        assert len(paths) == 2 and notes == []
        assert all(Path(p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
