"""The monthly_indicators DAG: period from the month-interval timetable, the feeds gate, and
idempotent reruns through Airflow itself (dag.test)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

from mfg_indicators.deadlines import feeds_check
from mfg_indicators.orchestration.monthly_dag import DAG_ID, month_timetable, period_of_interval
from mfg_indicators.warehouse import connect
from test_indicators import CONFIG, WH
from test_indicators_output import full_scenario

SH = ZoneInfo("Asia/Shanghai")
UTC = dt.timezone.utc
DAGS = Path(__file__).resolve().parents[1] / "dags"


def test_period_of_interval_is_local_month_of_start():
    # [2024-01-01, 2024-02-01) Beijing time starts at 2023-12-31 16:00 UTC: the period is January
    assert period_of_interval(dt.datetime(2023, 12, 31, 16, 0, tzinfo=UTC)) == "2024-01"
    assert period_of_interval(dt.datetime(2024, 1, 1, tzinfo=SH)) == "2024-01"
    assert period_of_interval(dt.datetime(2023, 12, 1, tzinfo=SH)) == "2023-12"


def test_timetable_interval_covers_the_previous_month():
    """The scheduled run after 2024-01 closes has the interval [2024-01-01, 2024-02-01) local."""
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    tt = coerce_to_core_timetable(month_timetable())
    info = tt.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(earliest=dt.datetime(2024, 1, 1, tzinfo=SH), latest=None, catchup=True))
    assert info.data_interval.start == dt.datetime(2024, 1, 1, tzinfo=SH)
    assert info.data_interval.end == dt.datetime(2024, 2, 1, tzinfo=SH)
    assert info.run_after == dt.datetime(2024, 2, 1, tzinfo=SH)
    assert period_of_interval(info.data_interval.start) == "2024-01"


def deliver_all_for(wh: WH, period: str, received_at: dt.datetime) -> None:
    """Accepted deliveries of all six sources covering ``period`` (bookkeeping as ingestion writes it)."""
    for table in ("tax", "energy", "stats_enterprise", "stats_county", "task_report"):
        wh.deliver(table, periods=[period], received_at=received_at)
    wh.deliver("registry", periods=[period[:4]], received_at=received_at)
    wh.deliver("projects", "rectification", periods=[], received_at=received_at)


def test_feeds_gate_waits_then_passes(tmp_path):
    engine = connect(f"sqlite:///{tmp_path / 'w.sqlite'}")
    wh = WH(engine)
    now = dt.datetime(2023, 4, 5, 9, tzinfo=SH)
    check = feeds_check(engine, CONFIG, "2023-03", now=now)
    assert not check["done"] and set(check["missing"]) == {"registry", "tax", "energy", "stats", "projects", "ledgers"}
    # tax for March lands (and an older roster): still waiting for the others
    wh.deliver("tax", periods=["2023-03"], received_at=dt.datetime(2023, 4, 2))
    check = feeds_check(engine, CONFIG, "2023-03", now=now)
    assert not check["done"] and "tax" not in check["missing"]
    deliver_all_for(wh, "2023-03", dt.datetime(2023, 4, 3))
    check = feeds_check(engine, CONFIG, "2023-03", now=now)
    assert check["done"] and check["complete"] and check["missing"] == []
    # April: nothing yet; after the due day (end of 15 May, Beijing time) it proceeds anyway
    assert not feeds_check(engine, CONFIG, "2023-04", now=dt.datetime(2023, 5, 15, 23, tzinfo=SH))["done"]
    late = feeds_check(engine, CONFIG, "2023-04", now=dt.datetime(2023, 5, 16, 0, 1, tzinfo=SH))
    assert late["done"] and not late["complete"] and late["missing"]
    json.dumps(late)  # XCom-safe
    engine.dispose()


def _mart(engine, period):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT code, value, annualized, progress, time_progress, status, as_of, notes FROM mart_indicator"
            " WHERE period = :p ORDER BY code"), {"p": period})]


def test_dag_computes_the_interval_month_idempotently(airflow_db, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'wh.sqlite'}"
    out = tmp_path / "output"
    monkeypatch.setenv("MFG_WAREHOUSE_URL", url)
    monkeypatch.setenv("MFG_OUTPUT", str(out))
    engine = connect(url)
    wh = WH(engine)
    full_scenario(wh)
    deliver_all_for(wh, "2023-03", dt.datetime(2023, 4, 3))

    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils.state import DagRunState

    bag = DagBag(dag_folder=str(DAGS / "monthly_indicators.py"))
    assert not bag.import_errors
    dag = bag.dags[DAG_ID]
    assert [t.task_id for t in dag.topological_sort()] == [
        "resolve_period", "wait_for_feeds", "compute", "write_json", "render_bulletin", "deliver_bulletin"]
    monkeypatch.setenv("MFG_SMTP_CONN_ID", "mfg_no_such_smtp")  # no connection: the .eml is written

    # logical date 2023-04-01 (local) is the run after March: it computes 2023-03
    dr = dag.test(logical_date=dt.datetime(2023, 4, 1, tzinfo=SH))
    assert dr.state == DagRunState.SUCCESS
    assert period_of_interval(dr.data_interval_start) == "2023-03"
    first = _mart(engine, "2023-03")
    assert len(first) == len(CONFIG.indicators)
    assert _mart(engine, "2023-04") == []
    path = out / "indicators-2023-03.json"
    doc1 = json.loads(path.read_text(encoding="utf-8"))
    assert doc1["period"] == "2023-03" and len(doc1["indicators"]) == 37
    # the bulletin tasks: Word/PDF/HTML rendered, the e-mail written as .eml, archived with a manifest
    for suffix in ("docx", "pdf", "html", "eml"):
        assert (out / f"bulletin-2023-03.{suffix}").stat().st_size > 0, suffix
    import email
    msg = email.message_from_bytes((out / "bulletin-2023-03.eml").read_bytes())
    title = f"{CONFIG['bulletin']['title']}（2023年第3期）"  # attached under the Chinese title
    assert {p.get_filename() for p in msg.walk() if p.get_filename()} >= {f"{title}.docx", f"{title}.pdf"}
    assert {p.get_param("name") for p in msg.walk() if p.get_filename()} >= {"bulletin-2023-03.docx", "bulletin-2023-03.pdf"}
    manifest = json.loads(next((out / "bulletin-archive").rglob("manifest.json")).read_text(encoding="utf-8"))
    import hashlib
    outputs = {o["name"]: o["sha256"] for o in manifest["outputs"]}
    assert outputs["bulletin-2023-03.pdf"] == hashlib.sha256((out / "bulletin-2023-03.pdf").read_bytes()).hexdigest()
    assert manifest["period"] == "2023-03" and "deliveries" in manifest["inputs"]
    assert [a["result"] for a in manifest["sending"]] == ["written"]  # no SMTP connection

    # a second run of the same month: same mart rows, same document
    dr2 = dag.test(logical_date=dt.datetime(2023, 4, 1, tzinfo=SH))
    assert dr2.state == DagRunState.SUCCESS
    assert _mart(engine, "2023-03") == first
    assert json.loads(path.read_text(encoding="utf-8")) == doc1

    # what the DAG wrote equals a direct computation (one code path for DAG and CLI)
    from mfg_indicators.compute import compute_indicators
    direct = compute_indicators(engine, CONFIG, "2023-03")
    assert [i["value"] for i in direct] == [i["value"] for i in doc1["indicators"]]
    engine.dispose()


def test_months_outside_the_plan_window_are_skipped(airflow_db, tmp_path, monkeypatch):
    """A fresh deployment's first run is for the current month, outside the plan window: it must
    not compute or e-mail anything."""
    url = f"sqlite:///{tmp_path / 'wh.sqlite'}"
    out = tmp_path / "output"
    monkeypatch.setenv("MFG_WAREHOUSE_URL", url)
    monkeypatch.setenv("MFG_OUTPUT", str(out))
    monkeypatch.setenv("MFG_SMTP_CONN_ID", "mfg_no_such_smtp")
    engine = connect(url)
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS / "monthly_indicators.py")).dags[DAG_ID]
    dr = dag.test(logical_date=dt.datetime(2026, 11, 1, tzinfo=SH))  # computes 2026-10
    states = {ti.task_id: ti.state for ti in dr.get_task_instances()}
    assert states["resolve_period"] == "skipped"
    assert all(states[t] == "skipped" for t in ("compute", "write_json", "render_bulletin", "deliver_bulletin"))
    assert _mart(engine, "2026-10") == []
    assert not out.exists() or not list(out.glob("*"))  # no JSON, no bulletin, no .eml
    engine.dispose()


def test_doc_md_names_the_tasks_and_a_backfill_of_the_plan_window():
    """The UI's doc: the tasks in their order, and a backfill command whose dates (logical dates =
    interval starts, with the offset) cover exactly the plan window."""
    import re

    from mfg_indicators.orchestration.monthly_dag import DOC_MD

    assert "resolve_period` → `wait_for_feeds` → `compute` → `write_json` → `render_bulletin` → `deliver_bulletin" in DOC_MD
    assert '{"period": "2023-06"}' in DOC_MD  # how to rerun one month
    dates = dict(re.findall(r"--(from|to)-date (\S+)", DOC_MD))
    first, last = (dt.datetime.fromisoformat(dates[k]) for k in ("from", "to"))
    assert first.utcoffset() == last.utcoffset() == dt.timedelta(hours=8)
    assert (period_of_interval(first), period_of_interval(last)) == (CONFIG.window_start, CONFIG.window_end)
