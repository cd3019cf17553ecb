"""The monthly indicator set (indicators.md), computed in SQL on the warehouse.

The SQL lives in ``include/sql/indicators/<method>/<query>.sql`` (a folder per method family,
a file per query, see that folder's README), read through :mod:`mfg_indicators.sql`. This module only orchestrates: it picks each indicator's
family from the plan configuration, binds the period, windows and thresholds, decides between a
value and ``no_data`` (with the reason), applies the status rules (:mod:`status`) and writes the
results to ``mart_indicator`` (the evaluated set's left-out enterprises to
``mart_indicator_warning``, and the per-mu evaluated set by industry group and town — the
bulletin's rankings — to ``mart_per_mu``), replacing the period's earlier results in one
transaction.

Public API::

    compute_indicators(engine, config, period) -> ComputeResult
    load_result(engine, config, period) -> ComputeResult | None     # read back from the mart
    per_mu_breakdown(engine, config, period, measure) -> list[dict]  # 亩均 by industry group/town
    load_per_mu_cells(engine, config, period) -> {measure: list[dict]}  # the same, from mart_per_mu

The indicators document (``indicators-YYYY-MM.json``) is built from a ``ComputeResult`` by
:mod:`mfg_indicators.document`.

``ComputeResult`` has ``.indicators`` (the indicator dicts of the output contract, in
configuration order) and ``.warnings`` (``Finding`` objects); it also behaves as the list of
indicator dicts.

Shape of one indicator (indicators.md -> Output contract), every key always present:

- ``value``: unrounded float; ``null`` exactly when ``status`` is ``no_data``.
- ``annualized``: value x 12/N for ``annualized`` kinds, else ``null``.
- ``target``: as configured (int or float).
- ``progress``: value / target (annualized / target for annualized kinds); ``null`` without data.
- ``time_progress``: cumulative -> months since the window's start incl. N / window months
  (capped at 1); this_year and annualized -> N/12; level and rate -> ``null``.
- ``as_of``: the month the value describes (the quarter-end month used for T01/T06, the 任务月报
  month used, else the period); ``null`` without data.
- ``notes``: Chinese strings; for ``no_data`` the first note is the reason. Other notes say which
  roster or quarter was used and how many enterprises were counted.

Cumulative windows are capped at the plan window's end (a report after 2023-12 still counts
2021-01..2023-12). Enterprise ratios (T05, T11) count reporters with both figures; the rest are
warnings, as for the per-mu evaluated set.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Engine

from . import sql
from .config import PlanConfig
from .feeds import TABLES
from .findings import WARNING, Finding
from .plan_tables import store_industry_groups
from .status import assess
from .load import lock_for_read, lock_named
from .warehouse import WRITE_LOCK

PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
COUNTY_SCOPE = "累计"  # 主要指标 口径 used by every official figure
PG_WORK_MEM = "64MB"  # per sort/hash, for the computation's transaction only (SET LOCAL)

PER_MU_MEASURES = ("tax", "value_added")
# a per-mu cell (a row of indicators/per_mu/breakdown.sql, a row of mart_per_mu)
PER_MU_CELL_KEYS = ("industry_group", "town", "excluded", "n_included", "numerator", "land_mu", "value")


# --- periods --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """Month N of year Y (the report's "1—N月")."""

    year: int
    month: int

    @classmethod
    def parse(cls, period: str) -> Period:
        m = PERIOD_RE.match(str(period))
        if not m:
            raise ValueError(f"period must be YYYY-MM, got {period!r}")
        return cls(int(m.group(1)), int(m.group(2)))

    @property
    def text(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"

    @property
    def range_label(self) -> str:
        return f"{self.year}年1月" if self.month == 1 else f"{self.year}年1—{self.month}月"

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def year_start_month(self) -> str:
        return f"{self.year:04d}-01"

    @property
    def prev_december(self) -> str:
        return f"{self.year - 1:04d}-12"

    def months_of_year(self) -> list[str]:
        return [f"{self.year:04d}-{m:02d}" for m in range(1, self.month + 1)]


def _month_end(month: str) -> dt.date:
    return Period.parse(month).end


# --- SQL files ---------------------------------------------------------------------------

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def _industry_group_params(config: PlanConfig) -> tuple[list[tuple[int, str]], dict[str, Any]]:
    """The plan's industry-group prefixes as bind parameters (``:ig_p<i>`` -> ``:ig_g<i>``, first
    matching prefix wins, ``:ig_default`` otherwise) and (i, prefix) in matching order."""
    order, params = [], {}
    i = 0
    for g in config["industry_groups"]:
        for prefix in g["prefixes"]:
            order.append((i, prefix))
            params[f"ig_p{i}"] = prefix
            params[f"ig_g{i}"] = g["name"]
            i += 1
    params["ig_default"] = config["industry_default_group"]
    return order, params


def _industry_group_case(order: list[tuple[int, str]], column: str) -> str:
    """CASE expression mapping the industry code in ``column`` to its group (the SQL files'
    ``{{ industry_group("n.industry_code") }}``; prefixes and names are bind parameters)."""
    if not re.match(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$", column):
        raise ValueError(f"not a column: {column!r}")
    parts = [f"WHEN substr({column}, 1, {len(prefix)}) = :ig_p{i} THEN :ig_g{i}" for i, prefix in order]
    return f"CASE {' '.join(parts)} ELSE :ig_default END"


def _column(table: str, name: str, types: tuple[str, ...] = ("number",)) -> str:
    """A column name from the configuration, checked against the feed contract."""
    col = TABLES[table].column(name)  # KeyError for an unknown column
    if col.type not in types or not _IDENT.match(col.name):
        raise ValueError(f"{table}.{name} cannot be used here")
    return col.name


# --- results --------------------------------------------------------------------------------

@dataclass
class Raw:
    """What a family found: a value (None = no_data, with ``reason``), its as_of month, notes and
    warnings about the enterprises left out."""

    value: float | None
    as_of: str | None = None
    reason: str | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)


@dataclass
class ComputeResult:
    period: str
    indicators: list[dict[str, Any]]
    warnings: list[Finding]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.indicators)

    def __len__(self) -> int:
        return len(self.indicators)

    def __getitem__(self, i):
        return self.indicators[i]

    def by_code(self) -> dict[str, dict[str, Any]]:
        return {ind["code"]: ind for ind in self.indicators}


class _Run:
    """One computation: a connection, the configuration, the period and caches."""

    def __init__(self, conn: Connection, config: PlanConfig, period: Period):
        self.conn = conn
        self.config = config
        self.p = period
        ws = Period.parse(config.window_start)
        self.window_start = ws.start
        self.window_end = _month_end(config.window_end)
        self.cache: dict[Any, Any] = {}
        ig_order, ig_params = _industry_group_params(config)
        self.sql_context = {"industry_group": lambda column: _industry_group_case(ig_order, column)}
        self.base_params = {**ig_params,
            "period": period.text, "year": period.year, "month": period.month,
            "year_start_month": period.year_start_month, "prev_december": period.prev_december,
            "first_december": f"{ws.year:04d}-12", "period_end": period.end,
            "scope": COUNTY_SCOPE,
        }
        self.delivered = self._delivered_tables()

    def q(self, family: str, name: str, context: dict[str, Any] | None = None, **params) -> list[dict[str, Any]]:
        """Rows of include/sql/indicators/<family>/<name>.sql: ``context`` fills the text (column
        names from the feed contract, the per-mu measure), ``params`` and the period's shared
        parameters are bound."""
        rows = sql.query(self.conn, f"indicators/{family}/{name}", {**self.base_params, **params},
                         **self.sql_context, **(context or {}))
        return [dict(r) for r in rows]

    def _delivered_tables(self) -> set[str]:
        names = {r["table_name"] for r in self.q("delivered", "delivered_tables")}
        for t in TABLES.values():
            if t.name not in names and self.q("delivered", "core_has_rows", {"core_table": t.core}):
                names.add(t.name)
        return names

    def not_delivered(self, *tables: str) -> str | None:
        """The no_data reason when one of the tables was never delivered."""
        for t in tables:
            if t not in self.delivered:
                return f"{TABLES[t].title}（{self.department(TABLES[t].source)}）从未报送"
        return None

    def department(self, source: str) -> str:
        """The department that delivers ``source``, as the plan configuration names it."""
        return self.config["departments"][source]["name"]

    def window(self, window: str) -> tuple[dt.date, dt.date]:
        if window == "plan":
            return self.window_start, min(self.p.end, self.window_end)
        if window == "this_year":
            return dt.date(self.p.year, 1, 1), self.p.end
        raise ValueError(f"unknown window {window!r}")


def _fmt_months(months: list[str]) -> str:
    return "、".join(months)


# --- families ---------------------------------------------------------------------------------

def _official_value(run: _Run, ind: dict) -> Raw:
    name = ind["params"]["indicator"]
    if reason := run.not_delivered("stats_county"):
        return Raw(None, reason=reason)
    rows = run.q("official_value", "value", indicator=name)
    if not rows:
        return Raw(None, reason=f"主要指标无{run.p.label}“{name}”（{COUNTY_SCOPE}）数据")
    return Raw(rows[0]["value"], as_of=rows[0]["as_of"])


def _quarter_note(run: _Run, as_of: str) -> list[str]:
    if as_of == run.p.prev_december:
        return [f"{run.p.year}年尚无季度数据，取{run.p.year - 1}年全年数"]
    if as_of != run.p.text:
        return [f"取最近季末月{as_of}数据"]
    return []


def _official_quarter_value(run: _Run, ind: dict) -> Raw:
    name = ind["params"]["indicator"]
    if reason := run.not_delivered("stats_county"):
        return Raw(None, reason=reason)
    rows = run.q("official_quarter_value", "value", indicator=name)
    if not rows:
        return Raw(None, reason=f"主要指标无{run.p.range_label}季末月或{run.p.year - 1}年全年“{name}”数据")
    as_of = rows[0]["as_of"]
    return Raw(rows[0]["value"], as_of=as_of, notes=_quarter_note(run, as_of))


def _official_quarter_ratio(run: _Run, ind: dict) -> Raw:
    num, den = ind["params"]["numerator"], ind["params"]["denominator"]
    if reason := run.not_delivered("stats_county"):
        return Raw(None, reason=reason)
    rows = run.q("official_quarter_ratio", "value", numerator=num, denominator=den)
    if not rows:
        return Raw(None, reason=f"主要指标无{run.p.range_label}季末月或{run.p.year - 1}年全年同时具备“{num}”和“{den}”的数据")
    as_of = rows[0]["as_of"]
    return Raw(rows[0]["value"], as_of=as_of, notes=_quarter_note(run, as_of))


def _official_geomean(run: _Run, ind: dict) -> Raw:
    name = ind["params"]["indicator"]
    if reason := run.not_delivered("stats_county"):
        return Raw(None, reason=reason)
    first_year = run.window_start.year
    if run.p.year < first_year:
        return Raw(None, reason=f"{run.p.year}年早于规划期")
    needed = [f"{y:04d}-12" for y in range(first_year, run.p.year)] + [run.p.text]
    row = run.q("official_geomean", "value", indicator=name)[0]
    if row["n_years"] != len(needed) or row["n_valid"] != len(needed):
        present = {r["period"] for r in run.q("official_geomean", "present", indicator=name)}
        missing = [m for m in needed if m not in present]
        if missing:
            return Raw(None, reason=f"主要指标缺“{name}”：{_fmt_months(missing)}")
        return Raw(None, reason=f"主要指标“{name}”数值无法计算几何平均（增速不大于-100%）")
    years = f"{first_year}—{run.p.year}年" if run.p.year > first_year else f"{first_year}年"
    return Raw(row["value"], as_of=run.p.text, notes=[f"{years}（{len(needed)}个年度）几何平均"])


def _per_mu(run: _Run, ind: dict) -> Raw:
    measure = ind["params"]["measure"]
    if measure not in ("tax", "value_added"):
        raise ValueError(f"{ind['code']}: per_mu measure must be tax or value_added")
    num_table = "tax" if measure == "tax" else "stats_enterprise"
    if reason := run.not_delivered("registry", num_table):
        return Raw(None, reason=reason)
    subs = {"measure": measure}
    months_needed = run.p.month if measure == "tax" else 1
    params = {"excluded_groups": list(run.config["per_mu_excluded_groups"]), "months_needed": months_needed}

    needed = run.p.months_of_year() if measure == "tax" else [run.p.text]
    missing = [m for m in needed if not run.q("per_mu", f"has_{measure}_month", month_text=m)]
    if missing:
        what = "税收数据" if measure == "tax" else "企业月报"
        return Raw(None, reason=f"{what}缺{_fmt_months(missing)}")

    rows = run.q("per_mu", "value", subs, **params)
    # the same query's cells of the evaluated set (breakdown.sql's rows) for mart_per_mu
    run.cache[("per_mu_cells", measure)] = [{k: r[k] for k in PER_MU_CELL_KEYS} for r in rows
                                             if r["row_kind"] == "cell"]
    row = next(r for r in rows if r["row_kind"] == "total")
    left_out = sorted((r for r in rows if r["row_kind"] == "left_out"), key=lambda r: r["uscc"])
    if row["roster_year"] is None:
        return Raw(None, reason=f"无{run.p.year}年及以前年份的企业名录")
    notes = []
    if row["roster_year"] != run.p.year:
        notes.append(f"{run.p.year}年名录未报送，沿用{row['roster_year']}年名录")
    excluded = "、".join(run.config["per_mu_excluded_groups"])
    notes.append(f"评价范围：{row['roster_year']}年名录规上企业（不含{excluded}）{row['n_candidates']}家，"
                 f"计入{row['n_included']}家")
    if not row["n_included"] or row["value"] is None:
        return Raw(None, reason=f"评价范围内无企业（{row['roster_year']}年名录规上、用地面积大于0且有当期数据）",
                   notes=notes)

    warnings = []
    for r in left_out:
        name = r["name"] or r["uscc"]
        if r["land_mu"] is None or r["land_mu"] <= 0:
            warnings.append(Finding(
                WARNING, "registry", "evaluated_set_no_land",
                f"规上企业“{name}”用地面积缺失或为0，未计入亩均评价范围",
                f"above-scale enterprise {r['uscc']} has no land area: left out of the per-mu set",
                table="registry", uscc=r["uscc"], period=run.p.text))
        elif measure == "tax":
            got = r["months_reported"]
            warnings.append(Finding(
                WARNING, "tax", "evaluated_set_tax_incomplete",
                f"规上企业“{name}”{run.p.range_label}税收实际贡献仅报送{got}个月（应{run.p.month}个月），未计入亩均税收评价范围",
                f"enterprise {r['uscc']} has tax for {got} of {run.p.month} months: left out of the per-mu tax set",
                table="tax", uscc=r["uscc"], period=run.p.text))
        else:
            warnings.append(Finding(
                WARNING, "stats", "evaluated_set_no_value_added",
                f"规上企业“{name}”无{run.p.label}企业月报工业增加值，未计入亩均增加值评价范围",
                f"enterprise {r['uscc']} has no value added for {run.p.text}: left out of the per-mu value-added set",
                table="stats_enterprise", uscc=r["uscc"], period=run.p.text))
    return Raw(row["value"], as_of=run.p.text, notes=notes, warnings=warnings)


def _enterprise_ratio(run: _Run, ind: dict) -> Raw:
    prm = ind["params"]
    subs = {"numerator": _column("stats_enterprise", prm["numerator"]),
            "denominator": _column("stats_enterprise", prm["denominator"])}
    if reason := run.not_delivered("stats_enterprise"):
        return Raw(None, reason=reason)
    row = run.q("enterprise_ratio", "value", subs, scale=float(prm.get("scale", 1)))[0]
    if not row["n_reporters"]:
        return Raw(None, reason=f"企业月报无{run.p.label}数据")
    num_label = TABLES["stats_enterprise"].column(prm["numerator"]).header
    den_label = TABLES["stats_enterprise"].column(prm["denominator"]).header
    if not row["n_included"] or row["value"] is None:
        return Raw(None, reason=f"{run.p.label}企业月报无同时报送{num_label}和{den_label}（且后者不为0）的企业")
    notes = [f"{run.p.label}企业月报规上企业{row['n_reporters']}家，计入{row['n_included']}家"]
    warnings = []
    for r in run.q("enterprise_ratio", "left_out", subs):
        miss = [lbl for flag, lbl in ((r["numerator_missing"], num_label), (r["denominator_missing"], den_label)) if flag]
        warnings.append(Finding(
            WARNING, "stats", f"enterprise_ratio_missing_{prm['numerator']}_{prm['denominator']}",
            f"规上企业“{r['name'] or r['uscc']}”{run.p.label}企业月报缺{'、'.join(miss)}，未计入{ind['name']}",
            f"enterprise {r['uscc']} lacks {'/'.join(miss)} for {run.p.text}: left out of {ind['code']}",
            table="stats_enterprise", uscc=r["uscc"], period=run.p.text))
    return Raw(row["value"], as_of=run.p.text, notes=notes, warnings=warnings)


def _rectification(run: _Run, ind: dict) -> Raw:
    prm = ind.get("params", {})
    if reason := run.not_delivered("rectification"):
        return Raw(None, reason=reason)
    start, end = run.window(prm.get("window", "plan"))
    subs: dict[str, Any] = {"by_action_type": bool(prm.get("action_types"))}
    params: dict[str, Any] = {"from_date": start, "to_date": end}
    if prm.get("action_types"):
        params["action_types"] = list(prm["action_types"])
    if prm["aggregate"] == "distinct_uscc":
        row = run.q("rectification", "distinct_uscc", subs, **params)[0]
    elif prm["aggregate"] == "sum":
        subs["column"] = _column("rectification", prm["column"])
        row = run.q("rectification", "sum", subs, divisor=float(prm.get("divisor", 1)), **params)[0]
    else:
        raise ValueError(f"{ind['code']}: unknown aggregate {prm['aggregate']!r}")
    notes = [f"销号日期{start.isoformat()}至{end.isoformat()}，台账记录{row['n_events']}条"]
    return Raw(row["value"], as_of=run.p.text, notes=notes)


def _big_projects(run: _Run, ind: dict) -> Raw:
    prm = ind.get("params", {})
    if reason := run.not_delivered("projects"):
        return Raw(None, reason=reason)
    start, end = run.window(prm.get("window", "plan"))
    divs = run.config["manufacturing_divisions"]
    pcfg = run.config["projects"]
    params = {"from_date": start, "to_date": end, "count_stage": pcfg["count_stage"],
              "min_investment": float(pcfg["big_project_min_investment"]),
              "mfg_from": f"{int(divs['from']):02d}", "mfg_to": f"{int(divs['to']):02d}"}
    row = run.q("big_projects", "value", **params)[0]
    notes = [f"最早{pcfg['count_stage']}日期在{start.isoformat()}至{end.isoformat()}"]
    return Raw(row["value"], as_of=run.p.text, notes=notes)


def _task_report(run: _Run, ind: dict) -> Raw:
    if reason := run.not_delivered("task_report"):
        return Raw(None, reason=reason)
    if "task_report" not in run.cache:
        this_year = [i["code"] for i in run.config.indicators
                     if i["method"] == "task_report" and i["kind"] == "this_year"]
        rows = run.q("task_report", "latest", this_year_codes=this_year)
        run.cache["task_report"] = {r["indicator_code"]: r for r in rows}
    row = run.cache["task_report"].get(ind["code"])
    if row is None:
        if ind["kind"] == "this_year":
            return Raw(None, reason=f"任务月报无{run.p.year}年截至{run.p.month}月的“{ind['code']}”填报")
        return Raw(None, reason=f"任务月报无截至{run.p.label}的“{ind['code']}”填报")
    notes = [] if row["as_of"] == run.p.text else [f"取{row['as_of']}填报数"]
    return Raw(row["value"], as_of=row["as_of"], notes=notes)


FAMILIES = {
    "official_value": _official_value,
    "official_quarter_value": _official_quarter_value,
    "official_quarter_ratio": _official_quarter_ratio,
    "official_geomean": _official_geomean,
    "per_mu": _per_mu,
    "enterprise_ratio": _enterprise_ratio,
    "rectification": _rectification,
    "big_projects": _big_projects,
    "task_report": _task_report,
}


# --- assembling and storing -------------------------------------------------------------------

def _indicator_dict(config: PlanConfig, ind: dict, p: Period, raw: Raw) -> dict[str, Any]:
    a = assess(ind["kind"], raw.value, float(ind["target"]), year=p.year, month=p.month,
               bands=config["bands"], window_start=config.window_start, window_months=config.window_months)
    notes = ([raw.reason] if raw.reason else []) + list(raw.notes)
    return {
        "code": ind["code"], "name": ind["name"], "unit": ind["unit"], "kind": ind["kind"],
        "value": None if raw.value is None else float(raw.value),
        "annualized": a.annualized, "target": ind["target"],
        "progress": a.progress, "time_progress": a.time_progress, "status": a.status,
        "as_of": raw.as_of if raw.value is not None else None,
        "group": ind["group"], "responsible_units": config.responsible_units(ind["code"]),
        "notes": notes,
    }


def _merge_warnings(per_code: list[tuple[str, Finding]]) -> list[tuple[list[str], Finding]]:
    """One warning per (rule, uscc), naming every indicator it concerns, in first-seen order."""
    merged: dict[tuple[str, str | None], tuple[list[str], Finding]] = {}
    for code, f in per_code:
        key = (f.rule, f.uscc)
        if key in merged:
            if code not in merged[key][0]:
                merged[key][0].append(code)
        else:
            merged[key] = ([code], f)
    out = []
    for codes, f in merged.values():
        out.append((codes, Finding(f.level, f.source, f.rule, f"{f.message}（{'、'.join(codes)}）",
                                   f"{f.message_en} ({', '.join(codes)})", table=f.table, uscc=f.uscc,
                                   period=f.period)))
    return out


def _ensure_sqlite_math(conn: Connection) -> None:
    """LN/EXP are built into SQLite >= 3.35 when compiled with math functions; add them if not."""
    try:
        conn.execute(text("SELECT ln(2.0), exp(1.0)"))
    except Exception:  # noqa: BLE001 - "no such function"
        raw = conn.connection.dbapi_connection
        raw.create_function("ln", 1, lambda x: None if x is None or x <= 0 else math.log(x), deterministic=True)
        raw.create_function("exp", 1, lambda x: None if x is None else math.exp(x), deterministic=True)


def read_session(conn: Connection) -> None:
    """Per-transaction settings of every indicator read (call inside a transaction, first)."""
    lock_for_read(conn)  # before the first query: the snapshot then sees whole published months
    if conn.dialect.name == "sqlite":
        _ensure_sqlite_math(conn)
    else:
        # The one dialect switch: room for the province-size aggregates (150k enterprises x
        # 12 months) without spilling to disk, and no JIT start-up cost (~0.9 s on the per-mu
        # query, more than its execution is worth) on ~40 short queries.
        conn.execute(text(f"SET LOCAL work_mem = '{PG_WORK_MEM}'"))
        conn.execute(text("SET LOCAL jit = off"))


def compute_indicators(engine: Engine, config: PlanConfig, period: str) -> ComputeResult:
    """Compute every indicator of the plan for ``period`` (YYYY-MM), replace the period's rows in
    ``mart_indicator``/``mart_indicator_warning`` in one transaction, and return the results."""
    p = Period.parse(period)
    store_industry_groups(engine, config)  # for the statisticians' views (plan_tables.py)
    opts = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {WRITE_LOCK: True}
    indicators: list[dict[str, Any]] = []
    per_code: list[tuple[str, Finding]] = []
    with engine.connect().execution_options(**opts) as conn:
        with conn.begin():
            read_session(conn)
            run = _Run(conn, config, p)
            for ind in config.indicators:
                family = FAMILIES.get(ind["method"])
                if family is None:
                    raise ValueError(f"{ind['code']}: unknown method {ind['method']!r}")
                raw = family(run, ind)
                if raw.value is not None and not math.isfinite(raw.value):
                    raw = Raw(None, reason="计算结果无效（分母为0或数据异常）", notes=raw.notes)
                indicators.append(_indicator_dict(config, ind, p, raw))
                per_code.extend((ind["code"], w) for w in raw.warnings)
            merged = _merge_warnings(per_code)
            # the cells the per-mu indicators' value query returned; the breakdown query for a
            # measure no indicator reached (not configured, or no data)
            cells = {m: run.cache[("per_mu_cells", m)] if ("per_mu_cells", m) in run.cache else _breakdown(run, m)
                     for m in PER_MU_MEASURES}
            if engine.dialect.name != "postgresql":  # SQLite: this transaction holds the write lock
                _store(conn, config, p, indicators, merged)
                _store_per_mu(conn, config, p, cells)
    if engine.dialect.name == "postgresql":
        # The figures were read from one snapshot (REPEATABLE READ), which cannot see a neighbour's
        # rows committed after it began; the month's rows are replaced in a READ COMMITTED
        # transaction under a lock instead, so two runs computing the same month take turns and
        # the second replaces the first's rows (no duplicate key).
        with engine.begin() as conn:
            lock_named(conn, f"mart:{config.plan_id}:{p.text}")
            _store(conn, config, p, indicators, merged)
            _store_per_mu(conn, config, p, cells)
    return ComputeResult(p.text, indicators, [f for _, f in merged])


def _store(conn: Connection, config: PlanConfig, p: Period, indicators: list[dict[str, Any]],
           warnings: list[tuple[list[str], Finding]]) -> None:
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    keys = {"plan_id": config.plan_id, "period": p.text}
    conn.execute(text("DELETE FROM mart_indicator WHERE plan_id = :plan_id AND period = :period"), keys)
    conn.execute(text("DELETE FROM mart_indicator_warning WHERE plan_id = :plan_id AND period = :period"), keys)
    rows = [{
        **keys, "code": i["code"], "name": i["name"], "unit": i["unit"], "kind": i["kind"], "grp": i["group"],
        "value": i["value"], "annualized": i["annualized"], "target": float(i["target"]),
        "progress": i["progress"], "time_progress": i["time_progress"], "status": i["status"],
        "as_of": i["as_of"], "notes": json.dumps(i["notes"], ensure_ascii=False), "computed_at": now,
    } for i in indicators]
    conn.execute(text(
        "INSERT INTO mart_indicator (plan_id, period, code, name, unit, kind, grp, value, annualized, target,"
        " progress, time_progress, status, as_of, notes, computed_at) VALUES (:plan_id, :period, :code, :name,"
        " :unit, :kind, :grp, :value, :annualized, :target, :progress, :time_progress, :status, :as_of, :notes,"
        " :computed_at)"), rows)
    if warnings:
        conn.execute(text(
            "INSERT INTO mart_indicator_warning (plan_id, period, seq, source, rule, codes, uscc, message, message_en)"
            " VALUES (:plan_id, :period, :seq, :source, :rule, :codes, :uscc, :message, :message_en)"),
            [{**keys, "seq": n, "source": f.source, "rule": f.rule, "codes": json.dumps(codes),
              "uscc": f.uscc, "message": f.message, "message_en": f.message_en}
             for n, (codes, f) in enumerate(warnings, 1)])


_WARNING_TABLE = {"registry": "registry", "tax": "tax", "stats": "stats_enterprise"}


def load_result(engine: Engine, config: PlanConfig, period: str) -> ComputeResult | None:
    """The stored results of ``period`` (None when it was never computed), as compute returned them."""
    p = Period.parse(period)
    keys = {"plan_id": config.plan_id, "period": p.text}
    with engine.connect() as conn:
        rows = {r["code"]: r for r in conn.execute(text(
            "SELECT * FROM mart_indicator WHERE plan_id = :plan_id AND period = :period"), keys).mappings()}
        wrows = conn.execute(text(
            "SELECT * FROM mart_indicator_warning WHERE plan_id = :plan_id AND period = :period ORDER BY seq"),
            keys).mappings().all()
    if not rows:
        return None
    indicators = []
    for ind in config.indicators:
        r = rows.get(ind["code"])
        if r is None:
            raise RuntimeError(f"mart_indicator has no {ind['code']} for {p.text}: recompute the period")
        indicators.append({
            "code": r["code"], "name": r["name"], "unit": r["unit"], "kind": r["kind"], "value": r["value"],
            "annualized": r["annualized"], "target": ind["target"],
            "progress": r["progress"], "time_progress": r["time_progress"], "status": r["status"],
            "as_of": r["as_of"], "group": r["grp"], "responsible_units": config.responsible_units(r["code"]),
            "notes": json.loads(r["notes"]),
        })
    warnings = [Finding(WARNING, w["source"], w["rule"], w["message"], w["message_en"],
                        table=_WARNING_TABLE.get(w["source"]), uscc=w["uscc"], period=w["period"]) for w in wrows]
    return ComputeResult(p.text, indicators, warnings)


def _breakdown(run: _Run, measure: str) -> list[dict[str, Any]]:
    return run.q("per_mu", "breakdown", {"measure": measure},
                 excluded_groups=list(run.config["per_mu_excluded_groups"]),
                 months_needed=run.p.month if measure == "tax" else 1)


def _store_per_mu(conn: Connection, config: PlanConfig, p: Period,
                  cells: dict[str, list[dict[str, Any]]]) -> None:
    keys = {"plan_id": config.plan_id, "period": p.text}
    sql.execute(conn, "mart/per_mu_delete", keys)
    rows = [{**keys, "measure": m, **c} for m, measure_cells in cells.items() for c in measure_cells]
    if rows:
        conn.execute(sql.statement("mart/per_mu_insert"), rows)


def per_mu_breakdown(engine: Engine, config: PlanConfig, period: str, measure: str) -> list[dict[str, Any]]:
    """亩均 (measure ``tax`` or ``value_added``) over the evaluated set by industry group and town,
    excluded groups flagged (``excluded`` = 1), computed now from the core tables — what
    :func:`compute_indicators` stores in ``mart_per_mu``."""
    p = Period.parse(period)
    with engine.connect() as conn, conn.begin():
        read_session(conn)  # same settings as compute_indicators: same plan, same sums
        return _breakdown(_Run(conn, config, p), measure)


def load_per_mu_cells(engine: Engine, config: PlanConfig, period: str) -> dict[str, list[dict[str, Any]]]:
    """measure -> the per-mu cells :func:`compute_indicators` stored for ``period`` (the rows of
    :func:`per_mu_breakdown` as they were at the computation; empty lists when the period was
    never computed) — what the bulletin's 主导产业 / 乡镇 rankings read."""
    keys = {"plan_id": config.plan_id, "period": Period.parse(period).text}
    with engine.connect() as conn:
        return {m: [dict(r) for r in sql.query(conn, "mart/per_mu_cells", {**keys, "measure": m})]
                for m in PER_MU_MEASURES}
