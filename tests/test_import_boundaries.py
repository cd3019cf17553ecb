"""The domain package needs no Airflow: importing any module of mfg_indicators outside
``orchestration/`` loads no ``airflow`` module (the CLI, the benchmark and the tests run the same
stage functions without the scheduler's stack). And ``orchestration/`` is where the Airflow code
is: its modules do load Airflow, so the check above is not vacuous."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import mfg_indicators

# Imports each named module in turn in a fresh interpreter and reports, per module, the airflow
# modules that appeared in sys.modules with it.
_PROBE = r"""
import importlib, json, sys
out = {}
for name in json.loads(sys.argv[1]):
    before = {m for m in sys.modules if m == "airflow" or m.startswith("airflow.")}
    importlib.import_module(name)
    after = {m for m in sys.modules if m == "airflow" or m.startswith("airflow.")}
    out[name] = sorted(after - before)
print(json.dumps(out))
"""


def _modules(*, orchestration: bool) -> list[str]:
    names = [m.name for m in pkgutil.walk_packages(mfg_indicators.__path__, "mfg_indicators.")]
    inside = [n for n in names if n.startswith("mfg_indicators.orchestration")]
    return inside if orchestration else ["mfg_indicators", *(n for n in names if n not in inside)]


def _probe(names: list[str]) -> dict[str, list[str]]:
    proc = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(names)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_domain_modules_import_no_airflow():
    names = _modules(orchestration=False)
    # the modules that had pulled Airflow in, among others that must stay covered
    for expected in ("mfg_indicators.alerts", "mfg_indicators.deadlines", "mfg_indicators.settings",
                     "mfg_indicators.deliver", "mfg_indicators.http_pull", "mfg_indicators.pipeline",
                     "mfg_indicators.cli", "mfg_indicators.sample.inbox"):
        assert expected in names
    loaded = _probe(names)
    offenders = {name: mods[:5] for name, mods in loaded.items() if mods}
    assert not offenders, f"domain modules that import Airflow: {offenders}"


def test_orchestration_is_where_airflow_is_imported():
    loaded = _probe(["mfg_indicators.orchestration.common"])
    assert "airflow.providers.smtp.notifications.smtp" in loaded["mfg_indicators.orchestration.common"]


# --- Great Expectations (~3 s to import) only where something is validated ------------------

_GX_PROBE = _PROBE.replace('m == "airflow" or m.startswith("airflow.")',
                           'm == "great_expectations" or m.startswith("great_expectations.")')


def test_only_gx_support_imports_great_expectations():
    # compute, render, deliver, document, the CLI, the DAG-side modules: none loads GX on import;
    # validate.py imports it inside the functions that validate or write Data Docs
    names = [n for n in _modules(orchestration=False) if n != "mfg_indicators.gx_support"]
    for expected in ("mfg_indicators.validate", "mfg_indicators.data_docs", "mfg_indicators.ingest",
                     "mfg_indicators.month", "mfg_indicators.compute", "mfg_indicators.render",
                     "mfg_indicators.deliver", "mfg_indicators.pipeline", "mfg_indicators.cli"):
        assert expected in names
    proc = subprocess.run([sys.executable, "-c", _GX_PROBE, json.dumps(names)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    offenders = {name: mods[:5] for name, mods in loaded.items() if mods}
    assert not offenders, f"modules that import great_expectations: {offenders}"
    loaded = _probe_gx(["mfg_indicators.gx_support"])
    assert "great_expectations" in loaded["mfg_indicators.gx_support"]  # the probe sees GX


def _probe_gx(names: list[str]) -> dict[str, list[str]]:
    proc = subprocess.run([sys.executable, "-c", _GX_PROBE, json.dumps(names)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# A process that validates a delivery pickles what it collected for Data Docs (the read-ahead
# process of ingest_inbox does); its parent unpickles it without importing GX, and GX objects are
# rebuilt from it only when the Data Docs are written.
_VALIDATE_AND_PICKLE = r"""
import pickle, sys
sys.path.insert(0, sys.argv[2])
from test_validate import tax_frame
from mfg_indicators import feeds, validate
from mfg_indicators.config import load_config
df = tax_frame(50)
df.loc[3, "total_tax"] = -1.0
run = validate.ValidationRun()
validate.validate_frame(feeds.TAX, df, source="tax", file="t.csv", sheet=None, config=load_config(),
                        collector=run)
open(sys.argv[1], "wb").write(pickle.dumps(run))
"""

_UNPICKLE = r"""
import json, pickle, sys
run = pickle.loads(open(sys.argv[1], "rb").read())
item = run.results[0]
out = {"gx_after_unpickle": "great_expectations" in sys.modules, "success": item.success,
       "suite": item.suite_name, "evaluated": item.statistics.get("evaluated_expectations")}
from mfg_indicators.validate import write_data_docs
index = write_data_docs(run, sys.argv[2])
out["index"] = str(index)
out["gx_after_docs"] = "great_expectations" in sys.modules
print(json.dumps(out))
"""


def test_collected_results_unpickle_without_gx(tmp_path):
    from pathlib import Path

    tests_dir = str(Path(__file__).parent)
    blob = tmp_path / "run.pickle"
    proc = subprocess.run([sys.executable, "-c", _VALIDATE_AND_PICKLE, str(blob), tests_dir],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = subprocess.run([sys.executable, "-c", _UNPICKLE, str(blob), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["gx_after_unpickle"] is False
    assert out["success"] is False and out["suite"] == "tax" and out["evaluated"] > 10
    assert out["gx_after_docs"] is True and Path(out["index"]).is_file()
    pages = list((tmp_path / "out" / "data-docs" / "validations").rglob("*.html"))
    assert len(pages) == 1 and "total_tax" in pages[0].read_text(encoding="utf-8")
