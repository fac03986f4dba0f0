"""A counter session: scan after scan from a keyboard-wedge scanner, one verdict per scan.

``plainclaim-verify --each-line -`` keeps reading lines (the scanner types the QR text and
Enter) until end of input, so the trust data is loaded once and each verdict comes at once.
When a sync replaces the trust data (``state.json`` is rewritten by every sync), the next
scan is checked against the new data: a counter may stay open all day.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from verifier import errors
from verifier.result import VerificationResult
from verifier.trust_dir import STATE_FILE, TrustStore, load_trust_store
from verifier.verify import verify

_WEDGE_TRAILERS = "\r\n\t"


class _TrustData:
    """The trust directory, loaded again whenever a sync has replaced it."""

    def __init__(self, trust_dir: Path) -> None:
        self._trust_dir = trust_dir
        self._stamp: tuple[int, int] | None = None
        self._store: TrustStore | None = None

    def current(self) -> TrustStore:
        if self._store is None or self._state_stamp() != self._stamp:
            self._store = None
            self._store = load_trust_store(self._trust_dir)
            # Taken after loading, which may itself record a newer sequence in state.json.
            self._stamp = self._state_stamp()
        return self._store

    def _state_stamp(self) -> tuple[int, int] | None:
        # Every sync replaces state.json by a rename, so a new inode marks a new sync even
        # within the file system's timestamp granularity.
        try:
            state = (self._trust_dir / STATE_FILE).stat()
        except FileNotFoundError:
            return None
        return state.st_ino, state.st_mtime_ns


def run_counter(
    trust_dir: Path,
    scans: Iterable[str],
    answer: Callable[[VerificationResult], None],
    *,
    now: datetime | None = None,
) -> int:
    """Verify each non-empty line of ``scans`` and ``answer`` it; 0 at the end of input.

    A trust directory that cannot be used answers INDETERMINATE for that scan and is tried
    again at the next one; a missing or misconfigured one raises :class:`UsageError`.
    """
    trust = _TrustData(trust_dir)
    for line in scans:
        text = line.rstrip(_WEDGE_TRAILERS)
        if not text:
            continue
        try:
            store = trust.current()
        except errors.UsageError:
            raise
        except errors.PlainclaimError as error:
            answer(VerificationResult.from_error(error, checked_at=now))
            continue
        answer(verify(text, store.trust_list, status=store.status, now=now))
    return 0
