"""Status of an indicator value against its target, by kind and band (indicators.md -> Status).

| kind         | compared                          | green            | yellow                      |
|--------------|-----------------------------------|------------------|-----------------------------|
| level        | value vs target                   | >= target        | >= yellow_ratio x target    |
| rate         | value vs target (%)               | >= target        | >= target - yellow_points   |
| annualized   | value x 12/N vs target            | >= target        | >= yellow_ratio x target    |
| cumulative   | progress = value/target vs time   | >= time progress | >= time progress - points   |
| this_year    | progress = value/target vs N/12   | >= N/12          | >= N/12 - points            |

Anything else is red. ``cumulative``/``this_year`` values that reached the target are ``done``. A
value of None is ``no_data``. Bands come from the plan configuration (``bands``); points are
percentage points, so a ``yellow_points`` of 10 is 0.10 of progress.

What the output carries, per kind:

- ``progress``: value / target (annualized / target for ``annualized``); None without data or with
  a zero target.
- ``time_progress`` (序时进度): cumulative -> months since the plan window's start, inclusive of
  month N, over the window's months (clamped to [0, 1]); this_year and annualized -> N/12;
  level and rate -> None (a stock or a growth rate has no 序时进度).
- ``annualized``: value x 12/N for ``annualized`` kinds, else None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KINDS = ("level", "rate", "annualized", "cumulative", "this_year")

# The bulletin's status words (bulletin.md -> Chinese phrasing rules).
STATUS_LABELS = {
    "done": "已完成目标",
    "green": "达到序时进度",
    "yellow": "略低于序时进度",
    "red": "明显落后序时进度",
    "no_data": "暂无数据",
}

# Tolerance for float comparisons (e.g. 3/9 against 12/36).
_EPS = 1e-9


@dataclass(frozen=True)
class Assessment:
    status: str
    progress: float | None
    time_progress: float | None
    annualized: float | None


def months_elapsed(window_start: str, year: int, month: int) -> int:
    """Months from the window's first month to (year, month), both inclusive (0 if before)."""
    y0, m0 = map(int, window_start.split("-"))
    return max(0, (year - y0) * 12 + (month - m0) + 1)


def time_progress(kind: str, year: int, month: int, *, window_start: str, window_months: int) -> float | None:
    if kind == "cumulative":
        return min(1.0, months_elapsed(window_start, year, month) / window_months)
    if kind in ("this_year", "annualized"):
        return month / 12
    return None


def assess(kind: str, value: float | None, target: float, *, year: int, month: int,
           bands: dict[str, Any], window_start: str, window_months: int) -> Assessment:
    """Status, progress, time progress and annualized value of one indicator."""
    if kind not in KINDS:
        raise ValueError(f"unknown indicator kind {kind!r}")
    tp = time_progress(kind, year, month, window_start=window_start, window_months=window_months)
    if value is None:
        return Assessment("no_data", None, tp, None)
    band = bands[kind]
    annualized = value * 12 / month if kind == "annualized" else None
    compared = annualized if kind == "annualized" else value
    progress = compared / target if target else None

    if kind in ("level", "annualized"):
        if compared >= target - _EPS:
            status = "green"
        elif compared >= band["yellow_ratio"] * target - _EPS:
            status = "yellow"
        else:
            status = "red"
    elif kind == "rate":
        if compared >= target - _EPS:
            status = "green"
        elif compared >= target - band["yellow_points"] - _EPS:
            status = "yellow"
        else:
            status = "red"
    else:  # cumulative, this_year
        if value >= target - _EPS:
            status = "done"
        else:
            p = progress if progress is not None else 0.0
            if p >= tp - _EPS:
                status = "green"
            elif p >= tp - band["yellow_points"] / 100 - _EPS:
                status = "yellow"
            else:
                status = "red"
    return Assessment(status, progress, tp, annualized)
