"""The read stage's Arrow arrays: the columnar CSV reader and the row-by-row reader agree on the
inputs where pyarrow's semantics could differ (number spellings, line breaks, encodings); every
reader hands over arrays of the contract's types; frame(), periods() and the COPY data built from
the arrays are what the Python values give."""

from __future__ import annotations

import datetime as dt
import pickle

import numpy as np
import pandas as pd
import pytest

from mfg_indicators import feeds, load, sample
from mfg_indicators.extract import ReadLimits, read_delivery
from mfg_indicators.extract.results import ARROW_TYPES

from test_extract_columnar import _both, _same, _tax_text
from test_ingest_support import headers, registry_rows, tax_rows, uscc, write_csv, write_json, write_xlsx


def _tax_file(tmp_path, data: bytes, name="t.csv"):
    p = tmp_path / "tax" / name
    p.parent.mkdir(exist_ok=True)
    p.write_bytes(data)
    return p


NUMBER_SPELLINGS = ["1", "+1", "-1", "1.", ".5", "+.5", "1e5", "1E+5", "1e-5", "00012", "0.1e1", "1e-400",
                    "1e", "e5", ".", "+", "1.2.3", "inf", "-inf", "Infinity", "nan", "NaN", "0x10", "1_000",
                    "1,000", "1，000", "１２", "١٢", "1e400", "9" * 400, "--1", "1d5"]


@pytest.mark.parametrize("spelling", NUMBER_SPELLINGS)
def test_number_spellings_read_the_same_both_ways(tmp_path, monkeypatch, spelling):
    p = _tax_file(tmp_path, _tax_text([[uscc(1), "甲", "2023-06", spelling, 1, 1, 3]]).encode("utf-8"))
    used, fast, slow = _both(p, "tax", monkeypatch)
    _same(fast, slow)
    if not slow.ok:
        assert not used  # a finding always comes from the row reader


@pytest.mark.parametrize("case, text, columnar", [
    ("lone CR inside a row", _tax_text(tax_rows("2023-06", [1, 2])).replace("有限公司", "有限\r公司", 1), False),
    ("lone CR between rows", _tax_text(tax_rows("2023-06", [1, 2, 3])).replace("\n", "\r", 2), False),
    ("CR CR LF", _tax_text(tax_rows("2023-06", [1, 2]), newline="\r\r\n"), False),
    ("lone CR in the title rows", _tax_text(tax_rows("2023-06", [1]), pre="税收\r表\n"), False),
    ("trailing CR (within the first lines)", _tax_text(tax_rows("2023-06", [1, 2])) + "\r", False),
    ("no line break at the end", _tax_text(tax_rows("2023-06", [1, 2]))[:-1], True),
    ("lower-case uscc, no spaces", _tax_text([[uscc(1).lower(), "甲", "2023-06", 1, 1, 1, 3]]), True),
    ("tab delimited", _tax_text(tax_rows("2023-06", [1, 2])).replace(",", "\t"), True),
    ("empty column", _tax_text([[uscc(1), "甲", "2023-06", "", 1, 1, 3], [uscc(2), "乙", "2023-06", "", 1, 1, 3]]), True),
    ("no-break space", _tax_text([[uscc(1), "甲\u00a0", "2023-06", 1, 1, 1, 3]]), False),
    ("en quad inside a name", _tax_text([[uscc(1), "甲\u2000乙", "2023-06", 1, 1, 1, 3]]), False),
    ("curly quotes are no spaces", _tax_text([[uscc(1), "“甲”", "2023-06", 1, 1, 1, 3]]), True),
])
def test_line_breaks_and_spaces_read_the_same_both_ways(tmp_path, monkeypatch, case, text, columnar):
    p = _tax_file(tmp_path, text.encode("utf-8"))
    used, fast, slow = _both(p, "tax", monkeypatch)
    _same(fast, slow)
    assert used is columnar, case


@pytest.mark.parametrize("case, data", [
    ("gbk", _tax_text(tax_rows("2023-06", [1, 2, 3]), newline="\r\n").encode("gbk")),
    ("gbk with an ideographic space", _tax_text([[uscc(1), "甲\u3000", "2023-06", 1, 1, 1, 3]]).encode("gbk")),
    ("utf-8 with BOM", b"\xef\xbb\xbf" + _tax_text(tax_rows("2023-06", [1, 2])).encode("utf-8")),
    ("utf-8 header, latin-1 body", _tax_text(tax_rows("2023-06", [1])).encode("utf-8") + f"{uscc(2)},caf\xe9,2023-06,1,1,1,3\n".encode("latin-1")),
    ("encoded surrogate in the body", _tax_text(tax_rows("2023-06", [1])).encode("utf-8") + uscc(2).encode() + b",\xed\xa0\x80,2023-06,1,1,1,3\n"),
    ("NUL in the body", _tax_text(tax_rows("2023-06", [1])).encode("utf-8") + uscc(2).encode() + b",a\x00b,2023-06,1,1,1,3\n"),
])
def test_encodings_read_the_same_both_ways(tmp_path, monkeypatch, case, data):
    p = _tax_file(tmp_path, data)
    _, fast, slow = _both(p, "tax", monkeypatch)
    _same(fast, slow)


@pytest.mark.parametrize("limit, rule", [({"max_cell_chars": 12}, "cell_too_long"), ({"max_rows": 3}, "too_many_rows")])
def test_limits_hold_for_a_plain_file(tmp_path, monkeypatch, limit, rule):
    from mfg_indicators.extract import limits

    p = _tax_file(tmp_path, _tax_text(tax_rows("2023-06", [1, 2, 3, 4])).encode("utf-8"))
    monkeypatch.setattr(limits, "DEFAULT_LIMITS", ReadLimits(**limit))
    used, fast, slow = _both(p, "tax", monkeypatch)
    _same(fast, slow)
    assert not used and rule in {f.rule for f in fast.errors}


def _reference_frame(td) -> pd.DataFrame:
    """TableData.frame() as it is specified (results module docstring), from the Python values."""
    data = {}
    for col in td.table.columns:
        vals = td.columns[col.name]
        if col.type == "number":
            data[col.name] = np.array([np.nan if v is None else v for v in vals], dtype="float64")
        elif col.type in ("int", "yesno"):
            data[col.name] = pd.array(vals, dtype="Int64")
        else:
            data[col.name] = pd.Series(vals, dtype=object)
    data["_row"] = np.array(td.row_numbers, dtype="int64")
    return pd.DataFrame(data)


def _reference_periods(td) -> list[str]:
    t = td.table
    if t.period_column:
        vals = td.columns[t.period_column]
        if t.column(t.period_column).type == "date":
            return sorted({v.strftime("%Y-%m") for v in vals if v is not None})
        return sorted({v for v in vals if v is not None})
    if t.replace_by:
        return sorted({str(v) for v in td.columns[t.replace_by] if v is not None})
    return []


PY_TYPES = {"text": str, "uscc": str, "code": str, "month": str, "number": float, "int": int, "yesno": int,
            "date": dt.date}


def _check_table(td) -> None:
    import pyarrow as pa

    assert list(td.arrays) == list(td.table.column_names)
    for col in td.table.columns:
        arr = td.arrays[col.name]
        assert arr.type == getattr(pa, ARROW_TYPES[col.type])(), col.name
        assert len(arr) == len(td.row_numbers)
        assert {type(v) for v in td.columns[col.name] if v is not None} <= {PY_TYPES[col.type]}, col.name
    got, want = td.frame(), _reference_frame(td)
    assert list(got.dtypes) == list(want.dtypes)
    pd.testing.assert_frame_equal(got, want)
    for col in td.table.columns:  # None stays None in object columns (not NaN)
        if want[col.name].dtype == object:
            assert [v is None for v in got[col.name]] == [v is None for v in want[col.name]]
    assert td.periods() == _reference_periods(td)
    # COPY data from the arrays is byte for byte the COPY data from the Python values
    from_arrays = load.copy_csv(td.table, "d" * 64, td.row_numbers, td.arrays)
    assert from_arrays is not None
    assert from_arrays == load.copy_csv(td.table, "d" * 64, td.row_numbers, dict(td.columns))
    assert load.copy_csv(td.table, "d" * 64, td.row_numbers, td.arrays, row_no=False) == \
        load.copy_csv(td.table, "d" * 64, td.row_numbers, dict(td.columns), row_no=False)
    back = pickle.loads(pickle.dumps(td))
    assert back.row_numbers == td.row_numbers and all(back.arrays[n].equals(td.arrays[n]) for n in td.arrays)


def test_every_sample_table_hands_over_typed_arrays(tmp_path, monkeypatch):
    county = tmp_path / "county"
    sample.generate(county, scale="county", seed=5)
    files = sorted(p for p in county.glob("*/*") if p.suffix in (".csv", ".xlsx", ".json"))
    assert {p.suffix for p in files} >= {".csv"}
    n = 0
    for p in files:
        res = read_delivery(p, p.parent.name)
        for td in res.tables:
            _check_table(td)
            n += 1
        if p.suffix == ".csv":  # the row reader's arrays are the same as the columnar reader's
            _, fast, slow = _both(p, p.parent.name, monkeypatch)
            for x, y in zip(fast.tables, slow.tables):
                assert all(x.arrays[k].equals(y.arrays[k]) for k in x.arrays)
    assert n >= len(files)


def test_xlsx_and_json_hand_over_the_same_arrays_as_csv(tmp_path):
    rows = registry_rows(2023, [1, 2, 3]) + [[uscc(4), "云和县企业4有限公司", "", "", None, "否", 2023]]
    c = write_csv(tmp_path / "registry" / "r.csv", headers("registry"), rows)
    x = write_xlsx(tmp_path / "registry" / "r.xlsx", [("名录", [headers("registry"), *rows])])
    j = write_json(tmp_path / "registry" / "r.json", "registry", rows)
    tds = [read_delivery(p, "registry").tables[0] for p in (c, x, j)]
    for td in tds:
        _check_table(td)
    for td in tds[1:]:
        assert td.row_numbers[-1] - td.row_numbers[0] == 3
        assert all(td.arrays[k].equals(tds[0].arrays[k]) for k in td.arrays)
    assert tds[0].columns["land_mu"][-1] is None and tds[0].columns["is_above_scale"] == [1, 1, 1, 0]


def test_json_tables_in_two_groups_are_merged_into_one_array_each(tmp_path):
    import json

    hs = headers("tax")
    recs = [dict(zip(hs, r)) for r in tax_rows("2023-06", [1, 2])]
    recs.append({h: v for h, v in zip(hs, tax_rows("2023-06", [3])[0])})
    recs[-1] = dict(reversed(list(recs[-1].items())))  # another key order: another group
    p = tmp_path / "tax" / "t.json"
    p.parent.mkdir()
    p.write_text(json.dumps({"records": recs}, ensure_ascii=False), encoding="utf-8")
    td = read_delivery(p, "tax").tables[0]
    _check_table(td)
    assert td.row_numbers == [1, 2, 3] and td.columns["uscc"] == [uscc(1), uscc(2), uscc(3)]


def test_copy_csv_refuses_an_array_that_does_not_fit():
    import pyarrow as pa

    table = feeds.TABLES["registry"]
    cols = {c.name: pa.nulls(1, pa.string() if ARROW_TYPES[c.type] == "string" else getattr(pa, ARROW_TYPES[c.type])())
            for c in table.columns}
    cols["roster_year"] = pa.array([2 ** 40], pa.int64())  # int4 in the warehouse
    assert load.copy_csv(table, "d" * 64, [2], cols) is None
    cols["roster_year"] = pa.array([2023], pa.int64())
    assert load.copy_csv(table, "d" * 64, [2], cols).startswith(b'"' + b"d" * 64 + b'",2,')


def test_the_byte_table_of_non_ascii_whitespace_is_what_str_strip_removes():
    from mfg_indicators.extract import csv_reader

    spaces = [chr(i) for i in range(0x110000) if chr(i).isspace() and chr(i) not in " \t\n\r"]
    table = csv_reader._NON_ASCII_SPACE_UTF8
    assert sorted(s for seqs in table.values() for s in seqs) == sorted(c.encode("utf-8") for c in spaces)
    assert all(s.startswith(lead) for lead, seqs in table.items() for s in seqs)
    assert all(csv_reader._NON_ASCII_SPACE.fullmatch(c) for c in spaces)
