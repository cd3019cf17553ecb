"""Hostile deliveries, one class at a time (issue 14): each is rejected by name with a finding
(file, row, column, reason), quarantined, the warehouse unchanged, the rest of the inbox loaded.
Readers run under ReadLimits; the inbox refuses links and special files and reports strays; the
archive and quarantine keep names within the file system's limit. Files are made here, in
tmp_path; the end-to-end runs of ``mfg-indicators run`` are at the bottom (both warehouses)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mfg_indicators.config import load_config
from mfg_indicators.extract import (ReadLimits, archive_delivery, bounded_name, json_depth,
                                    load_json, read_delivery, scan_inbox)
from mfg_indicators.ingest import ingest_inbox

from test_ingest_support import core_rows, headers, tax_rows, write_csv, write_json, write_xlsx

CONFIG = load_config()
CLI = str(Path(sys.executable).parent / "mfg-indicators")


def _rules(result) -> set[str]:
    return {f.rule for f in result.findings if f.is_error}


def _tax_csv(path: Path, period: str = "2023-06", ents=(1, 2)) -> Path:
    return write_csv(path, headers("tax"), tax_rows(period, list(ents)))


def _rewrite_member(path: Path, member: str, change) -> Path:
    """Rewrite (or add) one part of an xlsx (``change(old_bytes) -> new_bytes``), the rest copied."""
    src = zipfile.ZipFile(path)
    parts = [(i, src.read(i.filename)) for i in src.infolist()]
    src.close()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in parts:
            out.writestr(info.filename, change(data) if info.filename == member else data)
        if member not in {i.filename for i, _ in parts}:  # a part the workbook did not have
            out.writestr(member, change(b""))
    return path


def _tax_xlsx(path: Path, rows=None) -> Path:
    return write_xlsx(path, [("税收", [headers("tax")] + (rows or tax_rows("2023-06", [1, 2])))])


SHEET = "xl/worksheets/sheet1.xml"
XML_DECL = re.compile(rb"^<\?xml[^>]*\?>")


def _with_dtd(dtd: bytes, entity_use: bytes | None = None):
    def change(xml: bytes) -> bytes:
        body = XML_DECL.sub(b"", xml)
        if entity_use is not None:  # an entity reference where the first cell's text is
            body = body.replace(b"<t>", b"<t>" + entity_use, 1)
        return b'<?xml version="1.0" encoding="UTF-8"?>' + dtd + body
    return change


LAUGHS = (b'<!DOCTYPE worksheet [<!ENTITY l0 "lol">'
          + b"".join(b'<!ENTITY l%d "%s">' % (i, b"&l%d;" % (i - 1) * 10) for i in range(1, 10)) + b"]>")
EXTERNAL = b'<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/hostname">]>'


# --------------------------------------------------------------------------------------------
# Readers


@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "quoted"])
def test_csv_field_over_the_csv_module_limit_is_a_finding_with_row_and_column(tmp_path, quoted):
    rows = tax_rows("2023-06", [1, 2, 3])
    rows[0][1] = "长" * 200_000  # over Python's csv field limit (131,072) and the cell limit
    if quoted:
        rows[1][1] = 'name with "quotes"'
    p = write_csv(tmp_path / "tax.csv", headers("tax"), rows)
    r = read_delivery(p, "tax")
    [f] = [f for f in r.findings if f.rule == "cell_too_long"]
    assert (f.file, f.row, f.column) == ("tax.csv", 2, "第2列") and "32,767" in f.message
    assert r.tables == []


def test_csv_rows_and_columns_stop_at_the_limits(tmp_path):
    p = _tax_csv(tmp_path / "tax.csv", ents=range(1, 11))
    assert _rules(read_delivery(p, "tax", limits=ReadLimits(max_rows=5))) == {"too_many_rows"}
    assert read_delivery(p, "tax", limits=ReadLimits(max_rows=11)).ok  # header + 10 rows
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(headers("tax")) + "\n" + ",".join(["1"] * 300) + "\n", encoding="utf-8")
    r = read_delivery(wide, "tax")
    [f] = r.errors
    assert (f.rule, f.row, f.column) == ("too_many_columns", 2, "第257列")
    assert _rules(read_delivery(p, "tax", limits=ReadLimits(max_file_bytes=100))) == {"file_too_large"}


@pytest.mark.parametrize("where", ["sheet", "shared_strings", "utf16"])
@pytest.mark.parametrize("dtd", [LAUGHS, EXTERNAL], ids=["entity_expansion", "external_entity"])
def test_xlsx_with_a_dtd_is_refused_by_name(tmp_path, dtd, where):
    p = _tax_xlsx(tmp_path / "tax.xlsx")
    use = b"&l9;" if dtd is LAUGHS else b"&x;"
    if where == "sheet":
        _rewrite_member(p, SHEET, _with_dtd(dtd, use))
    elif where == "shared_strings":
        _rewrite_member(p, "xl/sharedStrings.xml", lambda _old: b'<?xml version="1.0"?>' + dtd + (
            b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>' + use + b"</t></si></sst>"))
    else:
        def utf16(xml: bytes) -> bytes:
            text = _with_dtd(dtd, use)(xml).decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
            return text.encode("utf-16")
        _rewrite_member(p, SHEET, utf16)
    r = read_delivery(p, "tax")
    [f] = r.errors
    assert f.rule == "xlsx_dtd" and "DTD" in f.message and f.file == "tax.xlsx"


def test_xlsx_dtd_in_a_worksheet_part_of_any_name_is_refused(tmp_path):
    p = _tax_xlsx(tmp_path / "tax.xlsx")
    _rewrite_member(p, SHEET, _with_dtd(EXTERNAL, b"&x;"))
    src = zipfile.ZipFile(p)
    parts = {i.filename: src.read(i.filename) for i in src.infolist()}
    src.close()
    parts["xl/data/part1.dat"] = parts.pop(SHEET)  # the workbook's relations name the part
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"/xl/worksheets/sheet1.xml", b"/xl/data/part1.dat").replace(b'"worksheets/sheet1.xml"', b'"data/part1.dat"')
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)
    assert b"part1.dat" in parts["xl/_rels/workbook.xml.rels"]
    assert _rules(read_delivery(p, "tax")) == {"xlsx_dtd"}


def test_xlsx_absurd_dimension_is_not_trusted(tmp_path):
    p = _tax_xlsx(tmp_path / "tax.xlsx")
    _rewrite_member(p, SHEET, lambda x: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', x))
    assert b"XFD1048576" in zipfile.ZipFile(p).read(SHEET)
    r = read_delivery(p, "tax")
    assert r.ok and len(r.tables[0]) == 2  # read as the two rows it holds


def test_xlsx_cell_far_right_or_far_down_is_bounded(tmp_path):
    p = _tax_xlsx(tmp_path / "tax.xlsx")
    _rewrite_member(p, SHEET, lambda x: x.replace(b"</row></sheetData>",
                                                  b'<c r="XFD3" t="n"><v>1</v></c></row></sheetData>'))
    [f] = read_delivery(p, "tax").errors
    assert (f.rule, f.sheet, f.row) == ("too_many_columns", "税收", 3)
    q = _tax_xlsx(tmp_path / "down.xlsx")
    _rewrite_member(q, SHEET, lambda x: x.replace(b"</sheetData>", b'<row r="1048576"><c r="A1048576" t="n"><v>1</v></c></row></sheetData>'))
    assert _rules(read_delivery(q, "tax", limits=ReadLimits(max_rows=1000))) == {"too_many_rows"}


def test_xlsx_zip_bomb_and_part_count_are_refused(tmp_path):
    p = _tax_xlsx(tmp_path / "tax.xlsx")
    with zipfile.ZipFile(p, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/pad.bin", b"\0" * (8 * 2**20))  # 8 MiB in a few KiB
    assert _rules(read_delivery(p, "tax")) == {"xlsx_zip_bomb"}
    assert _rules(read_delivery(p, "tax", limits=ReadLimits(max_unzipped_bytes=2**20))) == {"xlsx_too_large"}
    q = _tax_xlsx(tmp_path / "parts.xlsx")
    assert _rules(read_delivery(q, "tax", limits=ReadLimits(max_zip_members=3))) == {"xlsx_too_many_parts"}


@pytest.mark.parametrize("part,change", [
    ("xl/workbook.xml", lambda x: x.replace(b"<sheets>", b"<sheets <")),
    ("[Content_Types].xml", lambda x: x[: len(x) // 2]),
    (SHEET, lambda x: x.replace(b"</sheetData>", b"<row r=")),
], ids=["workbook_syntax", "content_types_cut", "sheet_cut"])
def test_xlsx_with_broken_xml_is_unreadable_not_a_crash(tmp_path, part, change):
    p = _rewrite_member(_tax_xlsx(tmp_path / "tax.xlsx"), part, change)
    r = read_delivery(p, "tax")
    assert _rules(r) == {"unreadable"} and "损坏" in r.errors[0].message


def test_formula_without_cached_value_names_the_cell(tmp_path):
    rows = tax_rows("2023-06", [1, 2])
    rows[1][6] = "=D3+E3+F3"  # openpyxl saves the formula with no cached value, as scripts do
    p = _tax_xlsx(tmp_path / "tax.xlsx", rows)
    [f] = read_delivery(p, "tax").errors
    assert (f.rule, f.sheet, f.row, f.column) == ("formula_without_value", "税收", 3, "税收实际贡献（万元）")
    assert "G3" in f.message
    # the same formula with its cached value (as Excel saves it) is read as that value
    _rewrite_member(p, SHEET, lambda x: x.replace(b"<f>D3+E3+F3</f><v></v>", b"<f>D3+E3+F3</f><v>15.5</v>"))
    r = read_delivery(p, "tax")
    assert r.ok and r.tables[0].columns["total_tax"] == [13.5, 15.5]


@pytest.mark.parametrize("body,rule", [
    ("[" * 10_000 + "]" * 10_000, "json_too_deep"),
    ('{"records": [{"a": ' + "[" * 3_000 + "1" + "]" * 3_000 + "}]}", "json_too_deep"),
    ('{"records": [{"n": ' + "7" * 5_000 + "}]}", "number_too_long"),
    ('{"records": [{"n": -' + "7" * 31 + "}]}", "number_too_long"),
], ids=["array", "in_a_record", "5000_digits", "31_digits"])
def test_json_depth_and_integer_size_are_findings(tmp_path, body, rule):
    p = tmp_path / "tax.json"
    p.write_text(body, encoding="utf-8")
    r = read_delivery(p, "tax")
    assert _rules(r) == {rule} and r.errors[0].file == "tax.json"


def test_integer_beyond_64_bits_is_a_cell_finding(tmp_path):
    from test_ingest_support import registry_rows

    rows = registry_rows(2023, [1, 2])
    rows[1][6] = "9" * 25  # 名录年份
    p = write_csv(tmp_path / "registry.csv", headers("registry"), rows)
    [f] = read_delivery(p, "registry").errors
    assert (f.rule, f.row, f.column) == ("number_out_of_range", 3, "名录年份")


def test_json_depth_ignores_brackets_in_strings():
    assert json_depth(load_json('{"records": [{"名称": "[[[{{{\\"]]]"}]}')) == 3
    assert _rules_of_json('{"records": [' + "[" * 40 + "]" * 40 + "]}") == {"json_too_deep"}  # under the parser's own limit
    # a hostile tail (a string that never ends, full of escaped quotes) is answered at once
    assert _rules_of_json('{"records": ["' + '\\"' * 200_000) == {"unreadable"}


def _rules_of_json(text: str) -> set[str]:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "tax.json"
        p.write_text(text, encoding="utf-8")
        return _rules(read_delivery(p, "tax"))
    assert load_json(b'{"records": [{"n": 123456789012345678901234567890}]}')["records"][0]["n"] == \
        123456789012345678901234567890  # 30 digits: within the limit


@pytest.mark.parametrize("name", ["企业\\u0000名称", "企业\\ud800名称", "\\udfff"], ids=["nul", "high", "low"])
def test_text_no_warehouse_can_store_is_a_finding(engine, tmp_path, name):
    inbox = tmp_path / "inbox"
    rows = tax_rows("2023-06", [1, 2])
    records = [dict(zip(headers("tax"), r)) for r in rows]
    text = json.dumps({"records": records}, ensure_ascii=False).replace("云和县企业2有限公司", name)
    (inbox / "tax").mkdir(parents=True)
    (inbox / "tax" / "pull.json").write_text(text, encoding="utf-8")
    _tax_csv(inbox / "tax" / "good.csv", period="2023-05")
    rep = ingest_inbox(inbox, engine, config=CONFIG, archive_dir=tmp_path / "a", quarantine_dir=tmp_path / "q")
    assert {o.file: o.status for o in rep.outcomes} == {"pull.json": "rejected", "good.csv": "accepted"}
    [f] = rep.rejected
    assert (f.rule, f.row, f.column) == ("bad_characters", 2, "纳税人名称")
    report = Path(f"{rep.rejected_files[0].quarantine_path}.report.txt").read_text(encoding="utf-8")
    assert "无法保存的字符" in report


def test_unexpected_reader_failure_rejects_only_that_delivery(engine, tmp_path, monkeypatch):
    from mfg_indicators import ingest

    inbox = tmp_path / "inbox"
    _tax_csv(inbox / "tax" / "good.csv")
    write_csv(inbox / "tax" / "bad.csv", headers("tax"), tax_rows("2023-07", [1]))
    real = ingest.read_delivery

    def faulty(path, source, **kw):  # fault injection: a reader bug on one file
        if Path(path).name == "bad.csv":
            raise RecursionError("maximum recursion depth exceeded")
        return real(path, source, **kw)

    monkeypatch.setattr(ingest, "read_delivery", faulty)
    rep = ingest_inbox(inbox, engine, config=CONFIG, archive_dir=tmp_path / "a", quarantine_dir=tmp_path / "q",
                       prefetch="thread")
    assert {o.file: o.status for o in rep.outcomes} == {"good.csv": "accepted", "bad.csv": "rejected"}
    [f] = rep.rejected
    assert f.rule == "read_failed" and "RecursionError" in f.message and rep.exit_code == 2
    assert [r["period"] for r in core_rows(engine, "tax")] == ["2023-06", "2023-06"]


@pytest.mark.parametrize("prefetch", ["thread", "process"])
def test_file_over_the_size_limit_is_archived_and_rejected_unread(engine, tmp_path, monkeypatch, prefetch):
    from mfg_indicators.extract import limits

    inbox = tmp_path / "inbox"
    big = _tax_csv(inbox / "tax" / "big.csv", ents=range(1, 60))
    small = _tax_csv(inbox / "tax" / "small.csv", period="2023-05")
    assert small.stat().st_size < 2000 < big.stat().st_size
    monkeypatch.setattr(limits, "DEFAULT_LIMITS", ReadLimits(max_file_bytes=2000))
    rep = ingest_inbox(inbox, engine, config=CONFIG, archive_dir=tmp_path / "a", quarantine_dir=tmp_path / "q",
                       prefetch=prefetch, move_rejected=False)
    by = {o.file: o for o in rep.outcomes}
    assert by["small.csv"].status == "accepted" and by["big.csv"].status == "rejected"
    assert [f.rule for f in by["big.csv"].errors] == ["file_too_large"]
    assert by["big.csv"].archive_path.read_bytes() == big.read_bytes()  # archived unchanged all the same
    assert {r["period"] for r in core_rows(engine, "tax")} == {"2023-05"}


def test_concurrent_archiving_of_one_delivery_never_fails(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from mfg_indicators.extract import Delivery

    d = Delivery.from_path(_tax_csv(tmp_path / "tax" / "6月.csv", ents=range(1, 2000)))
    with ThreadPoolExecutor(8) as pool:
        targets = list(pool.map(lambda _: archive_delivery(d, tmp_path / "archive"), range(16)))
    assert len(set(targets)) == 1 and targets[0].read_bytes() == d.path.read_bytes()
    assert sorted(p.name for p in targets[0].parent.iterdir()) == [targets[0].name, targets[0].name + ".sha256"]


# --------------------------------------------------------------------------------------------
# The inbox


def _inbox_with_strays(tmp_path: Path) -> tuple[Path, Path]:
    inbox = tmp_path / "inbox"
    _tax_csv(inbox / "tax" / "good.csv")
    outside = _tax_csv(tmp_path / "elsewhere" / "secret.csv", period="2023-05", ents=(7,))
    (inbox / "tax" / "link.csv").symlink_to(outside)
    os.link(_tax_csv(tmp_path / "elsewhere" / "hard.csv", period="2023-04", ents=(8,)), inbox / "tax" / "hard.csv")
    os.mkfifo(inbox / "tax" / "pipe.csv")
    _tax_csv(inbox / "tax" / "补报" / "6月.csv", period="2023-03", ents=(9,))
    _tax_csv(inbox / "taxes" / "7月.csv", period="2023-02", ents=(10,))
    _tax_csv(inbox / "loose.csv", period="2023-01", ents=(11,))
    (inbox / "tax" / ".hidden.csv").write_text("x", encoding="utf-8")
    (inbox / "tax" / "~$open.xlsx").write_text("x", encoding="utf-8")
    return inbox, outside


def test_inbox_refuses_links_and_special_files_and_reports_strays(engine, tmp_path):
    inbox, _ = _inbox_with_strays(tmp_path)
    scan = scan_inbox(inbox)
    assert [d.name for d in scan.deliveries] == ["good.csv"]
    assert {(f.rule, f.file) for f in scan.findings} == {
        ("inbox_link", "link.csv"), ("inbox_hardlink", "hard.csv"), ("inbox_special_file", "pipe.csv"),
        ("inbox_subfolder", "补报/6月.csv"), ("inbox_unknown_folder", "taxes/7月.csv"),
        ("inbox_stray_file", "loose.csv")}
    assert all(f.is_error and f.message for f in scan.findings)
    rep = ingest_inbox(inbox, engine, config=CONFIG, archive_dir=tmp_path / "a", quarantine_dir=tmp_path / "q")
    assert [o.status for o in rep.outcomes] == ["accepted"] and rep.exit_code == 2
    assert len(rep.rejected) == 6
    # only the good file reached the warehouse; the linked files were never read nor archived
    assert {r["period"] for r in core_rows(engine, "tax")} == {"2023-06"}
    assert [p.name for p in (tmp_path / "a" / "tax").iterdir() if not p.name.endswith(".sha256")] == \
        [f"{rep.outcomes[0].delivery_id[:16]}__good.csv"]


def test_a_source_folder_that_is_a_link_is_refused(tmp_path):
    real = tmp_path / "elsewhere"
    _tax_csv(real / "a.csv")
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "tax").symlink_to(real, target_is_directory=True)
    scan = scan_inbox(tmp_path / "inbox", "tax")
    assert scan.deliveries == [] and [f.rule for f in scan.findings] == ["inbox_not_a_folder"]


def test_long_file_name_is_archived_and_quarantined(engine, tmp_path):
    inbox = tmp_path / "inbox"
    long_good = "税" * 80 + ".csv"  # 244 bytes: fits the folder, not with the archive's prefix
    long_bad = "错" * 83 + ".csv"  # 253 bytes
    _tax_csv(inbox / "tax" / long_good)
    (inbox / "tax" / long_bad).write_text("不是表格\n", encoding="utf-8")
    sent = {p.name: p.read_bytes() for p in (inbox / "tax").iterdir()}
    rep = ingest_inbox(inbox, engine, config=CONFIG, archive_dir=tmp_path / "a", quarantine_dir=tmp_path / "q")
    by = {o.file: o for o in rep.outcomes}
    assert by[long_good].status == "accepted" and by[long_bad].status == "rejected"
    for o in rep.outcomes:
        assert len(o.archive_path.name.encode()) <= 255 - len(".report.json") - 1
        assert o.archive_path.read_bytes() == sent[o.file]
    q = by[long_bad].quarantine_path
    assert q.exists() and json.loads(Path(f"{q}.report.json").read_text(encoding="utf-8"))["file"] == long_bad
    assert bounded_name("a" * 300 + ".xlsx").endswith(".xlsx") and bounded_name("b.csv") == "b.csv"


def test_sha256_sidecar_escapes_a_name_with_a_newline(tmp_path):
    from mfg_indicators.extract import Delivery

    p = _tax_csv(tmp_path / "tax" / "6月\n伪造行  x.csv")
    target = archive_delivery(Delivery.from_path(p), tmp_path / "archive")
    line = target.with_name(target.name + ".sha256").read_text(encoding="utf-8")
    assert line.count("\n") == 1 and line.startswith("\\") and "\\n" in line
    ok = subprocess.run(["sha256sum", "-c", target.name + ".sha256"], cwd=target.parent, capture_output=True)
    assert ok.returncode == 0, ok.stderr


# --------------------------------------------------------------------------------------------
# End to end: one inbox holding one of each class beside good data, on both warehouses


def _hostile_inbox(tmp_path: Path) -> tuple[Path, set[str]]:
    inbox = tmp_path / "inbox"
    _tax_csv(inbox / "tax" / "good.csv")
    rows = tax_rows("2023-07", [1])
    rows[0][1] = "长" * 200_000
    write_csv(inbox / "tax" / "long-field.csv", headers("tax"), rows)
    _rewrite_member(_tax_xlsx(inbox / "tax" / "laughs.xlsx"), SHEET, _with_dtd(LAUGHS, b"&l9;"))
    _rewrite_member(_tax_xlsx(inbox / "tax" / "xxe.xlsx"), SHEET, _with_dtd(EXTERNAL, b"&x;"))
    f_rows = tax_rows("2023-08", [1, 2])
    f_rows[0][6] = "=D2+E2+F2"
    _tax_xlsx(inbox / "tax" / "formula.xlsx", f_rows)
    (inbox / "tax" / "deep.json").write_text("[" * 20_000 + "]" * 20_000, encoding="utf-8")
    (inbox / "tax" / "bigint.json").write_text('{"records": [{"n": ' + "9" * 5_000 + "}]}", encoding="utf-8")
    long = "名" * 82 + ".csv"
    (inbox / "tax" / long).write_text("坏\n", encoding="utf-8")
    write_json(inbox / "energy" / "empty.json", "energy", [])
    (tmp_path / "outside.csv").write_text("secret", encoding="utf-8")
    (inbox / "tax" / "link.csv").symlink_to(tmp_path / "outside.csv")
    _tax_csv(inbox / "tax" / "补报" / "x.csv", period="2023-09")
    names = {"long-field.csv", "laughs.xlsx", "xxe.xlsx", "formula.xlsx", "deep.json", "bigint.json", long,
             "empty.json", "link.csv", "补报/x.csv"}
    return inbox, names


def test_run_with_hostile_deliveries_exits_2_with_complete_json(warehouse_url, tmp_path):
    inbox, names = _hostile_inbox(tmp_path)
    out = tmp_path / "out"
    r = subprocess.run([CLI, "run", "--period", "2023-06", "--inbox", str(inbox), "--warehouse", warehouse_url,
                        "--out", str(out)], capture_output=True, text=True, timeout=900)
    assert r.returncode == 2, r.stderr[-3000:]
    assert "Traceback" not in r.stderr
    doc = json.loads((out / "indicators-2023-06.json").read_text(encoding="utf-8"))
    assert [i["code"] for i in doc["indicators"]] == [i["code"] for i in CONFIG.indicators]
    assert {x["file"] for x in doc["rejected"]} == names
    assert all(x["reason"] for x in doc["rejected"])
    assert "1 accepted" in r.stderr
