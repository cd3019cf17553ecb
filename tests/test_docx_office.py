"""The Word file as the office opens it (bulletin.md → Layout): table grids that carry the
column widths, numbers right-aligned, GB/T 9704 page numbers, the 版记 kept together, a masthead
that breaks only where configured — and the 2023-12 bulletin converted by LibreOffice (which lays
tables out by their grid) to PDF: the main table's columns differ in width, no indicator name
wraps to more than two lines, and the table takes no more pages than in the WeasyPrint PDF."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from mfg_indicators.config import load_config
from mfg_indicators.sample.bulletin import render_sample

PERIOD = "2023-12"
TEXT_WIDTH_TWIPS = Mm(210 - 28 - 26).twips


@pytest.fixture(scope="module")
def config():
    return load_config()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, config):
    out = render_sample(config, PERIOD, tmp_path_factory.mktemp("office"))
    out.pop("engine").dispose()
    return out


def _main_table(d):
    return next(t for t in d.tables if t.rows[0].cells[0].text == "序号" and len(t.columns) == 9)


# --- the Word file's own structure -----------------------------------------------------------

def test_every_table_grid_equals_its_cell_widths_and_the_text_width(rendered):
    d = Document(str(rendered["paths"]["docx"]))
    assert len(d.tables) >= 6
    for n, t in enumerate(d.tables):
        tbl = t._tbl
        grid = [int(c.get(qn("w:w"))) for c in tbl.tblGrid.findall(qn("w:gridCol"))]
        assert sum(grid) == TEXT_WIDTH_TWIPS, (n, grid)
        assert tbl.tblPr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"
        assert int(tbl.tblPr.find(qn("w:tblW")).get(qn("w:w"))) == TEXT_WIDTH_TWIPS
        for tr in tbl.findall(qn("w:tr")):
            widths = [int(tc.find(qn("w:tcPr")).find(qn("w:tcW")).get(qn("w:w"))) for tc in tr.findall(qn("w:tc"))]
            assert widths == grid, (n, widths, grid)
    main = _main_table(d)
    grid = [int(c.get(qn("w:w"))) for c in main._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert len(set(grid)) > 3 and grid[1] == max(grid)  # the 指标 column is the widest


def test_numbers_are_right_aligned(rendered):
    d = Document(str(rendered["paths"]["docx"]))
    main = _main_table(d)

    def align(cell):
        p = cell.paragraphs[0]
        return p.alignment if p.alignment is not None else p.style.paragraph_format.alignment

    for row in main.rows[1:]:
        for i in (3, 4, 5, 6):  # 目标, 完成, 完成率, 序时进度
            assert align(row.cells[i]) == WD_ALIGN_PARAGRAPH.RIGHT, (row.cells[1].text, i)
        assert align(row.cells[1]) != WD_ALIGN_PARAGRAPH.RIGHT
    ranking = next(t for t in d.tables if t.rows[0].cells[0].text == "产业" and len(t.columns) == 8)
    for row in ranking.rows[1:]:
        assert all(align(row.cells[i]) == WD_ALIGN_PARAGRAPH.RIGHT for i in range(1, 8)), row.cells[0].text


def test_page_numbers_odd_right_even_left_one_character_in(rendered):
    d = Document(str(rendered["paths"]["docx"]))
    assert d.settings.odd_and_even_pages_header_footer
    sec = d.sections[0]
    odd, even = sec.footer.paragraphs[0], sec.even_page_footer.paragraphs[0]
    for p, align in ((odd, WD_ALIGN_PARAGRAPH.RIGHT), (even, WD_ALIGN_PARAGRAPH.LEFT)):
        assert p.style.paragraph_format.alignment == align
        assert p.style.font.size == Pt(14)  # 4号
        assert "".join(t.text for t in p._p.iter(qn("w:t"))) == "— 1 —"
        assert p._p.find(qn("w:fldSimple")).get(qn("w:instr")) == "PAGE"
    assert odd.style.paragraph_format.right_indent == Pt(14)
    assert even.style.paragraph_format.left_indent == Pt(14)


def test_colophon_kept_on_one_page_and_masthead_lines(rendered, config):
    d = Document(str(rendered["paths"]["docx"]))
    colophon = [p for p in d.paragraphs if p.style.name == "Bulletin Colophon"]
    assert [p.text.split("：")[0] for p in colophon[:3]] == ["报", "送", "发"]
    # the 印发 line: the 印发机关 on its configured lines (breaks inside one paragraph, so no rule
    # between them), the date at a right tab
    assert colophon[-1].text == "\n".join(config["bulletin"]["editor_lines"]) + "\t2024年1月10日印发"
    for p in colophon:
        assert p.style.paragraph_format.keep_with_next and p.style.paragraph_format.keep_together
    bcfg = config["bulletin"]
    meta = [p.text for p in d.paragraphs if p.style.name == "Bulletin Meta" and p.text]
    assert meta == ["\n".join(bcfg["editor_lines"])] and "".join(bcfg["editor_lines"]) == bcfg["editor"]
    title = [p.text for p in d.paragraphs if p.style.name == "Bulletin Title" and p.text]
    assert title == ["\n".join(bcfg["title_lines"])] and "".join(bcfg["title_lines"]) == bcfg["title"]


# --- as LibreOffice lays it out --------------------------------------------------------------

def _words(pdf: Path) -> list[tuple[int, float, float, str]]:
    """(page, x, y, text) of every word, from poppler's pdftotext -bbox-layout."""
    out = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    words, page = [], 0
    for m in re.finditer(r'<page |<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>', out):
        if m.group(0) == "<page ":
            page += 1
        else:
            words.append((page, float(m.group(1)), float(m.group(2)), m.group(3)))
    return words


def _first(words, text: str) -> tuple[int, float]:
    page, _, y, _ = next(w for w in words if w[3].startswith(text))
    return page, y


def _table_pages(words) -> int:
    """Pages of the main table: from its heading to the legend printed right under it."""
    return _first(words, "状态：绿色为")[0] - _first(words, "二、主要指标完成情况")[0] + 1


@pytest.fixture(scope="module")
def office_pdf(rendered):
    soffice = shutil.which("soffice")
    if soffice is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice) is not installed: scripts/ensure-system-packages.sh")
        pytest.skip("LibreOffice (soffice) is not installed")
    out = rendered["root"] / "lo"
    profile = rendered["root"] / "lo-profile"
    subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(out), str(rendered["paths"]["docx"])],
                   check=True, capture_output=True, timeout=300)
    return out / rendered["paths"]["docx"].with_suffix(".pdf").name


def test_libreoffice_lays_out_the_main_table_by_its_widths(rendered, office_pdf):
    words = _words(office_pdf)
    start, end = _first(words, "二、主要指标完成情况"), _first(words, "状态：绿色为")

    def in_table(w):
        return start <= (w[0], w[2]) < end

    body = [w for w in words if in_table(w)]
    # row numbers: the integers 1..37 in the leftmost column; names start right of them
    no_x = min(w[1] for w in body if w[3] == "1")
    rows = [w for w in body if abs(w[1] - no_x) < 8 and w[3].isdigit()]
    assert [int(w[3]) for w in rows] == list(range(1, len(rendered["doc"]["indicators"]) + 1))
    first_row = rows[0]
    name_x = min(w[1] for w in body if w[0] == first_row[0] and abs(w[2] - first_row[2]) < 4 and w[1] > no_x + 5)
    unit = rendered["doc"]["indicators"][0]["unit"]
    unit_x = next(w[1] for w in body if w[0] == first_row[0] and abs(w[2] - first_row[2]) < 4 and w[3] == unit)
    no_width, name_width = name_x - no_x, unit_x - name_x
    assert name_width > 4 * no_width, (no_width, name_width)  # not nine equal columns

    # no indicator name takes more than two lines
    lines: dict[int, set[float]] = defaultdict(set)
    for k, row in enumerate(rows):
        nxt = rows[k + 1] if k + 1 < len(rows) and rows[k + 1][0] == row[0] else None
        for w in body:
            if w[0] == row[0] and abs(w[1] - name_x) < 1.5 and row[2] - 4 <= w[2] < (nxt[2] - 4 if nxt else 1e9):
                lines[int(row[3])].add(round(w[2]))
    assert len(lines) == len(rows)
    too_long = {n: len(ys) for n, ys in lines.items() if len(ys) > 2}
    assert not too_long, too_long


def test_libreoffice_table_takes_no_more_pages_than_the_pdf(rendered, office_pdf):
    office = _table_pages(_words(office_pdf))
    weasy = _table_pages(_words(rendered["paths"]["pdf"]))
    assert 1 <= office <= weasy, (office, weasy)
