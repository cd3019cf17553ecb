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
from .results import TableData, _Findings, arrow_type


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
    # Cells are checked against limits.max_cell_chars by the readers, with row and column; the
    # csv module's own (process-wide) field limit would end the read with no row at all. The
    # file's size already bounds any field.
    if csv.field_size_limit() < limits.max_file_bytes:
        csv.field_size_limit(limits.max_file_bytes)
    # A plain UTF-8 file (every large delivery) goes to the columnar reader as it is: its first
    # lines are decoded here, the rest is checked as UTF-8 by pyarrow (as strictly as Python's
    # codec), and the text is never decoded whole. Declined, the file is read as below.
    tried = False
    skip = 3 if content.startswith(b"\xef\xbb\xbf") else 0
    head = _head_lines_utf8(content, skip)  # None for another encoding (GBK): no scan of its bytes
    if head is not None and _plain_csv_bytes(content):
        tried = True
        fast = _read_csv_columnar(head, content, skip, _delimiter("".join(head)[:65536]), source, limits)
        if fast is not None:
            return [fast]
    try:
        text, _enc = decode_text(content)
    except (UnicodeDecodeError, LookupError) as exc:
        fs.add("unreadable", "无法识别文件的文字编码（应为 UTF-8 或 GBK）", f"encoding not detected: {exc}")
        return []
    if "\x00" in text:
        fs.add("unreadable", "文件不是文本格式的 CSV（含二进制内容）", "not a text CSV (binary content)")
        return []
    delimiter = _delimiter(text[:65536])
    if not (tried and _enc.startswith("utf-8")) and '"' not in text:
        # Another encoding (GBK): the columnar reader parses the text's UTF-8 bytes; the decoded
        # text is let go meanwhile, and decoded again only if that reader declines.
        raw = text.encode("utf-8")
        del text
        head = _head_lines_utf8(raw, 0)
        if head is not None and _plain_csv_bytes(raw):
            fast = _read_csv_columnar(head, raw, 0, delimiter, source, limits)
            if fast is not None:
                return [fast]
        del raw
        text, _enc = decode_text(content)
    try:
        td = _table_of_grid(_csv_rows(text, delimiter, fs, limits), source, None, fs, required=True)
    except _LimitReached:
        return []
    return [td] if td is not None else []


def _delimiter(start: str) -> str:
    """Tab when the first non-blank line holds more tabs than commas, else comma."""
    first = next((ln for ln in start.splitlines() if ln.strip()), "")
    return "\t" if first.count("\t") > first.count(",") else ","


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
# pyarrow's C++ reader and typed column by column with pyarrow.compute kernels, into the Arrow
# arrays TableData holds; the result is exactly what the row-by-row reader above gives for the same
# file (tests/test_extract_columnar.py and tests/test_read_arrow.py compare them). Anything unusual
# — quotes, a lone CR, blank or short rows, a header that is not exactly the contract's, a cell
# that does not convert, a cell over the length limit, non-ASCII whitespace, too many rows —
# returns None and the row-by-row reader reads the file again, so every finding (row, column,
# reason) and every limit's breach comes from one place.

# Characters Python's str.strip() removes that are not ASCII whitespace (pyarrow trims only
# " \t\n\v\f\r"); a file containing any of them takes the row-by-row reader.
_NON_ASCII_SPACE = re.compile("[\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
# The same characters in UTF-8, by their first byte. Each first byte is looked for alone first
# (memchr: a scan of the file at memory speed); only a file holding one is searched for its
# sequences (a regular expression over the bytes is ~30x slower than this).
_NON_ASCII_SPACE_UTF8 = {
    **{bytes([b]): (bytes([b]),) for b in (0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x1F)},
    b"\xc2": (b"\xc2\x85", b"\xc2\xa0"),
    b"\xe1": (b"\xe1\x9a\x80",),
    b"\xe2": (*(b"\xe2\x80" + bytes([b]) for b in (*range(0x80, 0x8B), 0xA8, 0xA9, 0xAF)), b"\xe2\x81\x9f"),
    b"\xe3": (b"\xe3\x80\x80",),
}
_ASCII_USCC_RE2 = r"^[0-9A-Za-z ]*$"


def _plain_csv_bytes(content: bytes) -> bool:
    """The columnar reader's shape, in UTF-8 bytes: no quotes, no NUL (that file is refused as
    binary by the text path), no non-ASCII whitespace. A lone CR (a line break for the row
    reader) is caught by _head_lines_utf8 and by the columnar reader's row count (pyarrow ends a
    row at a lone CR too: one row more than the file's \\n, or a short row)."""
    return (b'"' not in content and b"\x00" not in content
            and not any(lead in content and any(seq in content for seq in seqs)
                        for lead, seqs in _NON_ASCII_SPACE_UTF8.items()))


def _head_lines_utf8(content: bytes, skip: int) -> list[str] | None:
    """The first HEADER_SCAN_ROWS lines of ``content[skip:]`` (line endings kept) decoded as UTF-8,
    or None when those lines are not UTF-8 or hold a CR but before their \\n."""
    lines: list[str] = []
    pos = skip
    try:
        while len(lines) < HEADER_SCAN_ROWS and pos < len(content):
            end = content.find(b"\n", pos)
            end = len(content) if end < 0 else end + 1
            lines.append(content[pos:end].decode("utf-8"))
            pos = end
    except UnicodeDecodeError:
        return None
    if any("\r" in ln.removesuffix("\r\n") for ln in lines):
        return None
    return lines


def _read_csv_columnar(head_lines: list[str], raw: bytes, skip: int, delimiter: str, source: str,
                       limits: ReadLimits = DEFAULT_LIMITS) -> TableData | None:
    """A plain CSV (see _plain_csv_bytes) from its first lines and its bytes ``raw[skip:]``, which
    must be UTF-8 (pyarrow checks the rest), or None."""
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
                                                 strings_can_be_null=False, check_utf8=True))
    except (pa.ArrowInvalid, ValueError):  # a ragged row, bytes that are not UTF-8, ...
        return None
    if arrow.num_rows != n_lines:  # e.g. a lone CR (see _plain_csv_bytes)
        return None
    n_rows = arrow.num_rows
    # Characters per cell: a cell of at most max_cell_chars bytes has at most that many characters.
    cells = {c.name: arrow.column(c.name).combine_chunks() for c in names}
    del arrow
    if end - start > limits.max_cell_chars and any(
            (pc.max(pc.binary_length(v)).as_py() or 0) > limits.max_cell_chars
            and (pc.max(pc.utf8_length(v)).as_py() or 0) > limits.max_cell_chars for v in cells.values()):
        return None
    # ASCII whitespace a cell could begin or end with (a plain file has no \v, \f, and \r only
    # before \n): with none in the rows, trimming would copy every column unchanged.
    spaces = raw.find(b" ", start, end) >= 0
    if spaces or raw.find(b"\t", start, end) >= 0:
        trimmed = {name: pc.ascii_trim_whitespace(v) for name, v in cells.items()}
    else:
        trimmed = cells
    del cells
    empty = {name: pc.equal(pc.binary_length(v), 0) for name, v in trimmed.items()}
    all_empty = None
    for mask in empty.values():
        all_empty = mask if all_empty is None else pc.and_(all_empty, mask)
    if pc.any(all_empty).as_py():  # a row of empty cells is skipped (and numbered) by the row reader
        return None
    arrays: dict[str, Any] = {}
    for col in table.columns:  # each column's temporaries let go once it is typed
        values = _columnar_values(col, trimmed.pop(col.name), empty.pop(col.name), spaces)
        if values is None:
            return None
        arrays[col.name] = values
    first = at + 2  # 1-based file row of the first data row
    return TableData(table=table, sheet=None, header_row=at + 1,
                     row_numbers=list(range(first, first + n_rows)), arrays=arrays)


def _all(mask: Any) -> bool:
    """Every non-null value of a boolean array is true (also when all are null)."""
    import pyarrow.compute as pc

    return pc.all(mask, min_count=0).as_py()


def _columnar_values(column: Column, trimmed: Any, empty: Any, spaces: bool = True) -> Any:
    """One column's values as an Arrow array of TableData's type for it, the values the row
    reader's converter gives; or None (use that reader). ``spaces``: the cells may hold a space."""
    import pyarrow as pa
    import pyarrow.compute as pc

    has_empty = pc.any(empty).as_py()
    values = pc.if_else(empty, pa.scalar(None, pa.string()), trimmed) if has_empty else trimmed
    t = column.type
    if t == "text":
        return values
    if t == "code":
        return pc.replace_substring(values, " ", "") if spaces else values
    if t == "uscc":
        if not _all(pc.ascii_is_alnum(values)) and not _all(pc.match_substring_regex(trimmed, _ASCII_USCC_RE2)):
            return None
        return pc.ascii_upper(pc.replace_substring(values, " ", "") if spaces else values)
    if t in ("number", "int"):
        # pyarrow's cast accepts what _NUMBER accepts (ASCII digits, sign, point, exponent) and
        # inf/nan besides, which is_finite refuses (tests/test_read_arrow.py tries the odd ones);
        # anything else fails the whole cast.
        try:
            floats = pc.cast(values, pa.float64())
        except (pa.ArrowInvalid, ValueError):
            return None
        if not _all(pc.is_finite(floats)):  # null (empty) skipped; 1e400 is inf, as for float()
            return None
        if t == "number":
            return floats
        if not _all(pc.equal(pc.floor(floats), floats)):
            return None
        if not _all(pc.less(pc.abs(floats), 2.0**63)):  # the row reader reports it
            return None
        return pc.cast(floats, pa.int64())
    # month, date, yesno: few distinct values; each is converted once by the row reader's rules,
    # then the column is taken from the converted dictionary.
    encoded = values.dictionary_encode()
    mapped = []
    for v in encoded.dictionary.to_pylist():
        try:
            mapped.append(coerce(column, v))
        except CellError:
            return None
    return pc.take(pa.array(mapped, arrow_type(t)), encoded.indices)  # a null index gives null
