"""One code path for the month: the CLI ``run`` (pipeline.run_month) and the monthly DAG's tasks
(dag.test, Airflow itself) call the same stage functions (mfg_indicators.month), so the same
ingested inbox gives the same warehouse rows and the same documents either way, on both
warehouses."""

from __future__ import annotations

import datetime as dt
import json
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
CLOCK_COLUMNS = {"computed_at", "applied_at"}


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


def _rows(url: str) -> dict[str, list[tuple]]:
    """Every table's rows (clock columns left out), sorted."""
    engine = connect(url, migrate_schema=False)
    try:
        insp = inspect(engine)
        out = {}
        with engine.connect() as conn:
            for table in sorted(insp.get_table_names()):
                cols = [c["name"] for c in insp.get_columns(table) if c["name"] not in CLOCK_COLUMNS]
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

    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils.state import DagRunState

    dag_out = tmp_path / "dag"
    monkeypatch.setenv("MFG_WAREHOUSE_URL", dag_url)
    monkeypatch.setenv("MFG_OUTPUT", str(dag_out))
    monkeypatch.setenv("MFG_SMTP_CONN_ID", "mfg_no_such_smtp")  # no connection: the .eml is written
    dag = DagBag(dag_folder=str(DAGS / "monthly_indicators.py")).dags[DAG_ID]
    # a manual run gets the interval that ends at its logical date: 2023-07-01 computes 2023-06
    dr = dag.test(logical_date=dt.datetime(2023, 7, 1, tzinfo=SH))
    assert dr.state == DagRunState.SUCCESS
    assert calls == list(STAGES)  # one task per stage, the very functions the CLI called

    cli_rows, dag_rows = _rows(cli_url), _rows(dag_url)
    assert cli_rows.keys() == dag_rows.keys()
    for table in cli_rows:
        assert cli_rows[table] == dag_rows[table], table
    # the month was written by both (not two untouched copies): indicators, warnings, per-mu cells
    for table in ("mart_indicator", "mart_per_mu"):
        assert dag_rows[table] and not before[table], table
    assert len(dag_rows["mart_indicator"]) == len(CONFIG.indicators)

    name = f"indicators-{PERIOD}.json"
    cli_doc = json.loads((cli_out / name).read_text(encoding="utf-8"))
    assert cli_doc == result.document
    assert (dag_out / name).read_bytes() == (cli_out / name).read_bytes()
    bulletin = f"bulletin-{PERIOD}"
    assert (dag_out / f"{bulletin}.html").read_text(encoding="utf-8") == \
        (cli_out / f"{bulletin}.html").read_text(encoding="utf-8")
    for suffix in ("docx", "pdf"):
        assert (dag_out / f"{bulletin}.{suffix}").read_bytes() == (cli_out / f"{bulletin}.{suffix}").read_bytes()

    def manifest(out: Path) -> dict:
        [path] = (out / "bulletin-archive" / PERIOD).glob("r*/manifest.json")
        return json.loads(path.read_text(encoding="utf-8"))

    cli_manifest, dag_manifest = manifest(cli_out), manifest(dag_out)
    assert cli_manifest["inputs"] == dag_manifest["inputs"]
    assert cli_manifest["outputs"] == dag_manifest["outputs"]
