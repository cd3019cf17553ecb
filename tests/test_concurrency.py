"""Concurrent runs on one warehouse (issue 14 §4): N real ``mfg-indicators run`` processes started
at once on the same inbox and warehouse give exactly the result of one run — same exit codes, no
spurious rejection, the same warehouse rows and the same indicators JSON — on SQLite and
PostgreSQL, first runs on a fresh warehouse included (they race the migration). Concurrent
``migrate`` processes, and two feed DAGs' ingestion (two sources) at once, likewise."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mfg_indicators.warehouse import connect

from run_support import CLI, PERIOD, comparable, env, run_args, run_cli, small_inbox

N_RUNS = 3
MONTHS = 12


def _second_url(warehouse_url: str, tmp_path: Path, pg_server) -> str:
    if warehouse_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'reference.sqlite'}"
    return pg_server("ref")


def _rows(url: str) -> dict:
    engine = connect(url)
    try:
        return comparable(engine)
    finally:
        engine.dispose()


def _document(out: Path) -> dict:
    doc = json.loads((out / f"indicators-{PERIOD}.json").read_text(encoding="utf-8"))
    return {k: doc[k] for k in ("indicators", "warnings", "rejected")}


def _start_at_once(commands: list[list[str]], **env_overrides: str) -> list[subprocess.CompletedProcess]:
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(**env_overrides))
             for c in commands]
    done = []
    for c, p in zip(commands, procs):
        try:
            out, err = p.communicate(timeout=900)
        finally:
            p.kill()
        done.append(subprocess.CompletedProcess(c, p.returncode, out, err))
    return done


def test_concurrent_runs_give_the_result_of_one_run(warehouse_url, tmp_path, pg_server):
    # enough deliveries that the runs catch up with each other and load the same ones at once
    inbox = small_inbox(tmp_path, months=MONTHS)
    ref_url = _second_url(warehouse_url, tmp_path, pg_server)
    ref = run_cli(run_args(inbox, ref_url, tmp_path / "ref" / "out", tmp_path / "ref"))
    assert ref.returncode == 2, ref.stderr[-3000:]  # the one bad file, nothing else
    reference = _document(tmp_path / "ref" / "out")
    assert [r["file"] for r in reference["rejected"]] == ["2023年6月补报.csv"]

    work = tmp_path / "shared"  # one deployment: the runs share archive and quarantine folders
    runs = _start_at_once([run_args(inbox, warehouse_url, work / f"out{i}", work) for i in range(N_RUNS)])
    for r in runs:
        assert r.returncode == 2, r.stderr[-3000:]
        assert "raw_delivery_pkey" not in r.stderr and "already exists" not in r.stderr
    for i in range(N_RUNS):
        got = _document(work / f"out{i}")
        assert got["rejected"] == reference["rejected"], "no spurious rejection"
        assert got == reference
        assert (work / f"out{i}" / f"bulletin-{PERIOD}.pdf").stat().st_size > 0
    # every good delivery accepted exactly once, by one of the runs; the others saw duplicates
    counts = [tuple(map(int, re.search(r"(\d+) accepted, (\d+) duplicate, (\d+) rejected", r.stderr).groups()))
              for r in runs]
    assert sum(c[0] for c in counts) == 2 + 2 * MONTHS, counts  # registry, tax, energy, the May correction
    assert all(c[2] == 1 for c in counts), counts  # the bad file, rejected by each run

    assert _rows(warehouse_url) == _rows(ref_url)


def test_concurrent_migrations_of_a_fresh_warehouse(warehouse_url):
    runs = _start_at_once([[CLI, "migrate", "--warehouse", warehouse_url] for _ in range(4)])
    for r in runs:
        assert r.returncode == 0, r.stderr[-3000:]
    applied = [r.stdout for r in runs if "nothing (schema is current)" not in r.stdout]
    assert len(applied) == 1, [r.stdout for r in runs]  # one did the work, the others found it done
    assert "001_init.sql" in applied[0]
    engine = connect(warehouse_url, migrate_schema=False)
    try:
        from sqlalchemy import text

        with engine.connect() as conn:
            files = conn.execute(text("SELECT file_name FROM schema_migrations")).scalars().all()
            assert len(files) == len(set(files))
            assert len(conn.execute(text("SELECT version_num FROM alembic_version")).all()) == 1
    finally:
        engine.dispose()


_INGEST_ONE_SOURCE = r"""
import sys
from mfg_indicators.config import load_config
from mfg_indicators.ingest import ingest_inbox
from mfg_indicators.warehouse import connect

inbox, url, archive, quarantine, source = sys.argv[1:]
engine = connect(url)
report = ingest_inbox(inbox, engine, config=load_config(), archive_dir=archive, quarantine_dir=quarantine,
                      sources=[source])
print(" ".join(f"{o.file}={o.status}" for o in report.outcomes))
"""


def test_two_feed_dags_at_once(warehouse_url, tmp_path, pg_server):
    """What the feed DAGs' ingest task runs (ingest_inbox for its source), as concurrent processes:
    tax and energy twice each, after the registry. Same warehouse as one run after another."""
    inbox = small_inbox(tmp_path)

    def ingest(url: str, sources: list[str], tag: str) -> list[subprocess.CompletedProcess]:
        cmds = [[sys.executable, "-c", _INGEST_ONE_SOURCE, str(inbox), url, str(tmp_path / tag / "archive"),
                 str(tmp_path / tag / "quarantine"), s] for s in sources]
        return _start_at_once(cmds)

    ref_url = _second_url(warehouse_url, tmp_path, pg_server)
    for s in ("registry", "tax", "energy"):
        [r] = ingest(ref_url, [s], "ref")
        assert r.returncode == 0, r.stderr[-3000:]
    [r] = ingest(warehouse_url, ["registry"], "dags")
    assert r.returncode == 0, r.stderr[-3000:]
    runs = ingest(warehouse_url, ["tax", "energy", "tax", "energy"], "dags")
    for r in runs:
        assert r.returncode == 0, r.stderr[-3000:]
        statuses = dict(item.split("=") for item in r.stdout.split())
        assert [f for f, s in statuses.items() if s == "rejected"] in (["2023年6月补报.csv"], [])
        if "2023年6月补报.csv" in statuses:
            assert statuses["2023年6月补报.csv"] == "rejected"
    assert _rows(warehouse_url) == _rows(ref_url)


@pytest.fixture(autouse=True)
def _bounded_waits(monkeypatch):
    # a wait that is never granted fails the test instead of hanging it
    monkeypatch.setenv("MFG_WAREHOUSE_LOCK_TIMEOUT", "300")
