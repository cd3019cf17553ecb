"""`mfg-indicators run` end to end on the sample inbox: outputs, exit codes, reruns, rejections."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mfg_indicators.config import load_config

CLI = str(Path(sys.executable).parent / "mfg-indicators")
CONFIG = load_config()


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def sample_inbox(tmp_path_factory) -> Path:
    inbox = tmp_path_factory.mktemp("cli") / "inbox"
    r = _run("sample", "--out", str(inbox))
    assert r.returncode == 0, r.stderr
    return inbox


@pytest.fixture(scope="module")
def first_run(sample_inbox, tmp_path_factory):
    work = tmp_path_factory.mktemp("cli-run")
    wh = f"sqlite:///{work / 'wh.sqlite'}"
    r = _run("run", "--period", "2023-12", "--inbox", str(sample_inbox), "--warehouse", wh,
             "--out", str(work / "out"))
    return work, wh, r


def test_run_writes_every_output_and_every_code(first_run):
    work, _, r = first_run
    assert r.returncode == 0, r.stderr[-3000:]
    out = work / "out"
    for name in ("indicators-2023-12.json", "bulletin-2023-12.docx", "bulletin-2023-12.pdf",
                 "bulletin-2023-12.html", "bulletin-2023-12.eml"):
        assert (out / name).stat().st_size > 0, name
    # GX Data Docs of the run's validations, one result page per validated table
    docs = out / "data-docs"
    assert "tax" in (docs / "index.html").read_text(encoding="utf-8")
    assert len(list((docs / "validations").rglob("*.html"))) >= 160
    doc = json.loads((out / "indicators-2023-12.json").read_text(encoding="utf-8"))
    assert [i["code"] for i in doc["indicators"]] == [i["code"] for i in CONFIG.indicators]
    statuses = {i["status"] for i in doc["indicators"]}
    assert {"green", "yellow", "red", "done"} <= statuses  # mixed, as in a real county
    assert doc["rejected"] == []
    # the sample's deliberate imperfections come back as warnings, by USCC
    rules = {w.get("rule") for w in doc["warnings"]}
    assert "not_in_registry" in rules  # the enterprise the sample leaves out of the registry
    assert all(w["uscc"] for w in doc["warnings"] if w.get("rule") == "not_in_registry")
    # each stage is reported with its time
    for stage in ("extract · validate · load", "compute indicators", "render bulletin", "deliver bulletin"):
        assert f"✓ {stage}" in r.stderr


def test_rerun_is_identical(first_run, sample_inbox):
    work, wh, _ = first_run
    out = work / "out"
    before = (out / "indicators-2023-12.json").read_text(encoding="utf-8")
    r = _run("run", "--period", "2023-12", "--inbox", str(sample_inbox), "--warehouse", wh, "--out", str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    assert "0 accepted" in r.stderr and "duplicate" in r.stderr  # nothing loaded twice
    assert (out / "indicators-2023-12.json").read_text(encoding="utf-8") == before


def test_rejected_delivery_exit_2_outputs_still_written(first_run, sample_inbox, tmp_path):
    work, wh, _ = first_run
    inbox = tmp_path / "inbox"
    shutil.copytree(sample_inbox, inbox)
    bad = inbox / "tax" / "2023年12月补报.csv"
    bad.write_text("统一社会信用代码,纳税人名称,所属期,增值税（万元）,企业所得税（万元）,其他税费（万元）,税收实际贡献（万元）\n"
                   "913311250000000000,坏数据,2023-13,1,1,1,3\n", encoding="utf-8")
    out = tmp_path / "out"
    for _ in range(2):  # the CLI leaves the inbox alone: a rerun reports the rejection again
        r = _run("run", "--period", "2023-12", "--inbox", str(inbox), "--warehouse", wh, "--out", str(out),
                 "--quarantine", str(tmp_path / "quarantine"))
        assert r.returncode == 2, r.stderr[-3000:]
        doc = json.loads((out / "indicators-2023-12.json").read_text(encoding="utf-8"))
        assert doc["rejected"], "the rejection is listed"
        assert {d["file"] for d in doc["rejected"]} == {bad.name}
        assert all(set(d) == {"file", "sheet", "row", "column", "reason"} for d in doc["rejected"])
        assert (out / "bulletin-2023-12.pdf").exists()
    assert bad.exists()  # still in the inbox
    assert any(p.name.endswith(bad.name) for p in (tmp_path / "quarantine").rglob("*"))
