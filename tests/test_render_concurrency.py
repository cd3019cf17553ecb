"""The bulletin's render path runs its warehouse reads at once and draws charts while they run
(render/context.py ``_Reads``, render/__init__.py): the result must be exactly that of a
sequential build, on both dialects, and the outputs byte-identical."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine

from mfg_indicators.render.charts import CHART_KEYS, render_chart, render_charts
from mfg_indicators.config import load_config
from mfg_indicators.render import RenderedBulletin, build_context, render_bulletin
from mfg_indicators.render import context as context_mod
from mfg_indicators.provenance import deliveries_used
from mfg_indicators.render.context import build_context_and_inputs, concurrent_reads_ok
from mfg_indicators.sample.bulletin import sample_document, seed_warehouse
from mfg_indicators.warehouse import connect

PERIOD = "2023-06"


@pytest.fixture(scope="module")
def config():
    return load_config()


def _record_threads(monkeypatch) -> list[str]:
    """Thread names the per-mu read (mart_per_mu, both measures) ran in."""
    seen: list[str] = []
    original = context_mod._per_mu_cells

    def wrapped(*args, **kwargs):
        seen.append(threading.current_thread().name)
        return original(*args, **kwargs)

    monkeypatch.setattr(context_mod, "_per_mu_cells", wrapped)
    return seen


def test_concurrent_context_equals_sequential(engine, config, monkeypatch):
    totals = seed_warehouse(engine, config, PERIOD)
    doc = sample_document(config, PERIOD, per_mu=totals)
    assert concurrent_reads_ok(engine)  # PostgreSQL and a SQLite file: pooled connections

    seen = _record_threads(monkeypatch)
    concurrent, used = build_context_and_inputs(engine, config, doc)
    assert len(seen) == 1 and all(n.startswith("bulletin-read") for n in seen), seen

    seen.clear()
    monkeypatch.setattr(context_mod, "concurrent_reads_ok", lambda _engine: False)
    sequential = build_context(engine, config, doc)
    assert seen == ["MainThread"]

    assert concurrent == sequential  # every string and every chart number
    assert concurrent["rankings"]["industry_total"]["enterprises"] == str(totals["tax_enterprises"])
    # the rows handed to the archive are the annex's deliveries_used read
    assert used == deliveries_used(engine, config, PERIOD)
    assert {r["delivery_id"] for r in used} == set(totals["deliveries"])


def test_in_memory_sqlite_reads_sequentially():
    # a SingletonThreadPool would give each thread its own, empty, in-memory database
    eng = create_engine("sqlite://")
    try:
        assert not concurrent_reads_ok(eng)
    finally:
        eng.dispose()


def test_read_errors_surface(tmp_path, config, monkeypatch):
    eng = connect(f"sqlite:///{tmp_path / 'w.sqlite'}")
    try:
        def broken(*_a, **_k):
            raise RuntimeError("warehouse gone")

        monkeypatch.setattr(context_mod, "roster_and_deliveries", broken)
        with pytest.raises(RuntimeError, match="warehouse gone"):
            build_context(eng, config, sample_document(config, PERIOD))
    finally:
        eng.dispose()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, config):
    root = tmp_path_factory.mktemp("concurrency")
    eng = connect(f"sqlite:///{root / 'wh.sqlite'}")
    totals = seed_warehouse(eng, config, PERIOD)
    yield {"engine": eng, "doc": sample_document(config, PERIOD, per_mu=totals), "root": root}
    eng.dispose()


def test_chart_hook_gets_the_context_data_early(seeded, config):
    calls = []
    ctx, _ = build_context_and_inputs(seeded["engine"], config, seeded["doc"],
                                      on_chart=lambda key, data, fonts: calls.append((key, data, fonts)))
    # growth and status before the rankings are known, per_mu last; the very objects of the context
    assert [k for k, _, _ in calls] == ["growth", "status", "per_mu"]
    for key, data, fonts in calls:
        assert data is ctx["chart_data"][key]
        assert fonts == ctx["fonts"]


def test_charts_drawn_one_by_one_are_the_same_files(seeded, config, tmp_path):
    ctx = build_context(seeded["engine"], config, seeded["doc"])
    together = render_charts(ctx["chart_data"], ctx["fonts"], tmp_path / "together", "b")
    alone = {k: render_chart(k, ctx["chart_data"][k], ctx["fonts"], tmp_path / "alone", "b")
             for k in reversed(CHART_KEYS)}
    for key in CHART_KEYS:
        assert alone[key].name == together[key].name
        assert alone[key].read_bytes() == together[key].read_bytes(), key


def test_render_is_byte_identical_to_a_sequential_render(seeded, config, monkeypatch):
    eng, doc, root = seeded["engine"], seeded["doc"], seeded["root"]
    fast = render_bulletin(eng, config, doc, root / "fast")
    assert isinstance(fast, RenderedBulletin) and fast.period == PERIOD
    assert fast.deliveries_used == deliveries_used(eng, config, PERIOD)

    # sequential reads, renderers imported on first use, charts drawn after the context
    monkeypatch.setattr(context_mod, "concurrent_reads_ok", lambda _engine: False)
    ctx = build_context(eng, config, doc)
    from mfg_indicators.render.docx_renderer import render_docx
    from mfg_indicators.render.html_renderer import render_html, render_pdf

    slow_dir = root / "slow"
    charts = render_charts(ctx["chart_data"], ctx["fonts"], slow_dir, f"bulletin-{PERIOD}")
    html = render_html(ctx, charts)
    pdf = render_pdf(html, slow_dir / f"bulletin-{PERIOD}.pdf")
    docx = render_docx(ctx, charts, slow_dir / f"bulletin-{PERIOD}.docx")

    assert fast["html"].read_text(encoding="utf-8") == html
    assert fast["docx"].read_bytes() == docx.read_bytes()
    assert fast["pdf"].read_bytes() == pdf.read_bytes()
    for key in CHART_KEYS:
        assert fast[f"chart_{key}"].read_bytes() == charts[key].read_bytes(), key


def test_rankings_read_the_cells_the_computation_stored(tmp_path, config, monkeypatch):
    """The 亩均 rankings come from mart_per_mu as compute_indicators wrote it: the render does not
    run the per-mu SQL again, and a change to the core tables after the computation does not
    reach the bulletin until the month is computed again."""
    from mfg_indicators import compute

    eng = connect(f"sqlite:///{tmp_path / 'w.sqlite'}")
    try:
        totals = seed_warehouse(eng, config, PERIOD)  # computes the month
        doc = sample_document(config, PERIOD, per_mu=totals)
        stored = compute.load_per_mu_cells(eng, config, PERIOD)
        assert stored == {m: compute.per_mu_breakdown(eng, config, PERIOD, m) for m in ("tax", "value_added")}
        assert stored["tax"] and stored["value_added"]
        reference = build_context(eng, config, doc)
        assert reference["rankings"]["industry_total"]["enterprises"] == str(totals["tax_enterprises"])

        def no_compute(*_a, **_k):
            raise AssertionError("per-mu SQL run again")

        monkeypatch.setattr(compute, "per_mu_breakdown", no_compute)
        monkeypatch.setattr(compute, "_breakdown", no_compute)
        assert build_context(eng, config, doc) == reference
        monkeypatch.undo()

        with eng.begin() as conn:  # a late change to the core tables, not yet computed
            conn.exec_driver_sql("DELETE FROM core_tax")
        assert build_context(eng, config, doc)["rankings"] == reference["rankings"]
        compute.compute_indicators(eng, config, PERIOD)
        assert compute.load_per_mu_cells(eng, config, PERIOD)["tax"] == []
        assert build_context(eng, config, doc)["rankings"]["industry_total"]["tax"] == "—"
    finally:
        eng.dispose()
