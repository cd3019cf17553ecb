"""Migrations run by Alembic from the SQL files (issue 16 item 7): a file runs whole (a ``$$``
function body or a trigger body with inner semicolons is not cut), an applied file edited later
is refused, and a warehouse built by the earlier runner (its ``schema_migrations`` without
checksums, no ``alembic_version``) is adopted in place — on both warehouses."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from mfg_indicators.migrations import MigrationError, migration_files
from mfg_indicators.paths import MIGRATIONS_DIR
from mfg_indicators.warehouse import connect, get_engine, migrate


def _copy_migrations(tmp_path: Path, upto: str | None = None) -> Path:
    d = tmp_path / "migrations"
    d.mkdir()
    for p in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if upto is None or p.name[:3] <= upto:
            shutil.copy(p, d / p.name)
    return d


# A function whose body has statements ending in ';' at line end, '$$' quoting, and a literal
# with a semicolon; on SQLite the same shape as a trigger body.
BODY_PG = """\
-- 090: a note trigger (test)
CREATE FUNCTION mfg_test_touch() RETURNS trigger AS $$
BEGIN
    NEW.note := 'touched; twice';
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TABLE mfg_test_note (id INTEGER PRIMARY KEY, note TEXT);
CREATE TRIGGER mfg_test_note_touch BEFORE INSERT ON mfg_test_note
    FOR EACH ROW EXECUTE FUNCTION mfg_test_touch();
"""
BODY_SQLITE = """\
-- 090: a note trigger (test)
CREATE TABLE mfg_test_note (id INTEGER PRIMARY KEY, note TEXT);
CREATE TRIGGER mfg_test_note_touch AFTER INSERT ON mfg_test_note
BEGIN
    UPDATE mfg_test_note SET note = 'touched; twice'
     WHERE id = NEW.id;
END;
"""


def test_a_file_runs_whole_body_and_all(warehouse_url, tmp_path):
    d = _copy_migrations(tmp_path)
    engine = get_engine(warehouse_url)
    try:
        name = engine.dialect.name
        (d / f"090_test_note_trigger.{name}.sql").write_text(BODY_PG if name == "postgresql" else BODY_SQLITE,
                                                              encoding="utf-8")
        applied = migrate(engine, d)
        assert applied[-1] == f"090_test_note_trigger.{name}.sql"
        assert "001_init.sql" in applied
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO mfg_test_note (id, note) VALUES (1, 'x')"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT note FROM mfg_test_note")).scalar() == "touched; twice"
            head = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert len(head) == 1
        assert migrate(engine, d) == []  # current: nothing to do
    finally:
        engine.dispose()


def test_an_edited_applied_migration_is_refused(warehouse_url, tmp_path):
    d = _copy_migrations(tmp_path)
    engine = get_engine(warehouse_url)
    try:
        migrate(engine, d)
        init = d / "001_init.sql"
        init.write_text(init.read_text(encoding="utf-8") + "\n-- edited after it was applied\n", encoding="utf-8")
        with pytest.raises(MigrationError, match="001_init.sql") as err:
            migrate(engine, d)
        assert "edited" in str(err.value) and "校验和" in str(err.value)
        # a new file after the applied ones is fine once the edit is undone
        shutil.copy(MIGRATIONS_DIR / "001_init.sql", init)
        (d / "091_more.sql").write_text("CREATE TABLE mfg_test_more (id INTEGER PRIMARY KEY);\n", encoding="utf-8")
        assert migrate(engine, d) == ["091_more.sql"]
        # a file numbered before the applied head is refused, not silently skipped
        (d / "005_late.sql").write_text("CREATE TABLE mfg_test_late (id INTEGER);\n", encoding="utf-8")
        with pytest.raises(MigrationError, match="005_late.sql"):
            migrate(engine, d)
    finally:
        engine.dispose()


def _old_runner_bookkeeping(engine) -> None:
    """Turn the bookkeeping into what the earlier runner left: its table layout, no Alembic."""
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT version, file_name, applied_at FROM schema_migrations")).all()
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(text("DROP TABLE schema_migrations"))
        conn.execute(text(
            "CREATE TABLE schema_migrations ( version TEXT NOT NULL, file_name TEXT NOT NULL, applied_at TIMESTAMP"
            " NOT NULL, PRIMARY KEY (version, file_name))"))
        conn.execute(text("INSERT INTO schema_migrations VALUES (:v, :f, :t)"),
                     [{"v": r[0], "f": r[1], "t": r[2]} for r in rows])


def test_a_warehouse_of_the_earlier_runner_is_adopted(warehouse_url, tmp_path, pg_server):
    engine = get_engine(warehouse_url)
    try:
        old_files = _copy_migrations(tmp_path, upto="010")
        migrate(engine, old_files)
        _old_runner_bookkeeping(engine)
        with engine.begin() as conn:  # data the adoption must leave alone
            conn.execute(text("INSERT INTO core_tax (uscc, name, period, vat, cit, other_tax, total_tax, delivery_id)"
                              " VALUES ('91331125000000001X', '甲', '2023-01', 1, 1, 1, 3, 'd1')"))
        applied = migrate(engine)  # the real folder: adopts 001…010, applies the rest
        expected_rest = [f.name for f in migration_files(engine.dialect.name) if f.version > "010"]
        assert applied == expected_rest and expected_rest
        with engine.connect() as conn:
            recorded = dict(conn.execute(text("SELECT file_name, sha256 FROM schema_migrations")).all())
            assert conn.execute(text("SELECT count(*) FROM core_tax")).scalar() == 1
        files = migration_files(engine.dialect.name)
        assert recorded == {f.name: f.sha256 for f in files}  # adopted ones got their checksums
        assert migrate(engine) == []
    finally:
        engine.dispose()
    # the adopted warehouse has the tables a fresh one has
    fresh_url = f"sqlite:///{tmp_path / 'fresh.sqlite'}" if warehouse_url.startswith("sqlite") else pg_server("fresh")
    fresh, adopted = connect(fresh_url), get_engine(warehouse_url)
    try:
        assert sorted(inspect(adopted).get_table_names()) == sorted(inspect(fresh).get_table_names())
    finally:
        adopted.dispose()
        fresh.dispose()
