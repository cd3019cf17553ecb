"""Event lists and department figures of the sample inbox: projects, 整治台账, 任务月报, 主要指标.

County scale follows an explicit design (see the landing table in ``sample/inbox.py``); province scale
draws events at random in proportion to the number of enterprises.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from .. import feeds
from ..config import PlanConfig
from .population import Population, make_usccs

D = dt.date

# --------------------------------------------------------------------------------------------
# 主要指标 (county level, the statistics bureau's official figures)
# --------------------------------------------------------------------------------------------

QUARTER_SHARE_GDP = (0.225, 0.475, 0.73, 1.0)
QUARTER_SHARE_IND = (0.23, 0.48, 0.735, 1.0)


@dataclass(frozen=True)
class OfficialDesign:
    gdp: float  # 地区生产总值, full year, 亿元
    industry_va: float  # 工业增加值 (全部工业), full year, 亿元
    va_growth: tuple[float, ...]  # 规上工业增加值增速, 1–N月, N = 2..12
    investment_growth: tuple[float, ...]  # 制造业投资增速, N = 2..12
    energy_decline: tuple[float, float, float, float]  # 规上工业单位增加值能耗下降率, Q1..Q4


COUNTY_OFFICIAL = {
    2021: OfficialDesign(96.3, 38.5,
                         (22.5, 20.1, 19.0, 18.2, 17.8, 17.5, 17.1, 16.9, 16.8, 16.6, 16.5),
                         (35.0, 30.2, 28.1, 26.5, 25.0, 24.1, 23.5, 23.0, 22.6, 22.3, 22.0),
                         (2.1, 2.8, 3.2, 3.6)),
    2022: OfficialDesign(100.2, 41.0,
                         (9.6, 10.2, 10.8, 11.5, 12.0, 12.3, 12.5, 12.4, 12.2, 12.1, 12.1),
                         (15.2, 16.8, 17.5, 18.0, 18.9, 19.2, 19.0, 18.8, 18.7, 18.6, 18.5),
                         (1.8, 2.5, 3.0, 3.3)),
    2023: OfficialDesign(104.6, 43.6,
                         (9.8, 11.5, 13.2, 14.8, 16.2, 15.6, 15.0, 14.6, 14.2, 14.0, 13.8),
                         (3.5, 5.2, 6.8, 7.6, 8.5, 9.8, 10.6, 11.4, 12.0, 12.5, 12.8),
                         (1.5, 2.6, 3.4, 4.1)),
}

PROVINCE_OFFICIAL = {
    2023: OfficialDesign(82553.0, 30100.0,
                         (4.8, 5.2, 5.5, 5.6, 5.8, 5.9, 5.9, 6.0, 6.0, 6.0, 6.0),
                         (9.5, 9.1, 8.6, 8.2, 8.0, 7.9, 7.8, 7.7, 7.6, 7.5, 7.5),
                         (2.2, 2.7, 3.0, 3.2)),
}


def official_rows(year: int, month: int, d: OfficialDesign, va_level_yi: float | None) -> list[tuple]:
    """主要指标 rows for one month (none in January)."""
    rows: list[tuple] = []
    ym = (year, month)
    u = feeds.COUNTY_INDICATOR_UNITS
    if month % 3 == 0:
        q = month // 3 - 1
        rows.append(("地区生产总值", ym, "累计", round(d.gdp * QUARTER_SHARE_GDP[q], 2), u["地区生产总值"]))
        rows.append(("工业增加值", ym, "累计", round(d.industry_va * QUARTER_SHARE_IND[q], 2), u["工业增加值"]))
        rows.append(("规上工业单位增加值能耗下降率", ym, "累计", d.energy_decline[q], u["规上工业单位增加值能耗下降率"]))
    if month >= 2:
        rows.append(("规上工业增加值增速", ym, "累计", d.va_growth[month - 2], u["规上工业增加值增速"]))
        rows.append(("制造业投资增速", ym, "累计", d.investment_growth[month - 2], u["制造业投资增速"]))
        if va_level_yi is not None:
            rows.append(("规上工业增加值", ym, "累计", round(va_level_yi, 2), u["规上工业增加值"]))
    return rows


# --------------------------------------------------------------------------------------------
# 任务月报 (the departments' own monthly figures)
# --------------------------------------------------------------------------------------------

# level codes: anchors at 2021-01, 2021-12, 2022-12, 2023-06, 2023-12 (linear in between)
TASK_LEVEL = {
    "K02": (85, 92, 96, 100, 100),
    "K05": (16, 19, 23, 24, 26),
    "K06": (80, 98, 118, 128, 142),
    "K11": (6, 8, 10, 11, 12),
    "K18": (35, 45, 55, 62, 68),
}
# this-year codes: year-end totals 2021, 2022, and (June, December) of 2023; reset each January
TASK_THIS_YEAR = {
    "K03": (1, 1, (1, 1)),
    "K04": (0.9, 1.05, (0.52, 1.12)),
    "K07": (5.6, 6.3, (3.6, 7.4)),
    "K13": (5.2, 4.6, (2.2, 4.1)),
    "K16": (5, 6, (3, 6)),
    "K17": (28, 30, (14, 31)),
    "K19": (1, 1, (0, 1)),
}
# cumulative codes (from 2021-01): anchors at 2021-01, 2021-12, 2022-12, 2023-06, 2023-12
TASK_CUMULATIVE = {
    "K08": (0, 0, 1, 2, 3),
    "K09": (0, 1, 2, 2, 2),
    "K10": (0, 6, 11, 15, 17),
    "K14": (0, 1, 2, 2, 3),
    "K15": (0, 0, 1, 1, 1),
    "T10A": (0, 0, 2, 2, 2),
    "T10B": (0, 1, 2, 2, 3),
}
_ANCHOR_T = (0, 11, 23, 29, 35)  # month indices of the anchors (0 = 2021-01)


def _interp(anchors, t: int) -> float:
    return float(np.interp(t, _ANCHOR_T, anchors))


def _fmt_value(v: float, unit: str, integral: bool) -> float | int:
    if integral:
        return int(math.floor(round(v, 6)))
    return round(v, 1) if unit == "%" else round(v, 2)


def task_codes(cfg: PlanConfig) -> list[dict]:
    """Indicators whose source is 任务月报, in configuration order."""
    return [ind for ind in cfg.indicators if ind["method"] == "task_report"]


def task_value(code: str, year: int, month: int, base_year: int = 2021) -> float:
    """The designed value of a 任务月报 code for a month (unrounded)."""
    t = (year - base_year) * 12 + month - 1
    if code in TASK_LEVEL:
        return _interp(TASK_LEVEL[code], min(t, 35))
    if code in TASK_CUMULATIVE:
        return _interp(TASK_CUMULATIVE[code], min(t, 35))
    if code in TASK_THIS_YEAR:
        y21, y22, (mid, end) = TASK_THIS_YEAR[code]
        if year < 2023:
            total = y21 if year == 2021 else y22
            mid = 0.45 * total
        else:
            total = end
        return float(np.interp(month, (0, 6, 12), (0.0, mid, total)))
    raise KeyError(f"no sample design for 任务月报 code {code}")


def task_rows(cfg: PlanConfig, year: int, month: int, factor: float = 1.0) -> list[tuple]:
    rows = []
    for ind in task_codes(cfg):
        unit = ind["unit"]
        integral = unit not in ("%", "亿元", "万元", "万吨", "万吨标准煤")
        v = task_value(ind["code"], year, month)
        if unit != "%":
            v *= factor
        reporter = cfg.responsible_units(ind["code"])[0]
        rows.append((ind["code"], (year, month), _fmt_value(v, unit, integral), unit, reporter))
    return rows


# --------------------------------------------------------------------------------------------
# 整治台账
# --------------------------------------------------------------------------------------------

ELIM, IMPROVE, MERGE, VACATE = feeds.ACTION_TYPES  # 淘汰落后产能, 整治提升, 兼并重组, 整体腾退
HALF_YEARS = [(2021, 1), (2021, 7), (2022, 1), (2022, 7), (2023, 1), (2023, 7)]  # first month
RECT_COUNTS = {ELIM: (2, 3, 3, 2, 2, 2), IMPROVE: (4, 5, 5, 4, 4, 4), MERGE: (0, 1, 1, 1, 0, 1), VACATE: (1, 1, 1, 1, 1, 1)}
RECT_LAND = (40, 35, 35, 40, 40, 46)  # 亩 per half-year
RECT_ENERGY = (1000, 1000, 1100, 1100, 900, 1400)  # tce per half-year
RECT_CARBON = (1800, 1800, 2000, 2000, 2400, 2000)  # t per half-year (reported on part of the rows)
RECT_OVERLAP = 3  # enterprises with both 淘汰落后产能 and 整治提升 (both before mid-2023)


@dataclass
class RectRow:
    e: int  # enterprise index
    action: str
    date: dt.date
    land: float | None = None
    energy: float | None = None
    carbon: float | None = None
    unit: str = ""

    def row(self, pop: Population) -> tuple:
        return (pop.uscc[self.e], pop.name[self.e], self.action, self.date, self.land, self.energy, self.carbon, self.unit)


def _spread(rng: np.random.Generator, total: float, k: int, ndigits: int) -> list[float]:
    w = rng.uniform(0.5, 1.5, size=k)
    vals = [round(float(x), ndigits) for x in total * w / w.sum()]
    vals[-1] = round(total - sum(vals[:-1]), ndigits)
    return vals


def county_rectification(pop: Population, rng: np.random.Generator, candidates: list[int], above_candidates: list[int]) -> list[RectRow]:
    """The designed 整治台账 (see sample/inbox.py). ``candidates`` are 规下 enterprises, lowest efficiency
    first; ``above_candidates`` 规上 ones. 整体腾退 enterprises close in their sign-off month."""
    pool = list(candidates)
    n_elim = sum(RECT_COUNTS[ELIM])
    elim_ents = above_candidates[:2] + pool[: n_elim - 2]
    pool = pool[n_elim - 2 :]
    rows: list[RectRow] = []
    ents_iter = {ELIM: iter(elim_ents)}
    overlap = [e for e in elim_ents[2:]][:RECT_OVERLAP]
    used_overlap = 0
    for b, (y, m0) in enumerate(HALF_YEARS):
        bucket: list[RectRow] = []
        for action in (ELIM, IMPROVE, MERGE, VACATE):
            for _ in range(RECT_COUNTS[action][b]):
                if action == ELIM:
                    e = next(ents_iter[ELIM])
                elif action == IMPROVE and used_overlap < RECT_OVERLAP and b >= 1 and b <= 3:
                    e = overlap[used_overlap]
                    used_overlap += 1
                else:
                    e = pool.pop(0)
                bucket.append(RectRow(e, action, D(y, m0, 1)))
        # dates: spread over the half-year, the first row of 2021 in January
        for j, r in enumerate(bucket):
            month = m0 + (j * 6) // len(bucket)
            day = int(rng.integers(3, 29))
            r.date = D(y, month, day)
        land_rows = [r for r in bucket if r.action in (MERGE, VACATE) or (r.action == IMPROVE and rng.random() < 0.7)]
        for r, v in zip(land_rows, _spread(rng, RECT_LAND[b], len(land_rows), 1)):
            r.land = v
        en_rows = [r for r in bucket if r.action in (ELIM, VACATE) or (r.action != MERGE and rng.random() < 0.3)]
        for r, v in zip(en_rows, _spread(rng, RECT_ENERGY[b], len(en_rows), 1)):
            r.energy = v
        c_rows = [r for i, r in enumerate(en_rows) if i == 0 or rng.random() < 0.6]
        for r, v in zip(c_rows, _spread(rng, RECT_CARBON[b], len(c_rows), 1)):
            r.carbon = v
        rows += bucket
    for r in rows:
        r.unit = "云和工业园区" if r.action in (VACATE, MERGE) else pop.town[r.e]
        if r.action == VACATE:  # the site is vacated: no more tax or energy after sign-off
            pop.active_to[r.e] = pop.t(r.date.year, r.date.month)
    rows.sort(key=lambda r: (r.date, r.e))
    return rows


def province_rectification(pop: Population, rng: np.random.Generator, year: int, per_enterprise: float = 0.07) -> list[RectRow]:
    n_rows = max(4, int(pop.n * per_enterprise))
    types = rng.choice(len(feeds.ACTION_TYPES), size=n_rows, p=[0.28, 0.52, 0.08, 0.12])
    rows = []
    for ti, action in enumerate(feeds.ACTION_TYPES):
        k = int((types == ti).sum())
        ents = rng.choice(pop.n, size=min(k, pop.n), replace=False)
        for e in ents:
            date = D(year, int(rng.integers(1, 13)), int(rng.integers(1, 29)))
            land = round(float(rng.uniform(1, 20)), 1) if action != ELIM and rng.random() < 0.7 else None
            energy = round(float(rng.uniform(10, 300)), 1) if rng.random() < 0.6 else None
            carbon = round(energy * float(rng.uniform(2.0, 2.8)), 1) if energy is not None and rng.random() < 0.6 else None
            rows.append(RectRow(int(e), action, date, land, energy, carbon, pop.town[int(e)]))
    rows.sort(key=lambda r: (r.date, r.e, r.action))
    return rows


# --------------------------------------------------------------------------------------------
# Projects
# --------------------------------------------------------------------------------------------


@dataclass
class Project:
    code: str
    name: str
    owner: str
    uscc: str | None  # for stages after 签约 when the 签约 row has none
    industry: str
    investment: float
    sign: dt.date
    mountain_sea: bool = False
    funds: float = 0.0  # total 到位资金 at 投产 (山海协作)
    sign_uscc_empty: bool = False
    dup_sign_investment: float | None = None  # re-delivered 签约 row, next quarter, this 总投资


# (签约日期, 行业, 总投资万元, 山海协作到位资金万元 or 0, owner kind) — county design
COUNTY_PROJECTS = [
    # 亿元以上 manufacturing, counted for T09A/K12 (3 per year; 2023: one in H1, two in H2)
    (D(2021, 3, 18), "2459", 32000, 20000, "existing"),
    (D(2021, 6, 9), "3451", 15000, 0, "existing"),
    (D(2021, 10, 21), "3443", 12000, 0, "new"),
    (D(2022, 2, 23), "2459", 45000, 30000, "new"),
    (D(2022, 7, 14), "3484", 18000, 0, "existing"),  # duplicate 签约 row in the next delivery
    (D(2022, 11, 8), "3130", 20000, 0, "existing"),
    (D(2023, 4, 12), "2456", 16000, 12000, "new"),
    (D(2023, 8, 16), "3443", 25000, 0, "new_no_uscc"),  # 签约 before the company is registered
    (D(2023, 11, 22), "3982", 11000, 0, "new"),
    # 亿元以上 manufacturing signed before the window: not counted
    (D(2020, 11, 20), "2459", 30000, 0, "existing"),
    # 亿元以上 but not manufacturing
    (D(2021, 8, 5), "4416", 22000, 0, "new"),
    (D(2022, 5, 19), "5990", 15000, 0, "new"),
    (D(2023, 3, 9), "6513", 12000, 0, "new"),
    # manufacturing below 1亿元 (one just below)
    (D(2021, 4, 26), "2459", 3500, 0, "existing"),
    (D(2021, 9, 13), "3484", 6000, 0, "existing"),
    (D(2021, 12, 2), "2039", 2200, 0, "existing"),
    (D(2022, 3, 30), "3451", 8000, 5000, "new"),
    (D(2022, 6, 21), "2452", 4800, 0, "existing"),
    (D(2022, 9, 7), "3443", 7500, 0, "existing"),
    (D(2022, 12, 15), "2929", 2600, 0, "existing"),
    (D(2023, 2, 20), "2459", 5200, 0, "existing"),
    (D(2023, 5, 25), "3443", 9800, 0, "existing"),
    (D(2023, 9, 4), "3360", 3000, 0, "existing"),
    (D(2023, 12, 6), "2456", 4200, 3000, "new"),
]
# product and output unit by GB/T 4754 division (project names)
PROJECT_PRODUCTS = {"24": ("木制玩具", "万件"), "31": ("精密钢材", "万吨"), "34": ("智能装备", "万台（套）"),
                    "20": ("竹木制品", "万件"), "29": ("塑料制品", "吨"), "33": ("金属表面处理", "万平方米"),
                    "39": ("电子电路", "万平方米"), "44": ("光伏发电", ""), "59": ("冷链仓储", ""),
                    "65": ("工业软件", "")}
STAGE_OFFSETS = ((25, 60), (60, 150), (300, 480))  # days from the previous stage: 备案, 开工, 投产


def _project_code(sign: dt.date, area: str, serial: int) -> str:
    return f"{sign:%y%m}-{area}-04-01-{serial:06d}"


def _project_name(owner: str, product: str, unit: str, rng: np.random.Generator) -> str:
    short = owner.replace("股份有限公司", "").replace("有限公司", "")
    if not unit:
        return f"{short}{product}建设项目"
    return f"{short}年产{int(rng.integers(2, 50)) * 10}{unit}{product}项目"


def county_projects(pop: Population, rng: np.random.Generator, area: str, prefix: str) -> list[Project]:
    above = [i for i in range(pop.n) if pop.in_registry[i] and pop.above[pop.years[0]][i]]
    by_division: dict[str, list[int]] = {}
    for i in above:
        by_division.setdefault(pop.industry[i][:2], []).append(i)
    new_usccs = make_usccs(rng, len(COUNTY_PROJECTS), [area])
    out = []
    serial = rng.choice(np.arange(100000, 999999), size=len(COUNTY_PROJECTS), replace=False)
    for j, (sign, ind, inv, funds, kind) in enumerate(COUNTY_PROJECTS):
        product, unit = PROJECT_PRODUCTS.get(ind[:2], ("新型材料", "吨"))
        if kind == "existing":
            same = by_division.get(ind[:2]) or above
            e = same[int(rng.integers(0, len(same)))]
            owner, code = pop.name[e], pop.uscc[e]
        else:
            owner = f"{prefix}{'智造新材恒达星辰华创瑞丰'[j % 12:][:2]}{product}有限公司"
            code = new_usccs[j]
        p = Project(_project_code(sign, area, int(serial[j])), _project_name(owner, product, unit, rng), owner, code,
                    ind, float(inv), sign, funds > 0, float(funds), kind == "new_no_uscc")
        if sign == D(2022, 7, 14):
            p.dup_sign_investment = 21000.0
        out.append(p)
    return out


def province_projects(pop: Population, rng: np.random.Generator, year: int, per_enterprise: float = 0.048) -> list[Project]:
    n = max(6, int(pop.n * per_enterprise))
    codes = ["2459", "3130", "3451", "3443", "3484", "3982", "2929", "3360", "2039", "4416", "5990", "6513"]
    out = []
    for j in range(n):
        sign = D(year, 1, 1) + dt.timedelta(days=int(rng.integers(-200, 365)))
        ind = codes[int(rng.integers(0, len(codes)))]
        big = rng.random() < 0.25
        inv = float(round(rng.uniform(10000, 80000) if big else rng.uniform(500, 9900), -1))
        e = int(rng.integers(0, pop.n))
        ms = rng.random() < 0.1
        product, unit = PROJECT_PRODUCTS.get(ind[:2], ("新型材料", "吨"))
        p = Project(_project_code(sign, pop.uscc[e][2:8], j), _project_name(pop.name[e], product, unit, rng),
                    pop.name[e], pop.uscc[e], ind, inv, sign, ms, round(inv * 0.6, 1) if ms else 0.0)
        out.append(p)
    return out


def project_rows(p: Project, rng: np.random.Generator, until: dt.date, since: dt.date | None = None):
    """(stage date, row) for each stage reached by ``until`` (and on or after ``since``)."""
    dates = [p.sign]
    for lo, hi in STAGE_OFFSETS:
        dates.append(dates[-1] + dt.timedelta(days=int(rng.integers(lo, hi))))
    fractions = (0.0, 0.2, 0.5, 1.0)
    out = []
    for stage, date, frac in zip(feeds.PROJECT_STAGES, dates, fractions):
        if date > until:
            break
        if since and date < since:
            continue
        uscc = None if (stage == feeds.PROJECT_STAGES[0] and p.sign_uscc_empty) else p.uscc
        funds = round(p.funds * frac, 1) if p.mountain_sea else None
        out.append((date, (p.code, p.name, p.owner, uscc, p.industry, p.investment, stage, date, p.mountain_sea, funds)))
    return out
