"""The bulletin's context: everything the Word and HTML templates print, already phrased.

``build_context(engine, config, document)`` reads the indicators document (indicators.md →
Output contract), the plan configuration, and the warehouse (rankings, the growth series, the
deliveries used) and returns plain dicts/lists/strings. The templates only place these strings;
every number is worded by :mod:`mfg_indicators.phrasing`. Numeric data for the charts is under
``chart_data``.

Nothing in the context depends on the clock: the 印发 date is the 10th of the month after the
report month (phrasing.issue_date), so the same period rendered twice from the same warehouse
gives the same text.

The warehouse reads (the two per-mu breakdowns, the deliveries used, the growth series, the
evaluation counts) and the font lookup are independent: on a pooled engine (PostgreSQL, a SQLite
file) they run at once, each on its own connection (:class:`_Reads`), and the context is then
assembled from their results exactly as in a sequential build.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Engine

from .. import phrasing as ph
from ..feeds import TABLES
from ..paths import SQL_DIR
from .fonts import office_fonts, resolve_fonts

log = logging.getLogger(__name__)

BULLETIN_SQL_DIR = SQL_DIR / "bulletin"

# The county series charted against its target (a 主要指标 name, feeds.md).
GROWTH_INDICATOR = "规上工业增加值增速"
# Ranking cells with fewer evaluated enterprises than this print no figure: a group or town of
# one or two enterprises would otherwise show an enterprise's own tax (bulletin.md: no
# enterprise-level tax figure anywhere) or its statistical figures.
MIN_ENTERPRISES_PER_CELL = 3
# The annex lists at most this many validation warnings (all are in the data-quality report).
MAX_ANNEX_WARNINGS = 100
# The annex prints this many leading hex digits of a delivery's SHA-256 as its 校验码.
SHA_PREFIX = 8

HEADINGS = {
    "overview": "一、总体情况",
    "table": "二、主要指标完成情况",
    "groups": "三、分攻坚组进展",
    "rankings": "四、主导产业与乡镇（街道）",
    "rankings_industry": "（一）分主导产业",
    "rankings_town": "（二）分乡镇（街道）",
    "rankings_evaluation": "（三）亩均效益综合评价分类情况",
    "problems": "五、存在问题",
    "next_steps": "六、下步工作",
    "annex_label": "附件",
    "annex_title": "数据说明",
    "annex_deliveries": "一、本期使用的数据",
    "annex_warnings": "二、数据校验提示",
    "annex_rejected": "三、退回的数据",
    "annex_no_data": "四、暂无数据的指标",
    "annex_calibers": "五、指标口径",
}

KIND_TIME = ("cumulative", "this_year")
VALID_STATUS = set(ph.STATUS_WORDS)


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
    """Start independent reads now, take their results when needed. Sequential engines run each
    read at submit time; exceptions surface at ``result()`` either way."""

    def __init__(self, engine: Engine):
        self._pool = (ThreadPoolExecutor(MAX_CONCURRENT_READS, thread_name_prefix="bulletin-read")
                      if concurrent_reads_ok(engine) else None)

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


# --- indicators ----------------------------------------------------------------------------

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
        if self.kind == "annualized" and self.annualized is None and self.value is not None:
            self.annualized = self.value * 12 / self.month

    # -- derived numbers --
    @property
    def ratio(self) -> float | None:
        """Completion of the target (1.0 = reached)."""
        if self.progress is not None and self.kind != "rate":
            return self.progress
        base = self.annualized if self.kind == "annualized" else self.value
        if base is None or not self.target:
            return None
        return base / self.target

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


# --- 亩均效益综合评价 (December issue) ------------------------------------------------------

def _change_word(delta: int | None, measure: str = "家") -> str:
    if delta is None:
        return "—"
    if delta == 0:
        return "持平"
    return f"{'增加' if delta > 0 else '减少'}{ph.count(abs(delta), measure)}"


def evaluation_section(engine: Engine, config, period: str) -> dict[str, Any] | None:
    """Class counts of the latest 亩均效益综合评价 of a year ≤ Y, by industry group and by town,
    with the change against the year before — counts only, never an enterprise's own figures.
    In the December issue; None in other months or when no year has been evaluated yet (the
    annual evaluation runs after the year's statistics are final)."""
    from sqlalchemy import text

    from ..evaluation import EvaluationError, evaluation_summary

    year, month = ph.parse_period(period)
    if month != 12:
        return None
    try:
        with engine.connect() as conn:
            latest = conn.execute(text("SELECT MAX(year) FROM mart_evaluation WHERE plan_id = :p AND year <= :y"),
                                  {"p": config.plan_id, "y": year}).scalar()
    except Exception:  # noqa: BLE001 - a warehouse without the evaluation tables: no section
        return None
    if latest is None:
        return None
    try:
        summary = evaluation_summary(engine, config, int(latest))
    except EvaluationError:
        return None
    classes = summary["classes"]

    def row(block: dict[str, Any]) -> dict[str, str]:
        d_change = (block["change"] or {}).get("D") if block["change"] is not None else None
        return {"name": block["name"], **{c.lower(): str(block["counts"][c]) for c in classes},
                "total": str(block["total"]), "d_change": _change_word(d_change)}

    by_class = "、".join(f"{c}类{ph.count(summary['by_class'][c], '家')}" for c in classes)
    intro = (f"{summary['year']}年度亩均效益综合评价共评价企业{ph.count(summary['evaluated'], '家')}，其中{by_class}；"
             f"列入低效企业清单{ph.count(summary['inefficient'], '家')}。")
    if summary["previous_available"]:
        d = summary["by_class_change"]["D"]
        t = summary["transitions"]
        intro += (f"与{summary['previous_year']}年度相比，D类企业{_change_word(d)}；"
                  f"两年均参评的企业中，类别上升{ph.count(t['up'], '家')}、下降{ph.count(t['down'], '家')}。")
    if summary["excluded"]["total"]:
        intro += f"另有{ph.count(summary['excluded']['total'], '家')}企业按规定不参评（名单另附）。"
    return {"year": summary["year"], "intro": intro, "classes": classes,
            "industry": [row(b) for b in summary["by_industry_group"]],
            "town": [row(b) for b in summary["by_town"]],
            "note": "分类结果及低效企业清单另行印发（限内部使用），本通报仅列示企业数量。"}


# --- rankings ------------------------------------------------------------------------------

def _per_mu_cells(engine: Engine, config, period: str, measure: str) -> list[dict[str, Any]]:
    # The cells come from the indicator's own SQL (compute.per_mu_breakdown: the T03/T04
    # evaluated set by industry group and town, excluded groups flagged), so the rankings and the
    # indicators cannot drift apart.
    from ..compute import per_mu_breakdown

    return per_mu_breakdown(engine, config, period, measure)


def _per_mu_rankings(engine: Engine, config, period: str, inds: dict[str, Ind], *,
                     cells: Mapping[str, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """``cells``: measure (tax, value_added) -> per_mu_breakdown rows, when already read."""
    y, month = ph.parse_period(period)

    excluded = list(config["per_mu_excluded_groups"])
    group_names = [g["name"] for g in config["industry_groups"]]
    default = config["industry_default_group"]
    if default not in group_names:
        group_names.append(default)

    # (dimension, key, measure) -> [enterprises, land, amount]
    agg: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for measure in ("tax", "value_added"):
        rows = cells[measure] if cells is not None else _per_mu_cells(engine, config, period, measure)
        for c in rows:
            grp = c["industry_group"]
            for dim, key in (("industry", grp), ("town", c["town"]), ("total", "all")):
                if dim != "industry" and c["excluded"]:
                    continue  # towns and the total follow the target's scope (钢压延 out)
                a = agg[(dim, key, measure)]
                a[0] += int(c["n_included"] or 0)
                a[1] += float(c["land_mu"] or 0)
                a[2] += float(c["numerator"] or 0)

    def figure(dim: str, key: str, measure: str) -> float | None:
        n, land, amount = agg.get((dim, key, measure), (0, 0.0, 0.0))
        if n < MIN_ENTERPRISES_PER_CELL or land <= 0:
            return None
        return amount / land

    def count(dim: str, key: str) -> int:  # enterprises behind the 亩均税收 figure
        return int(agg.get((dim, key, "tax"), (0,))[0])

    def rows_for(dim: str, keys: list[str]) -> list[dict[str, Any]]:
        rows = []
        for k in keys:
            rows.append({"name": k, "enterprises": count(dim, k),
                         "tax": figure(dim, k, "tax"), "va": figure(dim, k, "value_added")})
        for measure in ("tax", "va"):
            ranked = sorted((r for r in rows if r[measure] is not None), key=lambda r: (-r[measure], r["name"]))
            for i, r in enumerate(ranked, 1):
                r[f"{measure}_rank"] = i
        rows.sort(key=lambda r: (r.get("tax_rank") is None, r.get("tax_rank") or 0,
                                 r.get("va_rank") or 99, keys.index(r["name"])))
        return rows

    def phrase_row(r: dict[str, Any]) -> dict[str, str]:
        dash = "—"
        return {
            "name": r["name"],
            "enterprises": str(r["enterprises"]),
            "tax": ph.fixed(r["tax"], 2) if r["tax"] is not None else dash,
            "tax_annual": ph.fixed(r["tax"] * 12 / month, 2) if r["tax"] is not None else dash,
            "tax_rank": str(r.get("tax_rank", dash)),
            "va": ph.fixed(r["va"], 2) if r["va"] is not None else dash,
            "va_annual": ph.fixed(r["va"] * 12 / month, 2) if r["va"] is not None else dash,
            "va_rank": str(r.get("va_rank", dash)),
        }

    industry = rows_for("industry", [g for g in group_names if g not in excluded])
    apart = rows_for("industry", [g for g in group_names if g in excluded])
    towns = rows_for("town", list(config["towns"]))
    total = {"name": "合计", "enterprises": count("total", "all"),
             "tax": figure("total", "all", "tax"), "va": figure("total", "all", "value_added")}

    # The total must be the T03/T04 figure: a difference means the two definitions drifted.
    for measure, method_measure in (("tax", "tax"), ("va", "value_added")):
        ind = next((i for i in inds.values() if i.cfg.get("method") == "per_mu"
                    and (i.cfg.get("params") or {}).get("measure") == method_measure), None)
        if ind and ind.value is not None and total[measure] is not None \
                and abs(ind.value - total[measure]) > 1e-6 * max(1.0, abs(ind.value)):
            log.warning("bulletin ranking total %s = %s differs from %s = %s",
                        measure, total[measure], ind.code, ind.value)

    excl_label = ph.enumerate_cn(excluded)
    mr = ph.month_range(month)
    sentences = []
    if total["tax"] is not None or total["va"] is not None:
        s = f"{mr}，纳入亩均效益评价的规上工业企业{ph.count(total['enterprises'], '家')}（不含{excl_label}）"
        bits = []
        def annual(x: float) -> str:
            return f"（折年{ph.per_unit(x * 12 / month)}）" if month < 12 else ""

        if total["tax"] is not None:
            bits.append(f"亩均税收{ph.per_unit(total['tax'])}{annual(total['tax'])}")
        if total["va"] is not None:
            bits.append(f"亩均增加值{ph.per_unit(total['va'])}{annual(total['va'])}")
        sentences.append(s + "，" + "、".join(bits) + "。")
    else:
        sentences.append(f"{mr}暂无可用于亩均效益评价的税收和增加值数据。")
    for label, rows in (("分主导产业看", industry), ("分乡镇（街道）看", towns)):
        ranked = [r for r in rows if r.get("tax_rank")]
        if len(ranked) >= 2:
            top, bottom = ranked[0], ranked[-1]
            sentences.append(f"{label}，亩均税收最高的是{top['name']}（{ph.per_unit(top['tax'])}），"
                             f"最低的是{bottom['name']}（{ph.per_unit(bottom['tax'])}）。")
        elif len(ranked) == 1:
            sentences.append(f"{label}，可排名的仅{ranked[0]['name']}（{ph.per_unit(ranked[0]['tax'])}）。")
    sentences.append(f"{excl_label}不计入亩均税收、亩均增加值目标，单列如下；乡镇（街道）排名不含{excl_label}企业。")

    annual_note = f"折年值={mr}数×12/{month}；" if month < 12 else "全年数即年度值；"
    notes = [f"表中亩均税收、亩均增加值为{mr}数（万元/亩），{annual_note}排名按{mr}亩均税收从高到低。",
             f"评价企业不足{MIN_ENTERPRISES_PER_CELL}家的产业或乡镇（街道）不列示数值（以“—”表示），以免反映单个企业数据。"]

    chart_rows = industry + apart
    return {
        "intro": sentences,
        "industry": [phrase_row(r) for r in industry],
        "industry_total": phrase_row(total),
        "apart": [phrase_row(r) for r in apart],
        "apart_label": f"{excl_label}（单列，不计入目标）",
        "town": [phrase_row(r) for r in towns],
        "notes": notes,
        "chart": {
            "groups": [r["name"] for r in chart_rows],
            "excluded": [r["name"] in excluded for r in chart_rows],
            "tax": [r["tax"] * 12 / month if r["tax"] is not None else None for r in chart_rows],
            "va": [r["va"] * 12 / month if r["va"] is not None else None for r in chart_rows],
        },
    }


# --- annex ---------------------------------------------------------------------------------

def _json_list(value: Any) -> list[Any]:
    if value in (None, ""):
        return []
    if isinstance(value, list):
        return value
    try:
        v = json.loads(value)
    except (TypeError, ValueError):
        return [value]
    return v if isinstance(v, list) else [v]


def _periods_text(periods: list[Any]) -> str:
    months = sorted({str(p)[:7] for p in periods if len(str(p)) >= 7})
    years = sorted({str(p) for p in periods if len(str(p)) == 4})
    out = []
    if years:
        out.append("、".join(f"{y}年" for y in years) + "名录")
    if months:
        fmt = [f"{int(m[:4])}年{int(m[5:7])}月" for m in months]
        out.append(fmt[0] if len(fmt) == 1 else f"{fmt[0]}至{fmt[-1]}（涉及{len(fmt)}个月）")
    return "；".join(out) or "—"


def _touches(periods: list[Any], period: str, table: str, roster: int | None) -> bool:
    for p in periods:
        s = str(p)
        if s.startswith(period):
            return True
        if table == "registry" and roster is not None and s[:4] == str(roster) and len(s) == 4:
            return True
    return False


def _annex(engine: Engine, config, document: Mapping[str, Any], inds: list[Ind], *,
           deliveries: tuple[int | None, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """``deliveries``: (roster year, deliveries_used rows), when already read."""
    period = document["period"]
    ry, used = deliveries if deliveries is not None else _roster_and_deliveries(engine, config, period)
    depts = config.data.get("departments", {})

    this_month, earlier = [], set()
    for r in used:
        periods = _json_list(r.get("table_periods")) or _json_list(r.get("periods"))
        if _touches(periods, period, r["table_name"], ry):
            this_month.append((r, periods))
        else:
            earlier.add(r["delivery_id"])
    rows = []
    for i, (r, periods) in enumerate(this_month, 1):
        t = TABLES.get(r["table_name"])
        dept = (depts.get(r["source"]) or {}).get("name", r["source"])
        rows.append({
            "no": str(i),
            "source": f"{dept}·{t.title if t else r['table_name']}",
            "file": str(r["file_name"]),
            "periods": _periods_text(periods),
            "received": ph.datetime_cn(r["received_at"]),
            "rows": str(r["table_rows"] if r["table_rows"] is not None else (r["row_count"] or 0)),
            "sha": str(r["delivery_id"])[:SHA_PREFIX],
        })
    earlier -= {r["delivery_id"] for r, _ in this_month}
    if not used:
        deliveries_note = "数据仓库中没有本期可用的已接收数据。"
    elif earlier:
        deliveries_note = (f"另沿用此前报送的数据{len(earlier)}批（如往月税收、主要指标、台账等），"
                           "其完整校验码均记录在本期归档清单中。")
    else:
        deliveries_note = "本期使用的数据均列于上表，完整校验码记录在本期归档清单中。"

    # warnings: the document's and those recorded against the deliveries listed above
    seen, warnings = set(), []

    def add_warning(source: str, uscc: Any, message: Any) -> None:
        msg = ph.redact_amounts(str(message or ""))
        key = (str(source or ""), str(uscc or ""), msg)
        if msg and key not in seen:
            seen.add(key)
            warnings.append(key)

    for w in document.get("warnings") or []:
        add_warning(w.get("source"), w.get("uscc"), w.get("message"))
    ids = sorted({r["delivery_id"] for r, _ in this_month})
    if ids:
        for w in _query(engine, "validation_warnings", {"ids": ids}, expanding=("ids",)):
            add_warning(w["source"], w["uscc"], w["message"])
    warnings.sort()
    shown = warnings[:MAX_ANNEX_WARNINGS]
    warning_rows = [{"no": str(i), "source": (depts.get(s) or {}).get("name", s) or "—",
                     "uscc": u or "—", "message": m} for i, (s, u, m) in enumerate(shown, 1)]
    if not warnings:
        warnings_note = "本期数据未发现需要提示的问题。"
    elif len(warnings) > len(shown):
        warnings_note = (f"共{ph.count(len(warnings), '项')}校验提示，此处列出前{len(shown)}项，"
                         "其余见数据质量报告。")
    else:
        warnings_note = f"共{ph.count(len(warnings), '项')}校验提示（数据已接收，提示供核实）。"

    rejected_rows = []
    for i, r in enumerate(document.get("rejected") or [], 1):
        rejected_rows.append({"no": str(i), "file": str(r.get("file") or "—"), "sheet": str(r.get("sheet") or "—"),
                              "row": str(r.get("row") if r.get("row") is not None else "—"),
                              "column": str(r.get("column") or "—"), "reason": str(r.get("reason") or "")})
    rejected_note = (f"本期有{ph.count(len(rejected_rows), '项')}退回记录，已通知报送单位更正后重新报送。"
                     if rejected_rows else "本期没有被退回的数据。")

    no_data = [{"no": str(i), "name": ind.name, "reason": ind.no_data_reason()}
               for i, ind in enumerate((x for x in inds if x.status == "no_data"), 1)]
    calibers = [{"no": str(i), "name": ind.name, "unit": ind.unit,
                 "caliber": ph.name_for_period(str(ind.cfg.get("caliber") or "—"), ind.month)}
                for i, ind in enumerate(inds, 1)]
    return {
        "deliveries": rows,
        "deliveries_note": deliveries_note,
        "sha_label": f"校验码（SHA-256 前{SHA_PREFIX}位）",
        "warnings": warning_rows,
        "warnings_note": warnings_note,
        "rejected": rejected_rows,
        "rejected_note": rejected_note,
        "no_data": no_data,
        "no_data_note": "本期所有指标均有数据。" if not no_data else
        f"本期{ph.count(len(no_data), '项')}指标暂无数据，未按零计算。",
        "calibers": calibers,
    }


# --- the context ---------------------------------------------------------------------------

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
FIGURE_ORDER = ("status", "growth", "per_mu")


def _captions(year: int, month: int, growth_ind: "Ind | None") -> dict[str, str]:
    mr = ph.month_range(month)
    target = ph.rate(growth_ind.target) if growth_ind and growth_ind.target is not None else None
    texts = {
        "status": "各攻坚组指标状态",
        "growth": f"{year}年规上工业增加值累计增速" + (f"与目标（{target}）" if target else ""),
        "per_mu": f"主导产业亩均税收、亩均增加值（{mr}{'折年' if month < 12 else ''}）",
    }
    return {key: f"图{n}  {texts[key]}" for n, key in enumerate(FIGURE_ORDER, 1)}


def build_context(engine: Engine, config, document: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the templates need, already phrased (see module docstring)."""
    return build_context_and_inputs(engine, config, document)[0]


ChartHook = Callable[[str, Mapping[str, Any], Mapping[str, str]], None]


def build_context_and_inputs(engine: Engine, config, document: Mapping[str, Any], *,
                             on_chart: ChartHook | None = None,
                             per_mu_cells: Mapping[str, list[dict[str, Any]]] | None = None
                             ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The context and the deliveries_used rows it was built from (for the archive manifest:
    one read per run, and the manifest lists exactly what the bulletin read).

    ``per_mu_cells``: measure (``tax``, ``value_added``) -> the rows of
    ``compute.per_mu_breakdown(engine, config, period, measure)`` when the caller already has
    them (e.g. from the computation of the same period); the breakdown is then not read again.

    ``on_chart(key, data, fonts)`` is called (in this thread) with each entry of
    ``chart_data`` as soon as it is final — growth and status before the per-mu rankings have
    been read, per_mu last — so a caller can draw charts while the warehouse works. ``data`` is
    the very object placed in ``context["chart_data"][key]``."""
    with _Reads(engine) as reads:
        return _build_context(engine, config, document, reads, on_chart, per_mu_cells)


def _done(value: Any) -> Future:
    fut: Future = Future()
    fut.set_result(value)
    return fut


def _build_context(engine: Engine, config, document: Mapping[str, Any], reads: _Reads,
                   on_chart: ChartHook | None = None,
                   per_mu_cells: Mapping[str, list[dict[str, Any]]] | None = None
                   ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    period = document["period"]
    year, month = ph.parse_period(period)
    inds = indicators_of(document, config)
    growth_ind = next((i for i in inds if i.cfg.get("method") == "official_value"
                       and (i.cfg.get("params") or {}).get("indicator") == GROWTH_INDICATOR), None)
    # the warehouse reads and the font lookup, longest first (see _Reads); the modules they use
    # are imported here (light) rather than by two read threads at the same time
    from .. import compute, evaluation  # noqa: F401

    def cells(measure: str) -> Future:
        if per_mu_cells is not None:
            return _done(list(per_mu_cells[measure]))
        return reads.submit(_per_mu_cells, engine, config, period, measure)

    pending_cells = {"tax": cells("tax")}
    pending_deliveries = reads.submit(_roster_and_deliveries, engine, config, period)
    pending_cells["value_added"] = cells("value_added")
    pending_fonts = reads.submit(resolve_fonts, config["fonts"])
    pending_growth = reads.submit(_growth_series, engine, config, period,
                                  growth_ind.target if growth_ind else None)
    pending_evaluation = reads.submit(evaluation_section, engine, config, period)

    bcfg = config["bulletin"]
    number = ph.issue_number(bcfg, period)
    issued = ph.issue_date(period)
    by_code = {i.code: i for i in inds}

    counts = {s: sum(1 for i in inds if i.status == s) for s in ph.STATUS_ORDER}
    mr = ph.month_range(month)

    # 一、总体情况
    overview = (f"{year}年{mr}，攻坚行动纳入监测的主要指标共{ph.count(len(inds), '项')}，其中"
                + ph.status_tally(i.status_word for i in inds) + "。")
    heads = [by_code[c].headline() for c in bcfg["headline_codes"] if c in by_code]
    if heads:
        overview += "；".join(heads) + "。"

    # 二、主要指标完成情况
    table_rows = [ind.table_row(n) for n, ind in enumerate(inds, 1)]
    table = {
        "columns": ["序号", "指标", "单位", "目标", f"{mr}完成", "完成率", "序时进度", "状态", "牵头单位"],
        "rows": table_rows,
        "legend": "状态：绿色为已完成目标、达到序时进度或达到目标，黄色为略低于序时进度或接近目标，"
                  "红色为明显落后序时进度或低于目标，灰色为暂无数据。"
                  + ("完成率为完成值（折年值）占目标的比例；" if month < 12 else "完成率为完成值占目标的比例；")
                  + "序时进度仅适用于累计和当年目标，其余指标对照目标判断状态。",
    }

    # 三、分攻坚组进展
    groups = []
    lead_units = config.group_leads
    group_names = [g["name"] for g in config["groups"]]
    for extra in sorted({i.group for i in inds} - set(group_names)):
        group_names.append(extra)
    n = 0
    for g in group_names:
        members = [i for i in inds if i.group == g]
        if not members:
            continue
        n += 1
        lead = lead_units.get(g)
        summary = ((f"本组由{lead}牵头，" if lead else "本组")
                   + f"监测指标{ph.count(len(members), '项')}："
                   + ph.status_tally(i.status_word for i in members) + "。")
        groups.append({"heading": f"{ph.ordinal_subheading(n)}{g}", "name": g, "summary": summary,
                       "sentences": [i.sentence() for i in members]})

    # charts that need no ranking: ready now (drawn by the caller while the rankings are read)
    fonts = pending_fonts.result()
    status_by_group = {s: [sum(1 for i in inds if i.group == g["name"] and i.status == s) for g in groups]
                       for s in ph.STATUS_ORDER}
    chart_data: dict[str, Any] = {
        "growth": pending_growth.result(),
        "status": {"groups": [g["name"] for g in groups], "counts": status_by_group,
                   "labels": dict(ph.STATUS_LEGEND_WORDS),
                   "fills": {s: ph.status_fill(s) for s in ph.STATUS_ORDER},
                   "title": f"{year}年{mr}各攻坚组指标状态（项）"},
    }
    if on_chart is not None:
        for key in ("growth", "status"):
            on_chart(key, chart_data[key], fonts)

    # 四、主导产业与乡镇（街道）
    rankings = _per_mu_rankings(engine, config, period, by_code,
                                cells={m: f.result() for m, f in pending_cells.items()})
    evaluation = pending_evaluation.result()

    # 五、存在问题
    lagging = [i for i in inds if i.status == "red"] + [i for i in inds if i.status == "yellow"]
    if lagging:
        problems_intro = (f"对照目标和序时进度，共有{ph.count(len(lagging), '项')}指标未达到要求，其中"
                          + ph.status_tally(i.status_word for i in lagging) + "：")
    else:
        problems_intro = "本期没有低于序时进度或目标的指标。"
    problems = [f"{k}. {i.problem()}" for k, i in enumerate(lagging, 1)]
    problems_tail = (f"另有{ph.count(counts['no_data'], '项')}指标暂无数据，原因见附件。"
                     if counts["no_data"] else "")

    # 六、下步工作 — only for groups with a lagging indicator, text from configuration
    lagging_groups = [g for g in group_names if any(i.group == g for i in lagging)]
    steps_cfg = bcfg.get("next_steps") or {}
    next_steps = []
    for g in lagging_groups:
        text_ = steps_cfg.get(g)
        if not text_:
            log.warning("bulletin.next_steps has no text for lagging group %s", g)
            continue
        next_steps.append({"heading": f"{ph.ordinal_subheading(len(next_steps) + 1)}{g}", "text": text_})
    next_steps_empty = "" if next_steps else "各攻坚组指标均达到序时进度或目标，按计划继续推进。"

    # 附件
    deliveries = pending_deliveries.result()
    annex = _annex(engine, config, document, inds, deliveries=deliveries)

    # charts
    per_mu_targets = {}
    for i in inds:
        if i.cfg.get("method") == "per_mu":
            per_mu_targets[(i.cfg.get("params") or {}).get("measure")] = i.target
    chart_data = {
        "growth": chart_data["growth"],
        "per_mu": {**rankings.pop("chart"), "tax_target": per_mu_targets.get("tax"),
                   "va_target": per_mu_targets.get("value_added"), "month": month,
                   "title": f"{year}年{mr}主导产业亩均效益（{'折年，' if month < 12 else ''}万元/亩）"},
        "status": chart_data["status"],
    }
    if on_chart is not None:
        on_chart("per_mu", chart_data["per_mu"], fonts)
    captions = _captions(year, month, growth_ind)

    dist = bcfg.get("distribution") or {}
    distribution = [{"label": k, "text": "，".join(v) + "。"} for k, v in dist.items() if v]

    subject = bcfg["subject"].format(year=year, number=number, month=month, period=period)
    context = {
        "county": config.county,
        "plan_document": config.document,
        "title": bcfg["title"],
        "subject": subject,
        "issue_number": number,
        "issue_no": f"第{number}期",
        "year": year,
        "editor": bcfg["editor"],
        "issue_date": ph.date_cn(issued),
        "issue_date_iso": issued.isoformat(),
        "period": period,
        "period_label": ph.period_label(period),
        "month_range": mr,
        "fonts": fonts,
        "office_fonts": office_fonts(config["fonts"]),
        "editor_lines": list(bcfg.get("editor_lines") or [bcfg["editor"]]),
        "title_lines": list(bcfg.get("title_lines") or [bcfg["title"]]),
        "h": HEADINGS,
        "overview": overview,
        "table": table,
        "groups": groups,
        "rankings": rankings,
        "evaluation": evaluation,
        "problems_intro": problems_intro,
        "problems": problems,
        "problems_tail": problems_tail,
        "next_steps": next_steps,
        "next_steps_empty": next_steps_empty,
        "annex": annex,
        "distribution": distribution,
        "captions": captions,
        "chart_data": chart_data,
        "counts": counts,
    }
    return context, deliveries[1]
