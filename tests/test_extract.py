"""The reader: encodings, xlsx layouts, header variants, value formats, and reading-level errors
(file, sheet, row, column, Chinese reason). Plus finding deliveries and archiving."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest

from mfg_indicators import feeds
from mfg_indicators.extract import (Delivery, archive_delivery, coerce, decode_text, find_deliveries, read_delivery,
                                    sha256_file)

from test_ingest_support import H, headers, registry_rows, tax_rows, uscc, write_csv, write_json, write_xlsx


def _one(result, table):
    assert not result.errors, [f.message for f in result.errors]
    tds = [t for t in result.tables if t.table.name == table]
    assert len(tds) == 1
    return tds[0]


# --- encodings -------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_are_detected(tmp_path, encoding):
    rows = tax_rows("2023-06", [1, 2, 3])
    rows[0][1] = "云和县木玩有限公司（浙江）"  # characters outside ASCII in every row
    p = write_csv(tmp_path / "tax" / "税收.csv", headers("tax"), rows, encoding=encoding)
    td = _one(read_delivery(p, "tax"), "tax")
    assert td.columns["name"][0] == "云和县木玩有限公司（浙江）"
    assert td.columns["uscc"] == [uscc(1), uscc(2), uscc(3)]
    assert td.row_numbers == [2, 3, 4]


def test_gbk_is_detected_by_content_not_name(tmp_path):
    # A GBK file named like a UTF-8 one: decoding follows the bytes.
    p = write_csv(tmp_path / "utf8-export.csv", headers("tax"), tax_rows("2023-06", [1]), encoding="gbk")
    text, enc = decode_text(p.read_bytes())
    assert enc == "gb18030" and "纳税人名称" in text
    assert _one(read_delivery(p, "tax"), "tax").columns["name"] == ["云和县企业1有限公司"]


# --- xlsx layouts and header variants ----------------------------------------------------------


def test_xlsx_title_rows_sheet_order_and_two_tables(tmp_path):
    county = [["2023年6月主要经济指标（县统计局）"], [], headers("stats_county"),
              ["地区生产总值", "2023-06", "累计", 55.5, "亿元"], ["规上工业增加值增速", "202306", "累计", 12.3, "%"]]
    ent = [["规上工业企业月报"], headers("stats_enterprise"),
           [uscc(1), "甲", "2023年6月", 1000, 200, 1100, 30, 50]]
    # 主要指标 first, then 企业月报, with sheet names that say nothing
    p = write_xlsx(tmp_path / "stats.xlsx", [("Sheet1", county), ("说明", [["填表说明：……"]]), ("Sheet3", ent)])
    res = read_delivery(p, "stats")
    c = _one(res, "stats_county")
    e = _one(res, "stats_enterprise")
    assert c.sheet == "Sheet1" and c.header_row == 3 and c.row_numbers == [4, 5]
    assert c.columns["period"] == ["2023-06", "2023-06"] and c.columns["value"] == [55.5, 12.3]
    assert e.sheet == "Sheet3" and e.row_numbers == [3] and e.columns["period"] == ["2023-06"]
    assert [f.rule for f in res.findings] == ["unrecognised_sheet"]  # a warning, not an error
    assert not res.findings[0].is_error


def test_header_variants_spaces_and_parentheses(tmp_path):
    variants = [f"  {h.replace('（', '(').replace('）', ')')} " for h in headers("tax")]
    variants[1] = "纳税人 名称"
    p = write_csv(tmp_path / "t.csv", variants, tax_rows("2023-06", [1]))
    assert _one(read_delivery(p, "tax"), "tax").columns["vat"] == [10.0]


def test_columns_in_any_order(tmp_path):
    hs = headers("energy")[::-1]
    p = write_csv(tmp_path / "e.csv", hs, [[12.5, "1,234.5", "2023-06", "甲", uscc(7)]])
    td = _one(read_delivery(p, "energy"), "energy")
    assert td.columns["uscc"] == [uscc(7)] and td.columns["energy_tce"] == [1234.5]
    assert td.columns["electricity"] == [12.5]


# --- value formats ----------------------------------------------------------------------------


@pytest.mark.parametrize("raw,expected", [("2023-06", "2023-06"), ("202306", "2023-06"), ("2023年6月", "2023-06"),
                                          ("2023年06月", "2023-06"), (202306, "2023-06"),
                                          (dt.datetime(2023, 6, 1), "2023-06"), ("2023-6", "2023-06")])
def test_month_formats(raw, expected):
    assert coerce(feeds.TAX.column("period"), raw) == expected


@pytest.mark.parametrize("raw,expected", [("2023-06-05", dt.date(2023, 6, 5)), ("2023/6/5", dt.date(2023, 6, 5)),
                                          (45082, dt.date(2023, 6, 5)), ("45082", dt.date(2023, 6, 5)),
                                          (dt.datetime(2023, 6, 5, 14, 30), dt.date(2023, 6, 5)),
                                          ("2023年6月5日", dt.date(2023, 6, 5))])
def test_date_formats(raw, expected):
    assert coerce(feeds.PROJECTS.column("stage_date"), raw) == expected


@pytest.mark.parametrize("raw,expected", [("1,234.5", 1234.5), ("12,345,678", 12345678.0), (" -3.25 ", -3.25),
                                          (7, 7.0), ("", None), ("   ", None), (None, None)])
def test_numbers_thousands_and_empty(raw, expected):
    assert coerce(feeds.TAX.column("vat"), raw) == expected


def test_yesno_and_empty_cells_are_not_zero(tmp_path):
    rows = registry_rows(2023, [1, 2])
    rows[0][4] = None  # 用地面积 not reported
    rows[1][5] = "否"
    p = write_csv(tmp_path / "r.csv", headers("registry"), rows)
    td = _one(read_delivery(p, "registry"), "registry")
    assert td.columns["land_mu"] == [None, 14.5]
    assert td.columns["is_above_scale"] == [1, 0]
    assert td.columns["roster_year"] == [2023, 2023]
    df = td.frame()
    assert df["land_mu"].isna().tolist() == [True, False]
    assert list(df.columns) == [*feeds.REGISTRY.column_names, "_row"] and df["_row"].tolist() == [2, 3]


def test_xlsx_native_values(tmp_path):
    rows = [headers("projects"),
            ["2306-331125-04-01-512345", "年产100万件木玩", "甲公司", uscc(3), 2459, 12000, "签约",
             dt.datetime(2023, 6, 5), "是", None],
            ["2306-331125-04-01-512346", "阀门技改", "乙公司", None, "3443", "8,000", "备案", 45083, "否", 100]]
    p = write_xlsx(tmp_path / "p.xlsx", [("项目", rows)])
    td = _one(read_delivery(p, "projects"), "projects")
    assert td.columns["industry_code"] == ["2459", "3443"]
    assert td.columns["stage_date"] == [dt.date(2023, 6, 5), dt.date(2023, 6, 6)]
    assert td.columns["uscc"] == [uscc(3), None]
    assert td.columns["total_investment"] == [12000.0, 8000.0]
    assert td.columns["funds_in_place"] == [None, 100.0]
    assert td.periods() == ["2023-06"]


def test_json_records(tmp_path):
    p = write_json(tmp_path / "tax" / "http-20230701T000000Z.json", "tax", tax_rows("2023年6月", [1, 2]))
    td = _one(read_delivery(p, "tax"), "tax")
    assert td.sheet is None and td.row_numbers == [1, 2] and td.columns["period"] == ["2023-06"] * 2


# --- reading-level errors ---------------------------------------------------------------------


def _error(result, rule):
    errs = [f for f in result.errors if f.rule == rule]
    assert errs, [(f.rule, f.message) for f in result.findings]
    assert not result.tables  # a file with any error yields nothing
    return errs[0]


def test_empty_file(tmp_path):
    p = tmp_path / "empty.csv"
    p.write_bytes(b"")
    f = _error(read_delivery(p, "tax"), "empty_file")
    assert f.file == "empty.csv" and "空" in f.message


def test_header_only_is_empty(tmp_path):
    p = write_csv(tmp_path / "h.csv", headers("tax"), [])
    f = _error(read_delivery(p, "tax"), "empty_file")
    assert f.row == 1 and "没有数据" in f.message


def test_unreadable_binary(tmp_path):
    p = tmp_path / "x.csv"
    p.write_bytes(bytes(range(256)) * 20)
    _error(read_delivery(p, "tax"), "unreadable")


def test_truncated_xlsx(tmp_path):
    good = write_xlsx(tmp_path / "good.xlsx", [("税收", [headers("tax"), *tax_rows("2023-06", list(range(1, 200)))])])
    data = good.read_bytes()
    p = tmp_path / "截断.xlsx"
    p.write_bytes(data[: len(data) // 2])
    f = _error(read_delivery(p, "tax"), "unreadable")
    assert f.file == "截断.xlsx" and "损坏" in f.message and f.message_en


def test_missing_column(tmp_path):
    hs = headers("tax")
    rows = [r[:3] + r[4:] for r in tax_rows("2023-06", [1])]
    p = write_csv(tmp_path / "m.csv", hs[:3] + hs[4:], rows)
    f = _error(read_delivery(p, "tax"), "missing_column")
    assert f.column == H("tax", "vat") and f.row == 1 and "缺少列" in f.message


def test_unknown_column(tmp_path):
    rows = [r + ["x"] for r in tax_rows("2023-06", [1])]
    p = write_xlsx(tmp_path / "u.xlsx", [("Sheet1", [["标题"], headers("tax") + ["备注栏"], *rows])])
    f = _error(read_delivery(p, "tax"), "unknown_column")
    assert (f.sheet, f.row, f.column) == ("Sheet1", 2, "备注栏") and "未知列" in f.message


def test_text_in_number_column_names_sheet_row_column(tmp_path):
    rows = tax_rows("2023-06", [1, 2, 3])
    rows[2][3] = "待核实"
    p = write_xlsx(tmp_path / "t.xlsx", [("六月", [["2023年6月税收"], headers("tax"), *rows])])
    f = _error(read_delivery(p, "tax"), "not_a_number")
    assert (f.file, f.sheet, f.row, f.column) == ("t.xlsx", "六月", 5, H("tax", "vat"))
    assert "待核实" in f.message and f.uscc == uscc(3)


@pytest.mark.parametrize("value", ["2023-13", "202300", "2023年13月"])
def test_impossible_month(tmp_path, value):
    rows = tax_rows("2023-06", [1, 2])
    rows[1][2] = value
    p = write_csv(tmp_path / "m.csv", headers("tax"), rows)
    f = _error(read_delivery(p, "tax"), "impossible_month")
    assert (f.row, f.column) == (3, H("tax", "period")) and "不存在" in f.message


@pytest.mark.parametrize("value", ["2023-02-30", "2023/13/1"])
def test_impossible_date(tmp_path, value):
    rows = [["2306-331125-04-01-512345", "项目", "甲", uscc(1), "2459", 100, "签约", value, "否", None]]
    p = write_csv(tmp_path / "p.csv", headers("projects"), rows)
    f = _error(read_delivery(p, "projects"), "impossible_date")
    assert (f.row, f.column) == (2, H("projects", "stage_date"))


def test_unrecognised_header_and_wrong_folder(tmp_path):
    p = write_csv(tmp_path / "x.csv", ["甲", "乙", "丙"], [[1, 2, 3]])
    _error(read_delivery(p, "tax"), "unrecognised_header")
    q = write_csv(tmp_path / "energy-in-tax.csv", headers("energy"), [[uscc(1), "甲", "2023-06", 1, 2]])
    f = _error(read_delivery(q, "tax"), "wrong_source")
    assert "energy" in f.message


def test_many_bad_cells_are_capped(tmp_path):
    rows = tax_rows("2023-06", list(range(1, 101)))
    for r in rows:
        r[3] = "n/a"
    p = write_csv(tmp_path / "t.csv", headers("tax"), rows)
    res = read_delivery(p, "tax")
    assert 20 <= len(res.errors) <= 22
    assert any("另有 80 行" in f.message for f in res.errors)


# --- finding and archiving --------------------------------------------------------------------


def test_find_deliveries_arrival_order(tmp_path):
    a = write_csv(tmp_path / "tax" / "b.csv", headers("tax"), tax_rows("2023-05", [1]), mtime=1_700_000_000)
    b = write_csv(tmp_path / "tax" / "a.csv", headers("tax"), tax_rows("2023-06", [1]), mtime=1_700_000_100)
    c = write_csv(tmp_path / "tax" / "c.csv", headers("tax"), tax_rows("2023-07", [1]), mtime=1_700_000_100)
    write_csv(tmp_path / "energy" / "e.csv", headers("energy"), [[uscc(1), "x", "2023-06", 1, 1]], mtime=1_700_000_050)
    (tmp_path / "tax" / "~$b.xlsx").write_bytes(b"lock")
    (tmp_path / "tax" / ".partial.tmp").write_bytes(b"x")
    assert [d.path for d in find_deliveries(tmp_path, "tax")] == [a, b, c]  # mtime, then name
    everything = find_deliveries(tmp_path)
    assert [d.name for d in everything] == ["b.csv", "e.csv", "a.csv", "c.csv"]
    assert everything[0].sha256 == sha256_file(a) and everything[0].source == "tax"


def test_archive_is_unchanged_copy_with_sha(tmp_path):
    p = write_csv(tmp_path / "inbox" / "tax" / "2023年6月税收.csv", headers("tax"), tax_rows("2023-06", [1]),
                  encoding="gbk", mtime=1_700_000_000)
    d = Delivery.from_path(p)
    target = archive_delivery(d, tmp_path / "archive")
    assert target == tmp_path / "archive" / "tax" / f"{d.sha256[:16]}__2023年6月税收.csv"
    assert target.read_bytes() == p.read_bytes()
    assert target.with_name(target.name + ".sha256").read_text(encoding="utf-8").split()[0] == d.sha256
    assert int(os.stat(target).st_mtime) == 1_700_000_000
    assert archive_delivery(d, tmp_path / "archive") == target  # idempotent


def test_frame_dtypes_for_validate(tmp_path):
    p = write_json(tmp_path / "x.json", "task_report", [["K05", "2023-06", 28, "家", "县科技局"],
                                                       ["K06", "2023-06", None, "家", None]])
    df = _one(read_delivery(p, "ledgers"), "task_report").frame()
    assert str(df["value"].dtype) == "float64" and df["reporter"].tolist() == ["县科技局", None]
    assert json.loads(json.dumps(df["_row"].tolist())) == [1, 2]
