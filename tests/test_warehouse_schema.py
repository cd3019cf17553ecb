"""Migrations build the same schema on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect

from mfg_indicators.feeds import TABLES
from mfg_indicators.warehouse import connect, migrate

# How each dialect reports the portable DDL types.
_TYPE_FAMILY = {
    "TEXT": "text", "VARCHAR": "text", "VARCHAR(32)": "text", "DOUBLE PRECISION": "float", "DOUBLE": "float", "FLOAT": "float",
    "REAL": "float", "INTEGER": "int", "BIGINT": "int", "DATE": "date", "TIMESTAMP": "timestamp",
    "TIMESTAMP WITHOUT TIME ZONE": "timestamp", "DATETIME": "timestamp",
}


def _schema(engine):
    insp = inspect(engine)
    out = {}
    for table in sorted(insp.get_table_names()):
        cols = tuple((c["name"], _TYPE_FAMILY[str(c["type"]).upper()], bool(c["nullable"]))
                     for c in insp.get_columns(table))
        pk = tuple(insp.get_pk_constraint(table)["constrained_columns"])
        out[table] = (cols, pk)
    return out


def test_same_schema_on_sqlite_and_postgresql(tmp_path, pg_server):
    lite = connect(f"sqlite:///{tmp_path / 'w.sqlite'}")
    pg = connect(pg_server("schema"))
    s_lite, s_pg = _schema(lite), _schema(pg)
    assert s_lite.keys() == s_pg.keys()
    for table in s_lite:
        assert s_lite[table] == s_pg[table], table
    # every feed table has its staging and core table, keyed as feeds.md -> Keys
    for t in TABLES.values():
        assert t.stg in s_lite and t.core in s_lite
        assert s_lite[t.core][1] == t.key
    assert s_lite["mart_indicator"][1] == ("plan_id", "period", "code")


def test_migrate_is_idempotent(engine):
    assert migrate(engine) == []  # the fixture already applied everything
    names = inspect(engine).get_table_names()
    assert "schema_migrations" in names and "raw_delivery" in names
