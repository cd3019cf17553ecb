"""The warehouse: one SQLAlchemy engine for SQLite (embedded default) or PostgreSQL, with
bounded waits (connect, locks, statements), and the versioned migrations under
include/sql/migrations that build it from nothing (run by mfg_indicators.migrations).

Migration files are ``NNN_name.sql`` (both dialects), or ``NNN_name.postgresql.sql`` /
``NNN_name.sqlite.sql`` where a dialect needs its own statement (kept small and explicit).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url

from .paths import DEFAULT_WAREHOUSE_URL

# Python 3.12 deprecates sqlite3's implicit date adapters; register ISO ones explicitly so DATE
# columns hold 'YYYY-MM-DD' text on SQLite, as PostgreSQL prints them.
sqlite3.register_adapter(dt.date, lambda d: d.isoformat())
sqlite3.register_adapter(dt.datetime, lambda d: d.isoformat(sep=" "))

def normalize_url(url: str | None) -> str:
    """Accept plain ``postgresql://`` URLs and use psycopg 3 for them."""
    url = url or DEFAULT_WAREHOUSE_URL
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _seconds(env: str, default: float) -> float:
    value = os.environ.get(env)
    try:
        return float(value) if value else default
    except ValueError:
        raise ValueError(f"{env} must be a number of seconds, got {value!r}") from None


def timeouts() -> dict[str, float]:
    """Seconds the warehouse connection waits (environment overrides; see docs/operations.md):

    * ``connect`` (MFG_WAREHOUSE_CONNECT_TIMEOUT, 10): to connect, incl. the server's first answer;
    * ``lock`` (MFG_WAREHOUSE_LOCK_TIMEOUT, 600): for a lock a neighbouring load holds (then the
      delivery fails with a message; a load waits, it does not fail, up to this long);
    * ``statement`` (MFG_WAREHOUSE_STATEMENT_TIMEOUT, 1800): for one statement;
    * ``idle_in_transaction`` (MFG_WAREHOUSE_IDLE_TIMEOUT, 120): PostgreSQL ends a connection that
      holds a transaction open without a word this long (a client that vanished keeps no lock);
    * ``busy`` (MFG_SQLITE_BUSY_TIMEOUT, 600): SQLite's wait for the file's write lock."""
    return {"connect": _seconds("MFG_WAREHOUSE_CONNECT_TIMEOUT", 10),
            "lock": _seconds("MFG_WAREHOUSE_LOCK_TIMEOUT", 600),
            "statement": _seconds("MFG_WAREHOUSE_STATEMENT_TIMEOUT", 1800),
            "idle_in_transaction": _seconds("MFG_WAREHOUSE_IDLE_TIMEOUT", 120),
            "busy": _seconds("MFG_SQLITE_BUSY_TIMEOUT", 600)}


def display_url(url_or_engine: str | Engine | None) -> str:
    """The warehouse URL as people may see it (password masked)."""
    if isinstance(url_or_engine, Engine):
        return url_or_engine.url.render_as_string(hide_password=True)
    try:
        return make_url(url_or_engine or DEFAULT_WAREHOUSE_URL).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a URL at all: show nothing of it that could be secret
        return "<warehouse URL not understood>"


def get_engine(url: str | None = None) -> Engine:
    url = normalize_url(url)
    t = timeouts()
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": t["busy"]})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            # Transactions are begun by us (below), not by the sqlite3 module's implicit BEGIN
            # before DML: so DDL is transactional and a writer can ask for BEGIN IMMEDIATE.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            # Province scale: core indexes of millions of rows. The default 2 MB page cache makes
            # every publish and check re-read them from disk; allow up to 256 MB (grows on use).
            cur.execute("PRAGMA cache_size=-262144")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - trivial
            # A writer takes the file's write lock when it begins (waiting up to busy_timeout),
            # not at its first write: a deferred transaction that read first could otherwise
            # fail with "database is locked" instead of waiting.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_LOCK) else "BEGIN")

        return engine
    connect_args: dict[str, object] = {}
    query = make_url(url).query
    if url.startswith("postgresql"):
        ms = {k: int(t[k] * 1000) for k in ("lock", "statement", "idle_in_transaction")}
        defaults = {
            "connect_timeout": max(1, int(t["connect"])),
            # a server or network that went away is noticed within about a minute
            "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3,
            "application_name": "mfg-indicators",
            "options": (f"-c lock_timeout={ms['lock']} -c statement_timeout={ms['statement']}"
                        f" -c idle_in_transaction_session_timeout={ms['idle_in_transaction']}"),
        }
        connect_args = {k: v for k, v in defaults.items() if k not in query}  # the URL wins
    return create_engine(url, connect_args=connect_args)


# Execution option: on SQLite, begin the transaction with BEGIN IMMEDIATE (the file's write lock
# from the start). For a transaction that reads and then writes: begun deferred, it could not
# wait for a neighbour's commit and would fail with "database is locked".
WRITE_LOCK = "mfg_write_lock"


@contextmanager
def immediate(engine: Engine) -> Iterator[Connection]:
    """A write transaction that holds the warehouse's write lock from its start on SQLite
    (``BEGIN IMMEDIATE``); a plain transaction on PostgreSQL (which locks row by row, and where
    the callers take advisory locks). Commits on success, rolls back on error."""
    with engine.connect().execution_options(**{WRITE_LOCK: True}) as conn:
        with conn.begin():
            yield conn


def dialect(conn_or_engine: Connection | Engine) -> str:
    """'sqlite' or 'postgresql' — the one switch dialect-specific code branches on."""
    return conn_or_engine.dialect.name


def migrate(engine: Engine, migrations_dir: Path | None = None) -> list[str]:
    """Apply every migration not yet applied (mfg_indicators.migrations, run by Alembic under a
    lock, so concurrent first runs are safe). Returns the file names applied now."""
    from .migrations import upgrade

    return upgrade(engine, migrations_dir)


def connect(url: str | None = None, *, migrate_schema: bool = True) -> Engine:
    """The warehouse engine, migrated to the current schema."""
    engine = get_engine(url)
    if migrate_schema:
        migrate(engine)
    return engine
