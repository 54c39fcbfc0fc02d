"""The `gradcheck` console script: show a report, compare two, or write a Markdown summary.

Exit codes: 0 done (no regression), 1 `compare` found a regression, 2 bad usage or an unusable report (one line
on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import shutil
import sys

from pytest_gradcheck.report import baseline, render, report

EXIT_OK, EXIT_REGRESSED, EXIT_BAD_INPUT = 0, 1, 2


def _factor(text: str) -> float:
    try:
        return baseline.validate_factor(float(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("factor: ")) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gradcheck", description="Read pytest-gradcheck reports "
                                     "(written by pytest --gradcheck-report=PATH).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    factor_help = ("an error that grows by more than this factor is a regression "
                   f"(default: {baseline.DEFAULT_REGRESSION_FACTOR:g})")

    show = commands.add_parser("show", help="print the checks of a report as a table")
    show.add_argument("report", metavar="REPORT")
    show.add_argument("-v", "--verbose", action="store_true", help="also list each check's ops")

    compare = commands.add_parser("compare", help="compare a report with a baseline; exit 1 on a regression")
    compare.add_argument("baseline", metavar="BASELINE")
    compare.add_argument("current", metavar="CURRENT")
    compare.add_argument("--factor", type=_factor, default=baseline.DEFAULT_REGRESSION_FACTOR, help=factor_help)

    markdown = commands.add_parser("markdown", help="write a Markdown summary (for a CI job page); exit 0 even "
                                   "on a regression (use compare to fail the job)")
    markdown.add_argument("report", metavar="REPORT")
    markdown.add_argument("--baseline", metavar="B", help="also compare with this baseline report")
    markdown.add_argument("--factor", type=_factor, default=baseline.DEFAULT_REGRESSION_FACTOR, help=factor_help)
    markdown.add_argument("-o", "--output", metavar="OUT", help="write to OUT (atomically) instead of stdout")
    return parser


def _show(args: argparse.Namespace) -> int:
    width = shutil.get_terminal_size().columns  # $COLUMNS, the terminal, or 80 in a pipe
    render.render_summary(report.load_report(args.report)["checks"], print, verbose=args.verbose, width=width)
    return EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    comparison = baseline.compare(report.load_report(args.baseline), report.load_report(args.current), args.factor)
    render.render_comparison(comparison, print, baseline_path=args.baseline)
    return EXIT_REGRESSED if comparison.regressed else EXIT_OK


def _markdown(args: argparse.Namespace) -> int:
    current = report.load_report(args.report)
    comparison = None
    if args.baseline:
        comparison = baseline.compare(report.load_report(args.baseline), current, args.factor)
    text = render.render_markdown(current, comparison, baseline_path=args.baseline, markdown_path=args.output)
    if args.output:
        report.write_text(args.output, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


COMMANDS = {"show": _show, "compare": _compare, "markdown": _markdown}


def main(argv: list[str] | None = None) -> int:
    """Run a command; returns the exit code (argparse's own usage errors also come back as 2)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:  # --help (0) or a usage error (2), already printed by argparse
        return stop.code if isinstance(stop.code, int) else EXIT_BAD_INPUT
    try:
        return COMMANDS[args.command](args)
    except report.ReportError as error:
        print(f"gradcheck {args.command}: error: {error}", file=sys.stderr)
    except OSError as error:
        print(f"gradcheck {args.command}: error: {error.filename or ''}: {error.strerror or error}", file=sys.stderr)
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    raise SystemExit(main())
