"""A statistician's three questions, answered from docs/data-dictionary.md alone: the dictionary's
own SQL (dictionary.QUESTIONS, printed verbatim on the page) runs as mfg_reader on PostgreSQL (as
is on SQLite) and must give the pipeline's own numbers: 亩均税收 by town for a month equals the
bulletin's ranking cells (compute.per_mu_breakdown); the enterprises lacking land are the
computation's evaluated_set_no_land warnings; T02 month by month equals the computed T02."""

from __future__ import annotations

from collections import defaultdict

import pytest
from sqlalchemy import text

from mfg_indicators.compute import compute_indicators, per_mu_breakdown
from mfg_indicators.dictionary import DOC_PATH, QUESTIONS, READER_ROLE
from test_indicators import CONFIG, WH

PERIOD = "2023-06"  # the month of the dictionary's examples
T02_NAME = "规上工业增加值增速"


def _fill(engine) -> None:
    wh = WH(engine)
    wh.deliver("registry", "tax", "stats_enterprise", "stats_county")
    wh.registry(2022, [("A", "2459", 10, 1, "浮云街道")])  # an earlier roster: not the one in force
    wh.registry(2023, [
        ("A", "2459", 10, 1, "浮云街道"),   # 木玩
        ("B", "3451", 20, 1, "浮云街道"),   # 轴承
        ("C", "3443", 5, 1, "白龙山街道"),  # 阀门
        ("D", "2929", 8, 1, "白龙山街道"),  # 其他 (default group)
        ("E", "3130", 30, 1, "白龙山街道"),  # 钢压延: out of T03 and of the town ranking
        ("F", "2459", None, 1, "崇头镇"),   # no land: left out, a warning
        ("G", "3451", 0, 1, "崇头镇"),      # land 0: left out, a warning
        ("H", "2459", 12, 1, "崇头镇"),     # May missing: tax incomplete
        ("I", "2459", 40, 0, "崇头镇"),     # 规下: not a candidate
        ("J", "3452", 6, 1, "崇头镇"),      # 轴承 (second prefix)
    ])
    for m in range(1, 7):
        amounts = {"A": 1.0 * m, "B": 2.5, "C": 0.7, "D": 1.1, "E": 9.0, "F": 3.0, "G": 1.0, "H": 2.0,
                   "I": 5.0, "J": 0.4 + m / 10}
        if m == 5:
            del amounts["H"]
        wh.tax(f"2023-{m:02d}", amounts)
    for u, va in {"A": 80, "B": 150, "C": 30, "E": 400, "F": 20, "H": 60, "J": 25}.items():
        wh.stats(PERIOD, u, va=va)
    wh.county(T02_NAME, {"2023-02": 9.5, "2023-03": 11.25, "2023-04": 12.0, "2023-05": 13.5, "2023-06": 14.75})


def _reader_rows(engine, sql: str) -> list[dict]:
    """The documented SQL as the statistician runs it: as mfg_reader on PostgreSQL."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"SET ROLE {READER_ROLE}"))
        return [dict(r) for r in conn.execute(text(sql)).mappings()]


@pytest.fixture
def computed(engine):
    _fill(engine)
    results = {f"2023-{m:02d}": compute_indicators(engine, CONFIG, f"2023-{m:02d}") for m in range(1, 7)}
    return engine, results


def test_the_questions_are_printed_in_the_dictionary():
    md = DOC_PATH.read_text(encoding="utf-8")
    for q in QUESTIONS:
        assert q.title in md and q.sql in md


def test_tax_per_mu_by_town_is_the_bulletins_ranking(computed):
    engine, results = computed
    got = {r["town"]: r for r in _reader_rows(engine, QUESTIONS[0].sql)}
    # the bulletin's town cells: per_mu_breakdown over the target's scope (excluded groups out)
    cells = defaultdict(lambda: [0, 0.0, 0.0])
    for c in per_mu_breakdown(engine, CONFIG, PERIOD, "tax"):
        if not c["excluded"]:
            cell = cells[c["town"]]
            cell[0] += c["n_included"]
            cell[1] += c["numerator"]
            cell[2] += c["land_mu"]
    want = {town: (n, num / land) for town, (n, num, land) in cells.items()}
    assert set(got) == set(want) == {"浮云街道", "白龙山街道", "崇头镇"}
    for town, (n, value) in want.items():
        assert got[town]["enterprises"] == n, town
        assert got[town]["tax_per_mu"] == pytest.approx(value, rel=1e-12), town
    # 崇头镇: only J counts (F, G have no land, H missed May, I is 规下)
    assert got["崇头镇"]["enterprises"] == 1
    assert got["崇头镇"]["tax_per_mu"] == pytest.approx(sum(0.4 + m / 10 for m in range(1, 7)) / 6, rel=1e-12)
    # ordered as the ranking, and the county total is T03's value (Σ/Σ over the same rows)
    assert [r["town"] for r in _reader_rows(engine, QUESTIONS[0].sql)] == sorted(
        want, key=lambda t: -want[t][1])
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"SET ROLE {READER_ROLE}"))
        total = conn.execute(text(
            "SELECT SUM(tax) / SUM(land_mu) FROM v_per_mu_evaluated_set"
            " WHERE plan_id = 'yunhe-2022' AND period = :p AND tax_in = 1"), {"p": PERIOD}).scalar()
    assert total == pytest.approx(results[PERIOD].by_code()["T03"]["value"], rel=1e-12)


def test_enterprises_lacking_land_are_the_pipelines_warnings(computed):
    engine, results = computed
    got = [r["uscc"] for r in _reader_rows(engine, QUESTIONS[1].sql)]
    warned = sorted({w.uscc for w in results[PERIOD].warnings if w.rule == "evaluated_set_no_land"})
    assert got == warned == ["F", "G"]


def test_t02_month_by_month_is_the_computed_t02(computed):
    engine, results = computed
    got = {r["period"]: r for r in _reader_rows(engine, QUESTIONS[2].sql)}
    for period, res in results.items():
        t02 = res.by_code()["T02"]["value"]
        if t02 is None:  # January: no 1—1月 figure is published
            assert period not in got
            continue
        assert got[period]["value"] == pytest.approx(t02, rel=1e-12), period
        assert str(got[period]["period_date"]) == f"{period}-01"
    assert sorted(got) == ["2023-02", "2023-03", "2023-04", "2023-05", "2023-06"]


def test_every_worked_query_of_the_dictionary_runs_as_the_reader(computed):
    """The page's example query per indicator family runs on the views as printed (no table, no
    typo), as mfg_reader, and each answers something for the sample month."""
    from mfg_indicators.dictionary import FAMILIES

    engine, _ = computed
    md = DOC_PATH.read_text(encoding="utf-8")
    answered = {}
    for key, fam in FAMILIES.items():
        assert fam.query in md, key
        answered[key] = _reader_rows(engine, fam.query)
    assert answered["official_value"] and answered["per_mu"][0]["enterprises"] > 0


def test_month_warnings_view_is_the_documents_list(computed, tmp_path):
    # what a statistician (or the dashboard) reads as a month's warnings is exactly the list the
    # JSON and the bulletin carry, in the same order; a rerun replaces the month's rows
    from mfg_indicators.month import document_month

    engine, _ = computed
    docs = {}
    for period in ("2023-05", PERIOD, PERIOD):  # the second PERIOD: a rerun, not a second copy
        docs[period], _ = document_month(engine, CONFIG, period, tmp_path)
    for period, doc in docs.items():
        assert doc["warnings"], "the sample month has warnings (no land, tax incomplete …)"
        rows = _reader_rows(engine, "SELECT * FROM v_month_warnings WHERE period = '%s' ORDER BY seq" % period)
        got = [{"source": r["source"], "uscc": r["uscc"], "message": r["message"], "table": r["table_name"],
                "rule": r["rule"], "period": r["warning_period"]} for r in rows]
        want = [{"table": None, "rule": None, "period": None, **w} for w in doc["warnings"]]
        assert got == want
        assert {r["latest_period"] for r in rows} == {1 if period == PERIOD else 0}
        assert {str(r["period_date"]) for r in rows} == {f"{period}-01"}


def test_two_runs_computing_and_documenting_the_same_month_take_turns(computed, tmp_path):
    # Two runs (CLI, DAG, backfill) may compute and document one month at the same moment: both
    # replace the month's mart rows, so each must wait for the other — never a duplicate key, and
    # the month holds one copy of every indicator and warning afterwards.
    import threading

    from mfg_indicators.month import compute_month, document_month

    engine, _ = computed
    errors: list[BaseException] = []

    def one_run(i: int) -> None:
        try:
            barrier.wait()
            compute_month(engine, CONFIG, PERIOD)
            document_month(engine, CONFIG, PERIOD, tmp_path / f"out{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    for _ in range(3):
        barrier = threading.Barrier(3)
        threads = [threading.Thread(target=one_run, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors
    with engine.connect() as conn:
        n = conn.execute(text("SELECT COUNT(*) FROM mart_indicator WHERE period = :p"), {"p": PERIOD}).scalar()
        w = conn.execute(text("SELECT COUNT(*), COUNT(DISTINCT seq) FROM mart_month_warning WHERE period = :p"),
                         {"p": PERIOD}).one()
    assert n == len(CONFIG.indicators)
    assert w[0] == w[1] > 0
