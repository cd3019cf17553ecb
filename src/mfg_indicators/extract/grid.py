"""From a grid (a sheet, a CSV or a JSON body as numbered rows of cells) to a table: the header
row found among the first rows (never by file or sheet name), the columns checked against the feed
contract, the data rows typed a chunk at a time; and the checks a streaming reader applies to
each row (columns, cell length)."""

from __future__ import annotations

import itertools
from typing import Any, Iterable

from ..feeds import match_table, normalize_header, tables_of_source
from ..findings import WARNING
from .cells import CellError, _clip, _is_empty, _text, converter
from .limits import ReadLimits
from .results import TableData, _Findings

HEADER_SCAN_ROWS = 30  # title rows above the header: look this far down for the header row


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

    row_numbers: list[int] = []
    # Column by column within each chunk, with a converter per column (fast paths, memoised for
    # repeating values; one converter for the whole grid, so the memo spans the chunks).
    convs = {col.name: converter(col) for col in table.columns}
    columns: dict[str, list[Any]] = {col.name: [] for col in table.columns}
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
        row_numbers.extend(row_no for row_no, _ in data_rows)
        for col in table.columns:
            pos = positions.get(col.name)
            out = columns[col.name]
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
    if not row_numbers:
        fs.add("empty_file", f"{where}只有表头，没有数据行", f"{table.name}: header only, no data rows",
               table=table.name, sheet=sheet, row=header_row_no)
        return None
    if bad:
        return None
    return TableData.of_lists(table, sheet, header_row_no, row_numbers, columns)


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
