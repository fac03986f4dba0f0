"""What :meth:`issuer.registry.Registry.check_integrity` checks.

The constraints should make every one of these impossible; the check is there for the day a
disk, a restore or a hand-edited row proves otherwise, and it says what it found.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from sqlalchemy import Connection, func, select

from issuer.registry_db import engine_problems
from issuer.registry_schema import credentials, registry, status_changes, status_lists
from verifier.status_list import StatusValue

_SHOWN: Final = 5
_STORED: Final = (StatusValue.VALID, StatusValue.INVALID, StatusValue.SUSPENDED)


def registry_problems(conn: Connection, issuer_id: str) -> list[str]:
    """Everything wrong with the registry, in words; empty when all is well."""
    return [
        *engine_problems(conn),
        *_owner_problems(conn, issuer_id),
        *_duplicate_problems(conn),
        *_list_problems(conn),
        *_status_problems(conn),
    ]


def _owner_problems(conn: Connection, issuer_id: str) -> Iterator[str]:
    issuers = conn.execute(select(registry.c.issuer_id)).scalars().all()
    if issuers != [issuer_id]:
        yield f"registry rows name issuers {issuers!r}, expected [{issuer_id!r}]"


def _duplicate_problems(conn: Connection) -> Iterator[str]:
    for label, columns in (
        ("credential id", (credentials.c.credential_id,)),
        ("request id", (credentials.c.request_id,)),
        ("status entry", (credentials.c.list_id, credentials.c.status_index)),
    ):
        duplicates = conn.execute(
            select(*columns).group_by(*columns).having(func.count() > 1).limit(_SHOWN)
        ).all()
        if duplicates:
            yield f"{label} held by several credentials: {[tuple(row) for row in duplicates]}"


def _list_problems(conn: Connection) -> Iterator[str]:
    rows = conn.execute(
        select(
            status_lists.c.list_id,
            status_lists.c.capacity,
            status_lists.c.allocated,
            func.count(credentials.c.credential_id).label("issued"),
            func.max(credentials.c.status_index).label("top"),
        )
        .select_from(status_lists.outerjoin(credentials))
        .group_by(status_lists.c.list_id, status_lists.c.capacity, status_lists.c.allocated)
    ).all()
    for row in rows:
        # Counter and credentials are written in one transaction, so they always agree.
        if row.allocated != row.issued:
            yield f"list {row.list_id}: counter {row.allocated}, {row.issued} credentials"
        if row.top is not None and row.top >= row.capacity:
            yield f"list {row.list_id}: index {row.top} beyond capacity {row.capacity}"


def _status_problems(conn: Connection) -> Iterator[str]:
    unknown = conn.execute(
        select(func.count()).where(credentials.c.status.not_in([int(s) for s in _STORED]))
    ).scalar_one()
    if unknown:
        yield f"{unknown} credentials with an unknown status"
    last_change = (
        select(
            status_changes.c.credential_id,
            func.max(status_changes.c.change_id).label("change_id"),
        )
        .group_by(status_changes.c.credential_id)
        .subquery()
    )
    disagreeing = conn.execute(
        select(func.count())
        .select_from(
            last_change.join(
                status_changes, status_changes.c.change_id == last_change.c.change_id
            ).join(credentials, credentials.c.credential_id == last_change.c.credential_id)
        )
        .where(credentials.c.status != status_changes.c.new_status)
    ).scalar_one()
    if disagreeing:
        yield f"{disagreeing} credentials whose status disagrees with their last change"
    unrevoked = conn.execute(
        select(func.count()).where(status_changes.c.old_status == int(StatusValue.INVALID))
    ).scalar_one()
    if unrevoked:
        yield f"{unrevoked} status changes away from revoked"
