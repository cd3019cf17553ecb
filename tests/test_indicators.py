"""Each indicator on small hand-made data, on SQLite and PostgreSQL (the `engine` fixture).

Rows go straight into the core_* tables (no ingestion code), with raw_delivery/delivery_table rows
marking a table as delivered. Every expected value is worked out by hand in the comments.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math

import pytest
from sqlalchemy import text

from mfg_indicators.compute import compute_indicators
from mfg_indicators.config import load_config

CONFIG = load_config()


class WH:
    """Hand-made warehouse content."""

    def __init__(self, engine):
        self.engine = engine
        self.n = 0

    def _exec(self, sql, rows):
        with self.engine.begin() as conn:
            conn.execute(text(sql), rows)

    def deliver(self, *tables, source=None, periods=(), received_at=dt.datetime(2024, 1, 1)):
        """Mark tables as delivered (an accepted raw delivery carrying them)."""
        from mfg_indicators.feeds import TABLES
        for t in tables:
            self.n += 1
            did = hashlib.sha256(f"{t}-{self.n}".encode()).hexdigest()
            src = source or TABLES[t].source
            self._exec("INSERT INTO raw_delivery (delivery_id, source, file_name, archive_path, size_bytes, file_mtime,"
                       " received_at, status, row_count, periods, report) VALUES (:d, :s, :f, :a, 1, :t, :t,"
                       " 'accepted', 1, :p, '{}')",
                       [{"d": did, "s": src, "f": f"{t}.csv", "a": f"archive/{did}", "t": received_at,
                         "p": json.dumps(list(periods))}])
            self._exec("INSERT INTO delivery_table (delivery_id, table_name, sheet, row_count, periods)"
                       " VALUES (:d, :t, NULL, 1, :p)", [{"d": did, "t": t, "p": json.dumps(list(periods))}])

    def registry(self, year, rows):
        """rows: (uscc, industry_code, land_mu, is_above_scale[, town])"""
        self._exec("INSERT INTO core_registry (uscc, name, industry_code, town, land_mu, is_above_scale,"
                   " roster_year, delivery_id) VALUES (:u, :n, :i, :t, :l, :a, :y, 'd')",
                   [{"u": r[0], "n": f"企业{r[0]}", "i": r[1], "l": r[2], "a": r[3],
                     "t": r[4] if len(r) > 4 else "浮云街道", "y": year} for r in rows])

    def tax(self, period, amounts):
        """amounts: {uscc: 税收实际贡献}"""
        self._exec("INSERT INTO core_tax (uscc, name, period, total_tax, delivery_id) VALUES (:u, :n, :p, :v, 'd')",
                   [{"u": u, "n": f"企业{u}", "p": period, "v": v} for u, v in amounts.items()])

    def stats(self, period, uscc, va=None, revenue=None, rd=None, employees=None):
        self._exec("INSERT INTO core_stats_enterprise (uscc, name, period, value_added, revenue, rd_expense,"
                   " employees, delivery_id) VALUES (:u, :n, :p, :va, :rev, :rd, :emp, 'd')",
                   [{"u": uscc, "n": f"企业{uscc}", "p": period, "va": va, "rev": revenue, "rd": rd, "emp": employees}])

    def county(self, name, rows, unit=None):
        """rows: {period: value}"""
        unit = unit or ("%" if "速" in name or "率" in name else "亿元")
        self._exec("INSERT INTO core_stats_county (indicator_name, period, scope, value, unit, delivery_id)"
                   " VALUES (:n, :p, '累计', :v, :u, 'd')",
                   [{"n": name, "p": p, "v": v, "u": unit} for p, v in rows.items()])

    def rectification(self, rows):
        """rows: (uscc, action_type, signoff_date, land, energy, carbon)"""
        self._exec("INSERT INTO core_rectification (uscc, name, action_type, signoff_date, land_freed_mu,"
                   " energy_freed_tce, carbon_reduced_t, delivery_id) VALUES (:u, :n, :a, :d, :l, :e, :c, 'd')",
                   [{"u": r[0], "n": f"企业{r[0]}", "a": r[1], "d": r[2], "l": r[3], "e": r[4], "c": r[5]}
                    for r in rows])

    def projects(self, rows):
        """rows: (project_code, stage, stage_date, industry_code, total_investment)"""
        self._exec("INSERT INTO core_projects (project_code, project_name, stage, stage_date, industry_code,"
                   " total_investment, delivery_id) VALUES (:c, :n, :s, :d, :i, :v, 'd')",
                   [{"c": r[0], "n": f"项目{r[0]}", "s": r[1], "d": r[2], "i": r[3], "v": r[4]} for r in rows])

    def task(self, rows):
        """rows: (code, period, value)"""
        units = {i["code"]: i["unit"] for i in CONFIG.indicators}
        self._exec("INSERT INTO core_task_report (indicator_code, period, value, unit, reporter, delivery_id)"
                   " VALUES (:c, :p, :v, :u, '县经商局', 'd')",
                   [{"c": r[0], "p": r[1], "v": r[2], "u": units[r[0]]} for r in rows])


@pytest.fixture
def wh(engine):
    return WH(engine)


def run(engine, period):
    return compute_indicators(engine, CONFIG, period).by_code()


D = dt.date


# --- T03 / T04 / T05 / T11: enterprise data ----------------------------------------------------

def enterprise_scenario(wh, *, roster_2023=True):
    """The evaluated-set scenario for 2023-03 (1—3月)."""
    wh.deliver("registry", "tax", "stats_enterprise")
    rows_2023 = [
        ("A", "2459", 10, 1),  # 木玩, included
        ("B", "3130", 20, 1),  # 钢压延: excluded from T03/T04 (but in T05/T11)
        ("C", "3451", 0, 1),  # land 0: left out with a warning
        ("D", "3443", 5, 0),  # 规下: not evaluated
        ("E", "2929", 8, 1),  # 其他: tax missing for March -> left out of T03 only
        ("F", "3452", 4, 1),  # no 企业月报 row at 2023-03 -> left out of T04 only
        ("H", "2459", 30, 0),  # 规下 in 2023 (规上 in 2022): not evaluated in 2023
    ]
    if roster_2023:
        wh.registry(2023, rows_2023)
    # 2022 roster: H was 规上 then; A..F as 2023 except C had land 6 and E was 规下
    wh.registry(2022, [("A", "2459", 10, 1), ("B", "3130", 20, 1), ("C", "3451", 6, 1), ("D", "3443", 5, 0),
                       ("E", "2929", 8, 0), ("F", "3452", 4, 1), ("H", "2459", 30, 1)])
    # A later roster must be ignored for a 2023 report: G is 规上 only in 2024
    wh.registry(2024, [("G", "2459", 100, 1), ("A", "2459", 1000, 1)])
    wh.tax("2022-12", {"A": 1000, "F": 1000})  # previous year: not in 1—3月
    wh.tax("2023-01", {"A": 1, "B": 100, "C": 5, "D": 7, "E": 2, "F": 1, "H": 50, "G": 90})
    wh.tax("2023-02", {"A": 2, "B": 100, "C": 5, "D": 7, "E": 2, "F": 1, "H": 50, "G": 90})
    wh.tax("2023-03", {"A": 3, "B": 100, "C": 5, "D": 7, "F": 2, "H": 50, "G": 90})
    wh.tax("2023-04", {"A": 1000, "E": 1000})  # after the period: ignored
    # 企业月报: 1—N月累计 values
    wh.stats("2023-02", "A", va=30, revenue=60, rd=0.5, employees=10)
    wh.stats("2023-02", "F", va=10, revenue=20, rd=0.1, employees=3)
    wh.stats("2023-03", "A", va=50, revenue=100, rd=1, employees=10)
    wh.stats("2023-03", "B", va=200, revenue=400, rd=2, employees=40)
    wh.stats("2023-03", "C", va=9, revenue=50, rd=None, employees=2)
    wh.stats("2023-03", "E", va=40, revenue=None, rd=None, employees=None)
    wh.stats("2023-03", "H", va=300, revenue=None, rd=None, employees=50)
    wh.stats("2023-04", "A", va=5000, revenue=9000, rd=90, employees=10)  # after the period


def test_per_mu_tax_evaluated_set(engine, wh):
    enterprise_scenario(wh)
    res = compute_indicators(engine, CONFIG, "2023-03")
    t03 = res.by_code()["T03"]
    # Evaluated set (2023 roster, 规上, not 钢压延, land > 0, tax for all of 1—3月): A and F.
    # B 钢压延, C land 0, D and H 规下, E no March tax, G only in the 2024 roster.
    # Σ tax = A (1+2+3) + F (1+1+2) = 10; Σ land = 10 + 4 = 14 -> 10/14.
    assert t03["value"] == pytest.approx(10 / 14, rel=1e-12)
    # annualized: 10/14 × 12/3 = 2.857 against 15 -> below 90 % -> red
    assert t03["annualized"] == pytest.approx(10 / 14 * 4, rel=1e-12)
    assert t03["progress"] == pytest.approx(10 / 14 * 4 / 15, rel=1e-12)
    assert t03["time_progress"] == pytest.approx(3 / 12)
    assert t03["status"] == "red" and t03["as_of"] == "2023-03"
    assert any("计入2家" in n for n in t03["notes"])
    # left out, never zero: C (no land, for T03 and T04 in one warning), E (tax incomplete), F (T04)
    by = {(w.rule, w.uscc): w for w in res.warnings if w.rule.startswith("evaluated_set")}
    assert set(by) == {("evaluated_set_no_land", "C"), ("evaluated_set_tax_incomplete", "E"),
                       ("evaluated_set_no_value_added", "F")}
    assert "T03、T04" in by[("evaluated_set_no_land", "C")].message
    assert "2个月" in by[("evaluated_set_tax_incomplete", "E")].message
    assert by[("evaluated_set_tax_incomplete", "E")].source == "tax"


def test_per_mu_value_added_takes_month_n_not_sum(engine, wh):
    enterprise_scenario(wh)
    t04 = run(engine, "2023-03")["T04"]
    # 企业月报 is cumulative: A's value at 2023-03 is 50 (not 30 + 50). Evaluated: A (50, 10 mu) and
    # E (40, 8 mu); F has no March row, C no land, B is 钢压延, H 规下. 90 / 18 = 5.0
    assert t04["value"] == pytest.approx(5.0, rel=1e-12)
    assert t04["annualized"] == pytest.approx(20.0, rel=1e-12)  # × 12/3; vs 80 -> red
    assert t04["status"] == "red"


def test_per_mu_falls_back_to_latest_earlier_roster(engine, wh):
    enterprise_scenario(wh, roster_2023=False)
    r = run(engine, "2023-03")
    # 2022 roster: 规上 A, B(钢压延), C (land 6), F, H (land 30); E is 规下 there.
    # T03: A 6 + C 15 + F 4 + H 150 = 175 over 10 + 6 + 4 + 30 = 50 -> 3.5
    assert r["T03"]["value"] == pytest.approx(175 / 50, rel=1e-12)
    assert any("沿用2022年名录" in n for n in r["T03"]["notes"])
    # T04: A 50 + C 9 + H 300 (F has no March row) over 10 + 6 + 30 = 46
    assert r["T04"]["value"] == pytest.approx(359 / 46, rel=1e-12)


def test_per_mu_no_data(engine, wh):
    # nothing delivered
    r = run(engine, "2023-03")
    assert r["T03"]["status"] == "no_data" and r["T03"]["value"] is None
    assert "从未报送" in r["T03"]["notes"][0]
    # registry and tax delivered, but March tax missing -> no_data naming the month (never 0)
    wh.deliver("registry", "tax", "stats_enterprise")
    wh.registry(2023, [("A", "2459", 10, 1)])
    wh.tax("2023-01", {"A": 1})
    wh.tax("2023-02", {"A": 1})
    r = run(engine, "2023-03")
    assert r["T03"]["status"] == "no_data" and "2023-03" in r["T03"]["notes"][0]
    # no January 企业月报 (the bureau does not publish one): T04, T05, T11 no_data in January
    r = run(engine, "2023-01")
    for code in ("T04", "T05", "T11"):
        assert r[code]["status"] == "no_data" and r[code]["value"] is None, code
    # only a roster of a later year -> no roster for 2022
    wh.tax("2022-01", {"A": 1})
    r = run(engine, "2022-01")
    assert r["T03"]["status"] == "no_data" and "2022年及以前" in r["T03"]["notes"][0]


def test_enterprise_ratios_all_above_scale_reporters(engine, wh):
    enterprise_scenario(wh)
    res = compute_indicators(engine, CONFIG, "2023-03")
    r = res.by_code()
    # T05: every 2023-03 reporter with both 增加值 and 人数, 钢压延 included:
    # A 50/10, B 200/40, C 9/2, H 300/50 (E has no headcount) -> 559 / 102
    assert r["T05"]["value"] == pytest.approx(559 / 102, rel=1e-12)
    assert r["T05"]["annualized"] == pytest.approx(559 / 102 * 4, rel=1e-12)  # 21.9 vs 13 -> green
    assert r["T05"]["status"] == "green"
    # T11: 研发费用 / 营业收入 × 100 over A (1/100) and B (2/400): 3 / 500 × 100 = 0.6 (% vs 1 -> red)
    assert r["T11"]["value"] == pytest.approx(0.6, rel=1e-12)
    assert r["T11"]["status"] == "red" and r["T11"]["annualized"] is None
    rules = {(w.rule, w.uscc) for w in res.warnings}
    assert ("enterprise_ratio_missing_value_added_employees", "E") in rules
    assert ("enterprise_ratio_missing_rd_expense_revenue", "C") in rules


# --- official figures (主要指标) ----------------------------------------------------------------

def test_t01_latest_quarter_end_and_fallback(engine, wh):
    wh.deliver("stats_county")
    wh.county("工业增加值", {"2022-12": 40, "2023-03": 9, "2023-04": 12, "2023-06": 20, "2023-09": 33})
    wh.county("地区生产总值", {"2022-12": 95, "2023-03": 20, "2023-04": 24, "2023-09": 70})
    # 2023-05: latest quarter end <= May is March: 9 / 20 × 100 = 45 (April is not a quarter end)
    t01 = run(engine, "2023-05")["T01"]
    assert t01["value"] == pytest.approx(45.0) and t01["as_of"] == "2023-03" and t01["status"] == "green"
    # 2023-08: June has 工业增加值 but no GDP -> latest with both is still March
    assert run(engine, "2023-08")["T01"]["as_of"] == "2023-03"
    # 2023-02 (January–February): no quarter of 2023 yet -> full year 2022: 40 / 95 × 100 = 42.1
    t01 = run(engine, "2023-02")["T01"]
    assert t01["value"] == pytest.approx(4000 / 95) and t01["as_of"] == "2022-12"
    assert t01["status"] == "yellow"  # 42.1 >= 0.9 × 45 = 40.5
    assert any("2022年全年" in n for n in t01["notes"])
    # 2023-09 is read as published: 33 / 70 × 100
    assert run(engine, "2023-09")["T01"]["value"] == pytest.approx(3300 / 70)
    # 2022-02: no 2021-12 and no 2022 quarter -> no_data
    t01 = run(engine, "2022-02")["T01"]
    assert t01["status"] == "no_data" and t01["as_of"] is None and t01["notes"]


def test_t06_quarter_value_and_january_fallback(engine, wh):
    wh.deliver("stats_county")
    wh.county("规上工业单位增加值能耗下降率", {"2022-12": 4.2, "2023-03": 0.4, "2023-06": 3.0, "2023-07": 9.9})
    t06 = run(engine, "2023-01")["T06"]
    assert t06["value"] == pytest.approx(4.2) and t06["as_of"] == "2022-12" and t06["status"] == "green"
    t06 = run(engine, "2023-07")["T06"]  # July's monthly figure is not a quarter end: June's 3.0
    assert t06["value"] == pytest.approx(3.0) and t06["as_of"] == "2023-06"
    assert t06["status"] == "yellow"  # within 3 points of 3.5
    assert run(engine, "2023-04")["T06"]["status"] == "red"  # March 0.4 < 3.5 - 3


def test_t02_t09b_official_rates_at_the_month(engine, wh):
    wh.deliver("stats_county")
    wh.county("规上工业增加值增速", {"2023-02": 16.5, "2023-03": 12.5, "2023-04": 30.0})
    wh.county("制造业投资增速", {"2023-02": 10.0, "2023-12": 40.0})
    r = run(engine, "2023-03")
    assert r["T02"]["value"] == pytest.approx(12.5) and r["T02"]["status"] == "yellow"  # 15 - 3 <= 12.5
    assert r["T02"]["as_of"] == "2023-03"
    # 制造业投资增速 has no 2023-03 row: no_data (never the February or a later figure)
    assert r["T09B"]["status"] == "no_data" and "2023年3月" in r["T09B"]["notes"][0]
    r = run(engine, "2023-02")
    assert r["T02"]["status"] == "green" and r["T09B"]["value"] == pytest.approx(10.0)
    assert r["T09B"]["status"] == "red"  # 10 < 15 - 3
    # January: no figure published -> no_data
    assert run(engine, "2023-01")["T09B"]["status"] == "no_data"


def test_geometric_means(engine, wh):
    wh.deliver("stats_county")
    # December figures of completed years, plus a mid-year figure that must not be used
    wh.county("规上工业增加值增速", {"2021-12": 10.0, "2022-06": 99.0, "2022-12": 20.0, "2023-03": 5.0})
    wh.county("制造业投资增速", {"2021-12": 30.0, "2023-03": 12.0})
    r = run(engine, "2023-03")
    # T02A: (1.10 × 1.20 × 1.05)^(1/3) - 1 = 1.386^(1/3) - 1 = 11.4945…%
    assert r["T02A"]["value"] == pytest.approx((1.386 ** (1 / 3) - 1) * 100, rel=1e-9)
    assert r["T02A"]["status"] == "red"  # 11.49 < 15 - 3
    # T09BA: 2022-12 is missing -> no_data naming it
    assert r["T09BA"]["status"] == "no_data" and "2022-12" in r["T09BA"]["notes"][0]
    # In 2021 the mean is just the year's own growth
    wh.county("规上工业增加值增速", {"2021-06": 8.0})
    assert run(engine, "2021-06")["T02A"]["value"] == pytest.approx(8.0)
    # December of Y: the year's own December figure once, not twice: (1.1 × 1.2)^(1/2) - 1
    assert run(engine, "2022-12")["T02A"]["value"] == pytest.approx((math.sqrt(1.32) - 1) * 100, rel=1e-9)


# --- event lists: 整治台账 and projects ---------------------------------------------------------

def ledger_rows():
    return [
        ("U1", "淘汰落后产能", D(2021, 3, 10), 10, 1000, 2000),
        ("U1", "整治提升", D(2022, 5, 1), 5, None, 500),  # same enterprise, second action
        ("U2", "淘汰落后产能", D(2020, 12, 31), 100, 9000, 9000),  # before the plan window
        ("U3", "兼并重组", D(2023, 6, 30), 7, 3000, None),  # last day of June
        ("U4", "淘汰落后产能", D(2023, 7, 1), 50, 5000, 5000),  # after 2023-06
        ("U5", "整体腾退", D(2023, 1, 15), None, 500, 1000),  # empty land cell: skipped
    ]


def test_rectification_window_counts_and_sums(engine, wh):
    wh.deliver("rectification", "task_report")
    wh.rectification(ledger_rows())
    r = run(engine, "2023-06")
    # T07 淘汰落后产能 in [2021-01-01, 2023-06-30]: U1 only (U2 before, U4 after) -> 1
    assert r["T07"]["value"] == 1
    # T08A land: U1 10 + U1 5 + U3 7 (+ U5 empty) = 22
    assert r["T08A"]["value"] == pytest.approx(22)
    # T08B distinct enterprises, all types: U1, U3, U5 = 3 (U1 counted once)
    assert r["T08B"]["value"] == 3
    # T08C energy: (1000 + 3000 + 500) / 10000 = 0.45; T08D carbon: (2000 + 500 + 1000) / 10000 = 0.35
    assert r["T08C"]["value"] == pytest.approx(0.45)
    assert r["T08D"]["value"] == pytest.approx(0.35)
    # K01 this year: U3 3000 + U5 500 -> 0.35 万吨; target 0.2 -> done
    assert r["K01"]["value"] == pytest.approx(0.35) and r["K01"]["status"] == "done"
    # time progress 2021-01..2023-06 = 30/36; T08B progress 3/50 -> red
    assert r["T08B"]["time_progress"] == pytest.approx(30 / 36) and r["T08B"]["status"] == "red"
    # a month earlier, U3 (signed off 30 June) is not yet in
    r = run(engine, "2023-05")
    assert r["T08B"]["value"] == 2 and r["K01"]["value"] == pytest.approx(0.05)
    assert r["K01"]["time_progress"] == pytest.approx(5 / 12)
    assert r["K01"]["status"] == "red"  # progress 0.25 < 5/12 - 0.10


def test_rectification_delivered_without_events_is_zero_not_no_data(engine, wh):
    r = run(engine, "2021-06")
    assert r["T07"]["status"] == "no_data" and "从未报送" in r["T07"]["notes"][0]
    wh.deliver("rectification")
    wh.rectification([("U2", "淘汰落后产能", D(2020, 12, 31), 100, 9000, 9000)])
    r = run(engine, "2021-06")
    for code in ("T07", "T08A", "T08B", "T08C", "T08D", "K01"):
        assert r[code]["value"] == 0 and r[code]["status"] == "red", code


def test_big_projects_counted_once_at_first_signing(engine, wh):
    wh.deliver("projects")
    wh.projects([
        ("P1", "签约", D(2021, 5, 1), "2459", 20000), ("P1", "开工", D(2021, 9, 1), "2459", 20000),  # once
        ("P1", "投产", D(2022, 9, 1), "2459", 25000),
        ("P2", "签约", D(2023, 2, 1), "3451", 10000),  # exactly 1亿: counts
        ("P3", "签约", D(2022, 3, 1), "5211", 50000),  # retail: not manufacturing
        ("P4", "签约", D(2022, 4, 1), "3130", 9999),  # below 1亿
        ("P5", "备案", D(2022, 1, 1), "3443", 30000),  # never signed
        ("P6", "签约", D(2020, 11, 1), "3443", 30000), ("P6", "开工", D(2021, 3, 1), "3443", 30000),  # before window
        ("P7", "签约", D(2023, 7, 1), "3443", 30000),  # after 2023-06
        ("P8", "签约", D(2023, 6, 15), "4320", 15000),  # division 43: manufacturing
        ("P9", "签约", D(2023, 3, 15), "4411", 15000),  # division 44: not manufacturing
    ])
    r = run(engine, "2023-06")
    # T09A: P1, P2, P8 = 3; K12 this year: P2, P8 = 2
    assert r["T09A"]["value"] == 3 and r["K12"]["value"] == 2
    # cumulative 3/9 = 0.333 vs 30/36 = 0.833 -> red; this year 2/3 = 0.667 vs 0.5 -> green
    assert r["T09A"]["status"] == "red" and r["K12"]["status"] == "green"
    r = run(engine, "2023-05")
    assert r["T09A"]["value"] == 2 and r["K12"]["value"] == 1
    assert run(engine, "2021-04")["T09A"]["value"] == 0  # delivered, nothing signed yet in the window


# --- 任务月报 ---------------------------------------------------------------------------------

def test_task_report_latest_at_or_before_period(engine, wh):
    wh.deliver("task_report")
    wh.task([
        ("T10A", "2022-06", 1),
        ("K03", "2022-12", 2), ("K03", "2023-02", 1),
        ("K05", "2023-05", 26), ("K05", "2023-07", 30),
        ("K17", "2023-06", 20),
        ("K08", "2023-06", 1),
    ])
    r = run(engine, "2023-06")
    assert r["T10A"]["value"] == 1 and r["T10A"]["as_of"] == "2022-06" and r["T10A"]["status"] == "done"
    # K05 level: May's 26 (July's 30 is after the period); 26 >= 0.9 × 28 -> yellow
    assert r["K05"]["value"] == 26 and r["K05"]["as_of"] == "2023-05" and r["K05"]["status"] == "yellow"
    assert r["K05"]["time_progress"] is None
    # K17 this year: 20/25 = 0.8 vs 6/12 -> green
    assert r["K17"]["value"] == 20 and r["K17"]["status"] == "green"
    # K08 cumulative: 1/3 vs 30/36 -> red
    assert r["K08"]["status"] == "red"
    assert r["K03"]["value"] == 1 and r["K03"]["status"] == "done"
    assert r["K04"]["status"] == "no_data" and "K04" in r["K04"]["notes"][0]
    # January 2023: K03's December 2022 figure says nothing about 2023 -> no_data
    r = run(engine, "2023-01")
    assert r["K03"]["status"] == "no_data" and "2023年" in r["K03"]["notes"][0]
    assert r["T10A"]["value"] == 1  # cumulative codes keep their latest figure


def test_nothing_delivered_everything_no_data_with_reason(engine):
    res = compute_indicators(engine, CONFIG, "2023-06")
    assert [i["code"] for i in res] == [i["code"] for i in CONFIG.indicators]
    for ind in res:
        assert ind["status"] == "no_data" and ind["value"] is None, ind["code"]
        assert ind["notes"] and ind["notes"][0], ind["code"]
