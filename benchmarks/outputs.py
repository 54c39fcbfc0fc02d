"""What the benchmark commands share: progress on stderr, the --json/--markdown/--render options, and their
output (the tables printed; Markdown and JSON files written whole: a temporary file renamed over the target, so
that a stopped run never leaves half a report)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pytest_gradcheck.report.report import write_text

RENDER_HELP = "no run: print (and --markdown: write) a saved run's tables"


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def add_options(parser: argparse.ArgumentParser, default_json: str, default_markdown: str,
                render_help: str = RENDER_HELP) -> None:
    """--json [PATH], --markdown [PATH] (their defaults when given without a path) and --render JSON."""
    parser.add_argument("--json", nargs="?", const=default_json, help=f"write JSON (default {default_json})")
    parser.add_argument("--markdown", nargs="?", const=default_markdown,
                        help=f"write Markdown (default {default_markdown})")
    parser.add_argument("--render", metavar="JSON", help=render_help)


def write(path: str, text: str) -> None:
    write_text(path, text)
    progress(f"wrote {path}")


def publish(text: str, options: argparse.Namespace, payload: dict[str, Any] | None = None) -> None:
    """Print the tables; write them as Markdown with --markdown, and `payload` as JSON with --json."""
    print(text)
    if options.markdown:
        write(options.markdown, text)
    if payload is not None and options.json:
        write(options.json, json.dumps(payload, indent=1))
