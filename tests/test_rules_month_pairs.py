"""The consecutive-months rules (mom_jump, cumulative_decrease) run as one statement per table
over every month pair of the report (include/sql/rules/consecutive_months.sql), on SQLite and
PostgreSQL: each month is compared with the calendar month before it only (never across a gap),
every check of a table is made, and the number of statements does not grow with the month."""

from __future__ import annotations

from sqlalchemy import event, text

from mfg_indicators import uscc
from mfg_indicators.config import load_config
from mfg_indicators.rules import month_warnings

CONFIG = load_config()
OLD = "o" * 64
A, B = (uscc.make(f"91331125MA2B0001{i}") for i in (1, 2))


def insert(conn, table: str, rows: list[dict]) -> None:
    for row in rows:
        row = {**row, "delivery_id": OLD}
        cols = ", ".join(row)
        conn.execute(text(f"INSERT INTO {table} ({cols}) VALUES ({', '.join(':' + c for c in row)})"), row)


def seed(conn) -> None:
    insert(conn, "core_registry", [dict(uscc=u, name="企业", industry_code="2459", town="浮云街道", land_mu=10.0,
                                        is_above_scale=1, roster_year=2023) for u in (A, B)])
    # A: tax every month but March; a jump 02 -> 04 spans the gap and is no month-on-month pair
    tax = {"2022-12": 1.0, "2023-01": 12.0, "2023-02": 12.0, "2023-04": 500.0, "2023-05": 500.0,
           "2023-06": 40.0, "2023-07": 40.0}
    insert(conn, "core_tax", [dict(uscc=A, period=p, total_tax=v) for p, v in tax.items()])
    insert(conn, "core_tax", [dict(uscc=B, period=f"2023-{m:02d}", total_tax=5.0) for m in range(1, 8)])
    # B: energy with both measures jumping in different months
    insert(conn, "core_energy", [dict(uscc=B, period=p, energy_tce=e, electricity=k) for p, e, k in (
        ("2023-03", 1.0, 1.0), ("2023-04", 20.0, 1.0), ("2023-05", 20.0, 30.0))])
    # A: 企业月报 with a jump and a decrease in the same pair, and a decrease in another
    insert(conn, "core_stats_enterprise", [
        dict(uscc=A, period="2023-04", gross_output=100.0, value_added=10.0, revenue=100.0, rd_expense=1.0),
        dict(uscc=A, period="2023-05", gross_output=90.0, value_added=200.0, revenue=110.0, rd_expense=1.0),
        dict(uscc=A, period="2023-06", gross_output=95.0, value_added=210.0, revenue=120.0, rd_expense=0.5)])


def pairs_found(found):
    return sorted((f.rule, f.table, f.column, f.uscc, f.period) for f in found
                  if f.rule in ("mom_jump", "cumulative_decrease"))


def test_every_pair_of_the_report_compared_with_the_month_before_only(engine):
    with engine.begin() as conn:
        seed(conn)
        found = month_warnings(conn, CONFIG, "2023-07")
    assert pairs_found(found) == sorted([
        ("mom_jump", "tax", "税收实际贡献（万元）", A, "2023-01"),   # 1 -> 12 across New Year
        ("mom_jump", "tax", "税收实际贡献（万元）", A, "2023-06"),   # 500 -> 40
        ("mom_jump", "energy", "综合能源消费量（吨标准煤）", B, "2023-04"),
        ("mom_jump", "energy", "用电量（万千瓦时）", B, "2023-05"),
        ("mom_jump", "stats_enterprise", "工业增加值（万元）", A, "2023-05"),
        ("cumulative_decrease", "stats_enterprise", "工业总产值（万元）", A, "2023-05"),
        ("cumulative_decrease", "stats_enterprise", "研发费用（万元）", A, "2023-06"),
    ])
    jan = next(f for f in found if f.rule == "mom_jump" and f.period == "2023-01")
    assert "2022-12为1" in jan.message and "2023-01为12" in jan.message


def test_statements_do_not_grow_with_the_month(engine):
    with engine.begin() as conn:
        seed(conn)
    counts = {}
    for period in ("2023-02", "2023-12"):
        seen: list[str] = []

        def count(_conn, _cursor, statement, *_a):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            with engine.connect() as conn:
                month_warnings(conn, CONFIG, period)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts[period] = len(seen)
    assert counts["2023-02"] == counts["2023-12"], counts
