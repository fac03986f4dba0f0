"""Alembic environment of the issuer registry.

Migrations run only through :meth:`issuer.registry.Registry.open`, which hands over a
connection already inside a transaction (``BEGIN IMMEDIATE`` on SQLite, under an advisory lock
on PostgreSQL): an upgrade is all or nothing, and two processes opening a new registry at once
take turns. There is no ``alembic.ini`` and no offline (SQL script) mode.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("registry migrations run through issuer.registry.Registry.open only")

context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
