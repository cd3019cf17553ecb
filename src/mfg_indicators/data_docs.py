"""GX Data Docs that a reader can open safely, offline, from one entry page.

GX renders the validation pages (``validate.write_data_docs``); this module makes them fit for a
government network and for hostile data:

- **Feed values are text.** :func:`neutralise` HTML-escapes every string of a validation result
  (unexpected values, their row index, mismatched column names, exception messages) before GX
  renders it: GX puts some of them into the page as HTML, so a delivered value such as
  ``<img src=x onerror=…>`` would otherwise become an element of the page.
- **No asset from the internet.** GX pages load Bootstrap, jQuery, bootstrap-table, Font Awesome,
  Vega … from public CDNs. :func:`make_offline` points jQuery and Bootstrap at copies from an
  installed package (Celery Flower, which Airflow's Celery executor brings: jQuery 3.6, Bootstrap
  5.3) placed in the site's ``static/vendor/``, and drops every other CDN reference — the pages
  are static HTML and stay readable; a few lines of CSS stand in for the status icons. GX's own
  images and styles are already in ``static/``.
- **One entry page.** GX's index page draws its list with bootstrap-table from a CDN (empty
  offline). Every site's ``index.html`` is replaced by a static page listing its validations, and
  ``data-docs/index.html`` lists those of every site under ``data-docs/`` (the CLI's run at the
  top, the feed DAGs' ``feed_<source>/data-docs/`` sites below), rewritten after each site is
  built. (GX's own styles and images are in the site's ``static/``; the badge styles of Bootstrap
  4 that GX's markup uses are added inline, Bootstrap 5 has other names for them.)

Each site keeps a manifest ``validations.json`` (suite, file, sheet, success, counts, page) from
which the entry pages are drawn.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path
from typing import Any

MANIFEST = "validations.json"

# CDN asset (URL prefix) -> file of an installed package, copied to static/vendor/<name>.
_VENDORED = {
    "https://code.jquery.com/jquery-": ("flower", "static/js/jquery-3.6.4.min.js", "jquery.min.js"),
    "https://maxcdn.bootstrapcdn.com/bootstrap/": ("flower", "static/css/bootstrap.min.css", "bootstrap.min.css"),
    "https://stackpath.bootstrapcdn.com/bootstrap/": ("flower", "static/js/bootstrap.bundle.min.js",
                                                      "bootstrap.bundle.min.js"),
}
_SCRIPT = re.compile(r"<script\b[^>]*\bsrc=\"(https?://[^\"]*)\"[^>]*>\s*</script>", re.I)
_LINK = re.compile(r"<link\b[^>]*\bhref=\"(https?://[^\"]*)\"[^>]*/?>", re.I)
_IMG = re.compile(r"<img\b[^>]*\bsrc=\"(https?://[^\"]*)\"[^>]*/?>", re.I)
# Font Awesome is not installed: the status icons GX uses, as characters; and the Bootstrap 4
# badge colours GX's markup names (Bootstrap 5 calls them bg-*).
_OFFLINE_CSS = """<style>
.fas.fa-check-circle::before { content: "\\2714"; }
.fas.fa-times::before, .fas.fa-times-circle::before { content: "\\2716"; }
.fas.fa-exclamation-triangle::before { content: "\\26A0"; }
.badge-secondary { background-color: #6c757d; } .badge-info { background-color: #17a2b8; }
.badge-success { background-color: #28a745; } .badge-danger { background-color: #dc3545; }
.badge-warning { background-color: #ffc107; color: #212529; } .badge-primary { background-color: #007bff; }
</style>"""


def neutralise(value: Any) -> Any:
    """``value`` with every string in it (also dict keys) HTML-escaped; other values unchanged."""
    if isinstance(value, str):
        return html.escape(value, quote=True)
    if isinstance(value, dict):
        return {neutralise(k): neutralise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [neutralise(v) for v in value]
    if isinstance(value, tuple):
        return tuple(neutralise(v) for v in value)
    return value


def _package_file(package: str, rel: str) -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / rel
    return path if path.is_file() else None


def make_offline(site_dir: Path, pages: list[Path]) -> None:
    """Rewrite ``pages`` of the site so they load nothing from the internet (see module doc)."""
    vendor = site_dir / "static" / "vendor"
    local: dict[str, str] = {}
    for prefix, (package, rel, name) in _VENDORED.items():
        src = _package_file(package, rel)
        if src is not None:
            vendor.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, vendor / name)
            local[prefix] = name

    def vendored(url: str) -> str | None:
        return next((name for prefix, name in local.items() if url.startswith(prefix)), None)

    for page in pages:
        text = page.read_text(encoding="utf-8")
        up = Path(*[".."] * (len(page.relative_to(site_dir).parts) - 1)) / "static"
        up_s = up.as_posix()

        def script(m: re.Match) -> str:
            name = vendored(m.group(1))
            return f'<script src="{up_s}/vendor/{name}"></script>' if name else ""

        def link(m: re.Match) -> str:
            name = vendored(m.group(1))
            return f'<link rel="stylesheet" href="{up_s}/vendor/{name}">' if name else ""

        def img(m: re.Match) -> str:
            return f'<img src="{up_s}/images/logo-long.png" alt="Great Expectations">' \
                if "logo-long" in m.group(1) else ""

        # GX writes some of the site's own static/ paths one level short on deep pages (favicon)
        text = re.sub(r'((?:src|href)=")(?:\./|(?:\.\./)+)?static/', lambda m: f"{m.group(1)}{up_s}/", text)
        text = _SCRIPT.sub(script, text)
        text = _LINK.sub(link, text)
        text = _IMG.sub(img, text)
        # Bootstrap 5 reads data-bs-*: keep GX's collapsible sections working
        text = text.replace('data-toggle="collapse"', 'data-toggle="collapse" data-bs-toggle="collapse"')
        text = text.replace("</head>", _OFFLINE_CSS + "\n</head>", 1)
        page.write_text(text, encoding="utf-8")


def write_manifest(site_dir: Path, entries: list[dict[str, Any]]) -> None:
    (site_dir / MANIFEST).write_text(json.dumps(entries, ensure_ascii=False, indent=1), encoding="utf-8")


def _entries_under(root: Path) -> list[tuple[str, dict[str, Any]]]:
    """(site folder relative to root, entry) of every site manifest under ``root``."""
    out = []
    for manifest in sorted(root.rglob(MANIFEST)):
        site = manifest.parent.relative_to(root).as_posix()
        for e in json.loads(manifest.read_text(encoding="utf-8")):
            out.append(("" if site == "." else site, e))
    return out


_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{{ title }}</title>
<style>
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; width: 100%; } th, td { border: 1px solid #ccc; padding: .35em .6em; text-align: left; }
th { background: #ddebf7; } .ok { color: #2e7d32; } .fail { color: #c62828; font-weight: bold; }
</style></head><body>
<h1>{{ title }}</h1>
<p>每份报送文件在入库前按其数据表的校验规则（Great Expectations）检查；下表列出本目录下各次运行的校验结果，点击文件名查看明细。</p>
{% if not rows %}<p>尚无校验结果。</p>{% else %}
<table id="validations">
<thead><tr><th>运行</th><th>数据表</th><th>文件</th><th>工作表</th><th>结果</th><th>规则（通过/总数）</th><th>校验时间</th></tr></thead>
<tbody>
{% for r in rows %}<tr class="validation">
<td>{{ r.run }}</td><td><a href="{{ r.suite_href }}">{{ r.suite }}</a></td>
<td><a href="{{ r.href }}">{{ r.file }}</a></td><td>{{ r.sheet or "—" }}</td>
<td class="{{ 'ok' if r.success else 'fail' }}">{{ "通过" if r.success else "未通过" }}</td>
<td>{{ r.successful }}/{{ r.evaluated }}</td><td>{{ r.run_time }}</td></tr>
{% endfor %}</tbody></table>{% endif %}
</body></html>
"""


def write_index(root: Path, title: str = "数据校验报告（Data Docs）") -> Path:
    """(Re)write ``root/index.html``: every validation of every site under ``root``."""
    import jinja2

    from urllib.parse import quote

    rows = []
    for site, e in _entries_under(root):
        base = f"{site}/" if site else ""
        rows.append({**e, "run": site.removesuffix("/data-docs") or e.get("run_name") or "",
                     "href": quote(base + e["page"]), "suite_href": quote(base + e["suite_page"])})
    rows.sort(key=lambda r: (str(r["run"]), str(r.get("run_time") or ""), str(r["page"])))
    env = jinja2.Environment(autoescape=True)
    out = root / "index.html"
    out.write_text(env.from_string(_PAGE).render(title=title, rows=rows), encoding="utf-8")
    return out
