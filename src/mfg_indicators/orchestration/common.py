"""What every DAG of the project shares: owner, retry policy, failure alerts, the tag taxonomy,
and the run's settings (Airflow Variable over ``mfg_indicators.settings``: environment, else
checkout default).

Kept cheap to import: DAG files import this at parse time, so nothing heavy here (no pandas, GX,
SQLAlchemy); the failure notifier reads only the ``alerts`` block of the plan configuration.

Adopt it in a DAG factory with::

    from mfg_indicators.orchestration.common import dag_kwargs
    @dag(dag_id="...", schedule=..., **dag_kwargs(tags=[Tag.FEED], doc_md=DOC_MD))

or, field by field, ``default_args=default_args()`` plus ``owner_links=OWNER_LINKS``.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Any

from .. import settings as _settings
from ..feeds import SOURCES
from ..settings import TIMEZONE, Settings, settings
from .notifiers import failure_notifier

__all__ = ["OWNER", "OWNER_LINKS", "BASE_TAGS", "TAGS", "TIMEZONE", "Settings", "Tag", "settings",
           "runtime_settings", "default_args", "dag_kwargs"]

OWNER = "mfg-data-team"
# Shown as a link on the owner in the UI.
OWNER_LINKS = {OWNER: "mailto:data-team@example.gov.cn"}


class Tag(StrEnum):
    """The DAG tags of the project, the filters of the Airflow UI's DAG list. Every DAG carries
    ``mfg-indicators``, what it does, and (feed DAGs) its source; tests/test_dagbag.py rejects a
    tag not named here."""

    PROJECT = "mfg-indicators"
    FEED = "feed"  # a feed's ingestion or its deadline
    INDICATORS = "indicators"  # the monthly computation and bulletin
    EVALUATION = "evaluation"  # 亩均效益综合评价
    ALERTS = "alerts"  # sends alerts as its output
    ANNUAL = "annual"  # runs once a year


# Every tag a DAG may carry: the taxonomy plus one per feed source (feeds.SOURCES).
TAGS = frozenset({*Tag, *SOURCES})
BASE_TAGS = (Tag.PROJECT,)

# Retry policy: departments' shares and SMTP relays hiccup; 3 retries 2 → 4 → 8 min, capped.
RETRIES = 3
RETRY_DELAY = timedelta(minutes=2)
MAX_RETRY_DELAY = timedelta(minutes=30)


def _variable(key: str) -> str | None:
    try:
        from airflow.sdk import Variable

        return Variable.get(key, default=None)
    except Exception:  # noqa: BLE001 - no metadata DB / API (e.g. a plain script): env decides
        return None


def runtime_settings() -> dict[str, Any]:
    """Settings for a running task: Airflow Variable (``mfg_*``), else environment (``MFG_*``),
    else the checkout default (``mfg_indicators.settings``). Call inside tasks only, never at
    parse time (Variable look-ups)."""
    return _settings.runtime_settings(_variable)


def default_args(**overrides: Any) -> dict[str, Any]:
    """Task defaults for every DAG: owner, retries with exponential backoff, and an e-mail to the
    data engineers (config ``alerts.engineers``) through ``SmtpNotifier`` when a task fails for
    good. No deprecated ``email=``/``email_on_failure`` arguments."""
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


def dag_kwargs(*, tags: list[str] | tuple[str, ...] = (), doc_md: str | None = None,
               **overrides: Any) -> dict[str, Any]:
    """Keyword arguments for ``@dag``/``DAG`` with the project's hygiene rules applied."""
    kwargs: dict[str, Any] = {
        "default_args": default_args(),
        "owner_links": OWNER_LINKS,
        "tags": [str(t) for t in (*BASE_TAGS, *tags)],
        "max_active_runs": 1,
    }
    if doc_md is not None:
        kwargs["doc_md"] = doc_md
    kwargs.update(overrides)
    return kwargs
