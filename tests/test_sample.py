"""The sample inbox, read back by an independent reader that follows only feeds.md.

The reader below does its own encoding detection (BOM, strict UTF-8, charset-normalizer for
GBK), finds header rows itself (title rows above them), normalises headers and cells, and applies
feeds.md -> Keys in arrival order (mtime, then name). Only the header *texts* come from
mfg_indicators.feeds (the contract as data); nothing of the project's reading code is used.
On top of the issue's Done-when list it recomputes the indicators of indicators.md for 2023-06 and
2023-12 and checks them against the designed landing table in mfg_indicators.sample.inbox.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import math
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from mfg_indicators import feeds, uscc
from mfg_indicators.config import load_config
from mfg_indicators.sample import DESIGNED_STATUS, generate

CFG = load_config()

# ------------------------------------------------------------------ independent reader


def norm_header(x) -> str:
    s = "" if x is None else str(x)
    s = re.sub(r"[\s\u3000\ufeff]+", "", s)
    return s.replace("(", "（").replace(")", "）")


HEADER_SETS = {t.name: {h: c.name for h, c in zip(t.headers, t.columns)} for t in feeds.TABLES.values()}


def which_table(cells) -> str | None:
    hs = {norm_header(c) for c in cells if c is not None and str(c).strip()}
    for name, mapping in HEADER_SETS.items():
        if hs == set(mapping):
            return name
    return None


def detect_text(data: bytes) -> tuple[str, str]:
    """(encoding, text): BOM, then strict UTF-8, then charset detection."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", data[3:].decode("utf-8")
    try:
        return "utf-8", data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    assert best is not None, "undetectable encoding"
    enc = best.encoding.lower().replace("_", "")
    assert enc in ("gbk", "gb2312", "gb18030"), f"unexpected encoding {best.encoding}"
    return "gbk", data.decode("gb18030")


def grids_of(path: Path):
    """[(sheet, encoding, rows)] — rows as lists of raw cell values."""
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        out = [(ws.title, "xlsx", [list(r) for r in ws.iter_rows(values_only=True)]) for ws in wb.worksheets]
        wb.close()
        return out
    enc, text = detect_text(path.read_bytes())
    df = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False)
    return [(None, enc, df.values.tolist())]


MONTH_RES = (re.compile(r"^(\d{4})-(\d{2})$"), re.compile(r"^(\d{4})(\d{2})$"), re.compile(r"^(\d{4})年(\d{1,2})月$"))


def parse_month(v) -> str:
    s = str(v).strip()
    for rx in MONTH_RES:
        m = rx.match(s)
        if m:
            y, mo = int(m.group(1)), int(m.group(2))
            assert 1 <= mo <= 12, s
            return f"{y:04d}-{mo:02d}"
    raise AssertionError(f"bad month {v!r}")


def parse_date(v) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    s = str(v).strip()
    m = re.match(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$", s)
    assert m, f"bad date {v!r}"
    return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def parse_number(v):
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    return float(str(v).replace(",", "").strip())


def parse_cell(col: feeds.Column, v):
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if col.type in ("number", "int"):
        return parse_number(v)
    if col.type == "month":
        return parse_month(v)
    if col.type == "date":
        return parse_date(v)
    if col.type == "yesno":
        assert str(v).strip() in ("是", "否"), v
        return str(v).strip() == "是"
    return str(v).strip()


def read_delivery(path: Path):
    """[(table, encoding, title_row_skipped, DataFrame of parsed values)]."""
    out = []
    for _sheet, enc, rows in grids_of(path):
        hdr = next((i for i, r in enumerate(rows[:5]) if which_table(r)), None)
        assert hdr is not None, f"{path.name}: no recognisable header row"
        name = which_table(rows[hdr])
        table = feeds.TABLES[name]
        heads = [norm_header(c) for c in rows[hdr]]
        cols = [HEADER_SETS[name][h] for h in heads]
        recs = []
        for r in rows[hdr + 1 :]:
            if all(c is None or str(c).strip() == "" for c in r):
                continue
            rec = {}
            for cname, v in zip(cols, r):
                rec[cname] = parse_cell(table.column(cname), v)
            recs.append(rec)
        df = pd.DataFrame(recs, columns=list(table.column_names))
        out.append((name, enc, hdr > 0, df))
    return out


def read_inbox(inbox: Path):
    files = sorted((p for p in inbox.rglob("*") if p.is_file()), key=lambda p: (p.stat().st_mtime, p.name))
    deliveries = []
    for order, p in enumerate(files):
        for name, enc, titled, df in read_delivery(p):
            deliveries.append(SimpleNamespace(path=p, order=order, table=name, encoding=enc, titled=titled, df=df))
    return deliveries


def apply_keys(deliveries) -> dict[str, pd.DataFrame]:
    """feeds.md -> Keys, in arrival order; duplicate keys within a delivery are an error."""
    core: dict[str, pd.DataFrame] = {}
    for d in deliveries:
        t = feeds.TABLES[d.table]
        df = d.df
        assert not df.duplicated(list(t.key)).any(), f"{d.path.name}: duplicate key within a delivery"
        old = core.get(d.table)
        if old is None:
            core[d.table] = df.copy()
            continue
        if t.replace_by:
            keep = old[~old[t.replace_by].isin(set(df[t.replace_by]))]
        else:
            keys = set(map(tuple, df[list(t.key)].astype(str).values.tolist()))
            keep = old[[tuple(k) not in keys for k in old[list(t.key)].astype(str).values.tolist()]]
        core[d.table] = pd.concat([keep, df], ignore_index=True)
    return core


# ------------------------------------------------------------------ indicators.md


def status(kind: str, value: float, target: float, n: int, months_elapsed: int) -> str:
    if kind == "level":
        return "green" if value >= target else "yellow" if value >= 0.9 * target else "red"
    if kind == "rate":
        return "green" if value >= target else "yellow" if value >= target - 3 else "red"
    if kind == "annualized":
        v = value * 12 / n
        return "green" if v >= target else "yellow" if v >= 0.9 * target else "red"
    progress = value / target
    tp = months_elapsed / 36 if kind == "cumulative" else n / 12
    if progress >= 1:
        return "done"
    return "green" if progress >= tp else "yellow" if progress >= tp - 0.10 else "red"


def compute_indicators(core, period: str) -> dict[str, tuple[float, str]]:
    y, n = int(period[:4]), int(period[5:])
    elapsed = (y - 2021) * 12 + n
    end = dt.date(y, n, 28) + dt.timedelta(days=4)
    end = end - dt.timedelta(days=end.day)  # last day of the month
    reg = core["registry"]
    roster = reg[reg.roster_year == max(ry for ry in reg.roster_year.unique() if ry <= y)]
    above = roster[roster.is_above_scale]
    excluded_groups = set(CFG["per_mu_excluded_groups"])
    evaluated = above[[CFG.industry_group(c) not in excluded_groups for c in above.industry_code]]
    evaluated = evaluated[evaluated.land_mu > 0]
    vals: dict[str, float] = {}

    tax = core["tax"]
    tax_y = tax[(tax.period >= f"{y}-01") & (tax.period <= period)]
    tax_by = tax_y.groupby("uscc").total_tax.sum()
    ev_t = evaluated[evaluated.uscc.isin(tax_by.index)]
    vals["T03"] = tax_by[ev_t.uscc].sum() / ev_t.land_mu.sum()
    se = core["stats_enterprise"]
    se_n = se[se.period == period].set_index("uscc")
    ev_v = evaluated[evaluated.uscc.isin(se_n.index)]
    vals["T04"] = se_n.value_added[ev_v.uscc].sum() / ev_v.land_mu.sum()
    rep = se_n[se_n.index.isin(above.uscc)]
    vals["T05"] = rep.value_added.sum() / rep.employees.sum()
    vals["T11"] = rep.rd_expense.sum() / rep.revenue.sum() * 100

    sc = core["stats_county"].set_index(["indicator_name", "period"]).value

    def quarter_value(name):
        for q_end in range(n - n % 3, 0, -3):
            p = f"{y}-{q_end:02d}"
            if (name, p) in sc.index:
                return p
        return f"{y - 1}-12"

    p1 = quarter_value("工业增加值")
    vals["T01"] = sc[("工业增加值", p1)] / sc[("地区生产总值", p1)] * 100
    vals["T02"] = sc[("规上工业增加值增速", period)]
    vals["T09B"] = sc[("制造业投资增速", period)]
    for code, name in (("T02A", "规上工业增加值增速"), ("T09BA", "制造业投资增速")):
        gs = [sc[(name, f"{yy}-12")] for yy in range(2021, y)] + [sc[(name, period)]]
        vals[code] = (math.prod(1 + g / 100 for g in gs) ** (1 / len(gs)) - 1) * 100
    vals["T06"] = sc[("规上工业单位增加值能耗下降率", quarter_value("规上工业单位增加值能耗下降率"))]

    re_ = core["rectification"]
    win = re_[(re_.signoff_date >= dt.date(2021, 1, 1)) & (re_.signoff_date <= end)]
    this = re_[(re_.signoff_date >= dt.date(y, 1, 1)) & (re_.signoff_date <= end)]
    vals["T07"] = win[win.action_type == "淘汰落后产能"].uscc.nunique()
    vals["T08A"] = win.land_freed_mu.sum(skipna=True)
    vals["T08B"] = win.uscc.nunique()
    vals["T08C"] = win.energy_freed_tce.sum(skipna=True) / 10000
    vals["T08D"] = win.carbon_reduced_t.sum(skipna=True) / 10000
    vals["K01"] = this.energy_freed_tce.sum(skipna=True) / 10000

    pr = core["projects"]
    mfg = np.array([str(c)[:2].isdigit() and 13 <= int(str(c)[:2]) <= 43 for c in pr.industry_code], dtype=bool)
    big = pr[mfg & (pr.total_investment >= 10000).to_numpy()]
    first_sign = big[big.stage == "签约"].groupby("project_code").stage_date.min()
    vals["T09A"] = int(((first_sign >= dt.date(2021, 1, 1)) & (first_sign <= end)).sum())
    vals["K12"] = int(((first_sign >= dt.date(y, 1, 1)) & (first_sign <= end)).sum())

    tr = core["task_report"]
    for ind in CFG.indicators:
        if ind["method"] != "task_report":
            continue
        rows = tr[(tr.indicator_code == ind["code"]) & (tr.period <= period)]
        if ind["kind"] == "this_year":
            rows = rows[rows.period >= f"{y}-01"]
        vals[ind["code"]] = float(rows.sort_values("period").value.iloc[-1])

    out = {}
    for ind in CFG.indicators:
        v = vals[ind["code"]]
        out[ind["code"]] = (v, status(ind["kind"], v, ind["target"], n, elapsed))
    return out


# ------------------------------------------------------------------ fixtures


def _snapshot(inbox: Path) -> dict[str, tuple[str, float]]:
    return {str(p.relative_to(inbox)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime)
            for p in sorted(inbox.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    out = tmp_path_factory.mktemp("county")
    summary = generate(out, seed=7)
    inbox = out
    deliveries = read_inbox(inbox)
    return SimpleNamespace(summary=summary, inbox=inbox, deliveries=deliveries, core=apply_keys(deliveries))


# ------------------------------------------------------------------ Done-when list


def test_all_eight_tables_in_their_source_folders(county):
    found = {(d.table, d.path.parent.name) for d in county.deliveries}
    assert {t for t, _ in found} == set(feeds.TABLES)
    for table, folder in found:
        assert feeds.TABLES[table].source == folder
    assert {p.name for p in county.inbox.iterdir()} == set(feeds.SOURCES)
    assert county.summary["files"] == sum(1 for p in county.inbox.rglob("*") if p.is_file())


def test_formats_mix(county):
    encs = {(d.path.suffix, d.encoding) for d in county.deliveries}
    assert (".csv", "gbk") in encs and (".csv", "utf-8-sig") in encs and (".csv", "utf-8") in encs
    assert any(d.titled and d.path.suffix == ".xlsx" for d in county.deliveries)
    # a stats workbook with both tables, 主要指标 first
    from openpyxl import load_workbook

    both = [p for p in (county.inbox / "stats").glob("*.xlsx")]
    assert both
    wb = load_workbook(both[0], read_only=True)
    first = [list(r) for r in wb.worksheets[0].iter_rows(max_row=1, values_only=True)][0]
    assert which_table(first) == "stats_county" and len(wb.worksheets) == 2
    wb.close()
    # the raw files carry every month spelling, half-width parentheses, thousands separators
    raw = "".join(detect_text(p.read_bytes())[1] for p in county.inbox.rglob("*.csv"))
    assert re.search(r"\b2022-0\d\b", raw) and re.search(r"\b2023年\d{1,2}月", raw)
    gbk_raw = raw
    assert re.search(r",2021\d\d,", gbk_raw)
    assert "增值税(万元)" in raw and re.search(r'"\d{1,3}(,\d{3})+\.\d\d"', raw)
    assert re.search(r",20\d\d/\d{1,2}/\d{1,2},", raw)


def test_uscc_valid_and_towns(county):
    reg = county.core["registry"]
    for t in ("registry", "tax", "energy", "stats_enterprise", "rectification"):
        codes = county.core[t].uscc.dropna()
        assert len(codes) and all(uscc.is_valid(c) for c in codes), t
    pr = county.core["projects"].uscc
    assert pr.isna().any() and all(uscc.is_valid(c) for c in pr.dropna())
    assert set(reg.town) == set(CFG["towns"])
    assert set(reg.roster_year) == {2021, 2022, 2023}
    groups = {CFG.industry_group(c) for c in reg.industry_code}
    assert groups == {g["name"] for g in CFG["industry_groups"]} | {CFG["industry_default_group"]}


def test_rosters(county):
    reg = county.core["registry"]
    n_above = reg[reg.is_above_scale].groupby("roster_year").uscc.nunique()
    assert n_above[2023] >= 60 and 90 <= n_above[2023] <= 115
    below23 = reg[(reg.roster_year == 2023) & ~reg.is_above_scale]
    assert 130 <= len(below23) <= 170 and (below23.land_mu >= 3).all()
    a21 = set(reg[(reg.roster_year == 2021) & reg.is_above_scale].uscc)
    a23 = set(reg[(reg.roster_year == 2023) & reg.is_above_scale].uscc)
    assert 3 <= len(a23 - a21) <= 15  # 小升规
    assert a21 != a23


def test_tax_every_month_and_components(county):
    tax = county.core["tax"]
    months = {f"{y}-{m:02d}" for y in (2021, 2022, 2023) for m in range(1, 13)}
    assert set(tax.period) == months
    comp = tax[["vat", "cit", "other_tax"]].sum(axis=1)
    assert (comp - tax.total_tax).abs().max() <= 0.01 + 1e-9
    # every registered 规上 enterprise pays in every month of its roster year
    reg = county.core["registry"]
    for y in (2021, 2022, 2023):
        ab = set(reg[(reg.roster_year == y) & reg.is_above_scale].uscc)
        per = tax[tax.period.str.startswith(str(y))].groupby("period").uscc.apply(set)
        assert all(ab <= s for s in per)
    # all raw tax deliveries also sum (not only the surviving rows)
    for d in county.deliveries:
        if d.table == "tax":
            assert ((d.df[["vat", "cit", "other_tax"]].sum(axis=1) - d.df.total_tax).abs() <= 0.01 + 1e-9).all()


def test_energy_and_stats_shapes(county):
    en = county.core["energy"]
    assert en.period.nunique() == 36 and (en.energy_tce > 0).all()
    se = county.core["stats_enterprise"]
    assert not se.period.str.endswith("-01").any()  # no January 企业月报
    assert {p[5:] for p in se.period} == {f"{m:02d}" for m in range(2, 13)}
    reg = county.core["registry"]
    for y in (2021, 2022, 2023):
        ab = set(reg[(reg.roster_year == y) & reg.is_above_scale].uscc)
        assert set(se[se.period.str.startswith(str(y))].uscc) == ab  # 规上 only
    # cumulative: value added grows month on month within each year
    g = se.sort_values("period").groupby(["uscc", se.period.str[:4]]).value_added
    assert (g.diff().dropna() > 0).all()


def test_county_indicators_shape(county):
    sc = county.core["stats_county"]
    assert set(sc.scope) == {"累计"}
    for name, unit in feeds.COUNTY_INDICATOR_UNITS.items():
        assert set(sc[sc.indicator_name == name].unit) == {unit}
    for name in ("地区生产总值", "工业增加值", "规上工业单位增加值能耗下降率"):
        assert {p[5:] for p in sc[sc.indicator_name == name].period} == {"03", "06", "09", "12"}
    for name in ("规上工业增加值增速", "制造业投资增速", "规上工业增加值"):
        assert {p[5:] for p in sc[sc.indicator_name == name].period} == {f"{m:02d}" for m in range(2, 13)}


def test_magnitudes(county):
    sc = county.core["stats_county"].set_index(["indicator_name", "period"]).value
    reg, tax, se = county.core["registry"], county.core["tax"], county.core["stats_enterprise"]
    for y in (2021, 2022, 2023):
        assert 95 <= sc[("地区生产总值", f"{y}-12")] <= 105
        ab = reg[(reg.roster_year == y) & reg.is_above_scale]
        va = se[(se.period == f"{y}-12") & se.uscc.isin(ab.uscc)].value_added.sum() / 10000
        assert 25 <= va <= 30, (y, va)
        assert abs(va / sc[("规上工业增加值", f"{y}-12")] - 1) <= 0.03  # reconciles
        assert 3000 <= ab.land_mu.sum() <= 4000
        per_mu = tax[tax.period.str.startswith(str(y)) & tax.uscc.isin(ab.uscc)].total_tax.sum() / ab.land_mu.sum()
        assert 15 <= per_mu <= 21, (y, per_mu)


def test_task_report_units_and_resets(county):
    tr = county.core["task_report"]
    codes = [i for i in CFG.indicators if i["method"] == "task_report"]
    assert {i["code"] for i in codes} == set(tr.indicator_code)
    for ind in codes:
        rows = tr[tr.indicator_code == ind["code"]].sort_values("period")
        assert len(rows) == 36 and set(rows.unit) == {ind["unit"]}
        if ind["kind"] == "this_year":
            jan = rows[rows.period.str.endswith("-01")].value
            dec = rows[rows.period.str.endswith("-12")].value
            assert (jan.values < dec.values).all()  # resets each January
        if ind["kind"] in ("this_year", "cumulative"):
            for y in ("2021", "2022", "2023"):
                v = rows[rows.period.str.startswith(y)].value if ind["kind"] == "this_year" else rows.value
                assert (np.diff(v.values) >= 0).all()


def test_legal_imperfections(county):
    tax, reg, core = county.core["tax"], county.core["registry"], county.core
    assert (tax.total_tax < 0).sum() >= 1  # a refund month
    assert set(tax.uscc) - set(reg.uscc)  # an enterprise missing from the registry
    assert set(core["energy"].uscc) - set(reg.uscc)
    # corrected re-delivery: two deliveries of 2023-06 tax, the later one wins and differs
    jun = [d for d in county.deliveries if d.table == "tax" and "2023-06" in set(d.df.period)]
    assert len(jun) == 2 and jun[0].order < jun[1].order
    a, b = (d.df.set_index("uscc").total_tax for d in jun)
    assert len(b) > len(a) and (a - b[a.index]).abs().max() > 1
    assert tax[tax.period == "2023-06"].set_index("uscc").total_tax.sort_index().equals(b.sort_index())
    # the same file twice under another name
    digests = {}
    for p in county.inbox.rglob("*"):
        if p.is_file():
            digests.setdefault(hashlib.sha256(p.read_bytes()).hexdigest(), []).append(p)
    assert any(len(v) == 2 for v in digests.values())
    # a dip in a cumulative 企业月报 value
    se = core["stats_enterprise"].sort_values("period")
    dips = se.groupby(["uscc", se.period.str[:4]]).gross_output.diff()
    assert (dips < 0).sum() >= 1
    # a 签约 row delivered again later (same key), a project without USCC on 签约
    sign = [d.df[d.df.stage == "签约"].project_code for d in county.deliveries if d.table == "projects"]
    assert pd.concat(sign).duplicated().any()
    # empty cells in 整治台账, all four types
    rect = core["rectification"]
    assert set(rect.action_type) == set(feeds.ACTION_TYPES)
    assert rect.land_freed_mu.isna().any() and rect.carbon_reduced_t.isna().any()


def test_projects_shape(county):
    pr = county.core["projects"]
    assert set(pr.stage) <= set(feeds.PROJECT_STAGES)
    mfg = [str(c)[:2].isdigit() and 13 <= int(str(c)[:2]) <= 43 for c in pr.industry_code]
    assert (~pd.Series(mfg)).any()  # some non-manufacturing
    assert (pr.total_investment < 10000).any()
    ms = pr[pr.is_mountain_sea]
    assert len(ms) and ms.funds_in_place.notna().all() and pr[~pr.is_mountain_sea].funds_in_place.isna().all()
    # stages of a project are in date order
    order = {s: i for i, s in enumerate(feeds.PROJECT_STAGES)}
    for _, g in pr.groupby("project_code"):
        g = g.sort_values("stage", key=lambda s: s.map(order))
        assert list(g.stage_date) == sorted(g.stage_date)


@pytest.mark.parametrize("i,period", [(0, "2023-06"), (1, "2023-12")])
def test_designed_status_landing(county, i, period):
    got = compute_indicators(county.core, period)
    assert set(got) == set(DESIGNED_STATUS)
    wrong = {c: (round(v, 3), s, DESIGNED_STATUS[c][i]) for c, (v, s) in got.items() if s != DESIGNED_STATUS[c][i]}
    assert not wrong
    statuses = {s for _, s in got.values()}
    assert {"green", "yellow", "red", "done"} <= statuses  # mixed, as in a real county


def test_deterministic(county, tmp_path):
    other = generate(tmp_path / "other", seed=8)
    a, b = _snapshot(county.inbox), _snapshot(tmp_path / "other")
    assert set(a) == set(b)  # another seed: the same layout and arrival times ...
    assert all(a[k][1] == b[k][1] for k in a)
    changed = [k for k in a if a[k][0] != b[k][0]]
    assert len(changed) > len(a) * 0.8  # ... other data
    assert other["rows"] != county.summary["rows"] or changed
    # the same seed again, into the used folder: identical bytes and mtimes, no stale files
    again = generate(tmp_path / "other", seed=7)
    assert again["rows"] == county.summary["rows"]
    assert _snapshot(tmp_path / "other") == a


# ------------------------------------------------------------------ province (scaled down)


def test_province_scaled_down(tmp_path):
    s = generate(tmp_path, scale="province", seed=3, n_enterprises=1200, chunk_size=400)
    inbox = tmp_path
    assert not list(inbox.rglob("*.xlsx"))
    deliveries = read_inbox(inbox)
    core = apply_keys(deliveries)
    assert set(core) == set(feeds.TABLES)
    reg = core["registry"]
    assert len(reg) == 1200 and set(reg.roster_year) == {2023}
    assert abs(reg.is_above_scale.sum() / 1200 - 55 / 150) < 0.01
    assert all(uscc.is_valid(c) for c in reg.uscc)
    tax = core["tax"]
    assert set(tax.period) == {f"2023-{m:02d}" for m in range(1, 13)} and len(tax) == 12 * 1200
    assert ((tax[["vat", "cit", "other_tax"]].sum(axis=1) - tax.total_tax).abs() <= 0.01 + 1e-9).all()
    se = core["stats_enterprise"]
    assert len(se) == 11 * reg.is_above_scale.sum() and not se.period.str.endswith("-01").any()
    assert len(core["projects"]) > 0 and len(core["rectification"]) > 0
    assert any(d.encoding == "gbk" for d in deliveries)
    sc = core["stats_county"].set_index(["indicator_name", "period"]).value
    assert sc[("地区生产总值", "2023-12")] > 50000  # province magnitudes
    assert s["rows"]["tax"] == len(tax)


def test_province_streams_rows(tmp_path, monkeypatch):
    """Rows reach the files chunk by chunk while generation runs (never one big write)."""
    from mfg_indicators.sample import writers

    sizes: list[int] = []
    orig = writers._CsvPart.write

    def spy(self, rows):
        rows = list(rows)
        sizes.append(len(rows))
        return orig(self, rows)

    monkeypatch.setattr(writers._CsvPart, "write", spy)
    generate(tmp_path, scale="province", seed=1, n_enterprises=2000, chunk_size=250)
    assert max(sizes) <= 250  # never more than one chunk at a time
    assert sum(sizes) > 2000 * 12 * 2
    tax_file = next((tmp_path / "tax").glob("*.csv"))
    assert tax_file.read_bytes().count(b"\n") == 2001
