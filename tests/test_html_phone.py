"""The HTML bulletin in a real browser (Debian's headless Chromium): comfortable on a phone at
360–414 px without pinch-zoom (shared/spec/bulletin.md → Layout), and still the document at
1280 px.

A phone browser lays a page without ``<meta name="viewport">`` out 980 px wide and shrinks
it; the phone emulation here (``mobile=True``) does the same, so these tests fail on such a
page. Screenshots are written beside the test's temporary files (``phone-400.png`` …).
"""

from __future__ import annotations

import os
import re

import pytest
from pypdf import PdfReader

from headless_chromium import CHROMIUM, Page
from mfg_indicators.config import load_config
from mfg_indicators.render import render_bulletin
from mfg_indicators.render.html_renderer import render_pdf
from mfg_indicators.warehouse import connect
from mfg_indicators.sample.bulletin import sample_document, seed_warehouse

PERIOD = "2023-12"
# an unbroken file name and message as long as the departments send them
LONG_FILE = "2023年12月_规上工业企业_主要经济指标_快报_修订版_final_v2_" + "x" * 40 + ".xlsx"
LONG_TEXT = "统一社会信用代码字段含不可见字符：" + "\u00a0".join(["0x" + "A0" * 30] * 3)

MEASURE = """(() => {
  const px = e => parseFloat(getComputedStyle(e).fontSize);
  const inBody = sel => [...document.querySelectorAll(sel)].filter(e => e.offsetParent !== null);
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    paragraphFont: Math.min(...inBody('body > p:not(.note):not(.meta)').map(px)),
    cellFont: Math.min(...inBody('td').map(px)),
    boxes: inBody('.table-wrap').map(w => ({right: w.getBoundingClientRect().right,
                                            scrolls: w.scrollWidth > w.clientWidth})),
    tablesOutsideBox: inBody('table').filter(t => !t.closest('.table-wrap')).length,
    images: inBody('img').map(i => ({width: i.getBoundingClientRect().width,
                                     right: i.getBoundingClientRect().right, loaded: i.naturalWidth})),
    textWidth: document.body.clientWidth - parseFloat(getComputedStyle(document.body).paddingLeft)
               - parseFloat(getComputedStyle(document.body).paddingRight),
  };
})()"""


def _page(**kw) -> Page:
    if CHROMIUM is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is not installed but CI=true (scripts/ensure-system-packages.sh installs it)")
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    return Page(**kw)


@pytest.fixture(scope="module")
def html_path(tmp_path_factory):
    config = load_config()
    root = tmp_path_factory.mktemp("phone")
    engine = connect(f"sqlite:///{root / 'wh.sqlite'}")
    try:
        totals = seed_warehouse(engine, config, PERIOD)
        doc = sample_document(config, PERIOD, per_mu=totals)
        doc["rejected"].append({"file": LONG_FILE, "sheet": "Sheet1", "row": 12, "column": "统一社会信用代码",
                                "reason": LONG_TEXT})
        doc["warnings"].append({"source": "stats", "uscc": "91331125MA2000004Q", "message": LONG_TEXT})
        paths = render_bulletin(engine, config, doc, root / "out")
    finally:
        engine.dispose()
    return paths["html"]


@pytest.mark.parametrize("width", [360, 400, 414])
def test_phone_reads_without_zoom_or_sideways_scroll(html_path, width):
    with _page(width=width, mobile=True) as page:
        page.open(html_path)
        m = page.evaluate(MEASURE)
        page.screenshot(html_path.parent / f"phone-{width}.png")
    # laid out at the phone's width (the viewport meta), not at 980 px and shrunk
    assert m["innerWidth"] == width
    assert m["scrollWidth"] <= width, f"the page scrolls sideways: {m['scrollWidth']} px"
    # type readable at arm's length: body text ≥ 16 px, table cells ≥ 12 px
    assert m["paragraphFont"] >= 16 and m["cellFont"] >= 12, m
    # every table sits in a box of the page's width; the main table is wider and scrolls in it
    assert m["tablesOutsideBox"] == 0 and len(m["boxes"]) >= 6
    assert all(b["right"] <= width for b in m["boxes"])
    assert m["boxes"][0]["scrolls"]
    # the charts scale to the text width
    assert len(m["images"]) == 3 and all(i["loaded"] for i in m["images"])
    for img in m["images"]:
        assert img["right"] <= width and img["width"] >= m["textWidth"] - 1, img


def test_desktop_is_still_the_page(html_path):
    """At 1280 px the bulletin is a sheet with the A4 page's text width (156 mm = 589.6 px), the
    print sizes (三号 16 pt body), and tables that fit without scrolling."""
    with _page(width=1280, height=1000) as page:
        page.open(html_path)
        m = page.evaluate(MEASURE)
        page.screenshot(html_path.parent / "desktop-1280.png")
    assert m["scrollWidth"] <= 1280
    assert 589 <= m["textWidth"] <= 595, m["textWidth"]
    assert m["paragraphFont"] == pytest.approx(16 * 96 / 72, abs=0.01)
    assert not any(b["scrolls"] for b in m["boxes"]), m["boxes"]
    assert all(i["width"] == pytest.approx(589.6, abs=1) for i in m["images"])


def test_print_ignores_the_screen_rules(html_path, tmp_path):
    """The PDF (WeasyPrint, print media) is laid out as from the HTML without anything added for
    screens: the viewport meta, the phone and sheet rules, the boxes tables scroll in."""
    html = html_path.read_text(encoding="utf-8")
    bare = re.sub(r'<meta name="viewport"[^>]*>', "", html)
    bare, n_rules = re.subn(r"(?s)/\* Screens .*?(?=</style>)", "", bare)
    bare, n_boxes = re.subn(r'<div class="table-wrap">(<table.*?</table>)</div>', r"\1", bare, flags=re.S)
    assert n_rules == 1 and n_boxes >= 6 and "@media screen" not in bare
    pages = [[p.extract_text() for p in PdfReader(str(render_pdf(h, tmp_path / name))).pages]
             for h, name in ((html, "as-rendered.pdf"), (bare, "without-screen-rules.pdf"))]
    assert len(pages[0]) == len(pages[1]) and pages[0] == pages[1]
