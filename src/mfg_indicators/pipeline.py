"""The CLI's runner: one month end to end without the scheduler — extract → validate → load
(ingest), then the month's stages of :mod:`mfg_indicators.month` (compute → document → render →
deliver), which the monthly DAG's tasks call one per task.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import PlanConfig, load_config
from .stage_log import DeliveryProgress, StageLog
from .warehouse import connect

EXIT_OK = 0
EXIT_USAGE = 1  # bad arguments, configuration or inbox: nothing was run
EXIT_REJECTED = 2  # outputs written from the accepted data, but some delivery was rejected
EXIT_WAREHOUSE = 3  # the warehouse did not answer, timed out or failed (see the log file)
EXIT_NO_DATA = 4  # no accepted data at all for the month: JSON written, no bulletin (see --allow-empty)
EXIT_SYSTEM = 5  # the machine failed the run: disk full, permission denied, … (see the log file)


@dataclass
class RunResult:
    period: str
    out_dir: Path
    outputs: dict[str, Path] = field(default_factory=dict)
    document: dict[str, Any] = field(default_factory=dict)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    stages: StageLog = field(default_factory=StageLog)
    no_data: bool = False  # every indicator 暂无数据: no bulletin was rendered or sent

    @property
    def exit_code(self) -> int:
        if self.rejected:
            return EXIT_REJECTED
        return EXIT_NO_DATA if self.no_data else EXIT_OK

    def summary(self) -> str:
        return format_summary(self.document, self.outputs, self.rejected)


def format_summary(document: dict[str, Any], outputs: dict[str, Path],
                   rejected: list[dict[str, Any]]) -> str:
    """Where the outputs are and a short status table (printed by the CLI and `make demo`)."""
    lines = [f"period {document.get('period', '?')}: outputs"]
    for name, path in sorted(outputs.items()):
        lines.append(f"  {name:<10} {path}")
    counts: dict[str, int] = {}
    for ind in document.get("indicators", []):
        counts[ind["status"]] = counts.get(ind["status"], 0) + 1
    if counts:
        order = ["done", "green", "yellow", "red", "no_data"]
        lines.append("status   " + "  ".join(f"{s}={counts.get(s, 0)}" for s in order))
        lines.append(f"{'code':<6} {'status':<8} {'value':>12} {'target':>8}  name")
        for ind in document["indicators"]:
            value = "—" if ind.get("value") is None else f"{ind['value']:.2f}"
            lines.append(f"{ind['code']:<6} {ind['status']:<8} {value:>12} {ind['target']:>8}  {ind['name']}")
    if rejected:
        lines.append(f"REJECTED deliveries: {len(rejected)} (see the quarantine reports)")
        for r in rejected[:10]:
            lines.append(f"  {r.get('file')} sheet={r.get('sheet')} row={r.get('row')} "
                         f"column={r.get('column')}: {r.get('reason')}")
    return "\n".join(lines)


def run_month(*, period: str, inbox: Path, warehouse_url: str | None, out_dir: Path,
              config_path: Path | None = None, archive_dir: Path | None = None,
              quarantine_dir: Path | None = None, smtp_conn_id: str | None = None,
              quiet: bool = False, allow_empty: bool = False) -> RunResult:
    """The month end to end. ``allow_empty``: render and deliver the bulletin even when the
    warehouse has no accepted data at all for the month (every indicator 暂无数据); otherwise
    only the JSON is written and RunResult.no_data is set. A missing inbox raises
    ingest.InboxNotFound before the warehouse is touched."""
    from .ingest import InboxNotFound, ingest_inbox
    from .month import compute_month, deliver_month, document_month, render_month
    from .validate import collect_results

    config: PlanConfig = load_config(config_path)
    if not Path(inbox).is_dir():
        raise InboxNotFound(inbox)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    archive_dir = Path(archive_dir) if archive_dir else out_dir.parent / "archive"
    quarantine_dir = Path(quarantine_dir) if quarantine_dir else out_dir.parent / "quarantine"
    result = RunResult(period=period, out_dir=out_dir, stages=StageLog(quiet=quiet))
    log = result.stages

    with log.stage("migrate warehouse"):
        engine = connect(warehouse_url)
    docs = None  # the Data Docs side process, once started
    try:
        with log.stage("extract · validate · load") as st:
            # The CLI leaves the user's inbox as it found it: a rejected file is copied to
            # quarantine (the scheduled feed DAGs move it), so a rerun reports it again and
            # gives the same result and exit code.
            with collect_results() as validation:
                progress = DeliveryProgress(log)  # a bar on a terminal, else a line per delivery
                try:
                    report = ingest_inbox(Path(inbox), engine, config=config, archive_dir=archive_dir,
                                          quarantine_dir=quarantine_dir, move_rejected=False,
                                          progress=progress)
                finally:
                    progress.close()
            st.rows = report.rows_loaded
            st.detail = (f"{len(report.accepted)} accepted, {len(report.duplicates)} duplicate, "
                         f"{len(report.rejected_files)} rejected")
        result.rejected = [f.as_rejection() for f in report.rejected]
        # GX Data Docs of this run's validations (none when nothing was new), written by a side
        # process while the month is computed and rendered here (see _DataDocsAside).
        docs = _DataDocsAside.start(validation, out_dir, f"run-{period}") if len(validation) else None

        with log.stage(f"compute indicators {period}") as st:
            st.rows = len(compute_month(engine, config, period))
            document, result.outputs["json"] = document_month(engine, config, period, out_dir,
                                                              rejected=result.rejected)
            result.document = document

        if not allow_empty and all(i["status"] == "no_data" for i in document["indicators"]):
            # An all-暂无数据 bulletin is never what anyone wants to receive (a wrong or empty
            # inbox, a month not yet delivered): say so instead, unless asked for explicitly.
            result.no_data = True
            if not quiet:
                print(f"{period}: 仓库中该月没有任何已入库数据，未生成、未发送通报（需要时加 --allow-empty） / "
                      "no accepted data for the month: no bulletin rendered or sent (--allow-empty to force)",
                      file=sys.stderr, flush=True)
            return result

        with log.stage("render bulletin") as st:
            paths = render_month(engine, config, document, out_dir)
            result.outputs.update({k: v for k, v in paths.items() if k in ("docx", "pdf", "html")})
            st.detail = ", ".join(sorted(paths))

        with log.stage("deliver bulletin") as st:
            # the .eml is always written beside the JSON; with an SMTP connection it is also sent
            # (a failed send is archived too, then raised)
            delivery = deliver_month(engine, config, document, paths, out_dir, smtp_conn_id=smtp_conn_id)
            result.outputs["eml"] = delivery.eml
            result.outputs["manifest"] = delivery.manifest
            if delivery.result == "sent":
                st.detail = f"sent through Airflow connection {smtp_conn_id}"
        if docs is not None:
            with log.stage("data docs") as st:
                result.outputs["data_docs"] = docs.wait()
                st.rows = len(validation)
                st.detail = f"written beside compute and render in {docs.seconds:.1f} s"
            docs = None
    finally:
        engine.dispose()
        if docs is not None:  # returned early (no data) or a stage failed: the site is still written
            path = docs.wait(raise_errors=False)
            if path is not None:
                result.outputs["data_docs"] = path
    return result


class _DataDocsAside:
    """GX Data Docs written in a second process while the caller computes and renders the month.

    The site costs the GX import (~3 s in a process that has not validated: the read-ahead
    process validated, its results come back as plain JSON) plus the page rendering; on the
    second core it is off the month's path. Forked where the platform allows it (the child
    starts at once and, like the read-ahead process, dies with the run); the child only writes
    files under ``out_dir/data-docs`` and never touches the warehouse. Falls back to writing in
    this process when no process can be started."""

    def __init__(self, future, pool, inline_path: Path | None, t0: float):
        self._future, self._pool, self._inline, self._t0 = future, pool, inline_path, t0
        self.seconds = 0.0

    @classmethod
    def start(cls, validation, out_dir: Path, run_name: str) -> "_DataDocsAside":
        import multiprocessing
        import os
        import time
        from concurrent.futures import ProcessPoolExecutor

        from .ingest import die_with_parent
        from .validate import write_data_docs

        t0 = time.perf_counter()
        try:
            method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context(method),
                                       initializer=die_with_parent, initargs=(os.getpid(),))
            future = pool.submit(_write_docs_timed, validation, out_dir, run_name)
            return cls(future, pool, None, t0)
        except Exception:  # noqa: BLE001 - no second process here: write them in turn
            import logging

            logging.getLogger("mfg_indicators").exception("cannot start a process for Data Docs; writing them here")
            path = write_data_docs(validation, out_dir, run_name=run_name)
            aside = cls(None, None, path, t0)
            aside.seconds = time.perf_counter() - t0
            return aside

    def wait(self, raise_errors: bool = True) -> Path | None:
        if self._future is None:
            return self._inline
        try:
            path, self.seconds = self._future.result()
            return path
        except Exception:
            if raise_errors:
                raise
            import logging

            logging.getLogger("mfg_indicators").exception("writing the Data Docs failed")
            return None
        finally:
            self._pool.shutdown(wait=True)
            self._future = None


def _write_docs_timed(validation, out_dir: Path, run_name: str) -> tuple[Path, float]:
    import time

    from .validate import write_data_docs

    t0 = time.perf_counter()
    return write_data_docs(validation, out_dir, run_name=run_name), time.perf_counter() - t0
