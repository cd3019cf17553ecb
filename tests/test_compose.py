"""The deployment files: docker-compose.yaml validates with docker-compose (Debian's 1.29; no Docker
engine needed), has every service of the CeleryExecutor deployment and Apache Superset, shares one
JWT secret across the Airflow services, takes every secret from .env (.env.example in the repo,
.env never), and refuses at start the placeholders of .env.example and too-short secrets.

With CI=true a missing docker-compose fails the test (``.ci/run`` installs it); elsewhere it skips.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
AIRFLOW_SERVICES = {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                    "airflow-worker", "airflow-init"}
SUPERSET_SERVICES = {"superset-init", "superset"}
REQUIRED_SERVICES = AIRFLOW_SERVICES | SUPERSET_SERVICES | {"postgres", "warehouse-db", "redis", "mailpit"}
SECRETS = ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW_CONN_SMTP_DEFAULT",
           "MFG_WAREHOUSE_URL", "SUPERSET_SECRET_KEY", "SUPERSET_ADMIN_PASSWORD", "SUPERSET_WAREHOUSE_PASSWORD")
CHECK_SECRETS = ROOT / "scripts" / "check-secrets.sh"


def _docker_compose() -> str:
    exe = shutil.which("docker-compose")
    if exe is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("docker-compose is not installed but CI=true (.ci/run must `apt-get install -y docker-compose`)")
        pytest.skip("docker-compose not installed (apt-get install -y docker-compose)")
    return exe


def _config(env_file: Path, compose: Path = COMPOSE, quiet: bool = False) -> subprocess.CompletedProcess:
    cmd = [_docker_compose(), "-f", str(compose), "--env-file", str(env_file), "config"]
    if quiet:
        cmd.append("-q")
    env = {k: v for k, v in os.environ.items() if k not in SECRETS and not k.startswith(("AIRFLOW", "MFG_", "POSTGRES", "WAREHOUSE", "SUPERSET"))}
    return subprocess.run(cmd, cwd=compose.parent, capture_output=True, text=True, timeout=120, env=env)


@pytest.fixture(scope="module")
def resolved() -> dict:
    proc = _config(ENV_EXAMPLE)
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load(proc.stdout)


def test_compose_file_validates_with_env_example():
    proc = _config(ENV_EXAMPLE, quiet=True)
    assert proc.returncode == 0, f"docker-compose config -q failed:\n{proc.stderr}"
    # every ${VAR} the file uses is given by .env.example (compose warns on unset ones)
    assert "is not set" not in proc.stderr, proc.stderr


def test_invalid_compose_file_fails_validation(tmp_path):
    """The check has teeth: a broken file is refused."""
    bad = tmp_path / "docker-compose.yaml"
    text = COMPOSE.read_text(encoding="utf-8").replace("    command: scheduler\n", "    command: scheduler\n    bogus_key: 1\n", 1)
    assert text != COMPOSE.read_text(encoding="utf-8")
    bad.write_text(text, encoding="utf-8")
    proc = _config(ENV_EXAMPLE, compose=bad, quiet=True)
    assert proc.returncode != 0
    assert "bogus_key" in proc.stderr


def test_missing_secret_is_refused(tmp_path):
    env = tmp_path / "env"
    env.write_text("\n".join(line for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
                             if not line.startswith("AIRFLOW__API_AUTH__JWT_SECRET=")) + "\n", encoding="utf-8")
    proc = _config(env, quiet=True)
    assert proc.returncode != 0
    assert "AIRFLOW__API_AUTH__JWT_SECRET" in proc.stderr


def test_required_services(resolved):
    services = resolved["services"]
    assert REQUIRED_SERVICES <= set(services), REQUIRED_SERVICES - set(services)
    commands = {name: services[name].get("command") for name in AIRFLOW_SERVICES - {"airflow-init"}}
    flat = {k: " ".join(v) if isinstance(v, list) else v for k, v in commands.items()}
    assert flat == {"airflow-apiserver": "api-server", "airflow-scheduler": "scheduler",
                    "airflow-dag-processor": "dag-processor", "airflow-triggerer": "triggerer",
                    "airflow-worker": "celery worker"}
    # Airflow services are built from the project's Dockerfile
    for name in AIRFLOW_SERVICES:
        assert services[name]["build"]["dockerfile"] == "Dockerfile", name
    assert "mailpit" in services["mailpit"]["image"]
    assert services["redis"]["image"].startswith("redis")
    # the long-running Airflow services wait for airflow-init to finish
    for name in AIRFLOW_SERVICES - {"airflow-init"}:
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"


def test_jwt_secret_and_secrets_shared_by_all_airflow_services(resolved):
    services = resolved["services"]
    for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__CORE__EXECUTOR",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW_CONN_SMTP_DEFAULT", "MFG_WAREHOUSE_URL"):
        values = {name: services[name]["environment"].get(key) for name in AIRFLOW_SERVICES}
        assert all(values.values()), f"{key} missing in {[n for n, v in values.items() if not v]}"
        assert len(set(values.values())) == 1, f"{key} differs between services: {values}"
    env = services["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")


def test_values_come_from_env_file(tmp_path):
    """Secrets are interpolated from the env file, not written into the compose file."""
    text = COMPOSE.read_text(encoding="utf-8")
    for key in SECRETS:
        assert re.search(rf"\$\{{{key}:\?", text), f"{key} must be ${{{key}:?...}} from .env"
    env = tmp_path / "env"
    env.write_text(ENV_EXAMPLE.read_text(encoding="utf-8").replace(
        "AIRFLOW__API_AUTH__JWT_SECRET=change-me-long-random-string",
        "AIRFLOW__API_AUTH__JWT_SECRET=s3cret-from-env-file"), encoding="utf-8")
    proc = _config(env)
    assert proc.returncode == 0, proc.stderr
    services = yaml.safe_load(proc.stdout)["services"]
    assert {services[n]["environment"]["AIRFLOW__API_AUTH__JWT_SECRET"] for n in AIRFLOW_SERVICES} == {
        "s3cret-from-env-file"}


def test_warehouse_is_a_separate_database(resolved):
    services = resolved["services"]
    env = services["airflow-worker"]["environment"]
    meta, wh = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], env["MFG_WAREHOUSE_URL"]
    assert "@postgres/" in meta and "@warehouse-db:" in wh
    wh_env = services["warehouse-db"]["environment"]
    assert wh.rsplit("/", 1)[1] == wh_env["POSTGRES_DB"]
    assert f"{wh_env['POSTGRES_USER']}:{wh_env['POSTGRES_PASSWORD']}@" in wh


def test_inbox_and_output_are_mounted(resolved):
    worker = resolved["services"]["airflow-worker"]
    targets = {v["target"] if isinstance(v, dict) else v.split(":")[1] for v in worker["volumes"]}
    assert {"/opt/airflow/inbox", "/opt/airflow/output", "/opt/airflow/dags"} <= targets
    env = worker["environment"]
    assert env["MFG_INBOX"] == "/opt/airflow/inbox" and env["MFG_OUTPUT"] == "/opt/airflow/output"


def test_env_is_ignored_and_example_committed():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in ignored
    proc = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT)
    assert proc.returncode == 0, ".env must be git-ignored"
    proc = subprocess.run(["git", "check-ignore", "-q", ".env.example"], cwd=ROOT)
    assert proc.returncode == 1, ".env.example must not be ignored"
    assert "change-me" in ENV_EXAMPLE.read_text(encoding="utf-8")


def test_dockerfile_pins_airflow_fonts_and_project():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM apache/airflow:3\.3\.2-python3\.11$", text, re.M)
    assert "fonts-noto-cjk" in text
    assert "requirements.lock" in text
    assert "pip install --no-cache-dir --no-deps /opt/mfg" in text
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in ignore and ".venv" in ignore


# --- Superset, secrets at start, auth manager (issue 14 §6, issue 15) ----------------------------

def _env_example_values() -> dict[str, str]:
    return dict(line.split("=", 1) for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
                if line and not line.startswith("#") and "=" in line)


def _check_secrets(names: list[str], values: dict[str, str]) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **values}
    return subprocess.run(["sh", str(CHECK_SECRETS), *names], env=env, capture_output=True, text=True, timeout=30)


def _init_secret_names(resolved: dict, service: str) -> list[str]:
    script = " ".join(resolved["services"][service]["command"])
    m = re.search(r"check-secrets\.sh((?:\s+(?:\\\s*)?[A-Z_]+)+)", script)
    assert m, f"{service} does not run check-secrets.sh"
    return re.findall(r"[A-Z][A-Z0-9_]+", m.group(1))


def test_init_refuses_the_placeholders_of_env_example(resolved):
    names = _init_secret_names(resolved, "airflow-init")
    assert {"POSTGRES_PASSWORD", "WAREHOUSE_DB_PASSWORD", "AIRFLOW__CORE__FERNET_KEY",
            "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW_ADMIN_PASSWORD", "SUPERSET_WAREHOUSE_PASSWORD"} <= set(names)
    env = resolved["services"]["airflow-init"]["environment"]
    values = {n: env[n] for n in names}  # what the container sees with .env.example as .env
    proc = _check_secrets(names, values)
    assert proc.returncode == 1
    for n in ("POSTGRES_PASSWORD", "WAREHOUSE_DB_PASSWORD"):
        assert f"ERROR: {n} still has the placeholder" in proc.stdout, proc.stdout
    superset_names = _init_secret_names(resolved, "superset-init")
    assert {"SUPERSET_SECRET_KEY", "SUPERSET_ADMIN_PASSWORD"} <= set(superset_names)
    senv = resolved["services"]["superset-init"]["environment"]
    assert _check_secrets(superset_names, {n: senv[n] for n in superset_names}).returncode == 1


def test_check_secrets_refuses_short_and_default_values_and_accepts_real_ones():
    names = ["POSTGRES_PASSWORD", "WAREHOUSE_DB_PASSWORD"]
    good = {"POSTGRES_PASSWORD": "Vq3-hT9x-LmP2-wK7e", "WAREHOUSE_DB_PASSWORD": "Zr8mN4bY6cQ1sD5f"}
    assert _check_secrets(names, good).returncode == 0
    for bad, why in (("short-pw", "shorter than 12"), ("airflow", "well-known default"), ("", "is not set"),
                     ("CHANGE-ME-warehouse-db-password", "placeholder")):
        proc = _check_secrets(names, {**good, "WAREHOUSE_DB_PASSWORD": bad})
        assert proc.returncode == 1 and why in proc.stdout and "WAREHOUSE_DB_PASSWORD" in proc.stdout, (bad, proc.stdout)
        assert "POSTGRES_PASSWORD" not in proc.stdout


def test_superset_service(resolved):
    services = resolved["services"]
    dockerfile = (ROOT / "superset" / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM apache/superset:\d+\.\d+\.\d+$", dockerfile, re.M), "official image, pinned"
    for name in SUPERSET_SERVICES:
        assert services[name]["build"]["dockerfile"] == "superset/Dockerfile", name
    env = services["superset"]["environment"]
    # metadata in the compose PostgreSQL, not the warehouse
    assert "@postgres:5432/superset" in env["SUPERSET_METADATA_DB_URI"]
    # the warehouse connection logs in as the reader login, never the warehouse owner
    wh_owner = services["warehouse-db"]["environment"]["POSTGRES_USER"]
    login = re.match(r"^postgresql\+psycopg2://([^:]+):", env["SUPERSET_WAREHOUSE_URI"]).group(1)
    assert login != wh_owner and "@warehouse-db:5432/" in env["SUPERSET_WAREHOUSE_URI"]
    assert services["airflow-init"]["environment"]["SUPERSET_WAREHOUSE_USER"] == login
    assert "IN ROLE mfg_reader" in " ".join(services["airflow-init"]["command"])
    assert services["superset"]["depends_on"]["superset-init"]["condition"] == "service_completed_successfully"
    assert "provision.py" in " ".join(services["superset-init"]["command"])
    config = (ROOT / "superset" / "superset_config.py").read_text(encoding="utf-8")
    assert 'BABEL_DEFAULT_LOCALE = "zh"' in config


@pytest.mark.parametrize("key", ["SUPERSET_SECRET_KEY", "SUPERSET_ADMIN_PASSWORD"])
def test_missing_superset_secret_is_refused(tmp_path, key):
    env = tmp_path / "env"
    env.write_text("\n".join(line for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
                             if not line.startswith(f"{key}=")) + "\n", encoding="utf-8")
    proc = _config(env, quiet=True)
    assert proc.returncode != 0
    assert key in proc.stderr


def test_superset_config_refuses_missing_or_placeholder_secret_key(tmp_path):
    config = ROOT / "superset" / "superset_config.py"
    base = {"PATH": os.environ.get("PATH", ""), "SUPERSET_METADATA_DB_URI": "postgresql://x@localhost/superset"}
    run = ["python3", "-c", f"import runpy; runpy.run_path({str(config)!r})"]
    for value in (None, "change-me-superset-secret-key", "too-short"):
        env = dict(base) if value is None else {**base, "SUPERSET_SECRET_KEY": value}
        proc = subprocess.run(run, env=env, capture_output=True, text=True, timeout=30)
        assert proc.returncode != 0 and "SUPERSET_SECRET_KEY" in proc.stderr, (value, proc.stderr[-300:])
    ok = subprocess.run(run, env={**base, "SUPERSET_SECRET_KEY": "k" * 12 + "Q7v-2pX9-mL4s-Zr8n-Tw3e-Hy6u"},
                        capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0, ok.stderr


def test_fab_auth_manager_and_local_time(resolved):
    services = resolved["services"]
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__AUTH_MANAGER"] == \
            "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager", name
        assert env["AIRFLOW__CORE__DEFAULT_TIMEZONE"] == "Asia/Shanghai", name
        assert env["AIRFLOW__API__BASE_URL"].startswith("http"), name
        assert not any(k.startswith("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER") for k in env), name
    assert "airflow users create" in " ".join(services["airflow-init"]["command"])
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r'"apache-airflow-providers-fab==\d+\.\d+\.\d+"', dockerfile)


def test_dashboard_bundle_is_whole_and_carries_no_password():
    """dashboards/: every chart on the dashboard exists and reads a dataset of the bundle, every
    dataset uses the one warehouse connection, whose URI has no password until provision.py fills
    it from the environment; titles are Chinese."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("provision", ROOT / "superset" / "provision.py")
    provision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(provision)
    bundle = ROOT / "dashboards"

    def load(sub: str) -> list[dict]:
        return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(bundle.glob(f"{sub}/**/*.yaml"))]

    (database,), datasets, charts, (dashboard,) = load("databases"), load("datasets"), load("charts"), load("dashboards")
    assert yaml.safe_load((bundle / "metadata.yaml").read_text(encoding="utf-8"))["type"] == "assets"
    assert ":" not in database["sqlalchemy_uri"].split("://", 1)[1].split("@", 1)[0], "no password in the bundle"
    assert database["expose_in_sqllab"] is True
    assert {d["database_uuid"] for d in datasets} == {database["uuid"]}
    for d in datasets:  # only the statisticians' views: the reader role can read nothing else
        sql = d["sql"] or f"SELECT * FROM {d['table_name']}"
        assert set(re.findall(r"\bFROM\s+(\w+)", sql)) <= {"v_indicator_results", "v_per_mu_evaluated_set",
                                                          "v_evaluation_counts", "v_month_warnings"}, sql
    dataset_uuids = {d["uuid"] for d in datasets}
    assert all(c["dataset_uuid"] in dataset_uuids for c in charts)
    on_board = {v["meta"]["uuid"] for v in dashboard["position"].values() if isinstance(v, dict) and v.get("type") == "CHART"}
    assert on_board == {c["uuid"] for c in charts}
    assert dashboard["dashboard_title"] == "攻坚行动指标看板"
    assert all(re.search(r"[\u4e00-\u9fff]", c["slice_name"]) for c in charts)
    filled = provision.bundle_contents(bundle, "postgresql+psycopg2://reader:s3cret@db:5432/warehouse")
    assert yaml.safe_load(filled["databases/warehouse.yaml"])["sqlalchemy_uri"].endswith("reader:s3cret@db:5432/warehouse")
    assert set(filled) == {p.relative_to(bundle).as_posix() for p in bundle.rglob("*.yaml")}
