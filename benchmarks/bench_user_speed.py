"""What users get: check_grad at its defaults against torch.autograd.gradcheck at its defaults, cold and warm,
on correct and on wrong gradients, side by side in the same run; then wall time against input size.

Command: `.venv/bin/python benchmarks/bench_user_speed.py [--quick] [--no-torch] [--json [PATH]] [--markdown [PATH]]`
(about 4 minutes on 2 cores, most of it the scaling run; `--quick` about 20 s). `--cases NAME,...` and
`--sizes N,...` narrow a run; `--render JSON` prints a saved run's tables again.

- Settings: `check_grad(f, args, grad=g, raise_on_mismatch=False)` and nothing else: mode, per-op pass, budget
  and precision are whatever the defaults of the code being measured are. torch: `gradcheck(fn, inputs,
  raise_exception=False)` in float64 (eps 1e-6, atol 1e-5, rtol 1e-3, full Jacobian), fn a torch.autograd.Function
  whose forward runs the numpy f and whose backward returns the hand-written gradient (benchmarks/checkers.py).
- Cases: the corpus of benchmarks/corpus.py (14 functions, the 3-layer net among them, at seeds 0, 1, 2) and the
  3-layer net of examples/three_layer_net.py at 100 weights (`three_layer_net_example`).
- Passing: the correct gradient. Failing: the same gradient with one nonzero element times (1 + 1e-6)
  (mutations.py `scale_one`), which check_grad must fail and name the element (torch's default tolerances are
  too wide to see it: its time is that of the same check on the planted gradient).
- Cold: each check is the first in a fresh interpreter (one subprocess per case, checker and gradient; on the
  cases of seed 0, one per function, which keeps the run to a few minutes), which
  imports numpy and then `from pytest_gradcheck import check_grad` or `import torch` (import times reported
  apart), builds the case and times the check call alone. One untimed child of each kind runs first, so
  byte-code and disk caches are warm as on any second run of a test suite (the children cache byte-code even
  where PYTHONDONTWRITEBYTECODE is set).
- Warm: in this process, after an untimed check of each kind; per case REPEATS checks by each checker,
  alternating (a slow spell of the machine hits both), and the median of each (not the best).
- Ratio: check_grad's time over torch's on the same case, same gradient, same temperature. Summary: the median of
  the per-case ratios, and the largest ratio among cases with at least 10 inputs.
- Scaling: check_grad at its defaults (and torch's default check while its predicted time stays under a cap) on
  sum(x tanh(x)) at 10 to 10^6 elements, each checker in a child process of its own (benchmarks/scaling.py):
  time, evaluations, whether the reference was high precision and the precision tier (`result.backend`, where
  the result has one).

torch is optional: without it (or with `--no-torch`) its columns are left out. Install its CPU build in a venv
of its own, since torch brings sympy, which pins mpmath below 1.4:
    python -m venv benchvenv
    benchvenv/bin/pip install torch --index-url https://download.pytorch.org/whl/cpu
    benchvenv/bin/pip install -e '.[dev,fast]' numpy-quaddtype
    benchvenv/bin/python benchmarks/bench_user_speed.py --json --markdown
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import outputs  # noqa: E402 (benchmarks/ on the path first)

DEFAULT_JSON = "reports/bench_user_speed.json"  # reports/ is git-ignored
DEFAULT_MARKDOWN = "reports/bench_user_speed.md"
EXAMPLE = "three_layer_net_example"  # examples/three_layer_net.py at (n_in, n_hidden, n_out) = EXAMPLE_SHAPE
EXAMPLE_SHAPE = (6, 10, 4)  # 60 + 40 = 100 weights
PLANTED = 1e-6  # the failing gradient: one element times (1 + PLANTED)
MANY_INPUTS = 10  # the summary's max ratio is over cases with at least this many inputs
PATHS = ("passing", "failing")
TEMPERATURES = ("cold", "warm")
CHILD_TIMEOUT = 600.0  # seconds: one cold check


@dataclass(frozen=True)
class Config:
    names: tuple[str, ...]
    seeds: tuple[int, ...]
    cold_seeds: tuple[int, ...]  # the seeds whose cases are also checked cold (a fresh process per check)
    repeats: int  # warm checks per case and checker
    sizes: tuple[int, ...]  # scaling
    cap: float  # scaling: seconds for one size of check_grad before it is stopped
    torch_cap: float  # scaling: torch's full Jacobian grows as n^2; sizes predicted past this are skipped


def full_config() -> Config:
    import corpus

    return Config(names=(*corpus.NAMES, EXAMPLE), seeds=(0, 1, 2), cold_seeds=(0,), repeats=5,
                  sizes=(10, 100, 1000, 10**4, 10**5, 10**6), cap=300.0, torch_cap=30.0)


QUICK = Config(names=("tanh", "three_layer_net"), seeds=(0,), cold_seeds=(0,), repeats=3, sizes=(10, 100, 1000),
               cap=60.0, torch_cap=5.0)


# ---- cases ----------------------------------------------------------------------------------------------------

def build(name: str, seed: int, failing: bool) -> tuple[Any, tuple[Any, ...], Any, str]:
    """f, args, the gradient under test and what was planted in it ('' for the correct one)."""
    import corpus
    import mutations

    if name == EXAMPLE:
        from three_layer_net import loss, loss_gradient, make_problem  # corpus put examples/ on the path

        n_in, n_hidden, n_out = EXAMPLE_SHAPE
        w1, w2, x, t = make_problem(seed, batch=4, n_in=n_in, n_hidden=n_hidden, n_out=n_out)
        problem = corpus.Problem(name, lambda w1, w2: loss(w1, w2, x, t),
                                 lambda w1, w2: loss_gradient(w1, w2, x, t), (w1, w2))
    else:
        problem = corpus.make(name, seed)
    if not failing:
        return problem.f, problem.args, problem.grad, ""
    mutation = mutations.mutate("scale_one", PLANTED, problem.grad, problem.args, seed)
    return problem.f, problem.args, mutation.grad, mutation.detail


def _outcome(outcome: Any) -> dict[str, Any]:
    record = {"seconds": outcome.seconds, "evaluations": outcome.evaluations, "status": outcome.status}
    if outcome.high_precision is not None:
        record |= {"high_precision": outcome.high_precision, "backend": outcome.backend}
    return record


# ---- cold: one check in a fresh interpreter -------------------------------------------------------------------

def child(checker: str, name: str, seed: int, failing: bool) -> dict[str, Any]:
    """In a fresh interpreter: import numpy, then pytest_gradcheck or torch (each timed), build the case, time the
    one check. Nothing of either checker is imported before its timed import."""
    started = time.perf_counter()
    import numpy  # noqa: F401

    imported = time.perf_counter()
    if checker == "check_grad":
        from pytest_gradcheck import check_grad  # noqa: F401  (the package loads its modules on this first name)
    else:
        import torch  # noqa: F401
    module = "pytest_gradcheck" if checker == "check_grad" else "torch"
    record = {"import_numpy_s": imported - started, f"import_{module}_s": time.perf_counter() - imported}
    import checkers  # imports pytest_gradcheck (for torch's child: after torch's timed import)

    f, args, grad, _ = build(name, seed, failing)
    run = checkers.check_grad_default if checker == "check_grad" else checkers.TORCH[0].run
    return record | _outcome(run(f, args, grad))


def cold(checker: str, name: str, seed: int, failing: bool) -> dict[str, Any]:
    spec = json.dumps({"checker": checker, "name": name, "seed": seed, "failing": failing})
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # byte-code cached, as usual
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", spec], capture_output=True,
                          text=True, timeout=CHILD_TIMEOUT, check=False, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"cold {checker} check of {name}/{seed} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---- warm: repeats in this process ----------------------------------------------------------------------------

def warm(runners: dict[str, Any], name: str, seed: int, failing: bool, repeats: int) -> dict[str, Any]:
    """Each checker `repeats` times on the case, alternating; the median time, the last outcome otherwise."""
    f, args, grad, _ = build(name, seed, failing)
    times: dict[str, list[float]] = {c: [] for c in runners}
    last: dict[str, Any] = {}
    for _ in range(repeats):
        for checker, run in runners.items():
            last[checker] = run(f, args, grad)
            times[checker].append(last[checker].seconds)
    return {c: _outcome(last[c]) | {"seconds": statistics.median(times[c]), "all_seconds": times[c]}
            for c in runners}


# ---- the run --------------------------------------------------------------------------------------------------


def _with_ratio(pair: dict[str, Any]) -> dict[str, Any]:
    if "torch" in pair:
        pair["ratio"] = pair["check_grad"]["seconds"] / pair["torch"]["seconds"]
    return pair


def measure_cases(config: Config, checkers_run: tuple[str, ...]) -> list[dict[str, Any]]:
    import checkers

    runners = {"check_grad": checkers.check_grad_default}
    if "torch" in checkers_run:
        runners["torch"] = checkers.TORCH[0].run
    cases = [(name, seed) for name in config.names for seed in config.seeds]
    for checker in checkers_run:  # untimed: byte-code and disk caches, as on any second run
        cold(checker, cases[0][0], cases[0][1], False)
    f, args, grad, _ = build(cases[0][0], cases[0][1], False)
    for run in runners.values():  # untimed: the warm figures leave out first-call set-up
        run(f, args, grad)
    records = []
    for name, seed in cases:
        started = time.perf_counter()
        f, args, _, _ = build(name, seed, False)
        record = {"case": f"{name}/{seed}", "name": name, "seed": seed, "inputs": int(sum(a.size for a in args)),
                  "planted": build(name, seed, True)[3]}
        for path in PATHS:
            failing = path == "failing"
            cold_checks = ({c: cold(c, name, seed, failing) for c in checkers_run}
                           if seed in config.cold_seeds else None)
            record[path] = {"cold": cold_checks and _with_ratio(cold_checks),
                            "warm": _with_ratio(warm(runners, name, seed, failing, config.repeats))}
        records.append(record)
        outputs.progress(f"  {record['case']}: {time.perf_counter() - started:.1f} s")
    return records


def measure_scaling(config: Config, with_torch: bool) -> list[dict[str, Any]]:
    import scaling

    rows = scaling.run(("check_grad_default",), config.sizes, config.cap, outputs.progress)
    if with_torch:
        rows += scaling.run(("torch_full",), config.sizes, config.torch_cap, outputs.progress)
    return rows


# ---- summary --------------------------------------------------------------------------------------------------

def _counts(values: list[Any]) -> str:
    return ", ".join(f"{k} {n}" for k, n in sorted(Counter(values).items(), key=lambda kv: (-kv[1], str(kv[0]))))


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Per path and temperature: medians of times, ratios and evaluations, the largest ratio among cases with at
    least MANY_INPUTS inputs, and the statuses."""
    out: dict[str, Any] = {}
    for path in PATHS:
        for temperature in TEMPERATURES:
            pairs = [(r, r[path][temperature]) for r in records if r[path][temperature] is not None]
            ours = [p["check_grad"] for _, p in pairs]
            row: dict[str, Any] = {
                "cases": len(pairs), "median_s": statistics.median(o["seconds"] for o in ours),
                "median_evaluations": statistics.median(o["evaluations"] for o in ours),
                "statuses": _counts([o["status"] for o in ours]),
                "high_precision": sum(bool(o.get("high_precision")) for o in ours),
                "backends": _counts([o.get("backend") for o in ours]),
            }
            if all("torch" in p for _, p in pairs):
                big = [(p["ratio"], r["case"]) for r, p in pairs if r["inputs"] >= MANY_INPUTS]
                row |= {
                    "torch_median_s": statistics.median(p["torch"]["seconds"] for _, p in pairs),
                    "torch_median_evaluations": statistics.median(p["torch"]["evaluations"] for _, p in pairs),
                    "torch_statuses": _counts([p["torch"]["status"] for _, p in pairs]),
                    "median_ratio": statistics.median(p["ratio"] for _, p in pairs),
                    "max_ratio_many_inputs": max(big)[0] if big else None,
                    "max_ratio_many_inputs_case": max(big)[1] if big else None,
                    "cases_many_inputs": len(big),
                }
            out[f"{path}_{temperature}"] = row
    return out


def import_times(records: list[dict[str, Any]]) -> dict[str, float]:
    """Medians over the cold children of each import (numpy, pytest_gradcheck, torch)."""
    found: dict[str, list[float]] = {}
    for r in records:
        for path in PATHS:
            for child_record in (r[path]["cold"] or {}).values():
                if isinstance(child_record, dict):
                    for key, value in child_record.items():
                        if key.startswith("import_"):
                            found.setdefault(key, []).append(value)
    return {key: statistics.median(values) for key, values in found.items()}


# ---- Markdown -------------------------------------------------------------------------------------------------

def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1e3:.2f}"


def _x(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.2f}x"


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head),
            *("| " + " | ".join(str(c) for c in row) + " |" for row in rows), ""]


def summary_table(summary: dict[str, Any], with_torch: bool) -> list[str]:
    head = ["gradient", "process", "cases", "check_grad median ms", "evaluations (median)", "check_grad statuses",
            "high precision"]
    if with_torch:
        head += ["torch median ms", "torch evaluations", "torch statuses", "median of ratios",
                 f"max ratio (>= {MANY_INPUTS} inputs)"]
    rows = []
    for path in PATHS:
        for temperature in TEMPERATURES:
            s = summary[f"{path}_{temperature}"]
            row = [path, temperature, s["cases"], _ms(s["median_s"]), f"{s['median_evaluations']:g}", s["statuses"],
                   f"{s['high_precision']}/{s['cases']}"]
            if with_torch:
                worst = s["max_ratio_many_inputs_case"]
                row += [_ms(s["torch_median_s"]), f"{s['torch_median_evaluations']:g}", s["torch_statuses"],
                        f"**{_x(s['median_ratio'])}**", f"{_x(s['max_ratio_many_inputs'])} ({worst})"]
            rows.append(row)
    return _table(head, rows)


def case_table(records: list[dict[str, Any]], path: str, with_torch: bool) -> list[str]:
    head = ["case", "inputs", "cold ms", "warm ms", "evaluations", "status"]
    if with_torch:
        head = ["case", "inputs", "cold ms", "torch cold ms", "cold ratio", "warm ms", "torch warm ms", "warm ratio",
                "evaluations", "torch evaluations", "status", "torch status"]
    rows = []
    for r in records:
        cold_pair, warm_pair = r[path]["cold"] or {}, r[path]["warm"]
        ours = warm_pair["check_grad"]
        cold_ours = _ms(cold_pair["check_grad"]["seconds"]) if cold_pair else "—"
        if with_torch:
            cold_torch = _ms(cold_pair["torch"]["seconds"]) if cold_pair else "—"
            rows.append([r["case"], r["inputs"], cold_ours, cold_torch, _x(cold_pair.get("ratio")),
                         _ms(ours["seconds"]), _ms(warm_pair["torch"]["seconds"]), _x(warm_pair["ratio"]),
                         ours["evaluations"], warm_pair["torch"]["evaluations"], ours["status"],
                         warm_pair["torch"]["status"]])
        else:
            rows.append([r["case"], r["inputs"], cold_ours, _ms(ours["seconds"]), ours["evaluations"], ours["status"]])
    return _table(head, rows)


def function_table(records: list[dict[str, Any]]) -> list[str]:
    """One row per function: the ratios to torch (warm: the median over its seeds), evaluations and times."""
    head = ["function", "inputs", "passing cold", "passing warm", "failing cold", "failing warm",
            "evaluations passing / failing", "warm ms passing / failing", "torch warm ms"]
    rows = []
    for name in dict.fromkeys(r["name"] for r in records):
        mine = [r for r in records if r["name"] == name]

        def median(path, temperature, key, mine=mine):
            values = [key(r[path][temperature]) for r in mine if r[path][temperature] is not None]
            return statistics.median(values) if values else None

        rows.append([name, mine[0]["inputs"], *(_x(median(p, t, lambda c: c["ratio"])) for p in PATHS
                                                 for t in TEMPERATURES),
                     " / ".join(f"{median(p, 'warm', lambda c: c['check_grad']['evaluations']):g}" for p in PATHS),
                     " / ".join(_ms(median(p, "warm", lambda c: c["check_grad"]["seconds"])) for p in PATHS),
                     _ms(median("passing", "warm", lambda c: c["torch"]["seconds"]))])
    return _table(head, rows)


def scaling_table(rows: list[dict[str, Any]]) -> list[str]:
    head = ["elements", "checker", "seconds", "evaluations", "status", "high precision", "backend"]
    body = []
    for r in rows:
        if r["state"] != "done":
            body.append([r["size"], r["checker"], r["state"], "", r.get("note", ""), "", ""])
            continue
        body.append([r["size"], r["checker"], f"{r['seconds']:.3f}", r["evaluations"], r["status"],
                     "" if "high_precision" not in r else ("yes" if r["high_precision"] else "no"),
                     r.get("backend") or ""])
    return _table(head, body)


def render(payload: dict[str, Any]) -> str:
    info, with_torch = payload["machine"], payload["torch"]
    packages = ", ".join(f"{k} {info[k]}" for k in ("numpy", "mpmath", "gmpy2", "numpy-quaddtype", "torch", "scipy"))
    lines = [f"## What users get ({'quick' if payload['quick'] else 'full'} run)", "",
             f"Command: `{payload['command']}`; {info['date']}, {info['cpu']} ({info['cores']} cores, "
             f"{info['machine']}), Python {info['python']}, {packages}; run took {payload['seconds']:.0f} s.", "",
             "### Summary (times are medians over cases" + ("; ratio: check_grad / torch on the same case)"
                                                            if with_torch else ")"), "",
             *summary_table(payload["summary"], with_torch), "### Imports (median over the cold children)", "",
             *_table(["import", "ms"], [[k.removeprefix("import_").removesuffix("_s"), _ms(v)]
                                        for k, v in payload["imports"].items()])]
    if with_torch:
        lines += ["### Per function: ratio to torch (warm: median over the seeds)", "",
                  *function_table(payload["cases"])]
    for path in PATHS:
        lines += [f"### Per case: {path} gradient", "", *case_table(payload["cases"], path, with_torch)]
    lines += ["### Scaling: sum(x tanh(x)), defaults", "", *scaling_table(payload["scaling"])]
    return "\n".join(lines)


# ---- command --------------------------------------------------------------------------------------------------


def _config(options: argparse.Namespace) -> Config:
    config = QUICK if options.quick else full_config()
    if options.cases:
        config = Config(**{**asdict(config), "names": tuple(options.cases.split(","))})
    if options.sizes:
        config = Config(**{**asdict(config), "sizes": tuple(int(float(s)) for s in options.sizes.split(","))})
    return config


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 cases, 3 warm repeats, sizes up to 1000")
    parser.add_argument("--no-torch", action="store_true", help="leave torch out even when it is installed")
    parser.add_argument("--cases", help="comma-separated case names (corpus names or three_layer_net_example)")
    parser.add_argument("--sizes", help="comma-separated scaling sizes")
    outputs.add_options(parser, DEFAULT_JSON, DEFAULT_MARKDOWN)
    options = parser.parse_args(argv)
    if options.render:
        text = render(json.loads(Path(options.render).read_text()))
        outputs.publish(text, options)
        return
    import bench_detection
    import checkers

    config = _config(options)
    with_torch = checkers.installed("torch") and not options.no_torch
    chosen = ("check_grad", "torch") if with_torch else ("check_grad",)
    started = time.perf_counter()
    records = measure_cases(config, chosen)
    scaling_rows = measure_scaling(config, with_torch)
    arguments = " ".join(argv if argv is not None else sys.argv[1:])
    payload = {"benchmark": "user_speed", "quick": options.quick, "torch": with_torch, "config": asdict(config),
               "command": f"python benchmarks/bench_user_speed.py {arguments}".strip(),
               "machine": bench_detection.machine(), "seconds": time.perf_counter() - started,
               "summary": summarize(records), "imports": import_times(records), "cases": records,
               "scaling": scaling_rows}
    text = render(payload)
    outputs.publish(text, options, payload)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        spec = json.loads(sys.argv[2])
        print(json.dumps(child(spec["checker"], spec["name"], spec["seed"], spec["failing"])))
    else:
        main()
