"""Command line: ``mfg-indicators sample|run|migrate``.

``run`` is the whole pipeline for one month without the scheduler; it calls the same functions the
DAG tasks call (mfg_indicators.pipeline).

A fault (warehouse unreachable or timed out, disk full, …) prints one line in Chinese and English
naming what failed and what to do; the traceback goes to the log file the line names.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import tempfile
from pathlib import Path

from .paths import DEFAULT_WAREHOUSE_URL


def _period(text: str) -> str:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError(f"period must be YYYY-MM, got {text!r}")
    return text


EXIT_CODES = """\
exit codes of run: 0 every delivery accepted; 1 bad arguments, configuration or missing inbox;
2 a delivery was rejected (outputs still written from the accepted data); 3 the warehouse did not
answer, timed out or failed; 4 no accepted data at all for the month (JSON written, no bulletin;
--allow-empty renders it anyway); 5 a fault of the machine (disk full, permission denied).
Faults print one line and keep the traceback in <out>/run.log."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mfg-indicators", description=__doc__.splitlines()[0], epilog=EXIT_CODES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("sample", help="write a sample inbox (deterministic for a seed)")
    s.add_argument("--out", required=True, type=Path, help="inbox folder to write")
    s.add_argument("--scale", choices=["county", "province"], default="county")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--config", type=Path, default=None, help="plan configuration (YAML)")

    r = sub.add_parser("run", help="ingest the inbox, compute the month, write JSON and bulletin",
                       epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    r.add_argument("--allow-empty", action="store_true",
                   help="render (and send) the bulletin even when the month has no accepted data at all")

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
        return _guarded(lambda: _migrate(args.warehouse), warehouse=args.warehouse, log_path=_default_log())
    if args.command == "evaluate":
        from .config import ConfigError, load_config
        from .evaluation import EvaluationError, evaluate_year, write_inefficient_list_xlsx
        from .warehouse import connect

        def evaluate() -> int:
            try:
                result = evaluate_year(connect(args.warehouse), load_config(args.config), args.year)
            except (ConfigError, EvaluationError) as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            path = write_inefficient_list_xlsx(result, args.out / f"inefficient-list-{args.year}.xlsx")
            shares = ", ".join(f"{k} {v:.0%}" for k, v in result.class_shares().items())
            print(f"{args.year}: classes {shares}; 低效企业清单 (restricted) -> {path}")
            return 0

        return _guarded(evaluate, warehouse=args.warehouse, log_path=_default_log(), writes_to=args.out)
    if args.command == "run":
        from .config import ConfigError
        from .pipeline import EXIT_USAGE, run_month

        def run() -> int:
            try:
                result = run_month(period=args.period, inbox=args.inbox, warehouse_url=args.warehouse,
                                   out_dir=args.out, config_path=args.config, archive_dir=args.archive,
                                   quarantine_dir=args.quarantine, smtp_conn_id=args.smtp_conn_id,
                                   allow_empty=args.allow_empty)
            except ConfigError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return EXIT_USAGE
            print(result.summary())
            return result.exit_code

        return _guarded(run, warehouse=args.warehouse, log_path=Path(args.out) / "run.log", writes_to=args.out)
    return 1  # pragma: no cover - argparse enforces the choices


def _migrate(url: str) -> int:
    from .warehouse import connect, migrate

    engine = connect(url, migrate_schema=False)
    try:
        applied = migrate(engine)
    finally:
        engine.dispose()
    print("applied: " + (", ".join(applied) if applied else "nothing (schema is current)"))
    return 0


def _default_log() -> Path:
    from .paths import VAR_DIR

    return VAR_DIR / "log" / "mfg-indicators.log"


def _open_log(path: Path) -> tuple[logging.Handler | None, Path | None]:
    """A file handler on the project's loggers (INFO and up), at ``path`` or, when that cannot
    be written (a full disk, a read-only folder), in the temp folder."""
    for candidate in (path, Path(tempfile.gettempdir()) / "mfg-indicators.log"):
        try:
            candidate.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(candidate, encoding="utf-8")
        except OSError:
            continue
        handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
        return handler, candidate
    return None, None


def _guarded(command, *, warehouse: str | None, log_path: Path, writes_to: Path | None = None) -> int:
    """Run ``command`` (returns an exit code); a fault becomes one readable line and an exit code,
    its traceback goes to the log file."""
    pkg = logging.getLogger("mfg_indicators")
    handler, log_file = _open_log(log_path)
    added: list[logging.Handler] = []
    if handler is not None:
        if not logging.getLogger().handlers and not pkg.handlers:
            # keep warnings on stderr as Python's last-resort handler printed them before
            added.append(logging.StreamHandler(sys.stderr))
            added[-1].setLevel(logging.WARNING)
        added.append(handler)
        for h in added:
            pkg.addHandler(h)
        if pkg.level == logging.NOTSET or pkg.level > logging.INFO:
            pkg.setLevel(logging.INFO)
        from .warehouse import display_url

        pkg.info("mfg-indicators %s", " ".join(display_url(a) if a == warehouse else a for a in sys.argv[1:]))
    try:
        return command()
    except Exception as exc:  # noqa: BLE001 - every fault ends here as one line plus the log
        code, line = describe_fault(exc, warehouse, writes_to)
        for h in added[:-1]:  # the traceback goes to the log file only
            pkg.removeHandler(h)
        pkg.error("%s", line, exc_info=exc)
        where = f"详细信息见 / details in {log_file}" if log_file else "(日志无法写入 / no log file could be written)"
        print(f"错误 / error: {line} {where}", file=sys.stderr, flush=True)
        return code
    finally:
        for h in added:
            pkg.removeHandler(h)
            h.close()


def describe_fault(exc: BaseException, warehouse: str | None, writes_to: Path | None = None) -> tuple[int, str]:
    """(exit code, one line in Chinese and English: what failed and what to do). ``writes_to``:
    the folder the command writes to, named when the error does not name its file."""
    import errno

    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    from .ingest import InboxNotFound
    from .migrations import MigrationError
    from .pipeline import EXIT_SYSTEM, EXIT_USAGE, EXIT_WAREHOUSE
    from .warehouse import display_url

    wh = display_url(warehouse)
    if isinstance(exc, InboxNotFound):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, MigrationError):
        return EXIT_WAREHOUSE, f"仓库 {wh} 的表结构无法升级 / warehouse {wh}: schema upgrade refused: {exc}"
    if isinstance(exc, SQLAlchemyError):
        orig = getattr(exc, "orig", None) if isinstance(exc, DBAPIError) else None
        reason = (str(orig or exc).strip().splitlines() or [type(exc).__name__])[0]
        low = reason.lower()
        if "lock timeout" in low or "database is locked" in low or getattr(orig, "sqlstate", None) == "55P03":
            todo = ("另一次装载长时间占用该表：待其结束后重跑 / another load held the tables too long: "
                    "rerun when it has finished (or raise MFG_WAREHOUSE_LOCK_TIMEOUT)")
        elif "timeout" in low or "timed out" in low or "canceling statement" in low:
            todo = ("仓库无响应或语句超时：检查仓库服务器负载与网络后重跑 / the warehouse did not answer in time: "
                    "check the server and the network, then rerun")
        elif "connect" in low or "connection" in low or "could not translate host" in low:
            todo = ("无法连接仓库：检查地址、服务器是否运行、网络与口令后重跑 / cannot reach the warehouse: check the "
                    "address, that the server runs, the network and the credentials, then rerun")
        else:
            todo = "仓库操作失败：按原因处理后重跑 / a warehouse operation failed: fix the cause, then rerun"
        return EXIT_WAREHOUSE, f"仓库 {wh}：{reason}。{todo}"
    if isinstance(exc, OSError):
        target = exc.filename or (str(writes_to) if writes_to else "")
        if exc.errno == errno.ENOSPC:
            return EXIT_SYSTEM, (f"磁盘已满，写入 {target} 失败：请释放磁盘空间后重跑 / disk full writing {target}: "
                                 "free some space, then rerun")
        return EXIT_SYSTEM, (f"文件操作失败 {target}：{exc.strerror or exc} ——检查路径与权限后重跑 / "
                             f"file operation failed on {target}: {exc.strerror or exc}; check the path and "
                             "permissions, then rerun")
    return EXIT_USAGE, (f"运行意外中止（{type(exc).__name__}: {exc}）：请把日志交给数据工程师 / the run stopped "
                        f"unexpectedly ({type(exc).__name__}: {exc}); pass the log to the data engineers")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
