"""Every expectation of every suite in expectations/*.json catches one violating row at its level.

The cases are generated from the suite JSON itself: a new expectation whose type the violation
builder below does not know fails ``test_every_expectation_has_a_violation_case``.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from mfg_indicators import feeds, uscc
from mfg_indicators.config import load_config
from mfg_indicators.paths import EXPECTATIONS_DIR
from mfg_indicators.validate import ROW_COLUMN, validate_frame

CONFIG = load_config()
U1, U2, U3 = (uscc.make(f"91331125MA2A0000{i}") for i in (1, 2, 3))
FIRST_ROW = 3  # a title row above the header: data starts at row 3 of the sender's file


def clean_frame(table_name: str) -> pd.DataFrame:
    """Three legal rows of each table."""
    rows: list[dict]
    if table_name == "registry":
        rows = [dict(uscc=u, name=f"企业{i}", industry_code=code, town=town, land_mu=land, is_above_scale=ab,
                     roster_year=2023)
                for i, (u, code, town, land, ab) in enumerate([(U1, "2459", "浮云街道", 30.5, 1),
                                                              (U2, "3130", "崇头镇", 120.0, 1),
                                                              (U3, "3443", "紧水滩镇", 8.0, 0)])]
    elif table_name == "tax":
        rows = [dict(uscc=u, name=f"企业{i}", period="2023-06", vat=v, cit=c, other_tax=o, total_tax=round(v + c + o, 2))
                for i, (u, v, c, o) in enumerate([(U1, 10.5, 3.25, 1.0), (U2, 100.0, 0.0, 2.5), (U3, 0.3, 0.0, 0.01)])]
    elif table_name == "energy":
        rows = [dict(uscc=u, name=f"企业{i}", period="2023-06", energy_tce=e, electricity=k)
                for i, (u, e, k) in enumerate([(U1, 120.5, 50.0), (U2, 9000.0, 2100.0), (U3, 3.0, 1.2)])]
    elif table_name == "stats_enterprise":
        rows = [dict(uscc=u, name=f"企业{i}", period="2023-06", gross_output=g, value_added=va, revenue=r,
                     rd_expense=rd, employees=emp)
                for i, (u, g, va, r, rd, emp) in enumerate([(U1, 5000.0, 1200.0, 5100.0, 150.0, 120.0),
                                                           (U2, 80000.0, 9000.0, 82000.0, 500.0, 800.0),
                                                           (U3, 2100.0, 400.0, 2050.0, 0.0, 35.0)])]
    elif table_name == "stats_county":
        rows = [dict(indicator_name=n, period="2023-06", scope="累计", value=v, unit=feeds.COUNTY_INDICATOR_UNITS[n])
                for n, v in [("地区生产总值", 80.5), ("规上工业增加值增速", 8.2), ("规上工业增加值", 30.1)]]
    elif table_name == "projects":
        rows = [dict(project_code=c, project_name=f"项目{i}", owner_name=f"企业{i}", uscc=u, industry_code=ind,
                     total_investment=inv, stage=st, stage_date=d, is_mountain_sea=ms, funds_in_place=f)
                for i, (c, u, ind, inv, st, d, ms, f) in enumerate([
                    ("2306-331125-04-01-512345", U1, "2459", 12000.0, "签约", dt.date(2023, 6, 5), 1, 3000.0),
                    ("2306-331125-04-01-512345", U1, "2459", 12000.0, "备案", dt.date(2023, 6, 20), 1, 5000.0),
                    ("2305-331125-07-02-000001", U2, "3451", 800.0, "开工", dt.date(2023, 5, 2), 0, 0.0)])]
    elif table_name == "rectification":
        rows = [dict(uscc=u, name=f"企业{i}", action_type=a, signoff_date=d, land_freed_mu=l, energy_freed_tce=e,
                     carbon_reduced_t=c, responsible_unit="云和工业园区")
                for i, (u, a, d, l, e, c) in enumerate([(U1, "淘汰落后产能", dt.date(2023, 3, 1), 12.0, 300.0, 800.0),
                                                       (U1, "整治提升", dt.date(2023, 5, 9), 0.0, 10.0, 25.0),
                                                       (U2, "整体腾退", dt.date(2022, 11, 30), 40.0, 1000.0, 2600.0)])]
    elif table_name == "task_report":
        rows = [dict(indicator_code=c, period="2023-06", value=v, unit=CONFIG.indicator(c)["unit"], reporter="县科技局")
                for c, v in [("K05", 28.0), ("K18", 60.0), ("T10A", 1.0)]]
    else:  # pragma: no cover
        raise KeyError(table_name)
    df = pd.DataFrame(rows, columns=list(feeds.TABLES[table_name].column_names))
    df[ROW_COLUMN] = range(FIRST_ROW, FIRST_ROW + len(df))
    return reader_dtypes(feeds.TABLES[table_name], df)


def reader_dtypes(table: feeds.Table, df: pd.DataFrame) -> pd.DataFrame:
    """The dtypes the reader hands over (extract.TableData.frame): number float64, int/yesno
    nullable Int64, everything else object."""
    for c in table.columns:
        if c.type == "number":
            df[c.name] = pd.to_numeric(df[c.name]).astype("float64")
        elif c.type in ("int", "yesno"):
            df[c.name] = pd.array(list(df[c.name]), dtype="Int64")
        else:
            df[c.name] = pd.Series(list(df[c.name]), dtype=object, index=df.index)
    df[ROW_COLUMN] = df[ROW_COLUMN].astype("int64")
    return df


def suite_cases() -> list:
    cases = []
    for path in sorted(EXPECTATIONS_DIR.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for i, exp in enumerate(doc["expectations"]):
            cols = exp["kwargs"].get("column") or exp["kwargs"].get("column_A") or "+".join(
                exp["kwargs"].get("column_list") or []) or "table"
            cases.append(pytest.param(doc["name"], i, exp, id=f"{doc['name']}-{i}-{exp['meta']['rule']}-{cols}"))
    return cases


CASES = suite_cases()

# A value of the wrong type for each feed type.
WRONG_TYPE = {"number": "十二", "int": 2023.5, "month": "2023-13", "date": "2023-06-31", "yesno": 2,
              "text": 123, "code": 3130, "uscc": 913311251234}


def _matches(row: pd.Series, cond: dict | None, resolved: dict) -> bool:
    if not cond:
        return True
    value = row[cond["column"]["name"]]
    param = cond["parameter"]
    param = resolved.get(param, param) if isinstance(param, str) else param
    if cond["operator"] == "==":
        return value == param
    if cond["operator"] == "IN":
        return value in param
    raise AssertionError(f"row_condition operator not handled by the test: {cond['operator']}")


def _set(df: pd.DataFrame, i: int, col: str, value) -> None:
    if df[col].dtype != object:
        df[col] = df[col].astype(object)
    df.at[i, col] = value


def violate(table_name: str, exp: dict) -> tuple[pd.DataFrame, list[int], list[str]]:
    """A frame with exactly one violation of ``exp``: (frame, rows expected in findings, headers)."""
    from mfg_indicators.validate import placeholders

    table = feeds.TABLES[table_name]
    resolved = placeholders(table, CONFIG)
    df = clean_frame(table_name)
    t, kw, rule = exp["type"], exp["kwargs"], exp["meta"]["rule"]
    col = kw.get("column")
    cond = kw.get("row_condition")
    candidates = [i for i in df.index if _matches(df.loc[i], cond, resolved)]
    assert candidates, f"clean {table_name} frame has no row satisfying {cond}"
    i = candidates[-1]
    h = lambda c: table.column(c).header  # noqa: E731
    if t == "expect_table_columns_to_match_set":
        victim = table.column_names[-1]
        return df.drop(columns=[victim]), [], [h(victim)]
    if t == "expect_table_row_count_to_be_between":
        return df.iloc[0:0].copy(), [], []
    if t == "expect_column_values_to_not_be_null":
        _set(df, i, col, None)
    elif t == "expect_column_values_to_be_of_feed_type":
        _set(df, i, col, WRONG_TYPE[kw["feed_type"]])
    elif t == "expect_column_values_to_be_valid_uscc":
        good = df.at[i, col]
        _set(df, i, col, good[:17] + ("0" if good[17] != "0" else "1"))
    elif t == "expect_compound_columns_to_be_unique":
        j = candidates[0] if candidates[0] != i else candidates[1]
        for k in table.column_names:  # a repeated row: nothing but the key rule is broken
            _set(df, i, k, df.at[j, k])
        return df, sorted(int(df.at[x, ROW_COLUMN]) for x in (i, j)), [h(k) for k in kw["column_list"]]
    elif t == "expect_column_values_to_be_between":
        if table_name == "tax" and rule == "negative_tax":
            # a refund month: components negative too, still summing to the total
            _set(df, i, "vat", -1.5), _set(df, i, "cit", 0.0), _set(df, i, "other_tax", 0.0)
            _set(df, i, "total_tax", -1.5)
        elif kw.get("max_value") is not None:
            _set(df, i, col, float(kw["max_value"]) + 1)
        else:
            _set(df, i, col, float(kw["min_value"]) - 1)
    elif t == "expect_column_values_to_be_in_set":
        _set(df, i, col, "不存在的取值")
    elif t == "expect_column_values_to_match_regex":
        _set(df, i, col, "X-1")
    elif t == "expect_column_pair_values_to_match_mapping":
        _set(df, i, kw["column_B"], "吨")
        col = kw["column_B"]
    elif t == "expect_column_pair_values_a_to_be_greater_than_b":
        _set(df, i, kw["column_B"], float(df.at[i, kw["column_A"]]) + 1)
        col = kw["column_B"]
    elif t == "expect_multicolumn_components_to_sum_to_total":
        total = kw["column_list"][-1]
        _set(df, i, total, float(df.at[i, total]) + 1)
        col = exp["meta"].get("report_column", total)
    else:
        raise NotImplementedError(f"no violation builder for {t}")
    return df, [int(df.at[i, ROW_COLUMN])], [h(col)]


def test_every_expectation_has_a_violation_case():
    """Coverage: each expectation of each suite can be violated by the builder above."""
    assert len(CASES) > 100
    for p in CASES:
        table_name, _, exp = p.values
        violate(table_name, exp)  # raises NotImplementedError for an unknown expectation type


@pytest.mark.parametrize("table_name,index,exp", CASES)
def test_expectation_catches_one_violating_row(table_name, index, exp):
    table = feeds.TABLES[table_name]
    df, rows, headers = violate(table_name, exp)
    findings = validate_frame(table, df, source=table.source, file="delivery.xlsx", sheet=table.title,
                              config=CONFIG)
    rule, level = exp["meta"]["rule"], exp["meta"]["level"]
    hits = [f for f in findings if f.rule == rule and f.level == level
            and all(hd in (f.column or "") for hd in headers)]
    assert hits, f"{table_name}[{index}] {exp['type']} not caught; findings: {[f.log_line() for f in findings]}"
    if rows:
        assert sorted(f.row for f in hits) == rows
    for f in hits:
        assert f.source == table.source and f.table == table_name
        assert f.file == "delivery.xlsx" and f.sheet == table.title
        assert f.message and "{" not in f.message and f.message_en
    violated = {exp["kwargs"].get("column"), exp["kwargs"].get("column_B")}
    if rows and table.period_column == "period" and "period" not in violated:
        assert all(f.period for f in hits)
    id_col = {"stats_county": "indicator_name", "projects": "project_code", "task_report": "indicator_code"}.get(
        table_name, "uscc")
    if rows and id_col in df.columns and id_col not in violated:
        assert all(f.uscc == df.loc[df[ROW_COLUMN] == f.row, id_col].iloc[0] for f in hits)
    if level == "warning":
        assert not [f for f in findings if f.is_error], [f.log_line() for f in findings if f.is_error]
    else:
        # no other error than the intended one, except those a single bad value implies: a
        # wrongly-typed USCC fails the check digit too, a component out of range breaks the sum
        others = {f.rule for f in findings if f.is_error} - {rule, "uscc_check_digit", "tax_components_sum"}
        assert not others, [f.log_line() for f in findings]


@pytest.mark.parametrize("table_name", sorted(feeds.TABLES))
def test_clean_frame_has_no_findings(table_name):
    table = feeds.TABLES[table_name]
    findings = validate_frame(table, clean_frame(table_name), source=table.source, file="ok.csv", sheet=None,
                              config=CONFIG)
    assert findings == []


@pytest.mark.parametrize("table_name", sorted(feeds.TABLES))
def test_empty_nullable_cells_are_not_reported(table_name):
    """Empty cells mean "not reported": nullable columns may be empty on every row."""
    table = feeds.TABLES[table_name]
    df = clean_frame(table_name)
    for c in table.columns:
        if c.nullable:
            df[c.name] = None
    df = reader_dtypes(table, df)
    findings = validate_frame(table, df, source=table.source, file="ok.csv", sheet=None, config=CONFIG)
    assert findings == [], [f.log_line() for f in findings]


NULLABLE = [pytest.param(t.name, c.name, id=f"{t.name}-{c.name}")
            for t in feeds.TABLES.values() for c in t.columns if c.nullable]


@pytest.mark.parametrize("table_name,column", NULLABLE)
def test_one_empty_nullable_cell_is_not_reported(table_name, column):
    """A nullable column emptied on one row while the row's other cells are reported: no rule
    (ranges, pairs, sums) may treat the empty cell as a value."""
    table = feeds.TABLES[table_name]
    df = clean_frame(table_name)
    _set(df, 1, column, None)
    df = reader_dtypes(table, df)
    findings = validate_frame(table, df, source=table.source, file="ok.csv", sheet=None, config=CONFIG)
    assert findings == [], [f.log_line() for f in findings]


@pytest.mark.parametrize("table_name", sorted(feeds.TABLES))
def test_suite_follows_the_feed_contract(table_name):
    """Each suite states the contract of feeds.py: required columns, types, USCC, key, levels."""
    table = feeds.TABLES[table_name]
    doc = json.loads((EXPECTATIONS_DIR / f"{table_name}.json").read_text(encoding="utf-8"))
    assert doc["name"] == table_name
    exps = doc["expectations"]
    by_type: dict[str, list[dict]] = {}
    for e in exps:
        assert e["meta"]["level"] in ("error", "warning")
        assert e["meta"]["rule"] and e["meta"]["message"] and e["meta"]["message_en"]
        by_type.setdefault(e["type"], []).append(e["kwargs"])
    not_null = {k["column"] for k in by_type.get("expect_column_values_to_not_be_null", [])}
    assert not_null == {c.name for c in table.columns if not c.nullable}
    typed = {(k["column"], k["feed_type"]) for k in by_type["expect_column_values_to_be_of_feed_type"]}
    assert typed == {(c.name, c.type) for c in table.columns}
    checked = {k["column"] for k in by_type.get("expect_column_values_to_be_valid_uscc", [])}
    assert checked == {c.name for c in table.columns if c.type == "uscc"}
    assert {"column_list": list(table.key)} in by_type["expect_compound_columns_to_be_unique"]
    assert {"column_set": "$table.columns", "exact_match": True} in by_type["expect_table_columns_to_match_set"]


def test_config_towns_are_injected(tmp_path):
    """The town list comes from the plan configuration, not from the suite file."""
    from mfg_indicators.config import PlanConfig

    data = json.loads(json.dumps(CONFIG.data))
    data["towns"] = ["另一个镇"]
    other = PlanConfig(tmp_path / "other.yaml", data)
    df = clean_frame("registry")
    findings = validate_frame(feeds.REGISTRY, df, source="registry", file="r.csv", sheet=None, config=other)
    assert {f.rule for f in findings} == {"unknown_town"} and len(findings) == 3
    df["town"] = "另一个镇"
    assert validate_frame(feeds.REGISTRY, df, source="registry", file="r.csv", sheet=None, config=other) == []
