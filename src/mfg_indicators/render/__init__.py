"""The monthly 进展情况通报 (shared/spec/bulletin.md) in Word, PDF and HTML from one context.

Public API (wired by the CLI ``run`` and the monthly DAG — one code path):

    build_context(engine, config, document) -> dict
    build_context_and_inputs(engine, config, document, *, on_chart=None)
        -> (dict, deliveries_used rows)
    render_bulletin(engine, config, document, out_dir)
        -> RenderedBulletin (a dict key -> Path)

``render_bulletin`` writes ``bulletin-YYYY-MM.docx``, ``.pdf``, ``.html`` and the chart PNGs
``bulletin-YYYY-MM-{growth,per_mu,status}.png`` into ``out_dir`` and returns them by key
(docx, pdf, html, chart_growth, chart_per_mu, chart_status). Delivery and archiving are in
mfg_indicators.deliver. Heavy imports (docxtpl, WeasyPrint, matplotlib) happen inside the
functions, so importing this package is cheap (DAG files).

Time (province scale): the context is mostly waiting on the warehouse, so ``render_bulletin``
imports matplotlib, WeasyPrint and docxtpl in a helper thread meanwhile (:func:`preload`) and
draws each chart as soon as its data is final (growth and status before the per-mu rankings
have been read; ``build_context_and_inputs(on_chart=...)``). The
returned mapping also carries the ``deliveries_used`` rows the context read, which
``deliver.archive_bulletin`` takes instead of scanning the core tables a second time.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Mapping

from .context import build_context, build_context_and_inputs

__all__ = ["build_context", "build_context_and_inputs", "render_bulletin", "output_name",
           "RenderedBulletin", "Preload", "preload"]


def output_name(period: str, suffix: str) -> str:
    """``bulletin-2023-06.docx`` — ASCII names (attachments, archive)."""
    return f"bulletin-{period}{suffix}"


class RenderedBulletin(dict):
    """key -> Path of the rendered files (a plain dict to every caller), plus the inputs the
    bulletin was built from: ``period`` and ``deliveries_used`` (the rows of
    context.deliveries_used) for the archive manifest."""

    def __init__(self, paths: Mapping[str, Path], *, period: str,
                 deliveries_used: list[dict[str, Any]] | None = None):
        super().__init__(paths)
        self.period = period
        self.deliveries_used = deliveries_used


class Preload:
    """The renderers (matplotlib, WeasyPrint, docxtpl: ~1.5-2 s of a fresh process) imported in
    a daemon thread, charts first. ``wait_charts()`` returns once matplotlib is in (charts can
    be drawn), ``join()`` once everything is. An import error is not raised here: the
    renderer's own import raises it again."""

    def __init__(self) -> None:
        self.charts_ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="bulletin-preload", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            from . import charts  # noqa: F401  (matplotlib, Agg)
        except Exception:  # noqa: BLE001
            pass
        finally:
            self.charts_ready.set()
        try:
            import weasyprint  # noqa: F401
            import docxtpl  # noqa: F401
        except Exception:  # noqa: BLE001
            pass

    def wait_charts(self) -> None:
        self.charts_ready.wait()

    def join(self) -> None:
        self.thread.join()


def preload() -> Preload:
    """Start importing the renderers in the background (see :class:`Preload`)."""
    return Preload()


def render_bulletin(engine, config, document: Mapping[str, Any], out_dir: Path) -> RenderedBulletin:
    """Write the bulletin files (see module docstring)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    period = document["period"]
    loading = preload()  # overlaps the warehouse reads of the context
    drawn: dict[str, Path] = {}

    def draw(key: str, data: Mapping[str, Any], fonts: Mapping[str, str]) -> None:
        # each chart as soon as its data is final: growth and status while the rankings are read
        loading.wait_charts()
        from .charts import render_chart

        drawn[key] = render_chart(key, data, fonts, out_dir, output_name(period, ""))

    ctx, used = build_context_and_inputs(engine, config, document, on_chart=draw)
    loading.join()

    from .charts import CHART_KEYS
    from .docx_renderer import render_docx
    from .html_renderer import render_html, render_pdf

    charts = {k: drawn[k] for k in CHART_KEYS}
    html = render_html(ctx, charts)
    html_path = out_dir / output_name(period, ".html")
    html_path.write_text(html, encoding="utf-8")
    pdf_path = render_pdf(html, out_dir / output_name(period, ".pdf"))
    docx_path = render_docx(ctx, charts, out_dir / output_name(period, ".docx"))
    paths: dict[str, Path] = {"docx": docx_path, "pdf": pdf_path, "html": html_path}
    paths.update({f"chart_{k}": p for k, p in charts.items()})
    return RenderedBulletin(paths, period=period, deliveries_used=used)
