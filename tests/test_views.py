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
