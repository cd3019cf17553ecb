"""The xlsx reader: the zip is looked at before openpyxl opens it (parts, decompressed size and
ratio, DTDs), each sheet is streamed row by row within the limits, and a formula cell without a
cached value is an error naming the cell."""

from __future__ import annotations

import io
import re
from typing import Any, Iterator

from .cells import _is_empty, _text
from .grid import _LimitReached, _table_of_grid, _too_many_rows, _within_limits
from .limits import DEFAULT_LIMITS, ReadLimits
from .results import TableData, _Findings


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
