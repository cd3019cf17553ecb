"""The six feed DAGs: parse cheaply with the project's hygiene (schedule, owner, tags, retries,
doc), and under dag.test() ingest a small inbox, emit Asset events carrying the periods loaded
(read back from Airflow's metadata DB), and fail visibly on a rejected delivery."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mfg_indicators.feeds import SOURCES

from test_ingest_support import core_rows, headers, registry_rows, tax_rows, uscc, write_csv, write_xlsx

PROJECT = Path(__file__).resolve().parents[1]
DAGS = PROJECT / "dags"
FEED_IDS = [f"feed_{s}" for s in SOURCES]


@pytest.fixture(scope="module")
def bag():
    from airflow.dag_processing.dagbag import DagBag

    b = DagBag(dag_folder=str(DAGS))
    assert not b.import_errors, b.import_errors
    return b


def test_one_dag_per_source_with_hygiene(bag):
    from airflow.sdk import CronDataIntervalTimetable

    assert set(FEED_IDS) <= set(bag.dags)
    for dag_id in FEED_IDS:
        dag = bag.dags[dag_id]
        source = dag_id.removeprefix("feed_")
        assert isinstance(dag.timetable, CronDataIntervalTimetable)
        assert dag.timetable.expression == "0 7 * * *" and str(dag.timetable.timezone) == "Asia/Shanghai"
        assert dag.catchup is False and dag.max_active_runs == 1
        assert {"feed", source} <= set(dag.tags)
        assert dag.owner and dag.owner != "airflow"
        assert source in dag.doc_md and "Reads" in dag.doc_md and "Writes" in dag.doc_md
        tasks = {t.task_id: t for t in dag.tasks}
        assert set(tasks) == {"pull_http", "find_new_deliveries", "ingest", "emit_asset_event", "fail_on_rejected"}
        for tid in ("pull_http", "find_new_deliveries", "ingest"):
            t = tasks[tid]
            assert t.retries >= 2 and t.retry_exponential_backoff and t.retry_delay >= timedelta(minutes=1)
        assert [a.name for a in tasks["emit_asset_event"].outlets] == [dag_id]


def test_dag_files_are_thin_and_parse_fast():
    for s in SOURCES:
        src = (DAGS / f"feed_{s}.py").read_text(encoding="utf-8")
        code = [ln for ln in src.splitlines() if ln.strip() and not ln.lstrip().startswith(("#", '"""'))]
        assert len(code) <= 3, code
    # Parse every feed DAG file in a fresh interpreter, after Airflow itself is imported: the
    # project's share must stay well under 0.3 s per file and import no pandas / GX / SQLAlchemy ORM use.
    probe = r"""
import importlib.util, json, sys, time
import airflow.sdk, airflow.providers.smtp.notifications.smtp  # Airflow itself: not ours to count
out = {}
for path in sys.argv[1:]:
    t = time.perf_counter()
    spec = importlib.util.spec_from_file_location("m" + str(len(out)), path)
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    out[path] = time.perf_counter() - t
print(json.dumps({"times": out, "pandas": "pandas" in sys.modules,
                  "gx": "great_expectations" in sys.modules, "openpyxl": "openpyxl" in sys.modules}))
"""
    files = [str(DAGS / f"feed_{s}.py") for s in SOURCES]
    res = subprocess.run([sys.executable, "-c", probe, *files], capture_output=True, text=True, check=True,
                         env=os.environ.copy(), cwd=PROJECT)
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert not got["pandas"] and not got["gx"] and not got["openpyxl"]
    assert max(got["times"].values()) < 0.3, got["times"]


def _asset_events(dag_id: str) -> list[dict]:
    from sqlalchemy import select

    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.execute(select(AssetEvent.extra, AssetEvent.source_run_id).join(
            AssetModel, AssetModel.id == AssetEvent.asset_id).where(AssetModel.name == dag_id)
            .order_by(AssetEvent.id)).all()
        return [{"extra": r[0], "run_id": r[1]} for r in rows]


@pytest.fixture
def feed_env(tmp_path, warehouse_url, monkeypatch):
    d = {"inbox": tmp_path / "inbox", "archive": tmp_path / "archive", "quarantine": tmp_path / "quarantine",
         "output": tmp_path / "output"}
    monkeypatch.setenv("MFG_INBOX", str(d["inbox"]))
    monkeypatch.setenv("MFG_OUTPUT", str(d["output"]))
    monkeypatch.setenv("MFG_ARCHIVE", str(d["archive"]))
    monkeypatch.setenv("MFG_QUARANTINE", str(d["quarantine"]))
    monkeypatch.setenv("MFG_WAREHOUSE_URL", warehouse_url)
    monkeypatch.delenv("MFG_HTTP_SOURCES", raising=False)
    d["url"] = warehouse_url
    return d


_run = iter(range(1, 10_000))


def _test_run(dag):
    # a distinct logical date per run: dag.test() re-uses (and clears) a run with the same date
    when = datetime(2023, 7, 1, tzinfo=timezone.utc) + timedelta(days=next(_run))
    return dag.test(logical_date=when)


def test_feed_dags_ingest_and_emit_asset_periods(airflow_db, bag, feed_env):
    from mfg_indicators.warehouse import connect

    inbox = feed_env["inbox"]
    write_csv(inbox / "registry" / "名录.csv", headers("registry"), registry_rows(2023, [1, 2]))
    write_csv(inbox / "tax" / "5月.csv", headers("tax"), tax_rows("2023-05", [1, 2]), encoding="gbk")
    write_xlsx(inbox / "tax" / "6月.xlsx", [("税收", [["2023年6月税收"], headers("tax"), *tax_rows("2023年6月", [1, 2])])])
    os.utime(inbox / "tax" / "6月.xlsx", (1_800_000_000, 1_800_000_000))

    dr = _test_run(bag.dags["feed_tax"])
    assert dr.state == "success"
    events = [e for e in _asset_events("feed_tax") if e["run_id"] == dr.run_id]
    assert len(events) == 1
    extra = events[0]["extra"]
    assert extra["periods"] == ["2023-05", "2023-06"]
    assert [d["file"] for d in extra["deliveries"]] == ["5月.csv", "6月.xlsx"]
    assert [d["periods"] for d in extra["deliveries"]] == [["2023-05"], ["2023-06"]]

    dr = _test_run(bag.dags["feed_registry"])
    assert dr.state == "success"
    [ev] = [e for e in _asset_events("feed_registry") if e["run_id"] == dr.run_id]
    assert ev["extra"]["periods"] == ["2023"]

    engine = connect(feed_env["url"])
    try:
        assert len(core_rows(engine, "tax")) == 4 and len(core_rows(engine, "registry")) == 2
        if engine.dialect.name == "postgresql":
            # the CLI's stage function, whole: fresh planner statistics of what was published
            from sqlalchemy import text

            with engine.connect() as conn:
                analyzed = conn.execute(text("SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL"
                                             " AND relname IN ('core_tax', 'core_registry')")).scalars().all()
            assert sorted(analyzed) == ["core_registry", "core_tax"]
    finally:
        engine.dispose()

    # Nothing new: the run succeeds and emits no event (the emit task is skipped).
    dr = _test_run(bag.dags["feed_tax"])
    assert dr.state == "success"
    assert [e for e in _asset_events("feed_tax") if e["run_id"] == dr.run_id] == []


def test_feed_dag_fails_visibly_on_rejection_after_loading_the_rest(airflow_db, bag, feed_env):
    from mfg_indicators.warehouse import connect

    inbox = feed_env["inbox"]
    bad = write_csv(inbox / "energy" / "a-bad.csv", headers("energy"),
                    [[uscc(1), "甲", "2023-13", 1, 2]], mtime=1_700_000_000)
    write_csv(inbox / "energy" / "b-good.csv", headers("energy"), [[uscc(1), "甲", "2023-06", 1, 2]],
              mtime=1_700_000_100)
    dag = bag.dags["feed_energy"]
    dr = _test_run(dag)
    assert dr.state == "failed"
    states = {ti.task_id: ti.state for ti in dr.get_task_instances()}
    assert states["ingest"] == "success" and states["emit_asset_event"] == "success"
    # failed outright, not up_for_retry: AirflowFailException skips the task's retries
    assert states["fail_on_rejected"] == "failed"
    assert not bad.exists() and (feed_env["quarantine"] / "energy" / "a-bad.csv.report.txt").exists()
    # the run's GX Data Docs are there to open after the failed run (the good file's validation)
    index = feed_env["output"] / "data-docs" / "feed_energy" / "data-docs" / "index.html"
    assert "energy" in index.read_text(encoding="utf-8")
    [ev] = [e for e in _asset_events("feed_energy") if e["run_id"] == dr.run_id]
    assert ev["extra"]["periods"] == ["2023-06"]
    engine = connect(feed_env["url"])
    try:
        assert [r["period"] for r in core_rows(engine, "energy")] == ["2023-06"]
    finally:
        engine.dispose()


def test_feed_dag_fails_when_the_inbox_is_missing(airflow_db, bag, feed_env):
    assert not feed_env["inbox"].exists()
    dr = _test_run(bag.dags["feed_stats"])
    assert dr.state == "failed"
    states = {ti.task_id: ti.state for ti in dr.get_task_instances()}
    assert states["find_new_deliveries"] == "failed"  # at once, not after retries
