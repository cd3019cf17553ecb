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
