"""indicators/per_mu/: one row per candidate whatever the candidates look alike (both dialects), and the
SQLite plan that keeps the query linear at province scale (issue 8: the old shape rescanned a
grouped derived table once per candidate and ran for minutes on 150,000 enterprises)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import bindparam, text

from mfg_indicators import compute
from mfg_indicators.compute import compute_indicators, per_mu_breakdown
from mfg_indicators.warehouse import connect
from test_indicators import CONFIG, WH


@pytest.fixture
def wh(engine):
    return WH(engine)


def _registry(wh, rows):
    """rows: (uscc, name, industry_code, land_mu, is_above_scale) — name and land may be NULL."""
    wh._exec("INSERT INTO core_registry (uscc, name, industry_code, town, land_mu, is_above_scale, roster_year,"
             " delivery_id) VALUES (:u, :n, :i, '浮云街道', :l, :a, 2023, 'd')",
             [{"u": u, "n": n, "i": i, "l": land, "a": a} for u, n, i, land, a in rows])


def test_per_mu_lookalike_candidates_nulls_and_missing_rows(engine, wh):
    wh.deliver("registry", "tax", "stats_enterprise")
    _registry(wh, [
        ("P1", "同名企业", "2459", 10, 1),  # 木玩, tax 3 + 4
        ("P2", "同名企业", "2459", 10, 1),  # same name, industry, town and land as P1: its own row, 1 + 2
        ("P3", None, "3451", None, 1),  # no name, no land: left out (warning names the USCC)
        ("P4", "企业P4", "3443", 5, 1),  # February's row has an empty 税收实际贡献: 1 month of 2
        ("P5", "企业P5", "2929", 2, 1),  # no tax row at all: 0 months, never counted as 0
        ("P6", "企业P6", "3130", 3, 1),  # 钢压延: not in T03, flagged in the breakdown
        ("P7", "企业P7", "2459", 50, 0),  # 规下: not a candidate
    ])
    wh.tax("2023-01", {"P1": 3, "P2": 1, "P3": 9, "P4": 5, "P6": 100, "P7": 70})
    wh.tax("2023-02", {"P1": 4, "P2": 2, "P3": 9, "P4": None, "P6": 100, "P7": 70})
    res = compute_indicators(engine, CONFIG, "2023-02")
    t03 = res.by_code()["T03"]
    # evaluated: P1 (7, 10 mu) and P2 (3, 10 mu) -> 10 / 20
    assert t03["value"] == pytest.approx(0.5, rel=1e-12)
    assert any("5家，计入2家" in n for n in t03["notes"])  # candidates P1..P5
    by = {(w.rule, w.uscc): w for w in res.warnings if w.rule.startswith("evaluated_set")}
    assert set(by) == {("evaluated_set_no_land", "P3"), ("evaluated_set_tax_incomplete", "P4"),
                       ("evaluated_set_tax_incomplete", "P5")}
    assert "“P3”" in by[("evaluated_set_no_land", "P3")].message
    assert "仅报送1个月" in by[("evaluated_set_tax_incomplete", "P4")].message
    assert "仅报送0个月" in by[("evaluated_set_tax_incomplete", "P5")].message

    cells = {(c["industry_group"], c["excluded"]): c for c in per_mu_breakdown(engine, CONFIG, "2023-02", "tax")}
    assert set(cells) == {("木玩", 0), ("钢压延", 1)}
    assert (cells[("木玩", 0)]["n_included"], cells[("木玩", 0)]["numerator"], cells[("木玩", 0)]["land_mu"]) \
        == (2, pytest.approx(10), pytest.approx(20))
    assert (cells[("钢压延", 1)]["n_included"], cells[("钢压延", 1)]["numerator"]) == (1, pytest.approx(200))


# --- the SQLite plan --------------------------------------------------------------------------

def _plan(engine, name: str, measure: str, period: str = "2023-12") -> list[str]:
    from mfg_indicators import sql

    p = compute.Period.parse(period)
    order, extra = compute._industry_group_params(CONFIG)
    query = sql.render(f"indicators/per_mu/{name}", measure=measure,
                       industry_group=lambda column: compute._industry_group_case(order, column))
    params = {"period": p.text, "year": p.year, "year_start_month": p.year_start_month,
              "excluded_groups": list(CONFIG["per_mu_excluded_groups"]),
              "months_needed": p.month if measure == "tax" else 1, **extra}
    used = set(re.findall(r"(?<![:\w]):(\w+)", query))
    assert used <= params.keys(), used - params.keys()
    stmt = text("EXPLAIN QUERY PLAN " + query).bindparams(bindparam("excluded_groups", expanding=True))
    with engine.connect() as conn:
        return [r[3] for r in conn.execute(stmt, {k: params[k] for k in used})]


@pytest.mark.parametrize("name", ["value", "breakdown"])
def test_sqlite_reads_each_candidates_rows_by_index(tmp_path, name):
    # An empty warehouse plans like a province-size one: SQLite has no statistics either way.
    engine = connect(f"sqlite:///{tmp_path / 'w.sqlite'}")
    try:
        for measure, access in (("tax", "USING COVERING INDEX core_tax_uscc_period (uscc=? AND period>? AND period<?)"),
                                ("value_added", "(period=? AND uscc=?)")):
            plan = _plan(engine, name, measure)
            assert any(access in step and "LEFT-JOIN" in step for step in plan), (measure, plan)
            # never a scan inside the join (a derived table or a feed table read once per candidate)
            assert not [s for s in plan if s.startswith("SCAN") and "LEFT-JOIN" in s], (measure, plan)
            assert not [s for s in plan if re.match(r"SCAN (t|s|core_tax|core_stats_enterprise)\b", s)], plan
    finally:
        engine.dispose()


def test_index_is_sqlite_only(engine):
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            names = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))}
        else:
            names = {r[0] for r in conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'core_tax'"))}
    assert ("core_tax_uscc_period" in names) == (engine.dialect.name == "sqlite")


# --- provenance/deliveries_used.sql: per-delivery probes, same answer -------------------------------

def test_deliveries_used_lists_only_deliveries_whose_rows_are_read(engine, wh):
    from mfg_indicators.provenance import deliveries_used

    def deliver(did, source, table):
        wh._exec("INSERT INTO raw_delivery (delivery_id, source, file_name, archive_path, size_bytes, file_mtime,"
                 " received_at, status, row_count, periods, report) VALUES (:d, :s, :f, :a, 1, :t, :t,"
                 " 'accepted', 1, '[]', '{}')",
                 [{"d": did, "s": source, "f": f"{did}.csv", "a": f"archive/{did}", "t": dt.datetime(2024, 1, 1)}])
        wh._exec("INSERT INTO delivery_table (delivery_id, table_name, sheet, row_count, periods)"
                 " VALUES (:d, :t, NULL, 1, '[]')", [{"d": did, "t": table}])

    for did, source, table in (("R23", "registry", "registry"), ("R22", "registry", "registry"),
                               ("T1", "tax", "tax"), ("T1OLD", "tax", "tax"), ("T22", "tax", "tax"),
                               ("T4", "tax", "tax"), ("S3", "stats", "stats_enterprise"),
                               ("S22", "stats", "stats_enterprise")):
        deliver(did, source, table)
    reg = ("INSERT INTO core_registry (uscc, name, industry_code, town, land_mu, is_above_scale, roster_year,"
           " delivery_id) VALUES (:u, 'x', '2459', '浮云街道', 1, 1, :y, :d)")
    wh._exec(reg, [{"u": "A", "y": 2023, "d": "R23"}, {"u": "A", "y": 2022, "d": "R22"}])
    tax = "INSERT INTO core_tax (uscc, period, total_tax, delivery_id) VALUES (:u, :p, 1, :d)"
    # T1OLD's rows were all replaced by T1: no core row carries it any more
    wh._exec(tax, [{"u": "A", "p": "2023-01", "d": "T1"}, {"u": "B", "p": "2023-01", "d": "T1"},
                   {"u": "A", "p": "2022-12", "d": "T22"}, {"u": "A", "p": "2023-04", "d": "T4"}])
    st = "INSERT INTO core_stats_enterprise (uscc, period, value_added, delivery_id) VALUES (:u, :p, 1, :d)"
    wh._exec(st, [{"u": "A", "p": "2023-03", "d": "S3"}, {"u": "A", "p": "2022-12", "d": "S22"}])
    rows = deliveries_used(engine, CONFIG, "2023-03")
    assert {(r["table_name"], r["delivery_id"]) for r in rows} == {
        ("registry", "R23"), ("tax", "T1"), ("stats_enterprise", "S3")}
    assert len(rows) == 3  # one row per (delivery, table), not per core row


def test_sqlite_deliveries_used_probes_per_delivery(tmp_path):
    from mfg_indicators import provenance, sql

    engine = connect(f"sqlite:///{tmp_path / 'w.sqlite'}")
    try:
        params = {**provenance.period_params(CONFIG, "2023-12"), "roster_year": 2023}
        with engine.connect() as conn:
            plan = [r[3] for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql.render("provenance/deliveries_used")),
                                               params)]
        for index, cond in (("core_tax_delivery", "delivery_id=? AND period>? AND period<?"),
                            ("core_stats_enterprise_delivery", "delivery_id=? AND period>? AND period<?"),
                            ("core_registry_delivery", "delivery_id=? AND roster_year=?")):
            assert any(f"COVERING INDEX {index} ({cond})" in s for s in plan), (index, plan)
        # the year's rows of the big tables are not walked for their delivery ids
        assert not [s for s in plan if re.search(r"\b(core_tax|core_stats_enterprise|core_registry)\b", s)
                    and "COVERING INDEX" not in s], plan
    finally:
        engine.dispose()
