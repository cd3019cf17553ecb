"""Plan facts the warehouse's views need, written from the plan configuration.

The statisticians' views (``v_industry_group``, ``v_per_mu_evaluated_set``) map industry codes
to 主导产业 and leave out the groups excluded from the 亩均 targets exactly as the computation
does. Those facts live in the configuration, not in SQL: every computation of a plan writes them
to ``plan_industry_group`` first (``include/sql/plan/industry_groups_*.sql``, one statement each).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from . import sql
from .config import PlanConfig


def industry_group_rows(config: PlanConfig) -> list[dict[str, Any]]:
    """One row per configured prefix in configuration order (first match wins), then the
    default group with prefix NULL."""
    excluded = set(config["per_mu_excluded_groups"])
    rows: list[dict[str, Any]] = []
    for g in config["industry_groups"]:
        for prefix in g["prefixes"]:
            rows.append({"industry_group": g["name"], "prefix": prefix})
    rows.append({"industry_group": config["industry_default_group"], "prefix": None})
    return [{**r, "plan_id": config.plan_id, "seq": n, "per_mu_excluded": int(r["industry_group"] in excluded)}
            for n, r in enumerate(rows, 1)]


def store_industry_groups(engine: Engine, config: PlanConfig) -> None:
    """Write the plan's industry groups (idempotent; its own READ COMMITTED transaction)."""
    rows = industry_group_rows(config)
    with engine.begin() as conn:
        conn.execute(sql.statement("plan/industry_groups_upsert"), rows)
        sql.execute(conn, "plan/industry_groups_prune", {"plan_id": config.plan_id, "last_seq": len(rows)})
