"""The statisticians' views: defined on both warehouses as the data dictionary says, Chinese
comments on PostgreSQL, and a read-only role that can read the views and write nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from mfg_indicators import dictionary
from mfg_indicators.compute import compute_indicators
from mfg_indicators.dictionary import READER_ROLE, VIEWS
from test_indicators import CONFIG, WH


def test_views_have_the_dictionary_columns(engine):
    insp = inspect(engine)
    assert set(v.name for v in VIEWS) <= set(insp.get_view_names())
    for v in VIEWS:
        assert [c["name"] for c in insp.get_columns(v.name)] == [c.name for c in v.columns], v.name
        with engine.connect() as conn:
            conn.execute(text(f"SELECT * FROM {v.name}")).all()


def test_generated_dictionary_and_comments_are_current():
    assert dictionary.main(["--check"]) == 0
    md = dictionary.DOC_PATH.read_text(encoding="utf-8")
    for v in VIEWS:
        assert f"`{v.name}`" in md
    assert "税收实际贡献（万元）；当月" in md  # label from feeds.py, note from the view


def test_enterprise_month_view(engine):
    wh = WH(engine)
    wh.registry(2022, [("A", "2459", 10, 1, "石塘镇")])
    wh.registry(2023, [("A", "2459", 12, 0, "石塘镇")])
    wh.tax("2022-06", {"A": 3.5})
    wh.tax("2023-02", {"A": 4.5})
    wh.tax("2024-01", {"A": 1.0})
    wh.stats("2023-02", "A", va=80, employees=20)
    with engine.connect() as conn:
        rows = {r.period: r for r in conn.execute(text(
            "SELECT period, roster_year, land_mu, is_above_scale, total_tax, value_added, employees"
            " FROM v_enterprise_month WHERE uscc = 'A'"))}
    assert sorted(rows) == ["2022-06", "2023-02", "2024-01"]
    assert (rows["2022-06"].roster_year, rows["2022-06"].land_mu, rows["2022-06"].is_above_scale) == (2022, 10, 1)
    assert (rows["2023-02"].roster_year, rows["2023-02"].total_tax, rows["2023-02"].value_added) == (2023, 4.5, 80)
    assert rows["2024-01"].roster_year == 2023  # no 2024 roster: the latest earlier one
    assert rows["2022-06"].value_added is None  # not reported, not zero


def test_indicator_results_view(engine):
    compute_indicators(engine, CONFIG, "2023-06")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT code, status, status_label FROM v_indicator_results"
                                 " WHERE period = '2023-06'")).all()
    assert len(rows) == len(CONFIG.indicators)
    assert {(r.status, r.status_label) for r in rows} == {("no_data", "暂无数据")}


@pytest.fixture
def pg_engine(pg_server):
    from mfg_indicators.warehouse import connect
    eng = connect(pg_server("views"))
    yield eng
    eng.dispose()


def test_postgresql_comments(pg_engine):
    with pg_engine.connect() as conn:
        for v in VIEWS:
            assert conn.execute(text("SELECT obj_description(CAST(:v AS regclass), 'pg_class')"),
                                {"v": v.name}).scalar().startswith(v.title)
            got = dict(conn.execute(text(
                "SELECT a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a"
                " WHERE a.attrelid = CAST(:v AS regclass) AND a.attnum > 0"), {"v": v.name}).all())
            assert got == {c.name: c.label for c in v.columns}, v.name


def test_reader_role_reads_views_and_cannot_write(pg_engine):
    WH(pg_engine).tax("2023-02", {"A": 4.5})
    with pg_engine.connect() as conn:
        conn.execute(text(f"SET ROLE {READER_ROLE}"))
        for v in VIEWS:
            conn.execute(text(f"SELECT * FROM {v.name}")).all()
        assert conn.execute(text("SELECT total_tax FROM v_enterprise_month")).scalar() == 4.5
    refused = [
        "INSERT INTO core_tax (uscc, period, total_tax, delivery_id) VALUES ('X', '2023-01', 1, 'd')",
        "INSERT INTO mart_indicator_warning (plan_id, period, seq, source, rule, codes, message, message_en)"
        " VALUES ('p', '2023-01', 1, 's', 'r', '[]', 'm', 'm')",
        "INSERT INTO v_task_report (indicator_code, period, value, unit) VALUES ('K05', '2023-01', 1, '家')",
        "UPDATE core_tax SET total_tax = 0",
        "DELETE FROM mart_indicator",
        "SELECT * FROM core_tax",
        "CREATE TABLE sneaky (x INTEGER)",
    ]
    for stmt in refused:
        with pg_engine.connect() as conn:
            conn.execute(text(f"SET ROLE {READER_ROLE}"))
            with pytest.raises(DBAPIError) as exc:
                conn.execute(text(stmt))
            assert "permission denied" in str(exc.value), stmt
            conn.rollback()
    with pg_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM core_tax")).scalar() == 1


def test_reader_role_migration_is_idempotent_across_databases(pg_server):
    """The role is cluster-wide: a second warehouse on the same server migrates cleanly."""
    from mfg_indicators.warehouse import connect
    a, b = connect(pg_server("ra")), connect(pg_server("rb"))
    try:
        for eng in (a, b):
            with eng.connect() as conn:
                assert conn.execute(text("SELECT has_table_privilege(:r, 'v_indicator_results', 'SELECT'),"
                                         " has_table_privilege(:r, 'mart_indicator', 'INSERT')"),
                                    {"r": READER_ROLE}).one() == (True, False)
    finally:
        a.dispose()
        b.dispose()


# --- 014: the statisticians' views beside the 002 ones ------------------------------------------

def test_industry_groups_come_from_the_plan_configuration(engine):
    """plan_industry_group is written by every computation; v_industry_group maps each code of the
    registry exactly as the computation does (first matching prefix, else the default group)."""
    from mfg_indicators.paths import MIGRATIONS_DIR

    wh = WH(engine)
    codes = ["2459", "2451", "3130", "3131", "3451", "3452", "3443", "2929", "13"]
    wh.registry(2023, [(f"U{i}", code, 1, 1) for i, code in enumerate(codes)])
    compute_indicators(engine, CONFIG, "2023-06")
    compute_indicators(engine, CONFIG, "2023-06")  # a rerun writes the same rows, no conflict
    with engine.connect() as conn:
        got = {r.industry_code: (r.industry_group, r.per_mu_excluded) for r in conn.execute(text(
            "SELECT industry_code, industry_group, per_mu_excluded FROM v_industry_group WHERE plan_id = :p"),
            {"p": CONFIG.plan_id})}
        n_rows = conn.execute(text("SELECT COUNT(*) FROM plan_industry_group")).scalar()
    excluded = set(CONFIG["per_mu_excluded_groups"])
    assert got == {c: (CONFIG.industry_group(c), int(CONFIG.industry_group(c) in excluded)) for c in codes}
    assert got["3130"] == ("钢压延", 1) and got["2929"] == (CONFIG["industry_default_group"], 0)
    assert n_rows == sum(len(g["prefixes"]) for g in CONFIG["industry_groups"]) + 1
    # a group dropped from the configuration is gone at the next computation
    from mfg_indicators.config import PlanConfig
    from mfg_indicators.plan_tables import store_industry_groups

    fewer = PlanConfig(CONFIG.path, {**CONFIG.data, "industry_groups": CONFIG["industry_groups"][:1]})
    store_industry_groups(engine, fewer)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT industry_group, prefix FROM plan_industry_group ORDER BY seq")).all() == [
            (CONFIG["industry_groups"][0]["name"], CONFIG["industry_groups"][0]["prefixes"][0]),
            (CONFIG["industry_default_group"], None)]
    # no plan fact is written into the views' SQL
    sql = (MIGRATIONS_DIR / "014_statisticians_views.sql").read_text(encoding="utf-8")
    assert "3130" not in sql and "钢压延" not in sql


def test_period_date_is_the_first_day_of_the_month(engine):
    wh = WH(engine)
    wh.tax("2023-02", {"A": 4.5})
    wh.county("规上工业增加值增速", {"2023-02": 9.5})
    compute_indicators(engine, CONFIG, "2023-02")
    views = [v for v in VIEWS if any(c.name == "period_date" for c in v.columns)]
    assert {"v_enterprise_month", "v_county_stats", "v_task_report", "v_indicator_results",
            "v_indicator_warnings", "v_per_mu_evaluated_set", "v_validation_warnings"} <= {v.name for v in views}
    with engine.connect() as conn:
        for view in ("v_enterprise_month", "v_county_stats", "v_indicator_results"):
            row = conn.execute(text(f"SELECT period, period_date FROM {view} WHERE period = '2023-02'")).first()
            assert str(row.period_date) == "2023-02-01", view
        if engine.dialect.name == "postgresql":
            types = dict(conn.execute(text(
                "SELECT table_name, data_type FROM information_schema.columns WHERE column_name = 'period_date'")).all())
            assert set(types.values()) == {"date"}, types


def test_validation_warnings_view(engine):
    wh = WH(engine)
    wh.deliver("tax", periods=["2023-02"])
    with engine.begin() as conn:
        did = conn.execute(text("SELECT delivery_id FROM raw_delivery")).scalar()
        conn.execute(text(
            "INSERT INTO validation_warning (delivery_id, seq, source, table_name, uscc, period, rule, message)"
            " VALUES (:d, 1, 'tax', 'tax', 'A', '2023-02', 'negative_tax', '税收为负'),"
            " (:d, 2, 'registry', 'registry', 'B', '2023', 'land_missing', '名录年份'),"
            " (:d, 3, 'tax', 'tax', NULL, NULL, 'odd', '无月份')"), {"d": did})
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, source, rule, uscc, period, period_date, file_name, message"
                                 " FROM v_validation_warnings ORDER BY seq")).all()
    assert [(r.seq, r.source, r.rule, r.uscc, r.file_name) for r in rows] == [
        (1, "tax", "negative_tax", "A", "tax.csv"), (2, "registry", "land_missing", "B", "tax.csv"),
        (3, "tax", "odd", None, "tax.csv")]
    assert [None if r.period_date is None else str(r.period_date) for r in rows] == ["2023-02-01", None, None]


def test_evaluation_views_carry_classes_not_figures(engine):
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO mart_evaluation (plan_id, year, uscc, name, town, industry_code, industry_group, land_mu,"
            " scale, tax_per_mu, score, rank_in_scale, n_in_scale, imputed_items, class, class_rule, prev_class,"
            " computed_at) VALUES (:p, 2022, :u, :u, :t, '2459', '木玩', :l, 'above', 9.9, 80, 1, 3, 0, :c,"
            " 'percentile', NULL, '2023-01-01 00:00:00')"),
            [{"p": "yunhe-2022", "u": "A", "t": "浮云街道", "l": 10, "c": "A"},
             {"p": "yunhe-2022", "u": "B", "t": "浮云街道", "l": 5, "c": "D"},
             {"p": "yunhe-2022", "u": "C", "t": "崇头镇", "l": 7, "c": "D"}])
    with engine.connect() as conn:
        counts = {(r.town, r["class"]): (r.enterprises, r.land_mu) for r in conn.execute(text(
            "SELECT town, class, enterprises, land_mu FROM v_evaluation_counts")).mappings()}
        cols = [c["name"] for c in inspect(engine).get_columns("v_evaluation_class")]
    assert counts == {("浮云街道", "A"): (1, 10), ("浮云街道", "D"): (1, 5), ("崇头镇", "D"): (1, 7)}
    assert not any(c.endswith("per_mu") or c in ("score", "tax_total") for c in cols), cols
