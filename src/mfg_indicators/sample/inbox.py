"""Sample inbox generator: a deterministic county (云和县, 2021–2023) or province-scale (2023) inbox
in exactly the formats of ``shared/spec/feeds.md``.

    generate(out_dir, scale="county", seed=0) -> summary dict

writes ``out_dir/<source>/...`` (registry, tax, energy, stats, projects, ledgers). Column
headers come from :mod:`mfg_indicators.feeds`, towns, industry groups, indicator codes and units
from the plan configuration. Same seed -> the same bytes and the same file mtimes (arrival order =
mtime, then name); another seed -> other data with the same design.

County design — where each indicator is designed to land (2023-06 / 2023-12), see
``DESIGNED_STATUS``. Time progress: cumulative 30/36 = 0.833 at 2023-06, 1.0 at 2023-12;
this-year 0.5 / 1.0. Bands: level/annualized yellow >= 90 %, rate yellow within 3 points,
cumulative/this-year yellow within 10 points.

  code  2023-06  2023-12  how
  T01   yellow   yellow   工业增加值 43.6 of GDP 104.6亿 (41.7 %; Q2 42.1 %) vs 45
  T02   green    yellow   official 规上增速 16.2 % at June, 13.8 % at December vs 15
  T02A  yellow   yellow   geometric mean of 16.5, 12.1 and 16.2 / 13.8 -> 14.9 / 14.1
  T03   green    green    亩均税收 designed 17.8 万元/亩 (2023), tax spread evenly enough over H1
  T04   red      yellow   亩均增加值 designed 74.5 (92 % of 80); H1 is only ~47 % of the year
  T05   yellow   green    labour productivity 13.6 万元/人; ~12.9 annualized at June
  T06   yellow   green    能耗下降率 2.6 % (Q2) and 4.1 % (Q4) vs 3.5
  T07   yellow   yellow   淘汰落后产能 12 then 14 of 15
  T08A  green    done     腾出用地 190 then 236 of 200 亩
  T08B  yellow   yellow   39 then 47 of 50 enterprises
  T08C  green    done     腾出用能 0.51 then 0.65 of 0.6 万吨标准煤
  T08D  red      red      减碳 1.0 then 1.2 of 1.5 万吨 (often not reported: empty cells)
  T09A  yellow   done     亿元以上制造业项目 7 then 9 of 9 (a 2020 signing is outside the window)
  T09B  red      yellow   制造业投资增速 8.5 % then 12.8 % vs 15
  T09BA green    green    geometric mean of 22.0, 18.5 and 8.5 / 12.8
  T10A  done     done     2 of 1 (reached 2022)
  T10B  red      done     2 then 3 of 3
  T11   yellow   yellow   R&D 0.94 % of revenue vs 1
  K01   yellow   done     当年腾出用能 900 then 2,300 of 2,000 tce
  K02   green    green    100 %
  K03   done     done     1 of 1
  K04   yellow   yellow   技术交易额 0.52 / 1.12 of 1.2亿
  K05   red      yellow   高新技术企业 24 / 26 of 28
  K06   yellow   green    科技型中小企业 128 / 142 of 130
  K07   green    done     3.6 / 7.4 of 7亿
  K08   red      done     2 / 3 of 3
  K09   done     done     2 of 2
  K10   yellow   red      小升规 15 / 17 of 20
  K11   green    green    放水养鱼 11 / 12 of 10
  K12   red      done     1 / 3 of 3 (this year's 亿元以上制造业项目)
  K13   yellow   red      到位资金 2.2 / 4.1 of 5亿
  K14   red      done     2 / 3 of 3
  K15   done     done     1 of 1
  K16   green    done     3 / 6 of 5
  K17   green    done     14 / 31 of 25
  K18   red      red      智能化改造覆盖面 62 / 68 % of 80
  K19   red      done     0 / 1 of 1

Imperfections (all legal, reported as warnings by the pipeline, none rejected): a VAT refund
month (negative tax, 2022-05), an enterprise with tax and energy from 2022-03 that is missing from
the registry, a corrected re-delivery of 2023-06 tax (later mtime, some values changed, one row
added), the 2022 Q3 energy file delivered twice under another name, a 2022-08 企业月报 cumulative
工业总产值 that dips below July's, a project whose 签约 row is delivered again next quarter, a
project 签约 without USCC, 整治台账 cells left empty.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import feeds
from ..config import PlanConfig, load_config
from .events import (
    COUNTY_OFFICIAL,
    PROVINCE_OFFICIAL,
    county_projects,
    county_rectification,
    official_rows,
    project_rows,
    province_projects,
    province_rectification,
    task_rows,
)
from .population import Population, YearDesign, build_population, calibrate, month_block
from .writers import DeliverySpec, DeliveryWriter, Fmt, Part, at, set_mtime

T = feeds.TABLES

DESIGNED_STATUS: dict[str, tuple[str, str]] = {
    "T01": ("yellow", "yellow"), "T02": ("green", "yellow"), "T02A": ("yellow", "yellow"),
    "T03": ("green", "green"), "T04": ("red", "yellow"), "T05": ("yellow", "green"),
    "T06": ("yellow", "green"), "T07": ("yellow", "yellow"), "T08A": ("green", "done"),
    "T08B": ("yellow", "yellow"), "T08C": ("green", "done"), "T08D": ("red", "red"),
    "T09A": ("yellow", "done"), "T09B": ("red", "yellow"), "T09BA": ("green", "green"),
    "T10A": ("done", "done"), "T10B": ("red", "done"), "T11": ("yellow", "yellow"),
    "K01": ("yellow", "done"), "K02": ("green", "green"), "K03": ("done", "done"),
    "K04": ("yellow", "yellow"), "K05": ("red", "yellow"), "K06": ("yellow", "green"),
    "K07": ("green", "done"), "K08": ("red", "done"), "K09": ("done", "done"),
    "K10": ("yellow", "red"), "K11": ("green", "green"), "K12": ("red", "done"),
    "K13": ("yellow", "red"), "K14": ("red", "done"), "K15": ("done", "done"),
    "K16": ("green", "done"), "K17": ("green", "done"), "K18": ("red", "red"),
    "K19": ("red", "done"),
}
"""Designed status per indicator code at (2023-06, 2023-12) for the county sample, any seed."""

SCALES = ("county", "province")
COUNTY_AREA = "331125"  # 云和县
COUNTY_YEARS = [2021, 2022, 2023]
PROVINCE_YEAR = 2023

# 规上 (2021 roster) and 规下 enterprises per industry group; groups not listed share the rest.
COUNTY_ABOVE = {"木玩": 44, "钢压延": 6, "轴承": 9, "阀门": 10}
COUNTY_BELOW = {"木玩": 75, "钢压延": 2, "轴承": 12, "阀门": 15}
COUNTY_N_ABOVE, COUNTY_N_BELOW = 96, 166
COUNTY_UPGRADES = {2022: (5, 1), 2023: (5, 1)}  # (小升规, 退规) per year
COUNTY_ABOVE_LAND_2023 = 3550.0  # 亩, 规上 roster of 2023
COUNTY_TOWN_WEIGHTS = [0.22, 0.12, 0.20, 0.14, 0.07, 0.06, 0.06, 0.04, 0.05, 0.04]
COUNTY_DESIGN = {
    2021: YearDesign(70.0, 125.0, 16.6, 12.0, 4.2, 12.6, 0.85, 0.40, 6.0),
    2022: YearDesign(72.0, 128.0, 16.9, 12.5, 4.4, 13.1, 0.90, 0.385, 6.0),
    2023: YearDesign(74.5, 130.0, 17.8, 13.0, 4.6, 13.6, 0.94, 0.37, 5.8),
}

PROVINCE_N = 150_000
PROVINCE_ABOVE_SHARE = 55_000 / 150_000
PROVINCE_GROUP_SHARE = {"木玩": 0.015, "钢压延": 0.012, "轴承": 0.02, "阀门": 0.025}
PROVINCE_DESIGN = {2023: YearDesign(125.0, 180.0, 31.0, 20.0, 6.0, 26.0, 2.5, 0.33, 8.0)}
PROVINCE_AREAS = ["330102", "330105", "330106", "330110", "330203", "330206", "330281", "330302",
                  "330381", "330402", "330481", "330502", "330522", "330602", "330681", "330702",
                  "330782", "330802", "330902", "331002", "331082", "331102", "331121", "331125"]
PROVINCE_PREFIXES = ["浙江", "杭州", "宁波", "温州", "湖州", "嘉兴", "绍兴", "金华", "衢州", "台州", "丽水", "舟山"]
PROVINCE_CHUNK = 10_000


def _allocate(cfg: PlanConfig, total: int, fixed: dict[str, float], as_share: bool) -> dict[str, int]:
    """Enterprises per configured industry group (designed counts/shares; the default group and
    any other configured group share the remainder)."""
    names = [g["name"] for g in cfg["industry_groups"]]
    out: dict[str, int] = {}
    for n in names:
        if n in fixed:
            out[n] = int(round(fixed[n] * total)) if as_share else int(fixed[n])
    others = [n for n in names if n not in out]
    rest = total - sum(out.values())
    for n in others:
        out[n] = max(1, rest // (4 * max(1, len(others))))
    out[cfg["industry_default_group"]] = total - sum(out.values())
    return out


@dataclass
class _Router:
    """Opens deliveries lazily by key, streams rows into them, counts rows per table."""

    inbox: Path
    spec_for: Callable[[Any], DeliverySpec]
    open: dict = field(default_factory=dict)
    written: list = field(default_factory=list)
    rows: Counter = field(default_factory=Counter)

    def write(self, key, table: str, rows: list) -> None:
        if not rows:
            return
        d = self.open.get(key)
        if d is None:
            d = self.open[key] = DeliveryWriter(self.inbox, self.spec_for(key))
        d.write(table, rows)
        self.rows[table] += len(rows)

    def close_all(self) -> None:
        for d in self.open.values():
            d.close()
            self.written.append(d.spec.path)
        self.open.clear()


def _clear_inbox(inbox: Path) -> None:
    for src in feeds.SOURCES:
        d = inbox / src
        if d.is_dir():
            for p in d.iterdir():
                if p.is_file():
                    p.unlink()


def generate(
    out_dir: Path | str,
    *,
    scale: str = "county",
    seed: int = 0,
    config: PlanConfig | None = None,
    n_enterprises: int | None = None,
    chunk_size: int | None = None,
) -> dict:
    """Write a sample inbox into ``out_dir`` (the inbox itself) and return a summary.

    ``n_enterprises`` (province only) scales the province down for tests; ``chunk_size`` is the
    number of enterprises whose monthly rows are generated and written at a time. Files already
    in ``out_dir/<source>/`` are removed first.
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, not {scale!r}")
    cfg = config or load_config()
    out = Path(out_dir)
    inbox = out
    inbox.mkdir(parents=True, exist_ok=True)
    _clear_inbox(inbox)
    for src in feeds.SOURCES:
        (inbox / src).mkdir(exist_ok=True)
    if scale == "county":
        if n_enterprises is not None:
            raise ValueError("n_enterprises applies to the province scale only")
        summary = _county(inbox, cfg, seed, chunk_size or 10_000)
    else:
        summary = _province(inbox, cfg, seed, n_enterprises or PROVINCE_N, chunk_size or PROVINCE_CHUNK)
    summary.update(scale=scale, seed=seed, inbox=str(inbox))
    return summary


# ---------------------------------------------------------------------------------------------
# County
# ---------------------------------------------------------------------------------------------


def _county_population(cfg: PlanConfig, rng: np.random.Generator) -> tuple[Population, dict]:
    above = _allocate(cfg, COUNTY_N_ABOVE, COUNTY_ABOVE, as_share=False)
    below = _allocate(cfg, COUNTY_N_BELOW, COUNTY_BELOW, as_share=False)
    prefixes = [cfg.county, cfg.county, "丽水", "浙江"]
    pop = build_population(cfg, rng, years=COUNTY_YEARS, group_counts_above=above, group_counts_below=below,
                           n_unregistered=1, area_codes=[COUNTY_AREA], name_prefixes=prefixes,
                           land_above_mean=33.0, town_weights=COUNTY_TOWN_WEIGHTS
                           if len(cfg["towns"]) == len(COUNTY_TOWN_WEIGHTS) else None)
    n_above = COUNTY_N_ABOVE
    below_idx = np.arange(n_above, n_above + COUNTY_N_BELOW)
    # 小升规 / 退规 per year: the largest 规下 go up, the weakest 规上 go down
    strength = pop.land * pop.traits["eff"]
    order_below = below_idx[np.argsort(-strength[below_idx], kind="stable")]
    ups = list(order_below[: sum(u for u, _ in COUNTY_UPGRADES.values())])
    order_above = np.argsort(strength[:n_above], kind="stable")
    downs = list(order_above[: sum(d for _, d in COUNTY_UPGRADES.values())])
    cur = pop.above[COUNTY_YEARS[0]].copy()
    for y in COUNTY_YEARS[1:]:
        u, d = COUNTY_UPGRADES[y]
        for _ in range(u):
            cur[ups.pop(0)] = True
        for _ in range(d):
            cur[downs.pop(0)] = False
        pop.above[y] = cur.copy()
    upgraded = set(np.flatnonzero(pop.above[COUNTY_YEARS[-1]] & ~pop.above[COUNTY_YEARS[0]]).tolist())
    # the enterprise missing from the registry starts paying tax in 2022-03
    pop.active_from[-1] = pop.t(2022, 3)
    # 整治台账: low-efficiency 规下 enterprises (never the 小升规 ones), two 规上 with old capacity
    eff_order = below_idx[np.argsort(pop.traits["eff"][below_idx] * pop.traits["tax_rate"][below_idx], kind="stable")]
    candidates = [int(i) for i in eff_order if int(i) not in upgraded]
    weak = candidates[: int(len(candidates) * 0.6)]
    weak = [weak[i] for i in rng.permutation(len(weak))] + candidates[int(len(candidates) * 0.6):]
    steel_above = [int(i) for i in np.flatnonzero(pop.excluded[:n_above] & pop.above[2023][:n_above])]
    other_above = [int(i) for i in order_above[5:] if not pop.excluded[i]]
    rect = county_rectification(pop, rng, weak, steel_above[:1] + other_above[:2])
    # land: 规上 roster of 2023 on the design; one decimal as registered
    mask23 = pop.above_mask(2023)
    first_above = np.zeros(pop.n, dtype=bool)
    first_above[:n_above] = True
    fixed = float(pop.land[mask23 & ~first_above].sum())
    scale_land = (COUNTY_ABOVE_LAND_2023 - fixed) / float(pop.land[mask23 & first_above].sum())
    pop.land[:n_above] *= scale_land
    pop.land = np.round(pop.land, 1)
    calibrate(pop, COUNTY_DESIGN)
    return pop, {"rectification": rect}


def _county_spec(cfg: PlanConfig) -> Callable[[Any], DeliverySpec]:
    REG, TAX, EN, SE, SC = T["registry"], T["tax"], T["energy"], T["stats_enterprise"], T["stats_county"]
    PR, RE, TR = T["projects"], T["rectification"], T["task_report"]
    county = cfg.county

    def nxt(y: int, m: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
        y2, m2 = (y + 1, 1) if m == 12 else (y, m + 1)
        return at(y2, m2, day, hour, minute)

    def spec(key) -> DeliverySpec:
        kind = key[0]
        if kind == "registry":
            y = key[1]
            if y == 2021:
                return DeliverySpec(f"registry/{y}年度工业企业名录.xlsx",
                                    [Part(REG, Fmt(title=f"{county}工业企业名录（{y}年度）"), sheet="名录")], at(y, 1, 15, 9, 30))
            if y == 2022:
                return DeliverySpec(f"registry/{y}年工业企业名录（含规上标识）.csv", [Part(REG)], at(y, 1, 14, 16, 5), "gbk")
            return DeliverySpec(f"registry/企业名录{y}.csv", [Part(REG, Fmt(header="halfwidth"))], at(y, 1, 16, 10, 20), "utf-8-sig")
        if kind == "tax":
            _, y, m = key
            i = (y - 2021) * 12 + m - 1
            arrive = nxt(y, m, 12, 10, i % 50)
            v = i % 4
            if v == 0:
                return DeliverySpec(f"tax/{y}年{m}月企业税收明细.csv", [Part(TAX, Fmt(month="compact"))], arrive, "gbk")
            if v == 1:
                return DeliverySpec(f"tax/{y}年{m}月规上企业税收.xlsx",
                                    [Part(TAX, Fmt(month="cn", title=f"{y}年{m}月工业企业税收实际贡献明细表"), sheet="明细")], arrive)
            if v == 2:
                return DeliverySpec(f"tax/税收入库_{y}{m:02d}.csv", [Part(TAX, Fmt(header="halfwidth", thousands=True))],
                                    arrive, "utf-8-sig")
            return DeliverySpec(f"tax/{y}年{m}月税收实际贡献（工业）.csv",
                                [Part(TAX, Fmt(month="cn", header="spaced", thousands=True))], arrive, "utf-8", "\n")
        if kind == "tax-fix":
            _, y, m = key
            return DeliverySpec(f"tax/{y}年{m}月企业税收（更正）.xlsx",
                                [Part(TAX, Fmt(title=f"{y}年{m}月工业企业税收实际贡献明细表（更正）"))], at(2023, 7, 28, 16, 30))
        if kind == "energy":
            _, y, q = key
            i = (y - 2021) * 4 + q - 1
            arrive = nxt(y, q * 3, 8, 15, i)
            v = i % 3
            if v == 0:
                order = ("period", "uscc", "name", "electricity", "energy_tce")
                return DeliverySpec(f"energy/{y}年第{q}季度企业能耗.xlsx", [Part(EN, Fmt(order=order), sheet="能耗")], arrive)
            if v == 1:
                return DeliverySpec(f"energy/{y}年{q}季度能耗数据.csv", [Part(EN, Fmt(month="compact"))], arrive, "gbk")
            return DeliverySpec(f"energy/能耗监测_{y}Q{q}.csv", [Part(EN, Fmt(month="cn", thousands=True))], arrive, "utf-8-sig")
        if kind == "stats":
            _, y, m = key
            arrive = nxt(y, m, 14, 11, m)
            if y == 2022 or (y == 2023 and m % 2 == 1):
                se_fmt = Fmt(month="cn") if y == 2022 else Fmt(month="iso", header="halfwidth", title=f"{y}年1-{m}月规模以上工业企业主要指标")
                # the county sheet comes first: the pipeline must recognise tables by header
                return DeliverySpec(f"stats/{y}年1-{m}月统计月报.xlsx",
                                    [Part(SC, Fmt(month="cn"), sheet="主要指标"), Part(SE, se_fmt, sheet="企业月报")], arrive)
            raise KeyError(key)
        if kind == "stats-ent":
            _, y, m = key
            arrive = nxt(y, m, 14, 11, m)
            if y == 2021:
                return DeliverySpec(f"stats/{y}年1-{m}月规上工业企业月报.csv", [Part(SE, Fmt(month="compact"))], arrive, "gbk")
            return DeliverySpec(f"stats/{y}年{m}月企业月报（联网直报）.csv", [Part(SE, Fmt(thousands=True))], arrive, "utf-8-sig")
        if kind == "stats-cty":
            _, y, m = key
            arrive = nxt(y, m, 14, 11, 30 + m)
            if y == 2021:
                return DeliverySpec(f"stats/{y}年{m}月主要经济指标.csv", [Part(SC)], arrive)
            return DeliverySpec(f"stats/{y}年{m}月主要指标.csv", [Part(SC, Fmt(month="compact"))], arrive, "gbk")
        if kind == "projects":
            _, y, q = key
            i = (y - 2021) * 4 + q - 1
            arrive = nxt(y, q * 3, 5, 10, i)
            v = i % 3
            if v == 0:
                return DeliverySpec(f"projects/{y}年第{q}季度项目调度台账.xlsx",
                                    [Part(PR, Fmt(date="excel", title=f"{county}{y}年第{q}季度重点项目调度台账"))], arrive)
            if v == 1:
                return DeliverySpec(f"projects/项目台账{y}Q{q}.csv", [Part(PR, Fmt(date="slash", thousands=True))], arrive, "utf-8-sig")
            return DeliverySpec(f"projects/{y}年{q}季度招商项目.csv", [Part(PR, Fmt(header="spaced"))], arrive)
        if kind in ("ledgers", "ledgers-rect", "ledgers-task"):
            _, y, m, with_rect = key
            arrive = nxt(y, m, 10, 16, m)
            if kind == "ledgers-rect":
                return DeliverySpec(f"ledgers/{y}年{m}月整治台账.csv", [Part(RE, Fmt(date="slash"))], arrive, "gbk")
            if kind == "ledgers-task":
                return DeliverySpec(f"ledgers/{y}年{m}月任务月报.csv", [Part(TR, Fmt(month="compact"))], at(*arrive.timetuple()[:4], 20))
            rect = Part(RE, Fmt(date="excel", title=f"{county}低效企业整治销号台账") if y == 2022 else Fmt(), sheet="整治台账")
            task = Part(TR, Fmt(month="iso" if y == 2022 else "cn"), sheet="任务月报")
            parts = ([rect] if with_rect else []) + [task] if y == 2022 else [task] + ([rect] if with_rect else [])
            return DeliverySpec(f"ledgers/{y}年{m}月攻坚行动台账.xlsx", parts, arrive)
        raise KeyError(key)

    return spec


def _stats_keys(y: int, m: int) -> tuple[Any, Any]:
    """Delivery keys for (企业月报, 主要指标) of a month."""
    if y == 2022 or (y == 2023 and m % 2 == 1):
        return ("stats", y, m), ("stats", y, m)
    return ("stats-ent", y, m), ("stats-cty", y, m)


def _enterprise_rows(pop: Population, y: int, m: int, lo: int, hi: int, blk: dict, above: np.ndarray):
    """Tax, energy and 企业月报 rows of month m for enterprises lo..hi-1."""
    t = pop.t(y, m)
    j = m - 1
    per = (y, m)
    act = (pop.active_from[lo:hi] <= t) & (pop.active_to[lo:hi] >= t)
    us, nm = pop.uscc, pop.name
    vat, cit, oth, tot = (blk[k][:, j].tolist() for k in ("vat", "cit", "other", "total"))
    en, el = blk["energy"][:, j].tolist(), blk["elec"][:, j].tolist()
    tax, energy, stats = [], [], []
    for k in np.flatnonzero(act).tolist():
        e = lo + k
        tax.append((us[e], nm[e], per, vat[k], cit[k], oth[k], tot[k]))
        energy.append((us[e], nm[e], per, en[k], el[k]))
    if m >= 2:
        ab = np.flatnonzero(above[lo:hi] & act).tolist()
        cols = [blk[c][:, j].tolist() for c in ("out_cum", "va_cum", "rev_cum", "rd_cum")]
        emp = blk["emp_avg"][:, j].astype(int).tolist()
        for k in ab:
            e = lo + k
            stats.append((us[e], nm[e], per, cols[0][k], cols[1][k], cols[2][k], cols[3][k], emp[k]))
    return tax, energy, stats


def _county(inbox: Path, cfg: PlanConfig, seed: int, chunk: int) -> dict:
    rng = np.random.default_rng([seed, 1])
    pop, ev = _county_population(cfg, rng)
    router = _Router(inbox, _county_spec(cfg))
    ev_rng = np.random.default_rng([seed, 2])

    # imperfections, chosen among enterprises that qualify under any seed
    ev22 = np.flatnonzero(pop.above_mask(2022) & ~pop.excluded)
    by_tax = ev22[np.argsort(pop.annual[2022]["tax"][ev22], kind="stable")]
    refund_e = int(by_tax[len(by_tax) // 2])  # VAT refund in 2022-05
    dip_e = int(by_tax[len(by_tax) // 3])  # 企业月报 2022-08 工业总产值 dips
    act23 = np.flatnonzero(pop.above_mask(2023))
    fix_changed = [int(x) for x in act23[[3, 17, 40, 61]]]  # 2023-06 tax values corrected later
    fix_missing = int(act23[75])  # ... and one row missing from the first delivery

    for y in COUNTY_YEARS:
        roster = np.flatnonzero(pop.roster(y)).tolist()
        above = pop.above_mask(y)
        router.write(("registry", y), "registry", [
            (pop.uscc[e], pop.name[e], pop.industry[e], pop.town[e], float(pop.land[e]), bool(above[e]), y) for e in roster])
        va_sum = np.zeros(12)
        for lo in range(0, pop.n, chunk):
            hi = min(pop.n, lo + chunk)
            blk = month_block(pop, y, lo, hi, np.random.default_rng([seed, 3, y, lo]))
            if y == 2022 and lo <= refund_e < hi:
                k = refund_e - lo
                blk["vat"][k, 4] = -round(float(pop.annual[2022]["tax"][refund_e]) * 0.15, 2)
                blk["total"][k, 4] = round(blk["vat"][k, 4] + blk["cit"][k, 4] + blk["other"][k, 4], 2)
            if y == 2022 and lo <= dip_e < hi:
                k = dip_e - lo
                blk["out_cum"][k, 7] = round(blk["out_cum"][k, 6] * 0.985, 2)
            va_sum += blk["va_cum"][above[lo:hi]].sum(axis=0)
            for m in range(1, 13):
                tax, energy, stats = _enterprise_rows(pop, y, m, lo, hi, blk, above)
                if (y, m) == (2023, 6):
                    router.write(("tax-fix", y, m), "tax", tax)
                    tax = _first_delivery(tax, pop, fix_changed, fix_missing)
                router.write(("tax", y, m), "tax", tax)
                router.write(("energy", y, (m - 1) // 3 + 1), "energy", energy)
                router.write(_stats_keys(y, m)[0], "stats_enterprise", stats)
        off_rng = np.random.default_rng([seed, 4, y])
        for m in range(1, 13):
            level = va_sum[m - 1] / 10000.0 * (1.0 + float(off_rng.uniform(-0.015, 0.02)))
            router.write(_stats_keys(y, m)[1], "stats_county", official_rows(y, m, COUNTY_OFFICIAL[y], level))
        _county_ledgers(router, cfg, pop, ev["rectification"], y)
        router.close_all()

    # projects: one delivery per quarter, rows by stage date (older rows in the first delivery)
    projects = county_projects(pop, ev_rng, COUNTY_AREA, cfg.county)
    end = dt.date(COUNTY_YEARS[-1], 12, 31)
    for p in projects:
        for date, row in project_rows(p, ev_rng, end):
            y, q = (date.year, (date.month - 1) // 3 + 1) if date.year >= COUNTY_YEARS[0] else (COUNTY_YEARS[0], 1)
            router.write(("projects", y, q), "projects", [row])
            if p.dup_sign_investment and row[6] == feeds.PROJECT_STAGES[0]:
                y2, q2 = (y, q + 1) if q < 4 else (y + 1, 1)
                dup = list(row)
                dup[5] = p.dup_sign_investment
                router.write(("projects", y2, q2), "projects", [tuple(dup)])
    router.close_all()

    # the 2022 Q3 energy file, delivered a second time under another name
    src = inbox / _county_spec(cfg)(("energy", 2022, 3)).path
    dst = inbox / "energy" / "能耗数据2022年三季度（重发）.xlsx"
    shutil.copyfile(src, dst)
    set_mtime(dst, at(2022, 10, 20, 14, 0))
    router.written.append(str(dst.relative_to(inbox)))

    return _summary(pop, router, [2021, 2022, 2023])


def _first_delivery(rows: list, pop: Population, changed: list[int], missing: int) -> list:
    """The first, wrong delivery of a month: a few values differ, one enterprise is missing."""
    idx = {pop.uscc[e]: i for i, e in enumerate(changed)}
    out = []
    for r in rows:
        if r[0] == pop.uscc[missing]:
            continue
        if r[0] in idx:
            f = (0.8, 1.15, 0.5, 1.3)[idx[r[0]]]
            vat = round(r[3] * f, 2)
            r = (r[0], r[1], r[2], vat, r[4], r[5], round(vat + r[4] + r[5], 2))
        out.append(r)
    return out


def _county_ledgers(router: _Router, cfg: PlanConfig, pop: Population, rect: list, y: int) -> None:
    for m in range(1, 13):
        end = dt.date(y, m, 28) if m == 2 else dt.date(y, m, 30 if m in (4, 6, 9, 11) else 31)
        ledger = [r.row(pop) for r in rect if r.date <= end]  # the whole ledger to date
        tasks = task_rows(cfg, y, m)
        has = bool(ledger)
        if y == 2021:
            router.write(("ledgers-rect", y, m, has), "rectification", ledger)
            router.write(("ledgers-task", y, m, has), "task_report", tasks)
        else:
            router.write(("ledgers", y, m, has), "rectification", ledger)
            router.write(("ledgers", y, m, has), "task_report", tasks)


def _summary(pop: Population, router: _Router, years: list[int]) -> dict:
    files = sorted(router.written)
    return {
        "files": len(files),
        "file_list": files,
        "rows": dict(sorted(router.rows.items())),
        "enterprises": int(pop.n),
        "registered": {y: int(pop.roster(y).sum()) for y in years},
        "above_scale": {y: int(pop.above_mask(y).sum()) for y in years},
    }


# ---------------------------------------------------------------------------------------------
# Province
# ---------------------------------------------------------------------------------------------


def _province_spec(cfg: PlanConfig) -> Callable[[Any], DeliverySpec]:
    def spec(key) -> DeliverySpec:
        kind, y, m = key
        arrive = at(y + (m == 12), m % 12 + 1, 10, 9, 0) if m else at(y, 1, 10, 9, 0)
        if kind == "registry":
            return DeliverySpec(f"registry/{y}年全省工业企业名录.csv", [Part(T["registry"])], at(y, 1, 5, 9))
        if kind == "tax":
            enc = "gbk" if m == 12 else "utf-8"
            return DeliverySpec(f"tax/{y}年{m}月企业税收.csv", [Part(T["tax"], Fmt(month="compact" if m % 2 else "iso"))], arrive, enc)
        if kind == "energy":
            return DeliverySpec(f"energy/{y}年{m}月企业能耗.csv", [Part(T["energy"])], arrive.replace(hour=10))
        if kind == "stats-ent":
            return DeliverySpec(f"stats/{y}年1-{m}月企业月报.csv", [Part(T["stats_enterprise"])], arrive.replace(hour=11))
        if kind == "stats-cty":
            return DeliverySpec(f"stats/{y}年主要指标.csv", [Part(T["stats_county"])], at(y + 1, 1, 20, 11))
        if kind == "projects":
            return DeliverySpec(f"projects/{y}年{m}月项目.csv", [Part(T["projects"], Fmt(date="slash"))], arrive.replace(hour=14))
        if kind == "ledgers-rect":
            return DeliverySpec(f"ledgers/{y}年{m}月整治台账.csv", [Part(T["rectification"])], arrive.replace(hour=15))
        if kind == "ledgers-task":
            return DeliverySpec(f"ledgers/{y}年{m}月任务月报.csv", [Part(T["task_report"])], arrive.replace(hour=16))
        raise KeyError(key)

    return spec


def _province(inbox: Path, cfg: PlanConfig, seed: int, n: int, chunk: int) -> dict:
    y = PROVINCE_YEAR
    rng = np.random.default_rng([seed, 11])
    n_above = int(round(n * PROVINCE_ABOVE_SHARE))
    above_c = _allocate(cfg, n_above, PROVINCE_GROUP_SHARE, as_share=True)
    below_c = _allocate(cfg, n - n_above, PROVINCE_GROUP_SHARE, as_share=True)
    pop = build_population(cfg, rng, years=[y], group_counts_above=above_c, group_counts_below=below_c,
                           n_unregistered=0, area_codes=PROVINCE_AREAS, name_prefixes=PROVINCE_PREFIXES,
                           land_above_mean=30.0)
    pop.land = np.round(pop.land, 1)
    calibrate(pop, PROVINCE_DESIGN)
    router = _Router(inbox, _province_spec(cfg))
    above = pop.above_mask(y)
    # registry, streamed by chunk
    for lo in range(0, pop.n, chunk):
        hi = min(pop.n, lo + chunk)
        router.write(("registry", y, 0), "registry", [
            (pop.uscc[e], pop.name[e], pop.industry[e], pop.town[e], float(pop.land[e]), bool(above[e]), y)
            for e in range(lo, hi)])
    va_sum = np.zeros(12)
    for lo in range(0, pop.n, chunk):
        hi = min(pop.n, lo + chunk)
        blk = month_block(pop, y, lo, hi, np.random.default_rng([seed, 13, lo]))
        va_sum += blk["va_cum"][above[lo:hi]].sum(axis=0)
        for m in range(1, 13):
            tax, energy, stats = _enterprise_rows(pop, y, m, lo, hi, blk, above)
            router.write(("tax", y, m), "tax", tax)
            router.write(("energy", y, m), "energy", energy)
            router.write(("stats-ent", y, m), "stats_enterprise", stats)
    off_rng = np.random.default_rng([seed, 14])
    for m in range(1, 13):
        level = va_sum[m - 1] / 10000.0 * (1.0 + float(off_rng.uniform(-0.01, 0.01)))
        router.write(("stats-cty", y, 0), "stats_county", official_rows(y, m, PROVINCE_OFFICIAL[y], level))
    ev_rng = np.random.default_rng([seed, 15])
    start, end = dt.date(y, 1, 1), dt.date(y, 12, 31)
    for p in province_projects(pop, ev_rng, y):
        for date, row in project_rows(p, ev_rng, end, since=start):
            router.write(("projects", y, date.month), "projects", [row])
    rect = province_rectification(pop, ev_rng, y)
    for m in range(1, 13):
        router.write(("ledgers-rect", y, m), "rectification", [r.row(pop) for r in rect if r.date.month == m])
        router.write(("ledgers-task", y, m), "task_report", task_rows(cfg, y, m, factor=40.0))
    router.close_all()
    return _summary(pop, router, [y])
