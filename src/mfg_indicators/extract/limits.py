"""What one delivery may be: the limits every reader works within (ReadLimits)."""

from __future__ import annotations

from dataclasses import dataclass


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
