"""Builders for small hand-made deliveries (CSV/xlsx/JSON) and warehouse helpers, shared by the
ingestion tests. No tests here. Headers are taken from mfg_indicators.feeds, never spelled out."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from mfg_indicators import feeds
from mfg_indicators.uscc import make


def uscc(n: int) -> str:
    """A valid USCC number n (GB 32100 check digit)."""
    return make(f"91331125{n:09d}")


def bad_uscc(n: int) -> str:
    good = uscc(n)
    wrong = "0" if good[-1] != "0" else "1"
    return good[:17] + wrong


def headers(table: str) -> list[str]:
    return list(feeds.TABLES[table].headers)


def H(table: str, name: str) -> str:
    """The Chinese header of a warehouse column."""
    return feeds.TABLES[table].column(name).header


def tax_rows(period: str, enterprises: list[int], *, base: float = 10.0) -> list[list[Any]]:
    """Tax rows in headers('tax') order with components that sum to the total."""
    rows = []
    for i, n in enumerate(enterprises):
        vat, cit, other = base + i, 2.0 + i, 1.5
        rows.append([uscc(n), f"云和县企业{n}有限公司", period, vat, cit, other, round(vat + cit + other, 2)])
    return rows


def write_csv(path: Path, header: list[Any], rows: list[list[Any]], *, encoding: str = "utf-8",
              mtime: float | None = None) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def write_xlsx(path: Path, sheets: list[tuple[str, list[list[Any]]]], *, mtime: float | None = None) -> Path:
    """sheets: (title, rows including any title rows and the header row)."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def write_json(path: Path, table: str, rows: list[list[Any]], *, mtime: float | None = None) -> Path:
    hs = headers(table)
    body = {"records": [dict(zip(hs, r)) for r in rows]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def registry_rows(year: int, enterprises: list[int]) -> list[list[Any]]:
    towns = ["浮云街道", "元和街道", "白龙山街道"]
    return [[uscc(n), f"云和县企业{n}有限公司", "2459", towns[n % 3], 12.5 + n, "是", year] for n in enterprises]


def core_rows(engine, table: str, order: str | None = None) -> list[dict[str, Any]]:
    from sqlalchemy import text

    t = feeds.TABLES[table]
    order = order or ", ".join(t.key)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(f"SELECT * FROM {t.core} ORDER BY {order}")).mappings()]


def count(engine, sql: str, **params) -> Any:
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()
