"""One month end to end, without the scheduler: extract → validate → load → compute → render →
deliver. The CLI ``run`` calls :func:`run_month`; the DAG tasks call the same stage functions
(ingest.ingest_inbox, compute.compute_indicators, render.render_bulletin, deliver.*).
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import Future, ThreadPoolExecutor
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


def live_warnings(engine, period: str, config: PlanConfig | None = None) -> list[dict[str, Any]]:
    """The month's warnings for ``indicators-YYYY-MM.json`` and the bulletin: the warehouse rules
    evaluated now on the core tables for January up to ``period`` (:mod:`mfg_indicators.rules`, so
    they do not depend on the order deliveries arrived in), and the ingest-time warnings of the
    deliveries whose rows are still in core (a corrected month's old delivery no longer counts),
    for periods of year Y up to month N (or undated); in one order on every warehouse
    (``rules.warning_sort_key``)."""
    from . import sql
    from .feeds import TABLES
    from .rules import WAREHOUSE_RULES, month_warnings, warning_sort_key

    config = config if config is not None else load_config()
    params = {"year_start": f"{period[:4]}-01", "period": period, "warehouse_rules": list(WAREHOUSE_RULES)}
    with engine.connect() as conn:
        stored = sql.query(conn, "annex/live_warnings", params, tables=list(TABLES.values()))
        computed = month_warnings(conn, config, period)
    rows = [dict(r) for r in stored] + [
        {"source": f.source, "uscc": f.uscc, "message": f.message, "table_name": f.table, "rule": f.rule,
         "period": f.period} for f in computed]
    out = []
    for r in rows:
        item = {"source": r["source"], "uscc": r["uscc"], "message": r["message"],
                "table": r["table_name"], "rule": r["rule"]}
        if r["period"] is not None:
            item["period"] = r["period"]
        out.append(item)
    return sorted(out, key=warning_sort_key)


def run_month(*, period: str, inbox: Path, warehouse_url: str | None, out_dir: Path,
              config_path: Path | None = None, archive_dir: Path | None = None,
              quarantine_dir: Path | None = None, smtp_conn_id: str | None = None,
              quiet: bool = False, allow_empty: bool = False) -> RunResult:
    """The month end to end. ``allow_empty``: render and deliver the bulletin even when the
    warehouse has no accepted data at all for the month (every indicator 暂无数据); otherwise
    only the JSON is written and RunResult.no_data is set. A missing inbox raises
    ingest.InboxNotFound before the warehouse is touched."""
    from .compute import compute_indicators, indicators_document, write_indicators_json
    from .deliver import deliver_and_archive
    from .ingest import InboxNotFound, ingest_inbox
    from .render import render_bulletin
    from .validate import collect_results, write_data_docs

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
    pool = ThreadPoolExecutor(2, thread_name_prefix="per-mu-ahead")
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
        if len(validation):  # GX Data Docs of this run's validations (none when nothing was new)
            with log.stage("data docs") as st:
                result.outputs["data_docs"] = write_data_docs(validation, out_dir, run_name=f"run-{period}")
                st.rows = len(validation)

        # The bulletin's 亩均 rankings read the per-mu aggregate by industry group and town, the
        # longest read of the render (~3 s at province scale). It reads only core tables, so it
        # runs on its own connections while the indicators are computed on another: the
        # warehouse works on both at once (the second core).
        per_mu_ahead = _start_per_mu_breakdowns(engine, config, period, pool)

        with log.stage(f"compute indicators {period}") as st:
            computed = compute_indicators(engine, config, period)
            st.rows = len(computed.indicators)
            # ingestion warnings from the warehouse; indicators_document appends the computation's own
            document = indicators_document(config, period, computed, warnings=live_warnings(engine, period, config),
                                           rejected=result.rejected)
            result.document = document
            result.outputs["json"] = write_indicators_json(out_dir, document)

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
            cells = {m: f.result() for m, f in per_mu_ahead.items()} if per_mu_ahead else None
            paths = render_bulletin(engine, config, document, out_dir, per_mu_cells=cells)
            result.outputs.update({k: v for k, v in paths.items() if k in ("docx", "pdf", "html")})
            st.detail = ", ".join(sorted(paths))

        with log.stage("deliver bulletin") as st:
            # the .eml is always written beside the JSON; with an SMTP connection it is also sent
            # (a failed send is archived too, then raised)
            delivery = deliver_and_archive(paths, config, document, engine, out_dir / "bulletin-archive",
                                           smtp_conn_id=smtp_conn_id, outbox=out_dir)
            result.outputs["eml"] = delivery.eml
            result.outputs["manifest"] = delivery.manifest
            if delivery.result == "sent":
                st.detail = f"sent through Airflow connection {smtp_conn_id}"
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        engine.dispose()
    return result


def _start_per_mu_breakdowns(engine, config: PlanConfig, period: str,
                             pool: ThreadPoolExecutor) -> dict[str, Future] | None:
    """compute.per_mu_breakdown for both measures, started on ``pool`` (None when the engine
    cannot serve threads their own connections: then the render reads them itself)."""
    from .compute import per_mu_breakdown
    from .render.context import concurrent_reads_ok

    if not concurrent_reads_ok(engine):
        return None
    return {m: pool.submit(per_mu_breakdown, engine, config, period, m) for m in ("tax", "value_added")}


def read_document(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))
