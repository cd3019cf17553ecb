"""Loading: staging → core publish, and the delivery bookkeeping, inside the caller's transaction.

Bulk paths only: PostgreSQL ``COPY … FROM STDIN`` through psycopg on the DBAPI connection under
the SQLAlchemy connection (so it shares the transaction), batched ``executemany`` on SQLite.
Table and column names come from mfg_indicators.feeds (never from a delivery); every value
travels as a parameter or COPY data, so hostile text is stored verbatim.

Publish follows feeds.md → Keys:
  Table.replace_by set  — delete every core row whose replace_by value occurs in the delivery,
                          then insert the delivery's rows (a corrected month replaces it whole);
  Table.replace_by None — upsert by Table.key (delete the matching keys, then insert).
DIRECT_TABLES (tax, energy, stats_enterprise) skip staging (publish_direct): on PostgreSQL a
one-month delivery becomes the month's partition (migration 017), on SQLite the months are
deleted and the rows inserted straight into core.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from .feeds import TABLES, Table
from .findings import Finding

log = logging.getLogger("mfg_indicators.load")

SQLITE_BATCH = 10_000


def _dbapi(conn: Connection):
    return conn.connection.dbapi_connection


# feeds column type -> PostgreSQL type for binary COPY (see the DDL in 001_init.sql)
PG_TYPES = {"text": "text", "uscc": "text", "code": "text", "month": "text", "number": "float8", "int": "int4",
            "yesno": "int4", "date": "date"}


def bulk_insert(conn: Connection, table_name: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
                pg_types: Sequence[str] | None = None) -> int:
    """Insert many rows into ``table_name`` within the connection's transaction. Returns the count.

    PostgreSQL: COPY, binary when ``pg_types`` names every column's type (values must then be of
    exactly those Python types: str, int, float, datetime.date or None), text otherwise."""
    cols = ", ".join(columns)
    n = 0
    if conn.dialect.name == "postgresql":
        raw = _dbapi(conn)
        binary = pg_types is not None
        with raw.cursor() as cur:
            with cur.copy(f"COPY {table_name} ({cols}) FROM STDIN" + (" (FORMAT BINARY)" if binary else "")) as copy:
                if binary:
                    copy.set_types(list(pg_types))
                for row in rows:
                    copy.write_row(row)
                    n += 1
        return n
    sql = f"INSERT INTO {table_name} ({cols}) VALUES ({', '.join('?' for _ in columns)})"
    cur = _dbapi(conn).cursor()
    try:
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= SQLITE_BATCH:
                cur.executemany(sql, batch)
                n += len(batch)
                batch = []
        if batch:
            cur.executemany(sql, batch)
            n += len(batch)
    finally:
        cur.close()
    return n


def _empty_staging(conn: Connection, table: Table) -> None:
    """A stg_ table holds one delivery at a time, inside that delivery's transaction. PostgreSQL:
    TRUNCATE (no dead rows left for later scans; its ACCESS EXCLUSIVE lock makes two loads of the
    same table take turns); SQLite: DELETE of the whole table (one writer at a time anyway)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"TRUNCATE {table.stg}"))
    else:
        conn.execute(text(f"DELETE FROM {table.stg}"))


# feeds column type -> Arrow type of the COPY (FORMAT csv) payload built by copy_csv
_ARROW_TYPES = {"text": "string", "uscc": "string", "code": "string", "month": "string", "number": "float64",
                "int": "int32", "yesno": "int32", "date": "date32"}


def copy_csv(table: Table, delivery_id: str, row_numbers: Sequence[int],
             columns: dict[str, Any], *, row_no: bool = True) -> bytes | None:
    """The rows of one table of a delivery as PostgreSQL ``COPY … (FORMAT csv)`` data for its stg_
    table (delivery_id, row_no, then Table.column_names; ``row_no=False``: without row_no, the
    shape of a core table's rows), written by pyarrow's CSV writer. ``columns``: by column name,
    an Arrow array (TableData.arrays: written from its buffers, cast to the column's COPY type) or
    a list of Python values. Built in the read-ahead process, so the loader only sends bytes. NULL
    is an empty unquoted field; strings are always quoted (an empty string would stay one; hostile
    text stays verbatim); doubles are written in shortest round-trip form. None when a value does
    not fit its column's type (the loader then sends the rows themselves and the database reports it)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    n = len(row_numbers)
    try:
        arrays = [pa.repeat(pa.scalar(delivery_id, pa.string()), n)]
        if row_no:
            arrays.append(pa.array(row_numbers, pa.int32()))
        for col in table.columns:
            values, typ = columns[col.name], getattr(pa, _ARROW_TYPES[col.type])()
            if isinstance(values, (pa.Array, pa.ChunkedArray)):
                arrays.append(values if values.type == typ else values.cast(typ))  # safe: overflow raises
            else:
                arrays.append(pa.array(values, typ))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError, TypeError):
        return None
    names = ["delivery_id", *(["row_no"] if row_no else []), *table.column_names]
    out = pa.BufferOutputStream()
    pacsv.write_csv(pa.Table.from_arrays(arrays, names=names), out,
                    pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return out.getvalue().to_pybytes()


def stage(conn: Connection, table: Table, delivery_id: str, rows: Iterable[Sequence[Any]], *,
          copy_data: bytes | None = None) -> int:
    """Write a delivery's rows ((row_no, values in Table.column_names order), …) to stg_<table>,
    which is emptied first. ``copy_data``: the same rows as built by copy_csv (PostgreSQL sends
    it as is). Callers staging several tables stage them in name order (two concurrent loads
    then lock the staging tables in the same order)."""
    _empty_staging(conn, table)
    if copy_data is not None and conn.dialect.name == "postgresql":
        cols = ", ".join(("delivery_id", "row_no", *table.column_names))
        with _dbapi(conn).cursor() as cur:
            with cur.copy(f"COPY {table.stg} ({cols}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(copy_data)
            return cur.rowcount
    return bulk_insert(conn, table.stg, ("delivery_id", "row_no", *table.column_names),
                       ((delivery_id, *r) for r in rows),
                       pg_types=["text", "int4", *(PG_TYPES[c.type] for c in table.columns)])


def publish(conn: Connection, table: Table, delivery_id: str) -> int:
    """Publish the delivery's staged rows to core_<table> (feeds.md → Keys). Returns rows inserted."""
    params = {"d": delivery_id}
    if table.replace_by:
        c = table.replace_by
        values = [v for v in conn.execute(text(
            f"SELECT DISTINCT {c} FROM {table.stg} WHERE delivery_id = :d AND {c} IS NOT NULL"), params).scalars()]
        if values:  # a handful (months, roster years): an index-friendly IN list
            conn.execute(text(f"DELETE FROM {table.core} WHERE {c} IN :vals").bindparams(
                bindparam("vals", expanding=True)), {"vals": values})
    else:
        keys = ", ".join(table.key)
        conn.execute(text(
            f"DELETE FROM {table.core} WHERE ({keys}) IN "
            f"(SELECT {keys} FROM {table.stg} WHERE delivery_id = :d)"), params)
    cols = ", ".join(table.column_names)
    res = conn.execute(text(
        f"INSERT INTO {table.core} ({cols}, delivery_id) "
        f"SELECT {cols}, delivery_id FROM {table.stg} WHERE delivery_id = :d"), params)
    return res.rowcount


# Core tables published without a staging copy: replaced by month, and no in-warehouse rule
# reads their staged rows (validate.validate_in_warehouse has rules for registry only). On
# PostgreSQL they are partitioned by LIST (period), one partition per month in schema
# PARTITION_SCHEMA (migration 017); on SQLite they are plain tables.
DIRECT_TABLES = frozenset({"tax", "energy", "stats_enterprise"})
PARTITION_SCHEMA = "core_part"
_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


class NotPartitionable(ValueError):
    """A period that names no partition (not 'YYYY-MM'): the delivery is rejected."""


def publishes_direct(table: Table) -> bool:
    """Whether a delivery of ``table`` goes straight to core (publish_direct), skipping stg_."""
    return table.name in DIRECT_TABLES


def partition_name(table: Table, period: str) -> str:
    """The name (in PARTITION_SCHEMA) of ``table``'s partition of month ``period``: derived from a
    validated 'YYYY-MM' only (e.g. tax_2023_12), never from other delivered text."""
    if table.name not in DIRECT_TABLES or not isinstance(period, str) or not _MONTH.match(period):
        raise NotPartitionable(f"no partition of {table.core} for period {period!r}")
    return f"{table.name}_{period[:4]}_{period[5:]}"


def _qi(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(name)


def _partition(conn: Connection, name: str) -> str:
    return f"{_qi(conn, PARTITION_SCHEMA)}.{_qi(conn, name)}"


def _copy_core_rows(conn: Connection, target: str, table: Table, delivery_id: str, copy_data: bytes | None,
                    rows: Iterable[Sequence[Any]], *, freeze: bool = False) -> int:
    """COPY (PostgreSQL) or insert (SQLite) a delivery's rows in the core shape into ``target``:
    ``copy_data`` as built by copy_csv(..., row_no=False), else ``rows`` as TableData.rows()
    gives them ((row_no, values...)). ``freeze``: COPY FREEZE (``target`` was created in this
    transaction)."""
    dbapi = conn.dialect.loaded_dbapi
    try:
        return _copy_core_rows_raw(conn, target, table, delivery_id, copy_data, rows, freeze=freeze)
    except dbapi.Error as exc:  # the raw cursor's error, wrapped as SQLAlchemy wraps its own
        raise DBAPIError.instance(f"COPY/INSERT {target}", None, exc, dbapi.Error) from exc


def _copy_core_rows_raw(conn: Connection, target: str, table: Table, delivery_id: str, copy_data: bytes | None,
                        rows: Iterable[Sequence[Any]], *, freeze: bool) -> int:
    columns = ("delivery_id", *table.column_names)
    if copy_data is not None and conn.dialect.name == "postgresql":
        opts = "FORMAT csv, FREEZE" if freeze else "FORMAT csv"
        with _dbapi(conn).cursor() as cur:
            with cur.copy(f"COPY {target} ({', '.join(columns)}) FROM STDIN ({opts})") as copy:
                copy.write(copy_data)
            return cur.rowcount
    if copy_data is not None:
        raise ValueError("COPY data is for PostgreSQL; pass the rows")
    return bulk_insert(conn, target, columns, ((delivery_id, *r[1:]) for r in rows),
                       pg_types=["text", *(PG_TYPES[c.type] for c in table.columns)])


def publish_direct(conn: Connection, table: Table, delivery_id: str, periods: Sequence[str], *,
                   copy_data: bytes | None = None, rows: Iterable[Sequence[Any]] = ()) -> int:
    """Publish a delivery of a DIRECT_TABLES table without staging it (feeds.md -> Keys: the
    months it touches are replaced whole). ``periods``: the distinct months of its rows;
    ``copy_data``: copy_csv(..., row_no=False) of the rows, else ``rows`` ((row_no, values...)).
    Returns the rows published. A duplicate key or a row outside ``periods`` raises the
    database's IntegrityError; any error leaves core as it was (the caller's transaction).

    PostgreSQL, one month (the normal case): the rows are COPYed into a fresh table shaped like
    the core table with a CHECK matching the partition bound, its primary key is built after the
    COPY, the month's old partition is detached and dropped and the new table attached in its
    place: the staged rows *are* the published rows, written once. Readers: DETACH holds ACCESS
    EXCLUSIVE on the core table from the swap until commit (a moment: the COPY and the index
    build come before it); a reader holding the table (lock_for_read) makes the swap wait, and
    the swap makes new readers wait, so a snapshot never sees a month without its rows.
    Several months: those months are deleted, missing partitions created, and the rows COPYed
    through the parent (PostgreSQL routes them). SQLite: the months are deleted and the rows
    inserted straight into core."""
    if not publishes_direct(table):
        raise ValueError(f"{table.core} is published through staging")
    periods = sorted(set(periods))
    if conn.dialect.name != "postgresql":
        if periods:
            conn.execute(text(f"DELETE FROM {table.core} WHERE period IN :vals").bindparams(
                bindparam("vals", expanding=True)), {"vals": periods})
        return _copy_core_rows(conn, table.core, table, delivery_id, copy_data, rows)
    names = [partition_name(table, p) for p in periods]  # validates every period
    if len(periods) == 1:
        return _swap_partition(conn, table, delivery_id, periods[0], names[0], copy_data, rows)
    if periods:
        conn.execute(text(f"DELETE FROM {table.core} WHERE period IN :vals").bindparams(
            bindparam("vals", expanding=True)), {"vals": periods})
    for p, name in zip(periods, names):
        conn.execute(text(f"CREATE TABLE IF NOT EXISTS {_partition(conn, name)} PARTITION OF {table.core} "
                          f"FOR VALUES IN ('{p}')"))  # p matched _MONTH: no quote in it
    return _copy_core_rows(conn, table.core, table, delivery_id, copy_data, rows)


def _swap_partition(conn: Connection, table: Table, delivery_id: str, period: str, name: str,
                    copy_data: bytes | None, rows: Iterable[Sequence[Any]]) -> int:
    new = f"{name}__new"  # loads of one table take turns (lock_for_load): one at a time
    target = _partition(conn, new)
    # The bound's CHECK lets ATTACH skip its scan of the rows (the constraint implies the bound).
    conn.execute(text(f"CREATE TABLE {target} (LIKE {table.core} INCLUDING DEFAULTS, "
                      f"CONSTRAINT {_qi(conn, name + '_period')} CHECK (period = '{period}'))"))
    n = _copy_core_rows(conn, target, table, delivery_id, copy_data, rows, freeze=True)
    conn.execute(text(f"ALTER TABLE {target} ADD CONSTRAINT {_qi(conn, new + '_pkey')} "
                      f"PRIMARY KEY ({', '.join(table.key)})"))
    old = conn.execute(text(
        "SELECT 1 FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace "
        "WHERE s.nspname = :s AND c.relname = :n"), {"s": PARTITION_SCHEMA, "n": name}).first()
    # Rows of the month a plain INSERT put in the default partition are replaced too (and must
    # go before ATTACH, which checks the default partition holds none of the month).
    conn.execute(text(f"DELETE FROM {_partition(conn, table.name + '_default')} WHERE period = :p"), {"p": period})
    if old is not None:
        conn.execute(text(f"ALTER TABLE {table.core} DETACH PARTITION {_partition(conn, name)}"))
        conn.execute(text(f"DROP TABLE {_partition(conn, name)}"))
    conn.execute(text(f"ALTER TABLE {table.core} ATTACH PARTITION {target} FOR VALUES IN ('{period}')"))
    conn.execute(text(f"ALTER TABLE {target} RENAME TO {_qi(conn, name)}"))
    conn.execute(text(f"ALTER INDEX {_partition(conn, new + '_pkey')} RENAME TO {_qi(conn, name + '_pkey')}"))
    return n


def lock_for_read(conn: Connection) -> None:
    """PostgreSQL: take ACCESS SHARE on the partitioned core tables at the start of a
    REPEATABLE READ transaction, before its first query. A month published by a partition
    swap (publish_direct) is a new table whose rows no older snapshot sees: holding the tables
    makes a swap wait until the reader is done, and a reader that comes during a swap waits
    for its commit and then takes its snapshot. SQLite: nothing (one writer, snapshot reads)."""
    if conn.dialect.name != "postgresql":
        return
    names = ", ".join(TABLES[n].core for n in sorted(DIRECT_TABLES))
    conn.execute(text(f"LOCK TABLE {names} IN ACCESS SHARE MODE"))


def analyze(engine: Engine, published: Iterable[tuple[str, Iterable[str]]]) -> None:
    """PostgreSQL: refresh planner statistics after a batch of deliveries (the indicator queries
    run right after; autovacuum would get there, but later). ``published``: (table name, periods)
    per accepted delivery. A partitioned table (DIRECT_TABLES) gets its new months' partitions
    analysed; its parent only while it has no statistics of its own yet, because ANALYZE of a
    partitioned table on PostgreSQL 15 re-reads every partition (a year of months each time).
    Other tables are analysed whole. No-op on SQLite."""
    if engine.dialect.name != "postgresql":
        return
    targets: dict[str, set[str]] = {}
    for name, periods in published:
        if name not in TABLES:
            raise ValueError(f"not a warehouse table: {name!r}")
        targets.setdefault(name, set()).update(periods)
    if not targets:
        return
    # One ANALYZE per statement outside a transaction: each holds its table's lock only while it
    # runs (two runs analysing partitions and their parent in one transaction each deadlocked).
    # Statistics are a refresh, not part of the load: a failure is logged, the deliveries stay.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name in sorted(targets):
            t = TABLES[name]
            statements = []
            if not publishes_direct(t):
                statements.append(f"ANALYZE {t.core}")
            elif conn.execute(text(
                    "SELECT 1 FROM pg_stats WHERE schemaname = current_schema() AND tablename = :t"
                    " AND inherited LIMIT 1"), {"t": t.core}).first() is None:
                statements.append(f"ANALYZE {t.core}")  # the parent and, with it, every partition
            else:
                for period in sorted(targets[name]):
                    try:
                        qualified = _partition(conn, partition_name(t, period))
                    except NotPartitionable:
                        continue
                    if conn.execute(text("SELECT to_regclass(:n)"), {"n": qualified}).scalar() is not None:
                        statements.append(f"ANALYZE {qualified}")
            for statement in statements:
                try:
                    conn.execute(text(statement))
                except DBAPIError:
                    log.warning("%s failed; the planner keeps the earlier statistics", statement, exc_info=True)


def clear_staging(conn: Connection, table: Table, delivery_id: str) -> None:
    """Empty the staging table after publishing (``delivery_id`` is the only delivery in it)."""
    _empty_staging(conn, table)


def accepted_ids(conn_or_engine: Connection | Engine, delivery_ids: Iterable[str] | None = None) -> set[str]:
    """Delivery ids (sha256) already accepted (all of them, or those among ``delivery_ids``)."""
    def run(conn: Connection) -> set[str]:
        rows = conn.execute(text("SELECT delivery_id FROM raw_delivery WHERE status = 'accepted'")).scalars()
        got = set(rows)
        return got if delivery_ids is None else got & set(delivery_ids)

    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            return run(conn)
    return run(conn_or_engine)


# pg_advisory_xact_lock(int4, int4) namespace of loads (mfg_indicators.migrations uses another)
PG_LOCK_NAMESPACE_LOAD = 0x6D6668


def _lock_key(name: str) -> int:
    k = zlib.crc32(name.encode("utf-8"))
    return k - 2**32 if k >= 2**31 else k  # int4


def lock_named(conn: Connection, *names: str) -> None:
    """PostgreSQL: transaction-level advisory locks on ``names`` (released when the transaction
    ends), taken in one global order so two callers never deadlock; SQLite: nothing (a writer's
    transaction begins with BEGIN IMMEDIATE and holds the file's write lock)."""
    if conn.dialect.name != "postgresql":
        return
    for k in sorted({_lock_key(n) for n in names}):
        conn.execute(text("SELECT pg_advisory_xact_lock(:ns, :k)"), {"ns": PG_LOCK_NAMESPACE_LOAD, "k": k})


def lock_for_load(conn: Connection, tables: Iterable[Table], delivery_id: str) -> None:
    """Serialise loads that must take turns, inside the delivery's transaction (released when it
    ends): loads into the same tables, and loads of the same bytes. PostgreSQL: transaction-level
    advisory locks, one per table and one for the delivery, taken in one global order (no
    deadlock); a load waits up to lock_timeout (warehouse.timeouts). SQLite: nothing to do, the
    transaction began with BEGIN IMMEDIATE and holds the file's write lock. The caller re-checks
    ``is_accepted`` afterwards: a neighbour may have loaded the same delivery meanwhile."""
    lock_named(conn, *(f"table:{t.name}" for t in tables), f"delivery:{delivery_id}")


def is_accepted(conn: Connection, delivery_id: str) -> bool:
    return conn.execute(text("SELECT 1 FROM raw_delivery WHERE delivery_id = :d AND status = 'accepted'"),
                        {"d": delivery_id}).first() is not None


def record_delivery(conn: Connection, *, delivery_id: str, source: str, file_name: str, archive_path: str,
                    size_bytes: int, file_mtime: dt.datetime, row_count: int, periods: list[str],
                    tables: list[tuple[str, str | None, int, list[str]]], warnings: list[Finding],
                    report: dict[str, Any]) -> None:
    """raw_delivery (status accepted), delivery_table per table, validation_warning per warning."""
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    conn.execute(text(
        "INSERT INTO raw_delivery (delivery_id, source, file_name, archive_path, size_bytes, file_mtime,"
        " received_at, status, row_count, periods, report) VALUES (:d, :s, :f, :a, :n, :m, :r, 'accepted',"
        " :rc, :p, :rep)"),
        {"d": delivery_id, "s": source, "f": file_name, "a": archive_path, "n": size_bytes, "m": file_mtime,
         "r": now, "rc": row_count, "p": json.dumps(periods, ensure_ascii=False),
         "rep": json.dumps(report, ensure_ascii=False, default=str)})
    if tables:
        conn.execute(text(
            "INSERT INTO delivery_table (delivery_id, table_name, sheet, row_count, periods)"
            " VALUES (:d, :t, :sh, :n, :p)"),
            [{"d": delivery_id, "t": name, "sh": sheet, "n": n, "p": json.dumps(p, ensure_ascii=False)}
             for name, sheet, n, p in tables])
    if warnings:
        default_table = tables[0][0] if tables else "-"
        conn.execute(text(
            "INSERT INTO validation_warning (delivery_id, seq, source, table_name, uscc, period, rule, message)"
            " VALUES (:d, :seq, :s, :t, :u, :p, :r, :m)"),
            [{"d": delivery_id, "seq": i, "s": w.source or source, "t": w.table or default_table, "u": w.uscc,
              "p": w.period, "r": w.rule, "m": w.message} for i, w in enumerate(warnings, 1)])


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every warehouse table, sorted (tests compare warehouses with this)."""
    from sqlalchemy import inspect

    out = {}
    with engine.connect() as conn:
        for name in sorted(inspect(conn).get_table_names()):
            rows = conn.execute(text(f"SELECT * FROM {name}")).all()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out


__all__ = ["DIRECT_TABLES", "PARTITION_SCHEMA", "TABLES", "NotPartitionable", "accepted_ids", "analyze",
           "bulk_insert", "clear_staging", "copy_csv", "is_accepted", "lock_for_load", "lock_for_read",
           "partition_name", "publish", "publish_direct", "publishes_direct", "record_delivery",
           "snapshot", "stage"]
