"""Detection power and cost of check_grad against torch.autograd.gradcheck and numdifftools.

Run: .venv/bin/python benchmarks/bench_detection.py [--quick] [--json [PATH]] [--markdown [PATH]]

On the corpus of benchmarks/corpus.py: false positives on correct gradients at seeded points, detection rate
of the mutations of benchmarks/mutations.py per kind and size d, detection floors, wall time and evaluations
of f per check, and the time ratio to torch's default check; then wall time against input size, and the
per-op pass against a whole-function check. torch and numdifftools columns appear when they import.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import checkers
import detection
import detection_tables
import mutations
import outputs
import scaling

DEFAULT_JSON = "reports/bench_detection.json"  # reports/ is git-ignored
DEFAULT_MARKDOWN = "reports/bench_detection.md"


LEGEND = [
    "- A check *flags* a gradient when it fails it: check_grad's `ok` is False (defaults, `per_op=\"off\"`); "
    "torch.autograd.gradcheck (float64, eps 1e-6, atol 1e-5, rtol 1e-3) returns False; numdifftools' "
    "`nd.Gradient` disagrees with the gradient under np.allclose's defaults (rtol 1e-5, atol 1e-8).",
    "- False positive: a correct gradient flagged. Detection rate: the share of mutated gradients flagged. Floor: "
    "the smallest d flagged in >= 95% of cases at that d and every larger one; n/a when the checker has false "
    "positives.",
    "- Cost on correct gradients. Time vs torch: the median over cases of (this check's time / torch's default "
    "check's time on the same function and point). Evaluations: check_grad's `result.evaluations`; calls of the "
    "numpy function for torch and numdifftools.",
    "- `check_grad auto + per-op` is a cost row (correct gradients only): with `grad=`, per-op verdicts do not "
    "decide the result, so its detection is that of `check_grad auto`.",
]


@dataclass(frozen=True)
class Config:
    correct_seeds: tuple[int, ...]  # points at which every correct gradient is checked (false positives, cost)
    mutation_seeds: tuple[int, ...]  # points at which every mutation is checked
    sizes: tuple[float, ...]  # the d of the graded mutations
    scaling_sizes: tuple[int, ...]
    cap: float  # seconds: a scaling size that takes longer is stopped


FULL = Config(
    correct_seeds=tuple(range(10)),  # 10 points x 14 functions: 140 correct gradients per checker
    mutation_seeds=tuple(range(5)),  # 5 x 14 = 70 cases per kind and d: a 95% floor allows 3 misses
    sizes=mutations.SIZES,
    scaling_sizes=(10, 100, 1000, 10**4, 10**5),
    cap=60.0,  # the limit for a full-mode check
)
QUICK = Config(
    correct_seeds=(0, 1, 2),  # 42 correct gradients per checker
    mutation_seeds=(0, 1),  # 28 cases per kind and d (transpose: 14)
    sizes=(1e-1, 1e-3, 1e-6, 1e-9, 1e-12),  # every third decade of the full list
    scaling_sizes=(10, 100, 1000, 10**4),
    cap=10.0,  # keeps --quick within about three minutes
)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    if Path("/proc/cpuinfo").exists():
        models = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")]
        cpu = models[0] if models else cpu
    return {"date": date.today().isoformat(), "cpu": cpu, "cores": os.cpu_count(), "machine": platform.machine(),
            "python": platform.python_version(), **checkers.versions()}


def header(info: dict[str, Any], config: Config, quick: bool, seconds: float) -> list[str]:
    packages = ", ".join(f"{k} {info[k]}" for k in ("numpy", "mpmath", "gmpy2", "torch", "numdifftools", "scipy"))
    command = "bench_detection.py --quick" if quick else "bench_detection.py"
    return [f"## Detection power and cost ({'quick' if quick else 'full'} run)", "",
            f"Command: `.venv/bin/python benchmarks/{command}`; {info['date']}, {info['cpu']} ({info['cores']} "
            f"cores, {info['machine']}), Python {info['python']}, {packages}; run took {seconds:.0f} s.",
            f"Points: {len(config.correct_seeds)} per function for correct gradients, {len(config.mutation_seeds)} "
            f"for mutations; scaling cap {config.cap:.0f} s per size.", "", *LEGEND]



def measure(config: Config) -> tuple[list[Any], list[Any], dict[str, Any], Any]:
    chosen = checkers.available()
    outputs.progress(f"checkers: {', '.join(c.name for c in chosen)}")
    scaling_rows = scaling.run([c.name for c in chosen] + ["check_grad_fast_per_op"], config.scaling_sizes,
                               config.cap, outputs.progress)
    detection.warm_up(chosen)
    records = detection.run(chosen, config.correct_seeds, config.mutation_seeds, config.sizes, outputs.progress)
    return records, scaling_rows, detection.summarise(records, chosen, config.sizes), chosen



def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer points, sizes d and scaling sizes (~3 min)")
    outputs.add_options(parser, DEFAULT_JSON, DEFAULT_MARKDOWN, "no run: write the Markdown of a saved JSON result")
    options = parser.parse_args(argv)
    if options.render:
        payload = json.loads(Path(options.render).read_text())
        config = Config(**{k: tuple(v) if isinstance(v, list) else v for k, v in payload["config"].items()})
        text = detection_tables.render(payload["summary"], payload["scaling"], payload["per_op_ratios"],
                                       header(payload["machine"], config, config == QUICK, payload["seconds"]))
        outputs.publish(text, options)
        return
    config = QUICK if options.quick else FULL
    started = time.perf_counter()
    records, scaling_rows, summary, _ = measure(config)
    ratios = scaling.per_op_ratios(scaling_rows)
    info = machine()
    seconds = time.perf_counter() - started
    text = detection_tables.render(summary, scaling_rows, ratios, header(info, config, options.quick, seconds))
    payload = {"benchmark": "detection", "machine": info, "config": asdict(config), "summary": summary,
               "scaling": scaling_rows, "per_op_ratios": ratios, "seconds": seconds, "records": records}
    outputs.publish(text, options, payload)


if __name__ == "__main__":
    main()
