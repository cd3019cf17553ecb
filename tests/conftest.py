"""Shared fixtures: warehouses on both dialects.

PostgreSQL: a throwaway database per test session on the local server (PG_ADMIN_URL, default
postgresql://127.0.0.1:5432/test, trust auth), dropped at the end. With REQUIRE_POSTGRES=1 (set by
.ci/run) an unreachable server fails the run; otherwise PostgreSQL tests are skipped.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get("PG_ADMIN_URL", "postgresql://127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"


def _pg_url(dbname: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{dbname}"


@pytest.fixture(scope="session")
def pg_server():
    """Admin access to the PostgreSQL server: yields a function that makes a new empty database
    and returns its URL; every database made is dropped at session end."""
    import psycopg

    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        if REQUIRE_POSTGRES:
            pytest.fail(f"REQUIRE_POSTGRES=1 but PostgreSQL is unreachable at {PG_ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc}")
    made: list[str] = []
    session_tag = uuid.uuid4().hex[:8]

    def new_database(label: str = "wh") -> str:
        name = f"mfg_test_{session_tag}_{label}_{len(made)}"
        admin.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return _pg_url(name)

    yield new_database
    for name in made:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse_url(request, tmp_path: Path) -> str:
    """An empty warehouse URL on each dialect (not yet migrated)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    return request.getfixturevalue("pg_server")(request.node.name[-20:].lower().strip("[]-_").replace("-", "_") or "wh")


@pytest.fixture
def engine(warehouse_url):
    """A migrated warehouse engine on each dialect."""
    from mfg_indicators.warehouse import connect

    eng = connect(warehouse_url)
    yield eng
    eng.dispose()


# --- Airflow -------------------------------------------------------------------------------
# Airflow reads its configuration at import: point it at a throwaway home before any test
# imports it. The project's dags/ folder is the DAGs folder, as in a deployment.
import subprocess
import sys
import tempfile

PROJECT_ROOT = Path(__file__).resolve().parents[1]
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="mfg-airflow-test-"))
os.environ.setdefault("AIRFLOW_HOME", str(_AIRFLOW_HOME))
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(PROJECT_ROOT / "dags")
os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(PROJECT_ROOT / "plugins"))


@pytest.fixture(scope="session")
def airflow_db():
    """Airflow's metadata DB (SQLite in the throwaway AIRFLOW_HOME), migrated once per session.
    Needed by dag.test(); DagBag parsing does not need it."""
    subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
                   check=True, capture_output=True, env=os.environ.copy())
    return Path(os.environ["AIRFLOW_HOME"])
