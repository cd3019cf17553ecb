"""The bulletin's SQL (include/sql/bulletin) on both warehouse dialects: the same context from
the same warehouse state on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from mfg_indicators import phrasing as ph
from mfg_indicators.config import load_config
from mfg_indicators.render import build_context
from mfg_indicators.provenance import deliveries_used
from mfg_indicators.sample.bulletin import sample_document, seed_warehouse
from mfg_indicators.warehouse import connect

PERIOD = "2023-06"


@pytest.fixture(scope="module")
def config():
    return load_config()


@pytest.fixture(scope="module")
def reference(tmp_path_factory, config):
    """The context built from an SQLite warehouse."""
    eng = connect(f"sqlite:///{tmp_path_factory.mktemp('ref') / 'w.sqlite'}")
    totals = seed_warehouse(eng, config, PERIOD)
    ctx = build_context(eng, config, sample_document(config, PERIOD, per_mu=totals))
    eng.dispose()
    return ctx


def test_context_from_each_dialect(engine, config, reference):
    totals = seed_warehouse(engine, config, PERIOD)
    doc = sample_document(config, PERIOD, per_mu=totals)
    ctx = build_context(engine, config, doc)

    # rankings: Σ tax ÷ Σ land over the evaluated set, as computed independently in Python
    assert ctx["rankings"]["industry_total"]["tax"] == ph.fixed(totals["tax_per_mu"], 2)
    assert ctx["rankings"]["industry_total"]["va"] == ph.fixed(totals["va_per_mu"], 2)
    # the enterprises behind the 亩均税收 figure (evaluated set with every month reported)
    assert ctx["rankings"]["industry_total"]["enterprises"] == str(totals["tax_enterprises"])

    # growth series: 2023 without January, 2022 complete for the same months
    g = ctx["chart_data"]["growth"]
    assert g["values"] == [None, 6.8, 7.5, 7.9, 8.1, 8.4]
    assert g["prev_values"] == [9.8, 10.5, 11.2, 12.0, 12.4, 12.9]
    assert g["target"] == 15

    # annex: this month's deliveries listed with their 校验码 (the SHA-256's first 8 hex digits);
    # warnings from the warehouse with amounts redacted
    rows = ctx["annex"]["deliveries"]
    assert rows and all(len(r["sha"]) == 8 for r in rows)
    assert {r["sha"] for r in rows} == {d[:8] for d in totals["deliveries"]
                                         if d[:8] in {r["sha"] for r in rows}}
    assert ctx["annex"]["sha_label"] == "校验码（SHA-256 前8位）"
    assert any(r["source"] == "县税务局·税收" and r["periods"] == "2023年6月" for r in rows)
    assert any(r["source"].endswith("企业名录") and r["periods"] == "2023年名录" for r in rows)
    assert "另沿用此前报送的数据" in ctx["annex"]["deliveries_note"]
    messages = [w["message"] for w in ctx["annex"]["warnings"]]
    assert "税收实际贡献为负数（＊万元），属退税月份，请核实" in messages
    assert "研发费用（R&D）超过营业收入的10%，请核实" in messages

    # every delivery of the sample is read by the period's figures
    used = {r["delivery_id"] for r in deliveries_used(engine, config, PERIOD)}
    assert used == set(totals["deliveries"])

    # and the whole context is the same as from SQLite: every phrased string exactly, the
    # chart numbers up to float summation order
    strip = lambda c: {k: v for k, v in c.items() if k != "chart_data"}  # noqa: E731
    assert strip(ctx) == strip(reference)
    for key in ("tax", "va"):
        got, ref = ctx["chart_data"]["per_mu"][key], reference["chart_data"]["per_mu"][key]
        assert [v is None for v in got] == [v is None for v in ref]
        assert [v for v in got if v is not None] == pytest.approx([v for v in ref if v is not None], rel=1e-9)
    assert ctx["chart_data"]["growth"] == reference["chart_data"]["growth"]
    assert ctx["chart_data"]["status"] == reference["chart_data"]["status"]


def test_empty_warehouse_gives_no_figures_not_zeros(engine, config):
    doc = sample_document(config, PERIOD)
    ctx = build_context(engine, config, doc)
    r = ctx["rankings"]
    assert all(x["tax"] == "—" and x["va"] == "—" for x in r["industry"] + r["town"] + r["apart"])
    assert "暂无可用于亩均效益评价" in r["intro"][0]
    assert ctx["annex"]["deliveries"] == []
    assert ctx["chart_data"]["growth"]["values"] == [None] * 6
