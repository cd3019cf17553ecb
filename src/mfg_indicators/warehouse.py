"""The warehouse: one SQLAlchemy engine for SQLite (embedded default) or PostgreSQL, and the
versioned migrations under include/sql/migrations that build it from nothing.

Migration files are ``NNN_name.sql`` (both dialects), or ``NNN_name.postgresql.sql`` /
``NNN_name.sqlite.sql`` where a dialect needs its own statement (kept small and explicit).
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine

from .paths import DEFAULT_WAREHOUSE_URL, MIGRATIONS_DIR

# Python 3.12 deprecates sqlite3's implicit date adapters; register ISO ones explicitly so DATE
# columns hold 'YYYY-MM-DD' text on SQLite, as PostgreSQL prints them.
sqlite3.register_adapter(dt.date, lambda d: d.isoformat())
sqlite3.register_adapter(dt.datetime, lambda d: d.isoformat(sep=" "))

_MIGRATION = re.compile(r"^(\d{3})_([a-z0-9_]+?)(?:\.(postgresql|sqlite))?\.sql$")


def normalize_url(url: str | None) -> str:
    """Accept plain ``postgresql://`` URLs and use psycopg 3 for them."""
    url = url or DEFAULT_WAREHOUSE_URL
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def get_engine(url: str | None = None) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            # Province scale: core indexes of millions of rows. The default 2 MB page cache makes
            # every publish and check re-read them from disk; allow up to 256 MB (grows on use).
            cur.execute("PRAGMA cache_size=-262144")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()

        return engine
    return create_engine(url)


def dialect(conn_or_engine: Connection | Engine) -> str:
    """'sqlite' or 'postgresql' — the one switch dialect-specific code branches on."""
    return conn_or_engine.dialect.name


def split_sql(script: str) -> list[str]:
    """Statements of a SQL script (``;`` at line end; no semicolons inside literals)."""
    no_comments = "\n".join(line.split("--", 1)[0] if "--" in line and "'" not in line else line
                            for line in script.splitlines())
    return [s.strip() for s in re.split(r";\s*(?:\n|$)", no_comments) if s.strip()]


def migration_files(dialect_name: str) -> list[tuple[str, Path]]:
    found = []
    for p in sorted(MIGRATIONS_DIR.glob("*.sql")):
        m = _MIGRATION.match(p.name)
        if not m:
            raise RuntimeError(f"migration file name not understood: {p.name}")
        if m.group(3) in (None, dialect_name):
            found.append((m.group(1), p))
    return found


def migrate(engine: Engine) -> list[str]:
    """Apply every migration not yet applied, each in its own transaction. Returns the versions
    applied now."""
    applied_now = []
    with engine.begin() as conn:
        conn.execute(text(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version TEXT NOT NULL, file_name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL,"
            " PRIMARY KEY (version, file_name))"))
        done = {r[1] for r in conn.execute(text("SELECT version, file_name FROM schema_migrations"))}
    for version, path in migration_files(engine.dialect.name):
        if path.name in done:
            continue
        with engine.begin() as conn:
            for stmt in split_sql(path.read_text(encoding="utf-8")):
                conn.execute(text(stmt))
            conn.execute(text("INSERT INTO schema_migrations (version, file_name, applied_at) "
                              "VALUES (:v, :f, :t)"),
                         {"v": version, "f": path.name, "t": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)})
        applied_now.append(path.name)
    return applied_now


def connect(url: str | None = None, *, migrate_schema: bool = True) -> Engine:
    """The warehouse engine, migrated to the current schema."""
    engine = get_engine(url)
    if migrate_schema:
        migrate(engine)
    return engine
