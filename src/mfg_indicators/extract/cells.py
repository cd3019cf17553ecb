"""Typing one cell: ``coerce`` (and ``converter``, its fast per-column equivalent) gives a cell
the type the feed contract gives its column, or raises CellError with a Chinese reason:

    text/uscc/code -> str (stripped) | month -> 'YYYY-MM' | date -> datetime.date
    number -> float | int -> int | yesno (是/否) -> 1/0 | empty cell -> None ("not reported")
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from ..feeds import YES_NO, Column


class CellError(ValueError):
    def __init__(self, rule: str, message: str, message_en: str):
        super().__init__(message_en)
        self.rule, self.message, self.message_en = rule, message, message_en


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_NUMBER_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_MONTH_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})$"),
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月?$"),
)
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$"),
)
EXCEL_EPOCH = dt.date(1899, 12, 30)
# Excel serials accepted as dates: 1954-10-… to 2119-…; outside this a number is not a date.
_SERIAL_RANGE = (20000, 80000)


def _is_empty(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


# Characters no warehouse can store: NUL (PostgreSQL text) and unpaired surrogates (not UTF-8;
# a JSON body can spell both as \u escapes, an xlsx NUL as _x0000_).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    s = str(v).strip()
    if _UNSTORABLE.search(s):
        raise CellError("bad_characters", "含有无法保存的字符（NUL 或不成对的代理码位），请删除后重新报送",
                        "text holds NUL or an unpaired surrogate")
    return s


def _number(v: Any) -> float:
    if isinstance(v, bool):
        raise CellError("not_a_number", f"应为数值，实际为“{v}”", f"expected a number, got {v!r}")
    if isinstance(v, (int, float)):
        f = float(v)
    else:
        s = str(v).strip().replace("\u3000", "").replace(" ", "").replace("，", ",")
        if _NUMBER.match(s):
            f = float(s)
        elif _NUMBER_THOUSANDS.match(s):
            f = float(s.replace(",", ""))
        else:
            raise CellError("not_a_number", f"数值列中出现文字“{_clip(v)}”，应填写数字",
                            f"text {_clip(v)!r} in a number column")
    if math.isnan(f) or math.isinf(f):
        raise CellError("not_a_number", f"数值“{_clip(v)}”无效", f"invalid number {v!r}")
    return f


def _int(v: Any) -> int:
    f = _number(v)
    if not f.is_integer():
        raise CellError("not_an_integer", f"应为整数，实际为“{_clip(v)}”", f"expected an integer, got {v!r}")
    if not -2**63 <= f < 2**63:  # what a warehouse integer (and pandas' Int64) holds
        raise CellError("number_out_of_range", f"整数“{_clip(v)}”超出可保存的范围", f"integer {_clip(v)!r} out of range")
    return int(f)


def _month(v: Any) -> str:
    if isinstance(v, (dt.datetime, dt.date)):
        return f"{v.year:04d}-{v.month:02d}"
    s = _text(v)
    for pat in _MONTH_PATTERNS:
        m = pat.match(s)
        if m:
            year, month = int(m.group(1)), int(m.group(2))
            if not 1 <= month <= 12 or year < 1900:
                raise CellError("impossible_month", f"月份“{_clip(v)}”不存在",
                                f"month {_clip(v)!r} does not exist")
            return f"{year:04d}-{month:02d}"
    raise CellError("bad_month", f"无法识别的月份“{_clip(v)}”（应为 2023-06、202306 或 2023年6月）",
                    f"month {_clip(v)!r} not understood (expected 2023-06, 202306 or 2023年6月)")


def _date(v: Any) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return _serial(v, v)
    s = _text(v)
    if re.fullmatch(r"\d{5}(\.\d+)?", s):
        return _serial(float(s), v)
    for pat in _DATE_PATTERNS:
        m = pat.match(s)
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                raise CellError("impossible_date", f"日期“{_clip(v)}”不存在",
                                f"date {_clip(v)!r} does not exist") from None
    raise CellError("bad_date", f"无法识别的日期“{_clip(v)}”（应为 2023-06-05 或 2023/6/5）",
                    f"date {_clip(v)!r} not understood (expected 2023-06-05 or 2023/6/5)")


def _serial(f: float, original: Any) -> dt.date:
    if not _SERIAL_RANGE[0] <= f < _SERIAL_RANGE[1]:
        raise CellError("impossible_date", f"日期“{_clip(original)}”不存在",
                        f"date {_clip(original)!r} is not a plausible Excel serial")
    return EXCEL_EPOCH + dt.timedelta(days=int(f))


def _yesno(v: Any) -> int:
    s = _text(v)
    if s in YES_NO:
        return YES_NO[s]
    raise CellError("bad_yesno", f"应填“是”或“否”，实际为“{_clip(v)}”", f"expected 是/否, got {_clip(v)!r}")


def _clip(v: Any, n: int = 40) -> str:
    s = _printable(str(v))
    return s if len(s) <= n else s[: n - 1] + "…"


def _printable(s: str) -> str:
    """Text that any report, log or database can hold (NUL and lone surrogates become U+FFFD)."""
    return _UNSTORABLE.sub("\ufffd", s)


def coerce(column: Column, value: Any) -> Any:
    """One cell in the column's type; None for an empty cell. Raises CellError."""
    if _is_empty(value):
        return None
    t = column.type
    if t == "text":
        return _text(value)
    if t == "uscc":
        return _text(value).replace(" ", "").upper()
    if t == "code":
        return _text(value).replace(" ", "")
    if t == "number":
        return _number(value)
    if t == "int":
        return _int(value)
    if t == "month":
        return _month(value)
    if t == "date":
        return _date(value)
    if t == "yesno":
        return _yesno(value)
    raise ValueError(f"unknown column type {t!r}")  # pragma: no cover - feeds.TYPES is closed


def converter(column: Column):
    """A fast per-column equivalent of ``coerce(column, value)``: plain strings and numbers take a
    short path; month/date/yes-no/code values, which repeat, are memoised."""
    slow = coerce

    if column.type == "text":
        def conv(v: Any) -> Any:
            if type(v) is str and not _UNSTORABLE.search(v):
                return v.strip() or None
            return slow(column, v)
        return conv
    if column.type == "uscc":
        def conv(v: Any) -> Any:
            if type(v) is str and v.isalnum() and v.isascii():
                return v.upper()
            return slow(column, v)
        return conv
    if column.type == "number":
        def conv(v: Any) -> Any:
            if type(v) is str and "_" not in v:
                try:
                    f = float(v)
                except ValueError:
                    return slow(column, v)
                if f - f == 0.0:  # finite (NaN and ±inf fail this)
                    return f
            elif type(v) is float and v - v == 0.0:
                return v
            elif v is None:
                return None
            return slow(column, v)
        return conv
    cache: dict[Any, Any] = {}

    def conv(v: Any) -> Any:
        try:
            hit = cache[v]
        except KeyError:
            try:
                hit = slow(column, v)
            except CellError as exc:
                hit = exc
            cache[v] = hit
        except TypeError:  # unhashable: not cached
            return slow(column, v)
        if isinstance(hit, CellError):
            raise hit
        return hit
    return conv
