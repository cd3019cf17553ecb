"""Where a deployment keeps things: warehouse, plan configuration, inbox, output, archive,
quarantine, the SMTP connection's id and the sender.

Every value comes from an environment variable (``MFG_*``; docker-compose sets them from .env)
with a default that suits a checkout. A running Airflow task may override each one with an
Airflow Variable (``mfg_*``): :func:`runtime_settings` takes the look-up as an argument, so this
module needs no Airflow (``orchestration.common.runtime_settings`` passes the Variable look-up).

Cheap to import: DAG files reach it at parse time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .paths import DEFAULT_CONFIG, DEFAULT_WAREHOUSE_URL, PROJECT_ROOT, VAR_DIR

# The plan's clock: periods, due days and schedules are local to 云和县.
TIMEZONE = "Asia/Shanghai"

# Overrides a running task may read (Settings field -> Airflow Variable key).
VARIABLES = {
    "inbox": "mfg_inbox", "warehouse_url": "mfg_warehouse_url", "config_path": "mfg_config",
    "archive": "mfg_archive", "quarantine": "mfg_quarantine", "output": "mfg_output",
    "smtp_conn_id": "mfg_smtp_conn_id", "mail_from": "mfg_mail_from",
}
HTTP_SOURCES_VARIABLE = "mfg_http_sources"


@dataclass(frozen=True)
class Settings:
    """Where a deployment keeps things (environment, else checkout default)."""

    warehouse_url: str
    config_path: Path
    inbox: Path
    output: Path
    archive: Path
    quarantine: Path
    smtp_conn_id: str
    mail_from: str | None


def settings(env: Mapping[str, str] | None = None) -> Settings:
    e = os.environ if env is None else env
    return Settings(
        warehouse_url=e.get("MFG_WAREHOUSE_URL") or DEFAULT_WAREHOUSE_URL,
        config_path=Path(e.get("MFG_CONFIG") or DEFAULT_CONFIG),
        inbox=Path(e.get("MFG_INBOX") or PROJECT_ROOT / "inbox"),
        output=Path(e.get("MFG_OUTPUT") or PROJECT_ROOT / "output"),
        archive=Path(e.get("MFG_ARCHIVE") or VAR_DIR / "archive"),
        quarantine=Path(e.get("MFG_QUARANTINE") or VAR_DIR / "quarantine"),
        smtp_conn_id=e.get("MFG_SMTP_CONN_ID") or "smtp_default",
        mail_from=e.get("MFG_MAIL_FROM") or None,
    )


def _no_override(key: str) -> str | None:
    return None


def runtime_settings(lookup: Callable[[str], str | None] = _no_override,
                     env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Settings for a run: ``lookup(key)`` (an Airflow Variable ``mfg_*`` in a task), else the
    environment (``MFG_*``), else the checkout default; plus ``http_sources``, the sources pulled
    over HTTP (``mfg_http_sources`` / ``MFG_HTTP_SOURCES``, comma separated)."""
    e = os.environ if env is None else env
    base = settings(e)
    out: dict[str, Any] = {}
    for field_name, key in VARIABLES.items():
        value = lookup(key)
        default = getattr(base, field_name)
        out[field_name] = (Path(value) if isinstance(default, Path) else value) if value else default
    http = lookup(HTTP_SOURCES_VARIABLE) or e.get("MFG_HTTP_SOURCES") or ""
    out["http_sources"] = sorted({s.strip() for s in http.split(",") if s.strip()})
    return out
