"""Writers for the sample inbox: the departments' file formats, written as rows arrive.

A *delivery* is one file in ``inbox/<source>/``. It holds one table (CSV, or an xlsx with one
sheet) or several (an xlsx with one sheet per table). Rows are rendered according to a
:class:`Fmt` (encoding, month and date spelling, thousands separators, header quirks) and written
immediately, so memory does not grow with the number of rows (openpyxl's write-only mode streams
each sheet to a temporary file).

Determinism: xlsx packages are rewritten with fixed zip timestamps and a fixed
``docProps/core.xml`` modification time, and every file's mtime is set to its arrival time.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ..feeds import Table

CST = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class Fmt:
    """How one department writes one table."""

    month: str = "iso"  # iso 2023-06 | compact 202306 | cn 2023年6月
    date: str = "iso"  # iso 2023-06-05 | slash 2023/6/5 | excel (date cell; iso in CSV)
    thousands: bool = False  # numbers >= 1000 as text with separators: "1,234.50"
    header: str = "canonical"  # canonical | halfwidth (ASCII parentheses) | spaced (stray spaces)
    title: str | None = None  # xlsx: a title row above the header row
    order: tuple[str, ...] | None = None  # column names in file order (default: feeds order)


@dataclass
class Part:
    """One table inside a delivery (the CSV itself, or one sheet of a workbook)."""

    table: Table
    fmt: Fmt = field(default_factory=Fmt)
    sheet: str | None = None  # xlsx sheet name (default: the table's title)


@dataclass
class DeliverySpec:
    path: str  # relative to the inbox, e.g. "tax/2023年6月企业税收.csv"
    parts: list[Part]
    arrival: dt.datetime  # becomes the file's mtime
    encoding: str = "utf-8"  # CSV: utf-8 | utf-8-sig | gbk
    newline: str = "\r\n"  # CSV line terminator


def month_text(year: int, month: int, style: str) -> str:
    if style == "compact":
        return f"{year}{month:02d}"
    if style == "cn":
        return f"{year}年{month}月"
    return f"{year}-{month:02d}"


def header_text(header: str, style: str, index: int) -> str:
    if style == "halfwidth":
        return header.replace("（", "(").replace("）", ")")
    if style == "spaced":
        # stray spaces as in hand-edited exports: around some headers, inside others
        if index % 3 == 0:
            return f" {header} "
        if "（" in header and index % 3 == 1:
            return header.replace("（", " （")
        return header + " "
    return header


def _num_text(v: float, thousands: bool) -> str:
    if isinstance(v, int):
        return f"{v:,d}" if thousands else str(v)
    return f"{v:,.2f}" if thousands else f"{v:.2f}"


def _csv_formatters(table: Table, fmt: Fmt) -> list[Callable[[Any], str]]:
    out = []
    for col in table.columns:
        t = col.type
        if t == "number":
            th = fmt.thousands
            out.append(lambda v, th=th: "" if v is None else _num_text(v, th))
        elif t == "int":
            out.append(lambda v: "" if v is None else str(v))
        elif t == "month":
            st = fmt.month
            out.append(lambda v, st=st: "" if v is None else month_text(v[0], v[1], st))
        elif t == "date":
            if fmt.date == "slash":
                out.append(lambda v: "" if v is None else f"{v.year}/{v.month}/{v.day}")
            else:
                out.append(lambda v: "" if v is None else v.isoformat())
        elif t == "yesno":
            out.append(lambda v: "" if v is None else ("是" if v else "否"))
        else:
            out.append(lambda v: "" if v is None else str(v))
    return out


def _xlsx_formatters(table: Table, fmt: Fmt, ws) -> list[Callable[[Any], Any]]:
    from openpyxl.cell import WriteOnlyCell

    out = []
    for col in table.columns:
        t = col.type
        if t == "number":
            if fmt.thousands:
                out.append(lambda v: None if v is None else _num_text(v, True))
            else:
                out.append(lambda v: v)
        elif t == "int":
            out.append(lambda v: v)
        elif t == "month":
            st = fmt.month
            out.append(lambda v, st=st: None if v is None else month_text(v[0], v[1], st))
        elif t == "date":
            if fmt.date == "excel":

                def cell(v, ws=ws):
                    if v is None:
                        return None
                    c = WriteOnlyCell(ws, value=dt.datetime(v.year, v.month, v.day))
                    c.number_format = "yyyy/m/d"
                    return c

                out.append(cell)
            elif fmt.date == "slash":
                out.append(lambda v: None if v is None else f"{v.year}/{v.month}/{v.day}")
            else:
                out.append(lambda v: None if v is None else v.isoformat())
        elif t == "yesno":
            out.append(lambda v: None if v is None else ("是" if v else "否"))
        else:
            out.append(lambda v: None if v is None or v == "" else str(v))
    return out


def _order(table: Table, fmt: Fmt) -> list[int]:
    names = table.column_names
    if not fmt.order:
        return list(range(len(names)))
    if sorted(fmt.order) != sorted(names):
        raise ValueError(f"column order for {table.name} must be a permutation of {names}")
    return [names.index(n) for n in fmt.order]


class _CsvPart:
    def __init__(self, fh, part: Part, newline: str):
        self.table = part.table
        self.fh = fh
        self.newline = newline
        self.w = csv.writer(fh, lineterminator=newline)
        self.fs = _csv_formatters(part.table, part.fmt)
        self.idx = _order(part.table, part.fmt)
        headers = [header_text(h, part.fmt.header, i) for i, h in enumerate(part.table.headers)]
        self.w.writerow([headers[i] for i in self.idx])
        self.rows = 0
        # Fast path (province scale): one %-template per row when the layout is plain — feeds
        # order, no thousands separators, no date columns. Built from the first row's types.
        types = [c.type for c in part.table.columns]
        self.fast_ok = (self.idx == list(range(len(self.idx))) and not part.fmt.thousands and "date" not in types)
        self.template: str | None = None
        self.conv = [(i, self.fs[i], {}) for i, t in enumerate(types) if t in ("month", "yesno")]
        self.types = types

    def _template(self, row: Sequence[Any]) -> str:
        spec = []
        for t, v in zip(self.types, row):
            spec.append("%.2f" if t == "number" and isinstance(v, float) else "%s")
        return ",".join(spec) + self.newline

    def write(self, rows: Iterable[Sequence[Any]]) -> None:
        rows = rows if isinstance(rows, list) else list(rows)
        if not rows:
            return
        if not self.fast_ok:
            fs, idx = self.fs, self.idx
            identity = idx == list(range(len(idx)))
            for r in rows:
                cells = [f(v) for f, v in zip(fs, r)]
                self.w.writerow(cells if identity else [cells[i] for i in idx])
            self.rows += len(rows)
            return
        if self.template is None:
            self.template = self._template(rows[0])
        tpl, conv, ncomma = self.template, self.conv, len(self.types) - 1
        lines: list[str] = []
        for orig in rows:
            line = None
            if None not in orig:
                r = orig
                if conv:
                    r = list(orig)
                    for i, f, memo in conv:
                        v = r[i]
                        s = memo.get(v)
                        if s is None:
                            s = memo[v] = f(v)
                        r[i] = s
                line = tpl % tuple(r)
            if line is None or line.count(",") != ncomma or '"' in line:
                # empty cells, or text that needs quoting: the general writer
                if lines:
                    self.fh.write("".join(lines))
                    lines = []
                self.w.writerow([f(v) for f, v in zip(self.fs, orig)])
            else:
                lines.append(line)
        if lines:
            self.fh.write("".join(lines))
        self.rows += len(rows)


class _XlsxPart:
    def __init__(self, ws, part: Part):
        self.table = part.table
        self.ws = ws
        self.fs = _xlsx_formatters(part.table, part.fmt, ws)
        self.idx = _order(part.table, part.fmt)
        if part.fmt.title:
            ws.append([part.fmt.title])
        headers = [header_text(h, part.fmt.header, i) for i, h in enumerate(part.table.headers)]
        ws.append([headers[i] for i in self.idx])
        self.rows = 0

    def write(self, rows: Iterable[Sequence[Any]]) -> None:
        fs, idx = self.fs, self.idx
        n = 0
        for r in rows:
            cells = [f(v) for f, v in zip(fs, r)]
            self.ws.append([cells[i] for i in idx])
            n += 1
        self.rows += n


class DeliveryWriter:
    """An open delivery file; ``write(table_name, rows)`` streams rows into its part."""

    def __init__(self, inbox: Path, spec: DeliverySpec):
        self.spec = spec
        self.path = inbox / spec.path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.parts: dict[str, Any] = {}
        self.is_xlsx = self.path.suffix.lower() == ".xlsx"
        if self.is_xlsx:
            from openpyxl import Workbook

            self.wb = Workbook(write_only=True)
            for part in spec.parts:
                ws = self.wb.create_sheet(part.sheet or part.table.title)
                self.parts[part.table.name] = _XlsxPart(ws, part)
        else:
            if len(spec.parts) != 1:
                raise ValueError(f"{spec.path}: a CSV file holds exactly one table")
            self.fh = open(self.path, "w", encoding=spec.encoding, newline="")
            part = spec.parts[0]
            self.parts[part.table.name] = _CsvPart(self.fh, part, spec.newline)

    def write(self, table_name: str, rows: Iterable[Sequence[Any]]) -> None:
        self.parts[table_name].write(rows)

    def rows(self) -> dict[str, int]:
        return {k: p.rows for k, p in self.parts.items()}

    def close(self) -> None:
        if self.is_xlsx:
            bio = io.BytesIO()
            self.wb.save(bio)
            self.path.write_bytes(deterministic_xlsx(bio.getvalue(), self.spec.arrival))
        else:
            self.fh.close()
        set_mtime(self.path, self.spec.arrival)


_CORE_TIME = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def deterministic_xlsx(data: bytes, when: dt.datetime) -> bytes:
    """The same workbook with fixed zip entry times and document times (= arrival time)."""
    stamp = when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    local = when.astimezone(CST)
    date_time = (local.year, local.month, local.day, local.hour, local.minute, local.second)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _CORE_TIME.sub(lambda m: m.group(1) + stamp + m.group(2), body)
            zi = zipfile.ZipInfo(info.filename, date_time=date_time)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, body)
    return out.getvalue()


def set_mtime(path: Path, when: dt.datetime) -> None:
    ts = when.timestamp()
    os.utime(path, (ts, ts))


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0, second: int = 0) -> dt.datetime:
    """A local (Asia/Shanghai) arrival time."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=CST)
