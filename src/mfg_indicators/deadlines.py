"""The feeds deadline: when month M's feeds are due, and whether each has landed.

Month M's six feeds are due by the end of day ``alerts.feeds_due_day`` (plan configuration) of
month M+1, Asia/Shanghai (:func:`feeds_due_at`). The ``feeds_deadline`` DAG alerts when they are
late (:func:`check_feeds_deadline`); the ``monthly_indicators`` DAG waits for them by the same
rule (:func:`feeds_check`). Plain Python, no Airflow: the tests call the same functions.

When has a feed "landed" for month M? From the warehouse's delivery bookkeeping (``raw_delivery``
status ``accepted`` joined to ``delivery_table`` with the periods each table touched), per table of
the source (feeds.TABLES), by the kind of table:

- monthly tables (a ``month`` period column: tax, energy, stats 企业月报/主要指标, 任务月报): a
  delivery whose periods include M;
- the registry (a snapshot per 名录年份): a delivery containing the roster of M's year;
- event lists dated by a date column (projects, 整治台账): a delivery received after month M ended
  (it covers all of M's events, even when M had none) or carrying rows dated M or later.

A source has landed when every one of its tables has. Only deliveries received at or before the
moment of the check count, so re-running a past check gives the same answer.
``raw_delivery.received_at`` is naive UTC (as every TIMESTAMP the warehouse writes).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from .settings import TIMEZONE

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from .config import PlanConfig


def _month_start(period: str) -> tuple[int, int]:
    y, m = (int(x) for x in period.split("-"))
    if not 1 <= m <= 12:
        raise ValueError(f"not a month: {period!r}")
    return y, m


def next_month(period: str) -> str:
    y, m = _month_start(period)
    return f"{y + m // 12}-{m % 12 + 1:02d}"


def previous_month(period: str) -> str:
    y, m = _month_start(period)
    return f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}"


def month_end(period: str, tz: str = TIMEZONE) -> dt.datetime:
    """The instant month ``period`` ends (= 00:00 on the 1st of the next month, local time)."""
    y, m = _month_start(next_month(period))
    return dt.datetime(y, m, 1, tzinfo=ZoneInfo(tz))


def feeds_due_at(period: str, due_day: int, tz: str = TIMEZONE) -> dt.datetime:
    """When month ``period``'s feeds are late: the end of day ``due_day`` of the next month in
    ``tz`` (24:00 of that day, i.e. 00:00 of day ``due_day + 1``). Feeds landing *on* the due day
    are on time."""
    if not 1 <= due_day <= 28:
        raise ValueError(f"feeds_due_day must be 1..28, got {due_day}")
    y, m = _month_start(next_month(period))
    return dt.datetime(y, m, due_day, tzinfo=ZoneInfo(tz)) + dt.timedelta(days=1)


def latest_due_period(now: dt.datetime, due_day: int, tz: str = TIMEZONE) -> str:
    """The most recent month whose feeds were already due at ``now``: the previous month once its
    due day is over, otherwise the month before that."""
    local = now.astimezone(ZoneInfo(tz))
    prev = previous_month(f"{local.year}-{local.month:02d}")
    return prev if now >= feeds_due_at(prev, due_day, tz) else previous_month(prev)


def _as_utc_naive(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("pass an aware datetime")
    return moment.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _parse_ts(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else _as_utc_naive(value)
    text = str(value).replace("T", " ")
    parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo is None else _as_utc_naive(parsed)


def _periods(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    items = json.loads(value) if isinstance(value, str) else value
    if not isinstance(items, list):
        items = [items]
    return [str(x) for x in items]


def _table_kind(table) -> str:
    if table.replace_by == "roster_year":
        return "snapshot_year"
    if table.period_column and table.column(table.period_column).type == "month":
        return "monthly"
    return "events"


def _table_landed(kind: str, period: str, deliveries: Iterable[tuple[dt.datetime, list[str]]]) -> bool:
    year = period[:4]
    ended = _as_utc_naive(month_end(period))
    for received_at, periods in deliveries:
        if kind == "monthly" and any(p[:7] == period for p in periods):
            return True
        if kind == "snapshot_year" and any(p[:4] == year for p in periods):
            return True
        if kind == "events" and (received_at >= ended or any(p[:7] >= period for p in periods if len(p) >= 7)):
            return True
    return False


def landed_feeds(conn: Connection | Engine, period: str, *, as_of: dt.datetime) -> dict[str, bool]:
    """For each of the six sources, whether its feed for ``period`` had landed by ``as_of``
    (aware datetime). Reads raw_delivery and delivery_table only."""
    from sqlalchemy import text

    from .feeds import SOURCES, TABLES

    _month_start(period)
    cutoff = _as_utc_naive(as_of)
    sql = text("SELECT d.received_at, t.table_name, t.periods FROM raw_delivery d "
               "JOIN delivery_table t ON t.delivery_id = d.delivery_id WHERE d.status = 'accepted'")
    if hasattr(conn, "connect"):
        with conn.connect() as c:
            rows = c.execute(sql).all()
    else:
        rows = conn.execute(sql).all()
    by_table: dict[str, list[tuple[dt.datetime, list[str]]]] = {}
    for received_at, table_name, periods in rows:
        ts = _parse_ts(received_at)
        if ts <= cutoff:
            by_table.setdefault(table_name, []).append((ts, _periods(periods)))
    landed = {}
    for source in SOURCES:
        tables = [t for t in TABLES.values() if t.source == source]
        landed[source] = all(_table_landed(_table_kind(t), period, by_table.get(t.name, [])) for t in tables)
    return landed


@dataclass(frozen=True)
class DeadlineCheck:
    period: str
    due_at: dt.datetime
    as_of: dt.datetime
    missing: list[str] = field(default_factory=list)

    @property
    def due(self) -> bool:
        return self.as_of >= self.due_at

    @property
    def late(self) -> bool:
        """Due and at least one feed missing: alert."""
        return self.due and bool(self.missing)

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, "due_at": self.due_at.isoformat(), "as_of": self.as_of.isoformat(),
                "due": self.due, "late": self.late, "missing": list(self.missing)}


def check_feeds_deadline(conn: Connection | Engine, period: str, due_day: int, *,
                         now: dt.datetime, tz: str = TIMEZONE) -> DeadlineCheck:
    """The deadline rule: month ``period`` is late at ``now`` when ``now`` is past
    :func:`feeds_due_at` and some feed has not landed (by ``now``)."""
    landed = landed_feeds(conn, period, as_of=now)
    return DeadlineCheck(period=period, due_at=feeds_due_at(period, due_day, tz), as_of=now,
                         missing=[s for s, ok in landed.items() if not ok])


def feeds_check(engine: Connection | Engine, config: PlanConfig | dict, period: str, *,
                now: dt.datetime, tz: str = TIMEZONE) -> dict[str, Any]:
    """Whether month ``period`` can be computed at ``now``: every feed has landed for it
    (:func:`landed_feeds`), or the feeds' due day (config ``alerts.feeds_due_day``) is over.
    JSON-safe: the ``monthly_indicators`` sensor's XCom."""
    landed = landed_feeds(engine, period, as_of=now)
    missing = [src for src, ok in landed.items() if not ok]
    due_at = feeds_due_at(period, int(config["alerts"]["feeds_due_day"]), tz)
    overdue = now >= due_at
    return {"period": period, "done": not missing or overdue, "complete": not missing, "missing": missing,
            "due_at": due_at.isoformat()}
