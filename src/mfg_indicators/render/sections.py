"""The bulletin's sections (bulletin.md → Contents), one function each, from the indicators
(:class:`~.indicator.Ind`), the plan configuration and what the warehouse reads returned. Every
function returns plain strings, lists and dicts, already phrased."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from typing import Any, Iterable, Mapping

from sqlalchemy.engine import Engine

from .. import phrasing as ph
from ..feeds import TABLES
from .indicator import Ind
from ..provenance import roster_and_deliveries
from .reads import _per_mu_cells, _query

log = logging.getLogger(__name__)

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


# --- 报头 and 报尾 ---------------------------------------------------------------------------

def masthead(config, period: str) -> dict[str, Any]:
    """Title (and its masthead lines), 第N期, 编印单位 (and its lines), the 印发 date, the e-mail
    subject — all from the configuration's ``bulletin`` block."""
    bcfg = config["bulletin"]
    number = ph.issue_number(bcfg, period)
    issued = ph.issue_date(period)
    return {
        "title": bcfg["title"],
        "title_lines": list(bcfg.get("title_lines") or [bcfg["title"]]),
        "subject": ph.bulletin_subject(bcfg, period),
        "issue_number": number,
        "issue_no": f"第{number}期",
        "editor": bcfg["editor"],
        "editor_lines": list(bcfg.get("editor_lines") or [bcfg["editor"]]),
        "issue_date": ph.date_cn(issued),
        "issue_date_iso": issued.isoformat(),
    }


def distribution_section(config) -> list[dict[str, str]]:
    """报/送/发 lines from the configuration (empty lists are left out)."""
    dist = config["bulletin"].get("distribution") or {}
    return [{"label": k, "text": "，".join(v) + "。"} for k, v in dist.items() if v]


# --- 一、总体情况 — 三、分攻坚组进展 ------------------------------------------------------------

def overview_section(inds: list[Ind], year: int, month: int, headline_codes: Iterable[str]) -> str:
    """How many indicators are tracked, by status word (none with 0), then the headline figures
    of the configured codes."""
    text_ = (f"{year}年{ph.month_range(month)}，攻坚行动纳入监测的主要指标共{ph.count(len(inds), '项')}，其中"
             + ph.status_tally(i.status_word for i in inds) + "。")
    by_code = {i.code: i for i in inds}
    heads = [by_code[c].headline() for c in headline_codes if c in by_code]
    if heads:
        text_ += "；".join(heads) + "。"
    return text_


def table_section(inds: list[Ind], month: int) -> dict[str, Any]:
    """二、主要指标完成情况: one row per indicator, and the legend under the table."""
    return {
        "columns": ["序号", "指标", "单位", "目标", f"{ph.month_range(month)}完成", "完成率", "序时进度",
                    "状态", "牵头单位"],
        "rows": [ind.table_row(n) for n, ind in enumerate(inds, 1)],
        "legend": "状态：绿色为已完成目标、达到序时进度或达到目标，黄色为略低于序时进度或接近目标，"
                  "红色为明显落后序时进度或低于目标，灰色为暂无数据。"
                  + ("完成率为完成值（折年值）占目标的比例；" if month < 12 else "完成率为完成值占目标的比例；")
                  + "序时进度仅适用于累计和当年目标，其余指标对照目标判断状态。",
    }


def group_names_of(config, inds: list[Ind]) -> list[str]:
    """The configured groups in order, then groups only the document names."""
    names = [g["name"] for g in config["groups"]]
    return names + sorted({i.group for i in inds} - set(names))


def group_sections(config, inds: list[Ind]) -> list[dict[str, Any]]:
    """三、分攻坚组进展: per group with indicators, its lead unit, tally and sentences."""
    groups = []
    lead_units = config.group_leads
    for g in group_names_of(config, inds):
        members = [i for i in inds if i.group == g]
        if not members:
            continue
        lead = lead_units.get(g)
        summary = ((f"本组由{lead}牵头，" if lead else "本组")
                   + f"监测指标{ph.count(len(members), '项')}："
                   + ph.status_tally(i.status_word for i in members) + "。")
        groups.append({"heading": f"{ph.ordinal_subheading(len(groups) + 1)}{g}", "name": g,
                       "summary": summary, "sentences": [i.sentence() for i in members]})
    return groups


# --- 五、存在问题, 六、下步工作 -----------------------------------------------------------------

def lagging_of(inds: list[Ind]) -> list[Ind]:
    """Red indicators, then yellow ones, each in document order."""
    return [i for i in inds if i.status == "red"] + [i for i in inds if i.status == "yellow"]


def problems_section(inds: list[Ind]) -> dict[str, Any]:
    lagging = lagging_of(inds)
    if lagging:
        intro = (f"对照目标和序时进度，共有{ph.count(len(lagging), '项')}指标未达到要求，其中"
                 + ph.status_tally((i.status_word for i in lagging), order=ph.LAGGING_WORD_ORDER) + "：")
    else:
        intro = "本期没有低于序时进度或目标的指标。"
    no_data = sum(1 for i in inds if i.status == "no_data")
    return {
        "problems_intro": intro,
        "problems": [f"{k}. {i.problem()}" for k, i in enumerate(lagging, 1)],
        "problems_tail": f"另有{ph.count(no_data, '项')}指标暂无数据，原因见附件。" if no_data else "",
    }


def next_steps_section(config, inds: list[Ind]) -> dict[str, Any]:
    """Only for groups with a lagging indicator, text from the configuration (never invented)."""
    lagging = lagging_of(inds)
    steps_cfg = config["bulletin"].get("next_steps") or {}
    steps = []
    for g in group_names_of(config, inds):
        if not any(i.group == g for i in lagging):
            continue
        text_ = steps_cfg.get(g)
        if not text_:
            log.warning("bulletin.next_steps has no text for lagging group %s", g)
            continue
        steps.append({"heading": f"{ph.ordinal_subheading(len(steps) + 1)}{g}", "text": text_})
    return {"next_steps": steps,
            "next_steps_empty": "" if steps else "各攻坚组指标均达到序时进度或目标，按计划继续推进。"}


# --- charts ----------------------------------------------------------------------------------

def status_chart(inds: list[Ind], groups: list[dict[str, Any]], year: int, month: int) -> dict[str, Any]:
    return {"groups": [g["name"] for g in groups],
            "counts": {s: [sum(1 for i in inds if i.group == g["name"] and i.status == s) for g in groups]
                       for s in ph.STATUS_ORDER},
            "labels": dict(ph.STATUS_LEGEND_WORDS),
            "fills": {s: ph.status_fill(s) for s in ph.STATUS_ORDER},
            "title": f"{year}年{ph.month_range(month)}各攻坚组指标状态（项）"}


def per_mu_chart(chart: Mapping[str, Any], inds: list[Ind], year: int, month: int) -> dict[str, Any]:
    targets = {(i.cfg.get("params") or {}).get("measure"): i.target
               for i in inds if i.cfg.get("method") == "per_mu"}
    return {**chart, "tax_target": targets.get("tax"), "va_target": targets.get("value_added"),
            "month": month,
            "title": f"{year}年{ph.month_range(month)}主导产业亩均效益（{'折年，' if month < 12 else ''}万元/亩）"}


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


def _per_mu_rankings(engine: Engine, config, period: str, inds: dict[str, Ind], *,
                     cells: Mapping[str, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """``cells``: measure (tax, value_added) -> the period's mart_per_mu cells, when already read."""
    y, month = ph.parse_period(period)

    excluded = list(config["per_mu_excluded_groups"])
    group_names = [g["name"] for g in config["industry_groups"]]
    default = config["industry_default_group"]
    if default not in group_names:
        group_names.append(default)

    # (dimension, key, measure) -> [enterprises, land, amount]
    agg: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    cells = cells if cells is not None else _per_mu_cells(engine, config, period)
    for measure in ("tax", "value_added"):
        for c in cells[measure]:
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
        # the header of the annualized columns: 折年 only before December (the year's own figure then)
        "annual_header": "折年" if month < 12 else "全年",
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
    ry, used = deliveries if deliveries is not None else roster_and_deliveries(engine, config, period)
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
        for w in _query(engine, "validation_warnings", {"ids": ids}):
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


# The charts in reading order: the status overview sits under the main table (二), the growth
# series closes 三、分攻坚组进展, the per-mu chart is in 四 — numbered 图1, 图2, 图3 in that order.
FIGURE_ORDER = ("status", "growth", "per_mu")


def captions(year: int, month: int, growth_ind: Ind | None) -> dict[str, str]:
    mr = ph.month_range(month)
    target = ph.rate(growth_ind.target) if growth_ind and growth_ind.target is not None else None
    texts = {
        "status": "各攻坚组指标状态",
        "growth": f"{year}年规上工业增加值累计增速" + (f"与目标（{target}）" if target else ""),
        "per_mu": f"主导产业亩均税收、亩均增加值（{mr}{'折年' if month < 12 else ''}）",
    }
    return {key: f"图{n}  {texts[key]}" for n, key in enumerate(FIGURE_ORDER, 1)}
