"""The deployment files: docker-compose.yaml validates with docker-compose (Debian's 1.29; no Docker
engine needed), has every service of the CeleryExecutor deployment, shares one JWT secret across
the Airflow services, and takes every secret from .env (.env.example in the repo, .env never).

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
REQUIRED_SERVICES = AIRFLOW_SERVICES | {"postgres", "warehouse-db", "redis", "mailpit"}
SECRETS = ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW_CONN_SMTP_DEFAULT",
           "MFG_WAREHOUSE_URL")


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
    env = {k: v for k, v in os.environ.items() if k not in SECRETS and not k.startswith(("AIRFLOW", "MFG_", "POSTGRES", "WAREHOUSE"))}
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
