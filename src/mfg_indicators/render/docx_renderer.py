"""Word: the docxtpl template include/templates/bulletin.docx (built by
scripts/make_docx_template.py, restylable by the office) rendered from the context.

- ``autoescape=True``: feed strings such as "R&D" or ``<script>`` print as text;
- charts are InlineImages, 150 mm wide;
- after rendering, every style and every run gets explicit font names — the East-Asian one
  (``w:eastAsia``, which python-docx never sets) from the role of its paragraph style (title,
  heading 一、, subheading （一）, body, page number): each role's first configured font
  (context ``office_fonts``), since the file is opened on the office's PCs;
- the zip is written with fixed timestamps and the core properties dated with the issue date,
  so the same context gives the same file.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any, Mapping

from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from ..paths import TEMPLATES_DIR

DOCX_TEMPLATE = TEMPLATES_DIR / "bulletin.docx"
LATIN = "Times New Roman"
CHART_WIDTH_MM = 150

# paragraph style name -> font role (config fonts); anything else is body text
ROLE_BY_STYLE = {
    "Title": "title",
    "Bulletin Title": "title",
    "Bulletin Annex Title": "title",
    "Heading 1": "heading",
    "Bulletin Annex Label": "heading",
    "Bulletin Table Header": "heading",
    "Heading 2": "subheading",
    "Bulletin Page Number Odd": "page_number",
    "Bulletin Page Number Even": "page_number",
}
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def set_rfonts(rpr, east_asia: str, latin: str | None = None) -> None:
    """Explicit font names on an rPr element, the East-Asian one included (python-docx sets only
    Latin names); theme fonts are removed because they would win. With ``latin``, the Latin
    names are set too; without, existing ones are kept (default LATIN). Used by the renderer on
    every run and by scripts/make_docx_template.py on the template's styles."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    if latin is not None:
        for attr in ("w:ascii", "w:hAnsi", "w:cs"):
            rfonts.set(qn(attr), latin)
    else:
        rfonts.set(qn("w:ascii"), rfonts.get(qn("w:ascii")) or LATIN)
        rfonts.set(qn("w:hAnsi"), rfonts.get(qn("w:hAnsi")) or LATIN)
    rfonts.set(qn("w:eastAsia"), east_asia)


def _rpr_of(run_el):
    rpr = run_el.find(qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        run_el.insert(0, rpr)
    return rpr


def apply_fonts(document, fonts: Mapping[str, str]) -> int:
    """Set font names on every paragraph/character style and on every run (body, tables,
    headers, footers). Returns the number of runs touched."""
    names_by_id = {}
    for st in document.styles:
        names_by_id[st.style_id] = st.name
        el = st.element
        if el.get(qn("w:type")) in ("paragraph", "character", "table"):
            role = ROLE_BY_STYLE.get(st.name, "body")
            set_rfonts(_rpr_of_style(el), fonts[role])
    defaults = document.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr_default = defaults.find(qn("w:rPrDefault"))
        if rpr_default is not None and rpr_default.find(qn("w:rPr")) is not None:
            set_rfonts(rpr_default.find(qn("w:rPr")), fonts["body"])

    roots = [document.element.body]
    # headers and footers through the relationships: docxtpl replaces those parts when it
    # renders them, and python-docx's section accessors may still hold the old ones
    for rel in document.part.rels.values():
        if not rel.is_external and rel.reltype.rsplit("/", 1)[-1] in ("header", "footer"):
            roots.append(rel.target_part.element)
    touched = 0
    for root in roots:
        for p in root.iter(qn("w:p")):
            ppr = p.find(qn("w:pPr"))
            style_id = None
            if ppr is not None and ppr.find(qn("w:pStyle")) is not None:
                style_id = ppr.find(qn("w:pStyle")).get(qn("w:val"))
            role = ROLE_BY_STYLE.get(names_by_id.get(style_id, "Normal"), "body")
            for r in p.iter(qn("w:r")):
                set_rfonts(_rpr_of(r), fonts[role])
                touched += 1
    return touched


def _rpr_of_style(style_el):
    rpr = style_el.find(qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        style_el.append(rpr)
    return rpr


def normalize_zip(path: Path) -> None:
    """Rewrite a .docx with fixed member timestamps (byte-stable output)."""
    data = Path(path).read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, src.read(info.filename))
    Path(path).write_bytes(out.getvalue())


def render_docx(context: Mapping[str, Any], charts: Mapping[str, Path], out_path: Path,
                template: Path | None = None) -> Path:
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage

    tpl = DocxTemplate(str(template or DOCX_TEMPLATE))
    ctx = dict(context)
    ctx["charts"] = {k: InlineImage(tpl, str(p), width=Mm(CHART_WIDTH_MM)) for k, p in charts.items()}
    tpl.render(ctx, autoescape=True)
    doc = tpl.docx
    apply_fonts(doc, context["office_fonts"])
    issued = dt.datetime.fromisoformat(context["issue_date_iso"])
    cp = doc.core_properties
    cp.title = f"{context['title']}（{context['issue_no']}）"
    cp.subject = context["subject"]
    # the template's properties name the default plan's office and the script that built it;
    # a bulletin names its own plan's 编印单位
    cp.author = cp.last_modified_by = context["editor"]
    cp.comments = ""
    cp.created = cp.modified = issued
    cp.last_printed = issued
    cp.revision = 1
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tpl.save(str(out_path))
    normalize_zip(out_path)
    return out_path
