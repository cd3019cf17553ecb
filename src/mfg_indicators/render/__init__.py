"""The monthly 进展情况通报 (shared/spec/bulletin.md) in Word, PDF and HTML from one context.

Public API (wired by the CLI ``run`` and the monthly DAG — one code path):

    build_context(engine, config, document) -> dict
    render_bulletin(engine, config, document, out_dir) -> dict[str, Path]

``render_bulletin`` writes ``bulletin-YYYY-MM.docx``, ``.pdf``, ``.html`` and the chart PNGs
``bulletin-YYYY-MM-{growth,per_mu,status}.png`` into ``out_dir`` and returns them by key
(docx, pdf, html, chart_growth, chart_per_mu, chart_status). Delivery and archiving are in
mfg_indicators.deliver. Heavy imports (docxtpl, WeasyPrint, matplotlib) happen inside the
functions, so importing this package is cheap (DAG files).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from .context import build_context

__all__ = ["build_context", "render_bulletin", "output_name"]


def output_name(period: str, suffix: str) -> str:
    """``bulletin-2023-06.docx`` — ASCII names (attachments, archive)."""
    return f"bulletin-{period}{suffix}"


def render_bulletin(engine, config, document: Mapping[str, Any], out_dir: Path) -> dict[str, Path]:
    from ..charts import render_charts
    from .docx_renderer import render_docx
    from .html_renderer import render_html, render_pdf

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    period = document["period"]
    ctx = build_context(engine, config, document)
    charts = render_charts(ctx["chart_data"], ctx["fonts"], out_dir, output_name(period, ""))
    html = render_html(ctx, charts)
    html_path = out_dir / output_name(period, ".html")
    html_path.write_text(html, encoding="utf-8")
    pdf_path = render_pdf(html, out_dir / output_name(period, ".pdf"))
    docx_path = render_docx(ctx, charts, out_dir / output_name(period, ".docx"))
    paths: dict[str, Path] = {"docx": docx_path, "pdf": pdf_path, "html": html_path}
    paths.update({f"chart_{k}": p for k, p in charts.items()})
    return paths
