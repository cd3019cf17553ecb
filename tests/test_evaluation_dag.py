"""The annual_evaluation DAG: wiring, schedule, and a real run through dag.test()."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlalchemy import text

from mfg_indicators.orchestration.evaluation_dag import DAG_ID, _evaluation_year

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DAG_FILE = PROJECT_ROOT / "dags" / "annual_evaluation.py"
SH = ZoneInfo("Asia/Shanghai")


def _bag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert not bag.import_errors, bag.import_errors
    return bag


def _evaluation_events(run_id: str) -> list[dict]:
    """Extras of the ``mfg_evaluation`` Asset events the run emitted (metadata DB)."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(select(AssetEvent.extra).join(AssetModel, AssetModel.id == AssetEvent.asset_id)
                               .where(AssetModel.name == "mfg_evaluation", AssetEvent.source_run_id == run_id)).all()
    return [r[0] for r in rows]


def test_dag_wiring_schedule_and_policy():
    dag = _bag().dags[DAG_ID]
    assert dag.timetable.expression == "0 8 20 3 *"
    assert str(dag.timetable.timezone) == "Asia/Shanghai"
    assert {"evaluation", "annual"} <= set(dag.tags)
    assert "20 March" in dag.doc_md and "统计年报" in dag.doc_md
    assert [t.task_id for t in dag.topological_sort()] == ["evaluate", "write_inefficient_list"]
    for t in dag.tasks:
        assert t.owner == "mfg-data-team" and t.retries >= 1 and t.retry_exponential_backoff
    assert [o.name for o in dag.get_task("evaluate").outlets] == ["mfg_evaluation"]


def test_year_is_the_previous_local_year_unless_given():
    # 20 March 00:30 Shanghai is still 19 March in UTC: the local year decides.
    at = dt.datetime(2024, 3, 19, 16, 30, tzinfo=dt.timezone.utc)
    assert _evaluation_year({"params": {"year": None}, "logical_date": at}) == 2023
    assert _evaluation_year({"params": {"year": 2021}, "logical_date": at}) == 2021
    manual = {"params": {}, "logical_date": None,
              "dag_run": SimpleNamespace(run_after=dt.datetime(2025, 1, 1, 0, 30, tzinfo=SH))}
    assert _evaluation_year(manual) == 2024


def test_dag_run_evaluates_the_year_and_writes_the_list(airflow_db, warehouse_url, monkeypatch, tmp_path):
    from openpyxl import load_workbook

    from mfg_indicators.warehouse import connect

    monkeypatch.setenv("MFG_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("MFG_OUTPUT", str(tmp_path / "out"))
    engine = connect(warehouse_url)
    with engine.begin() as conn:
        for i, tax in enumerate([300.0, 200.0, 150.0, 100.0, 20.0], start=1):
            u = f"913311250000{i:06d}"
            for year in (2021, 2022):
                conn.execute(text(
                    "INSERT INTO core_registry (uscc, name, industry_code, town, land_mu, is_above_scale, "
                    "roster_year, delivery_id) VALUES (:u, :n, '2459', '崇头镇', 10, 0, :y, 't')"),
                    {"u": u, "n": f"企业{i}", "y": year})
            for m in range(1, 13):
                conn.execute(text("INSERT INTO core_tax (uscc, period, total_tax, delivery_id) "
                                  "VALUES (:u, :p, :v, 't')"), {"u": u, "p": f"2022-{m:02d}", "v": tax / 12})
                conn.execute(text("INSERT INTO core_energy (uscc, period, energy_tce, electricity, "
                                  "delivery_id) VALUES (:u, :p, 1, 10, 't')"), {"u": u, "p": f"2022-{m:02d}"})
    dag = _bag().dags[DAG_ID]
    # The scheduled run of 20 March 2023 evaluates 2022.
    dr = dag.test(logical_date=dt.datetime(2023, 3, 20, 8, tzinfo=SH))
    assert dr.state == "success"
    with engine.connect() as conn:
        got = dict(conn.execute(text("SELECT uscc, class FROM mart_evaluation WHERE year = 2022")).all())
    engine.dispose()
    assert len(got) == 5 and got["913311250000000001"] == "A" and got["913311250000000005"] == "D"
    # the Asset event tells the bulletin the year's class counts (all five are 规下)
    below = {c: sum(1 for v in got.values() if v == c) for c in "ABCD"}
    assert _evaluation_events(dr.run_id) == [{"year": 2022, "evaluated": 5, "inefficient": 1,
                                              "classes": {"above": dict.fromkeys("ABCD", 0), "below": below}}]
    xlsx = tmp_path / "out" / "evaluation" / "inefficient-list-2022.xlsx"
    ws = load_workbook(xlsx)["低效企业清单"]
    assert ws.cell(row=1, column=2).value == "统一社会信用代码"
    # D (亩均税收 2.0 is also below 3 万元/亩 for 规下)
    assert ws.cell(row=2, column=2).value == "913311250000000005"
    assert "综合评价D类" in ws.cell(row=2, column=ws.max_column).value
