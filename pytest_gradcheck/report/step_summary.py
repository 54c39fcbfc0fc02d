"""GitHub Actions job summaries: where the plugin appends its Markdown summary, and how.

GitHub Actions sets `GITHUB_STEP_SUMMARY` to a file that each step may append Markdown to; the job page shows
it. Other tools of the same step write there too, so the summary is appended, never written over.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

VARIABLE = "GITHUB_STEP_SUMMARY"
OPTION = "--gradcheck-step-summary"
INI_KEY = "gradcheck_step_summary"
CHOICES = {"on": True, "off": False}
NEW_FILE_MODE = 0o644  # the runner creates the file; if it is missing, a plain readable file like any other


def target(setting: str | None, environ: Mapping[str, str]) -> str | None:
    """The file to append the summary to: `GITHUB_STEP_SUMMARY` when it is set (not empty) and the setting
    (command line or ini value, None when not given) is not "off". A value other than on/off raises ValueError."""
    if setting is not None and setting not in CHOICES:
        raise ValueError(f"{OPTION} (ini {INI_KEY}): expected one of {', '.join(CHOICES)}; got {setting!r}")
    if setting is not None and not CHOICES[setting]:
        return None
    return environ.get(VARIABLE) or None


def append(path: str | os.PathLike[str], text: str) -> None:
    """Append `text` (UTF-8) to the file at `path`, creating it if missing, in one write so that a partial append
    is unlikely; a blank line first when the file already has content, so the summary starts a Markdown block.
    Raises OSError (no permission, a folder in the way, a full disk)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, NEW_FILE_MODE)
    try:
        data = (b"\n" if os.fstat(fd).st_size else b"") + text.encode("utf-8")
        view = memoryview(data)
        while view:  # one call writes everything on a regular file; the loop only guards a short write
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
