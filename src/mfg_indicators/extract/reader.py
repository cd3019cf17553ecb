"""Reading one delivered file: read_delivery opens it (no link followed), holds it to its size
limit and hands it to the reader of its type; a file with any error yields no tables."""

from __future__ import annotations

from pathlib import Path

from .archive import open_regular
from .csv_reader import _read_csv
from .json_reader import _read_json
from .limits import ReadLimits, read_limits
from .results import ReadResult, TableData, _Findings
from .xlsx_reader import _read_xlsx

SUPPORTED_SUFFIXES = (".csv", ".xlsx", ".json")


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
