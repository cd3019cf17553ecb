"""Apache Superset configuration for the campaign's dashboards (攻坚行动指标看板).

Read by Superset through ``SUPERSET_CONFIG_PATH``. Every secret and address comes from the
environment, so the same file serves docker-compose and the local check
(``scripts/superset_check.py``); a missing or placeholder secret stops Superset at start.
"""

from __future__ import annotations

import os

_PLACEHOLDERS = {"", "change-me", "changeme", "change_me", "secret", "password", "admin", "superset"}


def _secret(name: str, min_length: int = 16) -> str:
    value = os.environ.get(name, "")
    if value.strip().lower() in _PLACEHOLDERS or value.startswith("change-me"):
        raise RuntimeError(f"{name} is not set (or is a placeholder): set it in .env")
    if len(value) < min_length:
        raise RuntimeError(f"{name} is shorter than {min_length} characters")
    return value


def _required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"{name} is not set")
    return value


SECRET_KEY = _secret("SUPERSET_SECRET_KEY", 32)
# Superset's own metadata (users, dashboards, saved queries): a database of the compose
# PostgreSQL, never the warehouse.
SQLALCHEMY_DATABASE_URI = _required("SUPERSET_METADATA_DB_URI")

# The UI in Chinese; English stays selectable.
BABEL_DEFAULT_LOCALE = "zh"
LANGUAGES = {"zh": {"flag": "cn", "name": "简体中文"}, "en": {"flag": "us", "name": "English"}}

# Dashboards and SQL Lab run on the warehouse connection imported from dashboards/ (a login
# role in mfg_reader): PostgreSQL itself refuses every write, and SQL Lab refuses DML on top.
PREVENT_UNSAFE_DB_CONNECTIONS = True
SQL_MAX_ROW = 100000
DISPLAY_MAX_ROW = 10000

# Small deployment: no Redis cache or Celery workers for Superset; results are computed on view.
CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 300}
DATA_CACHE_CONFIG = CACHE_CONFIG
FEATURE_FLAGS = {"DASHBOARD_RBAC": True, "ENABLE_TEMPLATE_PROCESSING": False}

# No public sign-up: accounts are made by the admin (docs/operations.md).
AUTH_USER_REGISTRATION = False
WTF_CSRF_ENABLED = True
# Served over plain HTTP on 127.0.0.1 (the compose port binding, the local check); TLS and a
# Content-Security-Policy belong to the county's reverse proxy in front of it.
TALISMAN_ENABLED = False
