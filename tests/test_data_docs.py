"""GX Data Docs: delivered values are text, pages load nothing from the internet, and one entry
page lists every site. Checked in real headless Chromium, without a network."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from urllib.parse import unquote

import pytest
from lxml import html as lxml_html

from mfg_indicators import feeds
from mfg_indicators.config import load_config
from mfg_indicators.validate import ValidationRun, validate_frame, write_data_docs
from test_expectations import clean_frame

CONFIG = load_config()
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HOSTILE = [
    '<img src=x onerror="document.title=\'pwned\'">',
    '"><svg onload="document.title=\'pwned\'">',
    "<script>document.title='pwned'</script>",
]
ASSET = re.compile(r"<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)=\"(https?:)?//", re.I)


def _chromium_dom(url: str) -> str:
    """The DOM after scripts ran, in headless Chromium with no network at all (a network
    namespace of its own; where that cannot be made, every request goes to a dead proxy)."""
    if CHROMIUM is None:
        pytest.fail("Chromium is needed (scripts/ensure-system-packages.sh installs it)")
    with tempfile.TemporaryDirectory() as profile:
        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile}", "--virtual-time-budget=3000", "--dump-dom", url]
        unshare = shutil.which("unshare")
        if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
            cmd = [unshare, "-n", *args]
        else:
            cmd = [*args[:-2], "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>", *args[-2:]]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def _hostile_run() -> ValidationRun:
    bad = clean_frame("tax")
    bad.loc[1, ["vat", "cit", "other_tax", "total_tax"]] = [-2.0, 0.0, 0.0, -2.0]
    bad.loc[1, "uscc"] = HOSTILE[0]
    bad.loc[2, "period"] = HOSTILE[1]
    bad.loc[0, "name"] = HOSTILE[2]
    bad[HOSTILE[0]] = 1  # an unexpected column, named by the sender
    run = ValidationRun()
    validate_frame(feeds.TAX, bad, source="tax", file="2023年6月<b>税收</b>.xlsx", sheet="Sheet1",
                   config=CONFIG, collector=run)
    return run


def _injected(dom: str) -> list[str]:
    tree = lxml_html.fromstring(dom)
    # GX's own buttons have onclick handlers; an injected element carries the payload
    found = [el.tag for el in tree.iter() if isinstance(el.tag, str)
             and any(a.startswith("on") and "pwned" in v for a, v in el.attrib.items())]
    found += [f"img src={el.get('src')}" for el in tree.iter("img") if el.get("src") == "x"]
    found += [s.text for s in tree.iter("script") if s.text and "pwned" in s.text]
    title = tree.findtext(".//title") or ""
    return found + (["title changed"] if "pwned" in title else [])


def test_delivered_values_never_become_elements_of_the_page(tmp_path):
    index = write_data_docs(_hostile_run(), tmp_path)
    [page] = list((tmp_path / "data-docs" / "validations").rglob("*.html"))
    for url in (page.as_uri(), index.as_uri()):
        dom = _chromium_dom(url)
        assert _injected(dom) == [], url
    dom = _chromium_dom(page.as_uri())
    # the value is there, as text the reader can see
    text = lxml_html.fromstring(dom).text_content()
    assert "onerror" in text and "<img src=x" in text
    entry = lxml_html.fromstring(_chromium_dom(index.as_uri())).text_content()
    assert "2023年6月<b>税收</b>.xlsx" in entry


def test_pages_load_nothing_from_the_internet_and_show_the_list_offline(tmp_path):
    run = _hostile_run()
    validate_frame(feeds.REGISTRY, clean_frame("registry"), source="registry", file="名录.csv", sheet=None,
                   config=CONFIG, collector=run)
    index = write_data_docs(run, tmp_path)
    site = tmp_path / "data-docs"
    pages = list(site.rglob("*.html"))
    assert len(pages) >= 5
    for p in pages:
        assert not ASSET.search(p.read_text(encoding="utf-8")), p
    # the local copies the pages name are there
    for p in pages:
        for ref in re.findall(r"<(?:script|link)\b[^>]*\b(?:src|href)=\"([^\"#]+)\"", p.read_text(encoding="utf-8")):
            assert (p.parent / ref).resolve().is_file(), (p, ref)
    tree = lxml_html.fromstring(_chromium_dom(index.as_uri()))
    rows = tree.xpath("//table[@id='validations']//tr[contains(@class, 'validation')]")
    assert len(rows) == 2
    assert {r.xpath("string(td[2])").strip() for r in rows} == {"tax", "registry"}
    for href in tree.xpath("//table[@id='validations']//a/@href"):
        assert (site / unquote(href)).is_file(), href
    # a validation page shows its results without the CDN (GX's static tables, local Bootstrap)
    [page] = list((site / "validations" / "registry").rglob("*.html"))
    text = lxml_html.fromstring(_chromium_dom(page.as_uri())).text_content()
    assert "Evaluated Expectations" in text and "uscc" in text


def test_one_entry_page_lists_every_site(tmp_path):
    """The CLI writes its site at output/data-docs/, the feed DAGs theirs at
    output/data-docs/feed_<source>/data-docs/: output/data-docs/index.html lists them all (a feed
    site rebuilt by its next run shows that run, as GX rebuilds it)."""
    out = tmp_path / "output"

    def one(table, file):
        run = ValidationRun()
        validate_frame(table, clean_frame(table.name), source=table.source, file=file, sheet=None,
                       config=CONFIG, collector=run)
        return run

    top = out / "data-docs" / "index.html"
    assert write_data_docs(one(feeds.ENERGY, "能耗.csv"), out / "data-docs" / "feed_energy",
                           run_name="feed_energy-1") == top
    assert write_data_docs(one(feeds.TAX, "税收.csv"), out / "data-docs" / "feed_tax", run_name="feed_tax-1") == top
    assert write_data_docs(one(feeds.TAX, "税收2.csv"), out / "data-docs" / "feed_tax", run_name="feed_tax-2") == top
    assert write_data_docs(one(feeds.REGISTRY, "名录.csv"), out, run_name="run-2023-12") == top
    tree = lxml_html.fromstring(top.read_text(encoding="utf-8"))
    files = sorted(tree.xpath("//table[@id='validations']//tr/td[3]/a/text()"))
    assert files == sorted(["能耗.csv", "税收2.csv", "名录.csv"])
    for href in tree.xpath("//table[@id='validations']//a/@href"):
        assert (out / "data-docs" / unquote(href)).is_file(), href
    # each feed site's own index lists its own validations only
    feed = lxml_html.fromstring((out / "data-docs" / "feed_tax" / "data-docs" / "index.html").read_text(encoding="utf-8"))
    assert feed.xpath("//table[@id='validations']//tr/td[3]/a/text()") == ["税收2.csv"]
    assert "feed_tax" in top.read_text(encoding="utf-8") and "feed_energy" in top.read_text(encoding="utf-8")
