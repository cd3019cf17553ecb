#!/usr/bin/env python
"""Build include/templates/bulletin.docx — the docxtpl template of the 进展情况通报 — with
python-docx, so the template is reproducible from code. The office may restyle the result in
WPS or Word (styles, spacing, colours, column widths); keep each Jinja tag inside one run (type
it in one go, do not format part of it).

Layout (bulletin.md → Layout): A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm;
title 22 pt; body 16 pt with 28 pt exact line spacing; 一、headings in the heading (黑体) font,
（一）headings in the subheading (楷体) font; tables 10.5 pt (五号), fixed layout whose grid
(``w:tblGrid``) carries the same column widths as the cells (readers that follow the grid —
LibreOffice, fixed layout in Word and WPS — would otherwise show equal columns), numbers
right-aligned; page numbers "— N —" in 4号 宋体 (GB/T 9704), odd pages right and even pages left,
one character in from the edge; the 版记 block kept on one page.
Font names here are the configuration's first choices; at render time every run and style gets
the first choices of the plan being rendered (mfg_indicators.render.docx_renderer), whatever the
rendering machine has installed: the office's PCs have those fonts. The masthead prints the
title and the 编印单位 on the lines the plan configures (``bulletin.title_lines``/``editor_lines``).

Usage: .venv/bin/python scripts/make_docx_template.py [--config config/yunhe-2022.yaml] [--out PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor, Twips

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mfg_indicators.render.docx_renderer import LATIN, set_rfonts  # noqa: E402 - one font rule
from mfg_indicators.render.fonts import office_fonts  # noqa: E402
RED = RGBColor(0xC0, 0x00, 0x00)
TEXT_WIDTH_MM = 210 - 28 - 26  # 156
TEXT_WIDTH_TWIPS = Mm(TEXT_WIDTH_MM).twips
PAGE_NUMBER_PT = 14  # 4号
CELL_MARGIN_TWIPS = 57  # 1 mm


def set_fonts(rpr_parent, east_asia: str, latin: str = LATIN) -> None:
    """Explicit font names on a style's or run's rPr (the renderer's own rule)."""
    set_rfonts(rpr_parent.get_or_add_rPr(), east_asia, latin)


def paragraph_style(doc, name: str, *, base: str | None = "Normal", font: str, size: float,
                    align=None, indent_first: float | None = None, exact: float | None = None,
                    before: float = 0, after: float = 0, colour: RGBColor | None = None,
                    keep_next: bool = False, bold: bool = False):
    styles = doc.styles
    st = styles[name] if name in [s.name for s in styles] else styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    if base and name != base:
        st.base_style = styles[base]
    st.font.size = Pt(size)
    st.font.bold = bold
    st.font.italic = False
    st.font.color.rgb = colour or RGBColor(0, 0, 0)
    set_fonts(st.element, font)
    pf = st.paragraph_format
    pf.space_before = Pt(before)
    pf.space_after = Pt(after)
    if exact:
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = Pt(exact)
    else:
        pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
    if indent_first is not None:
        pf.first_line_indent = Pt(indent_first)
    if align is not None:
        pf.alignment = align
    pf.keep_with_next = keep_next
    pf.widow_control = True
    st.quick_style = True
    return st


def border(p_or_style_el, *sides: str, colour: str = "000000", size: int = 6, space: int = 1) -> None:
    """Paragraph borders (pBdr) on a paragraph or paragraph style element."""
    ppr = p_or_style_el.get_or_add_pPr()
    pbdr = ppr.find(qn("w:pBdr"))
    if pbdr is None:
        pbdr = OxmlElement("w:pBdr")
        ppr.append(pbdr)
    for side in sides:
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), str(size))
        el.set(qn("w:space"), str(space))
        el.set(qn("w:color"), colour)
        pbdr.append(el)


def add_par(doc_or_cell, text: str = "", style: str = "Bulletin Body"):
    p = doc_or_cell.add_paragraph(style=style)
    if text:
        p.add_run(text)  # one run: a Jinja tag must never be split across runs
    return p


def column_twips(widths_mm: list[float]) -> list[int]:
    """Column widths in twips (the unit of tcW and gridCol), summing exactly to the text width:
    the rounding remainder goes to the widest column."""
    tw = [Mm(w).twips for w in widths_mm]
    tw[tw.index(max(tw))] += TEXT_WIDTH_TWIPS - sum(tw)
    return tw


def set_cell_width(cell, twips: int) -> None:
    cell.width = Twips(twips)


def fix_grid(table, twips: list[int]) -> None:
    """Fixed layout, table width = text width, and a grid whose columns are the cells' widths."""
    tbl = table._tbl
    for col, w in zip(tbl.tblGrid.findall(qn("w:gridCol")), twips, strict=True):
        col.set(qn("w:w"), str(w))
    tblpr = tbl.tblPr
    tblw = tblpr.find(qn("w:tblW"))
    if tblw is None:
        tblw = OxmlElement("w:tblW")
        tblpr.append(tblw)
    tblw.set(qn("w:type"), "dxa")
    tblw.set(qn("w:w"), str(sum(twips)))
    layout = tblpr.find(qn("w:tblLayout"))
    if layout is None:
        layout = OxmlElement("w:tblLayout")
        tblpr.append(layout)
    layout.set(qn("w:type"), "fixed")
    # 1 mm cell margins left and right (Table Grid has 1.9 mm): room for the text in a narrow column
    mar = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(CELL_MARGIN_TWIPS))
        el.set(qn("w:type"), "dxa")
        mar.append(el)
    tblpr.append(mar)


def fill_row(doc, row, values: list[str], twips: list[int], numeric: frozenset[int] = frozenset(),
             header: bool = False) -> None:
    """Widths, paragraph styles (numbers right-aligned) and one run per cell."""
    for c, (cell, value, w) in enumerate(zip(row.cells, values, twips, strict=True)):
        set_cell_width(cell, w)
        p = cell.paragraphs[0]
        name = "Bulletin Table Header" if header else (
            "Bulletin Table Number" if c in numeric else "Bulletin Table")
        p.style = doc.styles[name]
        if value:
            p.add_run(value)


def repeat_header(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)


def keep_rows_whole(row) -> None:
    el = OxmlElement("w:cantSplit")
    el.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(el)


def loop_table(doc, headers: list[str], cells: list[str], widths: list[float], loop: str,
               extra_rows: list[list[str]] = (), numeric: tuple[int, ...] = ()):
    """A table: header row, a ``{%tr for %}`` row, the row template, ``{%tr endfor %}``, then
    fixed rows (e.g. a total). ``widths`` in mm (summing to the text width); ``numeric``: the
    indexes of the columns holding numbers (right-aligned)."""
    assert len(headers) == len(cells) == len(widths), (headers, cells)
    assert abs(sum(widths) - TEXT_WIDTH_MM) < 0.5, sum(widths)
    twips = column_twips(widths)
    rows = 4 + len(extra_rows)
    t = doc.add_table(rows=rows, cols=len(headers))
    t.style = doc.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    fix_grid(t, twips)
    contents = [headers, [f"{{%tr for {loop} %}}"] + [""] * (len(headers) - 1), cells,
                ["{%tr endfor %}"] + [""] * (len(headers) - 1), *extra_rows]
    for r, (row, values) in enumerate(zip(t.rows, contents)):
        fill_row(doc, row, values, twips, frozenset(numeric), header=r == 0)
    repeat_header(t.rows[0])
    keep_rows_whole(t.rows[2])  # the row template: each rendered row stays on one page
    t.twips = twips
    t.numeric = frozenset(numeric)
    return t


def page_number(p, style) -> None:
    """``— N —`` with a PAGE field, in ``style``."""
    p.style = style
    p.add_run("— ")
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), "PAGE")
    r = OxmlElement("w:r")
    t_ = OxmlElement("w:t")
    t_.text = "1"
    r.append(t_)
    fld.append(r)
    p._p.append(fld)
    p.add_run(" —")


def build(config_path: Path | None, out: Path) -> Path:
    from mfg_indicators.config import load_config

    cfg = load_config(config_path)
    fonts = office_fonts(cfg["fonts"])

    doc = Document()
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(37), Mm(35)
    sec.left_margin, sec.right_margin = Mm(28), Mm(26)
    sec.header_distance, sec.footer_distance = Mm(15), Mm(25)

    # document defaults: explicit names instead of theme fonts, Chinese language
    rpr_default = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    rfonts = rpr_default.find(qn("w:rFonts"))
    for attr in list(rfonts.attrib):
        del rfonts.attrib[attr]
    rfonts.set(qn("w:ascii"), LATIN)
    rfonts.set(qn("w:hAnsi"), LATIN)
    rfonts.set(qn("w:cs"), LATIN)
    rfonts.set(qn("w:eastAsia"), fonts["body"])
    lang = rpr_default.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr_default.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")

    paragraph_style(doc, "Normal", base=None, font=fonts["body"], size=16)
    paragraph_style(doc, "Bulletin Body", font=fonts["body"], size=16, exact=28, indent_first=32,
                    align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    paragraph_style(doc, "Bulletin Title", font=fonts["title"], size=22, align=WD_ALIGN_PARAGRAPH.CENTER,
                    colour=RED, before=0, after=12)
    paragraph_style(doc, "Bulletin Issue", font=fonts["body"], size=16, align=WD_ALIGN_PARAGRAPH.CENTER,
                    after=12)
    paragraph_style(doc, "Bulletin Meta", font=fonts["body"], size=14, align=WD_ALIGN_PARAGRAPH.LEFT)
    date_style = paragraph_style(doc, "Bulletin Date", font=fonts["body"], size=14,
                                 align=WD_ALIGN_PARAGRAPH.RIGHT)
    border(date_style.element, "bottom", colour="C00000", size=18, space=4)  # the red rule
    paragraph_style(doc, "Heading 1", font=fonts["heading"], size=16, exact=28, indent_first=32,
                    keep_next=True, before=6, after=0)
    paragraph_style(doc, "Heading 2", font=fonts["subheading"], size=16, exact=28, indent_first=32,
                    keep_next=True, before=0, after=0)
    paragraph_style(doc, "Bulletin Table", font=fonts["body"], size=10.5)
    paragraph_style(doc, "Bulletin Table Number", base="Bulletin Table", font=fonts["body"], size=10.5,
                    align=WD_ALIGN_PARAGRAPH.RIGHT)
    paragraph_style(doc, "Bulletin Table Header", font=fonts["heading"], size=10.5,
                    align=WD_ALIGN_PARAGRAPH.CENTER)
    paragraph_style(doc, "Bulletin Note", font=fonts["body"], size=10.5, before=2, after=6)
    paragraph_style(doc, "Bulletin Figure", font=fonts["body"], size=12, align=WD_ALIGN_PARAGRAPH.CENTER,
                    before=6)
    paragraph_style(doc, "Bulletin Caption", font=fonts["body"], size=12, align=WD_ALIGN_PARAGRAPH.CENTER,
                    after=6)
    paragraph_style(doc, "Bulletin Annex Label", font=fonts["heading"], size=16, exact=28)
    paragraph_style(doc, "Bulletin Annex Title", font=fonts["title"], size=22, align=WD_ALIGN_PARAGRAPH.CENTER,
                    before=6, after=12)
    colophon = paragraph_style(doc, "Bulletin Colophon", font=fonts["body"], size=14, exact=28,
                               indent_first=0)
    colophon.paragraph_format.left_indent = Pt(14)  # one character in on both sides (GB/T 9704)
    colophon.paragraph_format.right_indent = Pt(14)
    colophon.paragraph_format.keep_with_next = True  # the 版记 block stays on one page
    colophon.paragraph_format.keep_together = True
    for side in ("odd", "even"):
        paragraph_style(doc, f"Bulletin Page Number {side.title()}", font=fonts["page_number"],
                        size=PAGE_NUMBER_PT,
                        align=WD_ALIGN_PARAGRAPH.RIGHT if side == "odd" else WD_ALIGN_PARAGRAPH.LEFT)
    # one character (4号 = 14 pt) in from the outer edge of the text block
    doc.styles["Bulletin Page Number Odd"].paragraph_format.right_indent = Pt(PAGE_NUMBER_PT)
    doc.styles["Bulletin Page Number Even"].paragraph_format.left_indent = Pt(PAGE_NUMBER_PT)
    border(colophon.element, "top", "bottom", "between", size=6)
    for st in ("Heading 1", "Heading 2"):
        doc.styles[st].font.bold = False
        doc.styles[st].font.color.rgb = RGBColor(0, 0, 0)
    # tables carry a style too (Table Grid): their text comes from the cell paragraphs' styles

    # --- 报头 ---
    # title and 编印单位 on their configured lines: line breaks inside one paragraph each
    add_par(doc, "{{ title_lines|join('\\n') }}", "Bulletin Title")
    add_par(doc, "{{ issue_no }}", "Bulletin Issue")
    add_par(doc, "{{ editor_lines|join('\\n') }}", "Bulletin Meta")
    add_par(doc, "{{ issue_date }}", "Bulletin Date")
    add_par(doc, "", "Bulletin Body")

    # --- 一、总体情况 ---
    add_par(doc, "{{ h.overview }}", "Heading 1")
    add_par(doc, "{{ overview }}")

    # --- 二、主要指标完成情况 ---
    add_par(doc, "{{ h.table }}", "Heading 1")
    loop_table(doc, ["序号", "指标", "单位", "目标", "{{ month_range }}完成", "完成率", "序时进度", "状态", "牵头单位"],
               ["{{ r.no }}", "{{ r.name }}", "{{ r.unit }}", "{{ r.target }}", "{{ r.actual }}",
                "{{ r.progress }}", "{{ r.time_progress }}", "{% cellbg r.fill %}{{ r.status_word }}",
                "{{ r.lead_unit }}"],
               [6, 48, 11, 14, 17, 14, 14, 18, 14], "r in table.rows", numeric=(3, 4, 5, 6))
    add_par(doc, "{{ table.legend }}", "Bulletin Note")
    add_par(doc, "{{ charts.status }}", "Bulletin Figure")
    add_par(doc, "{{ captions.status }}", "Bulletin Caption")

    # --- 三、分攻坚组进展 ---
    add_par(doc, "{{ h.groups }}", "Heading 1")
    add_par(doc, "{%p for g in groups %}")
    add_par(doc, "{{ g.heading }}", "Heading 2")
    add_par(doc, "{{ g.summary }}")
    add_par(doc, "{%p for s in g.sentences %}")
    add_par(doc, "{{ s }}")
    add_par(doc, "{%p endfor %}")
    add_par(doc, "{%p endfor %}")
    add_par(doc, "{{ charts.growth }}", "Bulletin Figure")
    add_par(doc, "{{ captions.growth }}", "Bulletin Caption")

    # --- 四、主导产业与乡镇（街道） ---
    add_par(doc, "{{ h.rankings }}", "Heading 1")
    add_par(doc, "{%p for s in rankings.intro %}")
    add_par(doc, "{{ s }}")
    add_par(doc, "{%p endfor %}")
    add_par(doc, "{{ h.rankings_industry }}", "Heading 2")
    rank_headers = ["产业", "评价企业（家）", "亩均税收", "{{ rankings.annual_header }}", "排名", "亩均增加值",
                    "{{ rankings.annual_header }}", "排名"]
    rank_cells = ["{{ r.name }}", "{{ r.enterprises }}", "{{ r.tax }}", "{{ r.tax_annual }}", "{{ r.tax_rank }}",
                  "{{ r.va }}", "{{ r.va_annual }}", "{{ r.va_rank }}"]
    rank_widths = [30, 20, 18, 18, 13, 20, 20, 17]
    range_numeric = tuple(range(1, 8))
    t = loop_table(doc, rank_headers, rank_cells, rank_widths, "r in rankings.industry", numeric=range_numeric,
                   extra_rows=[["{{ rankings.industry_total.name }}", "{{ rankings.industry_total.enterprises }}",
                                "{{ rankings.industry_total.tax }}", "{{ rankings.industry_total.tax_annual }}", "—",
                                "{{ rankings.industry_total.va }}", "{{ rankings.industry_total.va_annual }}", "—"]])
    # rows for the excluded group(s), shown apart
    for values in (["{%tr for r in rankings.apart %}"] + [""] * 7,
                   ["{{ r.name }}（单列，不计入目标）", "{{ r.enterprises }}", "{{ r.tax }}", "{{ r.tax_annual }}", "—",
                    "{{ r.va }}", "{{ r.va_annual }}", "—"],
                   ["{%tr endfor %}"] + [""] * 7):
        fill_row(doc, t.add_row(), values, t.twips, t.numeric)
    add_par(doc, "{{ charts.per_mu }}", "Bulletin Figure")
    add_par(doc, "{{ captions.per_mu }}", "Bulletin Caption")
    add_par(doc, "{{ h.rankings_town }}", "Heading 2")
    loop_table(doc, ["乡镇（街道）"] + rank_headers[1:], rank_cells, rank_widths, "r in rankings.town",
               numeric=range_numeric)
    add_par(doc, "{%p for s in rankings.notes %}")
    add_par(doc, "{{ s }}", "Bulletin Note")
    add_par(doc, "{%p endfor %}")
    # （三）亩均效益综合评价: December issue only (context `evaluation` is None otherwise)
    add_par(doc, "{%p if evaluation %}")
    add_par(doc, "{{ h.rankings_evaluation }}", "Heading 2")
    add_par(doc, "{{ evaluation.intro }}")
    eval_headers = ["A类", "B类", "C类", "D类", "合计", "D类较上年"]
    eval_cells = ["{{ r.name }}", "{{ r.a }}", "{{ r.b }}", "{{ r.c }}", "{{ r.d }}", "{{ r.total }}",
                  "{{ r.d_change }}"]
    eval_widths = [36, 18, 18, 18, 18, 20, 28]  # = TEXT_WIDTH_MM
    loop_table(doc, ["产业"] + eval_headers, eval_cells, eval_widths, "r in evaluation.industry",
               numeric=(1, 2, 3, 4, 5))
    loop_table(doc, ["乡镇（街道）"] + eval_headers, eval_cells, eval_widths, "r in evaluation.town",
               numeric=(1, 2, 3, 4, 5))
    add_par(doc, "{{ evaluation.note }}", "Bulletin Note")
    add_par(doc, "{%p endif %}")

    # --- 五、存在问题 ---
    add_par(doc, "{{ h.problems }}", "Heading 1")
    add_par(doc, "{{ problems_intro }}")
    add_par(doc, "{%p for s in problems %}")
    add_par(doc, "{{ s }}")
    add_par(doc, "{%p endfor %}")
    add_par(doc, "{%p if problems_tail %}")
    add_par(doc, "{{ problems_tail }}")
    add_par(doc, "{%p endif %}")

    # --- 六、下步工作 ---
    add_par(doc, "{{ h.next_steps }}", "Heading 1")
    add_par(doc, "{%p for s in next_steps %}")
    p = add_par(doc, "", "Bulletin Body")
    p.add_run("{{ s.heading }}：")  # its own run: restyle it (e.g. 楷体) without touching the text run
    p.add_run("{{ s.text }}")
    add_par(doc, "{%p endfor %}")
    add_par(doc, "{%p if next_steps_empty %}")
    add_par(doc, "{{ next_steps_empty }}")
    add_par(doc, "{%p endif %}")

    # --- 附件：数据说明 ---
    p = add_par(doc, "{{ h.annex_label }}", "Bulletin Annex Label")
    p.paragraph_format.page_break_before = True
    add_par(doc, "{{ h.annex_title }}", "Bulletin Annex Title")
    add_par(doc, "{{ h.annex_deliveries }}", "Heading 1")
    loop_table(doc, ["序号", "来源", "文件", "所属期", "接收时间", "行数", "{{ annex.sha_label }}"],
               ["{{ d.no }}", "{{ d.source }}", "{{ d.file }}", "{{ d.periods }}", "{{ d.received }}",
                "{{ d.rows }}", "{{ d.sha }}"],
               [9, 26, 34, 28, 24, 13, 22], "d in annex.deliveries", numeric=(5,))
    add_par(doc, "{{ annex.deliveries_note }}", "Bulletin Note")
    add_par(doc, "{{ h.annex_warnings }}", "Heading 1")
    add_par(doc, "{{ annex.warnings_note }}")
    add_par(doc, "{%p if annex.warnings %}")
    loop_table(doc, ["序号", "来源", "统一社会信用代码", "提示"],
               ["{{ w.no }}", "{{ w.source }}", "{{ w.uscc }}", "{{ w.message }}"],
               [10, 24, 42, 80], "w in annex.warnings")
    add_par(doc, "{%p endif %}")
    add_par(doc, "{{ h.annex_rejected }}", "Heading 1")
    add_par(doc, "{{ annex.rejected_note }}")
    add_par(doc, "{%p if annex.rejected %}")
    loop_table(doc, ["序号", "文件", "工作表", "行", "列", "原因"],
               ["{{ x.no }}", "{{ x.file }}", "{{ x.sheet }}", "{{ x.row }}", "{{ x.column }}", "{{ x.reason }}"],
               [10, 36, 20, 12, 24, 54], "x in annex.rejected")
    add_par(doc, "{%p endif %}")
    add_par(doc, "{{ h.annex_no_data }}", "Heading 1")
    add_par(doc, "{{ annex.no_data_note }}")
    add_par(doc, "{%p for x in annex.no_data %}")
    add_par(doc, "{{ x.no }}. {{ x.name }}：{{ x.reason }}")
    add_par(doc, "{%p endfor %}")
    add_par(doc, "{{ h.annex_calibers }}", "Heading 1")
    loop_table(doc, ["序号", "指标", "单位", "口径"],
               ["{{ c.no }}", "{{ c.name }}", "{{ c.unit }}", "{{ c.caliber }}"],
               [10, 46, 18, 82], "c in annex.calibers")

    # --- 报尾 (版记) ---
    add_par(doc, "", "Bulletin Body")
    add_par(doc, "{%p for d in distribution %}")
    add_par(doc, "{{ d.label }}：{{ d.text }}", "Bulletin Colophon")
    add_par(doc, "{%p endfor %}")
    # 印发机关 on the left, on its configured lines (line breaks in one paragraph: no rule between
    # them, no break inside a word), the date on the right of the last line
    p = add_par(doc, "{{ editor_lines|join('\\n') }}", "Bulletin Colophon")
    p.add_run().add_tab()
    p.add_run("{{ issue_date }}印发")
    p.paragraph_format.tab_stops.add_tab_stop(Mm(TEXT_WIDTH_MM) - Pt(14), WD_TAB_ALIGNMENT.RIGHT)

    # footer: — page —, odd pages right and even pages left (GB/T 9704)
    doc.settings.odd_and_even_pages_header_footer = True
    for footer, style in ((sec.footer, "Bulletin Page Number Odd"), (sec.even_page_footer, "Bulletin Page Number Even")):
        page_number(footer.paragraphs[0], doc.styles[style])

    cp = doc.core_properties
    cp.title = "{{ title }}"
    cp.subject = "{{ subject }}"
    cp.author = cfg["bulletin"]["editor"]
    cp.last_modified_by = cfg["bulletin"]["editor"]
    cp.comments = "由 scripts/make_docx_template.py 生成的 docxtpl 模板"
    cp.created = cp.modified = dt.datetime(2022, 7, 1)
    cp.revision = 1

    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(out)
    from mfg_indicators.render.docx_renderer import normalize_zip

    normalize_zip(out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "include" / "templates" / "bulletin.docx")
    args = ap.parse_args(argv)
    print(build(args.config, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
