"""The bulletin's sentences in all three formats (the .docx, the PDF's text, the HTML's text):
no placeholder renders empty, the figures are numbered in reading order, status words follow the
indicator's kind, and the phrasing rules of bulletin.md hold — for a mid-year month and for
December (where no figure is 折年)."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from docx import Document

from mfg_indicators import phrasing as ph
from mfg_indicators.config import load_config
from mfg_indicators.render import build_context
from mfg_indicators.render.indicator import indicators_of
from mfg_indicators.sample.bulletin import render_sample

TIME_WORDS = {"已完成目标", "达到序时进度", "略低于序时进度", "明显落后序时进度", "暂无数据"}
TARGET_WORDS = {"达到目标", "接近目标", "低于目标", "暂无数据"}
ALL_WORDS = "|".join(sorted(TIME_WORDS | TARGET_WORDS, key=len, reverse=True))


@pytest.fixture(scope="module")
def config():
    return load_config()


@pytest.fixture(scope="module", params=["2023-06", "2023-12"])
def bulletin(request, tmp_path_factory, config):
    period = request.param
    out = render_sample(config, period, tmp_path_factory.mktemp(f"text-{period}"))
    out.update(period=period, texts=_texts(out["paths"]))
    yield out
    out["engine"].dispose()


def _docx_paragraphs(path: Path) -> list[str]:
    d = Document(str(path))
    out = [p.text for p in d.paragraphs]
    for t in d.tables:
        for row in t.rows:
            out.extend(c.text for c in row.cells)
    return out


def _texts(paths) -> dict[str, str]:
    from inscriptis import get_text
    from pypdf import PdfReader

    pdf = "".join(p.extract_text() for p in PdfReader(str(paths["pdf"])).pages)
    return {
        "docx": "\n".join(_docx_paragraphs(paths["docx"])),
        "pdf": pdf,
        "html": get_text(paths["html"].read_text(encoding="utf-8")),
    }


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


# --- nothing renders empty ------------------------------------------------------------------

EMPTY = [
    ("an operand missing", re.compile(r"=×|×/|=；|=，")),
    ("empty brackets", re.compile(r"（）|\(\)")),
    ("None", re.compile(r"None")),
    ("nan", re.compile(r"(?<![A-Za-z])nan(?![A-Za-z])", re.I)),
    ("doubled punctuation", re.compile(r"[，。；：、][，。；：、]")),
    ("a zero category", re.compile(rf"(?:{ALL_WORDS})0项")),
]


def test_no_placeholder_renders_empty_in_any_format(bulletin):
    for fmt, text in bulletin["texts"].items():
        flat = _squash(text)
        for what, pattern in EMPTY:
            hits = [flat[max(0, m.start() - 20):m.end() + 20] for m in pattern.finditer(flat)]
            assert not hits, (bulletin["period"], fmt, what, hits[:3])


def test_figures_are_numbered_in_reading_order(bulletin):
    for fmt, text in bulletin["texts"].items():
        numbers = [int(n) for n in re.findall(r"图(\d+)(?=\s)", text)]
        # each caption once (the HTML repeats it as the image's alt text, which the text drops)
        firsts = list(dict.fromkeys(numbers))
        assert firsts == [1, 2, 3], (fmt, numbers)
        assert numbers == sorted(numbers), (fmt, numbers)


def test_annex_speaks_chinese(bulletin):
    for fmt, text in bulletin["texts"].items():
        flat = _squash(text)
        assert "校验码（SHA-256前8位）" in flat, fmt
        for jargon in ("sha256", "manifest"):
            assert jargon not in flat.lower(), (fmt, jargon)


# --- status words and phrasing ----------------------------------------------------------------

def test_status_words_follow_the_kind_in_table_and_sentences(bulletin, config):
    ctx = build_context(bulletin["engine"], config, bulletin["doc"])
    kinds = {i["code"]: i["kind"] for i in bulletin["doc"]["indicators"]}
    seen = set()
    for row in ctx["table"]["rows"]:
        allowed = TIME_WORDS if kinds[row["code"]] in ("cumulative", "this_year") else TARGET_WORDS
        assert row["status_word"] in allowed, row
        seen.add(kinds[row["code"]])
    assert seen == {"level", "rate", "annualized", "cumulative", "this_year"}
    sentences = [s for g in ctx["groups"] for s in g["sentences"]]
    for ind in indicators_of(bulletin["doc"], config):
        s = next(x for x in sentences if x.startswith(ind.name))
        assert s.endswith(("，" + ph.status_word(ind.status, ind.kind) + "。", "暂无数据（" + ind.no_data_reason() + "）。")), s
        if ind.kind not in ("cumulative", "this_year") and ind.status != "no_data":
            assert "序时进度。" not in s, s
    # the Word file prints the same words in the table's status cells
    docx = _docx_paragraphs(bulletin["paths"]["docx"])
    assert "达到目标" in docx and "接近目标" in docx and "低于目标" in docx


def test_overview_and_group_summaries(bulletin, config):
    ctx = build_context(bulletin["engine"], config, bulletin["doc"])
    assert not re.search(rf"(?:{ALL_WORDS})0项", ctx["overview"] + "".join(g["summary"] for g in ctx["groups"]))
    lead = config.group_leads["综合协调组"]
    first = ctx["groups"][0]["summary"]
    assert first.startswith(f"本组由{lead}牵头，监测指标4项：") and "牵头单位" not in first
    flat = _squash(bulletin["texts"]["docx"])
    assert f"本组由{lead}牵头，监测指标4项" in flat
    # a month where every indicator has data: 暂无数据 is not listed at all
    doc = copy.deepcopy(bulletin["doc"])
    for ind in doc["indicators"]:
        if ind["status"] == "no_data":
            ind.update(value=ind["target"], progress=1.0, status="done" if ind["kind"] in ("cumulative", "this_year")
                       else "green", as_of=bulletin["period"], notes=[])
    full = build_context(bulletin["engine"], config, doc)
    assert "暂无数据" not in full["overview"] and "0项" not in full["overview"]
    assert full["problems_tail"] == ""


def test_annualized_only_before_december(bulletin, config):
    ctx = build_context(bulletin["engine"], config, bulletin["doc"])
    prose = [ctx["overview"], *ctx["rankings"]["intro"], *ctx["rankings"]["notes"], ctx["table"]["legend"],
             *ctx["problems"], *(s for g in ctx["groups"] for s in g["sentences"]), *ctx["captions"].values()]
    actual = {r["code"]: r["actual"] for r in ctx["table"]["rows"]}
    if bulletin["period"] == "2023-12":
        for s in prose:
            assert "折年" not in s, s
        assert "（折年" not in actual["T03"]
        assert ctx["rankings"]["annual_header"] == "全年"
        for fmt, text in bulletin["texts"].items():
            assert "折年" not in text, fmt
        t03 = next(s for g in ctx["groups"] for s in g["sentences"] if s.startswith("规上工业亩均税收"))
        assert re.match(r"规上工业亩均税收（除钢压延）：1—12月为\d+\.\d\d万元/亩，目标15\.00万元/亩（全年），为目标的", t03), t03
    else:
        assert "（折年" in actual["T03"]
        assert ctx["rankings"]["annual_header"] == "折年"
        assert any("折年值=1—6月数×12/6" in n for n in ctx["rankings"]["notes"])
        t03 = next(s for g in ctx["groups"] for s in g["sentences"] if s.startswith("规上工业亩均税收"))
        assert "，折年" in t03 and "折年值为目标的" in t03


def test_a_share_beside_its_completion_keeps_two_decimals(bulletin, config):
    doc = copy.deepcopy(bulletin["doc"])
    t11 = next(i for i in doc["indicators"] if i["code"] == "T11")  # level, %, target 1
    t11.update(value=0.94, progress=0.94, status="yellow")
    ctx = build_context(bulletin["engine"], config, doc)
    row = next(r for r in ctx["table"]["rows"] if r["code"] == "T11")
    assert (row["actual"], row["progress"], row["status_word"]) == ("0.94", "94.0%", "接近目标")
    sentence = next(s for g in ctx["groups"] for s in g["sentences"] if s.startswith(row["name"]))
    assert "为0.94%" in sentence and "0.9%" not in sentence
