"""The bulletin e-mail read back as a mail client would: the HTML body keeps its table borders and
status colours when webmail strips ``<style>`` (inline styles), it still fits a phone, the plain
text part carries every table row, and subject and attachment names come from the rendered
bulletin (formatted once, by the render)."""

from __future__ import annotations

import email
import os
import re
from email import policy

import lxml.html
import pytest
from docx import Document

from headless_chromium import CHROMIUM, Page
from mfg_indicators.deliver import write_eml
from test_deliver import bulletin, config  # noqa: F401 - the 2023-06 bulletin rendered once (fixtures)


@pytest.fixture(scope="module")
def mail(bulletin, config):  # noqa: F811
    paths = bulletin["paths"]
    eml = write_eml(paths, config, bulletin["doc"], bulletin["root"] / "outbox-email-message")
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    return {"paths": paths, "msg": msg,
            "source": lxml.html.fromstring(paths["html"].read_text(encoding="utf-8"))}


def _rows(tree, table_class: str) -> list[list[str]]:
    return [[c.text_content().strip() for c in tr.findall("td")]
            for tr in tree.xpath(f'//table[contains(@class, "{table_class}")]/tbody/tr')]


def _without_style(html: str) -> str:
    return re.sub(r"(?is)<style\b.*?</style>", "", html)


def test_html_part_is_styled_inline(mail):
    html = mail["msg"].get_body(("html",)).get_content()
    tree = lxml.html.fromstring(_without_style(html))  # what webmail keeps
    cells = tree.xpath("//table//th | //table//td")
    assert len(cells) > 37 * 9
    for cell in cells:
        style = cell.get("style") or ""
        assert "border: 0.75pt solid #000" in style, lxml.html.tostring(cell)[:200]
    assert all("border-collapse: collapse" in (t.get("style") or "") for t in tree.xpath("//table"))
    for th in tree.xpath("//table//th"):
        assert "background: #f2f2f2" in th.get("style")
    # each status cell keeps the fill the render gave it (绿/黄/红/灰)
    status = tree.xpath('//table[contains(@class, "indicators")]//td[@data-status]')
    rendered = mail["source"].xpath('//table[contains(@class, "indicators")]//td[@data-status]')
    assert len(status) == len(rendered) == 37
    for td, src in zip(status, rendered):
        fill = re.fullmatch(r"background-color:(#[0-9A-Fa-f]{6})", src.get("style")).group(1)
        assert f"background-color: {fill}" in td.get("style")
    # the boxes the tables scroll in, and the body font, without any <style>
    assert all("overflow-x: auto" in w.get("style") for w in tree.xpath('//div[@class="table-wrap"]'))
    assert "font-size: 16pt" in tree.xpath("//body")[0].get("style")
    # the phone rules are kept in a <style> for the clients that honour it
    assert "@media screen and (max-width: 600px)" in html


def test_html_part_without_style_fits_a_phone(mail, tmp_path):
    if CHROMIUM is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is not installed but CI=true")
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    page_path = tmp_path / "webmail.html"
    page_path.write_text(_without_style(mail["msg"].get_body(("html",)).get_content()), encoding="utf-8")
    with Page(width=400, mobile=True) as page:
        page.open(page_path)
        m = page.evaluate("""(() => {
          const td = document.querySelector('table.indicators td[data-status="red"]');
          return {scrollWidth: document.documentElement.scrollWidth,
                  border: getComputedStyle(td).borderTopWidth,
                  fill: getComputedStyle(td).backgroundColor};
        })()""")
        page.screenshot(tmp_path / "webmail-400.png")
    assert m["scrollWidth"] <= 400
    assert float(m["border"].removesuffix("px")) > 0
    red = mail["source"].xpath('//td[@data-status="red"]')[0].get("style")[-6:]
    assert m["fill"] == "rgb({}, {}, {})".format(*(int(red[i:i + 2], 16) for i in (0, 2, 4)))


def test_text_part_keeps_every_table_row(mail):
    text = mail["msg"].get_body(("plain",)).get_content()
    lines = text.splitlines()
    main = _rows(mail["source"], "indicators")
    assert len(main) == 37
    for table in ("indicators", "ranking industry", "ranking town", "deliveries", "calibers"):
        rows = _rows(mail["source"], table)
        assert rows, table
        for cells in rows:
            # the row's cells, in order, on one line (the 口径 column wraps in the text too)
            first = [c for c in cells if c][:4]
            pattern = r"\s+".join(re.escape(c) for c in first)
            assert any(re.search(pattern, line) for line in lines), (table, cells)
    # every heading is followed by its content, not orphaned
    assert re.search(r"二、主要指标完成情况\s+序号\s+指标\s+单位\s+目标", text)
    assert text.rstrip().endswith("（Word 和 PDF 版本见附件。）")


def test_subject_and_attachment_names_are_the_rendered_bulletins(mail, config):  # noqa: F811
    msg = mail["msg"]
    subject = Document(str(mail["paths"]["docx"])).core_properties.subject
    assert msg["Subject"] == subject == "【进展通报】云和县制造业“腾笼换鸟、凤凰涅槃”攻坚行动（2023年第6期）"
    title = f"{config['bulletin']['title']}（2023年第6期）"
    assert mail["source"].findtext(".//title") == title
    assert sorted(p.get_filename() for p in msg.iter_attachments()) == [f"{title}.docx", f"{title}.pdf"]
