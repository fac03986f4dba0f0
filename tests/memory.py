"""Measuring a subprocess's peak memory honestly.

Linux carries the parent's peak RSS over into a child's ``ru_maxrss`` (it is folded in at
exec), so a direct child of a large pytest process reports pytest's peak, not its own. A small
interpreter in between gives the measured process a clean start; its ``wait4`` usage then
covers the measured process too.
"""

from __future__ import annotations

import sys
from typing import Final

SPAWN_CLEAN: Final = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)"


def clean_start(command: list[str]) -> list[str]:
    """``command`` run through a small interpreter, so its ``ru_maxrss`` starts clean."""
    return [sys.executable, "-c", SPAWN_CLEAN, *command]
