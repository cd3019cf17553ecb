"""The bulletin's warehouse reads: the statements of include/sql/bulletin/, the deliveries a
period's figures read, the growth series, the per-mu cells, and :class:`_Reads`, which runs
independent reads at once on a pooled engine (PostgreSQL, a SQLite file), each on its own
connection."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from typing import Any, Iterable, Mapping

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Engine

from .. import phrasing as ph
from ..paths import SQL_DIR

BULLETIN_SQL_DIR = SQL_DIR / "bulletin"

# The county series charted against its target (a 主要指标 name, feeds.md).
GROWTH_INDICATOR = "规上工业增加值增速"


# --- SQL -----------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _sql(name: str) -> str:
    """The statement of include/sql/bulletin/<name>.sql, comments removed (they name the bind
    parameters, which text() would otherwise take for placeholders)."""
    src = (BULLETIN_SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
    return "\n".join(line.split("--", 1)[0].rstrip() for line in src.splitlines()).strip()


def _query(engine: Engine, name: str, params: Mapping[str, Any], *, expanding: Iterable[str] = ()):
    stmt = text(_sql(name))
    for key in expanding:
        stmt = stmt.bindparams(bindparam(key, expanding=True))
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt, dict(params))]


def _period_params(config, period: str) -> dict[str, Any]:
    y, m = ph.parse_period(period)
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
    rows = _query(engine, "roster_year", {"year": year})
    return rows[0]["roster_year"] if rows and rows[0]["roster_year"] is not None else None


_UNSET: Any = object()


def deliveries_used(engine: Engine, config, period: str, *, roster: int | None = _UNSET) -> list[dict[str, Any]]:
    """Every accepted delivery the period's figures read (include/sql/bulletin/deliveries_used.sql),
    one row per (delivery, table). ``roster``: the roster year when the caller already has it."""
    params = _period_params(config, period)
    params["roster_year"] = roster_year(engine, params["year"]) if roster is _UNSET else roster
    return _query(engine, "deliveries_used", params)


def _roster_and_deliveries(engine: Engine, config, period: str) -> tuple[int | None, list[dict[str, Any]]]:
    y, _ = ph.parse_period(period)
    ry = roster_year(engine, y)
    return ry, deliveries_used(engine, config, period, roster=ry)


# --- concurrent reads ----------------------------------------------------------------------

# At most this many reads at once (the engine's pool holds 5 connections by default).
MAX_CONCURRENT_READS = 4


def concurrent_reads_ok(engine: Engine) -> bool:
    """Whether threads may read the warehouse at once: a QueuePool (PostgreSQL, a SQLite file —
    SQLAlchemy opens those with check_same_thread=False) hands each thread its own connection.
    An in-memory SQLite engine (SingletonThreadPool / StaticPool) would give a thread another
    database or share one connection, so it reads sequentially."""
    from sqlalchemy.pool import QueuePool

    return isinstance(engine.pool, QueuePool)


class _Reads:
    """Start independent reads now, take their results when needed. Sequential (``concurrent``
    false: see :func:`concurrent_reads_ok`) runs each read at submit time; exceptions surface
    at ``result()`` either way."""

    def __init__(self, concurrent: bool):
        self._pool = (ThreadPoolExecutor(MAX_CONCURRENT_READS, thread_name_prefix="bulletin-read")
                      if concurrent else None)

    def submit(self, fn, *args, **kwargs) -> Future:
        if self._pool is not None:
            return self._pool.submit(fn, *args, **kwargs)
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - re-raised by result()
            fut.set_exception(exc)
        return fut

    def __enter__(self) -> "_Reads":
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def _per_mu_cells(engine: Engine, config, period: str, measure: str) -> list[dict[str, Any]]:
    # The cells come from the indicator's own SQL (compute.per_mu_breakdown: the T03/T04
    # evaluated set by industry group and town, excluded groups flagged), so the rankings and the
    # indicators cannot drift apart.
    from ..compute import per_mu_breakdown

    return per_mu_breakdown(engine, config, period, measure)


def _growth_series(engine: Engine, config, period: str, target: float | None) -> dict[str, Any]:
    y, m = ph.parse_period(period)
    rows = _query(engine, "growth_series", {"indicator": GROWTH_INDICATOR,
                                            "from_period": f"{y - 1}-01", "period": period})
    cur = {int(r["period"][5:7]): float(r["value"]) for r in rows if r["period"].startswith(f"{y}-")}
    prev = {int(r["period"][5:7]): float(r["value"]) for r in rows
            if r["period"].startswith(f"{y - 1}-") and int(r["period"][5:7]) <= 12}
    months = list(range(1, m + 1))
    return {
        "year": y, "month": m, "months": months,
        "values": [cur.get(i) for i in months],
        "prev_year": y - 1,
        "prev_values": [prev.get(i) for i in months],
        "target": target,
        "title": f"{y}年规上工业增加值累计增速（%）",
    }


# The charts in reading order: the status overview sits under the main table (二), the growth
# series closes 三、分攻坚组进展, the per-mu chart is in 四 — numbered 图1, 图2, 图3 in that order.
