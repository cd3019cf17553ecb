"""Chinese phrasing of figures for the bulletin — the ONE place that turns numbers into words.

Rules (shared/spec/bulletin.md → Chinese phrasing rules), each unit-tested in tests/test_phrasing.py:

- growth: 同比增长8.4% / 同比下降4.1% (never 增长-4.1%) / 与上年同期持平 (zero after rounding);
- a difference between two percentages is in 个百分点: 高于目标1.2个百分点 / 低于… / 与目标持平;
- periods: 1—6月 (em dash), January alone 1月; quarter-end figures 一季度 / 上半年 / 前三季度 / 全年;
- money: 万元 below 1亿, otherwise 亿元, two decimals; rates one decimal; per-mu (and per-person)
  figures two decimals; counts are integers with their measure word (家, 个, 项, 台);
- status words by kind: ``cumulative`` / ``this_year`` 已完成目标 / 达到序时进度 / 略低于序时进度 /
  明显落后序时进度; ``level`` / ``rate`` / ``annualized`` (no 序时进度 applies) 达到目标 / 接近目标 /
  低于目标; any kind without data 暂无数据; a category with no indicator is not listed;
- 折年 (value × 12/N) only when N < 12;
- a percentage printed beside its target keeps two decimals when one decimal would hide the gap;
- dates in Arabic numerals without zero padding: 2023年7月10日.

Rounding is half-up on the decimal representation (8.45 → 8.5), as people round on paper, and a
value that rounds to zero never prints a minus sign. Chinese text carries no spaces between
numbers and words (同比增长8.4%, 低于目标1.2个百分点).

Issue numbering and the issue date are here too, because they are printed words:
- 第N期 runs on from ``bulletin.first_issue`` (``numbering: per_year`` restarts at 1 each
  January after the first year; ``continuous`` never restarts);
- the 印发 date is deterministic — the 10th of the month after the reported month — so that
  rendering the same period twice gives the same text.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Mapping

EM_DASH = "—"

STATUS_WORDS = {
    "done": "已完成目标",
    "green": "达到序时进度",
    "yellow": "略低于序时进度",
    "red": "明显落后序时进度",
    "no_data": "暂无数据",
}
# Kinds measured against 序时进度 (indicators.md -> Status); the others are measured against the
# target alone and say so (bulletin.md -> Chinese phrasing rules).
TIME_PROGRESS_KINDS = ("cumulative", "this_year")
TARGET_STATUS_WORDS = {
    "done": "达到目标",
    "green": "达到目标",
    "yellow": "接近目标",
    "red": "低于目标",
    "no_data": "暂无数据",
}
# Every status word in the order categories are listed (overview, group summaries).
STATUS_WORD_ORDER = ("已完成目标", "达到序时进度", "达到目标", "略低于序时进度", "接近目标",
                     "明显落后序时进度", "低于目标", "暂无数据")
# The lagging words, worst first (存在问题 lists red before yellow).
LAGGING_WORD_ORDER = ("明显落后序时进度", "低于目标", "略低于序时进度", "接近目标")
# What each colour stands for across kinds (chart legend, table legend).
STATUS_LEGEND_WORDS = {
    "done": "已完成目标",
    "green": "达到序时进度或目标",
    "yellow": "略低于序时进度或接近目标",
    "red": "明显落后序时进度或低于目标",
    "no_data": "暂无数据",
}
# The colour word and the cell fill of each status (绿/黄/红/灰).
STATUS_COLOUR_WORDS = {"done": "绿", "green": "绿", "yellow": "黄", "red": "红", "no_data": "灰"}
STATUS_FILLS = {"done": "92D050", "green": "C6EFCE", "yellow": "FFEB9C", "red": "FF9999", "no_data": "D9D9D9"}
STATUS_ORDER = ("done", "green", "yellow", "red", "no_data")

MEASURE_WORDS = ("家", "个", "项", "台")
QUARTER_LABELS = {3: "一季度", 6: "上半年", 9: "前三季度", 12: "全年"}
WAN_PER_YI = 10000


# --- numbers -------------------------------------------------------------------------------

def fixed(value: float | int, decimals: int) -> str:
    """``value`` with exactly ``decimals`` decimals, half-up, no thousands separator, no '-0'."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        raise ValueError(f"not a finite number: {value!r}")
    q = Decimal(1).scaleb(-decimals)
    d = Decimal(repr(float(value))).quantize(q, rounding=ROUND_HALF_UP)
    if d == 0:
        d = abs(d)
    return f"{d:.{decimals}f}"


def _rounded(value: float, decimals: int) -> Decimal:
    return Decimal(fixed(value, decimals))


def rate(value: float, *, against: float | None = None) -> str:
    """A rate or share in percent, one decimal: ``8.4%``. With ``against`` (the target whose
    完成率 is printed beside it) see :func:`rate_decimals`."""
    return f"{fixed(value, rate_decimals(value, against))}%"


def rate_decimals(value: float, against: float | None = None) -> int:
    """Decimals of a percentage printed beside its 完成率 (value / ``against``): two when the
    one-decimal figure would give another 完成率 than the one printed — 0.94% against a target of
    1.0% is 94.0% done, and "0.9%" would read as 90.0% — else one."""
    if not against:
        return 1
    shown = float(_rounded(value, 1))
    return 2 if fraction_pct(shown / against) != fraction_pct(value / against) else 1


def fraction_pct(fraction: float) -> str:
    """A fraction (0.8333) as a percentage, one decimal: ``83.3%``."""
    return f"{fixed(fraction * 100, 1)}%"


def growth(value: float, *, prefix: str = "同比", up: str = "增长", down: str = "下降",
           flat: str | None = None) -> str:
    """A signed growth rate in words: 同比增长8.4% / 同比下降4.1% / 与上年同期持平."""
    r = _rounded(value, 1)
    if r == 0:
        return flat if flat is not None else ("与上年同期持平" if prefix == "同比" else f"{prefix}持平")
    word = up if r > 0 else down
    return f"{prefix}{word}{fixed(abs(float(r)), 1)}%"


def points(diff: float, *, reference: str = "目标") -> str:
    """A difference between two percentages: 高于目标1.2个百分点 / 低于目标1.2个百分点 / 与目标持平."""
    r = _rounded(diff, 1)
    if r == 0:
        return f"与{reference}持平"
    word = "高于" if r > 0 else "低于"
    return f"{word}{reference}{fixed(abs(float(r)), 1)}个百分点"


def money_wan(value_wan: float) -> str:
    """An amount given in 万元: ``8500.00万元`` below 1亿, else ``1.23亿元`` (two decimals)."""
    if abs(_rounded(value_wan, 2)) < WAN_PER_YI:
        return f"{fixed(value_wan, 2)}万元"
    return f"{fixed(value_wan / WAN_PER_YI, 2)}亿元"


def money_yi(value_yi: float) -> str:
    """An amount given in 亿元, phrased by the same 万元/亿元 rule."""
    return money_wan(value_yi * WAN_PER_YI)


def per_unit(value: float, unit: str = "万元/亩") -> str:
    """A per-mu or per-person figure, two decimals: ``8.41万元/亩``."""
    return f"{fixed(value, 2)}{unit}"


def count(value: float | int, measure: str) -> str:
    """A count as an integer with its measure word: ``12家``."""
    if measure not in MEASURE_WORDS:
        raise ValueError(f"not a measure word: {measure!r}")
    return f"{fixed(value, 0)}{measure}"


def decimals_for(unit: str) -> int:
    """How many decimals a figure in ``unit`` prints with."""
    if unit == "%":
        return 1
    if unit in MEASURE_WORDS:
        return 0
    return 2  # 万元/亩, 万元/人, 亿元, 亩, 万吨标准煤, 万吨 …


def number(value: float, unit: str, *, against: float | None = None) -> str:
    """The bare number as it appears in a table column headed by ``unit`` (``against``: the
    target of a percentage, see :func:`rate_decimals`)."""
    if unit == "%":
        return fixed(value, rate_decimals(value, against))
    return fixed(value, decimals_for(unit))


def quantity(value: float, unit: str, *, against: float | None = None) -> str:
    """A figure with its unit, for running text: 8.4% / 8.41万元/亩 / 12家 / 1.20亿元 / 8500.00万元."""
    if unit == "%":
        return rate(value, against=against)
    if unit in MEASURE_WORDS:
        return count(value, unit)
    if unit == "亿元":
        return money_yi(value)
    if unit == "万元":
        return money_wan(value)
    return f"{fixed(value, decimals_for(unit))}{unit}"


# --- periods and dates ---------------------------------------------------------------------

def parse_period(period: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{4})-(\d{2})", period or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"not a period YYYY-MM: {period!r}")
    return int(m.group(1)), int(m.group(2))


def month_range(month: int) -> str:
    """The cumulative period label: ``1—6月``; January alone is ``1月``."""
    if not 1 <= month <= 12:
        raise ValueError(f"not a month: {month}")
    return "1月" if month == 1 else f"1{EM_DASH}{month}月"


def period_label(period: str, *, with_year: bool = True) -> str:
    """``2023年1—6月`` (or ``1—6月``)."""
    y, m = parse_period(period)
    return f"{y}年{month_range(m)}" if with_year else month_range(m)


def quarter_label(month: int) -> str | None:
    """一季度 / 上半年 / 前三季度 / 全年 for a quarter-end month, else None."""
    return QUARTER_LABELS.get(month)


def as_of_label(as_of: str, period: str, *, quarterly: bool) -> str | None:
    """How to say which figure was used when it is not the report month's: a quarter label for
    quarterly figures (``一季度``; ``2022年全年`` when from an earlier year), otherwise
    ``截至2023年5月``. None when ``as_of`` is the report month."""
    if not as_of or as_of == period:
        return None
    y, m = parse_period(as_of)
    py, _ = parse_period(period)
    q = quarter_label(m) if quarterly else None
    if q:
        return q if y == py else f"{y}年{q}"
    return f"截至{y}年{m}月"


def name_for_period(name: str, month: int) -> str:
    """Indicator names carry ``1—N月``/``1–N月``: put the report month in."""
    return re.sub(r"1[—–-]N月", month_range(month), name)


def date_cn(d: dt.date) -> str:
    """``2023年7月10日`` (no zero padding)."""
    return f"{d.year}年{d.month}月{d.day}日"


def datetime_cn(value: Any) -> str:
    """A timestamp (datetime or ISO text) as ``2023年7月3日 09:15``; text it cannot read is kept."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        return f"{date_cn(value)} {value:%H:%M}"
    if isinstance(value, dt.date):
        return date_cn(value)
    return "" if value is None else str(value)


def issue_date(period: str) -> dt.date:
    """The 印发 date of a period's bulletin: the 10th of the following month (deterministic)."""
    y, m = parse_period(period)
    return dt.date(y + (m == 12), m % 12 + 1, 10)


def issue_number(bulletin_cfg: Mapping[str, Any], period: str) -> int:
    """第N期 of the bulletin for ``period`` (config ``bulletin.first_issue`` / ``numbering``)."""
    first = bulletin_cfg["first_issue"]
    fy, fm = parse_period(first["period"])
    y, m = parse_period(period)
    if (y, m) < (fy, fm):
        raise ValueError(f"period {period} is before the first issue ({first['period']})")
    if bulletin_cfg.get("numbering", "per_year") == "continuous":
        return int(first["number"]) + (y - fy) * 12 + (m - fm)
    if y == fy:
        return int(first["number"]) + (m - fm)
    return m


def bulletin_subject(bulletin_cfg: Mapping[str, Any], period: str) -> str:
    """The bulletin's subject line (config ``bulletin.subject`` with year, 第N期, month, period):
    the Word file's properties and the e-mail both print it."""
    y, m = parse_period(period)
    return bulletin_cfg["subject"].format(year=y, number=issue_number(bulletin_cfg, period), month=m, period=period)


# --- status --------------------------------------------------------------------------------

def status_word(status: str, kind: str | None = None) -> str:
    """The status in words; ``kind`` chooses between 序时进度 words (``cumulative``,
    ``this_year``, or no kind given) and target words (``level``, ``rate``, ``annualized``)."""
    words = TARGET_STATUS_WORDS if kind is not None and kind not in TIME_PROGRESS_KINDS else STATUS_WORDS
    try:
        return words[status]
    except KeyError:
        raise ValueError(f"unknown status: {status!r}") from None


def status_tally(words: Iterable[str], measure: str = "项", *,
                 order: tuple[str, ...] = STATUS_WORD_ORDER) -> str:
    """``已完成目标3项，达到目标2项`` — each status word with its count, in ``order`` (any other
    word after), leaving out words that occur 0 times."""
    counts: dict[str, int] = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    order = tuple(w for w in order if w in counts) + tuple(sorted(set(counts) - set(order)))
    return "，".join(f"{w}{count(counts[w], measure)}" for w in order)


def status_colour(status: str) -> str:
    return STATUS_COLOUR_WORDS[status]


def status_fill(status: str) -> str:
    return STATUS_FILLS[status]


# --- lists ---------------------------------------------------------------------------------

def enumerate_cn(items: Iterable[str]) -> str:
    """Items joined with the enumeration comma: ``县经商局、县税务局``."""
    return "、".join(i for i in items if i)


def ordinal_heading(n: int) -> str:
    """一、二、… (n from 1)."""
    return f"{chinese_numeral(n)}、"


def ordinal_subheading(n: int) -> str:
    """（一）（二）… (n from 1)."""
    return f"（{chinese_numeral(n)}）"


def chinese_numeral(n: int) -> str:
    digits = "零一二三四五六七八九"
    if not 0 < n < 100:
        raise ValueError(n)
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


# --- redaction -----------------------------------------------------------------------------

_AMOUNT = re.compile(r"[-−]?\d[\d,]*(?:\.\d+)?\s*(?=(?:万|亿)?元)")


def redact_amounts(text: str) -> str:
    """Replace money amounts (…元) in a message with ＊ — enterprise tax figures must not appear
    in the bulletin, and warning messages may quote them."""
    return _AMOUNT.sub("＊", text)
