"""The annual 亩均效益综合评价 (classes A/B/C/D) and the 低效企业清单 (plan task （一）1 and 3).

Method (浙政发〔2018〕5号 and county practice), configured per evaluated year in
``config/evaluation/YYYY.yaml`` (checked against ``config/evaluation/schema.json``):

- **Who**: every enterprise of the year's roster (名录年份 = year, else the latest earlier roster)
  with 用地面积 ≥ ``scope.min_land_mu`` (3 亩). Left out, and *listed* with the reason
  (``mart_evaluation_enterprise.excluded = 1``): land below the minimum, named enterprises,
  configured industry prefixes (公用事业 44/45/46), enterprises "registered under two years", and
  enterprises lacking data for an item whose ``missing_rule`` is ``exclude``.
- **Registered under N years**: the feeds carry no registration date, so the first 名录年份 the
  enterprise appears in stands for it: new when ``year − first 名录年份 < N``. An enterprise
  first seen in the earliest roster the warehouse holds is not treated as new (the roster history
  starts there, its real age is unknown).
- **Figures of the year**: Σ monthly 税收实际贡献, 综合能源消费量, 用电量 over months 1–12; the
  statistics (1–N月累计) at the latest month of the year delivered (month 12 normally), never a
  sum of months.
- **Items** (:data:`ITEMS`): 规上 亩均税收, 亩均增加值, 单位能耗增加值, 单位排放增加值 (no feed: its
  ``missing_rule`` gives it the 规上 average score), 全员劳动生产率, R&D经费支出占营业收入比重; 规下
  亩均税收 and 单位电耗税收.
- **Score** = Σ weight × clamp(value ÷ benchmark, floor, cap), rounded to ``score_decimals``
  before ranking. A benchmark is a number or ``county_average`` (Σ numerator ÷ Σ denominator over
  the year's evaluated enterprises of the scale).
- **Classes**, per scale (规上 and 规下 ranked separately): ``percentile`` (cumulative shares by
  rank, e.g. A ≤ 20 %, B ≤ 60 %, C ≤ 95 %, D the rest; with ``ties: better`` every enterprise of
  a tie counts at the tie's best position, so a tie straddling a boundary gets the better class)
  or ``thresholds`` (minimum score per class).
- **低效企业清单**: the configured classes (D) plus the "三低" rules (e.g. 规上 亩均税收 < 6).

Set-based work is SQL (``include/sql/evaluation/``): the enterprise figures and indicator values,
item scores with the missing-item rules, totals, ranks and classes (window functions), and the
bulletin's counts. Python applies the configured exclusions, writes the parameters, selects the
list and writes the xlsx.

Tables (migration 010): ``mart_evaluation_param``, ``mart_evaluation_enterprise``,
``mart_evaluation_item``, ``mart_evaluation``, ``mart_inefficient_list``, all keyed by
(plan_id, year, …) and replaced whole for (plan_id, year) on every recompute.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from .config import ConfigError, PlanConfig, load_checked_yaml
from . import sql
from .paths import CONFIG_DIR

EVAL_CONFIG_DIR = CONFIG_DIR / "evaluation"
CLASSES = ("A", "B", "C", "D")
SCALES = {"above": "规上", "below": "规下"}
SCALE_SECTIONS = {"above": "above_scale", "below": "below_scale"}


@dataclass(frozen=True)
class ItemDef:
    name: str
    unit: str
    numerator: str | None      # column of mart_evaluation_enterprise; None = no feed
    denominator: str | None
    factor: float = 1.0
    needs: str = ""            # the data an enterprise lacks when the value is missing (Chinese)


# The scored items the code knows how to compute (enterprise_year.sql computes the values).
ITEMS: dict[str, ItemDef] = {
    "tax_per_mu": ItemDef("亩均税收", "万元/亩", "tax_total", "land_mu", needs="税收"),
    "va_per_mu": ItemDef("亩均增加值", "万元/亩", "value_added", "land_mu", needs="工业增加值"),
    "va_per_energy": ItemDef("单位能耗增加值", "万元/吨标准煤", "value_added", "energy_tce",
                             needs="工业增加值或综合能源消费量"),
    "va_per_emission": ItemDef("单位排放增加值", "万元/吨", None, None, needs="排放量（无数据来源）"),
    "labour_productivity": ItemDef("全员劳动生产率", "万元/人", "value_added", "employees",
                                   needs="工业增加值或从业人员平均人数"),
    "rd_ratio": ItemDef("R&D经费支出占营业收入比重", "%", "rd_expense", "revenue", 100.0,
                        needs="研发费用或营业收入"),
    "tax_per_electricity": ItemDef("单位电耗税收", "万元/万千瓦时", "tax_total", "electricity",
                                   needs="税收或用电量"),
}

MISSING_RULE_TEXT = {
    "average_score": "无本项数据时按同规模企业本项平均得分计（均无数据时按平均得分率×权重计）",
    "reweight": "无本项数据时按企业其余指标得分率×权重计",
    "zero": "无本项数据时本项不得分",
    "exclude": "无本项数据的企业不参评（列入不参评名单）",
}
BASIS_TEXT = {
    "average_item_score": "按同规模企业本项平均得分计",
    "average_score_rate": "按同规模企业平均得分率×权重计",
    "reweight": "按企业其余指标得分率×权重计",
    "missing_zero": "本项不得分",
}


class EvaluationError(RuntimeError):
    """The evaluation cannot be computed (no roster for the year, …)."""


# --------------------------------------------------------------------------- configuration

@dataclass(frozen=True)
class EvaluationConfig:
    path: Path
    data: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    @property
    def year(self) -> int:
        return int(self.data["year"])

    def scale(self, code: str) -> dict[str, Any]:
        return self.data[SCALE_SECTIONS[code]]

    def item_params(self, code: str) -> list[dict[str, Any]]:
        """The items of a scale with the scale's defaults applied (cap 2, floor 0, zero)."""
        spec = self.scale(code)
        defaults = {"cap": 2.0, "floor": 0.0, "missing_rule": "zero", **spec.get("defaults", {})}
        return [{**defaults, **it} for it in spec["items"]]


def load_evaluation_config(source: str | Path | dict[str, Any]) -> EvaluationConfig:
    """Load and check an evaluation configuration (a YAML path, or a dict for tests and
    programmatic use); raise ConfigError naming what is wrong."""
    p, data = load_checked_yaml(source, EVAL_CONFIG_DIR / "schema.json", "evaluation configuration")
    problems = []
    for code, section in SCALE_SECTIONS.items():
        spec = data[section]
        keys = [it["item"] for it in spec["items"]]
        if len(keys) != len(set(keys)):
            problems.append(f"{section}: an item is listed twice")
        cls = spec["classification"]
        if cls["rule"] not in cls:
            problems.append(f"{section}.classification: rule {cls['rule']} needs its `{cls['rule']}` block")
        if "percentile" in cls:
            pa, pb, pc = (cls["percentile"][k] for k in "ABC")
            if not pa <= pb <= pc:
                problems.append(f"{section}.classification.percentile: A ≤ B ≤ C required (cumulative %)")
        if "thresholds" in cls:
            ta, tb, tc = (cls["thresholds"][k] for k in "ABC")
            if not ta >= tb >= tc:
                problems.append(f"{section}.classification.thresholds: A ≥ B ≥ C required")
        defaults = spec.get("defaults", {})
        for it in spec["items"]:
            cap, floor = it.get("cap", defaults.get("cap", 2)), it.get("floor", defaults.get("floor", 0))
            if floor > cap:
                problems.append(f"{section}.{it['item']}: floor {floor} above cap {cap}")
    rule_codes = [r["code"] for r in data["inefficient"]["rules"]]
    if len(rule_codes) != len(set(rule_codes)):
        problems.append("inefficient.rules: a code is used twice")
    if problems:
        raise ConfigError(f"{p}: " + "; ".join(problems))
    return EvaluationConfig(p, data)


def evaluation_config_path(config: PlanConfig, year: int) -> tuple[Path, str | None]:
    """Which evaluation configuration applies to ``year``, and a note when it is not the year's own.

    The plan configuration's ``evaluation.config`` (a path relative to the plan file, with
    ``{year}``) names it; without that key the convention ``config/evaluation/{year}.yaml``
    (next to the plan file) holds. When the year has no file, the latest earlier year's file is
    used, else the earliest later one — with a note saying so."""
    pattern = ((config.data.get("evaluation") or {}).get("config")
               or "evaluation/{year}.yaml")
    base = Path(config.path).parent
    own = base / pattern.format(year=year)
    if own.exists():
        return own, None
    # Other years' files matching the pattern.
    rx = re.compile("^" + re.escape(Path(pattern).name).replace(re.escape("{year}"), r"(\d{4})") + "$")
    folder = (base / pattern.format(year=year)).parent
    years = sorted(int(m.group(1)) for f in folder.glob("*") if (m := rx.match(f.name)))
    earlier = [y for y in years if y < year]
    later = [y for y in years if y > year]
    pick = earlier[-1] if earlier else (later[0] if later else None)
    if pick is None:
        raise ConfigError(f"no evaluation configuration for {year}: expected {own}")
    chosen = folder / Path(pattern.format(year=pick)).name
    return chosen, f"{year}年度无评价参数文件，沿用{pick}年度参数（{chosen.name}）"


# --------------------------------------------------------------------------- result

@dataclass
class EvaluationResult:
    plan_id: str
    year: int
    config_file: str
    evaluated: list[dict[str, Any]] = field(default_factory=list)    # mart_evaluation rows
    excluded: list[dict[str, Any]] = field(default_factory=list)     # excluded enterprises
    inefficient: list[dict[str, Any]] = field(default_factory=list)  # mart_inefficient_list rows
    params: list[dict[str, Any]] = field(default_factory=list)       # mart_evaluation_param rows
    notes: list[str] = field(default_factory=list)                   # Chinese

    def class_counts(self) -> dict[str, dict[str, int]]:
        """{scale: {class: n}} over the evaluated enterprises (scale codes above/below)."""
        out: dict[str, dict[str, int]] = {s: dict.fromkeys(CLASSES, 0) for s in SCALES}
        for r in self.evaluated:
            out[r["scale"]][r["class"]] += 1
        return out

    def class_shares(self) -> dict[str, float]:
        """Share of each class over all evaluated enterprises."""
        n = len(self.evaluated)
        counts = dict.fromkeys(CLASSES, 0)
        for r in self.evaluated:
            counts[r["class"]] += 1
        return {c: (counts[c] / n if n else 0.0) for c in CLASSES}


_TABLES = ("mart_inefficient_list", "mart_evaluation", "mart_evaluation_item",
           "mart_evaluation_enterprise", "mart_evaluation_param")


def _num(x: Any) -> float | None:
    return None if x is None else float(x)


def _exclusion(row: dict[str, Any], year: int, ec: EvaluationConfig) -> tuple[str, str] | None:
    """(code, Chinese reason) when the enterprise is left out, first applicable reason wins."""
    min_land = float(ec["scope"]["min_land_mu"])
    land = row["land_mu"]
    if land is None or land < min_land or land <= 0:
        return "land_below_min", f"用地面积不足{min_land:g}亩或未填报，不参评"
    ex = ec["exclusions"]
    for named in ex.get("enterprises", []) or []:
        if named["uscc"] == row["uscc"]:
            return "named", named["reason"]
    code = (row["industry_code"] or "").strip()
    for rule in ex.get("industry_prefixes", []) or []:
        if any(code.startswith(p) for p in rule["prefixes"]):
            return rule["code"], rule["reason"]
    years = ex.get("registered_under_years")
    first, earliest = row["first_roster_year"], row["earliest_roster_year"]
    if years and first > earliest and year - first < years:
        return "registered_recently", f"首次列入企业名录未满{years}年，不参评"
    for it in ec.item_params(row["scale"]):
        if it["missing_rule"] == "exclude" and row[it["item"]] is None:
            return ("missing_data",
                    f"缺少{ITEMS[it['item']].name}所需{ITEMS[it['item']].needs}数据，不参评")
    return None


def _benchmark(conn: Connection, plan_id: str, year: int, scale: str, item: str,
               configured: Any) -> tuple[float | None, str]:
    if configured != "county_average":
        return float(configured), "configured"
    d = ITEMS[item]
    if d.numerator is None:
        return None, "county_average"
    # Column names come from ITEMS (code), never from configuration.
    row = conn.execute(text(
        f"SELECT SUM({d.numerator}) AS num, SUM({d.denominator}) AS den "
        "FROM mart_evaluation_enterprise "
        f"WHERE plan_id = :plan_id AND year = :year AND scale = :scale AND excluded = 0 "
        f"AND {d.numerator} IS NOT NULL AND {d.denominator} > 0"),
        {"plan_id": plan_id, "year": year, "scale": scale}).mappings().one()
    if row["num"] is None or not row["den"]:
        return None, "county_average"
    value = float(row["num"]) / float(row["den"]) * d.factor
    return (value if value > 0 else None), "county_average"


def _rule_hits(row: dict[str, Any], rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    hits = []
    for r in rules:
        if r["scale"] != row["scale"]:
            continue
        if all(row.get(c["item"]) is not None and row[c["item"]] < c["below"] for c in r["all"]):
            hits.append(r)
    return hits


def evaluate_year(engine: Engine, config: PlanConfig, year: int, *,
                  eval_config: EvaluationConfig | str | Path | dict[str, Any] | None = None
                  ) -> EvaluationResult:
    """Evaluate every enterprise of ``year`` and write the mart tables (replacing the rows of
    (plan_id, year)); returns what was written. ``eval_config`` defaults to the year's file
    (:func:`evaluation_config_path`)."""
    notes: list[str] = []
    if eval_config is None:
        path, note = evaluation_config_path(config, year)
        ec = load_evaluation_config(path)
        if note:
            notes.append(note)
    elif isinstance(eval_config, EvaluationConfig):
        ec = eval_config
    else:
        ec = load_evaluation_config(eval_config)
    if ec.year != year and not notes:
        notes.append(f"评价参数文件为{ec.year}年度，用于{year}年度评价")
    plan_id = config.plan_id
    keys = {"plan_id": plan_id, "year": year}
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)

    with engine.begin() as conn:
        for t in _TABLES:
            conn.execute(text(f"DELETE FROM {t} WHERE plan_id = :plan_id AND year = :year"), keys)
        base = [dict(r) for r in conn.execute(sql.statement("evaluation/enterprise_year"), {
            "year": year, "p_first": f"{year}-01", "p_last": f"{year}-12"}).mappings()]
        if not base:
            raise EvaluationError(f"{year}年及以前没有企业名录（core_registry），无法开展亩均效益评价")
        if base[0]["roster_year"] != year:
            notes.append(f"{year}年企业名录未报送，沿用{base[0]['roster_year']}年名录")

        enterprise_rows = []
        for r in base:
            r = {k: (_num(v) if k in _FLOAT_COLS else v) for k, v in r.items()}
            r["scale"] = "above" if int(r["is_above_scale"]) else "below"
            r["industry_group"] = config.industry_group(r["industry_code"])
            why = _exclusion(r, year, ec)
            enterprise_rows.append({
                **keys, **{c: r[c] for c in _ENTERPRISE_COLS},
                "excluded": 1 if why else 0,
                "exclusion_code": why[0] if why else None,
                "exclusion_reason": why[1] if why else None})
        conn.execute(text(
            f"INSERT INTO mart_evaluation_enterprise (plan_id, year, {', '.join(_ENTERPRISE_COLS)}, "
            "excluded, exclusion_code, exclusion_reason) VALUES (:plan_id, :year, "
            f"{', '.join(':' + c for c in _ENTERPRISE_COLS)}, :excluded, :exclusion_code, "
            ":exclusion_reason)"), enterprise_rows)

        params = []
        for scale in SCALES:
            for it in ec.item_params(scale):
                bench, basis = _benchmark(conn, plan_id, year, scale, it["item"], it["benchmark"])
                params.append({**keys, "scale": scale, "item": it["item"],
                               "name": ITEMS[it["item"]].name, "unit": ITEMS[it["item"]].unit,
                               "weight": float(it["weight"]), "benchmark": bench,
                               "benchmark_basis": basis, "cap": float(it["cap"]),
                               "floor_ratio": float(it["floor"]),
                               "missing_rule": it["missing_rule"], "config_file": str(ec.path)})
        conn.execute(text(
            "INSERT INTO mart_evaluation_param (plan_id, year, scale, item, name, unit, weight, "
            "benchmark, benchmark_basis, cap, floor_ratio, missing_rule, config_file) VALUES "
            "(:plan_id, :year, :scale, :item, :name, :unit, :weight, :benchmark, :benchmark_basis, "
            ":cap, :floor_ratio, :missing_rule, :config_file)"), params)

        conn.execute(sql.statement("evaluation/item_scores"), keys)
        classify = sql.statement("evaluation/classify", score_decimals=int(ec["score_decimals"]))
        for scale in SCALES:
            cls = ec.scale(scale)["classification"]
            pct = cls.get("percentile", {"A": 0, "B": 0, "C": 0})
            thr = cls.get("thresholds", {"A": 0, "B": 0, "C": 0})
            conn.execute(classify, {
                **keys, "scale": scale, "prev_year": year - 1, "rule": cls["rule"],
                "ties": cls["ties"], "computed_at": now,
                "p_a": pct["A"] / 100.0, "p_b": pct["B"] / 100.0, "p_c": pct["C"] / 100.0,
                "t_a": float(thr["A"]), "t_b": float(thr["B"]), "t_c": float(thr["C"])})

        evaluated = _rows(conn, "mart_evaluation", keys)
        listed_classes = set(ec["inefficient"]["classes"])
        inefficient = []
        for r in evaluated:
            codes, reasons = [], []
            if r["class"] in listed_classes:
                codes.append(f"class_{r['class']}")
                reasons.append(f"综合评价{r['class']}类")
            for hit in _rule_hits(r, ec["inefficient"]["rules"]):
                codes.append(hit["code"])
                reasons.append(hit["name"])
            if codes:
                inefficient.append({**{c: r[c] for c in _LIST_COLS},
                                    "reason_codes": json.dumps(codes, ensure_ascii=False),
                                    "reasons": "；".join(reasons), "computed_at": now})
        if inefficient:
            cols = [*_LIST_COLS, "reason_codes", "reasons", "computed_at"]
            conn.execute(text(f"INSERT INTO mart_inefficient_list ({', '.join(cols)}) VALUES "
                              f"({', '.join(':' + c for c in cols)})"), inefficient)

    result = load_evaluation(engine, config, year)
    result.notes = notes + result.notes
    return result


_FLOAT_COLS = {"land_mu", "tax_total", "energy_tce", "electricity", "value_added", "revenue",
               "rd_expense", "employees", *ITEMS}
_ENTERPRISE_COLS = ["uscc", "name", "industry_code", "industry_group", "town", "land_mu", "scale",
                    "roster_year", "first_roster_year", "tax_total", "tax_months", "energy_tce",
                    "electricity", "energy_months", "value_added", "revenue", "rd_expense",
                    "employees", "stats_period", *ITEMS]
_LIST_COLS = ["plan_id", "year", "uscc", "name", "town", "industry_code", "industry_group",
              "land_mu", "scale", *ITEMS, "score", "rank_in_scale", "class", "prev_class"]


def _rows(conn: Connection, table: str, keys: dict[str, Any], where: str = "",
          order: str = "scale, rank_in_scale, uscc") -> list[dict[str, Any]]:
    sql = f"SELECT * FROM {table} WHERE plan_id = :plan_id AND year = :year {where} ORDER BY {order}"
    out = []
    for r in conn.execute(text(sql), keys).mappings():
        d = dict(r)
        for k, v in d.items():
            if k in _FLOAT_COLS or k in ("score", "weight", "benchmark", "cap", "floor_ratio"):
                d[k] = _num(v)
        out.append(d)
    return out


def load_evaluation(engine: Engine, config: PlanConfig, year: int) -> EvaluationResult:
    """Read a computed evaluation back from the mart tables."""
    keys = {"plan_id": config.plan_id, "year": int(year)}
    with engine.connect() as conn:
        params = _rows(conn, "mart_evaluation_param", keys, order="scale, item")
        if not params:
            raise EvaluationError(f"{year}年度亩均效益评价尚未计算（mart_evaluation 无数据）")
        evaluated = _rows(conn, "mart_evaluation", keys)
        excluded = _rows(conn, "mart_evaluation_enterprise", keys, "AND excluded = 1",
                         order="exclusion_code, uscc")
        inefficient = _rows(conn, "mart_inefficient_list", keys)
        basis = conn.execute(text(
            "SELECT scale, item, basis, COUNT(*) AS n FROM mart_evaluation_item "
            "WHERE plan_id = :plan_id AND year = :year AND basis <> 'value' "
            "GROUP BY scale, item, basis ORDER BY scale, item, basis"), keys).mappings().all()
    notes = [f"{SCALES[b['scale']]}“{ITEMS[b['item']].name}”：{b['n']}家企业无本项数据，"
             f"{BASIS_TEXT.get(b['basis'], b['basis'])}" for b in basis]
    return EvaluationResult(plan_id=config.plan_id, year=int(year),
                            config_file=params[0]["config_file"], evaluated=evaluated,
                            excluded=excluded, inefficient=inefficient, params=params, notes=notes)


# --------------------------------------------------------------------------- the xlsx

def _fmt_columns(rows: list[dict[str, Any]], params: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    """Indicator columns: the configured items that some row has a value for."""
    configured = {p["item"] for p in params}
    cols = []
    for key, d in ITEMS.items():
        if key in configured and any(r.get(key) is not None for r in rows):
            cols.append((f"{d.name}（{d.unit}）", key, "0.00"))
    return cols


def write_inefficient_list_xlsx(source: EvaluationResult | Engine, out_path: str | Path, *,
                                config: PlanConfig | None = None, year: int | None = None) -> Path:
    """The 低效企业清单 for the 低效整治攻坚组 as an xlsx with Chinese headers. ``source`` is an
    :class:`EvaluationResult` or a warehouse engine (then ``config`` and ``year`` say which
    evaluation to read). Sheets: 低效企业清单, 评价结果 (all evaluated), 不参评企业 (with reasons),
    评价参数 (weights, benchmarks, caps, rules, notes). Restricted: contains enterprise figures."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from .spreadsheet import append_row, set_cell

    if isinstance(source, EvaluationResult):
        result = source
    else:
        if config is None or year is None:
            raise TypeError("write_inefficient_list_xlsx(engine, …) needs config= and year=")
        result = load_evaluation(source, config, year)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)

    head_font = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    wb = Workbook()

    def sheet(ws, headers: list[str], rows: list[list[Any]], formats: list[str | None], widths: list[int]):
        append_row(ws, headers)
        for c in ws[1]:
            c.font, c.fill = head_font, head_fill
            c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for row in rows:  # names, reasons … come from the departments' data: text stays text
            append_row(ws, row)
        for j, (fmt, w) in enumerate(zip(formats, widths), start=1):
            ws.column_dimensions[get_column_letter(j)].width = w
            if fmt:
                for i in range(2, len(rows) + 2):
                    ws.cell(row=i, column=j).number_format = fmt
        ws.freeze_panes = "C2"
        if rows:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"

    ind_cols = _fmt_columns(result.evaluated, result.params)
    lead = [("统一社会信用代码", "uscc", None, 22), ("企业名称", "name", None, 28),
            ("乡镇街道", "town", None, 12), ("行业代码", "industry_code", None, 9),
            ("主导产业", "industry_group", None, 9), ("规模", "scale", None, 6),
            ("用地面积（亩）", "land_mu", "0.00", 10)]
    tail = [("综合得分", "score", "0.00", 9), ("规模内排名", "rank_in_scale", None, 8),
            ("评价类别", "class", None, 8), ("上年类别", "prev_class", None, 8)]

    def cells(r: dict[str, Any], spec) -> list[Any]:
        out_row = []
        for _, key, _, _ in spec:
            v = r.get(key)
            if key == "scale":
                v = SCALES.get(v, v)
            if key == "prev_class" and v is None:
                v = "—"
            out_row.append(v)
        return out_row

    spec = [*lead, *[(h, k, f, 12) for h, k, f in ind_cols], *tail]
    ws = wb.active
    ws.title = "低效企业清单"
    sheet(ws, ["序号", *[s[0] for s in spec], "列入原因"],
          [[i, *cells(r, spec), r["reasons"]] for i, r in enumerate(result.inefficient, start=1)],
          [None, *[s[2] for s in spec], None], [6, *[s[3] for s in spec], 36])

    ws = wb.create_sheet("评价结果")
    sheet(ws, ["序号", *[s[0] for s in spec]],
          [[i, *cells(r, spec)] for i, r in enumerate(result.evaluated, start=1)],
          [None, *[s[2] for s in spec]], [6, *[s[3] for s in spec]])

    ws = wb.create_sheet("不参评企业")
    ex_spec = [*lead, ("首次列入名录年份", "first_roster_year", None, 10)]
    sheet(ws, ["序号", *[s[0] for s in ex_spec], "不参评原因"],
          [[i, *cells(r, ex_spec), r["exclusion_reason"]] for i, r in enumerate(result.excluded, start=1)],
          [None, *[s[2] for s in ex_spec], None], [6, *[s[3] for s in ex_spec], 40])

    ws = wb.create_sheet("评价参数")
    sheet(ws, ["规模", "指标", "单位", "权重", "基准值", "基准值来源", "封顶倍数", "保底倍数", "缺数处理"],
          [[SCALES[p["scale"]], p["name"], p["unit"], p["weight"], p["benchmark"],
            "全县同规模平均" if p["benchmark_basis"] == "county_average" else "年度评价方案",
            p["cap"], p["floor_ratio"], MISSING_RULE_TEXT[p["missing_rule"]]] for p in result.params],
          [None, None, None, "0.##", "0.000", None, "0.##", "0.##", None], [6, 26, 14, 6, 10, 14, 8, 8, 48])
    row = ws.max_row + 2
    set_cell(ws, row, 1, f"{result.year}年度工业企业亩均效益综合评价；评价参数文件：{Path(result.config_file).name}")
    for note in result.notes:
        row += 1
        set_cell(ws, row, 1, f"说明：{note}")
    set_cell(ws, row + 1, 1, "本表含企业个体数据，仅供低效整治攻坚组及相关部门内部使用，不得公开。")
    wb.save(out)
    return out


# --------------------------------------------------------------------------- bulletin support

def evaluation_summary(engine: Engine, config: PlanConfig, year: int) -> dict[str, Any]:
    """Counts for the bulletin (December issue / on demand): enterprises by class, per scale, per
    industry group and per town, with last year's counts and the change; class transitions of
    the enterprises evaluated both years; the 低效企业清单 size; exclusions by reason. Counts
    only — never an enterprise's own figures. Raises EvaluationError when the year was not
    evaluated."""
    year = int(year)
    keys = {"plan_id": config.plan_id, "year": year, "prev_year": year - 1}
    with engine.connect() as conn:
        rows = conn.execute(sql.statement("evaluation/summary_counts"), keys).mappings().all()
        excluded = conn.execute(sql.statement("evaluation/excluded_counts"), keys).mappings().all()
        listed = {int(r["year"]): int(r["n"]) for r in conn.execute(text(
            "SELECT year, COUNT(*) AS n FROM mart_inefficient_list WHERE plan_id = :plan_id "
            "AND year IN (:year, :prev_year) GROUP BY year"), keys).mappings()}
        rules = {r["scale"]: r["class_rule"] for r in conn.execute(text(
            "SELECT DISTINCT scale, class_rule FROM mart_evaluation WHERE plan_id = :plan_id "
            "AND year = :year"), keys).mappings()}
    cur = [r for r in rows if int(r["year"]) == year]
    prev = [r for r in rows if int(r["year"]) == year - 1]
    if not cur:
        raise EvaluationError(f"{year}年度亩均效益评价尚未计算")
    has_prev = bool(prev)

    def counts(rs, key=None, value=None) -> dict[str, int]:
        c = dict.fromkeys(CLASSES, 0)
        for r in rs:
            if key is None or r[key] == value:
                c[r["class"]] += int(r["n"])
        return c

    def block(name: str, key: str | None, value: Any) -> dict[str, Any]:
        now_c = counts(cur, key, value)
        item: dict[str, Any] = {"name": name, "total": sum(now_c.values()), "counts": now_c,
                                "previous": None, "change": None}
        if has_prev:
            prev_c = counts(prev, key, value)
            item["previous"] = prev_c
            item["change"] = {c: now_c[c] - prev_c[c] for c in CLASSES}
        return item

    def ordered(key: str, preferred: list[str]) -> list[str]:
        seen = {r[key] for r in cur} | {r[key] for r in prev}
        return [x for x in preferred if x in seen] + sorted(seen - set(preferred))

    groups = [g["name"] for g in config["industry_groups"]] + [config["industry_default_group"]]
    order = {c: i for i, c in enumerate(CLASSES)}
    transitions = {"up": 0, "same": 0, "down": 0, "new": 0}
    for r in cur:
        if r["prev_class"] is None:
            transitions["new"] += int(r["n"])
        elif order[r["class"]] < order[r["prev_class"]]:
            transitions["up"] += int(r["n"])
        elif order[r["class"]] > order[r["prev_class"]]:
            transitions["down"] += int(r["n"])
        else:
            transitions["same"] += int(r["n"])
    total = block("全县", None, None)
    return {
        "plan_id": config.plan_id, "year": year, "previous_year": year - 1,
        "previous_available": has_prev, "classes": list(CLASSES),
        "class_rule": {SCALES[s]: rules[s] for s in SCALES if s in rules},
        "evaluated": total["total"], "by_class": total["counts"],
        "by_class_previous": total["previous"], "by_class_change": total["change"],
        "by_scale": [block(SCALES[s], "scale", s) for s in SCALES],
        "by_industry_group": [block(g, "industry_group", g) for g in ordered("industry_group", groups)],
        "by_town": [block(t, "town", t) for t in ordered("town", list(config["towns"]))],
        "transitions": transitions,
        "inefficient": listed.get(year, 0),
        "inefficient_previous": listed.get(year - 1) if has_prev else None,
        "excluded": {"total": sum(int(r["n"]) for r in excluded),
                     "by_reason": [{"code": r["exclusion_code"], "reason": r["exclusion_reason"],
                                    "n": int(r["n"])} for r in excluded]},
    }
