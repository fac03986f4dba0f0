"""Measuring a subprocess's peak memory honestly.

Linux folds the RSS a process had when it was forked into its ``ru_maxrss`` (at exec), so a
direct child of a large pytest process reports pytest's peak, not its own, and so does
``wait4`` on it. A small interpreter in between starts the measured process from a small
parent; that process's own ``RUSAGE_SELF``, or the small parent's ``RUSAGE_CHILDREN``, is then
its real peak.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

SPAWN_CLEAN: Final = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)"

_SPAWN_AND_REPORT: Final = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[2:]).returncode\n"
    "peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "open(sys.argv[1], 'w').write(str(peak_kb))\n"
    "sys.exit(code)\n"
)


def clean_start(command: list[str]) -> list[str]:
    """``command`` run through a small interpreter, so its own ``ru_maxrss`` starts clean."""
    return [sys.executable, "-c", SPAWN_CLEAN, *command]


def reporting_peak(command: list[str], report: Path) -> list[str]:
    """``command`` run so that its peak RSS, in kilobytes, is written to ``report`` at exit."""
    return [sys.executable, "-c", _SPAWN_AND_REPORT, str(report), *command]


def reported_peak_mb(report: Path) -> float:
    """The peak RSS that :func:`reporting_peak` wrote, in megabytes."""
    return int(report.read_text()) / 1024
