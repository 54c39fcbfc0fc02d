"""Pictures of a check that did not pass: error against step size, and per-op errors against tolerance.

`write_plots` draws two PNG files for a check (check_grad's `plots=DIR`, the plugin's `--gradcheck-plots`):

- `<name>.sweep.png`: for one component (`step_sweep`), the error of float64 and high-precision central
  differences against the step on log-log axes (float64's truncation/round-off V, the high-precision curve
  falling to its floor), the step the checker uses, the reference's error estimate, and how far the gradient
  under test is from the reference, with the tolerance;
- `<name>.ops.png`: a bar chart of the relative errors of the whole function and of every op on the tape,
  against their tolerances.

matplotlib (the `plot` extra) is imported only when a picture is drawn, through its object-oriented API and
the Agg canvas: pyplot's global state and the user's backend are left alone. Files are written atomically.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pytest_gradcheck import settings
from pytest_gradcheck.checker.inputs import GradcheckUsageError
from pytest_gradcheck.hp import blame
from pytest_gradcheck.plots import step_sweep
from pytest_gradcheck.report import report

# Statuses that get pictures: the diagnoses (a wrong formula, lost float64 accuracy, no convergence) and kinks.
# A passing check draws nothing; a nondeterministic f or a spent budget has no derivative to draw.
DRAWN_STATUSES = frozenset({"formula_error", "float64_accuracy", "inconclusive", "nondifferentiable"})
MAX_STEM = 100  # file names stay far below the usual 255-byte limit, with room for the hash and suffix
MAX_BARS = 40  # a bar chart of a huge tape keeps the failing ops and the largest errors
DPI = 100
COLORS = {"pass": "#4c78a8", "nondifferentiable": "#f58518", "skipped": "#9d9d9d"}  # failing: FAILING_COLOR
FAILING_COLOR = "#e45756"
FLOAT64_COLOR = "#b0c4de"


def directory_option(value: Any) -> str | None:
    """check_grad's `plots=`: None, or a directory path (str or os.PathLike) that is not an existing file, with
    matplotlib installed. Raises GradcheckUsageError naming `plots`."""
    if value is None:
        return None
    try:
        return settings.SETTINGS["plots"].parse(value)
    except ValueError as error:
        raise GradcheckUsageError(f"plots: {error}") from None


def _matplotlib() -> tuple[Any, Any]:
    """matplotlib's Figure and Agg canvas classes, or a usage error that says how to install matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise GradcheckUsageError(f"plots: {settings.MATPLOTLIB_MISSING}") from None
    return Figure, FigureCanvasAgg


def current_test() -> str | None:
    """The pytest node id of the running test (pytest sets PYTEST_CURRENT_TEST while a test runs), or None."""
    running = os.environ.get("PYTEST_CURRENT_TEST")
    return re.sub(r" \((setup|call|teardown)\)$", "", running) if running else None


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")


def file_stem(check: str, test: str | None = None) -> str:
    """A file-system-safe, deterministic name for a check: `<test>--<check>` with every character other than
    letters, digits, '.', '_' and '-' replaced (a long test id keeps its end), plus a short hash of the original
    `<test>::<check>` when anything changed, so that different checks never share a name."""
    key = f"{test}::{check}" if test else check
    name = _safe(check)[: MAX_STEM // 2] or "check"
    stem = name
    if test:
        room = MAX_STEM - len(name) - 2
        stem = f"{_safe(test)[-room:].lstrip('._-')}--{name}"
    if stem != key:
        stem = f"{stem}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:8]}"
    return stem


# matplotlib's text layout (mathtext) and warning filters are not thread-safe: checks drawing pictures from
# several threads take turns.
_drawing = threading.Lock()


def write_plots(f: Callable[..., Any], args: Any, result: Any, directory: str | os.PathLike[str]) -> list[str]:
    """Draw both pictures of `result` (a check of f at args) into `directory` (created if missing); returns the
    paths written, `directory` joined with the file names. If the sweep cannot be computed (f misbehaves away
    from the steps the check used), only the per-op chart is drawn and a note in `result.notes` says why."""
    arrays = (args,) if isinstance(args, np.ndarray) else tuple(args)
    pictures = {}
    try:
        with _drawing:  # the sweep's warning filters (catch_warnings) are process-wide too
            pictures["sweep"] = draw_sweep(step_sweep.compute_sweep(f, arrays, result), result)
    except GradcheckUsageError:
        raise
    except Exception as error:  # the verdict stands; the picture is what is missing, and the note says where
        cause = f"a checker error: {error.where}" if isinstance(error, blame.CheckerError) else blame.describe(error)
        result.notes.append(f"plots: no error-against-step picture: computing it raised {cause}")
    with _drawing:
        pictures["ops"] = draw_ops(result)
    stem = file_stem(result.function, current_test())
    paths = []
    for kind, png in pictures.items():
        path = Path(directory) / f"{stem}.{kind}.png"
        report.write_bytes(path, png)
        paths.append(os.fspath(path))
    return paths


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _positive(values: Any) -> np.ndarray:
    """Errors for a log axis: NaN (not drawn) where zero, negative or missing."""
    y = np.asarray(values, dtype=float)
    return np.where(np.isfinite(y) & (y > 0), y, np.nan)


def _drawable(value: float | None) -> bool:
    return value is not None and np.isfinite(value) and value > 0


def draw_sweep(sweep: step_sweep.Sweep, result: Any) -> bytes:
    """The error-against-step picture as PNG bytes."""
    figure_class, canvas_class = _matplotlib()
    figure = figure_class(figsize=(8.0, 5.5))
    canvas_class(figure)
    ax = figure.add_subplot()
    ax.set_xscale("log")
    ax.set_yscale("log")
    shown = _sweep_curves(ax, sweep) + _sweep_levels(ax, sweep)
    values = np.concatenate(shown) if shown else np.array([])
    values = values[np.isfinite(values)]
    if values.size:
        ax.set_ylim(float(values.min()) / 10, float(values.max()) * 10)
    else:
        ax.set_ylim(1e-20, 1.0)
    ax.set_xlabel("step h (x moves by h along the direction)")
    ax.set_ylabel("|derivative estimate - reference|")
    ax.set_title(f"{result.function}: {result.status}\n{sweep.label}; reference {sweep.reference:.10g} "
                 f"({sweep.reference_status})", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    if sweep.notes:
        ax.text(0.01, 0.01, "\n".join(sweep.notes), transform=ax.transAxes, fontsize=7, va="bottom")
    figure.tight_layout()
    return _png(figure)


def _sweep_curves(ax: Any, sweep: step_sweep.Sweep) -> list[np.ndarray]:
    """The difference quotients' errors against the step (central, and one-sided at a kink); the values drawn."""
    shown: list[np.ndarray] = []

    def curve(values: Any, style: str, label: str, **kwargs: Any) -> None:
        y = _positive(values)
        drawn = np.isfinite(y)  # thinned or failed steps are skipped, the line joins the neighbours
        if drawn.any():
            ax.plot(sweep.steps[drawn], y[drawn], style, label=label, markersize=3, **kwargs)
            shown.append(y[drawn])

    curve(sweep.float64_error, "o-", "central difference in float64", color="#4c78a8")
    if sweep.hp_error is not None:
        curve(sweep.hp_error, "s-", f"central difference at {sweep.digits} digits", color="#54a24b")
    if sweep.left is not None:  # a kink: one-sided differences stay half the slope jump away
        curve(sweep.right_float64_error, "^:", "one-sided difference in float64", color="#4c78a8")
        if sweep.right_hp_error is not None:
            curve(sweep.right_hp_error, "v:", f"one-sided difference at {sweep.digits} digits", color="#54a24b")
    return shown


def _sweep_levels(ax: Any, sweep: step_sweep.Sweep) -> list[np.ndarray]:
    """The horizontal levels (the gradient's error, the tolerance, the reference's error estimate, half a kink's
    slope jump) and the checker's step; the values drawn."""
    shown: list[np.ndarray] = []

    def level(value: float | None, label: str, **kwargs: Any) -> None:
        if _drawable(value):
            ax.axhline(value, label=label, **kwargs)
            shown.append(np.array([value]))

    precision = f"{sweep.digits} digits" if sweep.high_precision else "float64"
    level(sweep.gradient_error, f"gradient under test: |g - reference| = {sweep.gradient_error:.2e}",
          color=FAILING_COLOR, linestyle="--", linewidth=2)
    if sweep.high_precision and not np.isclose(sweep.gradient64_error, sweep.gradient_error, rtol=0.5):
        level(sweep.gradient64_error, f"the same gradient in float64: {sweep.gradient64_error:.2e}",
              color=FAILING_COLOR, linestyle=":")
    level(sweep.tolerance, f"tolerance {sweep.tolerance or 0:.2e}", color="#555555", linestyle="-.")
    level(sweep.reference_error, f"reference error estimate ({precision}) {sweep.reference_error:.1e}",
          color="#54a24b", linestyle=":")
    if sweep.left is not None:
        level(abs(sweep.right - sweep.left) / 2, f"half the slope jump (left {sweep.left:.4g}, right "
              f"{sweep.right:.4g})", color="#f58518", linestyle="--")
    ax.axvline(sweep.chosen_step, color="black", linewidth=0.8,
               label=f"step of the checker's reference: {sweep.chosen_step:.1e}")
    return shown


def _bars(result: Any) -> tuple[list[dict[str, Any]], str]:
    """The whole function, then the ops shown (all, or MAX_BARS of them), as bar data; and a note."""
    hp_formula = result.gradient_hp is not None
    whole = {"label": "whole function", "formula": result.worst.get("formula"),
             "float64": result.worst.get("float64_accuracy"),
             "rtol": result.tolerance["rtol_formula" if hp_formula else "rtol_float64"],
             "status": result.status, "ok": result.ok}
    ops = list(result.ops)
    note = ""
    if len(ops) > MAX_BARS - 1:
        failing = [r for r in ops if not r.ok]
        rest = sorted((r for r in ops if r.ok), key=lambda r: -(r.formula_error or 0.0))
        kept = {id(r) for r in [*failing, *rest][:MAX_BARS - 1]}
        note = f" ({len(kept)} of {len(ops)} ops: the failing ones and the largest errors)"
        ops = [r for r in ops if id(r) in kept]
    rows = [whole] + [{"label": f"#{r.index} {r.name}{'*' if r.custom else ''}", "formula": r.formula_error,
                       "float64": r.float64_error, "rtol": r.tolerance, "status": r.status, "ok": r.ok}
                      for r in ops]
    return rows, note


def _color(row: dict[str, Any]) -> str:
    return FAILING_COLOR if not row["ok"] else COLORS.get(row["status"], COLORS["pass"])


def draw_ops(result: Any) -> bytes:
    """The per-op bar chart (relative formula and float64 errors against tolerances) as PNG bytes."""
    figure_class, canvas_class = _matplotlib()
    rows, note = _bars(result)
    float64_rtol = result.tolerance["rtol_float64"]
    known = [v for row in rows for v in (row["formula"], row["float64"], row["rtol"]) if _drawable(v)]
    known.append(float64_rtol)
    bottom, top = min(known) / 100, max(known) * 100
    figure = figure_class(figsize=(min(24.0, max(6.0, 0.5 * len(rows) + 2.5)), 5.5))
    canvas_class(figure)
    ax = figure.add_subplot()
    ax.set_yscale("log")
    x = np.arange(len(rows))
    width = 0.38

    def height(value: float | None) -> float:
        if value is None:  # not measured: no bar
            return np.nan
        return min(max(value, bottom), top) if np.isfinite(value) else top  # inf or NaN reaches the top

    formula = np.array([height(row["formula"]) for row in rows])
    float64 = np.array([height(row["float64"]) for row in rows])

    ax.bar(x - width / 2, formula - bottom, width, bottom=bottom, color=[_color(r) for r in rows],
           label="formula error (relative)")
    ax.bar(x + width / 2, float64 - bottom, width, bottom=bottom, color=FLOAT64_COLOR, hatch="//",
           edgecolor="#4c78a8", linewidth=0.5, label="float64 error (relative)")
    rtols = np.array([np.nan if row["rtol"] is None else row["rtol"] for row in rows], dtype=float)
    ax.hlines(rtols, x - width, x, colors="black", linewidth=2, label="formula tolerance (rtol)")
    ax.hlines(np.full(len(rows), float64_rtol), x, x + width, colors="black", linestyles=":", linewidth=2,
              label="float64 tolerance")
    for k, row in enumerate(rows):
        if row["formula"] is not None and not np.isfinite(row["formula"]):
            ax.annotate(str(row["formula"]), (x[k] - width / 2, top), ha="center", va="top", fontsize=7)
        if row["formula"] is None and row["float64"] is None:
            ax.annotate(row["status"], (x[k], bottom), ha="center", va="bottom", fontsize=7, rotation=90)
    ax.set_ylim(bottom, top)
    ax.set_xticks(x)
    ax.set_xticklabels([row["label"] for row in rows], rotation=60, ha="right", fontsize=8)
    for label, row in zip(ax.get_xticklabels(), rows, strict=True):
        if not row["ok"]:
            label.set_color(FAILING_COLOR)
    ax.set_ylabel("largest relative error")
    ax.set_title(f"{result.function}: {result.status}; errors against tolerance per op{note}\n"
                 "(red: failing, orange: non-differentiable point, '*': custom op)", fontsize=10)
    ax.grid(True, axis="y", which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    figure.tight_layout()
    return _png(figure)
