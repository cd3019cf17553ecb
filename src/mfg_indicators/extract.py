"""Extraction: find deliveries in the inbox, archive them unchanged, and read them into tables.

A delivery is one file under ``<inbox>/<source>/`` (``.csv``, ``.xlsx`` or an HTTP pull's
``.json``). The reader recognises each table by its header row (feeds.match_table), never by the
file or sheet name, and coerces every cell to the type the feed contract gives it:

    text/uscc/code -> str (stripped) | month -> 'YYYY-MM' | date -> datetime.date
    number -> float | int -> int | yesno (是/否) -> 1/0 | empty cell -> None ("not reported")

Anything it cannot read is an error Finding naming file, sheet, row (1-based, as the sender sees
it), column (the Chinese header) and a Chinese reason. Content rules (check digits, sums, ranges,
categories, duplicates) are not checked here: they belong to mfg_indicators.validate.

The DataFrame handed to validate (``TableData.frame()``) has the warehouse column names plus
``_row``. dtypes: number -> float64 (NaN = not reported); int/yesno -> pandas "Int64" (<NA>);
text/uscc/code/month -> object (str or None); date -> object (datetime.date or None).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from .feeds import SOURCES, TABLES, YES_NO, Column, Table, match_table, normalize_header, tables_of_source
from .findings import ERROR, WARNING, Finding

SUPPORTED_SUFFIXES = (".csv", ".xlsx", ".json")
HEADER_SCAN_ROWS = 30  # title rows above the header: look this far down for the header row
MAX_ERRORS_PER_KIND = 20  # per (table, column, rule): more are summarised in one finding


# --------------------------------------------------------------------------------------------
# Finding deliveries


@dataclass(frozen=True)
class Delivery:
    """One delivered file. ``sha256`` of its bytes is the delivery id."""

    path: Path
    source: str
    sha256: str
    size: int
    mtime: float  # POSIX seconds; arrival order is (mtime, name)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def delivery_id(self) -> str:
        return self.sha256

    @property
    def mtime_utc(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.mtime, dt.timezone.utc).replace(tzinfo=None)

    @classmethod
    def from_path(cls, path: Path | str, source: str | None = None) -> "Delivery":
        p = Path(path)
        src = source or p.parent.name
        if src not in SOURCES:
            raise ValueError(f"{p}: unknown source {src!r} (expected one of {', '.join(SOURCES)})")
        st = p.stat()
        return cls(path=p, source=src, sha256=sha256_file(p), size=st.st_size, mtime=st.st_mtime)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _is_candidate(p: Path) -> bool:
    # Hidden files, Excel lock files (~$x.xlsx) and partial downloads are not deliveries.
    return p.is_file() and not p.name.startswith((".", "~$")) and not p.name.endswith((".tmp", ".part"))


def find_deliveries(inbox: Path | str, source: str | None = None) -> list[Delivery]:
    """Every file in ``<inbox>/<source>/`` (all sources when None), in arrival order: file
    modification time, then name. Files of any suffix are returned (an unreadable one is rejected
    by the reader, with a report, rather than silently ignored)."""
    inbox = Path(inbox)
    sources = [source] if source else list(SOURCES)
    for s in sources:
        if s not in SOURCES:
            raise ValueError(f"unknown source {s!r} (expected one of {', '.join(SOURCES)})")
    found = []
    for s in sources:
        folder = inbox / s
        if not folder.is_dir():
            continue
        for p in folder.iterdir():
            if _is_candidate(p):
                found.append(Delivery.from_path(p, s))
    found.sort(key=lambda d: (d.mtime, d.name, d.source))
    return found


# --------------------------------------------------------------------------------------------
# Archiving


def archive_path_for(delivery: Delivery, archive_dir: Path | str) -> Path:
    return Path(archive_dir) / delivery.source / f"{delivery.sha256[:16]}__{delivery.name}"


def archive_delivery(delivery: Delivery, archive_dir: Path | str, *, content: bytes | None = None) -> Path:
    """Store the file unchanged as ``<archive_dir>/<source>/<sha256[:16]>__<name>`` with a
    ``.sha256`` sidecar (sha256sum format) and the original modification time. ``content`` is the
    file's bytes when the caller already read them. Idempotent: an identical copy is kept."""
    target = archive_path_for(delivery, archive_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not (target.exists() and target.stat().st_size == delivery.size and sha256_file(target) == delivery.sha256):
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")  # own per writer
        if content is None:
            shutil.copyfile(delivery.path, tmp)
        else:
            tmp.write_bytes(content)
        if sha256_file(tmp) != delivery.sha256:
            tmp.unlink(missing_ok=True)
            raise OSError(f"{delivery.path}: file changed while being archived (sha256 differs)")
        os.utime(tmp, (delivery.mtime, delivery.mtime))
        os.replace(tmp, target)
    sidecar = target.with_name(target.name + ".sha256")
    if not sidecar.exists():
        sidecar.write_text(f"{delivery.sha256}  {delivery.name}\n", encoding="utf-8")
    return target


# --------------------------------------------------------------------------------------------
# Reading: result types


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
        self.items.append(Finding(level=level, source=self.source, rule=rule, message=message,
                                  message_en=message_en, table=table, file=self.file, sheet=sheet, row=row,
                                  column=column, uscc=uscc))

    def summarise(self) -> None:
        for (level, table, sheet, column, rule), n in self._counts.items():
            if n > MAX_ERRORS_PER_KIND:
                more = n - MAX_ERRORS_PER_KIND
                self.items.append(Finding(
                    level=level, source=self.source, rule=rule, table=table, file=self.file, sheet=sheet,
                    column=column, message=f"同类问题另有 {more} 行未逐行列出（共 {n} 行）",
                    message_en=f"{more} more rows with the same problem not listed ({n} in all)"))


# --------------------------------------------------------------------------------------------
# Cell coercion


class CellError(ValueError):
    def __init__(self, rule: str, message: str, message_en: str):
        super().__init__(message_en)
        self.rule, self.message, self.message_en = rule, message, message_en


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_NUMBER_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_MONTH_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})$"),
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月?$"),
)
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$"),
)
EXCEL_EPOCH = dt.date(1899, 12, 30)
# Excel serials accepted as dates: 1954-10-… to 2119-…; outside this a number is not a date.
_SERIAL_RANGE = (20000, 80000)


def _is_empty(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    return str(v).strip()


def _number(v: Any) -> float:
    if isinstance(v, bool):
        raise CellError("not_a_number", f"应为数值，实际为“{v}”", f"expected a number, got {v!r}")
    if isinstance(v, (int, float)):
        f = float(v)
    else:
        s = str(v).strip().replace("\u3000", "").replace(" ", "").replace("，", ",")
        if _NUMBER.match(s):
            f = float(s)
        elif _NUMBER_THOUSANDS.match(s):
            f = float(s.replace(",", ""))
        else:
            raise CellError("not_a_number", f"数值列中出现文字“{_clip(v)}”，应填写数字",
                            f"text {_clip(v)!r} in a number column")
    if math.isnan(f) or math.isinf(f):
        raise CellError("not_a_number", f"数值“{_clip(v)}”无效", f"invalid number {v!r}")
    return f


def _int(v: Any) -> int:
    f = _number(v)
    if not f.is_integer():
        raise CellError("not_an_integer", f"应为整数，实际为“{_clip(v)}”", f"expected an integer, got {v!r}")
    return int(f)


def _month(v: Any) -> str:
    if isinstance(v, (dt.datetime, dt.date)):
        return f"{v.year:04d}-{v.month:02d}"
    s = _text(v)
    for pat in _MONTH_PATTERNS:
        m = pat.match(s)
        if m:
            year, month = int(m.group(1)), int(m.group(2))
            if not 1 <= month <= 12 or year < 1900:
                raise CellError("impossible_month", f"月份“{_clip(v)}”不存在",
                                f"month {_clip(v)!r} does not exist")
            return f"{year:04d}-{month:02d}"
    raise CellError("bad_month", f"无法识别的月份“{_clip(v)}”（应为 2023-06、202306 或 2023年6月）",
                    f"month {_clip(v)!r} not understood (expected 2023-06, 202306 or 2023年6月)")


def _date(v: Any) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return _serial(v, v)
    s = _text(v)
    if re.fullmatch(r"\d{5}(\.\d+)?", s):
        return _serial(float(s), v)
    for pat in _DATE_PATTERNS:
        m = pat.match(s)
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                raise CellError("impossible_date", f"日期“{_clip(v)}”不存在",
                                f"date {_clip(v)!r} does not exist") from None
    raise CellError("bad_date", f"无法识别的日期“{_clip(v)}”（应为 2023-06-05 或 2023/6/5）",
                    f"date {_clip(v)!r} not understood (expected 2023-06-05 or 2023/6/5)")


def _serial(f: float, original: Any) -> dt.date:
    if not _SERIAL_RANGE[0] <= f < _SERIAL_RANGE[1]:
        raise CellError("impossible_date", f"日期“{_clip(original)}”不存在",
                        f"date {_clip(original)!r} is not a plausible Excel serial")
    return EXCEL_EPOCH + dt.timedelta(days=int(f))


def _yesno(v: Any) -> int:
    s = _text(v)
    if s in YES_NO:
        return YES_NO[s]
    raise CellError("bad_yesno", f"应填“是”或“否”，实际为“{_clip(v)}”", f"expected 是/否, got {_clip(v)!r}")


def _clip(v: Any, n: int = 40) -> str:
    s = str(v)
    return s if len(s) <= n else s[: n - 1] + "…"


def coerce(column: Column, value: Any) -> Any:
    """One cell in the column's type; None for an empty cell. Raises CellError."""
    if _is_empty(value):
        return None
    t = column.type
    if t == "text":
        return _text(value)
    if t == "uscc":
        return _text(value).replace(" ", "").upper()
    if t == "code":
        return _text(value).replace(" ", "")
    if t == "number":
        return _number(value)
    if t == "int":
        return _int(value)
    if t == "month":
        return _month(value)
    if t == "date":
        return _date(value)
    if t == "yesno":
        return _yesno(value)
    raise ValueError(f"unknown column type {t!r}")  # pragma: no cover - feeds.TYPES is closed


def converter(column: Column):
    """A fast per-column equivalent of ``coerce(column, value)``: plain strings and numbers take a
    short path; month/date/yes-no/code values, which repeat, are memoised."""
    slow = coerce

    if column.type == "text":
        def conv(v: Any) -> Any:
            if type(v) is str:
                return v.strip() or None
            return slow(column, v)
        return conv
    if column.type == "uscc":
        def conv(v: Any) -> Any:
            if type(v) is str and v.isalnum() and v.isascii():
                return v.upper()
            return slow(column, v)
        return conv
    if column.type == "number":
        def conv(v: Any) -> Any:
            if type(v) is str and "_" not in v:
                try:
                    f = float(v)
                except ValueError:
                    return slow(column, v)
                if f - f == 0.0:  # finite (NaN and ±inf fail this)
                    return f
            elif type(v) is float and v - v == 0.0:
                return v
            elif v is None:
                return None
            return slow(column, v)
        return conv
    cache: dict[Any, Any] = {}

    def conv(v: Any) -> Any:
        try:
            hit = cache[v]
        except KeyError:
            try:
                hit = slow(column, v)
            except CellError as exc:
                hit = exc
            cache[v] = hit
        except TypeError:  # unhashable: not cached
            return slow(column, v)
        if isinstance(hit, CellError):
            raise hit
        return hit
    return conv


# --------------------------------------------------------------------------------------------
# Reading: grids (a sheet or a CSV as rows of cells) -> tables


def _blank(row: Iterable[Any]) -> bool:
    try:  # fast path: a row of strings (every CSV row)
        joined = "".join(row)
    except TypeError:
        pass
    else:
        return not joined or joined.isspace()
    for v in row:
        if v is None:
            continue
        if type(v) is str:
            if v and not v.isspace():
                return False
        elif not _is_empty(v):
            return False
    return True


def _table_of_grid(rows: list[tuple[int, list[Any]]], source: str, sheet: str | None, fs: _Findings,
                   *, required: bool) -> TableData | None:
    """Find the header row of one grid, check the columns and coerce the data rows.

    ``rows`` are (1-based row number, cells). Returns None (with findings) when nothing usable.
    """
    candidates = tables_of_source(source)
    where = f"工作表“{sheet}”" if sheet else "文件"
    header_at, table = None, None
    for i, (_, cells) in enumerate(rows[:HEADER_SCAN_ROWS]):
        t = match_table(cells, candidates)
        if t is not None:
            header_at, table = i, t
            break
    if table is None:
        if all(_blank(c) for _, c in rows):
            if required:
                fs.add("empty_file", f"{where}为空，没有任何数据", f"{sheet or 'file'} is empty", sheet=sheet)
            return None
        other = None
        for _, cells in rows[:HEADER_SCAN_ROWS]:
            other = match_table(cells)
            if other is not None:
                break
        expected = "、".join(f"{t.title}（{'，'.join(t.headers)}）" for t in candidates)
        if other is not None and other.source != source:
            fs.add("wrong_source", f"{where}看起来是“{other.title}”表，应投递到 {other.source}/ 目录，而不是 {source}/",
                   f"{sheet or 'file'} looks like table {other.name} of source {other.source}, delivered to {source}/",
                   sheet=sheet, table=other.name)
        elif required:
            fs.add("unrecognised_header", f"{where}中找不到可识别的表头行；应为：{expected}",
                   f"no recognisable header row in {sheet or 'file'}", sheet=sheet)
        else:
            fs.add("unrecognised_sheet", f"{where}中没有可识别的表头，已忽略该工作表",
                   f"sheet {sheet!r} has no recognisable header; ignored", level=WARNING, sheet=sheet)
        return None

    header_row_no, header_cells = rows[header_at]
    known = {c.header: c for c in table.columns}
    positions: dict[str, int] = {}
    unlabelled: list[int] = []
    bad = False
    for idx, cell in enumerate(header_cells):
        if _is_empty(cell):
            unlabelled.append(idx)
            continue
        h = normalize_header(cell)
        col = known.get(h)
        if col is None:
            fs.add("unknown_column", f"未知列“{_clip(cell)}”，{table.title}表没有这一列",
                   f"unknown column {str(cell)!r} for table {table.name}", table=table.name, sheet=sheet,
                   row=header_row_no, column=str(cell).strip())
            bad = True
        elif col.name in positions:
            fs.add("duplicate_column", f"列“{col.header}”出现了两次", f"column {col.header} appears twice",
                   table=table.name, sheet=sheet, row=header_row_no, column=col.header)
            bad = True
        else:
            positions[col.name] = idx
    for col in table.columns:
        if col.name not in positions:
            fs.add("missing_column", f"缺少列“{col.header}”", f"missing column {col.header}",
                   table=table.name, sheet=sheet, row=header_row_no, column=col.header)
            bad = True

    data_rows = [(row_no, cells) for row_no, cells in rows[header_at + 1:] if not _blank(cells)]
    width = len(header_cells)
    for row_no, cells in data_rows:
        for idx in unlabelled:
            if idx < len(cells) and not _is_empty(cells[idx]):
                fs.add("unlabelled_column", f"第{idx + 1}列有数据但没有表头", f"column {idx + 1} has data but no header",
                       table=table.name, sheet=sheet, row=row_no, column=f"第{idx + 1}列")
                bad = True
        if len(cells) > width and not _blank(cells[width:]):
            fs.add("unlabelled_column", "本行的单元格多于表头列数", "row has more cells than the header",
                   table=table.name, sheet=sheet, row=row_no, column=f"第{width + 1}列")
            bad = True
    uscc_pos = positions.get("uscc")

    def uscc_hint(cells: list[Any]) -> str | None:
        raw = cells[uscc_pos] if uscc_pos is not None and uscc_pos < len(cells) else None
        return None if _is_empty(raw) else _text(raw)

    data = TableData(table=table, sheet=sheet, header_row=header_row_no,
                     row_numbers=[row_no for row_no, _ in data_rows])
    # Column by column, with a converter per column (fast paths, memoised for repeating values).
    for col in table.columns:
        pos = positions.get(col.name)
        if pos is None:
            data.columns[col.name] = [None] * len(data_rows)
            continue
        conv = converter(col)
        out: list[Any] = []
        append = out.append
        for row_no, cells in data_rows:
            try:
                append(conv(cells[pos] if pos < len(cells) else None))
            except CellError as exc:
                fs.add(exc.rule, f"“{col.header}”{exc.message}", f"{col.header}: {exc.message_en}",
                       table=table.name, sheet=sheet, row=row_no, column=col.header, uscc=uscc_hint(cells))
                bad = True
                append(None)
        data.columns[col.name] = out
    if not data.row_numbers:
        fs.add("empty_file", f"{where}只有表头，没有数据行", f"{table.name}: header only, no data rows",
               table=table.name, sheet=sheet, row=header_row_no)
        return None
    return None if bad else data


def _read_xlsx(content: bytes, source: str, fs: _Findings) -> list[TableData]:
    import zipfile

    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError) as exc:
        fs.add("unreadable", "Excel 文件已损坏或不完整（可能传输中断），无法打开",
               f"xlsx cannot be opened (corrupt or truncated): {exc.__class__.__name__}: {exc}")
        return []
    tables = []
    try:
        sheets = wb.worksheets
        for ws in sheets:
            rows = [(i, list(r)) for i, r in enumerate(ws.iter_rows(values_only=True), 1)]
            if not rows or all(_blank(c) for _, c in rows):
                continue
            td = _table_of_grid(rows, source, ws.title, fs, required=False)
            if td is not None:
                tables.append(td)
    except Exception as exc:  # noqa: BLE001 - a corrupt part of the zip surfaces while streaming
        fs.add("unreadable", "Excel 文件已损坏或不完整（可能传输中断），无法读取",
               f"xlsx cannot be read (corrupt or truncated): {exc.__class__.__name__}: {exc}")
        return []
    finally:
        wb.close()
    return tables


def decode_text(content: bytes) -> tuple[str, str]:
    """Decode a delivered text file: UTF-8 (with or without BOM) when it decodes strictly, else
    the encoding charset-normalizer detects (GBK is read as its superset GB18030)."""
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8"), "utf-8-sig"
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    import charset_normalizer

    best = charset_normalizer.from_bytes(content).best()
    if best is None:
        raise UnicodeDecodeError("unknown", content[:1], 0, 1, "no encoding detected")
    enc = best.encoding.lower().replace("-", "_")
    if enc in ("gbk", "gb2312", "gb18030", "cp936", "hz"):
        enc = "gb18030"
    return content.decode(enc), enc


def _read_csv(content: bytes, source: str, fs: _Findings) -> list[TableData]:
    try:
        text, _enc = decode_text(content)
    except (UnicodeDecodeError, LookupError) as exc:
        fs.add("unreadable", "无法识别文件的文字编码（应为 UTF-8 或 GBK）", f"encoding not detected: {exc}")
        return []
    if "\x00" in text:
        fs.add("unreadable", "文件不是文本格式的 CSV（含二进制内容）", "not a text CSV (binary content)")
        return []
    first = next((ln for ln in text[:65536].splitlines() if ln.strip()), "")
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    fast = _read_csv_columnar(text, delimiter, source)
    if fast is not None:
        return [fast]
    try:
        rows = [(i, r) for i, r in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), 1)]
    except csv.Error as exc:
        fs.add("unreadable", f"CSV 格式错误：{exc}", f"CSV not parseable: {exc}")
        return []
    if not rows or all(_blank(c) for _, c in rows):
        fs.add("empty_file", "文件为空，没有任何数据", "file is empty")
        return []
    td = _table_of_grid(rows, source, None, fs, required=True)
    return [td] if td is not None else []


# Columnar CSV path. A plain, well-formed CSV (the shape of every large delivery) is parsed by
# pyarrow's C++ reader and typed column by column; the result is exactly what the row-by-row
# reader above gives for the same file (tests/test_extract_columnar.py compares them). Anything
# unusual — quotes, blank or short rows, a header that is not exactly the contract's, a cell that
# does not convert, non-ASCII whitespace — returns None and the row-by-row reader reads the file
# again, so every finding (row, column, reason) comes from one place.

# Characters Python's str.strip() removes that are not ASCII whitespace (pyarrow trims only
# " \t\n\v\f\r"); a file containing any of them takes the row-by-row reader.
_NON_ASCII_SPACE = re.compile("[\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
_NUMBER_RE2 = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"  # _NUMBER, in RE2 (ASCII \d)
_ASCII_USCC_RE2 = r"^[0-9A-Za-z ]*$"


def _read_csv_columnar(text: str, delimiter: str, source: str) -> TableData | None:
    if '"' in text or "\r" in text.replace("\r\n", "\n") or _NON_ASCII_SPACE.search(text):
        return None
    buf = io.StringIO(text, newline="")
    head_lines = []
    for _ in range(HEADER_SCAN_ROWS):
        line = buf.readline()
        if not line:
            break
        head_lines.append(line)
    head_rows = list(csv.reader(head_lines, delimiter=delimiter))
    if len(head_rows) != len(head_lines):
        return None
    candidates = tables_of_source(source)
    at = next((i for i, cells in enumerate(head_rows) if match_table(cells, candidates) is not None), None)
    if at is None:
        return None
    header = head_rows[at]
    table = match_table(header, candidates)
    by_header = {c.header: c for c in table.columns}
    names = [by_header.get(normalize_header(h)) if h.strip() else None for h in header]
    if None in names or len({c.name for c in names}) != len(names) or len(names) != len(table.columns):
        return None
    body = ("".join(head_lines[at + 1:]) + text[buf.tell():]).rstrip("\r\n")
    if not body:
        return None
    n_lines = body.count("\n") + 1

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    try:
        arrow = pacsv.read_csv(
            io.BytesIO(body.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=[c.name for c in names], use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char=False, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={c.name: pa.string() for c in names},
                                                 strings_can_be_null=False))
    except (pa.ArrowInvalid, ValueError):
        return None
    if arrow.num_rows != n_lines:
        return None
    trimmed = {c.name: pc.ascii_trim_whitespace(arrow.column(c.name).combine_chunks()) for c in names}
    empty = {name: pc.equal(col, "") for name, col in trimmed.items()}
    all_empty = None
    for mask in empty.values():
        all_empty = mask if all_empty is None else pc.and_(all_empty, mask)
    if pc.any(all_empty).as_py():  # a row of empty cells is skipped (and numbered) by the row reader
        return None
    columns: dict[str, list[Any]] = {}
    for col in table.columns:
        values = _columnar_values(col, trimmed[col.name], empty[col.name])
        if values is None:
            return None
        columns[col.name] = values
    first = at + 2  # 1-based file row of the first data row
    return TableData(table=table, sheet=None, header_row=at + 1,
                     row_numbers=list(range(first, first + arrow.num_rows)), columns=columns)


def _columnar_values(column: Column, trimmed: Any, empty: Any) -> list[Any] | None:
    """One column's values as the row reader's converter gives them, or None (use that reader)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = pc.if_else(empty, pa.scalar(None, pa.string()), trimmed)
    t = column.type
    if t == "text":
        return values.to_pylist()
    if t == "code":
        return pc.replace_substring(values, " ", "").to_pylist()
    if t == "uscc":
        if not pc.all(pc.match_substring_regex(trimmed, _ASCII_USCC_RE2)).as_py():
            return None
        return pc.ascii_upper(pc.replace_substring(values, " ", "")).to_pylist()
    if t in ("number", "int"):
        ok = pc.or_(empty, pc.match_substring_regex(trimmed, _NUMBER_RE2))
        if not pc.all(ok).as_py():
            return None
        floats = pc.cast(values, pa.float64())
        if not pc.all(pc.fill_null(pc.is_finite(floats), True)).as_py():  # empty cells are null
            return None
        if t == "number":
            return floats.to_pylist()
        if not pc.all(pc.fill_null(pc.equal(pc.floor(floats), floats), True)).as_py():
            return None
        return [None if f is None else int(f) for f in floats.to_pylist()]
    # month, date, yesno: few distinct values; each is converted once by the row reader's rules.
    encoded = values.dictionary_encode()
    mapped = []
    for v in encoded.dictionary.to_pylist():
        try:
            mapped.append(coerce(column, v))
        except CellError:
            return None
    mapped.append(None)
    indices = encoded.indices.fill_null(len(mapped) - 1).to_pylist()
    return [mapped[i] for i in indices]


def _read_json(content: bytes, source: str, fs: _Findings) -> list[TableData]:
    try:
        text, _enc = decode_text(content)
        body = json.loads(text)
    except (UnicodeDecodeError, LookupError, json.JSONDecodeError) as exc:
        fs.add("unreadable", "JSON 格式错误，无法读取", f"JSON not parseable: {exc}")
        return []
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        fs.add("unreadable", "JSON 内容应为 {\"records\": [ {列名: 值, …}, … ]}",
               "JSON body must be {\"records\": [ {column: value}, ... ]}")
        return []
    if not records:
        fs.add("empty_file", "records 为空，没有任何数据", "no records")
        return []
    # Group records by their key set (stats and ledgers may send both tables in one body); each
    # group becomes a grid whose rows keep the record's position (1-based) as row number.
    groups: dict[tuple, list[tuple[int, dict]]] = {}
    for i, rec in enumerate(records, 1):
        groups.setdefault(tuple(rec.keys()), []).append((i, rec))
    by_table: dict[str, list[TableData]] = {}
    tables = []
    for keys, recs in groups.items():
        header = list(keys)
        grid = [(0, header)] + [(i, [rec.get(k) for k in header]) for i, rec in recs]
        td = _table_of_grid(grid, source, None, fs, required=True)
        if td is not None:
            by_table.setdefault(td.table.name, []).append(td)
    for parts in by_table.values():
        merged = parts[0]
        for p in parts[1:]:
            merged.row_numbers.extend(p.row_numbers)
            for n in merged.columns:
                merged.columns[n].extend(p.columns[n])
        tables.append(merged)
    return tables


def read_delivery(path: Path | str, source: str, *, content: bytes | None = None,
                  file_label: str | None = None) -> ReadResult:
    """Read one delivered file into its tables. Never raises for bad input: problems are error
    findings in the result (a file with any error yields no tables)."""
    p = Path(path)
    label = file_label or p.name
    fs = _Findings(source, label)
    try:
        data = content if content is not None else p.read_bytes()
    except OSError as exc:
        fs.add("unreadable", "文件无法读取", f"cannot read file: {exc}")
        return ReadResult([], fs.items)
    tables: list[TableData] = []
    suffix = p.suffix.lower()
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        fs.add("empty_file", "文件为空（0 字节或只有空白）", "file is empty")
    elif suffix == ".xlsx" or (suffix not in SUPPORTED_SUFFIXES and data[:2] == b"PK"):
        tables = _read_xlsx(data, source, fs)
    elif suffix == ".csv":
        tables = _read_csv(data, source, fs)
    elif suffix == ".json":
        tables = _read_json(data, source, fs)
    elif suffix == ".xls":
        fs.add("unreadable", "不支持旧版 .xls 格式，请另存为 .xlsx 或 .csv 后重新报送",
               "legacy .xls is not supported (save as .xlsx or .csv)")
    else:
        fs.add("unreadable", f"不支持的文件类型“{p.suffix or '无扩展名'}”（应为 .xlsx 或 .csv）",
               f"unsupported file type {p.suffix!r}")
    if not fs.items and not tables:
        fs.add("unrecognised_header", "文件中没有可识别的数据表", "no recognisable table in the file")
    seen: dict[str, TableData] = {}
    for td in tables:
        if td.table.name in seen:
            fs.add("duplicate_table", f"“{td.table.title}”表在文件中出现了两次（工作表“{seen[td.table.name].sheet}”和“{td.sheet}”）",
                   f"table {td.table.name} appears twice in the file", table=td.table.name, sheet=td.sheet)
        seen[td.table.name] = td
    fs.summarise()
    if any(f.is_error for f in fs.items):
        return ReadResult([], fs.items)
    return ReadResult(tables, fs.items)


__all__ = ["Delivery", "ReadResult", "TableData", "CellError", "archive_delivery", "archive_path_for", "coerce",
           "decode_text", "find_deliveries", "read_delivery", "sha256_file", "TABLES"]
