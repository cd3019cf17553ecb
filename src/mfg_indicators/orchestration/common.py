"""What every DAG of the project shares: owner, retry policy, failure alerts, tags, and where the
deployment's folders and warehouse are (environment variables, set by docker-compose / .env).

Kept cheap to import: DAG files import this at parse time, so nothing heavy here (no pandas, GX,
SQLAlchemy); the failure notifier reads only the ``alerts`` block of the plan configuration.

Adopt it in a DAG factory with::

    from mfg_indicators.orchestration.common import dag_kwargs
    @dag(dag_id="...", schedule=..., **dag_kwargs(tags=["feeds"], doc_md=__doc__))

or, field by field, ``default_args=default_args()`` plus ``owner_links=OWNER_LINKS``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..paths import DEFAULT_CONFIG, DEFAULT_WAREHOUSE_URL, PROJECT_ROOT, VAR_DIR

OWNER = "mfg-data-team"
# Shown as a link on the owner in the UI.
OWNER_LINKS = {OWNER: "mailto:data-team@example.gov.cn"}
BASE_TAGS = ("mfg-indicators",)
TIMEZONE = "Asia/Shanghai"

# Retry policy: departments' shares and SMTP relays hiccup; 3 retries 2 → 4 → 8 min, capped.
RETRIES = 3
RETRY_DELAY = timedelta(minutes=2)
MAX_RETRY_DELAY = timedelta(minutes=30)


@dataclass(frozen=True)
class Settings:
    """Where a deployment keeps things. Every value comes from an environment variable (compose
    sets them from .env) with a default that suits a checkout."""

    warehouse_url: str
    config_path: Path
    inbox: Path
    output: Path
    archive: Path
    quarantine: Path
    smtp_conn_id: str
    mail_from: str | None


def settings(env: dict[str, str] | None = None) -> Settings:
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


# Airflow Variables that override the environment for a running task (Settings field -> key).
_VARIABLES = {
    "inbox": "mfg_inbox", "warehouse_url": "mfg_warehouse_url", "config_path": "mfg_config",
    "archive": "mfg_archive", "quarantine": "mfg_quarantine", "output": "mfg_output",
    "smtp_conn_id": "mfg_smtp_conn_id", "mail_from": "mfg_mail_from",
}


def _variable(key: str) -> str | None:
    try:
        from airflow.sdk import Variable

        return Variable.get(key, default=None)
    except Exception:  # noqa: BLE001 - no metadata DB / API (e.g. a plain script): env decides
        return None


def runtime_settings() -> dict[str, Any]:
    """Settings for a running task: Airflow Variable (``mfg_*``), else environment (``MFG_*``),
    else the checkout default. Call inside tasks only, never at parse time (Variable look-ups)."""
    base = settings()
    out: dict[str, Any] = {}
    for field_name, var in _VARIABLES.items():
        value = _variable(var)
        default = getattr(base, field_name)
        out[field_name] = (Path(value) if isinstance(default, Path) else value) if value else default
    http = _variable("mfg_http_sources") or os.environ.get("MFG_HTTP_SOURCES") or ""
    out["http_sources"] = sorted({s.strip() for s in http.split(",") if s.strip()})
    return out


def default_args(**overrides: Any) -> dict[str, Any]:
    """Task defaults for every DAG: owner, retries with exponential backoff, and an e-mail to the
    data engineers (config ``alerts.engineers``) through ``SmtpNotifier`` when a task fails for
    good. No deprecated ``email=``/``email_on_failure`` arguments."""
    from ..alerts import failure_notifier  # local: alerts imports this module

    args: dict[str, Any] = {
        "owner": OWNER,
        "retries": RETRIES,
        "retry_delay": RETRY_DELAY,
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": MAX_RETRY_DELAY,
        "on_failure_callback": failure_notifier(),
    }
    args.update(overrides)
    return args


def tags(*extra: str) -> list[str]:
    return [*BASE_TAGS, *extra]


def dag_kwargs(*, tags: list[str] | tuple[str, ...] = (), doc_md: str | None = None,
               **overrides: Any) -> dict[str, Any]:
    """Keyword arguments for ``@dag``/``DAG`` with the project's hygiene rules applied."""
    kwargs: dict[str, Any] = {
        "default_args": default_args(),
        "owner_links": OWNER_LINKS,
        "tags": [*BASE_TAGS, *tags],
        "max_active_runs": 1,
    }
    if doc_md is not None:
        kwargs["doc_md"] = doc_md
    kwargs.update(overrides)
    return kwargs
