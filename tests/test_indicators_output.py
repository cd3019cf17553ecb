"""The mart, the output contract (indicators-YYYY-MM.json) and identical results on both warehouses."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from mfg_indicators.compute import compute_indicators, load_result, per_mu_breakdown
from mfg_indicators.document import INDICATOR_KEYS, indicators_document, write_indicators_json
from mfg_indicators.warehouse import connect
from test_indicators import CONFIG, WH, D, enterprise_scenario, ledger_rows


def full_scenario(wh: WH) -> None:
    enterprise_scenario(wh)
    wh.deliver("stats_county", "rectification", "task_report", "projects")
    wh.county("工业增加值", {"2022-12": 40, "2023-03": 9})
    wh.county("地区生产总值", {"2022-12": 95, "2023-03": 20})
    wh.county("规上工业增加值增速", {"2021-12": 10.0, "2022-12": 20.0, "2023-03": 5.0})
    wh.county("制造业投资增速", {"2021-12": 30.0, "2022-12": -3.0, "2023-03": 17.0})
    wh.county("规上工业单位增加值能耗下降率", {"2022-12": 4.2})
    wh.rectification(ledger_rows())
    wh.projects([("P1", "签约", D(2021, 5, 1), "2459", 20000), ("P1", "开工", D(2021, 9, 1), "2459", 20000)])
    wh.task([("T10A", "2022-06", 1), ("K05", "2023-02", 30), ("K17", "2023-03", 2)])


def mart_rows(engine, period):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT plan_id, period, code, name, unit, kind, grp, value, annualized, target, progress,"
            " time_progress, status, as_of, notes FROM mart_indicator WHERE period = :p ORDER BY code"),
            {"p": period})]


def test_mart_replaced_on_recompute_and_read_back(engine):
    wh = WH(engine)
    full_scenario(wh)
    first = compute_indicators(engine, CONFIG, "2023-03")
    rows1 = mart_rows(engine, "2023-03")
    assert len(rows1) == len(CONFIG.indicators)
    second = compute_indicators(engine, CONFIG, "2023-03")
    assert mart_rows(engine, "2023-03") == rows1  # idempotent
    assert second.indicators == first.indicators
    # a corrected delivery changes the result on recompute: still one row per code
    with engine.begin() as conn:
        conn.execute(text("UPDATE core_task_report SET value = 30 WHERE indicator_code = 'K17'"))
    third = compute_indicators(engine, CONFIG, "2023-03")
    rows3 = mart_rows(engine, "2023-03")
    assert len(rows3) == len(rows1)
    assert third.by_code()["K17"]["value"] == 30 and third.by_code()["K17"]["status"] == "done"
    # what is stored reads back exactly as computed (the JSON task reads the mart)
    back = load_result(engine, CONFIG, "2023-03")
    assert back.indicators == third.indicators
    assert [w.as_warning() for w in back.warnings] == [w.as_warning() for w in third.warnings]
    assert load_result(engine, CONFIG, "2023-04") is None
    # other periods are untouched by a recompute
    compute_indicators(engine, CONFIG, "2023-02")
    assert len(mart_rows(engine, "2023-03")) == len(rows1)


def test_document_and_json_file(engine, tmp_path):
    wh = WH(engine)
    full_scenario(wh)
    result = compute_indicators(engine, CONFIG, "2023-03")
    ingest_warning = {"source": "tax", "uscc": "A", "message": "税收实际贡献为负数（退税）"}
    rejection = {"file": "坏文件.csv", "sheet": None, "row": 3, "column": "所属期", "reason": "所属期不存在"}
    doc = indicators_document(CONFIG, "2023-03", result, warnings=[ingest_warning], rejected=[rejection])
    assert doc["county"] == "云和县" and doc["plan"] == "云政发〔2022〕15号" and doc["period"] == "2023-03"
    assert list(doc) == ["county", "plan", "period", "indicators", "warnings", "rejected"]
    codes = [i["code"] for i in doc["indicators"]]
    assert codes == [i["code"] for i in CONFIG.indicators] and len(set(codes)) == 37
    for ind in doc["indicators"]:
        assert tuple(ind) == INDICATOR_KEYS
        assert ind["status"] in ("green", "yellow", "red", "done", "no_data")
        assert (ind["value"] is None) == (ind["status"] == "no_data")
        assert (ind["annualized"] is not None) == (ind["kind"] == "annualized" and ind["value"] is not None)
        assert ind["responsible_units"] == CONFIG.responsible_units(ind["code"])
    t03 = next(i for i in doc["indicators"] if i["code"] == "T03")
    assert t03["value"] == pytest.approx(10 / 14, rel=1e-15)  # unrounded
    assert t03["group"] == "低效整治攻坚组" and t03["responsible_units"][0] == "云和工业园区"
    assert doc["warnings"][0] == ingest_warning
    assert {"source": "registry", "uscc": "C"}.items() <= doc["warnings"][1].items()
    assert doc["rejected"] == [rejection]
    # mixed statuses on this data
    assert {i["status"] for i in doc["indicators"]} >= {"green", "yellow", "red", "done", "no_data"}

    path = write_indicators_json(tmp_path / "out", doc)
    assert path.name == "indicators-2023-03.json"
    raw = path.read_text(encoding="utf-8")
    assert "规上工业亩均税收（除钢压延）" in raw  # ensure_ascii=False
    assert json.loads(raw) == doc
    with pytest.raises(ValueError):
        indicators_document(CONFIG, "2023-03", result.indicators[:-1], warnings=[], rejected=[])
    # a caller that already put the computation's warnings in the list does not get them twice
    own = [w.as_warning() for w in result.warnings]
    again = indicators_document(CONFIG, "2023-03", result, warnings=[ingest_warning, *own], rejected=[])
    assert again["warnings"] == doc["warnings"]


def _canonical(result):
    """Results with floats at 12 significant digits (LN/EXP and SUM order may differ in the last bits)."""
    def norm(v):
        return float(f"{v:.12g}") if isinstance(v, float) else v
    return ([{k: norm(v) for k, v in i.items()} for i in result.indicators],
            [w.as_warning() for w in result.warnings])


@pytest.mark.parametrize("period", ["2023-01", "2023-02", "2023-03", "2023-06", "2024-01"])
def test_identical_on_sqlite_and_postgresql(tmp_path, pg_server, period):
    lite = connect(f"sqlite:///{tmp_path / 'w.sqlite'}")
    pg = connect(pg_server("same"))
    try:
        for eng in (lite, pg):
            full_scenario(WH(eng))
        a = compute_indicators(lite, CONFIG, period)
        b = compute_indicators(pg, CONFIG, period)
        assert _canonical(a) == _canonical(b)
        assert [r[:7] + r[12:] for r in mart_rows(lite, period)] == [r[:7] + r[12:] for r in mart_rows(pg, period)]
    finally:
        lite.dispose()
        pg.dispose()


def test_per_mu_breakdown_by_group_and_town(engine):
    wh = WH(engine)
    enterprise_scenario(wh)
    rows = per_mu_breakdown(engine, CONFIG, "2023-03", "tax")
    cells = {(r["industry_group"], r["excluded"]): r for r in rows}
    # the same evaluated set as T03, plus 钢压延 shown apart (B: 300 tax over 20 mu)
    assert set(cells) == {("木玩", 0), ("轴承", 0), ("钢压延", 1)}
    assert cells[("木玩", 0)]["value"] == pytest.approx(6 / 10)  # A
    assert cells[("轴承", 0)]["value"] == pytest.approx(4 / 4)  # F (C has no land)
    assert cells[("钢压延", 1)]["value"] == pytest.approx(300 / 20)
    total = sum(r["numerator"] for r in rows if not r["excluded"]) / sum(r["land_mu"] for r in rows if not r["excluded"])
    assert total == pytest.approx(compute_indicators(engine, CONFIG, "2023-03").by_code()["T03"]["value"])


def test_backfill_order_does_not_matter(tmp_path):
    """A backfill may run the plan window's months in any order (and a month may run alone):
    each month's results depend only on the warehouse and the month."""
    def months():
        return [f"{y}-{m:02d}" for y in (2021, 2022, 2023) for m in range(1, 13)]

    def snapshot(eng):
        with eng.connect() as conn:
            return [tuple(r) for r in conn.execute(text(
                "SELECT period, code, value, annualized, progress, time_progress, status, as_of, notes"
                " FROM mart_indicator ORDER BY period, code"))]

    forward = connect(f"sqlite:///{tmp_path / 'f.sqlite'}")
    backward = connect(f"sqlite:///{tmp_path / 'b.sqlite'}")
    alone = connect(f"sqlite:///{tmp_path / 'a.sqlite'}")
    for eng in (forward, backward, alone):
        full_scenario(WH(eng))
    for p in months():
        compute_indicators(forward, CONFIG, p)
    for p in reversed(months()):
        compute_indicators(backward, CONFIG, p)
    compute_indicators(alone, CONFIG, "2022-07")
    rows = snapshot(forward)
    assert len(rows) == 36 * len(CONFIG.indicators)
    assert rows == snapshot(backward)
    assert [r for r in rows if r[0] == "2022-07"] == snapshot(alone)
    for eng in (forward, backward, alone):
        eng.dispose()
