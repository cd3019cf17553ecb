"""Warehouse migrations, run by Alembic with the SQL files of include/sql/migrations as revisions.

The SQL files stay the source of truth: ``NNN_name.sql`` (both dialects) or
``NNN_name.postgresql.sql`` / ``NNN_name.sqlite.sql``. Each file the warehouse's dialect uses is
one Alembic revision, chained in file-name order, so adding ``014_something.sql`` needs no Python.
Alembic keeps the current revision in ``alembic_version``; ``schema_migrations`` keeps one row
per applied file with its sha256, so an applied file edited afterwards is refused (add a new
file instead).

A file runs whole, without splitting it ourselves: on PostgreSQL as one simple-protocol query
(several statements, ``$$`` bodies and all); on SQLite statement by statement as SQLite's own
tokenizer delimits them (``sqlite3.complete_statement``) — ``executescript`` would commit the
transaction the migration runs in.

The whole upgrade is one transaction under a lock: PostgreSQL ``pg_advisory_xact_lock`` (one per
database, i.e. per warehouse), SQLite ``BEGIN IMMEDIATE`` (the file's write lock). Two first runs
at once: the second waits, then finds the schema current.

Warehouses built by the earlier migration runner (``schema_migrations`` without checksums and no
``alembic_version``) are adopted in place: the files they recorded are not run again, and their
checksums are recorded from the files as they are now.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import sqlite3
import types
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from .paths import MIGRATIONS_DIR

_MIGRATION = re.compile(r"^(\d{3})_([a-z0-9_]+?)(?:\.(postgresql|sqlite))?\.sql$")
# pg_advisory_xact_lock(int4, int4) keys: this namespace + 1 for the schema (load.py uses others)
PG_LOCK_NAMESPACE = 0x6D6667  # "mfg"
PG_LOCK_MIGRATE = 1
_VERSION_NUM_MAX = 32  # alembic_version.version_num is VARCHAR(32)


class MigrationError(RuntimeError):
    """The warehouse schema cannot be brought up to date safely (message says why and what to do)."""


@dataclass(frozen=True)
class MigrationFile:
    version: str  # 'NNN'
    path: Path
    revision: str  # the Alembic revision id
    sha256: str

    @property
    def name(self) -> str:
        return self.path.name


def _revision_id(name: str) -> str:
    stem = name[:-len(".sql")]
    if len(stem) <= _VERSION_NUM_MAX:
        return stem
    return f"{stem[:_VERSION_NUM_MAX - 9]}_{hashlib.sha1(name.encode()).hexdigest()[:8]}"


def migration_files(dialect_name: str, migrations_dir: Path | None = None) -> list[MigrationFile]:
    """The files the dialect uses, in order."""
    found = []
    for p in sorted(Path(migrations_dir or MIGRATIONS_DIR).glob("*.sql")):
        m = _MIGRATION.match(p.name)
        if not m:
            raise MigrationError(f"migration file name not understood: {p.name} "
                                 "(expected NNN_name.sql, NNN_name.postgresql.sql or NNN_name.sqlite.sql)")
        if m.group(3) in (None, dialect_name):
            found.append(MigrationFile(m.group(1), p, _revision_id(p.name),
                                       hashlib.sha256(p.read_bytes()).hexdigest()))
    return found


def _sqlite_statements(script: str) -> list[str]:
    """Statements of a SQLite script as SQLite's tokenizer sees them (literals, comments and
    trigger bodies included)."""
    out, start = [], 0
    for i, ch in enumerate(script):
        if ch == ";" and sqlite3.complete_statement(script[start:i + 1]):
            out.append(script[start:i + 1])
            start = i + 1
    rest = script[start:]
    if rest.strip() and sqlite3.complete_statement(rest + ";"):
        out.append(rest)
    elif rest.strip() and not _only_comments(rest):
        raise MigrationError(f"incomplete SQL statement at the end of the script: {rest.strip()[:80]!r}")
    return [s for s in out if not _only_comments(s)]


def _only_comments(s: str) -> bool:
    return not re.sub(r"--[^\n]*|/\*.*?\*/|;", "", s, flags=re.S).strip()


def _execute_file(conn: Connection, path: Path) -> None:
    sql = path.read_text(encoding="utf-8")
    raw = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cur:
            cur.execute(sql)  # no parameters: one simple-protocol query, many statements
        return
    cur = raw.cursor()
    try:
        for stmt in _sqlite_statements(sql):
            cur.execute(stmt)
    finally:
        cur.close()


@dataclass
class _State:
    has_alembic: bool
    recorded: dict[str, str | None]  # file name -> sha256 (None: recorded by the earlier runner)
    has_checksum_column: bool
    heads: tuple[str, ...]


def _state(conn: Connection) -> _State:
    names = set(inspect(conn).get_table_names())
    recorded: dict[str, str | None] = {}
    has_col = False
    if "schema_migrations" in names:
        has_col = "sha256" in {c["name"] for c in inspect(conn).get_columns("schema_migrations")}
        cols = "file_name, sha256" if has_col else "file_name, NULL"
        recorded = {r[0]: r[1] for r in conn.execute(text(f"SELECT {cols} FROM schema_migrations"))}
    heads: tuple[str, ...] = ()
    if "alembic_version" in names:
        heads = tuple(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    return _State("alembic_version" in names, recorded, has_col, heads)


def _check(state: _State, files: list[MigrationFile]) -> list[MigrationFile]:
    """The files still to apply; raises MigrationError for an edited applied file or a new file
    numbered before the applied ones."""
    by_name = {f.name: f for f in files}
    for name, sha in state.recorded.items():
        f = by_name.get(name)
        if f is not None and sha is not None and sha != f.sha256:
            raise MigrationError(
                f"迁移文件 {name} 已应用于该仓库，但之后被修改（校验和不符）；请恢复原文件，改动写入新的迁移文件。"
                f" / migration {name} was applied to this warehouse and has been edited since "
                f"(sha256 {sha[:12]}… recorded, {f.sha256[:12]}… now): restore it and put the change "
                "in a new migration file")
    pending = [f for f in files if f.name not in state.recorded]
    applied_idx = [i for i, f in enumerate(files) if f.name in state.recorded]
    if pending and applied_idx:
        last = applied_idx[-1]
        early = [f.name for f in pending if files.index(f) < last]
        if early and state.has_alembic:
            raise MigrationError(
                f"migration(s) {', '.join(early)} are numbered before {files[last].name}, which this "
                "warehouse already has: give them a number after the last applied one")
    return pending


def _upgrade_fn(conn: Connection, f: MigrationFile, state: _State):
    def upgrade() -> None:
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        if f.name in state.recorded:  # applied by the earlier runner: adopt, do not run again
            conn.execute(text("UPDATE schema_migrations SET sha256 = :h WHERE file_name = :f"),
                         {"h": f.sha256, "f": f.name})
            return
        _execute_file(conn, f.path)
        conn.execute(text("INSERT INTO schema_migrations (version, file_name, applied_at, sha256) "
                          "VALUES (:v, :f, :t, :h)"), {"v": f.version, "f": f.name, "t": now, "h": f.sha256})

    return upgrade


def _no_downgrade() -> None:
    raise MigrationError("warehouse migrations go forward only (restore a backup to go back)")


def _script_directory(conn: Connection, files: list[MigrationFile], state: _State, migrations_dir: Path):
    from alembic.script import Script, ScriptDirectory

    class SqlFileScripts(ScriptDirectory):
        """The SQL files as Alembic revisions (no Python revision modules)."""

        def _load_revisions(self):
            down = None
            for f in files:
                module = types.ModuleType(f"mfg_migration_{f.revision}")
                module.revision, module.down_revision = f.revision, down
                module.branch_labels = module.depends_on = None
                module.upgrade, module.downgrade = _upgrade_fn(conn, f, state), _no_downgrade
                module.__doc__ = f.name
                yield Script(module, f.revision, str(f.path))
                down = f.revision

    return SqlFileScripts(str(migrations_dir))


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:ns, :k)"), {"ns": PG_LOCK_NAMESPACE, "k": PG_LOCK_MIGRATE})
    # SQLite: the transaction began with BEGIN IMMEDIATE (warehouse.immediate)


def upgrade(engine: Engine, migrations_dir: Path | None = None) -> list[str]:
    """Bring the warehouse to the newest schema. Returns the file names applied now."""
    from .warehouse import immediate

    migrations_dir = Path(migrations_dir or MIGRATIONS_DIR)
    files = migration_files(engine.dialect.name, migrations_dir)
    with engine.connect() as conn:  # without the lock: the usual case is "nothing to do"
        state = _state(conn)
        conn.rollback()
    if state.has_alembic and state.has_checksum_column and not _check(state, files):
        return []
    from alembic.runtime.migration import MigrationContext

    with immediate(engine) as conn:
        _lock(conn)
        state = _state(conn)  # again, under the lock: a neighbour may have migrated meanwhile
        pending = _check(state, files)
        if not state.recorded and "schema_migrations" not in inspect(conn).get_table_names():
            conn.execute(text(
                "CREATE TABLE schema_migrations (version TEXT NOT NULL, file_name TEXT NOT NULL,"
                " applied_at TIMESTAMP NOT NULL, sha256 TEXT, PRIMARY KEY (version, file_name))"))
        elif not state.has_checksum_column:
            conn.execute(text("ALTER TABLE schema_migrations ADD COLUMN sha256 TEXT"))
        script = _script_directory(conn, files, state, migrations_dir)
        context = MigrationContext.configure(
            connection=conn, opts={"fn": lambda rev, _ctx: script._upgrade_revs("heads", rev),
                                   "transactional_ddl": True})
        context.run_migrations()
    return [f.name for f in pending]


__all__ = ["MigrationError", "MigrationFile", "migration_files", "upgrade"]
