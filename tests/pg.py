"""PostgreSQL for the registry tests: a fresh schema per test, or a clear skip.

Set ``PLAINCLAIM_TEST_PG_URL`` (``eval "$(scripts/start-postgres.sh)"`` does) to run the
PostgreSQL cases; without it, or with a server that does not answer, they are skipped and the
SQLite cases still run. With ``PLAINCLAIM_REQUIRE_PG=1`` (CI) they fail instead of skipping, so
a broken database setup cannot pass unnoticed.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

ENV = "PLAINCLAIM_TEST_PG_URL"
REQUIRE_ENV = "PLAINCLAIM_REQUIRE_PG"
SKIP_REASON = "PostgreSQL not available: set PLAINCLAIM_TEST_PG_URL, see scripts/start-postgres.sh"


@functools.cache
def _reachable_url() -> str | None:
    url = os.environ.get(ENV)
    if not url:
        return None
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()
    return url


def require_postgres() -> str:
    """The server URL, or skip the calling test (fail it when PostgreSQL is required)."""
    url = _reachable_url()
    if url is None:
        if os.environ.get(REQUIRE_ENV, "") not in {"", "0"}:
            pytest.fail(f"{SKIP_REASON} ({REQUIRE_ENV} is set)")
        pytest.skip(SKIP_REASON)
    return url


@contextmanager
def fresh_schema(prefix: str = "test") -> Iterator[str]:
    """A URL whose connections work in a new, empty schema, dropped afterwards."""
    base = require_postgres()
    schema = f"{prefix}_{secrets.token_hex(5)}"
    admin = create_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
