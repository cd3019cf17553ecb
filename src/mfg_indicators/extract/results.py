"""What reading a delivery gives: its tables (TableData) and findings (ReadResult), and the
collector of one file's findings (_Findings), which caps repeats of one kind.

A table's values are held as one Arrow array per warehouse column (``TableData.arrays``), typed
by the feed contract: text/uscc/code/month -> string, number -> float64, int/yesno -> int64,
date -> date32 (null = not reported). ``TableData.columns`` shows the same values as Python
lists (str, float, int, datetime.date or None), built when asked for.

The DataFrame handed to validate (``TableData.frame()``) has the warehouse column names plus
``_row``. dtypes: number -> float64 (NaN = not reported); int/yesno -> pandas "Int64" (<NA>);
text/uscc/code/month -> object (str or None); date -> object (datetime.date or None).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Iterator

from ..feeds import Table
from ..findings import ERROR, Finding
from .cells import _printable

MAX_ERRORS_PER_KIND = 20  # per (table, column, rule): more are summarised in one finding

# feeds column type -> the Arrow type of its array in TableData.arrays
ARROW_TYPES = {"text": "string", "uscc": "string", "code": "string", "month": "string", "number": "float64",
               "int": "int64", "yesno": "int64", "date": "date32"}


def arrow_type(column_type: str):
    import pyarrow as pa

    return getattr(pa, ARROW_TYPES[column_type])()


class ColumnValues(Mapping):
    """A table's columns as Python lists (a read-only view of TableData.arrays; each list is
    built when asked for, so a caller wanting every value of a large table should use the arrays)."""

    def __init__(self, arrays: dict[str, Any]):
        self._arrays = arrays

    def __getitem__(self, name: str) -> list[Any]:
        return self._arrays[name].to_pylist()

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)


@dataclass
class TableData:
    """One table read from a delivery: typed values by warehouse column (Arrow arrays), plus file
    row numbers."""

    table: Table
    sheet: str | None
    header_row: int
    row_numbers: list[int] = field(default_factory=list, repr=False)
    arrays: dict[str, Any] = field(default_factory=dict, repr=False)
    # Set by pack_for_copy: the rows as PostgreSQL COPY data (the arrays are then gone).
    copy_csv: bytes | None = field(default=None, repr=False)
    _periods: list[str] | None = None

    @classmethod
    def of_lists(cls, table: Table, sheet: str | None, header_row: int, row_numbers: list[int],
                 columns: Mapping[str, list[Any]]) -> "TableData":
        """A table from Python values by column (as cells.coerce gives them)."""
        import pyarrow as pa

        arrays = {c.name: pa.array(columns[c.name], arrow_type(c.type)) for c in table.columns}
        return cls(table=table, sheet=sheet, header_row=header_row, row_numbers=row_numbers, arrays=arrays)

    def __len__(self) -> int:
        return len(self.row_numbers)

    @property
    def columns(self) -> ColumnValues:
        """The values as Python lists by column (see ColumnValues)."""
        return ColumnValues(self.arrays)

    def pack_for_copy(self, copy_csv: bytes) -> None:
        """Keep the rows only as ``copy_csv`` (load.copy_csv of this table): a read-ahead process
        then hands the loader one bytes object per table."""
        self._periods = self.periods()
        self.copy_csv = copy_csv
        self.arrays = {}

    def rows(self) -> Iterator[tuple]:
        """(row_no, value, value, ...) in Table.column_names order."""
        return zip(self.row_numbers, *(self.columns[n] for n in self.table.column_names))

    def periods(self) -> list[str]:
        """The months (or roster years) the rows touch, sorted."""
        if self._periods is not None:
            return list(self._periods)
        t = self.table
        name = t.period_column or t.replace_by
        if not name:
            return []
        import pyarrow.compute as pc

        distinct = pc.unique(self.arrays[name].drop_null()).to_pylist()
        if t.period_column:
            if t.column(t.period_column).type == "date":
                return sorted({v.strftime("%Y-%m") for v in distinct})
            return sorted(distinct)
        return sorted(str(v) for v in distinct)

    def frame(self):
        """The DataFrame validate.validate_frame reads (see module docstring for dtypes)."""
        import numpy as np
        import pandas as pd

        data: dict[str, Any] = {}
        for col in self.table.columns:
            arr = self.arrays[col.name]
            if col.type == "number":
                data[col.name] = arr.to_numpy(zero_copy_only=False)  # nulls -> NaN
            elif col.type in ("int", "yesno"):
                data[col.name] = pd.Int64Dtype().__from_arrow__(arr)
            elif col.type == "date":
                data[col.name] = pd.Series(arr.to_pandas(date_as_object=True), dtype=object)
            else:
                data[col.name] = pd.Series(arr.to_numpy(zero_copy_only=False), dtype=object)
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
