"""The registry's tables, as SQLAlchemy Core metadata for its queries.

The migrations in ``issuer/migrations`` create these tables; they are written out by hand and
never import this module, so that an old revision stays what it was when this one changes.
A test compares the migrated database with this metadata.

``registry``       one row: the issuer this registry belongs to. Its row lock is the
                   issuance mutex on PostgreSQL (SQLite has one writer at a time anyway).
``status_lists``   per list: capacity, entries handed out, and the secret that scatters them.
``credentials``    one row per credential ever issued; never deleted.
``status_changes`` every change of a credential's status, in order.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

#: Constraint names are part of the schema (a migration drops them by name), so fix them.
NAMING_CONVENTION: Final = {
    "pk": "pk_%(table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
}

metadata: Final = MetaData(naming_convention=NAMING_CONVENTION)

registry: Final = Table(
    "registry",
    metadata,
    Column("singleton", Integer, primary_key=True, autoincrement=False),
    Column("issuer_id", String(32), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    CheckConstraint("singleton = 1", name="one_row"),
)

status_lists: Final = Table(
    "status_lists",
    metadata,
    Column("list_id", Integer, primary_key=True, autoincrement=False),
    Column("capacity", Integer, nullable=False),
    Column("allocated", Integer, nullable=False),
    Column("permutation_key", LargeBinary(32), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    CheckConstraint("capacity > 0", name="capacity_positive"),
    CheckConstraint("allocated >= 0 AND allocated <= capacity", name="allocated_in_range"),
)

credentials: Final = Table(
    "credentials",
    metadata,
    Column("credential_id", String(43), primary_key=True),
    Column("request_id", String(128), nullable=False),
    Column("benefit", String(48), nullable=False),
    Column("not_before", BigInteger, nullable=False),
    Column("expires", BigInteger, nullable=False),
    Column("list_id", Integer, ForeignKey("status_lists.list_id"), nullable=False),
    Column("status_index", Integer, nullable=False),
    Column("token", Text, nullable=False),
    Column("case_ref", String(64), nullable=True),
    Column("issued_by", String(64), nullable=False),
    Column("issued_at", BigInteger, nullable=False),
    Column("status", SmallInteger, nullable=False),
    UniqueConstraint("request_id"),
    UniqueConstraint("list_id", "status_index"),
    CheckConstraint("expires > not_before", name="validity"),
    CheckConstraint("status_index >= 0", name="index_non_negative"),
    CheckConstraint("status IN (0, 1, 2)", name="status_known"),
)

#: Publishing a list reads only its revoked and suspended entries: a few among a million.
non_valid_index: Final = Index(
    "ix_credentials_non_valid",
    credentials.c.list_id,
    credentials.c.status_index,
    sqlite_where=credentials.c.status != 0,
    postgresql_where=credentials.c.status != 0,
)

status_changes: Final = Table(
    "status_changes",
    metadata,
    Column("change_id", Integer, primary_key=True, autoincrement=True),
    Column(
        "credential_id",
        String(43),
        ForeignKey("credentials.credential_id"),
        nullable=False,
        index=True,
    ),
    Column("old_status", SmallInteger, nullable=False),
    Column("new_status", SmallInteger, nullable=False),
    Column("reason", String(200), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("changed_at", BigInteger, nullable=False),
)
