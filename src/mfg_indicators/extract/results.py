"""What reading a delivery gives: its tables (TableData) and findings (ReadResult), and the
collector of one file's findings (_Findings), which caps repeats of one kind.

The DataFrame handed to validate (``TableData.frame()``) has the warehouse column names plus
``_row``. dtypes: number -> float64 (NaN = not reported); int/yesno -> pandas "Int64" (<NA>);
text/uscc/code/month -> object (str or None); date -> object (datetime.date or None).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from ..feeds import Table
from ..findings import ERROR, Finding
from .cells import _printable

MAX_ERRORS_PER_KIND = 20  # per (table, column, rule): more are summarised in one finding


@dataclass
class TableData:
    """One table read from a delivery: coerced values by warehouse column, plus file row numbers."""

    table: Table
    sheet: str | None
    header_row: int
    row_numbers: list[int] = field(default_factory=list)
    columns: dict[str, list[Any]] = field(default_factory=dict)
    # Set by pack_for_copy: the rows as PostgreSQL COPY data (the per-cell columns are then gone).
    copy_csv: bytes | None = None
    _periods: list[str] | None = None

    def __len__(self) -> int:
        return len(self.row_numbers)

    def pack_for_copy(self, copy_csv: bytes) -> None:
        """Keep the rows only as ``copy_csv`` (load.copy_csv of this table): a read-ahead process
        then hands the loader a few bytes objects instead of a Python object per cell."""
        self._periods = self.periods()
        self.copy_csv = copy_csv
        self.columns = {}

    def rows(self) -> Iterator[tuple]:
        """(row_no, value, value, ...) in Table.column_names order."""
        return zip(self.row_numbers, *(self.columns[n] for n in self.table.column_names))

    def periods(self) -> list[str]:
        """The months (or roster years) the rows touch, sorted."""
        if self._periods is not None:
            return list(self._periods)
        t = self.table
        if t.period_column:
            vals = self.columns[t.period_column]
            if t.column(t.period_column).type == "date":
                return sorted({v.strftime("%Y-%m") for v in vals if v is not None})
            return sorted({v for v in vals if v is not None})
        if t.replace_by:
            return sorted({str(v) for v in self.columns[t.replace_by] if v is not None})
        return []

    def frame(self):
        """The DataFrame validate.validate_frame reads (see module docstring for dtypes)."""
        import numpy as np
        import pandas as pd

        data: dict[str, Any] = {}
        for col in self.table.columns:
            vals = self.columns[col.name]
            if col.type == "number":
                data[col.name] = np.array([np.nan if v is None else v for v in vals], dtype="float64")
            elif col.type in ("int", "yesno"):
                data[col.name] = pd.array(vals, dtype="Int64")
            else:
                data[col.name] = pd.Series(vals, dtype=object)
        data["_row"] = np.array(self.row_numbers, dtype="int64")
        return pd.DataFrame(data)


@dataclass
class ReadResult:
    tables: list[TableData] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.tables)


class _Findings:
    """Collects findings for one file, capping repeats of one kind per column."""

    def __init__(self, source: str, file: str):
        self.source, self.file = source, file
        self.items: list[Finding] = []
        self._counts: dict[tuple, int] = {}

    def add(self, rule: str, message: str, message_en: str, *, level: str = ERROR, table: str | None = None,
            sheet: str | None = None, row: int | None = None, column: str | None = None,
            uscc: str | None = None) -> None:
        kind = (level, table, sheet, column, rule)
        n = self._counts[kind] = self._counts.get(kind, 0) + 1
        if n > MAX_ERRORS_PER_KIND:
            return
        self.items.append(Finding(level=level, source=self.source, rule=rule, message=_printable(message),
                                  message_en=_printable(message_en), table=table, file=self.file,
                                  sheet=sheet and _printable(sheet), row=row, column=column and _printable(column),
                                  uscc=uscc and _printable(uscc)))

    def summarise(self) -> None:
        for (level, table, sheet, column, rule), n in self._counts.items():
            if n > MAX_ERRORS_PER_KIND:
                more = n - MAX_ERRORS_PER_KIND
                self.items.append(Finding(
                    level=level, source=self.source, rule=rule, table=table, file=self.file, sheet=sheet,
                    column=column, message=f"同类问题另有 {more} 行未逐行列出（共 {n} 行）",
                    message_en=f"{more} more rows with the same problem not listed ({n} in all)"))
