"""Provision Superset from the repository: every object of the bundle in ``dashboards/`` (the
warehouse connection, datasets, charts, the dashboard 攻坚行动指标看板) imported, overwriting what
an earlier start imported, with the connection filled from the environment.

Run with Superset's own Python (its virtualenv, or the Superset image), after
``superset db upgrade`` and ``superset init``::

    SUPERSET_WAREHOUSE_URI=postgresql+psycopg2://reader:PASSWORD@warehouse-db:5432/warehouse \\
        python superset/provision.py --admin admin

The bundle's YAML files carry no password: the database file names the connection only. At
import its ``sqlalchemy_uri`` is replaced by ``SUPERSET_WAREHOUSE_URI``, which must log in as a
role in ``mfg_reader`` (never the warehouse owner). The import is Superset's own assets import
(``ImportAssetsCommand``, what ``POST /api/v1/assets/import/`` runs): unlike
``superset import-dashboards`` it overwrites the connection, datasets and charts too, so a
changed bundle or password takes effect at the next start.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import yaml

BUNDLE_DIR = Path(__file__).resolve().parents[1] / "dashboards"


def bundle_contents(src: Path, warehouse_uri: str) -> dict[str, str]:
    """The bundle's files (path relative to ``src`` -> YAML text), every database's
    sqlalchemy_uri set to ``warehouse_uri``."""
    contents = {}
    for path in sorted(p for p in src.rglob("*.yaml") if p.is_file()):
        rel = path.relative_to(src).as_posix()
        text = path.read_text(encoding="utf-8")
        if rel.startswith("databases/"):
            doc = yaml.safe_load(text)
            doc["sqlalchemy_uri"] = warehouse_uri
            text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
        contents[rel] = text
    return contents


def import_bundle(contents: dict[str, str], admin: str) -> None:
    # Superset is imported here only (bundle_contents works without it); its models need the
    # app created first.
    from flask import g

    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset.commands.importers.v1.assets import ImportAssetsCommand
        from superset.extensions import security_manager

        user = security_manager.find_user(username=admin)
        if user is None:
            raise SystemExit(f"no Superset user {admin!r}: run `superset fab create-admin` first")
        g.user = user
        ImportAssetsCommand(contents).run()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Import the dashboards/ bundle into Superset.")
    ap.add_argument("--admin", default=os.environ.get("SUPERSET_ADMIN_USER", "admin"),
                    help="Superset user who owns the imported objects")
    ap.add_argument("--bundle", type=Path, default=BUNDLE_DIR, help="folder of the bundle's YAML files")
    args = ap.parse_args(argv)
    uri = os.environ.get("SUPERSET_WAREHOUSE_URI", "")
    if not uri:
        print("SUPERSET_WAREHOUSE_URI is not set (the read-only warehouse login)", file=sys.stderr)
        return 2
    contents = bundle_contents(args.bundle, uri)
    import_bundle(contents, args.admin)
    print(f"imported {len(contents)} files from {args.bundle}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
