"""Another county's plan is a new configuration file, not new code (README): the bulletin of
tests/fixtures/plan-songyang.yaml — another county, plan document, window, targets, towns, task
groups, industry groups, headline figures and issue numbering — speaks only of that county."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from mfg_indicators.config import load_config
from mfg_indicators.render import build_context
from mfg_indicators.sample.bulletin import render_sample

PLAN = Path(__file__).parent / "fixtures" / "plan-songyang.yaml"
PERIOD = "2023-06"


@pytest.fixture(scope="module")
def plan():
    return load_config(PLAN)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, plan):
    out = render_sample(plan, PERIOD, tmp_path_factory.mktemp("songyang"))
    out["ctx"] = build_context(out["engine"], plan, out["doc"])
    yield out
    out["engine"].dispose()


def test_the_plan_differs_from_the_default(plan):
    default = load_config()
    assert plan.county != default.county and plan.document != default.document
    assert plan.window_start != default.window_start and plan.window_months != default.window_months
    assert plan["towns"] != default["towns"]
    assert [g["name"] for g in plan["groups"]] != [g["name"] for g in default["groups"]]
    assert plan["bulletin"]["headline_codes"] != default["bulletin"]["headline_codes"]
    assert {i["code"]: i["target"] for i in plan.indicators} != {i["code"]: i["target"] for i in default.indicators}


def test_no_word_of_the_default_county(rendered):
    from pypdf import PdfReader

    paths = rendered["paths"]
    with zipfile.ZipFile(paths["docx"]) as z:
        docx_xml = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
    texts = {
        "docx": docx_xml,
        "html": paths["html"].read_text(encoding="utf-8"),
        "pdf": "".join(p.extract_text() for p in PdfReader(str(paths["pdf"])).pages),
        "subject": rendered["ctx"]["subject"],
    }
    for fmt, text in texts.items():
        for word in ("云和", "钢压延", "木玩", "云政发", "低效整治攻坚组"):
            assert word not in text, (fmt, word)
        assert "松阳县" in text, fmt


def test_the_bulletin_follows_the_plan(rendered, plan):
    ctx = rendered["ctx"]
    bcfg = plan["bulletin"]
    assert ctx["title"] == bcfg["title"] and ctx["title_lines"] == bcfg["title_lines"]
    assert ctx["issue_no"] == "第4期"  # continuous numbering from 2023-03
    assert ctx["subject"] == "【进展通报】松阳县制造业“腾笼换鸟、凤凰涅槃”攻坚行动（2023年第4期）"
    # headline figures in the plan's order: growth, labour productivity, per-mu tax — not per-mu value added
    overview = ctx["overview"]
    at = [overview.find(s) for s in ("规上工业增加值同比增长", "规上工业全员劳动生产率", "规上工业亩均税收（除不锈钢）")]
    assert -1 not in at and at == sorted(at), at
    assert "亩均增加值" not in overview
    assert "低于目标3.6个百分点" in overview  # 8.4 % against this plan's 12 %
    # the plan window (2022-01 .. 2025-12): 18 of 48 months
    t07 = next(r for r in ctx["table"]["rows"] if r["code"] == "T07")
    assert (t07["target"], t07["time_progress"]) == ("20", "37.5%")
    assert [g["name"] for g in ctx["groups"]] == [g["name"] for g in plan["groups"]]
    assert ctx["groups"][1]["summary"].startswith("本组由松阳工业园区牵头")
    assert {r["name"] for r in ctx["rankings"]["town"]} == set(plan["towns"])
    assert [r["name"] for r in ctx["rankings"]["apart"]] == ["不锈钢"]
    assert re.search(r"不锈钢不计入亩均税收、亩均增加值目标", "".join(ctx["rankings"]["intro"]))
