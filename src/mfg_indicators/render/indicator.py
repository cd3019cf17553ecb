"""One indicator of the bulletin (:class:`Ind`): the indicators document's entry with its
configuration, and every phrase the bulletin prints about it — value, target, comparison, status
word of its kind, sentence, problem, headline and table row — worded by
:mod:`mfg_indicators.phrasing`."""

from __future__ import annotations

import logging
import math
from typing import Any, Mapping

from .. import phrasing as ph

log = logging.getLogger(__name__)

KIND_TIME = ph.TIME_PROGRESS_KINDS
VALID_STATUS = set(ph.STATUS_WORDS)


def _num(x: Any) -> float | None:
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


class Ind:
    """One indicator of the document, with the configuration it belongs to."""

    def __init__(self, raw: Mapping[str, Any], cfg: Mapping[str, Any] | None, config, period: str):
        self.raw = raw
        self.cfg = cfg or {}
        self.code = raw.get("code") or self.cfg.get("code")
        _, self.month = ph.parse_period(period)
        self.period = period
        self.name = ph.name_for_period(raw.get("name") or self.cfg.get("name") or self.code, self.month)
        self.unit = raw.get("unit") or self.cfg.get("unit") or ""
        self.kind = raw.get("kind") or self.cfg.get("kind")
        self.group = raw.get("group") or self.cfg.get("group") or ""
        self.status = raw.get("status") or "no_data"
        if self.status not in VALID_STATUS:
            raise ValueError(f"indicator {self.code}: unknown status {self.status!r}")
        self.value = _num(raw.get("value"))
        self.annualized = _num(raw.get("annualized"))
        self.target = _num(raw.get("target") if raw.get("target") is not None else self.cfg.get("target"))
        self.progress = _num(raw.get("progress"))
        self.time_progress = _num(raw.get("time_progress"))
        self.as_of = raw.get("as_of")
        self.notes = [str(n) for n in (raw.get("notes") or []) if str(n).strip()]
        units = raw.get("responsible_units")
        if not units and self.cfg.get("task"):
            try:
                units = config.responsible_units(self.code)
            except KeyError:
                units = []
        self.units = [str(u) for u in (units or [])]
        self.quarterly = str(self.cfg.get("method", "")).startswith("official_quarter")
        if self.value is None and self.status != "no_data":
            raise ValueError(f"indicator {self.code}: status {self.status} without a value")

    # -- derived numbers --
    @property
    def ratio(self) -> float | None:
        """Completion of the target (1.0 = reached): the document's ``progress`` (status.assess:
        the annualized value over the target for annualized kinds), never worked out again here."""
        return self.progress

    @property
    def partial_year(self) -> bool:
        """Whether 折年 applies (value × 12/N, written only when N < 12)."""
        return self.month < 12

    @property
    def lead_unit(self) -> str:
        return self.units[0] if self.units else ""

    @property
    def short_name(self) -> str:
        """The name without its period and trailing 增速 (for 规上工业增加值同比增长8.4%)."""
        name = self.name
        for part in (f"（{ph.month_range(self.month)}）",):
            name = name.replace(part, "")
        if self.kind == "rate" and name.endswith("增速"):
            name = name[: -len("增速")]
        return name

    def as_of_note(self) -> str | None:
        return ph.as_of_label(self.as_of, self.period, quarterly=self.quarterly) if self.as_of else None

    def is_decline_rate(self) -> bool:
        return self.kind == "rate" and "下降率" in self.name

    # -- phrases --
    def value_phrase(self) -> str:
        v, u = self.value, self.unit
        assert v is not None
        if self.kind == "rate":
            if self.is_decline_rate():
                return ph.growth(-v, up="上升", down="下降")
            if "年均" in self.name:
                return ph.growth(v, prefix="年均")
            return ph.growth(v)
        if self.kind == "annualized":
            if not self.partial_year:
                return f"{ph.month_range(self.month)}为{ph.quantity(v, u)}"
            return (f"{ph.month_range(self.month)}为{ph.quantity(v, u)}，"
                    f"折年{ph.quantity(self.annualized, u)}")
        if self.kind == "cumulative":
            return f"累计完成{ph.quantity(v, u)}"
        if self.kind == "this_year":
            return f"当年完成{ph.quantity(v, u)}"
        if u in ph.MEASURE_WORDS:
            return f"现有{ph.quantity(v, u)}"
        return f"为{ph.quantity(v, u, against=self.target)}"

    def target_phrase(self) -> str:
        if self.target is None:
            return ""
        if self.is_decline_rate():
            return f"目标下降{ph.rate(self.target)}"
        if self.kind == "annualized":
            return f"目标{ph.quantity(self.target, self.unit)}（全年）"
        return f"目标{ph.quantity(self.target, self.unit)}"

    def gap(self) -> tuple[float, str] | None:
        """The gap in 个百分点 and what it is measured against (序时进度 or 目标)."""
        if self.value is None:
            return None
        if self.kind in KIND_TIME:
            if self.progress is None or self.time_progress is None:
                return None
            return (self.progress - self.time_progress) * 100, "序时进度"
        if self.kind == "rate" or (self.kind == "level" and self.unit == "%"):
            return (self.value - self.target, "目标") if self.target is not None else None
        r = self.ratio
        return ((r - 1) * 100, "目标") if r is not None else None

    def comparison(self) -> str:
        """How the value stands against target / time progress."""
        if self.kind in KIND_TIME:
            if self.progress is None:
                return ""
            parts = [f"完成目标的{ph.fraction_pct(self.progress)}"]
            if self.status != "done" and self.time_progress is not None:
                parts.append(f"序时进度{ph.fraction_pct(self.time_progress)}")
                parts.append(ph.points((self.progress - self.time_progress) * 100, reference="序时进度"))
            return "，".join(parts)
        if self.kind == "rate" or (self.kind == "level" and self.unit == "%"):
            return ph.points(self.value - self.target) if self.target is not None else ""
        r = self.ratio
        if r is None:
            return ""
        what = "折年值为目标的" if self.kind == "annualized" and self.partial_year else "为目标的"
        return f"{what}{ph.fraction_pct(r)}"

    def no_data_reason(self) -> str:
        return "；".join(self.notes) if self.notes else "数据尚未报送或当期无可用数据"

    def sentence(self) -> str:
        if self.status == "no_data":
            return f"{self.name}：暂无数据（{self.no_data_reason()}）。"
        lead = self.as_of_note()
        parts = [f"{lead}{self.value_phrase()}" if lead else self.value_phrase()]
        for p in (self.target_phrase(), self.comparison()):
            if p:
                parts.append(p)
        body = "，".join(parts)
        sep = "" if body.startswith(("为", "现有")) else "："
        return f"{self.name}{sep}{body}，{self.status_word}。"

    @property
    def status_word(self) -> str:
        """The status in the words of its kind (序时进度 words or target words)."""
        return ph.status_word(self.status, self.kind)

    def problem(self) -> str:
        lead = self.as_of_note()
        val = f"{lead}{self.value_phrase()}" if lead else self.value_phrase()
        bits = [val]
        if self.target_phrase():
            bits.append(self.target_phrase())
        g = self.gap()
        if self.kind in KIND_TIME and self.progress is not None:
            bits.append(f"完成目标的{ph.fraction_pct(self.progress)}")
        elif self.kind not in ("rate",) and not (self.kind == "level" and self.unit == "%") and self.ratio is not None:
            annual = self.kind == "annualized" and self.partial_year
            bits.append(f"{'折年值' if annual else ''}为目标的{ph.fraction_pct(self.ratio)}")
        if g is not None:
            bits.append(ph.points(g[0], reference=g[1]))
        units = ph.enumerate_cn(self.units) or "（未配置）"
        return f"{self.name}{self.status_word}：{'，'.join(bits)}。责任单位：{units}。"

    def headline(self) -> str:
        if self.status == "no_data":
            return f"{self.short_name}暂无数据"
        lead = self.as_of_note() or ""
        if self.kind == "rate":
            return f"{lead}{self.short_name}{self.value_phrase()}，{self.comparison()}"
        if self.kind == "annualized":
            annual = f"（折年{ph.quantity(self.annualized, self.unit)}）" if self.partial_year else ""
            return (f"{self.short_name}{ph.month_range(self.month)}为{ph.quantity(self.value, self.unit)}"
                    f"{annual}，{self.comparison()}")
        return f"{self.short_name}{self.value_phrase()}，{self.comparison()}"

    def table_row(self, no: int) -> dict[str, str]:
        dash = "—"
        actual = dash
        if self.value is not None:
            actual = ph.number(self.value, self.unit, against=self.target if self.kind == "level" else None)
            if self.kind == "annualized" and self.annualized is not None and self.partial_year:
                actual += f"（折年{ph.number(self.annualized, self.unit)}）"
            note = self.as_of_note()
            if note:
                actual += f"（{note}）"
        progress = dash
        if self.value is not None and self.kind != "rate" and self.ratio is not None:
            progress = ph.fraction_pct(self.ratio)
        tp = dash
        if self.kind in KIND_TIME and self.time_progress is not None:
            tp = ph.fraction_pct(self.time_progress)
        return {
            "no": str(no),
            "code": self.code,
            "name": self.name,
            "unit": self.unit,
            "target": ph.number(self.target, self.unit) if self.target is not None else dash,
            "actual": actual,
            "progress": progress,
            "time_progress": tp,
            "status": self.status,
            "status_word": self.status_word,
            "colour_word": ph.status_colour(self.status),
            "fill": ph.status_fill(self.status),
            "lead_unit": self.lead_unit,
        }


def indicators_of(document: Mapping[str, Any], config) -> list[Ind]:
    """The document's indicators in configuration order (T then K as in the plan); codes the
    document lacks print as 暂无数据, codes the configuration lacks come last."""
    period = document["period"]
    by_code = {}
    for raw in document.get("indicators", []):
        if raw.get("code") in by_code:
            raise ValueError(f"indicator {raw.get('code')} appears twice in the document")
        by_code[raw.get("code")] = raw
    out = []
    for cfg in config.indicators:
        raw = by_code.pop(cfg["code"], None)
        if raw is None:
            log.warning("indicator %s missing from the document: printed as 暂无数据", cfg["code"])
            raw = {"code": cfg["code"], "status": "no_data", "notes": ["本期指标结果缺失"]}
        out.append(Ind(raw, cfg, config, period))
    for code, raw in by_code.items():
        out.append(Ind(raw, None, config, period))
    return out
