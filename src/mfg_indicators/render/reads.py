"""The bulletin's warehouse reads: the statements of include/sql/bulletin/, the growth series,
the per-mu cells the computation stored (mart_per_mu), and :class:`_Reads`, which runs
independent reads at once on a pooled engine (PostgreSQL, a SQLite file), each on its own
connection."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Mapping

from sqlalchemy.engine import Engine

from .. import phrasing as ph
from .. import sql

# The county series charted against its target (a 主要指标 name, feeds.md).
GROWTH_INDICATOR = "规上工业增加值增速"


# --- SQL -----------------------------------------------------------------------------------

def _query(engine: Engine, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows of include/sql/bulletin/<name>.sql (mfg_indicators.sql: list values expand)."""
    with engine.connect() as conn:
        return [dict(r) for r in sql.query(conn, f"bulletin/{name}", dict(params))]


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


def _per_mu_cells(engine: Engine, config, period: str) -> dict[str, list[dict[str, Any]]]:
    # The cells the computation of the period stored (mart_per_mu, from the indicators' own SQL:
    # the T03/T04 evaluated set by industry group and town, excluded groups flagged), so the
    # rankings and the indicators cannot drift apart.
    from ..compute import load_per_mu_cells

    return load_per_mu_cells(engine, config, period)


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
