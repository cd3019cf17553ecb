"""The enterprise population behind the sample inbox, and its monthly figures.

Per-enterprise attributes and annual values are numpy arrays (O(enterprises)); monthly rows are
produced per chunk of enterprises and handed to the writers at once, so nothing of size
enterprises x months is ever held for more than one chunk.

Annual values are *calibrated*: per year and cohort (规上 evaluated set, 规上 excluded groups such
as 钢压延, 规下) they are scaled so that the county totals land exactly on the design (亩均税收,
亩均增加值, labour productivity, R&D intensity, ...). Monthly shares are normalised per
enterprise, so every enterprise's 12 months add up to its annual value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import uscc as uscc_mod
from ..config import PlanConfig

# Seasonal shares by calendar month (normalised below).
W_PROD = np.array([0.070, 0.058, 0.086, 0.086, 0.087, 0.089, 0.082, 0.081, 0.088, 0.089, 0.091, 0.103])
W_VAT = np.array([0.095, 0.070, 0.060, 0.085, 0.085, 0.087, 0.089, 0.082, 0.081, 0.088, 0.089, 0.091])
# 企业所得税: quarterly prepayment in the month after each quarter, annual settlement in May.
W_CIT = np.array([0.22, 0.02, 0.02, 0.20, 0.08, 0.02, 0.20, 0.02, 0.02, 0.20, 0.02, 0.02])
W_ENERGY = np.array([0.085, 0.065, 0.085, 0.083, 0.084, 0.088, 0.092, 0.092, 0.085, 0.082, 0.083, 0.086])
TCE_PER_10K_KWH = 3.0  # 等价值: about 300 gce per kWh

NAME_CHARS = "华瑞盛达鑫源恒泰宏丰兴隆昌信诚嘉祥富通顺新远金凯乐童趣森林竹艺宝贝星光明辉正德康安永茂立科航宇博雅"
GROUP_WORDS = {
    "木玩": ["玩具", "木制玩具", "教玩具", "工艺玩具", "童车", "木业"],
    "钢压延": ["钢业", "金属材料", "特钢", "冷轧"],
    "轴承": ["轴承", "精密轴承", "传动部件"],
    "阀门": ["阀门", "阀业", "流体控制", "管阀"],
}
OTHER_WORDS = ["机械", "电子", "新材料", "竹木制品", "工艺品", "食品", "服饰", "五金", "包装", "塑业"]
# Manufacturing classes (GB/T 4754-2017) used for the default group; filtered through the config
# so that none of them falls into a named industry group.
OTHER_CODES = ["2039", "2110", "3484", "3360", "2431", "1469", "2929", "3489", "3399", "3311",
               "2231", "2669", "3062", "3824", "3982", "1713", "1830", "2190", "3419", "3599"]
# Sub-classes tried for a 3-digit industry-group prefix such as 245 (玩具制造).
SUBCLASS_DIGITS = ["9", "2", "6", "1", "3"]


@dataclass
class YearDesign:
    """Calibration targets for one year (money in 万元)."""

    va_per_mu_eval: float  # Σ 工业增加值 ÷ Σ 用地, 规上 evaluated set
    va_per_mu_excluded: float  # same for the excluded groups (钢压延)
    tax_per_mu_eval: float  # Σ 税收 ÷ Σ 用地, evaluated set
    tax_per_mu_excluded: float
    tax_per_mu_below: float  # 规下
    labour_productivity: float  # 万元 per person, all 规上
    rd_rate_pct: float  # Σ 研发费用 ÷ Σ 营业收入 × 100, all 规上
    energy_per_va: float  # tce per 万元 value added, all 规上
    energy_per_mu_below: float  # tce per mu, 规下


@dataclass
class Population:
    years: list[int]
    uscc: list[str]
    name: list[str]
    industry: list[str]
    group: np.ndarray  # industry group name (object array)
    town: list[str]
    land: np.ndarray  # mu
    excluded: np.ndarray  # bool: group excluded from 亩均 (钢压延)
    in_registry: np.ndarray  # bool
    above: dict[int, np.ndarray] = field(default_factory=dict)  # 规上 in the year's roster
    active_from: np.ndarray | None = None  # first month index with tax/energy (0 = Jan of years[0])
    active_to: np.ndarray | None = None  # last month index
    traits: dict[str, np.ndarray] = field(default_factory=dict)
    annual: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.uscc)

    def t(self, year: int, month: int) -> int:
        return (year - self.years[0]) * 12 + month - 1

    def roster(self, year: int) -> np.ndarray:
        """Registry members of the year's snapshot: registered and active in January."""
        t0 = self.t(year, 1)
        return self.in_registry & (self.active_from <= t0) & (self.active_to >= t0)

    def above_mask(self, year: int) -> np.ndarray:
        return self.roster(year) & self.above[year]


def _codes_for(cfg: PlanConfig, group: str) -> list[str]:
    if group == cfg["industry_default_group"]:
        return [c for c in OTHER_CODES if cfg.industry_group(c) == group]
    for g in cfg["industry_groups"]:
        if g["name"] == group:
            out = []
            for p in g["prefixes"]:
                if len(p) >= 4:
                    out.append(p[:4])
                else:
                    out += [(p + d * 4)[:4] for d in SUBCLASS_DIGITS]
            return [c for c in out if cfg.industry_group(c) == group]
    raise KeyError(group)


def make_usccs(rng: np.random.Generator, n: int, area_codes: list[str]) -> list[str]:
    charset = np.array(list(uscc_mod.CHARSET[:10] + uscc_mod.CHARSET[10:]))
    digits = rng.integers(0, 10, size=(n, 8))
    last = rng.integers(0, len(charset), size=n)
    areas = rng.integers(0, len(area_codes), size=n)
    seen: set[str] = set()
    out = []
    for i in range(n):
        body = "91" + area_codes[areas[i]] + "".join(map(str, digits[i])) + charset[last[i]]
        code = uscc_mod.make(body)
        while code in seen:  # vanishingly rare; keep codes unique
            body = body[:-1] + uscc_mod.CHARSET[(uscc_mod.CHARSET.index(body[-1]) + 1) % 31]
            code = uscc_mod.make(body)
        seen.add(code)
        out.append(code)
    return out


def build_population(
    cfg: PlanConfig,
    rng: np.random.Generator,
    *,
    years: list[int],
    group_counts_above: dict[str, int],
    group_counts_below: dict[str, int],
    n_unregistered: int,
    area_codes: list[str],
    name_prefixes: list[str],
    land_above_mean: float,
    town_weights: list[float] | None = None,
) -> Population:
    """Enterprises (规上 first, then 规下, then any missing from the registry) with fixed traits."""
    groups: list[str] = []
    for g, k in group_counts_above.items():
        groups += [g] * k
    n_above = len(groups)
    for g, k in group_counts_below.items():
        groups += [g] * k
    n_below = len(groups) - n_above
    groups += [cfg["industry_default_group"]] * n_unregistered
    n = len(groups)
    group = np.array(groups, dtype=object)
    # shuffle groups within the 规上 and 规下 blocks so that neighbours differ
    group[:n_above] = group[:n_above][rng.permutation(n_above)]
    group[n_above : n_above + n_below] = group[n_above : n_above + n_below][rng.permutation(n_below)]

    excluded_groups = set(cfg["per_mu_excluded_groups"])
    excluded = np.array([g in excluded_groups for g in group])
    codes_by_group = {g: _codes_for(cfg, g) for g in set(groups)}
    code_pick = rng.random(n)
    industry = []
    for i, g in enumerate(group):
        cs = codes_by_group[g]
        # the first class of a group is the most common one (e.g. 2459 其他玩具制造)
        k = 0
        if len(cs) > 1 and code_pick[i] >= 0.55:
            k = 1 + int((code_pick[i] - 0.55) / 0.45 * (len(cs) - 1))
        industry.append(cs[min(k, len(cs) - 1)])

    towns = list(cfg["towns"])
    w = np.array(town_weights if town_weights else [1.0] * len(towns), dtype=float)
    town_idx = rng.choice(len(towns), size=n, p=w / w.sum())
    town_idx[: min(n, len(towns))] = np.arange(min(n, len(towns)))  # every town occurs
    town = [towns[i] for i in town_idx]

    # names
    c = np.array(list(NAME_CHARS))
    n_chars = 2 if n < 2000 else 3
    zh = rng.integers(0, len(c), size=(n, n_chars))
    word_pick = rng.integers(0, 1000, size=n)
    pre_pick = rng.integers(0, len(name_prefixes), size=n)
    suffix_pick = rng.random(n)
    names = []
    for i in range(n):
        words = GROUP_WORDS.get(group[i], OTHER_WORDS)
        suffix = "股份有限公司" if suffix_pick[i] < 0.15 else "有限公司"
        names.append(f"{name_prefixes[pre_pick[i]]}{''.join(c[zh[i]])}{words[word_pick[i] % len(words)]}{suffix}")

    # land: 规上 lognormal around the mean (steel works are large), 规下 3..25 mu
    land = np.empty(n)
    size = rng.lognormal(0.0, 0.55, size=n_above)
    land[:n_above] = land_above_mean * size * np.where(excluded[:n_above], 1.8, 1.0)
    land[n_above:] = 3.0 + rng.gamma(2.0, 4.0, size=n - n_above)
    land = np.clip(land, 3.0, None)

    in_registry = np.ones(n, dtype=bool)
    if n_unregistered:
        in_registry[-n_unregistered:] = False
    pop = Population(
        years=list(years),
        uscc=make_usccs(rng, n, area_codes),
        name=names,
        industry=industry,
        group=group,
        town=town,
        land=land,
        excluded=excluded,
        in_registry=in_registry,
    )
    pop.active_from = np.zeros(n, dtype=int)
    pop.active_to = np.full(n, len(years) * 12 - 1, dtype=int)
    first = np.zeros(n, dtype=bool)
    first[:n_above] = True
    for y in years:
        pop.above[y] = first.copy()
    # enterprise traits used every year
    pop.traits = {
        "eff": rng.lognormal(0.0, 0.45, size=n),  # value added per mu, relative
        "tax_rate": rng.lognormal(0.0, 0.30, size=n),  # tax per value added, relative
        "intensity": rng.lognormal(0.0, 0.45, size=n) * np.where(excluded, 4.0, 1.0),
        "emp": rng.lognormal(0.0, 0.30, size=n),
        "rev_ratio": np.where(excluded, rng.uniform(7.0, 10.0, size=n), rng.uniform(3.0, 4.6, size=n)),
        "out_ratio": rng.uniform(0.95, 1.08, size=n),
        "rd": rng.lognormal(0.0, 0.8, size=n),
        "vat_share": rng.uniform(0.45, 0.65, size=n),
        "cit_share": rng.uniform(0.15, 0.30, size=n),
        "elec_share": rng.uniform(0.70, 0.95, size=n),
        "growth": rng.lognormal(np.log(1.08), 0.06, size=(len(years), n)),
        "energy_below": rng.lognormal(0.0, 0.5, size=n),
    }
    return pop


def _scale(x: np.ndarray, mask: np.ndarray, target: float) -> None:
    s = float(x[mask].sum())
    if mask.any() and s > 0:
        x[mask] *= target / s


def calibrate(pop: Population, designs: dict[int, YearDesign]) -> None:
    """Annual values per year, scaled cohort by cohort onto the design."""
    tr = pop.traits
    cum_growth = np.cumprod(tr["growth"], axis=0)
    for yi, y in enumerate(pop.years):
        d = designs[y]
        above = pop.above_mask(y)
        ev = above & ~pop.excluded
        ex = above & pop.excluded
        below = ~above
        va = pop.land * tr["eff"] * cum_growth[yi]
        _scale(va, ev, d.va_per_mu_eval * pop.land[ev].sum())
        _scale(va, ex, d.va_per_mu_excluded * pop.land[ex].sum())
        tax = va * tr["tax_rate"]
        _scale(tax, ev, d.tax_per_mu_eval * pop.land[ev].sum())
        _scale(tax, ex, d.tax_per_mu_excluded * pop.land[ex].sum())
        _scale(tax, below, d.tax_per_mu_below * pop.land[below].sum())
        va_above = float(va[above].sum())
        emp = np.maximum(np.round(va ** 0.85 * tr["emp"]), 8.0)
        _scale(emp, above, va_above / d.labour_productivity)
        emp = np.maximum(np.round(emp), 8.0)
        rev = va * tr["rev_ratio"]
        rd = rev * tr["rd"]
        _scale(rd, above, d.rd_rate_pct / 100.0 * float(rev[above].sum()))
        energy = va * tr["intensity"]
        _scale(energy, above, d.energy_per_va * va_above)
        energy_b = pop.land * tr["energy_below"]
        _scale(energy_b, below, d.energy_per_mu_below * pop.land[below].sum())
        energy = np.where(above, energy, energy_b)
        pop.annual[y] = {
            "va": va, "tax": tax, "emp": emp, "rev": rev, "out": rev * tr["out_ratio"], "rd": rd,
            "energy": energy,
        }


def _shares(rng: np.random.Generator, base: np.ndarray, k: int, sigma: float) -> np.ndarray:
    w = base[None, :] * rng.lognormal(0.0, sigma, size=(k, 12))
    return w / w.sum(axis=1, keepdims=True)


def month_block(pop: Population, year: int, lo: int, hi: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Monthly figures (k x 12) for enterprises lo..hi-1 in ``year``, rounded as delivered."""
    a = pop.annual[year]
    k = hi - lo
    tr = pop.traits
    sl = slice(lo, hi)
    w_prod = _shares(rng, W_PROD, k, 0.08)
    w_vat = _shares(rng, W_VAT, k, 0.12)
    w_cit = _shares(rng, W_CIT, k, 0.15)
    w_oth = _shares(rng, W_VAT, k, 0.10)
    w_en = _shares(rng, W_ENERGY, k, 0.06)
    tax = a["tax"][sl, None]
    vat_s = tr["vat_share"][sl, None]
    cit_s = tr["cit_share"][sl, None]
    vat = np.round(tax * vat_s * w_vat, 2)
    cit = np.round(tax * cit_s * w_cit, 2)
    oth = np.round(tax * (1.0 - vat_s - cit_s) * w_oth, 2)
    energy = np.round(a["energy"][sl, None] * w_en, 2)
    elec = np.round(energy * tr["elec_share"][sl, None] / TCE_PER_10K_KWH, 2)
    cum = np.cumsum(w_prod, axis=1)
    va_cum = np.round(a["va"][sl, None] * cum, 2)
    rev_cum = np.round(a["rev"][sl, None] * cum, 2)
    out_cum = np.round(a["out"][sl, None] * cum, 2)
    rd_cum = np.round(a["rd"][sl, None] * cum, 2)
    # monthly headcount drifts a little; the report gives the average of months 1..N
    head = a["emp"][sl, None] * (1.0 + rng.normal(0.0, 0.015, size=(k, 12)) + np.linspace(-0.01, 0.01, 12)[None, :])
    emp_avg = np.round(np.cumsum(head, axis=1) / np.arange(1, 13)[None, :])
    return {
        "vat": vat, "cit": cit, "other": oth, "total": np.round(vat + cit + oth, 2),
        "energy": energy, "elec": elec,
        "out_cum": out_cum, "va_cum": va_cum, "rev_cum": rev_cum, "rd_cum": rd_cum, "emp_avg": emp_avg,
    }
