"""A sample bulletin input, for looking at the output and for tests: a small warehouse state for
one report month (registry, tax, 企业月报, 主要指标, deliveries, validation warnings) and an
indicators document in the Output contract's shape whose statuses cover every case (done,
green, yellow, red, no_data; negative and zero growth; quarterly as_of).

Deterministic (fixed seed). Not used by the pipeline itself.

    .venv/bin/python -m mfg_indicators.sample.bulletin OUT_DIR [--period 2023-06]
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from pathlib import Path
from typing import Any

from sqlalchemy import text

from .. import uscc as uscc_mod

# per code: (value, status, extra) for a June report; values per indicators.md kinds
_SAMPLE_VALUES: dict[str, tuple[Any, str, dict[str, Any]]] = {
    "T01": (43.2, "yellow", {"as_of": "Q"}),
    "T02": (8.4, "red", {}),
    "T02A": (13.1, "yellow", {}),
    "T05": (7.05, "green", {}),
    "T06": (3.8, "green", {"as_of": "Q"}),
    "T07": (12, "yellow", {}),
    "T08A": (205.5, "done", {}),
    "T08B": (30, "red", {}),
    "T08C": (0.52, "green", {}),
    "T08D": (1.2, "yellow", {}),
    "T09A": (6, "red", {}),
    "T09B": (-4.1, "red", {}),
    "T09BA": (0.04, "red", {}),
    "T10A": (1, "done", {}),
    "T10B": (2, "red", {}),
    "T11": (1.12, "green", {}),
    "K01": (0.09, "yellow", {}),
    "K02": (100, "green", {}),
    "K03": (0, "red", {}),
    "K04": (0.85, "green", {}),
    "K05": (26, "yellow", {}),
    "K06": (None, "no_data", {"notes": ["任务月报未报送K06（县科技局），不按零计算"]}),
    "K07": (4.2, "green", {}),
    "K08": (3, "done", {}),
    "K09": (1, "red", {}),
    "K10": (17, "green", {}),
    "K11": (10, "green", {}),
    "K12": (1, "red", {}),
    "K13": (2.6, "green", {}),
    "K14": (2, "red", {}),
    "K15": (1, "done", {}),
    "K16": (2, "yellow", {}),
    "K17": (13, "green", {}),
    "K18": (72.5, "yellow", {}),
    "K19": (None, "no_data", {"notes": ["任务月报中尚无2023年K19数据"]}),
}

INDUSTRY_CODES = {"木玩": ["2451", "2452", "2459"], "钢压延": ["3130"], "轴承": ["3451", "3452"],
                  "阀门": ["3443"], "其他": ["1320", "2929", "3899"]}


def _uscc(i: int) -> str:
    return uscc_mod.make(f"91331125MA2{i:06d}")


def _sha(label: str) -> str:
    return hashlib.sha256(label.encode("utf-8")).hexdigest()


def seed_warehouse(engine, config, period: str = "2023-06", *, seed: int = 7) -> dict[str, Any]:
    """Fill a migrated, empty warehouse with a sample state for ``period`` and compute the month
    (its marts, which the bulletin reads, as a run would). Returns the per-mu totals (Σ numerator
    / Σ land over the evaluated set, 钢压延 out) computed here in Python, independently of the
    bulletin's SQL."""
    rnd = random.Random(seed)
    y, n = int(period[:4]), int(period[5:7])
    towns = list(config["towns"])
    received = dt.datetime(y + (n == 12), n % 12 + 1, 3, 9, 15)
    deliveries: list[dict[str, Any]] = []
    tables: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []

    def delivery(source: str, name: str, table: str, rows: int, periods: list[Any], when: dt.datetime) -> str:
        did = _sha(f"{source}/{name}")
        deliveries.append({"delivery_id": did, "source": source, "file_name": name,
                           "archive_path": f"archive/{source}/{did}", "size_bytes": 1000 + rows,
                           "file_mtime": when, "received_at": when, "status": "accepted",
                           "row_count": rows, "periods": json.dumps(periods, ensure_ascii=False),
                           "report": "{}"})
        tables.append({"delivery_id": did, "table_name": table, "sheet": None, "row_count": rows,
                       "periods": json.dumps(periods, ensure_ascii=False)})
        return did

    # registry: 48 enterprises, every group, most towns; a few with no land or not 规上
    registry, ents = [], []
    reg_id = delivery("registry", f"{y}年规上工业企业名录.xlsx", "registry", 48, [y],
                      dt.datetime(y, 3, 1, 10, 0))
    groups = ["木玩"] * 16 + ["轴承"] * 9 + ["阀门"] * 8 + ["其他"] * 10 + ["钢压延"] * 5
    for i, grp in enumerate(groups):
        code = INDUSTRY_CODES[grp][i % len(INDUSTRY_CODES[grp])]
        town = towns[(i * 3) % 7] if grp != "钢压延" else towns[5]
        land = round(rnd.uniform(8, 120), 2) if i % 17 != 5 else 0.0
        above = 0 if i % 19 == 7 else 1
        e = {"uscc": _uscc(i + 1), "name": f"样例{grp}企业{i + 1:02d}有限公司", "industry_code": code,
             "town": town, "land_mu": land, "is_above_scale": above, "roster_year": y,
             "delivery_id": reg_id}
        registry.append(e)
        ents.append(e)

    # tax: monthly, months 1..n; some enterprises miss months or never report
    tax_rows = []
    for m in range(1, n + 1):
        p = f"{y}-{m:02d}"
        did = delivery("tax", f"{y}年{m}月规上企业税收.xlsx", "tax", len(ents), [p],
                       dt.datetime(y + (m == 12), m % 12 + 1, 5, 8, 30))
        for i, e in enumerate(ents):
            if i % 13 == 4:
                continue  # never reports: left out of the evaluated set
            if i % 11 == 3 and m == 2:
                total = None  # empty cell: the enterprise leaves the tax set
            else:
                total = round(e["land_mu"] * rnd.uniform(0.6, 2.2) + rnd.uniform(0, 5), 2)
            if i == 9 and m == n:
                total = -12.5  # a refund month (legal, with a warning)
            tax_rows.append({"uscc": e["uscc"], "name": e["name"], "period": p, "vat": None, "cit": None,
                             "other_tax": None, "total_tax": total, "delivery_id": did})
    tax_id = tables[-1]["delivery_id"]

    # 企业月报 at n (1–N月累计); 主要指标 series
    stats_id = delivery("stats", f"{y}年{n}月统计月报.xlsx", "stats_enterprise", len(ents), [period], received)
    tables.append({"delivery_id": stats_id, "table_name": "stats_county", "sheet": "主要指标",
                   "row_count": 2 * n + 12, "periods": json.dumps([period])})
    stats_rows = []
    for i, e in enumerate(ents):
        va = None if i % 23 == 8 else round(e["land_mu"] * rnd.uniform(25, 60) * n / 12 + 50, 2)
        stats_rows.append({"uscc": e["uscc"], "name": e["name"], "period": period, "gross_output": None,
                           "value_added": va, "revenue": None, "rd_expense": None, "employees": None,
                           "delivery_id": stats_id})
    prev_id = delivery("stats", f"{y - 1}年统计月报汇总.xlsx", "stats_county", 12,
                       [f"{y - 1}-{m:02d}" for m in range(1, 13)], dt.datetime(y, 1, 20, 9, 0))
    county = []
    prev_series = [9.8, 10.5, 11.2, 12.0, 12.4, 12.9, 13.3, 13.0, 13.6, 14.1, 14.4, 14.8]
    cur_series = [6.1, 6.8, 7.5, 7.9, 8.1, 8.4, 9.0, 9.4, 9.9, 10.2, 10.8, 11.3]
    for m in range(1, 13):
        county.append({"indicator_name": "规上工业增加值增速", "period": f"{y - 1}-{m:02d}", "scope": "累计",
                       "value": prev_series[m - 1], "unit": "%", "delivery_id": prev_id})
    for m in range(2, n + 1):  # no January figure (published with February)
        county.append({"indicator_name": "规上工业增加值增速", "period": f"{y}-{m:02d}", "scope": "累计",
                       "value": cur_series[m - 1], "unit": "%", "delivery_id": stats_id})

    warnings.append({"delivery_id": tax_id, "seq": 1, "source": "tax", "table_name": "tax",
                     "uscc": ents[9]["uscc"], "period": period, "rule": "negative_tax",
                     "message": "税收实际贡献为负数（-12.50万元），属退税月份，请核实"})
    warnings.append({"delivery_id": stats_id, "seq": 1, "source": "stats", "table_name": "stats_enterprise",
                     "uscc": ents[3]["uscc"], "period": period, "rule": "rd_ratio",
                     "message": "研发费用（R&D）超过营业收入的10%，请核实"})
    warnings.append({"delivery_id": reg_id, "seq": 1, "source": "registry", "table_name": "registry",
                     "uscc": ents[5]["uscc"], "period": str(y), "rule": "no_land",
                     "message": "用地面积为空或为0，未纳入亩均评价"})

    with engine.begin() as conn:
        for table, rows in (("raw_delivery", deliveries), ("delivery_table", tables),
                            ("core_registry", registry), ("core_tax", tax_rows),
                            ("core_stats_enterprise", stats_rows), ("core_stats_county", county),
                            ("validation_warning", warnings)):
            if rows:
                cols = list(rows[0])
                conn.execute(text(f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
                                  f"({', '.join(':' + c for c in cols)})"), rows)

    from ..compute import compute_indicators

    compute_indicators(engine, config, period)

    # the independent per-mu totals (indicators.md T03/T04)
    excluded_codes = {"3130"}
    tax_sum: dict[str, float] = {}
    tax_months: dict[str, int] = {}
    for r in tax_rows:
        if r["total_tax"] is not None:
            tax_sum[r["uscc"]] = tax_sum.get(r["uscc"], 0.0) + r["total_tax"]
            tax_months[r["uscc"]] = tax_months.get(r["uscc"], 0) + 1
    tax_seen = {u for u, k in tax_months.items() if k == n}  # every month 1..N reported
    va = {r["uscc"]: r["value_added"] for r in stats_rows if r["value_added"] is not None}
    evaluated = [e for e in ents if e["is_above_scale"] and e["land_mu"] > 0 and e["industry_code"] not in excluded_codes]
    t_set = [e for e in evaluated if e["uscc"] in tax_seen]
    v_set = [e for e in evaluated if e["uscc"] in va]
    return {
        "tax_per_mu": sum(tax_sum[e["uscc"]] for e in t_set) / sum(e["land_mu"] for e in t_set),
        "va_per_mu": sum(va[e["uscc"]] for e in v_set) / sum(e["land_mu"] for e in v_set),
        "tax_enterprises": len(t_set),
        "va_enterprises": len(v_set),
        "negative_tax_uscc": ents[9]["uscc"],
        "deliveries": [d["delivery_id"] for d in deliveries],
    }


def sample_document(config, period: str = "2023-06", *, per_mu: dict[str, float] | None = None) -> dict[str, Any]:
    """An indicators document (indicators.md → Output contract) for ``period``."""
    y, n = int(period[:4]), int(period[5:7])
    months_elapsed = (y - int(config.window_start[:4])) * 12 + n
    q_month = (n // 3) * 3
    q_as_of = f"{y}-{q_month:02d}" if q_month else f"{y - 1}-12"
    per_mu = per_mu or {"tax_per_mu": 8.41, "va_per_mu": 36.2}
    inds = []
    for cfg in config.indicators:
        code, kind, target = cfg["code"], cfg["kind"], cfg["target"]
        if cfg.get("method") == "per_mu":
            value = per_mu["tax_per_mu" if cfg["params"]["measure"] == "tax" else "va_per_mu"]
            status = "green" if value * 12 / n >= target else ("yellow" if value * 12 / n >= 0.9 * target else "red")
            extra: dict[str, Any] = {}
        else:
            value, status, extra = _SAMPLE_VALUES[code]
        annualized = value * 12 / n if kind == "annualized" and value is not None else None
        tp = months_elapsed / config.window_months if kind == "cumulative" else (n / 12 if kind == "this_year" else None)
        progress = None
        if value is not None:
            progress = (annualized if annualized is not None else value) / target if kind != "rate" else None
        as_of = q_as_of if extra.get("as_of") == "Q" else period
        inds.append({
            "code": code, "name": cfg["name"], "unit": cfg["unit"], "kind": kind, "value": value,
            "annualized": annualized, "target": target, "progress": progress, "time_progress": tp,
            "status": status, "as_of": as_of if value is not None else None, "group": cfg["group"],
            "responsible_units": config.responsible_units(code), "notes": list(extra.get("notes", [])),
        })
    return {
        "county": config.county, "plan": config.document, "period": period, "indicators": inds,
        "warnings": [
            {"source": "stats", "uscc": "", "message": "企业月报工业增加值合计与主要指标规上工业增加值相差6.2%，超过5%容差"},
            {"source": "tax", "uscc": _uscc(5), "message": "本企业1—6月无税收记录，未纳入亩均税收评价"},
        ],
        "rejected": [
            {"file": "2023年6月能耗.csv", "sheet": None, "row": 12, "column": "统一社会信用代码",
             "reason": "统一社会信用代码校验位错误"},
        ],
    }


def render_sample(config, period: str, root: Path) -> dict[str, Any]:
    """Seed a sample warehouse ``root/wh.sqlite`` for ``period`` and render its bulletin into
    ``root/out``: ``{"paths", "doc", "totals", "engine", "root"}`` (the caller disposes of the
    engine). The tests' and ``main``'s one way to a rendered sample bulletin."""
    from ..render import render_bulletin
    from ..warehouse import connect

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    engine = connect(f"sqlite:///{root / 'wh.sqlite'}")
    totals = seed_warehouse(engine, config, period)
    doc = sample_document(config, period, per_mu=totals)
    paths = render_bulletin(engine, config, doc, root / "out")
    return {"paths": paths, "doc": doc, "totals": totals, "engine": engine, "root": root}


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - a convenience for looking
    import argparse

    from ..config import load_config
    from ..render import render_bulletin
    from ..warehouse import connect

    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--period", default="2023-06")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    db = args.out / "sample-warehouse.sqlite"
    db.unlink(missing_ok=True)
    engine = connect(f"sqlite:///{db}")
    config = load_config()
    totals = seed_warehouse(engine, config, args.period)
    doc = sample_document(config, args.period, per_mu=totals)
    (args.out / f"indicators-{args.period}.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1),
                                                             encoding="utf-8")
    for k, p in render_bulletin(engine, config, doc, args.out).items():
        print(k, p)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
