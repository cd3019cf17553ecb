"""Text from data is written into xlsx as text: no cell becomes a formula (OWASP CSV injection)."""

from __future__ import annotations

import pytest
from openpyxl import Workbook, load_workbook

from mfg_indicators.spreadsheet import FORMULA_LEADS, append_row, set_cell

OWASP = ["=1+1", "+1+1", "-1+1", "@SUM(1+1)", "\t=1+1", "\r=1+1",
         "=HYPERLINK(\"http://example.invalid\",\"x\")", "=cmd|' /C calc'!A0", "＝1+1", "＋1", "－1", "＠A1"]


@pytest.mark.parametrize("value", OWASP)
def test_formula_like_text_is_stored_as_text_with_quote_prefix(tmp_path, value):
    wb = Workbook()
    ws = wb.active
    append_row(ws, ["企业名称", "乡镇街道"])
    append_row(ws, [value, 3.5])
    set_cell(ws, 3, 1, value)
    wb.save(tmp_path / "x.xlsx")
    back = load_workbook(tmp_path / "x.xlsx").active
    for row in (2, 3):
        cell = back.cell(row=row, column=1)
        assert cell.data_type == "s" and cell.value == value and cell.quotePrefix
    assert back.cell(row=2, column=2).value == 3.5 and back.cell(row=2, column=2).data_type == "n"
    assert back.cell(row=1, column=1).value == "企业名称" and not back.cell(row=1, column=1).quotePrefix


def test_the_lead_list_is_the_owasp_one_plus_full_width_forms():
    assert set(FORMULA_LEADS) >= {"=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"}
