"""亩均效益综合评价 and the 低效企业清单, on both warehouses, from small hand-made core_* data."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text

from mfg_indicators.config import ConfigError, load_config
from mfg_indicators.evaluation import (
    EVAL_CONFIG_DIR,
    EvaluationError,
    evaluate_year,
    evaluation_config_path,
    evaluation_summary,
    load_evaluation,
    load_evaluation_config,
    write_inefficient_list_xlsx,
)

SHIPPED = EVAL_CONFIG_DIR / "2022.yaml"


@pytest.fixture(scope="module")
def plan():
    return load_config()


def uscc(i: int) -> str:
    return f"913311250000{i:06d}"


# --- hand-made data ------------------------------------------------------------------------

def add_ent(conn, u, *, land, above=True, industry="2459", town="浮云街道", years=(2021, 2022)):
    for y in years:
        conn.execute(text(
            "INSERT INTO core_registry (uscc, name, industry_code, town, land_mu, is_above_scale, "
            "roster_year, delivery_id) VALUES (:u, :n, :i, :t, :l, :a, :y, 'test')"),
            {"u": u, "n": f"企业{u[-4:]}", "i": industry, "t": town, "l": land,
             "a": 1 if above else 0, "y": y})


def add_tax(conn, u, year, total, months=12):
    """`total` spread evenly over `months` months of `year` (当月 values)."""
    for m in range(1, months + 1):
        conn.execute(text("INSERT INTO core_tax (uscc, period, total_tax, delivery_id) "
                          "VALUES (:u, :p, :v, 'test')"),
                     {"u": u, "p": f"{year}-{m:02d}", "v": total / months})


def add_energy(conn, u, year, tce, elec, months=12):
    for m in range(1, months + 1):
        conn.execute(text("INSERT INTO core_energy (uscc, period, energy_tce, electricity, delivery_id) "
                          "VALUES (:u, :p, :e, :k, 'test')"),
                     {"u": u, "p": f"{year}-{m:02d}", "e": None if tce is None else tce / months,
                      "k": None if elec is None else elec / months})


def add_stats(conn, u, year, *, va, revenue, rd, employees, last_month=12):
    """1–N月累计 rows at month 6 (half the year's figures) and at `last_month` (the full ones):
    a sum over months would count the first half twice."""
    for m, share in ((6, 0.5), (last_month, 1.0)):
        conn.execute(text(
            "INSERT INTO core_stats_enterprise (uscc, period, value_added, revenue, rd_expense, "
            "employees, delivery_id) VALUES (:u, :p, :va, :rev, :rd, :emp, 'test')"),
            {"u": u, "p": f"{year}-{m:02d}", "va": va * share, "rev": revenue * share,
             "rd": None if rd is None else rd * share, "emp": employees})


def simple_config(*, rule="percentile", ties="better", percentile=(20, 60, 95),
                  thresholds=(90, 60, 30), rules=None, new_years=2):
    """One item, 亩均税收, weight 100 and benchmark 1 万元/亩, cap 1000: score = 100 × 亩均税收."""
    cls = {"rule": rule, "ties": ties,
           "percentile": dict(zip("ABC", percentile)), "thresholds": dict(zip("ABC", thresholds))}
    scale = {"defaults": {"cap": 1000, "floor": 0, "missing_rule": "zero"},
             "items": [{"item": "tax_per_mu", "weight": 100, "benchmark": 1, "missing_rule": "exclude"}],
             "classification": cls}
    return {"year": 2022, "title": "测试", "scope": {"min_land_mu": 3},
            "exclusions": {"registered_under_years": new_years,
                           "industry_prefixes": [{"code": "utility", "prefixes": ["44", "45", "46"],
                                                  "reason": "公用事业不参评"}],
                           "enterprises": []},
            "score_decimals": 2, "above_scale": copy.deepcopy(scale), "below_scale": copy.deepcopy(scale),
            "inefficient": {"classes": ["D"], "rules": rules or []}}


def scored(conn, year, scores, *, above=True, start=1, land=10.0):
    """Enterprises whose simple_config score is exactly `scores` (tax_per_mu = score / 100)."""
    for k, s in enumerate(scores):
        u = uscc(start + k)
        add_ent(conn, u, land=land, above=above, years=(2021, year) if year != 2021 else (2021,))
        add_tax(conn, u, year, s / 100 * land, months=1)
    return [uscc(start + k) for k in range(len(scores))]


def by_uscc(rows):
    return {r["uscc"]: r for r in rows}


# --- configuration -------------------------------------------------------------------------

def test_shipped_2022_config_has_the_huangyan_weights_and_both_class_rules():
    ec = load_evaluation_config(SHIPPED)
    items = {it["item"]: it for it in ec.item_params("above")}
    assert {k: v["weight"] for k, v in items.items()} == {
        "tax_per_mu": 30, "va_per_mu": 20, "va_per_energy": 20, "va_per_emission": 10,
        "labour_productivity": 10, "rd_ratio": 10}
    assert {k: v["benchmark"] for k, v in items.items()} == {
        "tax_per_mu": 24.097, "va_per_mu": 136.16, "va_per_energy": 2.694, "va_per_emission": 4929.81,
        "labour_productivity": 18.14, "rd_ratio": 3.02}
    assert items["va_per_emission"]["missing_rule"] == "average_score"
    cls = ec.scale("above")["classification"]
    assert cls["rule"] == "percentile" and cls["percentile"] == {"A": 20, "B": 60, "C": 95}
    assert set(cls["thresholds"]) == {"A", "B", "C"} and cls["ties"] == "better"
    assert [r["code"] for r in ec["inefficient"]["rules"]] == ["low_tax_above", "low_tax_below"]


@pytest.mark.parametrize("mutate, message", [
    (lambda c: c["above_scale"]["classification"].update(percentile={"A": 60, "B": 20, "C": 95}), "A ≤ B ≤ C"),
    (lambda c: c["above_scale"]["classification"].update(thresholds={"A": 30, "B": 60, "C": 90}), "A ≥ B ≥ C"),
    (lambda c: c["above_scale"]["items"].append({"item": "emissions", "weight": 1, "benchmark": 1}), "items/1/item"),
    (lambda c: c["above_scale"]["items"][0].update(missing_rule="guess"), "missing_rule"),
    (lambda c: c["above_scale"]["items"].append(dict(c["above_scale"]["items"][0])), "listed twice"),
])
def test_bad_evaluation_config_is_rejected_with_the_reason(mutate, message):
    cfg = simple_config()
    mutate(cfg)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_evaluation_config(cfg)


def test_config_file_by_convention_with_fallback_note(plan):
    path, note = evaluation_config_path(plan, 2022)
    assert path == SHIPPED and note is None
    path, note = evaluation_config_path(plan, 2023)      # no 2023 file: the latest earlier year
    assert path == SHIPPED and "沿用2022年度参数" in note
    path, note = evaluation_config_path(plan, 2021)      # no earlier: the earliest later year
    assert path == SHIPPED and "2021年度无评价参数文件" in note


# --- score formula -------------------------------------------------------------------------

def _two_above_scale(conn, year=2022):
    """E1 and E2 (hand-computed in test_score_formula_with_cap_and_missing_emission)."""
    e1, e2 = uscc(1), uscc(2)
    add_ent(conn, e1, land=10)
    add_tax(conn, e1, year, 24.097 * 10 * 1.5)                      # 亩均税收 ratio 1.5
    va1 = 136.16 * 10                                               # 亩均增加值 ratio 1
    add_energy(conn, e1, year, va1 / (2.694 * 0.5), 500)            # 能耗 ratio 0.5
    add_stats(conn, e1, year, va=va1, revenue=10000, rd=302,        # R&D 3.02 % ratio 1
              employees=va1 / (18.14 * 3))                          # 劳产率 ratio 3 -> cap 2
    add_ent(conn, e2, land=20)
    add_tax(conn, e2, year, 24.097 * 20 * 0.5)                      # ratio 0.5
    va2 = 136.16 * 20 * 0.25                                        # ratio 0.25
    add_energy(conn, e2, year, va2 / 2.694, 300)                    # ratio 1
    add_stats(conn, e2, year, va=va2, revenue=5000, rd=None,        # R&D not reported
              employees=va2 / 18.14)                                # ratio 1
    return e1, e2


def test_score_formula_with_cap_and_missing_emission(engine, plan):
    with engine.begin() as conn:
        e1, e2 = _two_above_scale(conn)
    res = evaluate_year(engine, plan, 2022, eval_config=SHIPPED)
    rows = by_uscc(res.evaluated)
    # E1: 30×1.5 + 20×1 + 20×0.5 + 10×min(3, 2) + 10×1 = 105 over weights 90 (rate 105/90);
    # E2: 30×0.5 + 20×0.25 + 20×1 + 10×1 + R&D missing -> 0   = 50 over weights 80 (rate 50/80).
    # 单位排放增加值 has no data anywhere: 10 × the 规上 mean score rate (105/90 + 50/80) / 2.
    emission = 10 * (105 / 90 + 50 / 80) / 2
    assert rows[e1]["score"] == pytest.approx(round(105 + emission, 2), abs=1e-9)
    assert rows[e2]["score"] == pytest.approx(round(50 + emission, 2), abs=1e-9)
    assert rows[e1]["score"] == pytest.approx(113.96) and rows[e2]["score"] == pytest.approx(58.96)
    # the year's figure of cumulative statistics is month 12, not a sum of months
    assert rows[e1]["va_per_mu"] == pytest.approx(136.16)
    assert rows[e1]["tax_per_mu"] == pytest.approx(24.097 * 1.5)
    with engine.connect() as conn:
        items = {(r["uscc"], r["item"]): r for r in conn.execute(text(
            "SELECT * FROM mart_evaluation_item WHERE year = 2022")).mappings()}
    assert items[(e1, "labour_productivity")]["ratio"] == pytest.approx(2.0)          # capped
    assert items[(e1, "labour_productivity")]["value"] == pytest.approx(54.42)
    assert items[(e1, "va_per_emission")]["basis"] == "average_score_rate"
    assert items[(e1, "va_per_emission")]["item_score"] == pytest.approx(emission)
    assert items[(e2, "rd_ratio")]["basis"] == "missing_zero" and items[(e2, "rd_ratio")]["item_score"] == 0
    assert rows[e1]["imputed_items"] == 1 and rows[e2]["imputed_items"] == 2
    assert any("单位排放增加值" in n and "平均得分率" in n for n in res.notes)


@pytest.mark.parametrize("rule, rd_score", [
    ("average_score", 10.0),          # mean R&D score over the 规上 enterprises that have it (E1: 10)
    ("reweight", 10 * 50 / 80),       # E2's own score rate × weight
])
def test_other_missing_item_rules(engine, plan, rule, rd_score):
    with engine.begin() as conn:
        _, e2 = _two_above_scale(conn)
    cfg = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    next(it for it in cfg["above_scale"]["items"] if it["item"] == "rd_ratio")["missing_rule"] = rule
    res = evaluate_year(engine, plan, 2022, eval_config=cfg)
    emission = 10 * (105 / 90 + 50 / 80) / 2
    assert by_uscc(res.evaluated)[e2]["score"] == pytest.approx(round(50 + rd_score + emission, 2), abs=1e-9)


def test_floor_keeps_a_refund_year_at_zero_and_benchmark_county_average(engine, plan):
    cfg = simple_config()
    cfg["below_scale"]["items"] = [{"item": "tax_per_mu", "weight": 60, "benchmark": "county_average"},
                                   {"item": "tax_per_electricity", "weight": 40, "benchmark": "county_average"}]
    with engine.begin() as conn:
        a, b, c = uscc(1), uscc(2), uscc(3)
        for u, land, tax, elec in ((a, 10, 30, 100), (b, 10, 10, 100), (c, 5, -5, 50)):
            add_ent(conn, u, land=land, above=False)
            add_tax(conn, u, 2022, tax)
            add_energy(conn, u, 2022, 1, elec)
    res = evaluate_year(engine, plan, 2022, eval_config=cfg)
    params = {p["item"]: p for p in res.params if p["scale"] == "below"}
    # county averages: Σ tax ÷ Σ land = 35 / 25 = 1.4; Σ tax ÷ Σ electricity = 35 / 250 = 0.14
    assert params["tax_per_mu"]["benchmark"] == pytest.approx(1.4)
    assert params["tax_per_electricity"]["benchmark"] == pytest.approx(0.14)
    assert params["tax_per_mu"]["benchmark_basis"] == "county_average"
    rows = by_uscc(res.evaluated)
    assert rows[a]["score"] == pytest.approx(round(60 * 3 / 1.4 + 40 * 0.3 / 0.14, 2))
    assert rows[c]["score"] == 0.0      # negative tax: ratio floored at 0, never below


# --- classes -------------------------------------------------------------------------------

def classes(res, scale="above"):
    return {r["uscc"]: r["class"] for r in res.evaluated if r["scale"] == scale}


def test_percentile_classes_twenty_distinct_scores(engine, plan):
    with engine.begin() as conn:
        ids = scored(conn, 2022, [200 - 5 * k for k in range(20)])
    res = evaluate_year(engine, plan, 2022, eval_config=simple_config())
    got = classes(res)
    # A top 20 % (positions 1–4), B to 60 % (5–12), C to 95 % (13–19), D the last 5 % (20)
    assert [got[u] for u in ids] == ["A"] * 4 + ["B"] * 8 + ["C"] * 7 + ["D"]
    assert [r["rank_in_scale"] for r in res.evaluated] == list(range(1, 21))
    assert {r["n_in_scale"] for r in res.evaluated} == {20}


@pytest.mark.parametrize("ties, expected", [
    # ranks (equal scores share the best rank): 1, 2, 2, 4, 5, 6, 7, 8, 9, 9 ; n = 10
    # bounds: A ≤ 2, B ≤ 6, C ≤ 9.5, D beyond
    ("better", ["A", "A", "A", "B", "B", "B", "C", "C", "C", "C"]),
    # counted at the tie's last position: 1, 3, 3, 4, 5, 6, 7, 8, 10, 10
    ("worse", ["A", "B", "B", "B", "B", "B", "C", "C", "D", "D"]),
])
def test_ties_at_a_percentile_boundary(engine, plan, ties, expected):
    # 90.001 and 89.999 are both 90.00 once rounded as published: a tie across the A/B boundary;
    # the two 20s straddle the C/D boundary.
    with engine.begin() as conn:
        ids = scored(conn, 2022, [100, 90.001, 89.999, 70, 60, 50, 40, 30, 20, 20])
    res = evaluate_year(engine, plan, 2022, eval_config=simple_config(ties=ties))
    got = classes(res)
    assert [got[u] for u in ids] == expected
    rows = by_uscc(res.evaluated)
    assert rows[ids[1]]["score"] == rows[ids[2]]["score"] == 90.0
    assert rows[ids[1]]["rank_in_scale"] == rows[ids[2]]["rank_in_scale"] == 2


def test_threshold_classes(engine, plan):
    with engine.begin() as conn:
        ids = scored(conn, 2022, [100, 90, 89.99, 60, 30, 29.99])
    res = evaluate_year(engine, plan, 2022, eval_config=simple_config(rule="thresholds"))
    got = classes(res)
    assert [got[u] for u in ids] == ["A", "A", "B", "B", "C", "D"]
    assert {r["class_rule"] for r in res.evaluated} == {"thresholds"}


def test_above_and_below_scale_are_ranked_separately(engine, plan):
    with engine.begin() as conn:
        above = scored(conn, 2022, [100, 50, 10, 5, 1], above=True)
        below = scored(conn, 2022, [3, 2, 1, 0.5, 0.1], above=False, start=100)
    res = evaluate_year(engine, plan, 2022, eval_config=simple_config())
    assert classes(res, "above")[above[0]] == "A" and classes(res, "below")[below[0]] == "A"
    # n = 5: A ≤ 1, B ≤ 3, C ≤ 4.75, D beyond
    assert res.class_counts() == {"above": {"A": 1, "B": 2, "C": 1, "D": 1},
                                  "below": {"A": 1, "B": 2, "C": 1, "D": 1}}


# --- exclusions ----------------------------------------------------------------------------

def test_exclusions_are_listed_with_reasons(engine, plan):
    cfg = simple_config()
    named = uscc(5)
    cfg["exclusions"]["enterprises"] = [{"uscc": named, "reason": "已停产，不参评"}]
    with engine.begin() as conn:
        add_ent(conn, uscc(1), land=10)                                   # evaluated (seen since 2021)
        add_tax(conn, uscc(1), 2022, 50)
        add_ent(conn, uscc(2), land=2.5)                                  # under 3 亩
        add_tax(conn, uscc(2), 2022, 50)
        add_ent(conn, uscc(3), land=10, industry="4411")                  # utility
        add_tax(conn, uscc(3), 2022, 50)
        add_ent(conn, uscc(4), land=10, years=(2022,))                    # first roster 2022: new
        add_tax(conn, uscc(4), 2022, 50)
        add_ent(conn, named, land=10)                                     # named in configuration
        add_tax(conn, named, 2022, 50)
        add_ent(conn, uscc(6), land=10)                                   # no tax data at all
        add_ent(conn, uscc(7), land=None)                                 # land not reported
        add_ent(conn, uscc(8), land=10, years=(2021,))                    # only in 2021's roster
    res = evaluate_year(engine, plan, 2022, eval_config=cfg)
    ex = {r["uscc"]: (r["exclusion_code"], r["exclusion_reason"]) for r in res.excluded}
    assert set(ex) == {uscc(i) for i in (2, 3, 4, 5, 6, 7)}
    assert ex[uscc(2)][0] == "land_below_min" and "不足3亩" in ex[uscc(2)][1]
    assert ex[uscc(7)][0] == "land_below_min"
    assert ex[uscc(3)] == ("utility", "公用事业不参评")
    assert ex[uscc(4)][0] == "registered_recently" and "未满2年" in ex[uscc(4)][1]
    assert ex[named] == ("named", "已停产，不参评")
    assert ex[uscc(6)][0] == "missing_data" and "税收" in ex[uscc(6)][1]
    assert [r["uscc"] for r in res.evaluated] == [uscc(1)]
    # nothing silently dropped: the year's roster = evaluated + excluded
    assert len(res.evaluated) + len(res.excluded) == 7
    summary = evaluation_summary(engine, plan, 2022)
    assert summary["excluded"]["total"] == 6
    assert {r["code"]: r["n"] for r in summary["excluded"]["by_reason"]} == {
        "land_below_min": 2, "utility": 1, "registered_recently": 1, "named": 1, "missing_data": 1}


def test_first_roster_of_the_warehouse_is_not_new_and_roster_fallback(engine, plan):
    with engine.begin() as conn:
        add_ent(conn, uscc(1), land=10, years=(2021,))
        add_tax(conn, uscc(1), 2021, 50)
        add_tax(conn, uscc(1), 2023, 60)
    # 2021 is the warehouse's first roster: its enterprises' age is unknown, so none is "new"
    res = evaluate_year(engine, plan, 2021, eval_config=simple_config())
    assert [r["uscc"] for r in res.evaluated] == [uscc(1)] and res.excluded == []
    # 2023 without a 2023 roster: the latest earlier one (2021), said in a note
    cfg = simple_config()
    cfg["year"] = 2023
    res = evaluate_year(engine, plan, 2023, eval_config=cfg)
    assert by_uscc(res.evaluated)[uscc(1)]["tax_per_mu"] == pytest.approx(6.0)
    assert any("沿用2021年名录" in n for n in res.notes)


def test_no_roster_is_an_error(engine, plan):
    with pytest.raises(EvaluationError, match="企业名录"):
        evaluate_year(engine, plan, 2022, eval_config=simple_config())


# --- the 低效企业清单, last year's class, recompute ------------------------------------------------

THREE_LOW = [
    {"code": "low_tax_above", "name": "规上企业亩均税收低于6万元/亩", "scale": "above",
     "all": [{"item": "tax_per_mu", "below": 6}]},
    {"code": "low_tax_below", "name": "规下企业亩均税收低于3万元/亩", "scale": "below",
     "all": [{"item": "tax_per_mu", "below": 3}]},
]


def test_inefficient_list_d_class_plus_three_low_rules(engine, plan):
    # 规上 score = 10 × 亩均税收 + 90 × 亩均增加值, so the rank follows 亩均增加值 and 亩均税收
    # can be low for a B: 20 enterprises, 亩均增加值 100, 98, …, 62; 亩均税收 10 except
    # position 7 (5.9 -> B but 三低), position 11 (exactly 6: not below 6) and position 20 (0.5, D).
    cfg = simple_config(rules=THREE_LOW)
    cfg["above_scale"]["items"] = [
        {"item": "tax_per_mu", "weight": 10, "benchmark": 1, "missing_rule": "exclude"},
        {"item": "va_per_mu", "weight": 90, "benchmark": 1, "missing_rule": "exclude"}]
    tax = {6: 5.9, 10: 6.0, 19: 0.5}
    with engine.begin() as conn:
        a = [uscc(k + 1) for k in range(20)]
        for k, u in enumerate(a):
            add_ent(conn, u, land=10)
            add_tax(conn, u, 2022, tax.get(k, 10) * 10, months=1)
            add_stats(conn, u, 2022, va=(100 - 2 * k) * 10, revenue=1, rd=None, employees=1)
        # 规下 (亩均税收 only): 20, 15, 10, 3.0, 2.9 -> n = 5, the last is D and below 3
        b = scored(conn, 2022, [2000, 1500, 1000, 300, 290], above=False, start=100)
    res = evaluate_year(engine, plan, 2022, eval_config=cfg)
    got = classes(res)
    assert [got[u] for u in a] == ["A"] * 4 + ["B"] * 8 + ["C"] * 7 + ["D"]
    listed = {r["uscc"]: r for r in res.inefficient}
    assert set(listed) == {a[19], a[6], b[4]}
    assert json.loads(listed[a[19]]["reason_codes"]) == ["class_D", "low_tax_above"]
    assert listed[a[19]]["reasons"] == "综合评价D类；规上企业亩均税收低于6万元/亩"
    assert listed[a[6]]["class"] == "B" and json.loads(listed[a[6]]["reason_codes"]) == ["low_tax_above"]
    assert a[10] not in listed                                               # 6.0 is not < 6
    assert json.loads(listed[b[4]]["reason_codes"]) == ["class_D", "low_tax_below"]   # 2.9 < 3
    assert b[3] not in listed                                                # 3.0 is not < 3, class C
    row = listed[a[6]]
    assert row["town"] == "浮云街道" and row["industry_group"] == "木玩" and row["land_mu"] == 10.0
    assert row["tax_per_mu"] == pytest.approx(5.9) and row["va_per_mu"] == pytest.approx(88)
    assert row["score"] == pytest.approx(59 + 90 * 88) and row["prev_class"] is None


def test_last_years_class_is_joined_and_recompute_replaces(engine, plan):
    # 2021: u1 best, u5 worst; 2022: the order is reversed
    scores = [500, 400, 300, 200, 100]
    with engine.begin() as conn:
        ids = scored(conn, 2021, scores)
        for u, s in zip(ids, reversed(scores)):
            add_tax(conn, u, 2022, s / 100 * 10, months=1)
            conn.execute(text("INSERT INTO core_registry (uscc, name, industry_code, town, land_mu, "
                              "is_above_scale, roster_year, delivery_id) SELECT uscc, name, industry_code, "
                              "town, land_mu, is_above_scale, 2022, delivery_id FROM core_registry "
                              "WHERE uscc = :u AND roster_year = 2021"), {"u": u})
        add_ent(conn, uscc(50), land=10, years=(2021, 2022), town="石塘镇", industry="3443")
        add_tax(conn, uscc(50), 2022, 15, months=1)         # evaluated in 2022 only (score 150)
    cfg21 = simple_config(percentile=(20, 60, 80))
    cfg21["year"] = 2021
    first = evaluate_year(engine, plan, 2021, eval_config=cfg21)
    c21 = classes(first)
    assert [c21[u] for u in ids] == ["A", "B", "B", "C", "D"]
    assert all(r["prev_class"] is None for r in first.evaluated)
    cfg22 = simple_config(percentile=(20, 60, 80))
    res = evaluate_year(engine, plan, 2022, eval_config=cfg22)
    rows = by_uscc(res.evaluated)
    assert {u: rows[u]["prev_class"] for u in ids} == dict(zip(ids, ["A", "B", "B", "C", "D"]))
    assert rows[uscc(50)]["prev_class"] is None
    again = evaluate_year(engine, plan, 2022, eval_config=cfg22)
    assert again.evaluated == [dict(r, computed_at=r2["computed_at"])
                               for r, r2 in zip(res.evaluated, again.evaluated)]
    with engine.connect() as conn:
        for t in ("mart_evaluation", "mart_evaluation_enterprise", "mart_inefficient_list"):
            n = conn.execute(text(f"SELECT COUNT(*) FROM {t} WHERE year = 2022")).scalar_one()
            assert n == {"mart_evaluation": 6, "mart_evaluation_enterprise": 6,
                         "mart_inefficient_list": len(res.inefficient)}[t]
        assert conn.execute(text("SELECT COUNT(*) FROM mart_evaluation_item WHERE year = 2022")).scalar_one() == 6
    # the bulletin's counts: by class, group, town and the change against last year
    s = evaluation_summary(engine, plan, 2022)
    assert s["previous_available"] is True
    assert s["by_class"] == classes_count(res) and s["evaluated"] == 6
    assert s["by_class_previous"] == {"A": 1, "B": 2, "C": 1, "D": 1}
    assert s["by_class_change"] == {c: s["by_class"][c] - s["by_class_previous"][c] for c in "ABCD"}
    towns = {t["name"]: t for t in s["by_town"]}
    assert towns["石塘镇"]["counts"] == {c: int(rows[uscc(50)]["class"] == c) for c in "ABCD"}
    assert towns["石塘镇"]["previous"] == {"A": 0, "B": 0, "C": 0, "D": 0}
    assert [g["name"] for g in s["by_industry_group"]] == ["木玩", "阀门"]
    mu = s["by_industry_group"][0]
    assert mu["previous"] == {"A": 1, "B": 2, "C": 1, "D": 1} and mu["total"] == 5
    moved = {"up": 0, "same": 0, "down": 0, "new": 1}
    order = "ABCD"
    for u in ids:
        a, b = order.index(rows[u]["class"]), order.index(rows[u]["prev_class"])
        moved["up" if a < b else "down" if a > b else "same"] += 1
    assert s["transitions"] == moved
    # counts only: no enterprise's code, name or figure appears in the bulletin's summary
    dumped = json.dumps(s, ensure_ascii=False)
    for r in res.evaluated:
        assert r["uscc"] not in dumped and r["name"] not in dumped
    assert "score" not in dumped and "tax_per_mu" not in dumped


def classes_count(res):
    out = dict.fromkeys("ABCD", 0)
    for r in res.evaluated:
        out[r["class"]] += 1
    return out


def test_summary_without_last_year_and_for_an_unevaluated_year(engine, plan):
    with engine.begin() as conn:
        scored(conn, 2022, [100, 50])
    evaluate_year(engine, plan, 2022, eval_config=simple_config())
    s = evaluation_summary(engine, plan, 2022)
    assert s["previous_available"] is False and s["by_class_change"] is None
    assert all(g["change"] is None for g in s["by_town"])
    with pytest.raises(EvaluationError):
        evaluation_summary(engine, plan, 2020)
    with pytest.raises(EvaluationError):
        load_evaluation(engine, plan, 2020)


# --- the xlsx ------------------------------------------------------------------------------

def test_inefficient_list_xlsx_opens_with_chinese_headers(engine, plan, tmp_path):
    from openpyxl import load_workbook

    with engine.begin() as conn:
        e1, e2 = _two_above_scale(conn)
        add_ent(conn, uscc(3), land=1)                  # excluded: under 3 亩
    res = evaluate_year(engine, plan, 2022, eval_config=SHIPPED)
    # E2: 亩均税收 12.05 ≥ 6, but with 2 enterprises percentile D is position 2 > 1.9
    assert {r["uscc"] for r in res.inefficient} == {e2}
    for path in (write_inefficient_list_xlsx(res, tmp_path / "a" / "list.xlsx"),
                 write_inefficient_list_xlsx(engine, tmp_path / "b.xlsx", config=plan, year=2022)):
        wb = load_workbook(path)
        assert wb.sheetnames == ["低效企业清单", "评价结果", "不参评企业", "评价参数"]
        ws = wb["低效企业清单"]
        headers = [c.value for c in ws[1]]
        assert headers[:8] == ["序号", "统一社会信用代码", "企业名称", "乡镇街道", "行业代码", "主导产业",
                               "规模", "用地面积（亩）"]
        for h in ("亩均税收（万元/亩）", "亩均增加值（万元/亩）", "单位能耗增加值（万元/吨标准煤）",
                  "全员劳动生产率（万元/人）", "R&D经费支出占营业收入比重（%）", "综合得分", "评价类别",
                  "上年类别", "列入原因"):
            assert h in headers
        assert "单位排放增加值（万元/吨）" not in headers      # no enterprise has a value
        data = [dict(zip(headers, [c.value for c in row])) for row in ws.iter_rows(min_row=2)]
        assert len(data) == 1 and data[0]["统一社会信用代码"] == e2
        assert data[0]["评价类别"] == "D" and data[0]["上年类别"] == "—" and data[0]["规模"] == "规上"
        assert data[0]["综合得分"] == pytest.approx(58.96) and data[0]["列入原因"] == "综合评价D类"
        assert wb["评价结果"].max_row == 3
        ex = wb["不参评企业"]
        assert ex.cell(row=2, column=2).value == uscc(3) and "不足3亩" in ex.cell(row=2, column=10).value
        params = [[c.value for c in row] for row in wb["评价参数"].iter_rows(min_row=2, max_row=9)]
        assert ["规上", "亩均税收", "万元/亩", 30, 24.097] in [p[:5] for p in params]
        assert any(isinstance(p[8], str) and "平均得分" in p[8] for p in params)


def test_writer_from_engine_needs_config_and_year(engine):
    with pytest.raises(TypeError):
        write_inefficient_list_xlsx(engine, Path("x.xlsx"))


def test_config_path_from_the_plan_configuration_key(plan, tmp_path):
    from mfg_indicators.config import PlanConfig

    (tmp_path / "eval").mkdir()
    for y in (2020, 2024):
        (tmp_path / "eval" / f"mu-{y}.yml").write_text("year: %d\n" % y, encoding="utf-8")
    custom = PlanConfig(tmp_path / "plan.yaml", {**plan.data, "evaluation": {"config": "eval/mu-{year}.yml"}})
    assert evaluation_config_path(custom, 2024) == (tmp_path / "eval" / "mu-2024.yml", None)
    path, note = evaluation_config_path(custom, 2023)
    assert path == tmp_path / "eval" / "mu-2020.yml" and "沿用2020年度参数" in note
    with pytest.raises(ConfigError, match="no evaluation configuration"):
        evaluation_config_path(PlanConfig(tmp_path / "plan.yaml", {**plan.data, "evaluation": {"config": "none/{year}.yml"}}), 2023)


# OWASP "CSV Injection" leading characters, and the full-width forms CJK input produces.
INJECTION_NAMES = ["=HYPERLINK(\"http://example.invalid\",\"点击\")", "+1+2", "-2+3", "@SUM(1+1)",
                   "\t=1+1", "\r=1+1", "＝1+1", "＋1", "－1", "＠SUM(A1)", "=cmd|' /C calc'!A0"]


def test_inefficient_list_xlsx_writes_hostile_names_as_text(engine, plan, tmp_path):
    """Enterprise names and towns from the registry are cells of text, never formulas, whatever
    their first character; the text is kept exactly as delivered."""
    from openpyxl import load_workbook

    with engine.begin() as conn:
        e1, e2 = _two_above_scale(conn)
    for k, name in enumerate(INJECTION_NAMES):
        with engine.begin() as conn:
            conn.execute(text("UPDATE core_registry SET name = :n, town = :t WHERE uscc = :u"),
                         {"n": name, "t": INJECTION_NAMES[-1 - k], "u": e2})
        res = evaluate_year(engine, plan, 2022, eval_config=SHIPPED)
        path = write_inefficient_list_xlsx(res, tmp_path / f"list{k}.xlsx")
        wb = load_workbook(path)
        formulas = [(ws.title, c.coordinate, c.value) for ws in wb for row in ws.iter_rows() for c in row
                    if c.data_type == "f"]
        assert formulas == []
        ws = wb["低效企业清单"]
        headers = [c.value for c in ws[1]]
        row = dict(zip(headers, [c.value for c in ws[2]]))
        assert row["统一社会信用代码"] == e2
        assert row["企业名称"] == name and row["乡镇街道"] == INJECTION_NAMES[-1 - k]
        cell = ws.cell(row=2, column=headers.index("企业名称") + 1)
        assert cell.data_type == "s" and cell.quotePrefix
