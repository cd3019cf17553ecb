"""The month's indicators document, ``indicators-YYYY-MM.json`` (indicators.md -> Output
contract): built from a computation and the month's warnings, written, read back.

Public API::

    live_warnings(engine, period, config) -> list[dict]   # the month's warnings, output form
    indicators_document(config, period, result, *, warnings, rejected) -> dict
    build_document(engine, config, result, *, rejected) -> dict  # the two above, as both runs do
    store_warnings(engine, config, document)             # its warnings into mart_month_warning
    write_indicators_json(out_dir, document) -> Path
    read_document(path) -> dict

The CLI ``run`` and the monthly DAG build the document through :func:`build_document`, so the
same warehouse gives the same document either way (mfg_indicators.month).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import PlanConfig

if TYPE_CHECKING:  # pragma: no cover
    from .compute import ComputeResult

# The keys of one indicator in indicators-YYYY-MM.json, in order (indicators.md -> Output contract).
INDICATOR_KEYS = ("code", "name", "unit", "kind", "value", "annualized", "target", "progress",
                  "time_progress", "status", "as_of", "group", "responsible_units", "notes")


def live_warnings(engine, period: str, config: PlanConfig | None = None) -> list[dict[str, Any]]:
    """The month's warnings for ``indicators-YYYY-MM.json`` and the bulletin: the warehouse rules
    evaluated now on the core tables for January up to ``period`` (:mod:`mfg_indicators.rules`, so
    they do not depend on the order deliveries arrived in), and the ingest-time warnings of the
    deliveries whose rows are still in core (a corrected month's old delivery no longer counts),
    for periods of year Y up to month N (or undated); in one order on every warehouse
    (``rules.warning_sort_key``)."""
    from . import sql
    from .compute import read_session
    from .config import load_config
    from .feeds import TABLES
    from .rules import WAREHOUSE_RULES, month_warnings, warning_sort_key

    config = config if config is not None else load_config()
    params = {"year_start": f"{period[:4]}-01", "period": period, "warehouse_rules": list(WAREHOUSE_RULES)}
    with engine.connect() as conn, conn.begin():
        # the computation's settings (PostgreSQL: work_mem for the rules' year-long hash joins,
        # no JIT); one transaction, so the rules read one state of the warehouse
        read_session(conn)
        stored = sql.query(conn, "annex/live_warnings", params, tables=list(TABLES.values()))
        computed = month_warnings(conn, config, period)
    rows = [dict(r) for r in stored] + [
        {"source": f.source, "uscc": f.uscc, "message": f.message, "table_name": f.table, "rule": f.rule,
         "period": f.period} for f in computed]
    out = []
    for r in rows:
        item = {"source": r["source"], "uscc": r["uscc"], "message": r["message"],
                "table": r["table_name"], "rule": r["rule"]}
        if r["period"] is not None:
            item["period"] = r["period"]
        out.append(item)
    return sorted(out, key=warning_sort_key)


def indicators_document(config: PlanConfig, period: str, result: ComputeResult | list[dict[str, Any]], *,
                        warnings: list[dict[str, Any]], rejected: list[dict[str, Any]]) -> dict[str, Any]:
    """The indicators-YYYY-MM.json document (indicators.md -> Output contract).

    ``warnings``: warnings already in output form (e.g. from ingestion); the computation's own
    warnings (enterprises left out of an evaluated set, ``result.warnings``) follow them unless
    the caller already included them (no warning appears twice). ``rejected``: rejected
    deliveries (``Finding.as_rejection()`` dicts)."""
    from .compute import ComputeResult, Period

    p = Period.parse(period)
    inds = list(result.indicators if isinstance(result, ComputeResult) else result)
    codes = [i["code"] for i in inds]
    expected = [i["code"] for i in config.indicators]
    if codes != expected:
        raise ValueError(f"indicator list does not match the configuration: {codes} != {expected}")
    out_warnings = list(warnings)
    if isinstance(result, ComputeResult):
        out_warnings += [w for w in (f.as_warning() for f in result.warnings) if w not in out_warnings]
    return {
        "county": config.county,
        "plan": config.document,
        "period": p.text,
        "indicators": [{k: ind[k] for k in INDICATOR_KEYS} for ind in inds],
        "warnings": out_warnings,
        "rejected": list(rejected),
    }


def build_document(engine, config: PlanConfig, result: ComputeResult, *,
                   rejected: list[dict[str, Any]]) -> dict[str, Any]:
    """The document of a computed month: its indicators, the month's warnings from the warehouse
    (:func:`live_warnings`, then the computation's own) and the ``rejected`` deliveries."""
    return indicators_document(config, result.period, result,
                               warnings=live_warnings(engine, result.period, config), rejected=rejected)


def store_warnings(engine, config: PlanConfig, document: dict[str, Any]) -> int:
    """The document's warnings, in its order, into ``mart_month_warning`` (the month's rows
    replaced): what statisticians and the dashboard read (view ``v_month_warnings``) is the list
    the bulletin carries. Returns the number of rows."""
    from . import sql
    from .load import lock_named
    from .warehouse import immediate

    keys = {"plan_id": config.plan_id, "period": document["period"]}
    rows = [{**keys, "seq": i, "source": w["source"], "table_name": w.get("table"), "rule": w.get("rule"),
             "uscc": w.get("uscc"), "warning_period": w.get("period"), "message": w["message"]}
            for i, w in enumerate(document["warnings"], start=1)]
    with immediate(engine) as conn:  # two runs documenting the same month take turns
        lock_named(conn, f"month_warnings:{config.plan_id}:{document['period']}")
        sql.execute(conn, "mart/month_warnings_delete", keys)
        if rows:
            conn.execute(sql.statement("mart/month_warnings_insert"), rows)
    return len(rows)


def write_indicators_json(out_dir: Path, document: dict[str, Any]) -> Path:
    """Write ``indicators-YYYY-MM.json`` (UTF-8, Chinese kept as is) atomically; return its path."""
    from .compute import Period

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"indicators-{Period.parse(document['period']).text}.json"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_document(path: Path) -> dict[str, Any]:
    """An ``indicators-YYYY-MM.json`` written by :func:`write_indicators_json`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
