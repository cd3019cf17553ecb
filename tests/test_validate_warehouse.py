"""The warehouse's warning rules (mfg_indicators.rules, include/sql/rules/), on SQLite and
PostgreSQL: evaluated for a report month from the core tables as they are, plus the one rule
that runs at ingest on a staged registry delivery (validate_in_warehouse).

Rows are put straight into stg_/core_ tables with SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from mfg_indicators import feeds, uscc
from mfg_indicators.config import load_config
from mfg_indicators.rules import month_warnings
from mfg_indicators.validate import validate_in_warehouse

CONFIG = load_config()
D = "d" * 64  # a delivery being validated at ingest
OLD = "o" * 64  # published deliveries
A, B, C = (uscc.make(f"91331125MA2B0000{i}") for i in (1, 2, 3))


def insert(conn, table: str, rows: list[dict], *, delivery: str = OLD) -> None:
    for i, row in enumerate(rows, start=2):
        row = dict(row)
        row["delivery_id"] = delivery
        if table.startswith("stg_"):
            row.setdefault("row_no", i)
        cols = ", ".join(row)
        conn.execute(text(f"INSERT INTO {table} ({cols}) VALUES ({', '.join(':' + c for c in row)})"), row)


def registry(conn, rows, year=2023):
    insert(conn, "core_registry", [dict(uscc=u, name=f"企业{u[-3:]}", industry_code="2459", town="浮云街道",
                                        land_mu=land, is_above_scale=ab, roster_year=year)
                                   for u, land, ab in rows])


def run(conn, period):
    return month_warnings(conn, CONFIG, period)


def by_rule(findings, rule):
    return [f for f in findings if f.rule == rule]


def test_not_in_registry(engine):
    with engine.begin() as conn:
        registry(conn, [(A, 10.0, 1)], year=2022)  # any roster year counts
        for table in ("tax", "energy", "stats_enterprise"):
            insert(conn, f"core_{table}", [dict(uscc=A, name="甲", period="2023-06"),
                                           dict(uscc=B, name="乙", period="2023-06"),
                                           dict(uscc=B, name="乙", period="2023-07"),
                                           dict(uscc=C, name="丙", period="2023-08")])  # after the report
        found = by_rule(run(conn, "2023-07"), "not_in_registry")
        assert [(f.uscc, f.period, f.level, f.table) for f in found] == \
            [(B, "2023-06", "warning", t) for t in ("energy", "stats_enterprise", "tax")]
        assert all("不在企业名录" in f.message and "乙" in f.message and f.column == "统一社会信用代码" for f in found)


def test_registry_not_loaded_yet_is_one_warning_per_table(engine):
    with engine.begin() as conn:
        insert(conn, "core_tax", [dict(uscc=A, period="2023-06", total_tax=1.0),
                                  dict(uscc=B, period="2023-06", total_tax=2.0)])
        found = run(conn, "2023-06")
        assert [(f.rule, f.table) for f in found] == [("registry_empty", "tax")]
        assert "2家企业" in found[0].message
        # the registry arrives later: the warning is gone and the unregistered taxpayer is named
        registry(conn, [(A, 10.0, 0)])
        assert [(f.rule, f.uscc) for f in run(conn, "2023-06")] == [("not_in_registry", B)]


def test_month_on_month_jump(engine):
    with engine.begin() as conn:
        registry(conn, [(A, 10.0, 0), (B, 10.0, 0), (C, 10.0, 0)])
        insert(conn, "core_tax", [dict(uscc=A, period="2023-05", total_tax=10.0),
                                  dict(uscc=B, period="2023-05", total_tax=10.0),
                                  dict(uscc=C, period="2023-05", total_tax=10.0),
                                  dict(uscc=A, period="2023-06", total_tax=150.0),   # 15x
                                  dict(uscc=B, period="2023-06", total_tax=95.0),    # 9.5x: fine
                                  dict(uscc=C, period="2023-06", total_tax=10.0),
                                  dict(uscc=C, period="2023-07", total_tax=0.5)])    # 1/20
        found = by_rule(run(conn, "2023-07"), "mom_jump")
        assert sorted((f.uscc, f.period) for f in found) == [(A, "2023-06"), (C, "2023-07")]
        assert all(f.level == "warning" and f.column == "税收实际贡献（万元）" for f in found)
        # the report on June does not look at July
        assert [(f.uscc, f.period) for f in by_rule(run(conn, "2023-06"), "mom_jump")] == [(A, "2023-06")]


def test_jump_across_the_year_for_monthly_values_only(engine):
    with engine.begin() as conn:
        registry(conn, [(A, 10.0, 1)])
        insert(conn, "core_energy", [dict(uscc=A, period="2022-12", energy_tce=1.0, electricity=1.0),
                                     dict(uscc=A, period="2023-01", energy_tce=1.0, electricity=20.0)])
        insert(conn, "core_stats_enterprise", [dict(uscc=A, period="2022-12", value_added=1000.0),
                                               dict(uscc=A, period="2023-01", value_added=50.0)])
        found = by_rule(run(conn, "2023-01"), "mom_jump")
        # 当月 electricity 1 -> 20 jumps; the 1—N月累计 value added restarts in January
        assert [(f.table, f.column, f.period) for f in found] == [("energy", "用电量（万千瓦时）", "2023-01")]


def test_cumulative_values_that_decrease(engine):
    with engine.begin() as conn:
        registry(conn, [(A, 10.0, 1), (B, 10.0, 1)])
        insert(conn, "core_stats_enterprise", [
            dict(uscc=A, period="2023-05", gross_output=500.0, value_added=100.0, revenue=480.0, rd_expense=5.0),
            dict(uscc=A, period="2023-06", gross_output=600.0, value_added=90.0, revenue=580.0, rd_expense=6.0),
            dict(uscc=B, period="2022-12", gross_output=5000.0, value_added=900.0, revenue=4800.0, rd_expense=50.0),
            dict(uscc=B, period="2023-01", gross_output=400.0, value_added=80.0, revenue=390.0, rd_expense=4.0),
        ])
        found = by_rule(run(conn, "2023-06"), "cumulative_decrease")
        # A's value added falls 100 -> 90 within 2023; B's January restart after December is normal
        assert [(f.uscc, f.period, f.column) for f in found] == [(A, "2023-06", "工业增加值（万元）")]
        assert "累计" in found[0].message and found[0].level == "warning"


def test_above_scale_enterprise_without_land_area_at_ingest(engine):
    with engine.begin() as conn:
        insert(conn, "stg_registry", [
            dict(uscc=A, name="甲", industry_code="2459", town="浮云街道", land_mu=None, is_above_scale=1, roster_year=2023),
            dict(uscc=B, name="乙", industry_code="2459", town="浮云街道", land_mu=None, is_above_scale=0, roster_year=2023),
            dict(uscc=C, name="丙", industry_code="2459", town="浮云街道", land_mu=12.0, is_above_scale=1, roster_year=2023),
        ], delivery=D)
        found = validate_in_warehouse(conn, feeds.REGISTRY, D, source="registry", config=CONFIG)
        assert [(f.rule, f.uscc, f.row, f.column, f.period) for f in found] == \
            [("above_scale_no_land", A, 2, "用地面积（亩）", "2023")]
        # the feed tables have no ingest-time warehouse rule left
        for t in feeds.TABLES.values():
            if t.name != "registry":
                assert validate_in_warehouse(conn, t, D, source=t.source, config=CONFIG) == []


def test_above_scale_enterprise_without_tax_uses_the_roster_in_force(engine):
    with engine.begin() as conn:
        registry(conn, [(A, 10.0, 1), (B, 10.0, 1), (C, 10.0, 0)], year=2023)
        registry(conn, [(C, 10.0, 1)], year=2022)  # an older roster: not the one in force
        insert(conn, "core_tax", [dict(uscc=A, period="2024-01", total_tax=5.0),   # roster 2023 used for 2024
                                  dict(uscc=B, period="2024-01", total_tax=None),  # a row, but nothing reported
                                  dict(uscc=A, period="2024-02", vat=1.0),
                                  dict(uscc=B, period="2024-02", total_tax=0.0)])  # zero is reported
        found = by_rule(run(conn, "2024-03"), "above_scale_no_tax")  # March: no tax delivered yet
        assert [(f.uscc, f.period) for f in found] == [(B, "2024-01")]
        assert "无税收数据" in found[0].message and "2023年名录" in found[0].message
        # a 2024 roster arrives and makes C 规上: judged against the roster in force now
        registry(conn, [(A, 10.0, 1), (B, 10.0, 0), (C, 10.0, 1)], year=2024)
        found = by_rule(run(conn, "2024-03"), "above_scale_no_tax")
        assert [(f.uscc, f.period) for f in found] == [(C, "2024-01"), (C, "2024-02")]


def _county(value, period="2023-06"):
    return dict(indicator_name="规上工业增加值", period=period, scope="累计", value=value, unit="亿元")


def test_reconciliation_enterprise_sum_vs_bureau(engine):
    with engine.begin() as conn:
        registry(conn, [(A, 10.0, 1), (B, 10.0, 1)])
        insert(conn, "core_stats_county", [_county(2.0), _county(3.0, "2023-07"), _county(1.0, "2023-05")])
        # June: 12000 + 9000 = 21000 vs 2.0 亿元 = 20000 -> 5 % : within the 5 % tolerance
        # July: 12000 + 20000 = 32000 vs 3.0 亿元 = 30000 -> 6.7 % : warning
        # May: no 企业月报 yet -> nothing to reconcile
        insert(conn, "core_stats_enterprise", [dict(uscc=A, period="2023-06", value_added=12000.0),
                                               dict(uscc=B, period="2023-06", value_added=9000.0),
                                               dict(uscc=A, period="2023-07", value_added=12000.0),
                                               dict(uscc=B, period="2023-07", value_added=20000.0)])
        found = by_rule(run(conn, "2023-07"), "reconciliation")
        assert [(f.period, f.uscc, f.table) for f in found] == [("2023-07", "规上工业增加值", "stats_enterprise")]
        assert "6.7%" in found[0].message and found[0].level == "warning"


def test_clean_warehouse_has_no_warnings(engine):
    with engine.begin() as conn:
        registry(conn, [(A, 10.0, 1), (B, 20.0, 1)])
        insert(conn, "core_tax", [dict(uscc=A, period="2023-05", vat=8.0, total_tax=8.0),
                                  dict(uscc=B, period="2023-05", vat=3.0, total_tax=3.0),
                                  dict(uscc=A, period="2023-06", vat=9.0, total_tax=9.0),
                                  dict(uscc=B, period="2023-06", vat=4.0, total_tax=4.0)])
        insert(conn, "core_stats_county", [_county(0.3)])
        insert(conn, "core_stats_enterprise", [
            dict(uscc=A, period="2023-06", gross_output=9000.0, value_added=2000.0, revenue=9100.0, rd_expense=90.0),
            dict(uscc=B, period="2023-06", gross_output=5000.0, value_added=1000.0, revenue=5100.0, rd_expense=50.0)])
        assert run(conn, "2023-06") == []


@pytest.mark.parametrize("hostile", ["'); DROP TABLE core_tax; --", "<script>x</script>", "a -- b ':x'"])
def test_hostile_text_is_data(engine, hostile):
    with engine.begin() as conn:
        registry(conn, [(A, 10.0, 1)])
        insert(conn, "core_tax", [dict(uscc=hostile, name=hostile, period="2023-06", total_tax=1.0)])
        found = by_rule(run(conn, "2023-06"), "not_in_registry")
        assert [f.uscc for f in found] == [hostile] and hostile in found[0].message
        assert conn.execute(text("SELECT COUNT(*) FROM core_tax")).scalar() == 1


def test_rules_stay_set_based_at_scale(engine):
    """20,000 enterprises over three months: a nested-loop plan (quadratic) would take minutes
    here; the rules must finish in seconds on both engines, and still find exactly the planted
    cases."""
    import time

    n = 20_000
    codes = [uscc.make(f"9133{i:013d}") for i in range(n)]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO core_registry (uscc, name, industry_code, town, land_mu, is_above_scale, "
                          "roster_year, delivery_id) VALUES (:u, 'x', '2459', '浮云街道', 10, :a, 2023, :o)"),
                     [{"u": u, "a": int(i < 100), "o": OLD} for i, u in enumerate(codes[:-3])])  # 3 unregistered
        for month, value in (("2023-05", 10), ("2023-07", 12)):
            conn.execute(text("INSERT INTO core_tax (uscc, period, total_tax, delivery_id) VALUES (:u, :p, :v, :o)"),
                         [{"u": u, "p": month, "v": value, "o": OLD} for u in codes])
        conn.execute(text("INSERT INTO core_tax (uscc, period, total_tax, delivery_id) VALUES (:u, '2023-06', :v, :o)"),
                     [{"u": u, "v": 200.0 if i % 5000 == 7 else 12.0, "o": OLD}
                      for i, u in enumerate(codes) if i not in (10, 11)])  # two 规上 without June tax
        t0 = time.perf_counter()
        found = run(conn, "2023-07")
        seconds = time.perf_counter() - t0
    assert sorted(f.uscc for f in by_rule(found, "not_in_registry")) == sorted(codes[-3:])
    # each planted June value jumps against May (June) and against July
    assert sorted((f.uscc, f.period) for f in by_rule(found, "mom_jump")) == \
        sorted((codes[i], p) for i in (7, 5007, 10007, 15007) for p in ("2023-06", "2023-07"))
    assert sorted(f.uscc for f in by_rule(found, "above_scale_no_tax")) == [codes[10], codes[11]]
    # Not a speed target (make bench measures those): a guard against quadratic plans; the wide
    # margin keeps a busy machine from failing it.
    assert seconds < 60, f"warehouse rules took {seconds:.1f} s for {n} enterprises: a nested-loop plan?"


def test_never_delivered_names_the_department_of_the_plan(engine):
    """The no_data reason names the delivering department as the plan configuration does (another
    county's plan names its own), not a list spelled in the code."""
    import copy

    from mfg_indicators.compute import compute_indicators
    from mfg_indicators.config import PlanConfig

    data = copy.deepcopy(CONFIG.data)
    data["departments"]["stats"]["name"] = "某县统计局"
    data["departments"]["registry"]["name"] = "某县经信局"
    other = PlanConfig(CONFIG.path, data)
    notes = [n for i in compute_indicators(engine, other, "2023-03").indicators for n in i["notes"]
             if "从未报送" in n]
    assert any("主要指标（某县统计局）从未报送" in n for n in notes), notes
    assert any("企业名录（某县经信局）从未报送" in n for n in notes), notes
    assert not any("（县统计局）" in n or "（企业名录）" in n for n in notes), notes
