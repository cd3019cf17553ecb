"""The month's stages after the feeds are in: compute → document → render → deliver. The CLI
``run`` (mfg_indicators.pipeline.run_month) calls them in sequence, the monthly DAG
(orchestration/monthly_dag.py) one per task; nothing else stands between a caller and the
domain functions, so both give the same warehouse rows and the same files for the same inbox.

    compute_month(engine, config, period) -> ComputeResult
        every indicator into mart_indicator, its warnings and the per-mu cells into the marts
    document_month(engine, config, period, out_dir, *, rejected=()) -> (document, path)
        indicators-YYYY-MM.json from the marts and the month's warnings (also kept in
        mart_month_warning for the statisticians' view v_month_warnings)
    render_month(engine, config, document, out_dir) -> RenderedBulletin
        the bulletin in Word, PDF and HTML (the warehouse reads run at once inside the render)
    deliver_month(engine, config, document, paths, out_dir, *, smtp_conn_id) -> Delivery
        sent or written as .eml, archived with a manifest under out_dir/bulletin-archive/

Any concurrency belongs inside a stage (the render's reads, :mod:`mfg_indicators.render`), never
in the callers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

from .config import PlanConfig

ARCHIVE_DIR_NAME = "bulletin-archive"


def compute_month(engine, config: PlanConfig, period: str):
    """Compute the month's indicators and store them (compute.compute_indicators)."""
    from .compute import compute_indicators

    return compute_indicators(engine, config, period)


def document_month(engine, config: PlanConfig, period: str, out_dir: Path, *,
                   rejected: Iterable[Mapping[str, Any]] = ()) -> tuple[dict[str, Any], Path]:
    """The month's indicators document as stored by :func:`compute_month` (mart_indicator,
    mart_indicator_warning) with the month's warnings from the warehouse and the run's
    ``rejected`` deliveries; written to ``out_dir/indicators-YYYY-MM.json``."""
    from .compute import load_result
    from .document import build_document, store_warnings, write_indicators_json

    result = load_result(engine, config, period)
    if result is None:
        raise RuntimeError(f"{period} has not been computed")
    document = build_document(engine, config, result, rejected=[dict(r) for r in rejected])
    store_warnings(engine, config, document)
    return document, write_indicators_json(Path(out_dir), document)


def render_month(engine, config: PlanConfig, document: Mapping[str, Any], out_dir: Path):
    """The bulletin files of the document's month (render.render_bulletin)."""
    from .render import render_bulletin

    return render_bulletin(engine, config, document, Path(out_dir))


def deliver_month(engine, config: PlanConfig, document: Mapping[str, Any], paths: Mapping[str, Path],
                  out_dir: Path, *, smtp_conn_id: str | None):
    """Send the bulletin through the SMTP connection ``smtp_conn_id`` (or write the .eml when it
    does not exist), keep the message in ``out_dir`` and archive it (deliver.deliver_and_archive;
    a failed send is archived, then raised)."""
    from .deliver import deliver_and_archive

    out_dir = Path(out_dir)
    return deliver_and_archive(paths, config, document, engine, out_dir / ARCHIVE_DIR_NAME,
                               smtp_conn_id=smtp_conn_id, outbox=out_dir)
