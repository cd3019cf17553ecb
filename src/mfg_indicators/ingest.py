"""One delivery end to end, and the whole inbox: archive → read → validate → load, or quarantine.

This is the single code path the CLI ``run`` and the feed DAGs share (both call ingest_inbox; a
feed DAG with ``sources=[its source]``):

    find_deliveries(inbox, source)            -> [Delivery]          (extract; arrival order)
    ingest_delivery(engine, delivery, ...)    -> DeliveryOutcome     (accepted | duplicate | rejected)
    ingest_inbox(inbox, engine, ...)          -> IngestReport        (read-ahead; ANALYZE at the end)

Write–audit–publish runs in ONE transaction per delivery: take the delivery's load locks
(concurrent runs take turns; see load.lock_for_load), look again whether it was accepted
meanwhile, stage rows, run the in-warehouse checks, publish to core, clear staging, record the
delivery. Any error rolls everything back; the file then moves to ``<quarantine_dir>/<source>/``
with a JSON and a Chinese text report next to it. Nothing about a rejected delivery is written to
the warehouse.
"""

from __future__ import annotations

import ctypes
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, IntegrityError

from .config import PlanConfig
from .extract import (Delivery, ReadResult, TableData, archive_delivery, bounded_name, find_deliveries, open_regular,
                      read_delivery, read_limits, scan_inbox)
from .feeds import TABLES, tables_of_source
from .findings import ERROR, Finding
from . import load

log = logging.getLogger("mfg_indicators.ingest")

ACCEPTED, DUPLICATE, REJECTED = "accepted", "duplicate", "rejected"
# ingest_inbox reads ahead in a separate process when the new files are at least this big
PREFETCH_PROCESS_MIN_BYTES = 32 * 2**20


@dataclass
class DeliveryOutcome:
    delivery: Delivery
    status: str  # accepted | duplicate | rejected
    findings: list[Finding] = field(default_factory=list)  # errors when rejected, warnings otherwise
    tables: dict[str, int] = field(default_factory=dict)  # table name -> rows loaded
    periods: list[str] = field(default_factory=list)  # months ('YYYY-MM') or roster years touched
    rows: int = 0
    archive_path: Path | None = None
    quarantine_path: Path | None = None
    report_paths: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # read, validate, load
    spans: list[tuple[str, float, float]] = field(default_factory=list)  # (stage, perf_counter start, end)

    @property
    def file(self) -> str:
        return self.delivery.name

    @property
    def source(self) -> str:
        return self.delivery.source

    @property
    def delivery_id(self) -> str:
        return self.delivery.sha256

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.is_error]

    def summary(self) -> dict[str, Any]:
        """JSON-safe (for XCom, Asset extras and logs)."""
        return {"file": self.file, "source": self.source, "sha256": self.delivery_id, "status": self.status,
                "tables": dict(self.tables), "periods": list(self.periods), "rows": self.rows,
                "errors": len(self.errors), "warnings": len(self.warnings),
                "quarantine_path": str(self.quarantine_path) if self.quarantine_path else None}


@dataclass
class IngestReport:
    outcomes: list[DeliveryOutcome] = field(default_factory=list)
    # What the inbox holds that is no delivery (links, special files, sub-folders, folders of no
    # source): errors, reported with the rejections (extract.scan_inbox).
    inbox_findings: list[Finding] = field(default_factory=list)

    @property
    def accepted(self) -> list[DeliveryOutcome]:
        return [o for o in self.outcomes if o.status == ACCEPTED]

    @property
    def duplicates(self) -> list[DeliveryOutcome]:
        return [o for o in self.outcomes if o.status == DUPLICATE]

    @property
    def rejected_files(self) -> list[DeliveryOutcome]:
        return [o for o in self.outcomes if o.status == REJECTED]

    @property
    def rejected(self) -> list[Finding]:
        """Every error of every rejected delivery (Finding.as_rejection() gives the JSON item)."""
        return [f for o in self.rejected_files for f in o.errors] + [f for f in self.inbox_findings if f.is_error]

    @property
    def warnings(self) -> list[Finding]:
        return [f for o in self.accepted for f in o.warnings]

    @property
    def rows_loaded(self) -> int:
        return sum(o.rows for o in self.accepted)

    @property
    def exit_code(self) -> int:
        return 2 if self.rejected else 0

    def periods_by_source(self) -> dict[str, list[str]]:
        out: dict[str, set[str]] = {}
        for o in self.accepted:
            out.setdefault(o.source, set()).update(o.periods)
        return {s: sorted(p) for s, p in out.items()}


class InboxNotFound(FileNotFoundError):
    """The inbox folder does not exist (or is not a folder)."""

    def __init__(self, inbox: Path | str):
        super().__init__(f"收件箱不存在：{inbox}（请检查路径或挂载） / inbox folder does not exist: {inbox} "
                         "(check the path or the mount)")
        self.inbox = Path(inbox)


class _Rejected(Exception):
    """Internal: roll the transaction back and reject the delivery with these findings."""

    def __init__(self, findings: list[Finding]):
        super().__init__(f"{len(findings)} error(s)")
        self.findings = findings


def _validators():
    # The data-quality gate (issue 4). Imported here: it pulls in pandas/GX.
    from .validate import validate_frame, validate_in_warehouse

    return validate_frame, validate_in_warehouse


def _read_and_check(delivery: Delivery, content: bytes | None, config: PlanConfig,
                    seconds: dict[str, float], spans: list | None = None,
                    collector: Any = None) -> tuple[ReadResult, list[Finding]]:
    # One bad file never ends the run: whatever reading or checking it raises (a reader's bug, a
    # parser's limit, memory) rejects this delivery with a finding; the traceback goes to the log.
    try:
        t0 = time.perf_counter()
        result = read_delivery(delivery.path, delivery.source, content=content, file_label=delivery.name)
        t1 = time.perf_counter()
        seconds["read"] = t1 - t0
        if spans is not None:
            spans.append(("read", t0, t1))
        findings = list(result.findings)
        if result.errors:
            return result, findings
        validate_frame, _ = _validators()
        t0 = time.perf_counter()
        for td in result.tables:
            findings.extend(validate_frame(td.table, td.frame(), source=delivery.source, file=delivery.name,
                                           sheet=td.sheet, config=config, collector=collector))
        t1 = time.perf_counter()
        seconds["validate"] = t1 - t0
        if spans is not None:
            spans.append(("validate", t0, t1))
    except Exception as exc:  # noqa: BLE001 - see above
        log.exception("%s/%s: reading or checking failed; the delivery is rejected", delivery.source, delivery.name)
        failed = Finding(level=ERROR, source=delivery.source, rule="read_failed", file=delivery.name,
                         message=f"读取或检查文件时出错（{exc.__class__.__name__}），整份文件未入库；请检查文件是否完整、格式是否正确后重新报送",
                         message_en=f"reading or checking failed: {exc.__class__.__name__}: {exc}")
        return ReadResult([], [failed]), [failed]
    return result, findings


@dataclass
class _Prepared:
    """A delivery read and validated ahead of its turn (ingest_inbox overlaps this with the
    previous delivery's load). Nothing here touches the warehouse."""

    delivery: Delivery
    content: bytes | None  # None: over the size limit (archived from the file, not read)
    result: ReadResult
    findings: list[Finding]
    seconds: dict[str, float]
    spans: list
    collected: Any  # validate.ValidationRun of this delivery's GX results


def _prepare(delivery: Delivery, config: PlanConfig, copy_for_postgres: bool = False) -> _Prepared:
    from .validate import ValidationRun

    content: bytes | None = None
    if delivery.size <= read_limits().max_file_bytes:  # a larger file is archived, never held in memory
        with open_regular(delivery.path) as fh:  # a link swapped in since the scan is refused
            content = fh.read()
        sha = hashlib.sha256(content).hexdigest()
        if sha != delivery.sha256 or len(content) != delivery.size:  # changed since it was found
            st = delivery.path.stat()
            delivery = dataclasses.replace(delivery, sha256=sha, size=len(content), mtime=st.st_mtime)
    seconds: dict[str, float] = {}
    spans: list = []
    run = ValidationRun()
    result, findings = _read_and_check(delivery, content, config, seconds, spans, collector=run)
    if copy_for_postgres and not any(f.is_error for f in findings):
        # The COPY data is built here, beside reading and validation (the read-ahead process),
        # instead of by the loader row by row.
        # Tables published straight to core get it in the core shape (no row_no).
        for td in result.tables:
            data = load.copy_csv(td.table, delivery.sha256, td.row_numbers, td.arrays,
                                 row_no=not load.publishes_direct(td.table))
            if data is not None:
                td.pack_for_copy(data)
    return _Prepared(delivery, content, result, findings, seconds, spans, run)


def _load(engine: Engine, delivery: Delivery, tables: list[TableData], archive_path: Path, config: PlanConfig,
          warnings: list[Finding]) -> tuple[bool, list[Finding]]:
    """The write–audit–publish transaction. Returns (loaded, all warnings); False = duplicate.
    Raises _Rejected (after rollback) on any error finding or constraint violation."""
    from .warehouse import immediate

    _, validate_in_warehouse = _validators()
    did = delivery.sha256
    try:
        with immediate(engine) as conn:
            # Concurrent runs (two CLI runs, two feed DAGs): wait for a neighbour loading the same
            # tables or the same bytes, then look again — what it accepted is a duplicate here.
            load.lock_for_load(conn, [td.table for td in tables], did)
            if load.is_accepted(conn, did):
                return False, []
            # Tables an in-warehouse rule reads are staged, checked, then published; the others
            # (load.DIRECT_TABLES) go straight to core after the checks (nothing to read them).
            staged = [td for td in tables if not load.publishes_direct(td.table)]
            for td in sorted(staged, key=lambda td: td.table.name):
                if td.copy_csv is not None:
                    load.stage(conn, td.table, did, (), copy_data=td.copy_csv)
                else:
                    load.stage(conn, td.table, did, td.rows())
            found: list[Finding] = []
            for td in staged:
                found.extend(validate_in_warehouse(conn, td.table, did, source=delivery.source, config=config))
            errors = [f for f in found if f.is_error]
            if errors:
                raise _Rejected([_with_file(f, delivery.name) for f in errors])
            all_warnings = warnings + [_with_file(f, delivery.name) for f in found]
            for td in sorted(tables, key=lambda td: td.table.name):  # the order lock_for_read locks in
                if load.publishes_direct(td.table):
                    load.publish_direct(conn, td.table, did, td.periods(), copy_data=td.copy_csv,
                                        rows=td.rows() if td.copy_csv is None else ())
                else:
                    load.publish(conn, td.table, did)
                    load.clear_staging(conn, td.table, did)
            periods = sorted({p for td in tables for p in td.periods()})
            load.record_delivery(
                conn, delivery_id=did, source=delivery.source, file_name=delivery.name,
                archive_path=str(archive_path), size_bytes=delivery.size, file_mtime=delivery.mtime_utc,
                row_count=sum(len(td) for td in tables), periods=periods,
                tables=[(td.table.name, td.sheet, len(td), td.periods()) for td in tables],
                warnings=all_warnings,
                report={"tables": {td.table.name: len(td) for td in tables}, "warnings": len(all_warnings)})
    except (IntegrityError, DataError, load.NotPartitionable) as exc:
        # The suites should have caught it; the database's constraints are the last line.
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        raise _Rejected([Finding(
            level=ERROR, source=delivery.source, rule="load_constraint", file=delivery.name,
            message=f"写入仓库时违反约束，整份文件未入库：{reason}",
            message_en=f"warehouse constraint violated while loading: {reason}")]) from exc
    return True, all_warnings


def _with_file(f: Finding, name: str) -> Finding:
    return f if f.file else dataclasses.replace(f, file=name)


def ingest_delivery(engine: Engine, delivery: Delivery, *, config: PlanConfig, archive_dir: Path | str,
                    quarantine_dir: Path | str, move_rejected: bool = True,
                    _prepared: _Prepared | None = None) -> DeliveryOutcome:
    """Archive, read, validate and load one delivered file (see module docstring).

    Accepted: rows are in core, the delivery is recorded; the file stays where it is (delivering
    it again is a no-op). Duplicate (same sha256 already accepted): nothing changes. Rejected: the
    warehouse is unchanged and the file moves (``move_rejected=False``: is copied) to quarantine
    with ``<name>.report.json`` and ``<name>.report.txt``.
    """
    # 1. Archive the exact bytes we are about to read, before anything else.
    if _prepared is not None:  # read and validated ahead by ingest_inbox (same bytes)
        delivery, content = _prepared.delivery, _prepared.content
    else:
        content = delivery.path.read_bytes()
        sha = hashlib.sha256(content).hexdigest()
        if sha != delivery.sha256 or len(content) != delivery.size:  # changed since it was found
            st = delivery.path.stat()
            delivery = dataclasses.replace(delivery, sha256=sha, size=len(content), mtime=st.st_mtime)
    sha = delivery.sha256
    archive_path = archive_delivery(delivery, archive_dir, content=content)
    outcome = DeliveryOutcome(delivery=delivery, status=ACCEPTED, archive_path=archive_path)

    # 2. Same bytes already accepted: skip without reading.
    if load.accepted_ids(engine, [sha]):
        outcome.status = DUPLICATE
        log.info("%s/%s: duplicate of an accepted delivery (sha256 %s); skipped", delivery.source,
                 delivery.name, sha[:16])
        return outcome

    # 3. Read and run the per-delivery checks; 4. load transactionally with the in-warehouse checks.
    if _prepared is not None:
        result, findings = _prepared.result, _prepared.findings
        outcome.seconds.update(_prepared.seconds)
        outcome.spans.extend(_prepared.spans)
        from .validate import current_run

        run = current_run()
        if run is not None:  # the GX results go where validate_frame would have put them
            for item in _prepared.collected.results:
                run.add(item)
    else:
        result, findings = _read_and_check(delivery, content, config, outcome.seconds, outcome.spans)
    errors = [f for f in findings if f.is_error]
    try:
        if errors:
            raise _Rejected(errors)
        t0 = time.perf_counter()
        loaded, warnings = _load(engine, delivery, result.tables, archive_path, config, findings)
        t1 = time.perf_counter()
        outcome.seconds["load"] = t1 - t0
        outcome.spans.append(("load", t0, t1))
    except _Rejected as rej:
        outcome.status = REJECTED
        outcome.findings = rej.findings
        _quarantine(outcome, Path(quarantine_dir), move=move_rejected)
        for f in rej.findings:
            log.error("%s", f.log_line())
        log.error("%s/%s REJECTED with %d error(s); moved to %s", delivery.source, delivery.name,
                  len(rej.findings), outcome.quarantine_path)
        return outcome
    if not loaded:
        outcome.status = DUPLICATE
        return outcome
    outcome.findings = warnings
    outcome.tables = {td.table.name: len(td) for td in result.tables}
    outcome.rows = sum(outcome.tables.values())
    outcome.periods = sorted({p for td in result.tables for p in td.periods()})
    for f in warnings:
        log.warning("%s", f.log_line())
    log.info("%s/%s accepted: %s rows %s, periods %s, %d warning(s)", delivery.source, delivery.name,
             outcome.rows, outcome.tables, ",".join(outcome.periods), len(warnings))
    return outcome


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent_pid: int) -> None:
    """Initializer of the read-ahead process: it must not outlive the run that started it (killed
    with -9, it would otherwise keep its memory and, forked, the run's open warehouse sockets,
    whose connections then keep their locks). Linux: the kernel sends SIGKILL when the parent dies
    (prctl PR_SET_PDEATHSIG). Everywhere: a thread that ends the process once its parent is gone.
    multiprocessing has no option for either, hence these few lines."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no libc symbol: the watcher below still works
            log.debug("prctl(PR_SET_PDEATHSIG) unavailable; watching the parent instead")
    if os.getppid() != parent_pid:  # the parent died before the line above took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="mfg-watch-parent", daemon=True).start()


def _watch_parent(parent_pid: int, interval: float = 0.5) -> None:
    while os.getppid() == parent_pid:
        time.sleep(interval)
    os._exit(1)  # re-parented: the run is gone


def ingest_inbox(inbox: Path | str, engine: Engine, *, config: PlanConfig, archive_dir: Path | str,
                 quarantine_dir: Path | str, sources: list[str] | tuple[str, ...] | None = None,
                 move_rejected: bool = True, progress: Any = None,
                 prefetch: str = "auto") -> IngestReport:
    """Every delivery in the inbox (or of ``sources``), in arrival order.

    Deliveries are loaded one after another in arrival order; while one loads (mostly waiting on
    the database), the next one is read and validated in a helper thread — nothing of that
    touches the warehouse, so the outcome is exactly that of calling ``ingest_delivery`` in turn.
    ``progress`` (optional) is called with each outcome as it is done. ``prefetch``: "thread",
    "process" (reading and validation on the second core; pays a process start and GX import) or
    "auto" (env MFG_READ_AHEAD when set, else a process when the new files add up to
    PREFETCH_PROCESS_MIN_BYTES or more). The read-ahead process dies with the run.
    Concurrent calls on one warehouse (other runs, other feed DAGs) are safe: loads take turns
    per table inside the delivery's transaction (see _load), and a file a neighbour moved away
    meanwhile is skipped."""
    if not Path(inbox).is_dir():  # a mistyped or unmounted inbox is not "no deliveries"
        raise InboxNotFound(inbox)
    found: list[Delivery] = []
    report = IngestReport()
    for s in sources or [None]:
        scan = scan_inbox(inbox, s)
        found.extend(scan.deliveries)
        report.inbox_findings.extend(scan.findings)
    for f in report.inbox_findings:
        log.error("%s", f.log_line())
    found.sort(key=lambda d: (d.mtime, d.name, d.source))
    if not found:
        return report
    if progress is not None and getattr(progress, "total", 0) is None:
        progress.total = len(found)
    import contextvars
    from concurrent.futures import ThreadPoolExecutor

    # Files already accepted are skipped without reading: nothing to read ahead for them.
    already = load.accepted_ids(engine, [d.sha256 for d in found])
    if prefetch == "auto":  # the deployment may choose (MFG_READ_AHEAD=thread|process)
        prefetch = os.environ.get("MFG_READ_AHEAD", "auto")
        if prefetch not in ("auto", "thread", "process"):
            raise ValueError(f"MFG_READ_AHEAD must be auto, thread or process, got {prefetch!r}")
    if prefetch == "auto":
        big = sum(d.size for d in found if d.sha256 not in already) >= PREFETCH_PROCESS_MIN_BYTES
        prefetch = "process" if big else "thread"
    if prefetch == "process":
        # Reading and GX validation are pure Python (they hold the GIL): a second process puts
        # them on the second core. Results come back pickled (~0.4 s per 150,000 rows).
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # fork: the worker starts at once and never re-runs the caller's __main__ (spawn would)
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        pool_cm = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context(method),
                                      initializer=die_with_parent, initargs=(os.getpid(),))
    else:
        pool_cm = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mfg-prefetch")
    pg = engine.dialect.name == "postgresql"
    with pool_cm as pool:
        def submit(d: Delivery):
            if d.sha256 in already:
                return None
            try:
                if prefetch == "process":
                    # The results come back as findings and JSON (validate.CollectedResult):
                    # this process never imports GX for them.
                    return pool.submit(_prepare, d, config, pg)
                return pool.submit(contextvars.copy_context().run, _prepare, d, config, pg)
            except Exception:  # noqa: BLE001 - a broken pool: the plain path reads it in turn
                log.exception("%s/%s: cannot read ahead; it is read in turn", d.source, d.name)
                return None

        nxt = submit(found[0])
        for i, d in enumerate(found):
            current = nxt
            nxt = submit(found[i + 1]) if i + 1 < len(found) else None  # at most one ahead
            try:
                prepared = current.result() if current is not None else None
            except Exception:  # noqa: BLE001 - e.g. the file vanished: the plain path reports it
                log.exception("%s/%s: reading ahead failed; reading it again", d.source, d.name)
                prepared = None
            try:
                outcome = ingest_delivery(engine, d, config=config, archive_dir=archive_dir,
                                          quarantine_dir=quarantine_dir, move_rejected=move_rejected,
                                          _prepared=prepared)
            except FileNotFoundError:
                if d.path.exists():
                    raise
                # moved away since it was found (a neighbouring run quarantined it): not ours
                log.warning("%s/%s vanished from the inbox since it was found; skipped", d.source, d.name)
                continue
            report.outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
    # fresh planner statistics for what was published (the indicator queries come next)
    load.analyze(engine, [(t, o.periods) for o in report.accepted for t in o.tables])
    return report


# --------------------------------------------------------------------------------------------
# Quarantine and its reports


def _quarantine(outcome: DeliveryOutcome, quarantine_dir: Path, *, move: bool) -> None:
    d = outcome.delivery
    folder = quarantine_dir / d.source
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / bounded_name(d.name, reserve=len(".report.json"))
    if target.exists() or Path(f"{target}.report.json").exists():
        target = folder / bounded_name(d.name, prefix=f"{d.sha256[:16]}__", reserve=len(".report.json"))
    if move:
        shutil.move(str(d.path), target)
    else:
        shutil.copy2(d.path, target)
    outcome.quarantine_path = target
    now = dt.datetime.now(dt.timezone.utc)
    doc = {
        "file": d.name, "source": d.source, "sha256": d.sha256, "size_bytes": d.size,
        "status": REJECTED, "rejected_at": now.isoformat(timespec="seconds"),
        "archive_path": str(outcome.archive_path) if outcome.archive_path else None,
        "quarantine_path": str(target),
        "rejected": [f.as_rejection() for f in outcome.errors],
        "errors": [f.to_dict() for f in outcome.errors],
    }
    json_path = Path(f"{target}.report.json")
    txt_path = Path(f"{target}.report.txt")
    json_path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    txt_path.write_text(rejection_text(outcome, now), encoding="utf-8")
    outcome.report_paths = [json_path, txt_path]


def rejection_text(outcome: DeliveryOutcome, when: dt.datetime | None = None) -> str:
    """The Chinese report a department reads: every error with file, sheet, row, column, reason."""
    d = outcome.delivery
    when = when or dt.datetime.now(dt.timezone.utc)
    local = when.astimezone(dt.timezone(dt.timedelta(hours=8)))
    titles = "、".join(t.title for t in tables_of_source(d.source))
    errors = outcome.errors
    lines = [
        "数据报送退回通知",
        "",
        f"文件：{d.name}",
        f"来源：{titles}（{d.source}）",
        f"退回时间：{local:%Y-%m-%d %H:%M}（北京时间）",
        f"文件指纹（SHA-256）：{d.sha256}",
        "",
        f"结论：该文件存在 {len(errors)} 处问题，整份文件未入库（仓库数据保持不变）。请逐项修正后重新报送。",
        "",
        "问题清单：",
    ]
    for i, f in enumerate(errors, 1):
        where = [f"文件“{f.file or d.name}”"]
        if f.sheet:
            where.append(f"工作表“{f.sheet}”")
        if f.row is not None:
            where.append(f"第 {f.row} 行")
        if f.column:
            where.append(f"“{f.column}”列")
        lines.append(f"{i}. {'，'.join(where)}：{f.message}")
    lines.append("")
    return "\n".join(lines)


__all__ = ["ACCEPTED", "DUPLICATE", "REJECTED", "DeliveryOutcome", "InboxNotFound", "IngestReport", "find_deliveries",
           "ingest_delivery", "ingest_inbox", "rejection_text"]
