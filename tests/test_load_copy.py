"""load.copy_csv: the COPY data a read-ahead process builds stages exactly the rows the loader
would send one by one (values, NULLs, types, hostile text)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from mfg_indicators import feeds, load

from test_ingest_support import uscc

D = "c" * 64
HOSTILE = ['a,b', 'say "hi"', "two\nlines", "back\\slash", "\\.", "'; DROP TABLE core_tax; --", "  padded  ", "逗号，引号“”"]


def _staged(engine, table, *, use_copy: bool):
    rows = _rows(table)
    row_numbers = [r[0] for r in rows]
    columns = {c.name: [r[i + 1] for r in rows] for i, c in enumerate(table.columns)}
    data = load.copy_csv(table, D, row_numbers, columns) if use_copy else None
    if use_copy:
        assert data is not None
    with engine.connect() as conn, conn.begin() as tx:
        n = load.stage(conn, table, D, rows, copy_data=data)
        got = conn.execute(text(f"SELECT * FROM {table.stg} ORDER BY row_no")).all()
        tx.rollback()
    assert n == len(rows)
    return [tuple(r) for r in got]


def _rows(table):
    out = []
    for i in range(len(HOSTILE) + 3):
        vals = []
        for c in table.columns:
            if i == 0:
                vals.append(None)  # a row of NULLs (staging columns are nullable)
            elif c.type in ("text", "code", "month"):
                vals.append(HOSTILE[i % len(HOSTILE)])
            elif c.type == "uscc":
                vals.append(uscc(i))
            elif c.type == "number":
                vals.append([0.1, -2.5e-7, 1.0e20, 123456789.123456789, 1 / 3, -0.0][i % 6])
            elif c.type in ("int", "yesno"):
                vals.append(i % 2 if c.type == "yesno" else 2000 + i)
            elif c.type == "date":
                vals.append(dt.date(2023, 1 + i % 12, 1 + i))
        out.append((i + 2, *vals))
    return out


def test_copy_data_stages_the_same_rows_as_the_rows_themselves(engine):
    for table in (feeds.TABLES["tax"], feeds.TABLES["projects"], feeds.TABLES["registry"]):
        by_rows = _staged(engine, table, use_copy=False)
        by_copy = _staged(engine, table, use_copy=True)
        assert by_copy == by_rows, table.name
        assert [type(v) for v in by_copy[1]] == [type(v) for v in by_rows[1]]


def test_hostile_text_is_stored_verbatim_through_copy(engine):
    table = feeds.TABLES["tax"]
    got = _staged(engine, table, use_copy=True)
    names = {r[table.column_names.index("name") + 2] for r in got}
    assert set(HOSTILE) - {"\\."} <= names | {None}
    assert "\\." in names and "two\nlines" in names and 'say "hi"' in names


def test_a_value_that_does_not_fit_gives_no_copy_data():
    table = feeds.TABLES["registry"]
    cols = {c.name: [None] for c in table.columns}
    cols["roster_year"] = [2 ** 40]  # int4 in the warehouse
    assert load.copy_csv(table, D, [2], cols) is None
