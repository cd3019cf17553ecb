"""Command line: ``mfg-indicators sample|run|migrate``.

``run`` is the whole pipeline for one month without the scheduler; it calls the same functions the
DAG tasks call (mfg_indicators.pipeline).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from .paths import DEFAULT_WAREHOUSE_URL


def _period(text: str) -> str:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError(f"period must be YYYY-MM, got {text!r}")
    return text


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mfg-indicators", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("sample", help="write a sample inbox (deterministic for a seed)")
    s.add_argument("--out", required=True, type=Path, help="inbox folder to write")
    s.add_argument("--scale", choices=["county", "province"], default="county")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--config", type=Path, default=None, help="plan configuration (YAML)")

    r = sub.add_parser("run", help="ingest the inbox, compute the month, write JSON and bulletin")
    r.add_argument("--period", required=True, type=_period, help="report month, YYYY-MM")
    r.add_argument("--inbox", required=True, type=Path)
    r.add_argument("--warehouse", default=DEFAULT_WAREHOUSE_URL,
                   help=f"SQLAlchemy URL (default: embedded SQLite, {DEFAULT_WAREHOUSE_URL})")
    r.add_argument("--out", required=True, type=Path, help="output folder")
    r.add_argument("--config", type=Path, default=None, help="plan configuration (YAML)")
    r.add_argument("--archive", type=Path, default=None,
                   help="where delivered files are archived (default: <out>/../archive)")
    r.add_argument("--quarantine", type=Path, default=None,
                   help="where rejected deliveries go (default: <out>/../quarantine)")
    r.add_argument("--smtp-conn-id", default=None,
                   help="Airflow SMTP connection to e-mail the bulletin (default: write .eml only)")

    e = sub.add_parser("evaluate", help="亩均效益综合评价 for a year and the 低效企业清单 (xlsx)")
    e.add_argument("--year", required=True, type=int)
    e.add_argument("--warehouse", default=DEFAULT_WAREHOUSE_URL)
    e.add_argument("--config", type=Path, default=None, help="plan configuration (YAML)")
    e.add_argument("--out", type=Path, default=Path("output"), help="output folder")

    m = sub.add_parser("migrate", help="create or upgrade the warehouse schema")
    m.add_argument("--warehouse", default=DEFAULT_WAREHOUSE_URL)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "sample":
        from .config import load_config
        from .sample import generate

        summary = generate(args.out, scale=args.scale, seed=args.seed,
                           config=load_config(args.config) if args.config else None)
        print(f"sample inbox written to {args.out}")
        for key, value in summary.items():
            if key != "file_list":
                print(f"  {key}: {value}")
        return 0
    if args.command == "migrate":
        from .warehouse import connect, migrate

        applied = migrate(connect(args.warehouse, migrate_schema=False))
        print("applied: " + (", ".join(applied) if applied else "nothing (schema is current)"))
        return 0
    if args.command == "evaluate":
        from .config import ConfigError, load_config
        from .evaluation import EvaluationError, evaluate_year, write_inefficient_list_xlsx
        from .warehouse import connect

        try:
            result = evaluate_year(connect(args.warehouse), load_config(args.config), args.year)
        except (ConfigError, EvaluationError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        path = write_inefficient_list_xlsx(result, args.out / f"inefficient-list-{args.year}.xlsx")
        shares = ", ".join(f"{k} {v:.0%}" for k, v in result.class_shares().items())
        print(f"{args.year}: classes {shares}; 低效企业清单 (restricted) -> {path}")
        return 0
    if args.command == "run":
        from .config import ConfigError
        from .pipeline import run_month

        try:
            result = run_month(period=args.period, inbox=args.inbox, warehouse_url=args.warehouse,
                               out_dir=args.out, config_path=args.config, archive_dir=args.archive,
                               quarantine_dir=args.quarantine, smtp_conn_id=args.smtp_conn_id)
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(result.summary())
        return result.exit_code
    return 1  # pragma: no cover - argparse enforces the choices


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
