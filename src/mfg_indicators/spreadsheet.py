"""Writing data into spreadsheets so that no cell becomes a formula (CSV/formula injection).

Every xlsx the project writes from warehouse data goes through :func:`append_row` /
:func:`set_cell`: a text value is stored as a text cell (openpyxl would otherwise turn a string
starting with ``=`` into a live formula), and a text starting with one of the characters OWASP
lists for formula injection (``= + - @``, tab, carriage return, and their full-width forms, which
spreadsheet programs with CJK input treat alike) also gets the cell's *quote prefix* — the
style flag Excel and LibreOffice set when a user types a leading ``'``: the cell shows the text
as it is and stays text when edited, while the stored value is the enterprise's name unchanged.

openpyxl has no writer mode for this, so it is the few lines below.
"""

from __future__ import annotations

from typing import Any

# OWASP "CSV Injection": leading characters that make a spreadsheet read a cell as a formula.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_LEADS)


def set_cell(ws: Any, row: int, column: int, value: Any) -> Any:
    """Write ``value`` at (row, column) of the openpyxl worksheet; text always as text."""
    cell = ws.cell(row=row, column=column)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if is_formula_like(value):
            cell.quotePrefix = True
    return cell


def append_row(ws: Any, values: list[Any]) -> int:
    """Append one row to the worksheet (like ``ws.append``), text always as text; returns its number."""
    row = ws.max_row + 1 if (ws.max_row > 1 or ws.cell(row=1, column=1).value is not None
                             or ws.max_column > 1) else 1
    for j, value in enumerate(values, start=1):
        set_cell(ws, row, j, value)
    return row
