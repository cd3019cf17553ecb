"""The bulletin in Word, PDF and HTML: content, phrasing, layout, fonts, escaping, determinism.

The warehouse and the indicators document come from mfg_indicators.sample.bulletin (a fixed,
hand-made state), with feed strings that must be escaped added to the document.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from mfg_indicators import phrasing as ph
from mfg_indicators.config import load_config
from mfg_indicators.render import build_context, render_bulletin
from mfg_indicators.render.fonts import resolve_fonts
from mfg_indicators.sample.bulletin import sample_document, seed_warehouse
from mfg_indicators.warehouse import connect

PERIOD = "2023-06"
SCRIPT = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def config():
    return load_config()


def _document(config, totals):
    doc = sample_document(config, PERIOD, per_mu=totals)
    doc["warnings"].append({"source": "stats", "uscc": "91331125MA2000004Q",
                            "message": f"企业名称含特殊字符 {SCRIPT} 与 R&D 中心"})
    doc["rejected"].append({"file": "R&D<费用>.xlsx", "sheet": "Sheet1", "row": 3, "column": "研发费用（万元）",
                            "reason": "数值无法识别"})
    return doc


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, config):
    root = tmp_path_factory.mktemp("bulletin")
    engine = connect(f"sqlite:///{root / 'wh.sqlite'}")
    totals = seed_warehouse(engine, config, PERIOD)
    doc = _document(config, totals)
    paths = render_bulletin(engine, config, doc, root / "out")
    yield {"paths": paths, "doc": doc, "totals": totals, "engine": engine, "root": root}
    engine.dispose()


def _names(config, doc):
    return [ph.name_for_period(i["name"], 6) for i in doc["indicators"]]


def _docx_text(path: Path) -> str:
    d = Document(str(path))
    parts = [p.text for p in d.paragraphs]
    for t in d.tables:
        for row in t.rows:
            for cell in row.cells:
                parts.append(cell.text)
    return "\n".join(parts)


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


# --- the files -----------------------------------------------------------------------------

def test_outputs_named_by_period(rendered):
    names = {k: p.name for k, p in rendered["paths"].items()}
    assert names["docx"] == "bulletin-2023-06.docx"
    assert names["pdf"] == "bulletin-2023-06.pdf"
    assert names["html"] == "bulletin-2023-06.html"
    assert {names[f"chart_{k}"] for k in ("growth", "per_mu", "status")} == {
        "bulletin-2023-06-growth.png", "bulletin-2023-06-per_mu.png", "bulletin-2023-06-status.png"}


# --- Word ----------------------------------------------------------------------------------

def test_docx_sections_in_order_and_every_indicator(rendered, config):
    text = _docx_text(rendered["paths"]["docx"])
    for name in _names(config, rendered["doc"]):
        assert name in text, name
    body = "\n".join(p.text for p in Document(str(rendered["paths"]["docx"])).paragraphs)
    # the masthead prints the title on its configured lines (line breaks in one paragraph)
    assert "".join(config["bulletin"]["title_lines"]) == config["bulletin"]["title"]
    order = ["\n".join(config["bulletin"]["title_lines"]), "第6期", "一、总体情况", "二、主要指标完成情况", "三、分攻坚组进展",
             "四、主导产业与乡镇（街道）", "五、存在问题", "六、下步工作", "附件", "数据说明",
             "五、指标口径", "报：", "送：", "发：", "2023年7月10日印发"]
    at = 0
    for s in order:  # each after the previous one
        found = body.find(s, at)
        assert found >= 0, (s, at)
        at = found + len(s)


def test_docx_phrasing(rendered):
    text = _docx_text(rendered["paths"]["docx"])
    assert "同比下降4.1%" in text            # T09B = -4.1
    assert "增长-" not in text and "增长－" not in text
    assert "年均持平" in text                 # T09BA = 0.04
    assert "同比增长8.4%" in text and "低于目标6.6个百分点" in text
    assert "1—6月" in text and "1-6月" not in text
    assert "8500.00万元" in text              # K04 = 0.85 亿元, below 1亿 -> 万元
    assert "4.20亿元" in text                 # K07 = 4.2 亿元
    assert "现有26家" in text
    assert "2023年7月10日" in text and "2023年07月" not in text
    for word in ("已完成目标", "达到序时进度", "略低于序时进度", "明显落后序时进度", "暂无数据"):
        assert word in text


def test_docx_layout_margins_and_sizes(rendered):
    d = Document(str(rendered["paths"]["docx"]))
    for s in d.sections:
        assert abs(s.page_width - Mm(210)) < Mm(0.5) and abs(s.page_height - Mm(297)) < Mm(0.5)
        assert abs(s.top_margin - Mm(37)) < Mm(0.1)
        assert abs(s.bottom_margin - Mm(35)) < Mm(0.1)
        assert abs(s.left_margin - Mm(28)) < Mm(0.1)
        assert abs(s.right_margin - Mm(26)) < Mm(0.1)
    title = next(p for p in d.paragraphs if p.text.startswith("云和县制造业"))
    assert title.style.font.size == Pt(22)
    overview = next(p for p in d.paragraphs if p.text.startswith("2023年1—6月，攻坚行动"))
    assert overview.style.font.size == Pt(16)
    h1 = next(p for p in d.paragraphs if p.text == "一、总体情况")
    h2 = next(p for p in d.paragraphs if p.text.startswith("（一）综合协调组"))
    assert h1.style.name == "Heading 1" and h2.style.name == "Heading 2"


def test_docx_east_asian_font_on_every_run(rendered, config):
    # the Word file names each role's first configured font (opened on the office's PCs), never
    # the rendering machine's fallback
    fonts = {role: config["fonts"].get(role, config["fonts"]["body"])[0]
             for role in ("title", "body", "heading", "subheading", "page_number")}
    assert fonts["body"] == "仿宋_GB2312" and fonts["title"] == "方正小标宋简体"
    d = Document(str(rendered["paths"]["docx"]))
    runs = list(d.element.body.iter(qn("w:r")))
    for sec in d.sections:
        runs += list(sec.footer._element.iter(qn("w:r")))
    assert len(runs) > 200
    missing = [r for r in runs if r.find(qn("w:rPr")) is None or r.find(qn("w:rPr")).find(qn("w:rFonts")) is None
               or not r.find(qn("w:rPr")).find(qn("w:rFonts")).get(qn("w:eastAsia"))]
    assert not missing, f"{len(missing)} runs without w:eastAsia"
    used = {r.find(qn("w:rPr")).find(qn("w:rFonts")).get(qn("w:eastAsia")) for r in runs}
    assert used <= set(fonts.values())
    import zipfile

    with zipfile.ZipFile(rendered["paths"]["docx"]) as z:
        xml = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
    east_asian = set(re.findall(r'<w:rFonts [^>]*w:eastAsia="([^"]+)"', xml))
    assert east_asian <= set(fonts.values()), east_asian
    assert "Noto" not in xml and "AR PL" not in xml
    footer_fonts = {r.find(qn("w:rPr")).find(qn("w:rFonts")).get(qn("w:eastAsia"))
                    for sec in d.sections for r in sec.footer._element.iter(qn("w:r"))}
    assert footer_fonts == {fonts["page_number"]}

    def ea(p):
        return {r.font.element.rPr.rFonts.get(qn("w:eastAsia")) for r in p.runs}

    h1 = next(p for p in d.paragraphs if p.text == "一、总体情况")
    h2 = next(p for p in d.paragraphs if p.text.startswith("（一）"))
    body = next(p for p in d.paragraphs if p.text.startswith("2023年1—6月，攻坚行动"))
    assert ea(h1) == {fonts["heading"]} and ea(h2) == {fonts["subheading"]} and ea(body) == {fonts["body"]}


def test_docx_status_cells_coloured_and_charts_embedded(rendered):
    d = Document(str(rendered["paths"]["docx"]))
    table = next(t for t in d.tables if t.rows[0].cells[0].text == "序号" and len(t.columns) == 9)
    assert len(table.rows) == 1 + len(rendered["doc"]["indicators"])
    fills = {}
    for row in table.rows[1:]:
        cell = row.cells[7]
        shd = cell._tc.tcPr.find(qn("w:shd"))
        fills.setdefault(cell.text, set()).add(shd.get(qn("w:fill")) if shd is not None else None)
    assert fills["明显落后序时进度"] == {ph.STATUS_FILLS["red"]}
    assert fills["略低于序时进度"] == {ph.STATUS_FILLS["yellow"]}
    assert fills["暂无数据"] == {ph.STATUS_FILLS["no_data"]}
    assert fills["已完成目标"] == {ph.STATUS_FILLS["done"]}
    assert len(d.inline_shapes) == 3


def test_docx_escapes_feed_strings(rendered):
    text = _docx_text(rendered["paths"]["docx"])
    assert SCRIPT in text            # printed as text, not markup
    assert "R&D 中心" in text and "R&D<费用>.xlsx" in text


# --- contents computed from the data -------------------------------------------------------

def test_problems_cover_every_yellow_and_red_indicator(rendered, config):
    ctx = build_context(rendered["engine"], config, rendered["doc"])
    lagging = [i for i in rendered["doc"]["indicators"] if i["status"] in ("yellow", "red")]
    assert len(ctx["problems"]) == len(lagging)
    for ind in lagging:
        name = ph.name_for_period(ind["name"], 6)
        item = next(p for p in ctx["problems"] if name in p)
        assert "个百分点" in item
        assert ph.enumerate_cn(ind["responsible_units"]) in item
        assert ph.status_word(ind["status"], ind["kind"]) in item
    t07 = next(p for p in ctx["problems"] if "累计淘汰落后产能企业" in p)
    assert "低于序时进度3.3个百分点" in t07    # 12/15 = 80.0 % vs 30/36 = 83.3 %
    # red before yellow
    first_yellow = min(i for i, p in enumerate(ctx["problems"]) if "略低于序时进度：" in p or "接近目标：" in p)
    assert first_yellow > 0
    assert all("明显落后序时进度：" in p or "低于目标：" in p for p in ctx["problems"][:first_yellow])


def test_next_steps_only_for_lagging_groups_from_config(config, rendered):
    doc = copy.deepcopy(rendered["doc"])
    for ind in doc["indicators"]:
        if ind["group"] != "招大引强攻坚组" and ind["status"] in ("yellow", "red"):
            ind["status"] = "green"
    ctx = build_context(rendered["engine"], config, doc)
    assert [s["heading"] for s in ctx["next_steps"]] == ["（一）招大引强攻坚组"]
    assert ctx["next_steps"][0]["text"] == config["bulletin"]["next_steps"]["招大引强攻坚组"]


def test_rankings_match_the_indicator_definition(rendered, config):
    ctx = build_context(rendered["engine"], config, rendered["doc"])
    r = ctx["rankings"]
    totals = rendered["totals"]
    assert r["industry_total"]["tax"] == ph.fixed(totals["tax_per_mu"], 2)
    assert r["industry_total"]["va"] == ph.fixed(totals["va_per_mu"], 2)
    assert [x["name"] for x in r["apart"]] == ["钢压延"]
    assert "钢压延" not in [x["name"] for x in r["industry"]]
    assert {x["name"] for x in r["industry"]} == {"木玩", "轴承", "阀门", "其他"}
    assert [x["name"] for x in r["town"]] and {x["name"] for x in r["town"]} == set(config["towns"])
    ranked = [x for x in r["industry"] if x["tax_rank"] != "—"]
    values = [float(x["tax"]) for x in ranked]
    assert values == sorted(values, reverse=True) and [x["tax_rank"] for x in ranked] == [
        str(i) for i in range(1, len(ranked) + 1)]
    # towns without evaluated enterprises print no figure, never 0
    empty = [x for x in r["town"] if x["enterprises"] == "0"]
    assert empty and all(x["tax"] == "—" and x["va"] == "—" for x in empty)


def test_no_enterprise_level_tax_figure(rendered):
    from sqlalchemy import text as sql

    with rendered["engine"].connect() as conn:
        monthly = [r[0] for r in conn.execute(sql("SELECT total_tax FROM core_tax WHERE total_tax IS NOT NULL"))]
        sums = [r[0] for r in conn.execute(sql(
            "SELECT SUM(total_tax) FROM core_tax WHERE total_tax IS NOT NULL GROUP BY uscc"))]
    # (figures below 100 would collide by chance with printed aggregates such as 17.16 万元/亩)
    figures = {ph.fixed(v, 2) for v in monthly + sums if abs(v) >= 100}
    assert len(figures) > 100
    figures.add("12.50")  # the refund quoted in a validation warning
    texts = {
        "docx": _docx_text(rendered["paths"]["docx"]),
        "html": rendered["paths"]["html"].read_text(encoding="utf-8"),
    }
    for kind, t in texts.items():
        found = sorted(f for f in figures if re.search(rf"(?<![\d.]){re.escape(f)}(?![\d])", t))
        assert not found, (kind, found)


# --- HTML ----------------------------------------------------------------------------------

def test_html_lang_escaping_and_images(rendered, config):
    html = rendered["paths"]["html"].read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html
    assert "<script>" not in html.lower()
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "R&amp;D 中心" in html
    assert html.count('src="data:image/png;base64,') == 3
    for name in _names(config, rendered["doc"]):
        assert name.replace("“", "“") in html, name
    fonts = resolve_fonts(config["fonts"])
    assert f'font-family: "{fonts["body"]}"' in html


# --- PDF -----------------------------------------------------------------------------------

def test_pdf_text_and_embedded_fonts(rendered, config):
    from pypdf import PdfReader

    reader = PdfReader(str(rendered["paths"]["pdf"]))
    text = _squash("".join(p.extract_text() for p in reader.pages))
    for name in _names(config, rendered["doc"]):
        assert _squash(name) in text, name
    assert "同比下降4.1%" in text and "第6期" in text and "2023年7月10日" in text
    assert _squash(SCRIPT) in text
    fonts_seen = 0
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            desc_holder = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            desc = desc_holder["/FontDescriptor"].get_object()
            assert any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")), font.get("/BaseFont")
            # subset fonts carry a six-letter tag: ABCDEF+Name
            assert re.match(r"/[A-Z]{6}\+", str(font["/BaseFont"])), font["/BaseFont"]
            fonts_seen += 1
    assert fonts_seen >= 2
    assert reader.pages[0].mediabox.width == pytest.approx(595.3, abs=1)  # A4 in points


# --- determinism ---------------------------------------------------------------------------

def test_same_period_twice_gives_same_text(rendered, config):
    again = render_bulletin(rendered["engine"], config, rendered["doc"], rendered["root"] / "again")
    first = rendered["paths"]
    assert again["html"].read_bytes() == first["html"].read_bytes()
    assert again["docx"].read_bytes() == first["docx"].read_bytes()
    for k in ("chart_growth", "chart_per_mu", "chart_status"):
        assert again[k].read_bytes() == first[k].read_bytes(), k
    from pypdf import PdfReader

    def pdf_text(p):
        return [page.extract_text() for page in PdfReader(str(p)).pages]

    assert pdf_text(again["pdf"]) == pdf_text(first["pdf"])


def test_docx_template_is_reproducible(tmp_path):
    import runpy

    from mfg_indicators.paths import PROJECT_ROOT

    mod = runpy.run_path(str(PROJECT_ROOT / "scripts" / "make_docx_template.py"))
    out = mod["build"](None, tmp_path / "bulletin.docx")
    committed = PROJECT_ROOT / "include" / "templates" / "bulletin.docx"
    assert out.read_bytes() == committed.read_bytes(), "run scripts/make_docx_template.py and commit"
