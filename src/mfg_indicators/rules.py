"""The warehouse's warning rules for a month: what the warehouse says, not the arrival order.

A rule that compares one feed with *another* table — an enterprise not in the registry, a 规上
enterprise without tax, no registry at all, a month-on-month jump or a falling 1—N月累计 value
against the previous month's delivery, the enterprises' 工业增加值 against the bureau's figure —
gives a different answer at ingest depending on which delivery came first (the 2023 名录 arrives in
spring, after January's tax data). These rules are therefore evaluated when the month is
computed, on the core tables as they are then, for the report's months (January up to the month
of the report): every arrival order of the same deliveries gives the same warnings.

What stays at ingest (stored in ``validation_warning`` with its delivery) is what depends on the
delivery alone: the GX suites' warnings and ``above_scale_no_land`` (a registry delivery's own
rows). Copies of the rules below stored by earlier versions are not served (``WAREHOUSE_RULES``).

Each rule is one file in ``include/sql/rules/`` (commented with the rule it implements; mom_jump and
cumulative_decrease give their conditions to ``consecutive_months.sql``, one statement per table), run
through :mod:`mfg_indicators.sql`; this module turns the rows into Chinese findings.

    month_warnings(conn, config, period) -> list[Finding]   the rules, in WARNING_ORDER
    warning_sort_key(item) -> tuple                          the one order of a month's warnings
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from . import feeds, sql
from .findings import WARNING, Finding

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy import Connection

    from .config import PlanConfig

# Rules evaluated from the warehouse when a month is computed (never served from ingest copies).
WAREHOUSE_RULES = ("registry_empty", "not_in_registry", "mom_jump", "cumulative_decrease",
                   "above_scale_no_tax", "reconciliation")

ENTERPRISE_TABLES = (feeds.TAX, feeds.ENERGY, feeds.STATS_ENTERPRISE)
# month-on-month jump: (column, within the calendar year only — for 1–N月累计 values)
JUMP_MEASURES = {
    "tax": (("total_tax", False),),
    "energy": (("energy_tce", False), ("electricity", False)),
    "stats_enterprise": (("value_added", True), ("revenue", True)),
}
CUMULATIVE_COLUMNS = ("gross_output", "value_added", "revenue", "rd_expense")
RECONCILE_INDICATOR = "规上工业增加值"  # 亿元, the bureau's level figure
YI_TO_WAN = 10000  # 亿元 -> 万元


def warning_sort_key(item: dict[str, Any] | Finding) -> tuple:
    """The one order of a month's warnings on every warehouse: by source, table, period (undated
    first), USCC (none first), rule, message — compared as Python strings (code points), since
    PostgreSQL's collation would order Chinese text and NULLs differently from SQLite."""
    get = item.get if isinstance(item, dict) else (lambda k: getattr(item, k, None))
    return tuple(str(get(k) or "") for k in ("source", "table", "period", "uscc", "rule", "message"))


def _fmt(v: Any) -> str:
    if v is None:
        return "（空）"
    v = round(float(v), 4)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else str(v)


def _months(period: str) -> list[str]:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        raise ValueError(f"period must be YYYY-MM, got {period!r}")
    return [f"{period[:4]}-{m:02d}" for m in range(1, int(period[5:7]) + 1)]


def _previous(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y - 1:04d}-12" if m == 1 else f"{y:04d}-{m - 1:02d}"


def _finding(t: feeds.Table, rule: str, message: str, message_en: str, *, column: str | None = None,
             uscc: Any = None, period: Any = None) -> Finding:
    return Finding(level=WARNING, source=t.source, rule=rule, message=message, message_en=message_en,
                   table=t.name, column=column, uscc=None if uscc is None else str(uscc),
                   period=None if period is None else str(period))


def month_warnings(conn: Connection, config: PlanConfig, period: str) -> list[Finding]:
    """The warehouse rules for the report on ``period`` (YYYY-MM), from the core tables as they
    are now; sorted by :func:`warning_sort_key`."""
    months = _months(period)
    window = {"year_start": months[0], "period": period, "year": int(period[:4])}

    def q(name: str, params: dict[str, Any] | None = None, **ctx: Any) -> list[Any]:
        return sql.query(conn, f"rules/{name}", {**window, **(params or {})}, dialect=conn.dialect.name, **ctx)

    out: list[Finding] = []
    for r in q("registry_empty", tables=ENTERPRISE_TABLES):
        t = feeds.TABLES[r["table_name"]]
        out.append(_finding(t, "registry_empty", f"企业名录尚未入库，{t.title}中{r['n']}家企业无法与名录核对",
                            f"no registry loaded yet: {r['n']} enterprises of {t.name} cannot be checked against it"))
    for r in q("not_in_registry", tables=ENTERPRISE_TABLES):
        t = feeds.TABLES[r["table_name"]]
        out.append(_finding(t, "not_in_registry", f"{t.title}中的企业{r['uscc']}（{r['name'] or '名称未填'}）不在企业名录中",
                            f"enterprise {r['uscc']} in {t.name} is not in the registry",
                            column=t.column("uscc").header, uscc=r["uscc"], period=r["period"]))
    out += _consecutive_months(q, config, months)
    t = feeds.TAX
    for r in q("above_scale_no_tax", {f"month_{i}": months[i] if i < len(months) else None for i in range(12)}):
        out.append(_finding(t, "above_scale_no_tax",
                            f"规上企业{r['uscc']}（{r['name'] or '名称未填'}，{r['roster_year']}年名录）{r['period']}无税收数据",
                            f"above-scale enterprise {r['uscc']} (roster {r['roster_year']}) has no tax for {r['period']}",
                            column=t.column("total_tax").header, uscc=r["uscc"], period=r["period"]))
    out += _reconciliation(q, config)
    return sorted(out, key=warning_sort_key)


def _consecutive_months(q, config: PlanConfig, months: list[str]) -> list[Finding]:
    """mom_jump and cumulative_decrease: per enterprise table ONE statement over every month pair
    of the report (rules/consecutive_months.sql), all of the table's checks on one join per pair
    (was one statement per month, column and rule)."""
    factor = float(config["quality"]["jump_factor"])
    out = []
    for t in ENTERPRISE_TABLES:
        columns: dict[str, list[tuple[str, bool]]] = {"mom_jump": list(JUMP_MEASURES[t.name])}
        if t is feeds.STATS_ENTERPRISE:  # January restarts the 1—N月 sums: within the year only
            columns["cumulative_decrease"] = [(c, True) for c in CUMULATIVE_COLUMNS]
        checks = [w for cols in columns.values() for _, w in cols]
        # a pair across New Year only when some check compares across years
        pairs = [(cur, _previous(cur)) for cur in months
                 if any(not within_year or _previous(cur)[:4] == cur[:4] for within_year in checks)]
        if not pairs:
            continue
        params: dict[str, Any] = {"factor": factor}
        for i, (cur, prv) in enumerate(pairs):
            params[f"cur_{i}"], params[f"prv_{i}"] = cur, prv
        for r in q("consecutive_months", params, t=t, columns=columns, n_pairs=len(pairs)):
            cur, prv, col = r["cur_period"], r["prv_period"], r["column_name"]
            head = t.column(col).header
            if r["rule"] == "mom_jump":
                message = (f"企业{r['uscc']}「{head}」环比变化超过{_fmt(factor)}倍：{prv}为{_fmt(r['prv_value'])}，"
                           f"{cur}为{_fmt(r['cur_value'])}，请核实（是否单位有误）")
                message_en = (f"{col} of {r['uscc']} changes more than {factor:g}x month on month: "
                              f"{prv} {r['prv_value']} -> {cur} {r['cur_value']}")
            else:
                message = (f"企业{r['uscc']}「{head}」为1—N月累计值，但{cur}（{_fmt(r['cur_value'])}）小于{prv}"
                           f"（{_fmt(r['prv_value'])}），请核实")
                message_en = f"cumulative {col} of {r['uscc']} decreases: {prv} {r['prv_value']} -> {cur} {r['cur_value']}"
            out.append(_finding(t, r["rule"], message, message_en, column=head, uscc=r["uscc"], period=cur))
    return out


def _reconciliation(q, config: PlanConfig) -> list[Finding]:
    t = feeds.STATS_ENTERPRISE
    tol = float(config["quality"]["reconciliation_tolerance_pct"])
    head = t.column("value_added").header
    out = []
    for r in q("reconciliation", {"indicator": RECONCILE_INDICATOR, "yi_to_wan": YI_TO_WAN, "tolerance_pct": tol}):
        total, value, n = float(r["total"]), float(r["value"]), r["n"]
        official = value * YI_TO_WAN
        pct = abs(total - official) / official * 100
        out.append(_finding(
            t, "reconciliation",
            f"{r['period']}企业月报{n}家企业工业增加值合计{_fmt(total)}万元，与统计局主要指标“规上工业增加值”"
            f"{_fmt(value)}亿元（{_fmt(official)}万元）相差{pct:.1f}%，超过{_fmt(tol)}%的容差",
            f"{r['period']}: sum of enterprise value added {total:.1f} (10k yuan, {n} enterprises) differs from "
            f"the bureau's {RECONCILE_INDICATOR} {value:g} 亿元 by {pct:.1f}% (> {tol:g}%)",
            column=head, uscc=RECONCILE_INDICATOR, period=r["period"]))
    return out
