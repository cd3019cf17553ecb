"""What a month's figures rest on: the registry roster in force and every accepted delivery whose
rows the indicators and the bulletin read (``include/sql/provenance/``). The bulletin's annex
lists them and the archive manifest records their sha256 (mfg_indicators.deliver).

Public API::

    roster_year(engine, year) -> int | None
    deliveries_used(engine, config, period, *, roster=...) -> list[dict]   # one row per (delivery, table)
    roster_and_deliveries(engine, config, period) -> (roster year, deliveries_used rows)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.engine import Engine

from . import sql


def _rows(engine: Engine, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in sql.query(conn, f"provenance/{name}", params)]


def period_params(config, period: str) -> dict[str, Any]:
    """The bind parameters of a period's reads: year, period, first month of the year, last day
    of the period, and the first 主要指标 month the figures read (the plan window's first year
    feeds 年均增速, and the previous year the fallbacks)."""
    y, m = int(period[:4]), int(period[5:7])
    nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
    window_year = int(config.window_start[:4])
    return {
        "year": y,
        "period": period,
        "year_start": f"{y}-01",
        "period_end": nxt - dt.timedelta(days=1),
        "stats_from": f"{min(window_year, y) - 1}-01",
    }


def roster_year(engine: Engine, year: int) -> int | None:
    """The roster year in force for ``year`` (itself, else the latest earlier one); None without any."""
    rows = _rows(engine, "roster_year", {"year": year})
    return rows[0]["roster_year"] if rows and rows[0]["roster_year"] is not None else None


_UNSET: Any = object()


def deliveries_used(engine: Engine, config, period: str, *, roster: int | None = _UNSET) -> list[dict[str, Any]]:
    """Every accepted delivery the period's figures read (include/sql/provenance/deliveries_used.sql),
    one row per (delivery, table). ``roster``: the roster year when the caller already has it."""
    params = period_params(config, period)
    params["roster_year"] = roster_year(engine, params["year"]) if roster is _UNSET else roster
    return _rows(engine, "deliveries_used", params)


def roster_and_deliveries(engine: Engine, config, period: str) -> tuple[int | None, list[dict[str, Any]]]:
    """The roster year in force for the period's year and the period's deliveries_used rows."""
    ry = roster_year(engine, int(period[:4]))
    return ry, deliveries_used(engine, config, period, roster=ry)
