"""validate_frame as a whole: Data Docs, scale, quietness, caching, import cost."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mfg_indicators import feeds, uscc, validate
from mfg_indicators.config import load_config
from mfg_indicators.validate import ValidationRun, collect_results, validate_frame, write_data_docs

from test_expectations import clean_frame

CONFIG = load_config()


def tax_frame(n: int, seed: int = 1) -> pd.DataFrame:
    """n legal tax rows (a province-scale month is ~150,000), as the reader hands them over."""
    rng = np.random.default_rng(seed)
    vat = rng.uniform(0, 500, n).round(2)
    cit = rng.uniform(0, 100, n).round(2)
    oth = rng.uniform(0, 20, n).round(2)
    return pd.DataFrame({
        "uscc": pd.Series([uscc.make(f"9133{i:013d}") for i in range(n)], dtype=object),
        "name": pd.Series([f"企业{i}" for i in range(n)], dtype=object),
        "period": pd.Series(["2023-06"] * n, dtype=object),
        "vat": vat, "cit": cit, "other_tax": oth, "total_tax": (vat + cit + oth).round(2),
        "_row": np.arange(2, n + 2, dtype="int64"),
    })


def test_province_scale_month_validates_in_seconds():
    df = tax_frame(150_000)
    # three planted problems among 150,000 rows
    df.loc[1000, "uscc"] = df.loc[1000, "uscc"][:17] + ("0" if df.loc[1000, "uscc"][17] != "0" else "1")
    df.loc[70_000, "total_tax"] += 5
    df.loc[149_999, ["vat", "cit", "other_tax", "total_tax"]] = [-3.0, 0.0, 0.0, -3.0]
    validate_frame(feeds.TAX, df.head(50), source="tax", file="warm.csv", sheet=None, config=CONFIG)  # warm-up
    t0 = time.perf_counter()
    found = validate_frame(feeds.TAX, df, source="tax", file="全省2023年6月税收.csv", sheet=None, config=CONFIG)
    seconds = time.perf_counter() - t0
    print(f"\nvalidate_frame, 150,000 tax rows: {seconds:.2f} s")
    assert sorted((f.rule, f.row, f.level) for f in found) == [
        ("negative_tax", 150_001, "warning"), ("tax_components_sum", 70_002, "error"),
        ("uscc_check_digit", 1002, "error")]
    assert seconds < 30, f"150,000 rows took {seconds:.1f} s"


def test_many_failing_rows_are_capped_with_a_summary():
    n = validate.MAX_ROW_FINDINGS + 250
    df = tax_frame(n)
    df["vat"] = -1.0
    df["cit"] = df["other_tax"] = 0.0
    df["total_tax"] = -1.0
    found = validate_frame(feeds.TAX, df, source="tax", file="t.csv", sheet=None, config=CONFIG)
    assert all(f.rule == "negative_tax" for f in found)
    assert len([f for f in found if f.row is not None]) == validate.MAX_ROW_FINDINGS
    summary = [f for f in found if f.row is None]
    assert len(summary) == 1 and "另有250行" in summary[0].message and "{" not in summary[0].message
    assert summary[0].level == "warning" and summary[0].column == "税收实际贡献（万元）"


def test_missing_column_is_one_finding_naming_the_header():
    df = clean_frame("tax").drop(columns=["total_tax"])
    found = validate_frame(feeds.TAX, df, source="tax", file="t.csv", sheet=None, config=CONFIG)
    assert [(f.rule, f.level, f.column) for f in found] == [("columns", "error", "税收实际贡献（万元）")]
    assert "缺少列：税收实际贡献（万元）" in found[0].message


def test_frame_without_row_numbers_is_a_programming_error():
    with pytest.raises(ValueError, match="_row"):
        validate_frame(feeds.TAX, clean_frame("tax").drop(columns=["_row"]), source="tax", file="t.csv",
                       sheet=None, config=CONFIG)


def test_findings_use_row_numbers_of_the_file_not_the_frame_index():
    df = clean_frame("registry")
    df.index = [10, 20, 30]  # whatever the reader's index is
    df["_row"] = [7, 9, 12]  # blank lines in the sender's file
    df.loc[20, "town"] = "不存在镇"
    found = validate_frame(feeds.REGISTRY, df, source="registry", file="r.xlsx", sheet="名录", config=CONFIG)
    assert [(f.row, f.column, f.uscc) for f in found] == [(9, "乡镇街道", df.loc[20, "uscc"])]


def test_data_docs_contain_the_suites_and_results(tmp_path):
    bad = clean_frame("tax")
    bad.loc[1, ["vat", "cit", "other_tax", "total_tax"]] = [-2.0, 0.0, 0.0, -2.0]
    with collect_results() as run:
        validate_frame(feeds.TAX, bad, source="tax", file="2023年6月税收.xlsx", sheet="Sheet1", config=CONFIG)
        validate_frame(feeds.REGISTRY, clean_frame("registry"), source="registry", file="名录.csv", sheet=None,
                       config=CONFIG)
    other = ValidationRun()
    validate_frame(feeds.ENERGY, clean_frame("energy"), source="energy", file="能耗.csv", sheet=None,
                   config=CONFIG, collector=other)
    assert len(run) == 2 and len(other) == 1
    index = write_data_docs(run, tmp_path)
    assert index == tmp_path / "data-docs" / "index.html" and index.is_file()
    html = index.read_text(encoding="utf-8")
    assert "tax" in html and "registry" in html and "energy" not in html
    pages = {p.relative_to(tmp_path / "data-docs").parts[0]: p for p in (tmp_path / "data-docs").rglob("*.html")}
    assert "validations" in pages and "expectations" in pages
    tax_pages = [p for p in (tmp_path / "data-docs" / "validations" / "tax").rglob("*.html")]
    assert len(tax_pages) == 1
    page = tax_pages[0].read_text(encoding="utf-8")
    assert "total_tax" in page and "-2" in page  # the failing expectation and its unexpected value


def test_data_docs_accept_a_relative_output_folder(tmp_path, monkeypatch):
    """`mfg-indicators run --out out` (relative) used to fail here: GX wants an absolute folder."""
    run = ValidationRun()
    validate_frame(feeds.ENERGY, clean_frame("energy"), source="energy", file="能耗.csv", sheet=None,
                   config=CONFIG, collector=run)
    monkeypatch.chdir(tmp_path)
    index = write_data_docs(run, Path("out"))
    assert index == tmp_path / "out" / "data-docs" / "index.html" and index.is_file()


def test_gx_runs_quietly(capfd):
    validate_frame(feeds.ENERGY, clean_frame("energy"), source="energy", file="e.csv", sheet=None, config=CONFIG)
    out, err = capfd.readouterr()
    assert "Calculating Metrics" not in out + err and "%|" not in out + err


def test_context_and_suites_are_created_once():
    from mfg_indicators import gx_support

    assert gx_support.get_context() is gx_support.get_context()
    assert validate.get_suite(feeds.TAX, CONFIG) is validate.get_suite(feeds.TAX, CONFIG)
    assert gx_support.batch_definition("tax") is gx_support.batch_definition("tax")


def test_importing_validate_does_not_import_gx_or_pandas():
    code = ("import sys, mfg_indicators.validate; "
            "print(json.dumps(sorted(m for m in ('great_expectations', 'pandas') if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_unknown_placeholder_is_refused():
    with pytest.raises(KeyError, match=r"\$config\.nope"):
        validate.resolve_placeholders({"value_set": "$config.nope"}, {})


def test_every_expectation_has_a_level():
    for name in feeds.TABLES:
        doc = validate.resolved_suite_dict(feeds.TABLES[name], CONFIG)
        assert doc["expectations"] and all(e["meta"]["level"] in ("error", "warning") for e in doc["expectations"])
        strings = []

        def walk(o):
            if isinstance(o, dict):
                [walk(v) for v in o.values()]
            elif isinstance(o, list):
                [walk(v) for v in o]
            elif isinstance(o, str):
                strings.append(o)
        walk(doc["expectations"])
        assert not [x for x in strings if x.startswith("$")]  # every placeholder filled in
