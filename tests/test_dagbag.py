"""DAG hygiene over whatever is in the project's dags/ folder (every DAG file, every DAG, every
task): parses without import errors, serializes as the dag-processor does, has tags from the
project's taxonomy, a Markdown doc_md for the UI (no reST roles), an owner who is not 'airflow',
retries with exponential backoff, an SMTP failure notifier, no deprecated e-mail arguments,
nothing heavy imported at top level, and each file parses fast."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

# Tasks that retry by themselves and so must not be retried by Airflow too (the HTTP pull's one
# retry policy lives in mfg_indicators.http_pull: Airflow's retries on top would multiply the GETs).
SELF_RETRYING = {"pull_http"}

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DAGS_DIR = PROJECT_ROOT / "dags"
DAG_FILES = sorted(p for p in DAGS_DIR.glob("*.py") if not p.name.startswith("_"))
PARSE_BUDGET_S = 0.3
HEAVY_MODULES = ("pandas", "great_expectations", "docxtpl", "docx", "weasyprint", "matplotlib",
                 "openpyxl", "pyarrow")


@pytest.fixture(scope="module")
def bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def test_dags_folder_has_dag_files():
    assert DAG_FILES, "dags/ holds no DAG file"


def test_no_import_errors(bag):
    assert bag.import_errors == {}, "\n".join(f"{k}:\n{v}" for k, v in bag.import_errors.items())


def test_every_dag_file_yields_a_dag(bag):
    """Safe-mode discovery skips a file that does not mention both 'airflow' and 'dag'; such a
    file would silently define nothing."""
    loaded = {Path(d.fileloc).resolve() for d in bag.dags.values()}
    missing = [p.name for p in DAG_FILES if p.resolve() not in loaded]
    assert not missing, f"DAG files that produced no DAG: {missing}"


def test_dags_serialize(bag):
    from airflow.serialization.serialized_objects import DagSerialization

    for dag_id, dag in bag.dags.items():
        data = DagSerialization.to_dict(dag)
        assert data["dag"]["dag_id"] == dag_id


# Sphinx/reST markup that the UI's Markdown shows as literal text: roles (:func:`x`), ``literals``.
REST_MARKUP = re.compile(r":[a-z]+:`|``")


def test_dag_hygiene(bag):
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    from mfg_indicators.orchestration.common import TAGS, Tag

    problems = []
    for dag_id, dag in sorted(bag.dags.items()):
        if not dag.tags:
            problems.append(f"{dag_id}: no tags")
        if Tag.PROJECT not in dag.tags:
            problems.append(f"{dag_id}: no {Tag.PROJECT!s} tag")
        unknown = sorted(set(dag.tags) - TAGS)
        if unknown:
            problems.append(f"{dag_id}: tags outside the taxonomy (orchestration.common.Tag): {unknown}")
        if not (dag.doc_md or "").strip():
            problems.append(f"{dag_id}: no doc_md")
        elif REST_MARKUP.search(dag.doc_md):
            problems.append(f"{dag_id}: doc_md has reST markup: {REST_MARKUP.search(dag.doc_md).group()!r}")
        elif not dag.doc_md.lstrip().startswith("### " + dag_id):
            problems.append(f"{dag_id}: doc_md does not open with a '### {dag_id}' heading")
        for task in dag.tasks:
            where = f"{dag_id}.{task.task_id}"
            if not task.owner or task.owner == "airflow":
                problems.append(f"{where}: owner is {task.owner!r}")
            if task.task_id in SELF_RETRYING:
                if task.retries:
                    problems.append(f"{where}: retries={task.retries} on top of its own retry policy")
            elif (task.retries or 0) < 1:
                problems.append(f"{where}: retries={task.retries}")
            if not task.retry_exponential_backoff:
                problems.append(f"{where}: no retry_exponential_backoff")
            callbacks = task.on_failure_callback or []
            callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
            if not any(isinstance(cb, SmtpNotifier) for cb in callbacks):
                problems.append(f"{where}: no SmtpNotifier on_failure_callback")
            if getattr(task, "email", None):
                problems.append(f"{where}: deprecated email= argument")
    assert not problems, "\n".join(problems)


_PROBE = r"""
import json, sys, time, importlib.util
# Airflow's own import is not the DAG file's cost: warm up what DAG files use from Airflow.
import airflow.sdk
from airflow.sdk import DAG, Asset, Param, dag, task  # noqa: F401 (resolves the lazy imports)
import airflow.sdk.definitions.timetables.interval, airflow.sdk.definitions.timetables.trigger  # noqa
before = set(sys.modules)
path = sys.argv[1]
spec = importlib.util.spec_from_file_location("dag_file_under_test", path)
mod = importlib.util.module_from_spec(spec)
t0 = time.perf_counter()
spec.loader.exec_module(mod)
elapsed = time.perf_counter() - t0
heavy = sorted({m.split(".")[0] for m in set(sys.modules) - before} & set(json.loads(sys.argv[2])))
print(json.dumps({"seconds": elapsed, "heavy": heavy}))
"""


def _probe(path: Path) -> dict:
    env = dict(os.environ, AIRFLOW__CORE__LOAD_EXAMPLES="False")
    proc = subprocess.run([sys.executable, "-c", _PROBE, str(path), json.dumps(HEAVY_MODULES)],
                          capture_output=True, text=True, env=env, timeout=120, cwd=PROJECT_ROOT)
    assert proc.returncode == 0, f"{path.name}: {proc.stderr[-2000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_dag_files_parse_fast_and_import_nothing_heavy():
    with ThreadPoolExecutor(max_workers=max(1, min(4, (os.cpu_count() or 2) // 2))) as pool:
        results = dict(zip(DAG_FILES, pool.map(_probe, DAG_FILES)))
    report = {p.name: r for p, r in results.items()}
    slow = {n: round(r["seconds"], 3) for n, r in report.items() if r["seconds"] >= PARSE_BUDGET_S}
    heavy = {n: r["heavy"] for n, r in report.items() if r["heavy"]}
    print("parse seconds (Airflow import excluded):",
          {n: round(r["seconds"], 3) for n, r in report.items()})
    assert not heavy, f"heavy modules imported at DAG-file top level: {heavy}"
    assert not slow, f"DAG files over {PARSE_BUDGET_S}s to parse: {slow}"
