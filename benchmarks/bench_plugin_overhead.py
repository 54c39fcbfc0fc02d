"""What the plugin costs a suite with no gradient checks: plain pytest vs pytest with pytest-gradcheck loaded.

Run: .venv/bin/python benchmarks/bench_plugin_overhead.py  (prints a table and JSON)
Both variants run in the same process tree, alternating, on a generated suite of trivial tests; the figure
is the ratio of median wall times.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TESTS = 500  # trivial tests: enough that per-test hooks would show, few enough for a quick run
REPEATS = 21  # alternating runs per variant; medians resist the machine's other load (9 runs left +-3%)


def _suite(folder: Path) -> None:
    body = "\n".join(f"def test_{i}():\n    assert {i} + 1 > {i}\n" for i in range(TESTS))
    (folder / "test_plain.py").write_text("import pytest\n\n" + body)
    (folder / "pytest.ini").write_text("[pytest]\n")


def _run(folder: Path, *extra: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra], cwd=folder,
                   check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        _suite(folder)
        _run(folder)  # warm the file system and bytecode caches
        plain, loaded = [], []
        for _ in range(REPEATS):
            plain.append(_run(folder, "-p", "no:gradcheck"))
            loaded.append(_run(folder))
    ratio = statistics.median(loaded) / statistics.median(plain)
    # each loaded run against the plain run just before it (the same state of the machine), then the median
    paired = statistics.median(b / a for a, b in zip(plain, loaded, strict=True))
    print(f"{TESTS} trivial tests, {REPEATS} alternating runs each")
    print(f"plain pytest (-p no:gradcheck): median {statistics.median(plain):.3f} s")
    print(f"with pytest-gradcheck:          median {statistics.median(loaded):.3f} s")
    print(f"ratio of medians: {ratio:.4f} ({(ratio - 1) * 100:+.2f}%)")
    print(f"median of paired ratios: {paired:.4f} ({(paired - 1) * 100:+.2f}%)")
    print(json.dumps({"benchmark": "plugin_overhead", "tests": TESTS, "plain_seconds": plain,
                      "gradcheck_seconds": loaded, "ratio": ratio, "paired_ratio": paired}))


if __name__ == "__main__":
    main()
