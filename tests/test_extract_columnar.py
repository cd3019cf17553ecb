"""The columnar CSV reader (pyarrow) gives exactly what the row-by-row reader gives, and hands
every unusual file to the row-by-row reader (so findings come from one place)."""

from __future__ import annotations

import pytest

from mfg_indicators import sample
from mfg_indicators.extract import csv_reader, read_delivery

from test_ingest_support import headers, tax_rows, uscc


def _both(path, source, monkeypatch):
    """(columnar was used, result with columnar enabled, result of the row-by-row reader only)."""
    used = []
    real = csv_reader._read_csv_columnar

    def spy(*args):
        got = real(*args)
        used.append(got is not None)
        return got

    monkeypatch.setattr(csv_reader, "_read_csv_columnar", spy)
    fast = read_delivery(path, source)
    monkeypatch.setattr(csv_reader, "_read_csv_columnar", lambda *args: None)
    slow = read_delivery(path, source)
    monkeypatch.setattr(csv_reader, "_read_csv_columnar", real)
    return bool(used and used[0]), fast, slow


def _same(a, b):
    assert a.findings == b.findings
    assert [(t.table.name, t.sheet, t.header_row) for t in a.tables] == \
           [(t.table.name, t.sheet, t.header_row) for t in b.tables]
    for x, y in zip(a.tables, b.tables):
        assert x.row_numbers == y.row_numbers
        assert x.columns.keys() == y.columns.keys()
        for name in x.columns:
            # same values and same Python types (float vs int vs str vs date)
            assert [(type(v), v) for v in x.columns[name]] == [(type(v), v) for v in y.columns[name]], name


def test_every_csv_of_the_samples_reads_the_same_both_ways(tmp_path, monkeypatch):
    county, province = tmp_path / "county", tmp_path / "province"
    sample.generate(county, scale="county", seed=3)
    sample.generate(province, scale="province", seed=3, n_enterprises=2000)
    used = 0
    files = sorted([*county.glob("*/*.csv"), *province.glob("*/*.csv")])
    assert len(files) > 60
    for p in files:
        fast_used, fast, slow = _both(p, p.parent.name, monkeypatch)
        _same(fast, slow)
        used += fast_used
    # the large, plain province files take the columnar path (the test would be empty otherwise)
    province_monthly = [p for p in province.glob("*/*.csv") if p.parent.name in ("tax", "energy")]
    assert used >= len(province_monthly) > 0


def _tax_text(rows, *, header=None, newline="\n", pre=""):
    head = ",".join(header or headers("tax"))
    return pre + head + newline + newline.join(",".join("" if v is None else str(v) for v in r) for r in rows) + newline


@pytest.mark.parametrize("case, text, columnar", [
    ("plain", _tax_text(tax_rows("2023-06", [1, 2, 3])), True),
    ("crlf and title rows", _tax_text(tax_rows("2023-06", [1, 2]), newline="\r\n", pre="税收表\r\n\r\n"), True),
    ("trailing blank lines", _tax_text(tax_rows("2023-06", [1, 2])) + "\n\n", True),
    ("month formats", _tax_text([[uscc(1), "甲", "202306", 1, 1, 1, 3], [uscc(2), "乙", "2023年6月", 1, 1, 1, 3]]), True),
    ("ascii padding and lower-case uscc", _tax_text([[f"  {uscc(1).lower()} ", " 甲 ", "2023-06", " 1.5 ", 1, "", 2.5]]), True),
    ("exponent and signs", _tax_text([[uscc(1), "甲", "2023-06", "1e3", "-2", "+.5", "998.5"]]), True),
    ("quoted thousands", _tax_text([[uscc(1), "甲", "2023-06", '"1,234.5"', 1, 1, '"1,236.5"']]), False),
    ("blank line inside", _tax_text(tax_rows("2023-06", [1])) + "\n" + _tax_text(tax_rows("2023-06", [2]))[len(",".join(headers("tax"))) + 1:], False),
    ("row of empty cells", _tax_text(tax_rows("2023-06", [1]) + [[None] * 7] + tax_rows("2023-06", [2])), False),
    ("short row", _tax_text(tax_rows("2023-06", [1])) + f"{uscc(2)},乙\n", False),
    ("ideographic space", _tax_text([[uscc(1), "\u3000甲", "2023-06", 1, 1, 1, 3]]), False),
    ("unicode digits", _tax_text([[uscc(1), "甲", "2023-06", "١٢", 1, 1, 3]]), False),
    ("text in a number column", _tax_text([[uscc(1), "甲", "2023-06", "约10", 1, 1, 3]]), False),
    ("impossible month", _tax_text([[uscc(1), "甲", "2023-13", 1, 1, 1, 3]]), False),
    ("fractional int-like tax is fine", _tax_text([[uscc(1), "甲", "2023-06", "0.1", "0.2", "0.3", "0.6"]]), True),
    ("unknown column", _tax_text(tax_rows("2023-06", [1]), header=[*headers("tax")[:-1], "备注"]), False),
    ("header variant", _tax_text(tax_rows("2023-06", [1]), header=[h.replace("（万元）", "(万元)") for h in headers("tax")]), True),
])
def test_edge_cases_read_the_same_both_ways(tmp_path, monkeypatch, case, text, columnar):
    p = tmp_path / "tax" / "t.csv"
    p.parent.mkdir()
    p.write_bytes(text.encode("utf-8"))
    used, fast, slow = _both(p, "tax", monkeypatch)
    _same(fast, slow)
    assert used is columnar, case


def test_columnar_rows_are_numbered_as_the_sender_sees_them(tmp_path, monkeypatch):
    p = tmp_path / "tax" / "t.csv"
    p.parent.mkdir()
    p.write_bytes(_tax_text(tax_rows("2023-06", [1, 2, 3]), newline="\r\n", pre="2023年6月税收\r\n\r\n").encode("gbk"))
    used, fast, _ = _both(p, "tax", monkeypatch)
    assert used
    td = fast.tables[0]
    assert td.header_row == 3 and td.row_numbers == [4, 5, 6]
    assert td.columns["uscc"] == [uscc(1), uscc(2), uscc(3)]
    assert td.columns["period"] == ["2023-06"] * 3
    assert td.columns["vat"] == [10.0, 11.0, 12.0] and td.columns["name"][0] == "云和县企业1有限公司"
