"""The CSV reader: the text's encoding detected (decode_text), its rows parsed as they stream,
within the limits; a plain CSV (the shape of every large delivery) is read column by column by
pyarrow instead, with the same result."""

from __future__ import annotations

import csv
import operator
import re
from typing import Any, Iterator

from ..feeds import Column, match_table, normalize_header, tables_of_source
from .cells import CellError, coerce
from .grid import HEADER_SCAN_ROWS, _LimitReached, _table_of_grid, _too_many_rows, _within_limits
from .limits import DEFAULT_LIMITS, ReadLimits
from .results import TableData, _Findings


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
