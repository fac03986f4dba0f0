"""The registry's database plumbing: engines, transactions, migrations, driver errors.

SQLite is set up for durability and for several processes writing one file: WAL with
``synchronous=FULL`` (a commit is on disk before ``COMMIT`` returns), foreign keys on, a busy
timeout, and ``BEGIN IMMEDIATE`` for every write transaction, so writers queue for the lock
up front instead of failing when a read lock cannot be upgraded. PostgreSQL keeps its defaults
(``READ COMMITTED``, ``synchronous_commit`` on); writers there take row locks.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from issuer import errors
from verifier.errors import ConfigurationError

MIGRATIONS_DIR: Final = Path(__file__).parent / "migrations"
#: The newest migration, so that opening an up-to-date registry never loads Alembic (a CLI
#: issuing one credential starts faster). A test checks it against ``migrations/versions``.
SCHEMA_REVISION: Final = "0001"
#: Alembic's own table, declared here only to read it without loading Alembic.
_versions: Final = Table("alembic_version", MetaData(), Column("version_num", String(32)))
#: How long a writer waits for another one (a big batch being signed) before giving up.
LOCK_TIMEOUT_SECONDS: Final = 60
#: pg_advisory_xact_lock key serialising migrations ("pclaim" and a version byte).
MIGRATION_LOCK_KEY: Final = int.from_bytes(b"pclaim\x00\x01", "big")
#: Execution option read by the SQLite ``begin`` hook: a plain ``BEGIN`` for readers.
READ_ONLY: Final = "plainclaim_read_only"


def open_engine(url: str) -> Engine:
    """An engine for a SQLite file or a PostgreSQL database (psycopg 3), set up as above.

    :raises ConfigurationError: for any other URL, or a SQLite database that is not a file.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError("the registry URL cannot be parsed") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.drivername not in {"sqlite", "sqlite+pysqlite"}:
            raise ConfigurationError("SQLite registries use the sqlite3 driver")
        database = parsed.database
        if not database or database == ":memory:" or database.startswith("file:"):
            # An in-memory registry forgets every credential when the process ends.
            raise ConfigurationError("a SQLite registry must be a file path")
        path = str(Path(database).resolve())
        engine = create_engine(
            parsed.set(drivername="sqlite+pysqlite", database=path),
            connect_args={"timeout": LOCK_TIMEOUT_SECONDS},
        )
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    if backend == "postgresql":
        if parsed.drivername not in {"postgresql", "postgresql+psycopg"}:
            raise ConfigurationError("PostgreSQL registries use psycopg 3 (postgresql+psycopg)")
        return create_engine(
            parsed.set(drivername="postgresql+psycopg"),
            pool_pre_ping=True,
            connect_args={"connect_timeout": 10},
        )
    raise ConfigurationError(
        f"registry backend {backend!r}: use sqlite:/// or postgresql+psycopg://"
    )


def _configure_sqlite(dbapi_connection: Any, _record: object) -> None:
    # Let the "begin" hook emit BEGIN itself: pysqlite's implicit BEGIN is DEFERRED.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: NORMAL may lose the last commits on power loss, and the last commit is the
        # credential that was just handed out.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={LOCK_TIMEOUT_SECONDS * 1000}")
    finally:
        cursor.close()


def _begin_sqlite(conn: Connection) -> None:
    read_only = conn.get_execution_options().get(READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A write transaction, committed on leaving the block (rolled back on an exception)."""
    with engine.connect() as conn, conn.begin():
        yield conn


@contextmanager
def read_transaction(engine: Engine, *, snapshot: bool = False) -> Iterator[Connection]:
    """A read transaction; ``snapshot`` makes several queries see one state on PostgreSQL.

    (SQLite read transactions are snapshots anyway.)
    """
    with engine.connect() as conn:
        conn.execution_options(**{READ_ONLY: True})
        if snapshot and conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def migrate(conn: Connection) -> None:
    """Bring the schema to the newest revision, inside the caller's transaction.

    :raises RegistryMismatch: the database is at a revision this plainclaim does not know.
    """
    if conn.dialect.name == "postgresql":
        # Two processes creating one registry at once: the second waits, then finds it made.
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    if current_revisions(conn) == [SCHEMA_REVISION]:
        return
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    current = current_revisions(conn)
    if not set(current) <= known:
        raise errors.RegistryMismatch(
            f"the registry is at revision {current}, unknown here: a newer plainclaim made it"
        )
    config.attributes["connection"] = conn
    try:
        command.upgrade(config, "head")
    except CommandError as exc:
        raise errors.RegistryMismatch(f"cannot migrate the registry: {exc}") from None


def current_revisions(conn: Connection) -> list[str]:
    """The revisions the database has been migrated to (none for an empty database)."""
    if not inspect(conn).has_table(_versions.name):
        return []
    return sorted(conn.execute(select(_versions.c.version_num)).scalars())


def engine_problems(conn: Connection) -> Iterator[str]:
    """What the database engine itself finds wrong (SQLite only; PostgreSQL has no such check)."""
    if conn.dialect.name != "sqlite":
        return
    verdict = conn.exec_driver_sql("PRAGMA integrity_check").scalars().all()
    if verdict != ["ok"]:
        yield f"sqlite integrity_check: {verdict[:5]}"
    dangling = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if dangling:
        yield f"sqlite foreign_key_check: {len(dangling)} rows point nowhere"


@contextmanager
def translate_db_errors() -> Iterator[None]:
    """The one boundary where database errors become plainclaim errors."""
    try:
        yield
    except OperationalError as exc:
        raise errors.RegistryUnavailable(_describe(exc)) from None
    except SQLAlchemyError as exc:
        raise errors.RegistryCorrupt(_describe(exc)) from None


def _describe(exc: SQLAlchemyError) -> str:
    # The driver's first line, not SQLAlchemy's text, which repeats the statement and its
    # parameters (tokens) into logs.
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"
