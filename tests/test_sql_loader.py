"""mfg_indicators.sql: one loader for include/sql/**.sql (Jinja for shape, bind parameters for
values), on both warehouses."""

from __future__ import annotations

import jinja2
import pytest

from mfg_indicators import feeds, sql
from mfg_indicators.paths import SQL_DIR


def test_values_are_bound_never_written_into_the_text(engine, tmp_path, monkeypatch):
    (tmp_path / "probe.sql").write_text(
        "{# an explanation with a colon: it is removed before the statement is sent #}\n"
        "SELECT '--not a comment' AS lit, :a AS a, {{ n }} AS n\n"
        "{% if dialect == 'postgresql' %}, 'pg' AS d{% else %}, 'other' AS d{% endif %}\n"
        "-- a trailing SQL comment\n", encoding="utf-8")
    monkeypatch.setattr(sql, "SQL_DIR", tmp_path)
    sql._env.cache_clear()
    try:
        hostile = "x'); DROP TABLE core_tax; --"
        with engine.connect() as conn:
            [row] = sql.query(conn, "probe", {"a": hostile, "unused": 1}, n=7, dialect=conn.dialect.name)
            assert dict(row) == {"lit": "--not a comment", "a": hostile, "n": 7,
                                 "d": "pg" if conn.dialect.name == "postgresql" else "other"}
            with pytest.raises(KeyError):  # a parameter the statement uses but was not given
                sql.query(conn, "probe", {}, n=7, dialect=conn.dialect.name)
        with pytest.raises(jinja2.UndefinedError):
            sql.render("probe", dialect="sqlite")
    finally:
        sql._env.cache_clear()


def test_list_values_expand_and_shared_fragments_are_included(engine):
    with engine.connect() as conn:
        rows = sql.query(conn, "annex/live_warnings", {"year_start": "2023-01", "period": "2023-03",
                                                       "warehouse_rules": ["a", "b"]},
                         tables=list(feeds.TABLES.values()))
        assert rows == []
    text = sql.render("rules/above_scale_no_tax")
    assert "MAX(roster_year) FROM core_registry WHERE roster_year <= :year" in text


def test_the_roster_rule_is_written_once_in_the_rules():
    rules = [p for p in (SQL_DIR / "rules").glob("*.sql")]
    assert [p.name for p in rules if "roster_year <=" in p.read_text(encoding="utf-8")] == ["_roster_in_force.sql"]


def test_the_latest_roster_rule_is_one_fragment_everywhere():
    """"The latest roster ≤ Y" is written once (rules/_roster_in_force.sql); the indicators, the
    evaluation, the provenance reads and the rules include it (migrations are history)."""
    import re

    latest = re.compile(r"MAX\(\s*(\w+\.)?roster_year\s*\)", re.IGNORECASE)
    files = [p for p in SQL_DIR.rglob("*.sql") if "migrations" not in p.parts]
    writing = [str(p.relative_to(SQL_DIR)) for p in files if latest.search(p.read_text(encoding="utf-8"))]
    assert writing == ["rules/_roster_in_force.sql"]
    including = {str(p.relative_to(SQL_DIR)) for p in files
                 if '{% include "rules/_roster_in_force.sql" %}' in p.read_text(encoding="utf-8")}
    assert {"indicators/per_mu/_scope.sql", "evaluation/enterprise_year.sql",
            "provenance/roster_year.sql", "rules/above_scale_no_tax.sql"} <= including


def test_the_month_and_evaluation_sql_render_through_the_loader():
    """One loader: the indicator, mart, bulletin, provenance, evaluation and plan statements
    render with sql.render (Jinja), given the names their callers pass; none keeps the old
    ``-- name:`` sections or ``{placeholder}`` fields."""
    context = {"score_decimals": 2, "measure": "tax", "industry_group": lambda column: f"CASE {column} END",
               "numerator": "value_added", "denominator": "employees", "column": "energy_saved",
               "by_action_type": True, "core_table": "core_tax"}
    folders = ("indicators", "mart", "bulletin", "provenance", "evaluation", "plan")
    names = [str(p.relative_to(SQL_DIR))[:-4] for f in folders for p in (SQL_DIR / f).rglob("*.sql")]
    assert len(names) >= 37
    for name in names:
        text = sql.render(name, **context)
        assert text.strip() and "{" not in text and "-- name:" not in text, name
