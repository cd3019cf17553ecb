"""HTML (the e-mail body) and PDF (WeasyPrint, from the same HTML).

The Jinja environment autoescapes everything: a feed value containing ``<script>`` prints as
text. Charts are embedded as ``data:`` URIs so the .html file stands alone; the e-mail turns
them into ``cid:`` parts (mfg_indicators.deliver). WeasyPrint embeds subsets of the fonts the
CSS names — the families resolved from config ``fonts``.

One template, two media: WeasyPrint lays the PDF out for print, so what the template adds for
screens (the viewport meta, ``@media screen`` rules for a page-width sheet and for phones, the
boxes wide tables scroll in) leaves the PDF as it is (tests/test_html_phone.py checks both).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, Mapping

from ..paths import TEMPLATES_DIR

HTML_TEMPLATE = "bulletin.html.j2"


def _env(templates_dir: Path):
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(loader=FileSystemLoader(str(templates_dir)), autoescape=True,
                       undefined=StrictUndefined, keep_trailing_newline=True)


def data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def render_html(context: Mapping[str, Any], charts: Mapping[str, Path], *,
                templates_dir: Path | None = None) -> str:
    ctx = dict(context)
    ctx["images"] = {k: data_uri(p) for k, p in charts.items()}
    return _env(templates_dir or TEMPLATES_DIR).get_template(HTML_TEMPLATE).render(**ctx)


def render_pdf(html: str, out_path: Path, *, base_url: str | None = None) -> Path:
    from weasyprint import HTML

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    HTML(string=html, base_url=base_url or str(out_path.parent)).write_pdf(str(out_path))
    return out_path
