"""Where the project's non-Python parts live (SQL, templates, expectations, configuration)."""

from __future__ import annotations

import os
from pathlib import Path

# The package sits in <root>/src/mfg_indicators; MFG_PROJECT_ROOT overrides (e.g. in an image).
PROJECT_ROOT = Path(os.environ.get("MFG_PROJECT_ROOT") or Path(__file__).resolve().parents[2])
SQL_DIR = PROJECT_ROOT / "include" / "sql"
MIGRATIONS_DIR = SQL_DIR / "migrations"
TEMPLATES_DIR = PROJECT_ROOT / "include" / "templates"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
CONFIG_DIR = PROJECT_ROOT / "config"
DEFAULT_CONFIG = CONFIG_DIR / "yunhe-2022.yaml"
VAR_DIR = Path(os.environ.get("MFG_VAR_DIR") or PROJECT_ROOT / "var")
DEFAULT_WAREHOUSE_URL = f"sqlite:///{VAR_DIR / 'warehouse.sqlite'}"
