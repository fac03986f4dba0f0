"""Time is a parameter: every operation that depends on it takes an optional ``now``.

Tests pass a fixed moment instead of sleeping or freezing the clock globally; callers that
pass nothing get the current time.
"""

from __future__ import annotations

from datetime import UTC, datetime

from verifier import errors


def aware_now(now: datetime | None = None) -> datetime:
    """``now``, or the current time in UTC; a naive datetime is a caller's mistake."""
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise errors.UsageError("now must be timezone-aware")
    return now
