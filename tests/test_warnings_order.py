"""A month's warnings describe the warehouse, not the order the deliveries arrived in, and come
out in one order on SQLite and PostgreSQL.

Permutations: the sample county's deliveries that arrive from January to April 2023 (December
2022's figures, the 2023 名录, and everything a report on 2023-03 waits for: 19 files of all six
sources) are ingested source by source in every order of the six sources — all 720 on SQLite,
a representative set (registry first, registry last, …) on PostgreSQL — and the report on
2023-03 must have the same warnings and indicators every time. Each delivery is read and run
through its GX suite once (that depends on the file alone); every order then loads the
deliveries through ``ingest_delivery`` into a fresh, empty warehouse.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from mfg_indicators import ingest
from mfg_indicators.compute import compute_indicators
from mfg_indicators.config import load_config
from mfg_indicators.extract import SOURCES, find_deliveries
from mfg_indicators.document import live_warnings
from mfg_indicators.rules import WAREHOUSE_RULES
from mfg_indicators.warehouse import connect

CONFIG = load_config()
PERIOD = "2023-03"
ARRIVED = (dt.datetime(2023, 1, 1), dt.datetime(2023, 5, 1))


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    from mfg_indicators.sample import generate

    inbox = tmp_path_factory.mktemp("order") / "inbox"
    generate(inbox)
    found = [d for d in find_deliveries(inbox) if ARRIVED[0] <= d.mtime_utc < ARRIVED[1]]
    assert {d.source for d in found} == set(SOURCES) and len(found) >= 12
    assert any(d.source == "registry" for d in found)
    return [ingest._prepare(d, CONFIG) for d in found]


def _report(engine, prepared, order: tuple[str, ...] | None, work: Path):
    """Ingest the deliveries source by source in ``order`` (None: as they arrived), compute the
    month, return (indicators, warnings) — the warnings as the month's JSON has them (the
    warehouse's, then the computation's own)."""
    rank = {s: i for i, s in enumerate(order)} if order else {}
    for p in sorted(prepared, key=lambda p: rank.get(p.delivery.source, 0)):  # stable: arrival within a source
        out = ingest.ingest_delivery(engine, p.delivery, config=CONFIG, archive_dir=work / "archive",
                                     quarantine_dir=work / "quarantine", move_rejected=False, _prepared=p)
        assert out.status == ingest.ACCEPTED, (p.delivery.name, [f.message for f in out.findings][:3])
    result = compute_indicators(engine, CONFIG, PERIOD)
    return result.indicators, live_warnings(engine, PERIOD, CONFIG) + [f.as_warning() for f in result.warnings]


def test_every_order_of_the_six_sources_gives_the_same_month_on_sqlite(prepared, tmp_path):
    empty = tmp_path / "empty.sqlite"
    connect(f"sqlite:///{empty}").dispose()  # migrated, no data

    def report(order):
        path = tmp_path / "wh.sqlite"
        shutil.copyfile(empty, path)
        engine = connect(f"sqlite:///{path}")
        try:
            return _report(engine, prepared, order, tmp_path)
        finally:
            engine.dispose()
            path.unlink()

    reference = report(None)
    indicators, warnings = reference
    rules = {w["rule"] for w in warnings}
    # the taxpayer left out of the registry is named; the registry is loaded, so nothing says it is not
    assert "not_in_registry" in rules and "registry_empty" not in rules
    assert all(w["uscc"] for w in warnings if w["rule"] == "not_in_registry")
    assert any(i["value"] is not None for i in indicators)
    orders = list(itertools.permutations(SOURCES))
    assert len(orders) == 720
    for order in orders:
        got = report(order)
        assert got[1] == warnings, order
        assert got[0] == indicators, order


PG_ORDERS = [
    ("registry", "tax", "energy", "stats", "projects", "ledgers"),   # registry first
    ("tax", "energy", "stats", "projects", "ledgers", "registry"),   # registry last (the spring 名录)
    ("stats", "registry", "ledgers", "energy", "projects", "tax"),
    ("ledgers", "projects", "stats", "energy", "tax", "registry"),
]


def test_registry_first_or_last_gives_the_same_month_on_postgresql(prepared, pg_server, tmp_path):
    reports = []
    for order in [None, *PG_ORDERS]:
        engine = connect(pg_server("order"))
        try:
            reports.append(_report(engine, prepared, order, tmp_path))
        finally:
            engine.dispose()
    indicators, warnings = reports[0]
    assert "not_in_registry" in {w["rule"] for w in warnings}
    for order, (inds, warns) in zip(PG_ORDERS, reports[1:]):
        assert warns == warnings, order
        assert inds == indicators, order


# --- one order on both warehouses --------------------------------------------------------------

LIVE = "l" * 64


def _stored_warnings(engine):
    """Ingest-time warnings of a live delivery, some undated, some without a USCC, inserted in an
    order that is none of the expected one."""
    rows = [  # (seq, source, table, uscc, period, rule, message)
        (1, "tax", "tax", "B", "2023-02", "negative_tax", "乙 退税"),
        (2, "tax", "tax", None, None, "row_count", "行数偏少"),
        (3, "tax", "tax", "A", None, "negative_tax", "甲 未注明月份"),
        (4, "tax", "tax", "A", "2023-01", "negative_tax", "甲 退税"),
        (5, "registry", "registry", "C", "2023", "above_scale_no_land", "丙 无用地"),
        (6, "tax", "tax", "Z", "2023-01", "registry_empty", "企业名录尚未入库（旧版本在入库时记录）"),
        (7, "tax", "tax", "A", "2023-04", "negative_tax", "报告月之后"),
    ]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO core_tax (uscc, period, total_tax, delivery_id) "
                          "VALUES ('A', '2023-01', 1.0, :d)"), {"d": LIVE})
        conn.execute(text("INSERT INTO core_registry (uscc, name, industry_code, town, land_mu, roster_year, "
                          "is_above_scale, delivery_id) VALUES (:u, :n, '2459', '浮云街道', 10, 2023, 0, :d)"),
                     [{"u": u, "n": n, "d": LIVE} for u, n in (("A", "甲"), ("B", "乙"), ("C", "丙"))])
        conn.execute(text(
            "INSERT INTO validation_warning (delivery_id, seq, source, table_name, uscc, period, rule, message) "
            "VALUES (:d, :seq, :src, :t, :u, :p, :r, :m)"),
            [{"d": LIVE, "seq": s, "src": src, "t": t, "u": u, "p": p, "r": r, "m": m}
             for s, src, t, u, p, r, m in rows])


def test_warnings_have_one_order_with_undated_first_on_both_warehouses(engine):
    _stored_warnings(engine)
    got = [(w["source"], w.get("period"), w["uscc"], w["message"]) for w in live_warnings(engine, PERIOD, CONFIG)]
    assert got == [
        ("registry", "2023", "C", "丙 无用地"),
        ("tax", None, None, "行数偏少"),
        ("tax", None, "A", "甲 未注明月份"),
        ("tax", "2023-01", "A", "甲 退税"),
        ("tax", "2023-02", "B", "乙 退税"),
    ]  # and the frozen ingest-time registry_empty copy is not served: the registry is loaded


def test_bulletin_annex_query_leaves_out_the_warehouse_rules(engine):
    """The annex's per-delivery query names the rules evaluated at compute time; it must be the
    same list as rules.WAREHOUSE_RULES."""
    from mfg_indicators import sql as sql_files

    sql = sql_files.render("bulletin/validation_warnings")
    listed = sql.split("NOT IN (", 1)[1].split(")", 1)[0]
    assert sorted(x.strip().strip("'") for x in listed.split(",")) == sorted(WAREHOUSE_RULES)
    _stored_warnings(engine)
    with engine.connect() as conn:
        rules = [r["rule"] for r in sql_files.query(conn, "bulletin/validation_warnings", {"ids": [LIVE]})]
    assert "registry_empty" not in rules and len(rules) == 6
