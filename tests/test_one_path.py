"""One code path: the CLI ``run`` (pipeline.run_month) and the DAGs' tasks (dag.test, Airflow
itself) call the same stage functions — ingest.ingest_inbox for the feeds, mfg_indicators.month
for the month — so the same inbox gives the same warehouse rows and the same documents either
way, on both warehouses."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect, text

from mfg_indicators.config import load_config
from mfg_indicators.ingest import ingest_inbox
from mfg_indicators.orchestration.monthly_dag import DAG_ID
from mfg_indicators.warehouse import connect

PERIOD = "2023-06"
CONFIG = load_config()
DAGS = Path(__file__).resolve().parents[1] / "dags"
SH = ZoneInfo("Asia/Shanghai")
# Columns that record when a row was written, not what it says.
CLOCK_COLUMNS = {"computed_at", "applied_at", "received_at"}


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    from mfg_indicators.sample.inbox import generate

    path = tmp_path_factory.mktemp("one-path") / "inbox"
    generate(path)
    return path


def _clone(dialect: str, tmp_path: Path, pg_server, inbox: Path) -> tuple[str, str]:
    """Two warehouses holding the inbox ingested once: the second is a copy of the first."""
    if dialect == "sqlite":
        first = tmp_path / "cli.sqlite"
        url = f"sqlite:///{first}"
    else:
        url = pg_server("onepath")
    engine = connect(url)
    try:
        report = ingest_inbox(inbox, engine, config=CONFIG, archive_dir=tmp_path / "archive",
                              quarantine_dir=tmp_path / "quarantine", move_rejected=False)
        assert report.accepted and not report.rejected
    finally:
        engine.dispose()
    if dialect == "sqlite":
        shutil.copy(first, tmp_path / "dag.sqlite")
        return url, f"sqlite:///{tmp_path / 'dag.sqlite'}"
    import psycopg

    from conftest import PG_ADMIN_URL

    source = url.rsplit("/", 1)[1]
    copy = pg_server("onepathdag")
    target = copy.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{target}"')
        admin.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
    return url, copy


def _rows(url: str, leave_out: set[str] = frozenset()) -> dict[str, list[tuple]]:
    """Every table's rows (clock columns and ``leave_out`` left out), sorted."""
    engine = connect(url, migrate_schema=False)
    try:
        insp = inspect(engine)
        out = {}
        with engine.connect() as conn:
            for table in sorted(insp.get_table_names()):
                cols = [c["name"] for c in insp.get_columns(table) if c["name"] not in CLOCK_COLUMNS | leave_out]
                rows = conn.execute(text(f"SELECT {', '.join(cols)} FROM {table}")).all()
                out[table] = sorted((tuple(map(repr, r)) for r in rows))
        return out
    finally:
        engine.dispose()


STAGES = ("compute_month", "document_month", "render_month", "deliver_month")


def _record_stages(monkeypatch) -> list[str]:
    """The names of the month's stage functions (mfg_indicators.month) as they are called."""
    from mfg_indicators import month

    calls: list[str] = []
    for name in STAGES:
        def recorded(*args, _name=name, _fn=getattr(month, name), **kwargs):
            calls.append(_name)
            return _fn(*args, **kwargs)

        monkeypatch.setattr(month, name, recorded)
    return calls


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_cli_and_dag_give_the_same_rows_and_documents(dialect, inbox, tmp_path, pg_server, airflow_db,
                                                      monkeypatch):
    cli_url, dag_url = _clone(dialect, tmp_path, pg_server, inbox)
    before = _rows(dag_url)
    calls = _record_stages(monkeypatch)

    from mfg_indicators.pipeline import run_month

    cli_out = tmp_path / "cli"
    result = run_month(period=PERIOD, inbox=inbox, warehouse_url=cli_url, out_dir=cli_out,
                       archive_dir=tmp_path / "archive", quarantine_dir=tmp_path / "quarantine", quiet=True)
    assert result.exit_code == 0 and result.rejected == []
    assert calls == list(STAGES)
    calls.clear()

    from airflow.utils.state import DagRunState

    dag_out = tmp_path / "dag"
    monkeypatch.setenv("MFG_WAREHOUSE_URL", dag_url)
    monkeypatch.setenv("MFG_OUTPUT", str(dag_out))
    monkeypatch.setenv("MFG_SMTP_CONN_ID", "mfg_no_such_smtp")  # no connection: the .eml is written
    # a manual run gets the interval that ends at its logical date: 2023-07-01 computes 2023-06
    dr = _dag(DAG_ID).test(logical_date=dt.datetime(2023, 7, 1, tzinfo=SH))
    assert dr.state == DagRunState.SUCCESS
    assert calls == list(STAGES)  # one task per stage, the very functions the CLI called

    _assert_same(cli_url, dag_url, cli_out, dag_out, result.document)
    assert not before["mart_indicator"] and not before["mart_per_mu"]  # written by both runs


# When a delivery was received (the annex's 收到时间): the clock of each run's ingestion.
RECEIVED_AT = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}")


def _assert_same(cli_url: str, dag_url: str, cli_out: Path, dag_out: Path, cli_document: dict, *,
                 one_ingestion: bool = True) -> None:
    """The two warehouses hold the same rows and the two output folders the same month. With two
    ingestions (``one_ingestion`` false) each delivery has its own receipt time and archive path:
    those are left out, and the bulletin is compared as text without its receipt times."""
    leave_out = set() if one_ingestion else {"archive_path"}
    cli_rows, dag_rows = _rows(cli_url, leave_out), _rows(dag_url, leave_out)
    assert cli_rows.keys() == dag_rows.keys()
    for table in cli_rows:
        assert cli_rows[table] == dag_rows[table], table
    for table in ("mart_indicator", "mart_per_mu", "core_tax", "raw_delivery"):
        assert dag_rows[table], table
    assert len(dag_rows["mart_indicator"]) == len(CONFIG.indicators)

    name = f"indicators-{PERIOD}.json"
    cli_doc = json.loads((cli_out / name).read_text(encoding="utf-8"))
    assert cli_doc == cli_document
    assert (dag_out / name).read_bytes() == (cli_out / name).read_bytes()
    bulletin = f"bulletin-{PERIOD}"
    html = [(out / f"{bulletin}.html").read_text(encoding="utf-8") for out in (cli_out, dag_out)]
    if one_ingestion:
        assert html[0] == html[1]
        for suffix in ("docx", "pdf"):
            assert (dag_out / f"{bulletin}.{suffix}").read_bytes() == (cli_out / f"{bulletin}.{suffix}").read_bytes()
    else:
        assert RECEIVED_AT.findall(html[0])  # the annex lists each delivery with its receipt time
        assert RECEIVED_AT.sub("…", html[0]) == RECEIVED_AT.sub("…", html[1])

    def manifest(out: Path) -> dict:
        [path] = (out / "bulletin-archive" / PERIOD).glob("r*/manifest.json")
        found = json.loads(path.read_text(encoding="utf-8"))
        if not one_ingestion:
            for d in found["inputs"]["deliveries"]:  # listed in order of receipt
                d.pop("received_at")
            found["inputs"]["deliveries"].sort(key=lambda d: d["sha256"])
            found["outputs"] = sorted(o["name"] for o in found["outputs"])
        return found

    cli_manifest, dag_manifest = manifest(cli_out), manifest(dag_out)
    assert cli_manifest["inputs"] == dag_manifest["inputs"]
    assert cli_manifest["outputs"] == dag_manifest["outputs"]


def _dag(dag_id: str):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS / f"{dag_id}.py")).dags[dag_id]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_cli_and_the_feed_and_monthly_dags_give_the_same_rows_and_documents(
        dialect, inbox, tmp_path, pg_server, airflow_db, monkeypatch):
    """The whole way: the CLI ingests the inbox and runs the month in one warehouse; the six feed
    DAGs ingest the same inbox and the monthly DAG runs the month in another."""
    from airflow.utils.state import DagRunState

    from mfg_indicators.feeds import SOURCES
    from mfg_indicators.pipeline import run_month

    urls = ([f"sqlite:///{tmp_path / n}.sqlite" for n in ("cli", "dag")] if dialect == "sqlite"
            else [pg_server("feedcli"), pg_server("feeddag")])
    cli_out, dag_out = tmp_path / "cli", tmp_path / "dag"
    result = run_month(period=PERIOD, inbox=inbox, warehouse_url=urls[0], out_dir=cli_out,
                       archive_dir=tmp_path / "cli-archive", quarantine_dir=tmp_path / "cli-quarantine",
                       quiet=True)
    assert result.exit_code == 0 and result.rejected == []

    for key, value in (("MFG_INBOX", inbox), ("MFG_WAREHOUSE_URL", urls[1]), ("MFG_OUTPUT", dag_out),
                       ("MFG_ARCHIVE", tmp_path / "dag-archive"), ("MFG_QUARANTINE", tmp_path / "dag-quarantine"),
                       ("MFG_SMTP_CONN_ID", "mfg_no_such_smtp")):
        monkeypatch.setenv(key, str(value))
    monkeypatch.delenv("MFG_HTTP_SOURCES", raising=False)
    for n, source in enumerate(SOURCES, 1):
        dr = _dag(f"feed_{source}").test(logical_date=dt.datetime(2023, 7, 1, n, tzinfo=SH))
        assert dr.state == DagRunState.SUCCESS, source
    dr = _dag(DAG_ID).test(logical_date=dt.datetime(2023, 7, 1, tzinfo=SH))
    assert dr.state == DagRunState.SUCCESS
    _assert_same(urls[0], urls[1], cli_out, dag_out, result.document, one_ingestion=False)
