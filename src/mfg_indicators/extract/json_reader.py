"""The JSON reader (the body of an HTTP pull): parsed within the limits (load_json, which the pull
uses too), its records grouped by their keys into tables."""

from __future__ import annotations

import json
from typing import Any

from .cells import _clip
from .csv_reader import decode_text
from .grid import _table_of_grid, _too_many_rows
from .limits import DEFAULT_LIMITS, ReadLimits, read_limits
from .results import TableData, _Findings


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
        if len(parts) > 1:
            import pyarrow as pa

            for p in parts[1:]:
                merged.row_numbers.extend(p.row_numbers)
            merged.arrays = {n: pa.concat_arrays([p.arrays[n] for p in parts]) for n in merged.arrays}
        tables.append(merged)
    return tables
