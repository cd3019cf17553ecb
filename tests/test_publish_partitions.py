"""Publishing without staging (load.publish_direct): core_tax, core_energy, core_stats_enterprise
are partitioned by month on PostgreSQL (migration 017) and a one-month delivery is swapped in as
the month's partition; several months go through the parent; SQLite deletes the months and
inserts straight into core. Also: 016 -> 017 keeps rows, views, comments and grants."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from mfg_indicators import feeds, ingest, load
from mfg_indicators.config import load_config
from mfg_indicators.extract import Delivery, TableData
from mfg_indicators.paths import MIGRATIONS_DIR
from mfg_indicators.warehouse import connect, get_engine, immediate, migrate

from test_ingest_support import uscc

TAX = feeds.TABLES["tax"]


def _td(period_of_row: list[str], *, did: str, first: int = 0, pack: bool = False) -> TableData:
    """Tax rows of the given months; ``pack``: as the read-ahead process hands them over for
    PostgreSQL (COPY data in the core shape)."""
    n = len(period_of_row)
    cols = {"uscc": [uscc(first + i) for i in range(n)], "name": [f"企业{first + i}" for i in range(n)],
            "period": list(period_of_row), "vat": [1.0 + i for i in range(n)], "cit": [2.0] * n,
            "other_tax": [None] * n, "total_tax": [3.0 + i for i in range(n)]}
    td = TableData.of_lists(TAX, None, 1, list(range(2, n + 2)), cols)
    if pack:
        data = load.copy_csv(TAX, did, td.row_numbers, td.columns, row_no=False)
        assert data is not None
        td.pack_for_copy(data)
    return td


def _same_uscc(td: TableData, i: int, j: int) -> None:
    """Row i gets row j's USCC (a duplicate key inside the delivery)."""
    usccs = td.columns["uscc"]
    usccs[i] = usccs[j]
    td.arrays["uscc"] = pa.array(usccs, pa.string())


def _publish(engine, td: TableData, did: str) -> int:
    if engine.dialect.name != "postgresql" and td.copy_csv is not None:
        pytest.skip("COPY data is built for PostgreSQL only")
    with immediate(engine) as conn:
        load.lock_for_load(conn, [TAX], did)
        return load.publish_direct(conn, TAX, did, td.periods(), copy_data=td.copy_csv,
                                   rows=td.rows() if td.copy_csv is None else ())


def _tax(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT period, uscc, vat, other_tax, delivery_id FROM core_tax ORDER BY period, uscc"))]


def _partitions(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_namespace s ON s.oid = c.relnamespace "
            "WHERE i.inhparent = 'core_tax'::regclass AND s.nspname = :s ORDER BY 1"), {"s": load.PARTITION_SCHEMA}).scalars())


@pytest.mark.parametrize("pack", [False, True])
def test_months_are_replaced_whole(engine, pack):
    a, b, c = "a" * 64, "b" * 64, "c" * 64
    assert _publish(engine, _td(["2023-01"] * 3 + ["2023-02"] * 2, did=a, pack=pack), a) == 5  # two months
    assert _publish(engine, _td(["2023-02"] * 4, did=b, first=10, pack=pack), b) == 4  # one month: replaced
    assert _publish(engine, _td(["2023-03"], did=c, first=20, pack=pack), c) == 1  # a new month
    got = _tax(engine)
    assert [(p, d) for p, _, _, _, d in got] == [("2023-01", a)] * 3 + [("2023-02", b)] * 4 + [("2023-03", c)]
    assert {u for p, u, *_ in got if p == "2023-02"} == {uscc(10 + i) for i in range(4)}
    assert all(o is None for *_, o, _ in got)  # NULL stays NULL
    if engine.dialect.name == "postgresql":
        assert _partitions(engine) == ["tax_2023_01", "tax_2023_02", "tax_2023_03", "tax_default"]
        with engine.connect() as conn:  # each partition's key index is the parent's, by its name
            idx = conn.execute(text(
                "SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
                "WHERE x.indrelid = to_regclass('core_part.tax_2023_02')")).scalars().all()
        assert idx == ["tax_2023_02_pkey"]


def test_partitions_are_not_listed_as_tables(engine):
    a = "a" * 64
    _publish(engine, _td(["2023-05"] * 2, did=a, pack=engine.dialect.name == "postgresql"), a)
    names = inspect(engine).get_table_names()
    assert "core_tax" in names and not any(n.startswith("tax_") or "__" in n for n in names)
    if engine.dialect.name == "postgresql":  # a plain INSERT of a month without partition lands in the default
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO core_tax (uscc, period, delivery_id) VALUES (:u, '2023-06', 'x')"), {"u": uscc(1)})
        b = "b" * 64  # and a swap of that month replaces it
        _publish(engine, _td(["2023-06"] * 3, did=b, first=7, pack=True), b)
        assert [d for p, *_, d in _tax(engine) if p == "2023-06"] == [b] * 3
        a_rows = 5
    else:
        a_rows = 2
    snap = load.snapshot(engine)
    assert len(snap["core_tax"]) == a_rows and not any(n.startswith("tax_") for n in snap)


@pytest.mark.parametrize("pack", [False, True])
def test_a_duplicate_key_changes_nothing(engine, pack):
    a, b = "a" * 64, "b" * 64
    _publish(engine, _td(["2023-01"] * 3, did=a, pack=pack), a)
    before = _tax(engine)
    parts = _partitions(engine) if engine.dialect.name == "postgresql" else None
    dup = _td(["2023-01"] * 3, did=b, pack=False)
    _same_uscc(dup, 2, 0)
    if pack:
        if engine.dialect.name != "postgresql":
            pytest.skip("COPY data is built for PostgreSQL only")
        dup.pack_for_copy(load.copy_csv(TAX, b, dup.row_numbers, dup.columns, row_no=False))
    with pytest.raises(IntegrityError):
        _publish(engine, dup, b)
    assert _tax(engine) == before
    if parts is not None:
        assert _partitions(engine) == parts
        with engine.connect() as conn:  # no table of the failed swap left behind
            assert conn.execute(text("SELECT count(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace "
                                     "WHERE s.nspname = 'core_part' AND c.relname LIKE '%\\_\\_new%'")).scalar() == 0


def test_a_row_outside_the_named_months_is_refused(pg_server):
    """PostgreSQL: the new partition's CHECK refuses a row of another month (the caller derives
    the months from the rows; this is the guard that they agree)."""
    engine = connect(pg_server("outside"))
    try:
        a = "a" * 64
        td = _td(["2023-01", "2023-02"], did=a, pack=True)
        with pytest.raises(IntegrityError):
            with immediate(engine) as conn:
                load.publish_direct(conn, TAX, a, ["2023-01"], copy_data=td.copy_csv)
        assert _tax(engine) == [] and _partitions(engine) == ["tax_default"]
    finally:
        engine.dispose()


def test_a_period_that_names_no_partition_is_refused():
    with pytest.raises(load.NotPartitionable):
        load.partition_name(TAX, "2023-13")
    with pytest.raises(load.NotPartitionable):
        load.partition_name(TAX, "2023-01'; DROP TABLE core_tax; --")
    with pytest.raises(load.NotPartitionable):
        load.partition_name(feeds.TABLES["registry"], "2023-01")
    assert load.partition_name(TAX, "2023-01") == "tax_2023_01"


def test_a_duplicate_in_a_delivery_rejects_it_with_load_constraint(engine, tmp_path):
    """Past the suites (which report duplicates themselves), the key is the last line: the
    delivery is rejected with the load_constraint finding and the warehouse is unchanged."""
    a, b = "a" * 64, "b" * 64
    _publish(engine, _td(["2023-01"] * 2, did=a, pack=engine.dialect.name == "postgresql"), a)
    before = load.snapshot(engine)
    dup = _td(["2023-01"] * 2, did=b)
    _same_uscc(dup, 1, 0)
    if engine.dialect.name == "postgresql":
        dup.pack_for_copy(load.copy_csv(TAX, b, dup.row_numbers, dup.columns, row_no=False))
    f = tmp_path / "2023年1月税收.csv"
    f.write_bytes(b"x")
    delivery = Delivery(path=f, source="tax", sha256=b, size=1, mtime=time.time())
    with pytest.raises(ingest._Rejected) as exc:
        ingest._load(engine, delivery, [dup], tmp_path / "archive", load_config(None), [])
    [finding] = exc.value.findings
    assert finding.rule == "load_constraint" and "约束" in finding.message
    assert "uscc" in finding.message_en or "unique" in finding.message_en.lower()
    assert load.snapshot(engine) == before


def _null_frac(engine, table: str, schema: str, column: str = "name") -> float | None:
    with engine.connect() as conn:
        return conn.execute(text("SELECT null_frac FROM pg_stats WHERE schemaname = :s AND tablename = :t"
                                 " AND attname = :c"), {"s": schema, "t": table, "c": column}).scalar()


def test_analyze_reads_the_new_months_not_the_year(pg_server):
    """After a batch, the new months' partitions get statistics; a month already analysed is not
    read again (its statistics stay as they were), nor the parent once it has its own."""
    engine = connect(pg_server("analyze"))
    try:
        for i, month in enumerate(("2023-01", "2023-02")):
            did = str(i) * 64
            _publish(engine, _td([month] * 20, did=did, pack=True), did)
        load.analyze(engine, [("tax", ["2023-01", "2023-02"])])
        assert _null_frac(engine, "tax_2023_01", load.PARTITION_SCHEMA) == 0.0
        assert _null_frac(engine, "core_tax", "public") == 0.0  # the parent had none: analysed
        with engine.begin() as conn:  # what a re-read of January or the parent would notice
            conn.execute(text("UPDATE core_tax SET name = NULL WHERE period IN ('2023-01', '2023-02')"))
        _publish(engine, _td(["2023-03"] * 20, did="3" * 64, pack=True), "3" * 64)
        assert _null_frac(engine, "tax_2023_03", load.PARTITION_SCHEMA) is None  # not analysed yet
        load.analyze(engine, [("tax", ["2023-03"])])
        assert _null_frac(engine, "tax_2023_03", load.PARTITION_SCHEMA) == 0.0
        assert _null_frac(engine, "tax_2023_01", load.PARTITION_SCHEMA) == 0.0  # not read again
        assert _null_frac(engine, "core_tax", "public") == 0.0
    finally:
        engine.dispose()


def test_a_reader_holding_the_tables_sees_its_months_whole(pg_server):
    """A REPEATABLE READ reader that locked the tables first (load.lock_for_read, as compute
    does) sees the month it began with, while a swap of that month waits for it to finish."""
    engine = connect(pg_server("swap_reader"))
    try:
        a, b = "a" * 64, "b" * 64
        _publish(engine, _td(["2023-01"] * 3, did=a, pack=True), a)
        done = threading.Event()
        errors: list[BaseException] = []

        def swap():
            try:
                _publish(engine, _td(["2023-01"] * 5, did=b, first=10, pack=True), b)
            except BaseException as exc:  # noqa: BLE001 - reported by the test below
                errors.append(exc)
            finally:
                done.set()

        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
            load.lock_for_read(conn)
            first = conn.execute(text("SELECT count(*) FROM core_registry")).scalar()  # the snapshot
            t = threading.Thread(target=swap)
            t.start()
            with engine.connect() as probe:  # wait until the swap waits on the reader's lock
                for _ in range(600):
                    waiting = probe.execute(text(
                        "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'core_tax'::regclass")).scalar()
                    if waiting or done.is_set():
                        break
                    time.sleep(0.05)
            assert waiting and not done.is_set()
            assert first == 0
            assert conn.execute(text("SELECT count(*), min(delivery_id) FROM core_tax")).one() == (3, a)
        t.join(60)
        assert not errors and done.is_set()
        assert {d for *_, d in _tax(engine)} == {b} and len(_tax(engine)) == 5
    finally:
        engine.dispose()


# --- 016 -> 017 -------------------------------------------------------------------------------


def _migrations_upto(tmp_path: Path, upto: str) -> Path:
    d = tmp_path / "migrations"
    d.mkdir()
    for p in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if p.name[:3] <= upto:
            shutil.copy(p, d / p.name)
    return d


def _view_facts(conn) -> dict:
    out = {}
    for v in ("v_enterprise_month",):
        out[v] = sorted(tuple(r) for r in conn.execute(text(f"SELECT * FROM {v}")))
    out["grants"] = sorted(tuple(r) for r in conn.execute(text(
        "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
        "WHERE grantee = 'mfg_reader'")))
    out["comments"] = sorted(tuple(r) for r in conn.execute(text(
        "SELECT c.relname, d.objsubid, d.description FROM pg_description d JOIN pg_class c ON c.oid = d.objoid "
        "WHERE d.classoid = 'pg_class'::regclass AND c.relnamespace = 'public'::regnamespace")))
    return out


def test_migration_017_keeps_rows_views_comments_and_grants(pg_server, tmp_path):
    engine = get_engine(pg_server("m017"))
    try:
        migrate(engine, _migrations_upto(tmp_path, "016"))
        with engine.begin() as conn:
            conn.execute(text("COMMENT ON COLUMN core_tax.vat IS '增值税（万元）'"))
            conn.execute(text("COMMENT ON TABLE core_energy IS '能耗'"))
            for i, period in enumerate(("2022-12", "2023-01", "2023-02")):
                for n in range(3):
                    u = uscc(n)
                    conn.execute(text(
                        "INSERT INTO core_tax (uscc, name, period, vat, cit, other_tax, total_tax, delivery_id)"
                        " VALUES (:u, 'n', :p, :v, 1, NULL, :v + 1, 'd')"), {"u": u, "p": period, "v": i + n / 10})
                    conn.execute(text(
                        "INSERT INTO core_energy (uscc, name, period, energy_tce, electricity, delivery_id)"
                        " VALUES (:u, 'n', :p, 1.5, 2, 'd')"), {"u": u, "p": period})
                    conn.execute(text(
                        "INSERT INTO core_stats_enterprise (uscc, name, period, gross_output, value_added, revenue,"
                        " rd_expense, employees, delivery_id) VALUES (:u, 'n', :p, 10, 3, 9, 1, 50, 'd')"),
                        {"u": u, "p": period})
            conn.execute(text(
                "INSERT INTO core_registry (uscc, name, industry_code, town, land_mu, is_above_scale, roster_year,"
                " delivery_id) VALUES (:u, 'n', 'C13', '镇', 10, 1, 2023, 'r')"), {"u": uscc(0)})
        with engine.connect() as conn:
            before = _view_facts(conn)
            rows_before = {t: sorted(tuple(r) for r in conn.execute(text(f"SELECT * FROM core_{t}")))
                           for t in load.DIRECT_TABLES}
        assert len(before["v_enterprise_month"]) == 9 and before["grants"]
        assert migrate(engine) == ["017_partitioned_core.postgresql.sql"]
        with engine.connect() as conn:
            after = _view_facts(conn)
            for t in load.DIRECT_TABLES:
                assert sorted(tuple(r) for r in conn.execute(text(f"SELECT * FROM core_{t}"))) == rows_before[t]
                kind = conn.execute(text(f"SELECT relkind FROM pg_class WHERE oid = 'core_{t}'::regclass")).scalar()
                assert kind == "p", t
            parts = conn.execute(text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'core_energy'::regclass ORDER BY 1")).scalars().all()
            assert parts == ["energy_2022_12", "energy_2023_01", "energy_2023_02", "energy_default"]
            assert not conn.execute(text("SELECT relname FROM pg_class WHERE relname LIKE '%unpartitioned%'")).all()
        assert after == before  # same view rows, same grants, same comments (the tables' too)
        assert sorted(inspect(engine).get_pk_constraint("core_tax")["constrained_columns"]) == ["period", "uscc"]
        # and loading goes on: a month replaced by a swap, through the views too
        d = "e" * 64
        _publish(engine, _td(["2023-02"] * 2, did=d, first=5, pack=True), d)
        with engine.connect() as conn:
            got = conn.execute(text("SELECT count(*) FROM v_enterprise_month WHERE period = '2023-02'")).scalar()
        assert got == 5  # 3 enterprises from energy/stats, 2 new from tax (the old tax month replaced)
    finally:
        engine.dispose()
