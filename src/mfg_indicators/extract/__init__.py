"""Extraction: find deliveries in the inbox, archive them unchanged, and read them into tables.

A delivery is one file under ``<inbox>/<source>/`` (``.csv``, ``.xlsx`` or an HTTP pull's
``.json``). The reader recognises each table by its header row (feeds.match_table), never by the
file or sheet name, and coerces every cell to the type the feed contract gives it (see cells).

Anything it cannot read is an error Finding naming file, sheet, row (1-based, as the sender sees
it), column (the Chinese header) and a Chinese reason. Every reader works within ReadLimits (file
size, rows, columns, cells, cell length, JSON depth and digits, xlsx parts, decompressed size and
ratio) and streams what it can, so memory follows the limits, not the file; a breach, an xlsx
declaring a DTD and a formula cell without a cached value are findings too. scan_inbox refuses
links and special files and reports what lies where no delivery belongs. Content rules (check digits, sums, ranges,
categories, duplicates) are not checked here: they belong to mfg_indicators.validate.

The modules, in the order a delivery passes through them:

    inbox        finding deliveries (Delivery, scan_inbox, find_deliveries) and what is no delivery
    archive      the archived copy: sha256, bounded file names, the .sha256 sidecar, open_regular
    limits       ReadLimits: what one delivery may be (set a smaller DEFAULT_LIMITS on this module)
    reader       read_delivery: one file, whichever its type, to a ReadResult
    xlsx_reader  the zip checked before openpyxl, sheets streamed, formulas without values
    csv_reader   decode_text, CSV rows streamed, the columnar (pyarrow) path for plain files
    json_reader  load_json within the limits, records grouped into tables
    grid         rows of cells -> a table: header row, columns, typed data rows, row limits
    cells        coerce / converter: one cell in its column's type, or a CellError
    results      TableData, ReadResult and the per-file findings collector

This package exposes their public names (and the columnar CSV reader the tests compare). A
constant is read where it is defined: a test changing one sets it on that module.
"""

from ..feeds import SOURCES, TABLES
from .archive import (NAME_MAX_BYTES, archive_delivery, archive_path_for, bounded_name, open_regular, sha256_file,
                      sha256sum_line)
from .cells import EXCEL_EPOCH, CellError, coerce, converter
from .csv_reader import _read_csv_columnar, decode_text  # noqa: F401 - the columnar reader, compared by tests
from .grid import GRID_CHUNK_ROWS, HEADER_SCAN_ROWS
from .inbox import Delivery, InboxScan, find_deliveries, scan_inbox
from .json_reader import JsonLimitError, json_depth, load_json
from .limits import DEFAULT_LIMITS, ReadLimits, read_limits
from .reader import SUPPORTED_SUFFIXES, read_delivery
from .results import MAX_ERRORS_PER_KIND, ReadResult, TableData

__all__ = ["DEFAULT_LIMITS", "Delivery", "InboxScan", "JsonLimitError", "ReadLimits", "ReadResult", "TableData",
           "CellError", "archive_delivery", "archive_path_for", "bounded_name", "coerce", "decode_text",
           "find_deliveries", "load_json", "open_regular", "read_delivery", "scan_inbox", "sha256_file",
           "sha256sum_line", "TABLES", "SOURCES", "EXCEL_EPOCH", "GRID_CHUNK_ROWS", "HEADER_SCAN_ROWS",
           "MAX_ERRORS_PER_KIND", "NAME_MAX_BYTES", "SUPPORTED_SUFFIXES", "converter", "json_depth", "read_limits"]
