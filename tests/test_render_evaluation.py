"""The December bulletin carries the 亩均效益综合评价 class counts (issue 9) — counts only."""

from __future__ import annotations

import re

import pytest

from mfg_indicators.config import load_config
from mfg_indicators.evaluation import evaluate_year, evaluation_summary
from mfg_indicators.render import build_context, render_bulletin
from mfg_indicators.render.context import evaluation_section
from mfg_indicators.sample.bulletin import sample_document, seed_warehouse

CONFIG = load_config()


@pytest.fixture
def evaluated(engine):
    seed_warehouse(engine, CONFIG, "2023-12")
    evaluate_year(engine, CONFIG, 2023)
    return engine


def test_section_only_in_december_and_only_when_evaluated(engine):
    seed_warehouse(engine, CONFIG, "2023-12")
    assert evaluation_section(engine, CONFIG, "2023-12") is None  # nothing evaluated yet
    evaluate_year(engine, CONFIG, 2023)
    assert evaluation_section(engine, CONFIG, "2023-11") is None  # not the December issue
    assert evaluation_section(engine, CONFIG, "2023-12")["year"] == 2023


def test_counts_match_the_evaluation_by_group_and_town(evaluated):
    summary = evaluation_summary(evaluated, CONFIG, 2023)
    sec = evaluation_section(evaluated, CONFIG, "2023-12")
    by_group = {r["name"]: r for r in sec["industry"]}
    for block in summary["by_industry_group"]:
        row = by_group[block["name"]]
        assert [int(row[c.lower()]) for c in "ABCD"] == [block["counts"][c] for c in "ABCD"]
        assert int(row["total"]) == block["total"]
    assert sum(int(r["total"]) for r in sec["town"]) == summary["evaluated"]
    assert f"共评价企业{summary['evaluated']}家" in sec["intro"]
    assert f"D类{summary['by_class']['D']}家" in sec["intro"]


def test_december_word_and_html_show_counts_never_enterprises(evaluated, tmp_path):
    doc = sample_document(CONFIG, "2023-12")
    paths = render_bulletin(evaluated, CONFIG, doc, tmp_path)
    html = paths["html"].read_text(encoding="utf-8")
    assert "（三）亩均效益综合评价分类情况" in html and "D类较上年" in html
    import docx

    word = docx.Document(str(paths["docx"]))
    text = "\n".join(p.text for p in word.paragraphs)
    cells = "\n".join(c.text for t in word.tables for r in t.rows for c in r.cells)
    assert "（三）亩均效益综合评价分类情况" in text and "D类较上年" in cells
    # never an enterprise: the section's rows are industry groups and towns, and its HTML holds no
    # USCC and no registered enterprise name (the data annex lists warnings by USCC by design)
    groups = {g["name"] for g in CONFIG["industry_groups"]} | {CONFIG["industry_default_group"]}
    sec = evaluation_section(evaluated, CONFIG, "2023-12")
    assert {r["name"] for r in sec["industry"]} <= groups
    assert {r["name"] for r in sec["town"]} <= set(CONFIG["towns"])
    part = html[html.index("（三）亩均效益综合评价分类情况"):]
    part = part[:part.index("<h2")]
    assert not re.search(r"[0-9A-HJ-NPQRTUWXY]{18}", part)
    from sqlalchemy import text as sql

    with evaluated.connect() as conn:
        names = [n for (n,) in conn.execute(sql("SELECT DISTINCT name FROM core_registry")) if n]
    assert names and not any(n in part for n in names)


def test_other_months_have_no_section(evaluated):
    ctx = build_context(evaluated, CONFIG, sample_document(CONFIG, "2023-11"))
    assert ctx["evaluation"] is None
