"""Second-order, forward-mode and complex checks: false positives, detection of a planted 1e-9 error, wrong complex
conventions, and cost against torch.autograd.gradgradcheck and torch.autograd.gradcheck, in the same run.

Command: `.venv/bin/python benchmarks/bench_second_order.py [--quick] [--no-torch] [--json [PATH]]
[--markdown [PATH]]` (`--render JSON` prints a saved run's tables again).

On the corpus of benchmarks/second_order_corpus.py, every check at its defaults with `raise_on_mismatch=False`:

- `hvp`: `check_hvp(f, args, hvp=...)`; `hessian`: `check_hessian(f, args, hessian=...)` (8 scalar functions);
- `jvp`: `check_jvp(f, args, jvp=..., vjp=...)` (6 array functions);
- `complex`: `check_grad(f, args, grad=..., complex_convention=c)`, for each convention the case has a gradient
  in (4 real-valued losses in "torch" and "jax", 2 holomorphic functions in "holomorphic").

Measured:
- False positives: the correct derivatives flagged (`ok` False), at every seed (target 0).
- Detection: a 1e-9 relative error planted (second_order_mutations.py) in one Hessian element (alone, and with
  its mirror so H stays symmetric), one HVP component, one JVP component, one VJP component, the real or the
  imaginary part of one complex gradient component; several seeds, each drawing its own element.
- Wrong convention: each complex gradient given in another convention (JAX's for "torch", torch's for "jax",
  conj(f') for "holomorphic"): flagged, and *named*: the result's message, notes or convention note mention the
  convention the gradient is really in.
- Cost on the correct derivatives: wall time (median over the warm repeats) and evaluations of f. With torch
  importable (a separate venv: see bench_user_speed.py), torch's check of the same function written in torch
  (`torch_f` in the corpus), in the same run: `gradgradcheck` for hvp and hessian, `gradcheck` on the complex
  inputs for complex, `gradcheck(check_forward_ad=True)` for jvp. Warm: alternating repeats in this process,
  medians; cold: each check the first in a fresh interpreter (seed 0 only). Ratio: ours / torch's on the same
  case; summary: the median of the per-case ratios.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import outputs  # noqa: E402 (benchmarks/ on the path first)

DEFAULT_JSON = "reports/bench_second_order.json"  # reports/ is git-ignored
DEFAULT_MARKDOWN = "reports/bench_second_order.md"
PLANTED = 1e-9
KINDS = ("hvp", "hessian", "jvp", "complex")
CHECK_FUNCTIONS = {"hvp": "check_hvp", "hessian": "check_hessian", "jvp": "check_jvp", "complex": "check_grad"}
TORCH_CHECKS = {"hvp": "gradgradcheck", "hessian": "gradgradcheck", "jvp": "gradcheck(check_forward_ad=True)",
                "complex": "gradcheck (complex inputs)"}
CHILD_TIMEOUT = 600.0


@dataclass(frozen=True)
class Config:
    kinds: tuple[str, ...]
    names: dict[str, tuple[str, ...]]  # kind -> corpus names
    correct_seeds: tuple[int, ...]
    planted_seeds: tuple[int, ...]
    repeats: int  # warm timings per correct case and checker
    cold: bool  # also time seed 0 of each case in fresh interpreters


def full_config() -> Config:
    import second_order_corpus as corpus

    names = {"hvp": corpus.SECOND_ORDER, "hessian": corpus.SECOND_ORDER, "jvp": corpus.FORWARD,
             "complex": corpus.COMPLEX}
    return Config(kinds=KINDS, names=names, correct_seeds=(0, 1, 2), planted_seeds=(0, 1, 2), repeats=3, cold=True)


SCALAR_QUICK = ("logistic_regression", "gaussian_nll")  # one argument, and two (a nested Hessian)
QUICK = Config(kinds=KINDS, names={"hvp": SCALAR_QUICK, "hessian": SCALAR_QUICK,
                                   "jvp": ("stable_softplus", "matmul_layer"),
                                   "complex": ("abs_squared", "polynomial_exp")},
               correct_seeds=(0,), planted_seeds=(0,), repeats=1, cold=False)


def missing_api() -> list[str]:
    """The names of issue 18's checks this tree does not have yet (empty once they are merged)."""
    import pytest_gradcheck

    missing = [n for n in ("check_hvp", "check_hessian", "check_jvp") if not hasattr(pytest_gradcheck, n)]
    if "complex_convention" not in inspect.signature(pytest_gradcheck.check_grad).parameters:
        missing.append("check_grad(complex_convention=...)")
    return missing


def available_kinds() -> tuple[str, ...]:
    missing = missing_api()
    gone = {"check_hvp": "hvp", "check_hessian": "hessian", "check_jvp": "jvp",
            "check_grad(complex_convention=...)": "complex"}
    return tuple(k for k in KINDS if k not in {gone[m] for m in missing})


# ---- cases ------------------------------------------------------------------------------------------------------

def problem(kind: str, name: str, seed: int) -> Any:
    import second_order_corpus as corpus

    if kind in ("hvp", "hessian"):
        return corpus.make_second_order(name, seed)
    return corpus.make_forward(name, seed) if kind == "jvp" else corpus.make_complex(name, seed)


def variants(kind: str, name: str) -> list[str | None]:
    """The complex conventions a case is checked in (None for the other kinds)."""
    return list(problem(kind, name, 0).grads) if kind == "complex" else [None]


def correct(kind: str, p: Any, convention: str | None) -> dict[str, Any]:
    """The keyword arguments of our check with the correct derivatives."""
    if kind == "hvp":
        return {"hvp": p.hvp}
    if kind == "hessian":
        return {"hessian": p.hessian}
    if kind == "jvp":
        return {"jvp": p.jvp, "vjp": p.vjp}
    return {"grad": p.grads[convention], "complex_convention": convention}


def plants(kind: str, p: Any, convention: str | None, seed: int, d: float = PLANTED) -> list[tuple[str, dict, str]]:
    """(plant, keyword arguments, detail) for each planted error of the kind, at this seed."""
    import second_order_mutations as mutations

    args = p.args
    if kind == "hessian":
        made = [mutations.plant_hessian(p.hessian, args, d, seed, symmetric) for symmetric in (False, True)]
        return [(m.plant, {"hessian": m.derivative}, m.detail) for m in made]
    if kind == "hvp":
        m = mutations.plant_hvp(p.hvp, args, d, seed)
        return [(m.plant, {"hvp": m.derivative}, m.detail)]
    if kind == "jvp":
        j, v = mutations.plant_jvp(p.jvp, args, d, seed), mutations.plant_vjp(p.vjp, p.f, args, d, seed)
        return [(j.plant, {"jvp": j.derivative, "vjp": p.vjp}, j.detail),
                (v.plant, {"jvp": p.jvp, "vjp": v.derivative}, v.detail)]
    made = [mutations.plant_complex(p.grads[convention], args, d, seed, part) for part in mutations.COMPLEX_PARTS]
    return [(m.plant, {"grad": m.derivative, "complex_convention": convention}, m.detail) for m in made]


def wrong_convention(p: Any, convention: str) -> tuple[str, dict[str, Any]]:
    mistaken, grad = p.wrong[convention]
    return mistaken, {"grad": grad, "complex_convention": convention}


# ---- the checks -------------------------------------------------------------------------------------------------

def _text(result: Any) -> str:
    """What names a wrong convention: the result's convention note where it has one (its message names the
    convention the check ran in anyway), else its message and notes."""
    if hasattr(result, "convention_note"):
        return str(result.convention_note or "")
    parts = [result.message() if callable(getattr(result, "message", None)) else str(result)]
    return "\n".join(parts + list(getattr(result, "notes", ()) or ()))


def ours(kind: str, p: Any, keywords: dict[str, Any]) -> dict[str, Any]:
    """Our check at its defaults (raise_on_mismatch=False): flagged, status, seconds, evaluations, its text."""
    import pytest_gradcheck

    check = getattr(pytest_gradcheck, CHECK_FUNCTIONS[kind])
    start = time.perf_counter()
    try:
        result = check(p.f, p.args, raise_on_mismatch=False, **keywords)
    except Exception as error:  # a crash is a finding: recorded, never hidden
        return {"flagged": True, "status": f"error: {type(error).__name__}: {error}",
                "seconds": time.perf_counter() - start, "evaluations": 0, "text": ""}
    return {"flagged": not result.ok, "status": result.status, "seconds": time.perf_counter() - start,
            "evaluations": result.evaluations, "text": _text(result)}


def torch_check(kind: str, p: Any) -> dict[str, Any]:
    """torch's check of the same function written in torch (float64 / complex128 leaf tensors, its defaults)."""
    import torch
    from checkers import Counted

    start = time.perf_counter()
    f = Counted(p.torch_f(torch))
    inputs = tuple(torch.tensor(a, requires_grad=True) for a in p.args)  # float64 / complex128, as the corpus
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind in ("hvp", "hessian"):
            ok = torch.autograd.gradgradcheck(f, inputs, raise_exception=False)
        elif kind == "jvp":
            ok = torch.autograd.gradcheck(f, inputs, check_forward_ad=True, raise_exception=False)
        else:
            ok = torch.autograd.gradcheck(f, inputs, raise_exception=False)
    return {"flagged": not ok, "status": "pass" if ok else "fail", "seconds": time.perf_counter() - start,
            "evaluations": f.calls}


def run_check(checker: str, kind: str, name: str, seed: int, convention: str | None) -> dict[str, Any]:
    p = problem(kind, name, seed)
    return ours(kind, p, correct(kind, p, convention)) if checker == "ours" else torch_check(kind, p)


# ---- cold: one check in a fresh interpreter ---------------------------------------------------------------------

def child(spec: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    if spec["checker"] == "ours":
        import pytest_gradcheck

        getattr(pytest_gradcheck, CHECK_FUNCTIONS[spec["kind"]])  # the package loads its modules on first use
    else:
        import torch  # noqa: F401
    record = {"import_s": time.perf_counter() - started}
    outcome = run_check(spec["checker"], spec["kind"], spec["name"], spec["seed"], spec["convention"])
    return record | {k: v for k, v in outcome.items() if k != "text"}


def cold(checker: str, kind: str, name: str, seed: int, convention: str | None) -> dict[str, Any]:
    spec = json.dumps({"checker": checker, "kind": kind, "name": name, "seed": seed, "convention": convention})
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", spec], capture_output=True,
                          text=True, timeout=CHILD_TIMEOUT, check=False, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"cold {checker} check of {kind} {name}/{seed} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---- the run ----------------------------------------------------------------------------------------------------


def _case(kind: str, name: str, convention: str | None) -> str:
    return f"{name}[{convention}]" if convention else name


def _warm(kind: str, name: str, seed: int, convention: str | None, repeats: int,
          with_torch: bool) -> dict[str, Any]:
    """Ours (and torch's) `repeats` times on the correct derivatives, alternating: medians, and every status."""
    runs: dict[str, list[dict[str, Any]]] = {"ours": []} | ({"torch": []} if with_torch else {})
    for _ in range(repeats):
        for checker in runs:
            runs[checker].append(run_check(checker, kind, name, seed, convention))
    out = {}
    for checker, done in runs.items():
        out[checker] = done[-1] | {"seconds": statistics.median(r["seconds"] for r in done),
                                   "all_seconds": [r["seconds"] for r in done],
                                   "statuses": sorted({r["status"] for r in done}),
                                   "flagged": any(r["flagged"] for r in done)}
        out[checker].pop("text", None)
    if with_torch:
        out["ratio"] = out["ours"]["seconds"] / out["torch"]["seconds"]
    return out


def _cold_pair(kind: str, name: str, convention: str | None, with_torch: bool) -> dict[str, Any]:
    pair = {"ours": cold("ours", kind, name, 0, convention)}
    if with_torch:
        pair["torch"] = cold("torch", kind, name, 0, convention)
        pair["ratio"] = pair["ours"]["seconds"] / pair["torch"]["seconds"]
    return pair


def _planted_records(kind: str, name: str, seed: int, convention: str | None) -> list[dict[str, Any]]:
    p = problem(kind, name, seed)
    records = []
    for plant, keywords, detail in plants(kind, p, convention, seed):
        outcome = ours(kind, p, keywords)
        records.append({"plant": plant, "detail": detail} | {k: v for k, v in outcome.items() if k != "text"})
    if convention is not None:
        mistaken, keywords = wrong_convention(p, convention)
        outcome = ours(kind, p, keywords)
        text = outcome.pop("text")
        named = mistaken in text.lower()
        records.append({"plant": "wrong_convention", "detail": f"a gradient in {mistaken}'s convention",
                        "named": bool(outcome["flagged"] and named), "message": text[:600]} | outcome)
    return records


def measure_kind(kind: str, config: Config, with_torch: bool) -> list[dict[str, Any]]:
    records = []
    for name in config.names[kind]:
        for convention in variants(kind, name):
            started = time.perf_counter()
            record: dict[str, Any] = {"kind": kind, "name": name, "convention": convention,
                                      "case": _case(kind, name, convention),
                                      "inputs": int(sum(a.size for a in problem(kind, name, 0).args)),
                                      "correct": {}, "planted": {}}
            for seed in config.correct_seeds:
                record["correct"][str(seed)] = _warm(kind, name, seed, convention, config.repeats, with_torch)
            record["cold"] = _cold_pair(kind, name, convention, with_torch) if config.cold else None
            for seed in config.planted_seeds:
                record["planted"][str(seed)] = _planted_records(kind, name, seed, convention)
            records.append(record)
            outputs.progress(f"  {kind} {record['case']}: {time.perf_counter() - started:.1f} s")
    return records


def measure(config: Config, with_torch: bool) -> list[dict[str, Any]]:
    kinds = [k for k in config.kinds if k in available_kinds()]
    first = kinds[0] if kinds else None
    if first is not None:  # untimed: imports and first-call set-up stay out of the warm figures
        name = config.names[first][0]
        _warm(first, name, 0, variants(first, name)[0], 1, with_torch)
    return [r for kind in kinds for r in measure_kind(kind, config, with_torch)]


# ---- summary ----------------------------------------------------------------------------------------------------

def _counts(values: list[Any]) -> str:
    return ", ".join(f"{k} {n}" for k, n in sorted(Counter(values).items(), key=lambda kv: (-kv[1], str(kv[0]))))


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _raised(statuses: list[str]) -> bool:
    return any(s.startswith("error") for s in statuses)


def _caught(planted: dict[str, Any]) -> bool:
    """A planted error is caught when the check fails it; a check that raised caught nothing."""
    return bool(planted["flagged"]) and not planted["status"].startswith("error")


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Per kind: false positives, detection per plant, wrong conventions flagged and named, medians of time,
    evaluations and ratios to torch (warm over every correct seed; cold over the cold cases)."""
    out: dict[str, Any] = {}
    for kind in dict.fromkeys(r["kind"] for r in records):
        mine = [r for r in records if r["kind"] == kind]
        correct_runs = [(r, w) for r in mine for w in r["correct"].values()]
        planted = [p for r in mine for seed_records in r["planted"].values() for p in seed_records]
        flagged_correct = [f"{r['case']}" for r, w in correct_runs if w["ours"]["flagged"]]
        timed = [(r, w) for r, w in correct_runs if not _raised(w["ours"]["statuses"])]  # cost: checks that ran
        errors = [s for _, w in correct_runs for s in w["ours"]["statuses"] if s.startswith("error")]
        errors += [p["status"] for p in planted if p["status"].startswith("error")]
        row: dict[str, Any] = {
            "cases": len(mine), "correct_checks": len(correct_runs), "false_positives": len(flagged_correct),
            "false_positive_cases": flagged_correct, "errors": len(errors), "error_messages": sorted(set(errors)),
            "statuses": _counts([s for _, w in correct_runs for s in w["ours"]["statuses"]]),
            "median_s": _median([w["ours"]["seconds"] for _, w in timed]),
            "median_evaluations": _median([w["ours"]["evaluations"] for _, w in timed]),
            "detection": {}, "planted_statuses": {},
        }
        for plant in dict.fromkeys(p["plant"] for p in planted):
            these = [p for p in planted if p["plant"] == plant]
            row["detection"][plant] = {"caught": sum(_caught(p) for p in these), "n": len(these)}
            row["planted_statuses"][plant] = _counts([p["status"] for p in these])
            if plant == "wrong_convention":
                row["detection"][plant]["named"] = sum(p["named"] for p in these)
        ratios = [w["ratio"] for _, w in timed if "ratio" in w]
        if ratios:
            row |= {"torch_median_s": _median([w["torch"]["seconds"] for _, w in timed]),
                    "torch_median_evaluations": _median([w["torch"]["evaluations"] for _, w in timed]),
                    "torch_statuses": _counts([w["torch"]["status"] for _, w in timed]),
                    "warm_median_ratio": _median(ratios), "warm_max_ratio": max(ratios)}
        colds = [r["cold"] for r in mine if r.get("cold") and not _raised([r["cold"]["ours"]["status"]])]
        if colds:
            row["cold_median_s"] = _median([c["ours"]["seconds"] for c in colds])
            if all("ratio" in c for c in colds):
                row |= {"cold_torch_median_s": _median([c["torch"]["seconds"] for c in colds]),
                        "cold_median_ratio": _median([c["ratio"] for c in colds])}
        out[kind] = row
    return out


# ---- Markdown ---------------------------------------------------------------------------------------------------

def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1e3:.1f}"


def _x(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.2f}x"


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head),
            *("| " + " | ".join(str(c) for c in row) + " |" for row in rows), ""]


def detection_table(summary: dict[str, Any]) -> list[str]:
    rows = []
    for kind, s in summary.items():
        rows.append([kind, CHECK_FUNCTIONS[kind], s["cases"], f"**{s['false_positives']}** / {s['correct_checks']}",
                     s["statuses"], s["errors"], "", "", ""])
        for plant, d in s["detection"].items():
            named = f"{d['named']} / {d['n']}" if "named" in d else ""
            rows.append(["", "", "", "", "", "", plant, f"**{d['caught']}** / {d['n']}", named])
    return _table(["kind", "check", "cases", "false positives", "statuses (correct)", "checks that raised",
                   f"planted ({PLANTED:.0e} relative)", "caught", "convention named"], rows)


def cost_table(summary: dict[str, Any], with_torch: bool) -> list[str]:
    head = ["kind", "median ms (warm)", "median evaluations"]
    if with_torch:
        head += ["torch check", "torch ms (warm)", "torch evaluations", "warm ratio (median)", "warm ratio (max)",
                 "cold ms", "torch cold ms", "cold ratio (median)"]
    rows = []
    for kind, s in summary.items():
        row = [kind, _ms(s["median_s"]), f"{s['median_evaluations']:g}" if s["median_evaluations"] else "—"]
        if with_torch:
            row += [TORCH_CHECKS[kind], _ms(s.get("torch_median_s")), f"{s.get('torch_median_evaluations') or 0:g}",
                    f"**{_x(s.get('warm_median_ratio'))}**", _x(s.get("warm_max_ratio")), _ms(s.get("cold_median_s")),
                    _ms(s.get("cold_torch_median_s")), f"**{_x(s.get('cold_median_ratio'))}**"]
        rows.append(row)
    return _table(head, rows)


def case_table(records: list[dict[str, Any]], with_torch: bool) -> list[str]:
    head = ["kind", "case", "inputs", "statuses (correct)", "ms (warm, seed 0)", "evaluations", "planted caught"]
    if with_torch:
        head += ["torch ms", "ratio warm", "ratio cold"]
    rows = []
    for r in records:
        first = next(iter(r["correct"].values()))
        planted = [p for seed_records in r["planted"].values() for p in seed_records]
        row = [r["kind"], r["case"], r["inputs"], ", ".join(sorted({s for w in r["correct"].values()
                                                                      for s in w["ours"]["statuses"]})),
               _ms(first["ours"]["seconds"]), first["ours"]["evaluations"],
               f"{sum(_caught(p) for p in planted)} / {len(planted)}"]
        if with_torch:
            row += [_ms(first["torch"]["seconds"]), _x(first.get("ratio")), _x((r.get("cold") or {}).get("ratio"))]
        rows.append(row)
    return _table(head, rows)


def misses(records: list[dict[str, Any]]) -> list[str]:
    """Every planted error passed, every wrong convention not named, every false positive: one line each."""
    lines = []
    for r in records:
        for seed, w in r["correct"].items():
            if w["ours"]["flagged"]:
                lines.append(f"- false positive: {r['kind']} {r['case']} seed {seed}: {w['ours']['statuses']}")
        for seed, planted in r["planted"].items():
            for p in planted:
                if not _caught(p):
                    lines.append(f"- missed: {r['kind']} {r['case']} seed {seed}: {p['detail']} ({p['status']})")
                elif p["plant"] == "wrong_convention" and not p["named"]:
                    lines.append(f"- not named: {r['kind']} {r['case']} seed {seed}: {p['detail']}")
    return lines or ["none"]


def render(payload: dict[str, Any]) -> str:
    info, with_torch = payload["machine"], payload["torch"]
    packages = ", ".join(f"{k} {info[k]}" for k in ("numpy", "mpmath", "gmpy2", "numpy-quaddtype", "torch", "scipy"))
    lines = [f"## Second-order, forward-mode and complex checks ({'quick' if payload['quick'] else 'full'} run)", "",
             f"Command: `{payload['command']}`; {info['date']}, {info['cpu']} ({info['cores']} cores, "
             f"{info['machine']}), Python {info['python']}, {packages}; run took {payload['seconds']:.0f} s.", ""]
    if payload.get("missing_api"):
        lines += [f"Not measured (not in this tree): {', '.join(payload['missing_api'])}.", ""]
    lines += ["### Correct derivatives and planted errors", "", *detection_table(summarize(payload["cases"])),
              "### Cost" + (" (ratio: ours / torch's on the same case)" if with_torch else ""), "",
              *cost_table(summarize(payload["cases"]), with_torch), "### Per case", "",
              *case_table(payload["cases"], with_torch), "### Misses, false positives, unnamed conventions", "",
              *misses(payload["cases"]), ""]
    return "\n".join(lines)


# ---- command ----------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 cases per kind, one seed, no cold runs")
    parser.add_argument("--kinds", help=f"comma-separated kinds to run (default all: {','.join(KINDS)})")
    parser.add_argument("--no-cold", action="store_true", help="warm timings only (no fresh interpreters)")
    parser.add_argument("--no-torch", action="store_true", help="leave torch out even when it is installed")
    outputs.add_options(parser, DEFAULT_JSON, DEFAULT_MARKDOWN)
    options = parser.parse_args(argv)
    if options.render:
        text = render(json.loads(Path(options.render).read_text()))
        outputs.publish(text, options)
        return None
    import bench_detection
    import checkers

    config = QUICK if options.quick else full_config()
    if options.kinds:
        config = Config(**{**asdict(config), "kinds": tuple(options.kinds.split(","))})
    if options.no_cold:
        config = Config(**{**asdict(config), "cold": False})
    with_torch = checkers.installed("torch") and not options.no_torch
    started = time.perf_counter()
    records = measure(config, with_torch)
    arguments = " ".join(argv if argv is not None else sys.argv[1:])
    payload = {"benchmark": "second_order", "quick": options.quick, "torch": with_torch, "config": asdict(config),
               "command": f"python benchmarks/bench_second_order.py {arguments}".strip(),
               "machine": bench_detection.machine(), "seconds": time.perf_counter() - started,
               "missing_api": missing_api(), "summary": summarize(records), "cases": records}
    text = render(payload)
    outputs.publish(text, options, payload)
    return payload


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(child(json.loads(sys.argv[2]))))
    else:
        main()
