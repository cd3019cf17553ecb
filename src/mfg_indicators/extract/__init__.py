"""Extraction: find deliveries in the inbox, archive them unchanged, and read them into tables.

A delivery is one file under ``<inbox>/<source>/`` (``.csv``, ``.xlsx`` or an HTTP pull's
``.json``). The reader recognises each table by its header row (feeds.match_table), never by the
file or sheet name, and coerces every cell to the type the feed contract gives it:

    text/uscc/code -> str (stripped) | month -> 'YYYY-MM' | date -> datetime.date
    number -> float | int -> int | yesno (是/否) -> 1/0 | empty cell -> None ("not reported")

Anything it cannot read is an error Finding naming file, sheet, row (1-based, as the sender sees
it), column (the Chinese header) and a Chinese reason. Every reader works within ReadLimits (file
size, rows, columns, cells, cell length, JSON depth and digits, xlsx parts, decompressed size and
ratio) and streams what it can, so memory follows the limits, not the file; a breach, an xlsx
declaring a DTD and a formula cell without a cached value are findings too. scan_inbox refuses
links and special files and reports what lies where no delivery belongs. Content rules (check digits, sums, ranges,
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
import itertools
import json
import math
import operator
import os
import re
import shutil
import stat
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..feeds import SOURCES, TABLES, YES_NO, Column, Table, match_table, normalize_header, tables_of_source
from ..findings import ERROR, WARNING, Finding

SUPPORTED_SUFFIXES = (".csv", ".xlsx", ".json")
HEADER_SCAN_ROWS = 30  # title rows above the header: look this far down for the header row
MAX_ERRORS_PER_KIND = 20  # per (table, column, rule): more are summarised in one finding


@dataclass(frozen=True)
class ReadLimits:
    """What one delivery may be. Every reader stops at these and reports the breach as an error
    finding (the delivery is rejected; nothing larger than this is ever held in memory). The
    defaults leave ample room for a year of province-scale data in one file (150,000 enterprises
    x 12 months = 1.8 M rows, about 150 MB of CSV); tests pass smaller ones."""

    max_file_bytes: int = 256 * 2**20  # the delivered file as it lies in the inbox
    max_json_bytes: int = 128 * 2**20  # a JSON body (parsed whole: its objects take ~10x its size)
    max_rows: int = 2_000_000  # rows of one CSV, sheet or JSON body, title and header rows included
    max_columns: int = 256  # cells in one row (the widest table has 15 columns)
    max_cells: int = 40_000_000  # cells an xlsx may make the reader look at, empty ones included
    max_cell_chars: int = 32_767  # characters in one cell (Excel's own limit)
    max_json_depth: int = 32  # nesting of arrays/objects ({"records": [{...}]} is 3)
    max_int_digits: int = 30  # digits of one JSON integer
    max_zip_members: int = 1_000  # parts of an xlsx (a workbook has a few dozen)
    max_unzipped_bytes: int = 1 * 2**30  # all parts of an xlsx, decompressed
    max_shared_strings_bytes: int = 128 * 2**20  # xl/sharedStrings.xml, decompressed (openpyxl holds it whole)
    max_zip_ratio: int = 200  # decompressed : compressed, for a part over 1 MiB decompressed
    max_inbox_entries: int = 10_000  # entries looked at below one source folder when reporting strays


DEFAULT_LIMITS = ReadLimits()


def read_limits() -> ReadLimits:
    """The limits in force (DEFAULT_LIMITS; a test may set smaller ones on this module)."""
    return DEFAULT_LIMITS
# File names in the archive and quarantine stay within this many bytes (NAME_MAX of ext4, XFS,
# btrfs, NTFS): the delivered name is shortened there and kept whole in the records and reports.
NAME_MAX_BYTES = 255


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
    with open_regular(path) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def open_regular(path: Path | str):
    """Open a file for reading without following a symbolic link at its last component (a link
    swapped in after the inbox was scanned is refused with OSError, ELOOP)."""
    return os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb")


def _ignored_name(name: str) -> bool:
    # Hidden files, Excel lock files (~$x.xlsx) and partial downloads are not deliveries.
    return name.startswith((".", "~$")) or name.endswith((".tmp", ".part"))


def _printable_name(name: str) -> str:
    """A file name as text that can be written anywhere (undecodable bytes become U+FFFD)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@dataclass
class InboxScan:
    """What the inbox holds: the deliveries to read, and an error finding for everything else
    that is not ignored (links, special files, sub-folders, folders that are no source)."""

    deliveries: list[Delivery] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def scan_inbox(inbox: Path | str, source: str | None = None, *, limits: ReadLimits | None = None) -> InboxScan:
    """Every regular file in ``<inbox>/<source>/`` (all sources when None), in arrival order: file
    modification time, then name. Files of any suffix are returned (an unreadable one is rejected
    by the reader, with a report, rather than silently ignored).

    The inbox is no way into the machine: a symbolic or hard link, a device, pipe or socket is
    refused (never opened); a file in a sub-folder of a source folder, and (scanning all sources)
    a folder or file that belongs to no source, is reported, so that no delivery vanishes without
    a word. Hidden files, Excel lock files and partial downloads are ignored."""
    inbox = Path(inbox)
    limits = limits or read_limits()
    sources = [source] if source else list(SOURCES)
    for s in sources:
        if s not in SOURCES:
            raise ValueError(f"unknown source {s!r} (expected one of {', '.join(SOURCES)})")
    scan = InboxScan()

    def refuse(src: str, name: str, rule: str, message: str, message_en: str) -> None:
        scan.findings.append(Finding(level=ERROR, source=src, rule=rule, file=_printable_name(name),
                                     message=message, message_en=message_en))

    for s in sources:
        folder = inbox / s
        try:
            st = os.lstat(folder)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
            refuse(s, f"{s}/", "inbox_not_a_folder", f"来源文件夹“{s}/”是链接或不是普通文件夹，已拒绝读取其中的任何文件",
                   f"source folder {s}/ is a link or not a plain folder; nothing in it is read")
            continue
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:
            refuse(s, f"{s}/", "inbox_unreadable", f"来源文件夹“{s}/”无法读取（{exc.strerror or exc}），其中的文件未读取",
                   f"source folder {s}/ cannot be listed: {exc}")
            continue
        for e in entries:
            if _ignored_name(e.name):
                continue
            try:
                est = e.stat(follow_symlinks=False)
            except FileNotFoundError:  # moved away while we looked (e.g. to quarantine)
                continue
            shown = _printable_name(e.name)
            if stat.S_ISLNK(est.st_mode):
                refuse(s, e.name, "inbox_link", f"“{shown}”是符号链接，已拒绝读取（链接可指向收件箱以外的文件）；请报送文件本身",
                       "symbolic link refused (it may point outside the inbox)")
            elif stat.S_ISDIR(est.st_mode):
                for rel in _files_below(Path(e.path), limits.max_inbox_entries):
                    refuse(s, f"{e.name}/{rel}", "inbox_subfolder",
                           f"文件位于子文件夹“{s}/{shown}/”中，未读取；请直接放在“{s}/”文件夹下报送",
                           f"file in sub-folder {s}/{shown}/ not read (deliveries go directly into {s}/)")
            elif not stat.S_ISREG(est.st_mode):
                refuse(s, e.name, "inbox_special_file", f"“{shown}”不是普通文件（设备、管道或套接字），已拒绝读取",
                       "not a regular file (device, pipe or socket); refused")
            elif est.st_nlink > 1:
                refuse(s, e.name, "inbox_hardlink", f"“{shown}”是硬链接（与收件箱以外的文件共用内容），已拒绝读取；请报送文件副本",
                       "hard link refused (it shares its content with a file outside the inbox)")
            elif shown != e.name:
                refuse(s, e.name, "bad_file_name", f"文件名“{shown}”含无法识别的字符（不是 UTF-8 编码），未读取；请改名后重新报送",
                       "file name is not valid UTF-8; not read")
            else:
                try:
                    scan.deliveries.append(Delivery.from_path(Path(e.path), s))
                except FileNotFoundError:
                    continue
                except OSError as exc:  # e.g. no read permission, or a link swapped in since the scan
                    refuse(s, e.name, "inbox_unreadable", f"“{shown}”无法读取（{exc.strerror or exc}），未读取",
                           f"cannot read file: {exc}")
    if source is None and inbox.is_dir():
        with os.scandir(inbox) as it:
            strays = sorted((e for e in it if e.name not in SOURCES and not _ignored_name(e.name)),
                            key=lambda e: e.name)
        for e in strays:
            shown = _printable_name(e.name)
            if e.is_dir(follow_symlinks=False):
                for rel in _files_below(Path(e.path), limits.max_inbox_entries):
                    refuse("inbox", f"{e.name}/{rel}", "inbox_unknown_folder",
                           f"文件夹“{shown}/”不是任何数据来源（应为 {'、'.join(SOURCES)}），其中的文件未读取",
                           f"folder {shown}/ is no source ({', '.join(SOURCES)}); its files are not read")
            else:
                refuse("inbox", e.name, "inbox_stray_file",
                       f"文件直接放在收件箱根目录，未读取；请放入对应来源的文件夹（{'、'.join(SOURCES)}）",
                       "file at the top of the inbox is not read (deliveries go into a source folder)")
    scan.deliveries.sort(key=lambda d: (d.mtime, d.name, d.source))
    return scan


def _files_below(folder: Path, max_entries: int) -> list[str]:
    """Relative paths of the non-ignored files below ``folder`` (links not followed), at most
    ``max_entries`` of them (the last entry then says how many more were not looked at)."""
    out: list[str] = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not _ignored_name(d))
        for name in sorted(files):
            if _ignored_name(name):
                continue
            if len(out) >= max_entries:
                return out + ["…"]
            out.append(str((Path(root) / name).relative_to(folder)))
    return out


def find_deliveries(inbox: Path | str, source: str | None = None) -> list[Delivery]:
    """The deliveries of ``scan_inbox`` (its findings about what is not a delivery aside)."""
    return scan_inbox(inbox, source).deliveries


# --------------------------------------------------------------------------------------------
# Archiving


def bounded_name(name: str, *, prefix: str = "", reserve: int = 0) -> str:
    """``prefix + name`` shortened so that it and ``reserve`` more bytes (a suffix such as
    ``.sha256``) fit in NAME_MAX_BYTES: the middle of the name gives way to ``…`` and a hash of the
    whole name, the suffix (``.xlsx``) is kept. The original name stays in the records."""
    room = NAME_MAX_BYTES - reserve - len(prefix.encode("utf-8"))
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) <= room:
        return prefix + name
    stem, dot, suffix = name.rpartition(".")
    suffix = f".{suffix}" if dot and 0 < len(suffix.encode("utf-8")) <= 16 else ""
    stem = name[: len(name) - len(suffix)]
    tag = "…" + hashlib.sha256(raw).hexdigest()[:12]
    keep = room - len(tag.encode("utf-8")) - len(suffix.encode("utf-8"))
    head = stem.encode("utf-8", "surrogateescape")[:max(keep, 0)].decode("utf-8", "ignore")
    return prefix + head + tag + suffix


# The longest names written beside an archived or quarantined file: ".<name>.tmp" and
# "<name>.report.json".
_RESERVED_SUFFIX_BYTES = len(".report.json") + 1


def archive_path_for(delivery: Delivery, archive_dir: Path | str) -> Path:
    name = bounded_name(delivery.name, prefix=f"{delivery.sha256[:16]}__", reserve=_RESERVED_SUFFIX_BYTES)
    return Path(archive_dir) / delivery.source / name


def sha256sum_line(digest: str, name: str) -> str:
    r"""One line in ``sha256sum`` format. As GNU sha256sum does, a name holding a backslash or a
    line break is escaped (``\\``, ``\n``, ``\r``) and the line starts with a backslash, so
    ``sha256sum -c`` reads it back and no name can forge a second line."""
    if any(c in name for c in "\\\n\r"):
        escaped = name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
        return f"\\{digest}  {escaped}\n"
    return f"{digest}  {name}\n"


def archive_delivery(delivery: Delivery, archive_dir: Path | str, *, content: bytes | None = None) -> Path:
    """Store the file unchanged as ``<archive_dir>/<source>/<sha256[:16]>__<name>`` (the name
    shortened to fit the file system, see bounded_name) with a ``.sha256`` sidecar (sha256sum
    format, naming the archived file) and the original modification time. ``content`` is the
    file's bytes when the caller already read them. Idempotent: an identical copy is kept."""
    target = archive_path_for(delivery, archive_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not (target.exists() and target.stat().st_size == delivery.size and sha256_file(target) == delivery.sha256):
        tmp = _tmp_beside(target)
        if content is None:
            with open_regular(delivery.path) as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        else:
            tmp.write_bytes(content)
        if sha256_file(tmp) != delivery.sha256:
            tmp.unlink(missing_ok=True)
            raise OSError(f"{delivery.path}: file changed while being archived (sha256 differs)")
        os.utime(tmp, (delivery.mtime, delivery.mtime))
        os.replace(tmp, target)
    sidecar = target.with_name(target.name + ".sha256")
    if not sidecar.exists():
        tmp = _tmp_beside(sidecar)
        tmp.write_text(sha256sum_line(delivery.sha256, target.name), encoding="utf-8", errors="surrogateescape")
        os.replace(tmp, sidecar)
    return target


def _tmp_beside(target: Path) -> Path:
    """A hidden temporary name next to ``target``, short (within NAME_MAX whatever the target's
    name) and unique to this writer, so that two runs archiving the same file never share one."""
    return target.with_name(f".{hashlib.sha256(target.name.encode('utf-8', 'surrogateescape')).hexdigest()[:16]}"
                            f".{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


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


# Characters no warehouse can store: NUL (PostgreSQL text) and unpaired surrogates (not UTF-8;
# a JSON body can spell both as \u escapes, an xlsx NUL as _x0000_).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    s = str(v).strip()
    if _UNSTORABLE.search(s):
        raise CellError("bad_characters", "含有无法保存的字符（NUL 或不成对的代理码位），请删除后重新报送",
                        "text holds NUL or an unpaired surrogate")
    return s


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
    if not -2**63 <= f < 2**63:  # what a warehouse integer (and pandas' Int64) holds
        raise CellError("number_out_of_range", f"整数“{_clip(v)}”超出可保存的范围", f"integer {_clip(v)!r} out of range")
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
    s = _printable(str(v))
    return s if len(s) <= n else s[: n - 1] + "…"


def _printable(s: str) -> str:
    """Text that any report, log or database can hold (NUL and lone surrogates become U+FFFD)."""
    return _UNSTORABLE.sub("\ufffd", s)


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
            if type(v) is str and not _UNSTORABLE.search(v):
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


GRID_CHUNK_ROWS = 65_536  # data rows typed at a time: memory holds the values and one chunk of cells


def _table_of_grid(rows: Iterable[tuple[int, list[Any]]], source: str, sheet: str | None, fs: _Findings,
                   *, required: bool) -> TableData | None:
    """Find the header row of one grid, check the columns and coerce the data rows.

    ``rows`` are (1-based row number, cells), any iterable: they are consumed once, a chunk at a
    time, so a reader can stream them. Returns None (with findings) when nothing usable.
    """
    it = iter(rows)
    head = list(itertools.islice(it, HEADER_SCAN_ROWS))
    candidates = tables_of_source(source)
    where = f"工作表“{sheet}”" if sheet else "文件"
    header_at, table = None, None
    for i, (_, cells) in enumerate(head):
        t = match_table(cells, candidates)
        if t is not None:
            header_at, table = i, t
            break
    if table is None:
        if all(_blank(c) for _, c in head) and all(_blank(c) for _, c in it):
            if required:
                fs.add("empty_file", f"{where}为空，没有任何数据", f"{sheet or 'file'} is empty", sheet=sheet)
            return None
        other = None
        for _, cells in head:
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

    header_row_no, header_cells = head[header_at]
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

    width = len(header_cells)
    uscc_pos = positions.get("uscc")

    def uscc_hint(cells: list[Any]) -> str | None:
        raw = cells[uscc_pos] if uscc_pos is not None and uscc_pos < len(cells) else None
        return None if _is_empty(raw) else _text(raw)

    data = TableData(table=table, sheet=sheet, header_row=header_row_no)
    # Column by column within each chunk, with a converter per column (fast paths, memoised for
    # repeating values; one converter for the whole grid, so the memo spans the chunks).
    convs = {col.name: converter(col) for col in table.columns}
    for col in table.columns:
        data.columns[col.name] = []
    rest = itertools.chain(head[header_at + 1:], it)
    while batch := list(itertools.islice(rest, GRID_CHUNK_ROWS)):
        data_rows = [(row_no, cells) for row_no, cells in batch if not _blank(cells)]
        del batch
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
        data.row_numbers.extend(row_no for row_no, _ in data_rows)
        for col in table.columns:
            pos = positions.get(col.name)
            out = data.columns[col.name]
            if pos is None:
                out.extend([None] * len(data_rows))
                continue
            conv = convs[col.name]
            append = out.append
            for row_no, cells in data_rows:
                try:
                    append(conv(cells[pos] if pos < len(cells) else None))
                except CellError as exc:
                    fs.add(exc.rule, f"“{col.header}”{exc.message}", f"{col.header}: {exc.message_en}",
                           table=table.name, sheet=sheet, row=row_no, column=col.header, uscc=uscc_hint(cells))
                    bad = True
                    append(None)
    if not data.row_numbers:
        fs.add("empty_file", f"{where}只有表头，没有数据行", f"{table.name}: header only, no data rows",
               table=table.name, sheet=sheet, row=header_row_no)
        return None
    return None if bad else data


class _LimitReached(Exception):
    """Internal: a reader stopped at a limit (the finding is already recorded)."""


def _within_limits(row_no: int, cells: list[Any], sheet: str | None, fs: _Findings,
                   limits: ReadLimits) -> list[Any] | None:
    """The row's cells (empty cells past the column limit dropped), or None with a finding when
    it has data past the column limit or a cell longer than the cell limit."""
    if len(cells) > limits.max_columns:
        if not _blank(cells[limits.max_columns:]):
            fs.add("too_many_columns", f"本行有数据的单元格超过 {limits.max_columns} 列的上限，文件未读取",
                   f"row has data past the limit of {limits.max_columns} columns", sheet=sheet, row=row_no,
                   column=f"第{limits.max_columns + 1}列")
            return None
        cells = cells[: limits.max_columns]
    try:
        if sum(map(len, cells)) <= limits.max_cell_chars:  # fast path: a row of strings (CSV)
            return cells
    except TypeError:
        pass
    too_long = [(j, v) for j, v in enumerate(cells) if type(v) is str and len(v) > limits.max_cell_chars]
    for j, v in too_long:
        fs.add("cell_too_long", f"单元格有 {len(v):,} 个字符，超过 {limits.max_cell_chars:,} 个字符的上限",
               f"cell of {len(v)} characters exceeds the limit of {limits.max_cell_chars}", sheet=sheet,
               row=row_no, column=f"第{j + 1}列")
    return None if too_long else cells


def _too_many_rows(fs: _Findings, limits: ReadLimits, sheet: str | None = None) -> None:
    where = f"工作表“{sheet}”" if sheet else "文件"
    fs.add("too_many_rows", f"{where}超过 {limits.max_rows:,} 行的上限，未读取；请分成几份报送",
           f"more than {limits.max_rows} rows", sheet=sheet, row=limits.max_rows + 1)


# An XML part of an xlsx declaring a DTD (entity expansion, external entities): refused before
# any parser sees it. XML may be UTF-8 or UTF-16, so the markers are looked for in all three.
_DTD_MARKERS = re.compile(b"|".join(re.escape(m.encode(enc)) for m in ("<!DOCTYPE", "<!ENTITY")
                                    for enc in ("utf-8", "utf-16-le", "utf-16-be")))
# A formula element (<f>, <f t="shared" .../>, <x:f>) in a worksheet part.
_FORMULA_MARKER = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")


def _check_xlsx_container(content: bytes, fs: _Findings, limits: ReadLimits) -> bool | None:
    """Look at the zip before openpyxl does: member count, decompressed size (counted while
    decompressing, not as declared), compression ratio, and DTDs in XML parts. None (with a
    finding) when the file must not be opened; else whether a worksheet holds formulas."""
    import zipfile

    try:
        zf = zipfile.ZipFile(io.BytesIO(content))
    except Exception as exc:  # noqa: BLE001 - as below
        fs.add("unreadable", "Excel 文件已损坏或不完整（可能传输中断），无法打开",
               f"xlsx cannot be opened (corrupt or truncated): {exc.__class__.__name__}: {exc}")
        return None
    infos = zf.infolist()
    if len(infos) > limits.max_zip_members:
        fs.add("xlsx_too_many_parts", f"Excel 文件内含 {len(infos):,} 个部件，超过 {limits.max_zip_members:,} 个的上限，未读取",
               f"xlsx has {len(infos)} zip members (limit {limits.max_zip_members})")
        return None
    total, formulas = 0, False
    try:
        for info in infos:
            if info.is_dir():
                continue
            name = info.filename.lower()
            # Every part but embedded media may be XML that openpyxl parses (a worksheet can be
            # named anything by the workbook's relations).
            xml = not name.startswith(("xl/media/", "xl/embeddings/", "docprops/thumbnail"))
            size, tail = 0, b""
            with zf.open(info) as fh:
                while chunk := fh.read(1 << 20):
                    size += len(chunk)
                    total += len(chunk)
                    if total > limits.max_unzipped_bytes:
                        fs.add("xlsx_too_large", f"Excel 文件解压后超过 {limits.max_unzipped_bytes // 2**20:,} MB 的上限，未读取",
                               f"xlsx decompresses to more than {limits.max_unzipped_bytes} bytes")
                        return None
                    if name == "xl/sharedstrings.xml" and size > limits.max_shared_strings_bytes:
                        fs.add("xlsx_too_large", f"Excel 文件的共享字符串超过 {limits.max_shared_strings_bytes // 2**20:,} MB 的上限，未读取",
                               f"xl/sharedStrings.xml decompresses to more than {limits.max_shared_strings_bytes} bytes")
                        return None
                    if size > 2**20 and size > limits.max_zip_ratio * max(info.compress_size, 1):
                        fs.add("xlsx_zip_bomb", f"Excel 文件的部件“{info.filename}”压缩比异常（超过 {limits.max_zip_ratio} 倍），疑为压缩炸弹，未读取",
                               f"zip member {info.filename} expands more than {limits.max_zip_ratio}x")
                        return None
                    if xml:
                        window = tail + chunk
                        if _DTD_MARKERS.search(window):
                            fs.add("xlsx_dtd", f"Excel 文件的部件“{info.filename}”含有 DTD/实体声明（可被用于攻击），已拒绝读取",
                                   f"zip member {info.filename} declares a DTD or entities; refused")
                            return None
                        if not formulas:
                            formulas = bool(_FORMULA_MARKER.search(window)) or (size == len(chunk) and b"\x00" in chunk[:64])
                        tail = window[-32:]
    except Exception as exc:  # noqa: BLE001 - a corrupt zip raises BadZipFile, ValueError, zlib.error, EOFError ...
        fs.add("unreadable", "Excel 文件已损坏、不完整或已加密，无法读取",
               f"xlsx cannot be decompressed: {exc.__class__.__name__}: {exc}")
        return None
    return formulas


def _refuse_dtd(fs: _Findings, exc: Exception) -> None:
    fs.add("xlsx_dtd", "Excel 文件含有 DTD/实体声明（可被用于攻击），已拒绝读取",
           f"xlsx declares a DTD or entities; refused ({exc.__class__.__name__})")


_EMPTY_ROW: tuple = ()


def _sheet_rows(ws, fs: _Findings, limits: ReadLimits) -> Iterator[tuple[int, Any]]:
    """A worksheet's rows (1-based row number, cells) as they are parsed, within the limits
    (raises _LimitReached past one). The sheet's declared dimension is not trusted (an absurd one
    would make openpyxl pad every row to it): each row is as long as its own cells."""
    ws.reset_dimensions()
    seen = 0
    for i, r in enumerate(ws.iter_rows(values_only=True), 1):
        if i > limits.max_rows:
            _too_many_rows(fs, limits, ws.title)
            raise _LimitReached
        seen += len(r) + 1
        if seen > limits.max_cells:
            fs.add("too_many_cells", f"工作表“{ws.title}”的单元格超过 {limits.max_cells:,} 个的上限，未读取",
                   f"sheet has more than {limits.max_cells} cells", sheet=ws.title, row=i)
            raise _LimitReached
        if not r:
            yield i, _EMPTY_ROW
            continue
        cells = _within_limits(i, list(r), ws.title, fs, limits)
        if cells is None:
            raise _LimitReached
        yield i, cells


def _formula_findings(content: bytes, tables: dict[str, TableData], fs: _Findings) -> None:
    """A formula cell without a cached value (a workbook written by a program that does not
    calculate) would read as empty, i.e. "not reported": an error naming the cell instead. Reads
    the workbook again, formulas and cached values side by side (only when a worksheet holds
    formulas); a cached empty text ("" from =IF(...,"",...)) is a value."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    wb_f = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    wb_v = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        for ws_f, ws_v in zip(wb_f.worksheets, wb_v.worksheets):
            td = tables.get(ws_f.title)
            if td is None:
                continue
            ws_f.reset_dimensions()
            ws_v.reset_dimensions()
            last = td.row_numbers[-1]
            header: tuple = ()
            pairs = zip(ws_f.iter_rows(max_row=last), ws_v.iter_rows(max_row=last, values_only=True))
            for i, (row_f, row_v) in enumerate(pairs, 1):
                if i <= td.header_row:
                    header = row_v if i == td.header_row else header
                    continue
                for cell in row_f:
                    if getattr(cell, "data_type", None) != "f":
                        continue
                    j = cell.column - 1
                    if j < len(row_v) and row_v[j] is not None:
                        continue
                    ref = f"{get_column_letter(cell.column)}{i}"
                    label = _text(header[j]) if j < len(header) and not _is_empty(header[j]) else f"第{j + 1}列"
                    fs.add("formula_without_value",
                           f"单元格 {ref} 是公式，但文件中没有保存计算结果；请在 Excel 中打开、计算并保存（或粘贴为数值）后重新报送",
                           f"cell {ref} holds a formula without a cached value", table=td.table.name,
                           sheet=ws_f.title, row=i, column=label)
    finally:
        wb_f.close()
        wb_v.close()


def _read_xlsx(content: bytes, source: str, fs: _Findings, limits: ReadLimits = DEFAULT_LIMITS) -> list[TableData]:
    import openpyxl

    formulas = _check_xlsx_container(content, fs, limits)
    if formulas is None:
        return []
    from defusedxml import DefusedXmlException

    try:
        wb = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except DefusedXmlException as exc:  # openpyxl parses with defusedxml: a DTD the scan above missed
        _refuse_dtd(fs, exc)
        return []
    except Exception as exc:  # noqa: BLE001 - a corrupt part raises BadZipFile, KeyError, XMLSyntaxError, ...
        fs.add("unreadable", "Excel 文件已损坏或不完整（可能传输中断），无法打开",
               f"xlsx cannot be opened (corrupt or truncated): {exc.__class__.__name__}: {exc}")
        return []
    tables = []
    try:
        for ws in wb.worksheets:
            td = _table_of_grid(_sheet_rows(ws, fs, limits), source, ws.title, fs, required=False)
            if td is not None:
                tables.append(td)
    except _LimitReached:
        return []
    except DefusedXmlException as exc:
        _refuse_dtd(fs, exc)
        return []
    except Exception as exc:  # noqa: BLE001 - a corrupt part of the zip surfaces while streaming
        fs.add("unreadable", "Excel 文件已损坏或不完整（可能传输中断），无法读取",
               f"xlsx cannot be read (corrupt or truncated): {exc.__class__.__name__}: {exc}")
        return []
    finally:
        wb.close()
    if formulas and tables:
        try:
            _formula_findings(content, {td.sheet: td for td in tables}, fs)
        except Exception as exc:  # noqa: BLE001 - the formulas' part of a corrupt file
            fs.add("unreadable", "Excel 文件已损坏或不完整（可能传输中断），无法读取公式",
                   f"xlsx formulas cannot be read: {exc.__class__.__name__}: {exc}")
            return []
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


def _read_csv(content: bytes, source: str, fs: _Findings, limits: ReadLimits = DEFAULT_LIMITS) -> list[TableData]:
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
    # Cells are checked against limits.max_cell_chars by the readers, with row and column; the
    # csv module's own (process-wide) field limit would end the read with no row at all. The
    # file's size already bounds any field.
    if csv.field_size_limit() < limits.max_file_bytes:
        csv.field_size_limit(limits.max_file_bytes)
    if _plain_csv(text):
        # The columnar reader parses the file's UTF-8 bytes in place; the decoded text (up to
        # four times the file) is let go meanwhile, and decoded again only if that reader declines.
        raw, skip = (content, 3 if _enc == "utf-8-sig" else 0) if _enc.startswith("utf-8") else (text.encode("utf-8"), 0)
        head = _head_lines(text)
        del text
        fast = _read_csv_columnar(head, raw, skip, delimiter, source, limits)
        if fast is not None:
            return [fast]
        del raw
        text, _enc = decode_text(content)
    try:
        td = _table_of_grid(_csv_rows(text, delimiter, fs, limits), source, None, fs, required=True)
    except _LimitReached:
        return []
    return [td] if td is not None else []


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def _csv_rows(text: str, delimiter: str, fs: _Findings, limits: ReadLimits) -> Iterator[tuple[int, list[str]]]:
    """The CSV's rows (1-based, cells) as they are parsed, within the limits (raises _LimitReached
    past one). Lines are cut as io.StringIO(newline="") cuts them, without copying the text."""
    reader = csv.reader(map(operator.methodcaller("group"), _LINE.finditer(text)), delimiter=delimiter)
    max_rows, max_columns, max_chars = limits.max_rows, limits.max_columns, limits.max_cell_chars
    try:
        for i, r in enumerate(reader, 1):
            if i > max_rows:
                _too_many_rows(fs, limits)
                raise _LimitReached
            if len(r) <= max_columns and sum(map(len, r)) <= max_chars:  # the usual row, at C speed
                yield i, r
                continue
            cells = _within_limits(i, r, None, fs, limits)
            if cells is None:
                raise _LimitReached
            yield i, cells
    except csv.Error as exc:
        fs.add("unreadable", f"CSV 格式错误：{exc}", f"CSV not parseable: {exc}", row=reader.line_num or None)
        raise _LimitReached from None


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


_LONE_CR = re.compile("\r(?!\n)")


def _plain_csv(text: str) -> bool:
    """No quotes, no line break but \\n and \\r\\n, no non-ASCII whitespace: the columnar reader's shape."""
    return '"' not in text and not _LONE_CR.search(text) and not _NON_ASCII_SPACE.search(text)


def _head_lines(text: str) -> list[str]:
    """The first HEADER_SCAN_ROWS lines of a plain CSV, line endings kept."""
    lines: list[str] = []
    pos = 0
    while len(lines) < HEADER_SCAN_ROWS and pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end + 1
        lines.append(text[pos:end])
        pos = end
    return lines


def _read_csv_columnar(head_lines: list[str], raw: bytes, skip: int, delimiter: str, source: str,
                       limits: ReadLimits = DEFAULT_LIMITS) -> TableData | None:
    """A plain CSV (see _plain_csv) from its first lines and its UTF-8 bytes ``raw[skip:]``."""
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
    start = skip + len("".join(head_lines[: at + 1]).encode("utf-8"))
    end = len(raw)
    while end > start and raw[end - 1] in (10, 13):  # trailing line breaks
        end -= 1
    if end <= start:
        return None
    n_lines = raw.count(b"\n", start, end) + 1
    if n_lines + at + 1 > limits.max_rows:
        return None

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    try:
        arrow = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(memoryview(raw)[start:end])),  # no copy of the file
            read_options=pacsv.ReadOptions(column_names=[c.name for c in names], use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char=False, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={c.name: pa.string() for c in names},
                                                 strings_can_be_null=False))
    except (pa.ArrowInvalid, ValueError):
        return None
    if arrow.num_rows != n_lines:
        return None
    n_rows = arrow.num_rows
    if end - start > limits.max_cell_chars and any(
            (pc.max(pc.utf8_length(arrow.column(c.name))).as_py() or 0) > limits.max_cell_chars for c in names):
        return None
    # Column by column, each column's buffers let go once it is converted (memory: the Arrow
    # table, the Python values, and one column's temporaries).
    empty = {c.name: pc.equal(pc.ascii_trim_whitespace(arrow.column(c.name).combine_chunks()), "") for c in names}
    all_empty = None
    for mask in empty.values():
        all_empty = mask if all_empty is None else pc.and_(all_empty, mask)
    if pc.any(all_empty).as_py():  # a row of empty cells is skipped (and numbered) by the row reader
        return None
    columns: dict[str, list[Any]] = {}
    for col in table.columns:
        trimmed = pc.ascii_trim_whitespace(arrow.column(col.name).combine_chunks())
        arrow = arrow.drop_columns([col.name])
        values = _columnar_values(col, trimmed, empty.pop(col.name))
        del trimmed
        if values is None:
            return None
        columns[col.name] = values
    first = at + 2  # 1-based file row of the first data row
    return TableData(table=table, sheet=None, header_row=at + 1,
                     row_numbers=list(range(first, first + n_rows)), columns=columns)


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
        try:
            floats = pc.cast(values, pa.float64())
        except (pa.ArrowInvalid, ValueError):  # e.g. a number of thousands of digits
            return None
        if not pc.all(pc.fill_null(pc.is_finite(floats), True)).as_py():  # empty cells are null
            return None
        if t == "number":
            return floats.to_pylist()
        if not pc.all(pc.fill_null(pc.equal(pc.floor(floats), floats), True)).as_py():
            return None
        if not pc.all(pc.fill_null(pc.less(pc.abs(floats), 2.0**63), True)).as_py():  # the row reader reports it
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


class JsonLimitError(ValueError):
    """A JSON body over ReadLimits (nesting depth, digits of an integer)."""

    def __init__(self, rule: str, message: str, message_en: str):
        super().__init__(message_en)
        self.rule, self.message, self.message_en = rule, message, message_en


def json_depth(doc: Any) -> int:
    """The deepest nesting of arrays and objects in a parsed document (walked without recursion)."""
    deepest, todo = 0, [(doc, 1)]
    while todo:
        node, depth = todo.pop()
        if type(node) is dict:
            node = node.values()
        elif type(node) is not list:
            continue
        deepest = max(deepest, depth)
        todo.extend((v, depth + 1) for v in node if type(v) is dict or type(v) is list)
    return deepest


def load_json(data: bytes | str, limits: ReadLimits | None = None) -> Any:
    """``json.loads`` within the limits: raises JsonLimitError for nesting deeper than
    ``max_json_depth`` or an integer longer than ``max_int_digits`` (Python's int() refuses 4,300
    digits with a bare ValueError), json.JSONDecodeError / UnicodeDecodeError for bad JSON.

    The json module parses nesting by recursion and stops with RecursionError (cleanly, a few
    thousand levels down); that is the limit breached too. A scan of the text ahead of parsing was
    not used: skipping strings with a regular expression is quadratic on a hostile tail."""
    limits = limits or read_limits()
    text = decode_text(data)[0] if isinstance(data, bytes) else data

    def too_deep(depth: str) -> JsonLimitError:
        return JsonLimitError("json_too_deep", f"JSON 嵌套层数{depth}超过 {limits.max_json_depth} 层的上限，未读取",
                              f"JSON nested deeper than {limits.max_json_depth}")

    def parse_int(digits: str) -> int:
        if len(digits.lstrip("-")) > limits.max_int_digits:
            raise JsonLimitError("number_too_long",
                                 f"JSON 中有一个 {len(digits.lstrip('-')):,} 位的整数，超过 {limits.max_int_digits} 位的上限，未读取",
                                 f"JSON integer of {len(digits)} digits (limit {limits.max_int_digits})")
        return int(digits)

    try:
        doc = json.loads(text, parse_int=parse_int)
    except RecursionError:
        raise too_deep("") from None
    depth = json_depth(doc)
    if depth > limits.max_json_depth:
        raise too_deep(f"为 {depth:,}，")
    return doc


def _read_json(content: bytes, source: str, fs: _Findings, limits: ReadLimits = DEFAULT_LIMITS) -> list[TableData]:
    try:
        body = load_json(content, limits)
    except JsonLimitError as exc:
        fs.add(exc.rule, exc.message, exc.message_en)
        return []
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
    if len(records) + 1 > limits.max_rows:
        _too_many_rows(fs, limits)
        return []
    for i, rec in enumerate(records, 1):
        if len(rec) > limits.max_columns:
            fs.add("too_many_columns", f"第 {i} 条记录有 {len(rec):,} 个字段，超过 {limits.max_columns} 列的上限，未读取",
                   f"record {i} has {len(rec)} fields (limit {limits.max_columns})", row=i)
            return []
        for k, v in rec.items():
            n = max(len(k), len(v) if type(v) is str else 0)
            if n > limits.max_cell_chars:
                fs.add("cell_too_long", f"字段有 {n:,} 个字符，超过 {limits.max_cell_chars:,} 个字符的上限",
                       f"field of {n} characters exceeds the limit of {limits.max_cell_chars}", row=i,
                       column=_clip(k))
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
                  file_label: str | None = None, limits: ReadLimits | None = None) -> ReadResult:
    """Read one delivered file into its tables, within ``limits``. Never raises for bad input:
    problems are error findings in the result (a file with any error yields no tables)."""
    p = Path(path)
    limits = limits or read_limits()
    label = file_label or p.name
    fs = _Findings(source, label)
    try:
        if content is not None:
            data = content
        else:
            with open_regular(p) as fh:  # a link is refused (ELOOP), never followed
                data = fh.read(limits.max_file_bytes + 1)
    except OSError as exc:
        fs.add("unreadable", "文件无法读取", f"cannot read file: {exc}")
        return ReadResult([], fs.items)
    suffix = p.suffix.lower()
    cap = limits.max_json_bytes if suffix == ".json" else limits.max_file_bytes
    if len(data) > cap:
        fs.add("file_too_large", f"文件超过 {cap // 2**20:,} MB 的上限，未读取；请分成几份报送",
               f"file larger than {cap} bytes")
        return ReadResult([], fs.items)
    tables: list[TableData] = []
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        fs.add("empty_file", "文件为空（0 字节或只有空白）", "file is empty")
    elif suffix == ".xlsx" or (suffix not in SUPPORTED_SUFFIXES and data[:2] == b"PK"):
        tables = _read_xlsx(data, source, fs, limits)
    elif suffix == ".csv":
        tables = _read_csv(data, source, fs, limits)
    elif suffix == ".json":
        tables = _read_json(data, source, fs, limits)
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


__all__ = ["DEFAULT_LIMITS", "Delivery", "InboxScan", "JsonLimitError", "ReadLimits", "ReadResult", "TableData",
           "CellError", "archive_delivery", "archive_path_for", "bounded_name", "coerce", "decode_text",
           "find_deliveries", "load_json", "open_regular", "read_delivery", "scan_inbox", "sha256_file",
           "sha256sum_line", "TABLES"]
