"""The ``monthly_indicators`` DAG factory (wired by dags/monthly_indicators.py).

    resolve_period ─► wait_for_feeds ─► compute ─► write_json ─► render_bulletin ─► deliver_bulletin

**Period.** The schedule is a month-interval timetable, ``CronDataIntervalTimetable("0 0 1 * *",
timezone="Asia/Shanghai")``: the run whose data interval is [2024-01-01, 2024-02-01) local time
computes ``2024-01``. It is created when the interval ends (run after 2024-02-01 00:00), and its
logical date is the interval's START, 2024-01-01T00:00+08:00 (checked live in Airflow 3.3; the
stack notes say otherwise). A manual trigger gets the interval that ENDS at its logical date:
``-l 2024-01-01T00:00:00+08:00`` computes 2023-12. The period is the month of
``data_interval_start`` in Asia/Shanghai (:func:`period_of_interval`); a manual run may name one
with the ``period`` param (e.g. to recompute after a corrected delivery). Months outside the
plan window (config ``plan.window``) are skipped: the plan has no targets for them, and a fresh
deployment's first run (the current month) must not e-mail an empty bulletin.

**Waiting for the feeds.** The run for month M exists from the 1st of M+1; ``wait_for_feeds`` is a
sensor in reschedule mode (no worker slot held between pokes) over the six feed Assets
(``Asset(name="feed_<source>")``, declared as its inlets). It passes once every feed has landed
for M — by the same rule the ``feeds_deadline`` alert uses (``alerts.landed_feeds``: monthly
tables carry M, the registry carries M's roster year, the event lists were delivered after M
ended) — read from the warehouse's delivery bookkeeping, which the feed DAGs write in the same
transaction as the rows and describe in their Asset events' ``periods``. The bookkeeping rather
than the events themselves is what is checked, because it is the record the computation will
read: it also covers deliveries loaded by the CLI, survives a metadata-DB reset, and makes the
"waiting" and the "late" rules one rule. After the feeds' due day (``alerts.feeds_due_day`` of
M+1) the sensor stops waiting and the month is computed with what has landed — what is missing
shows as ``no_data`` with its reason, and the ``feeds_deadline`` DAG has alerted the engineers.

**Idempotent, backfillable.** ``compute`` replaces the month's rows of ``mart_indicator`` in one
transaction, and every indicator query ignores rows dated after the month, so re-running a month,
running month by month, or a backfill over the plan window give the same results for the same
warehouse. The backfill's dates are logical dates = interval starts, with the offset (CLI dates
are UTC otherwise): ``airflow backfill create --dag-id monthly_indicators --from-date
2021-01-01T00:00:00+08:00 --to-date 2023-12-01T00:00:00+08:00`` runs the 36 months 2021-01 …
2023-12. For past months the due day is over, so the sensor does not hold a backfill up.

**Task boundary.** ``compute`` writes the mart and returns a small summary; ``write_json`` renders
``indicators-YYYY-MM.json`` from the mart (never from XCom data) and returns ``{"period",
"path"}``. Only periods, counts and paths travel through XCom.

**Bulletin.** ``render_bulletin`` renders 进展情况通报 (docx, pdf, html, charts) from the JSON and
the warehouse; ``deliver_bulletin`` e-mails it to the configured recipients through the Airflow
SMTP connection (``mfg_smtp_conn_id``/MFG_SMTP_CONN_ID, default ``smtp_default``) — with no such
connection it writes ``bulletin-YYYY-MM.eml`` to the output folder instead — and archives it with
a manifest (sha256 of every input delivery and output) under ``<output>/bulletin-archive/``.
The same functions serve the CLI ``run`` (mfg_indicators.pipeline).

Settings (Airflow Variable, else environment, else checkout default): warehouse
``mfg_warehouse_url``/MFG_WAREHOUSE_URL, configuration ``mfg_config``/MFG_CONFIG, output folder
``mfg_output``/MFG_OUTPUT.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

from airflow.sdk import Asset, CronDataIntervalTimetable, Param, dag, get_current_context, task

from ..feeds import SOURCES
from .common import TIMEZONE, dag_kwargs, runtime_settings

log = logging.getLogger("mfg_indicators.monthly_dag")

DAG_ID = "monthly_indicators"
MONTHLY_CRON = "0 0 1 * *"
# First run covers the plan window's first month (2021-01).
START_DATE = dt.datetime(2021, 2, 1, tzinfo=ZoneInfo(TIMEZONE))
FEED_ASSETS = [Asset(name=f"feed_{s}") for s in SOURCES]
POKE_INTERVAL = dt.timedelta(hours=1)
SENSOR_TIMEOUT = dt.timedelta(days=45)


def month_timetable(tz: str = TIMEZONE) -> CronDataIntervalTimetable:
    return CronDataIntervalTimetable(MONTHLY_CRON, timezone=tz)


def period_of_interval(data_interval_start: dt.datetime, tz: str = TIMEZONE) -> str:
    """The report month of a run: the month of its data interval's start, in local time."""
    local = data_interval_start.astimezone(ZoneInfo(tz))
    return f"{local.year:04d}-{local.month:02d}"


def feeds_check(engine, config, period: str, *, now: dt.datetime, tz: str = TIMEZONE) -> dict[str, Any]:
    """Whether month ``period`` can be computed at ``now``: every feed has landed for it
    (``alerts.landed_feeds``), or the feeds' due day is over. JSON-safe (the sensor's XCom)."""
    from ..alerts import feeds_due_at, landed_feeds

    landed = landed_feeds(engine, period, as_of=now)
    missing = [src for src, ok in landed.items() if not ok]
    due_at = feeds_due_at(period, int(config["alerts"]["feeds_due_day"]), tz)
    overdue = now >= due_at
    return {"period": period, "done": not missing or overdue, "complete": not missing, "missing": missing,
            "due_at": due_at.isoformat()}


def build_monthly_dag(dag_id: str = DAG_ID, *, tz: str = TIMEZONE):
    @dag(
        dag_id=dag_id,
        schedule=month_timetable(tz),
        start_date=START_DATE,
        catchup=False,
        params={"period": Param(None, type=["null", "string"], pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                                description="Month to compute (YYYY-MM); empty = the run's data interval")},
        **dag_kwargs(tags=["indicators"], doc_md=__doc__),
    )
    def monthly_indicators():
        @task
        def resolve_period() -> str:
            """YYYY-MM of the run (its data interval's month, or the ``period`` param)."""
            ctx = get_current_context()
            forced = (ctx.get("params") or {}).get("period")
            if forced:
                return str(forced)
            start = ctx.get("data_interval_start")
            if start is None:
                raise ValueError("run has no data interval and no period param")
            period = period_of_interval(start, tz)
            from airflow.sdk.exceptions import AirflowSkipException

            from ..config import load_config

            config = load_config(runtime_settings()["config_path"])
            if not config.window_start <= period <= config.window_end:
                raise AirflowSkipException(f"{period} is outside the plan window "
                                           f"{config.window_start}…{config.window_end}: nothing to report")
            return period

        @task.sensor(poke_interval=POKE_INTERVAL.total_seconds(), timeout=SENSOR_TIMEOUT.total_seconds(),
                     mode="reschedule", inlets=FEED_ASSETS)
        def wait_for_feeds(period: str):
            """Done when all six feeds have landed for the month, or once their due day is over."""
            from airflow.sdk import PokeReturnValue

            from ..config import load_config
            from ..warehouse import connect

            s = runtime_settings()
            config = load_config(s["config_path"])
            engine = connect(s["warehouse_url"])
            try:
                check = feeds_check(engine, config, period, now=dt.datetime.now(dt.timezone.utc), tz=tz)
            finally:
                engine.dispose()
            if not check["done"]:
                log.info("%s: waiting for %s (due %s)", period, ", ".join(check["missing"]), check["due_at"])
                return PokeReturnValue(is_done=False)
            if check["missing"]:
                log.warning("%s: feeds still missing after the due day (%s): computing with what has landed: %s",
                            period, check["due_at"], ", ".join(check["missing"]))
            return PokeReturnValue(is_done=True, xcom_value=check)

        @task
        def compute(feeds: dict[str, Any]) -> dict[str, Any]:
            """Compute every indicator of the month into mart_indicator (replacing the month)."""
            from ..compute import compute_indicators
            from ..config import load_config
            from ..warehouse import connect

            s = runtime_settings()
            config = load_config(s["config_path"])
            engine = connect(s["warehouse_url"])
            try:
                result = compute_indicators(engine, config, feeds["period"])
            finally:
                engine.dispose()
            counts: dict[str, int] = {}
            for ind in result:
                counts[ind["status"]] = counts.get(ind["status"], 0) + 1
            log.info("%s: %s", feeds["period"], counts)
            return {"period": result.period, "indicators": len(result), "status_counts": counts,
                    "warnings": len(result.warnings), "feeds_missing": feeds["missing"]}

        @task
        def write_json(computed: dict[str, Any]) -> dict[str, str]:
            """indicators-YYYY-MM.json from the mart; returns the period and the file's path."""
            from pathlib import Path

            from ..compute import indicators_document, load_result, write_indicators_json
            from ..config import load_config
            from ..warehouse import connect

            s = runtime_settings()
            config = load_config(s["config_path"])
            period = computed["period"]
            engine = connect(s["warehouse_url"])
            try:
                result = load_result(engine, config, period)
                if result is None:
                    raise RuntimeError(f"{period} has not been computed")
                from ..pipeline import live_warnings  # the CLI's rule: one document either way

                warnings = live_warnings(engine, period, config)
            finally:
                engine.dispose()
            # Rejected deliveries are not in the warehouse (they stay in quarantine with their
            # reports, and fail their feed DAG's run); the CLI lists the ones of its own run.
            doc = indicators_document(config, period, result, warnings=warnings, rejected=[])
            path = write_indicators_json(Path(s["output"]), doc)
            log.info("%s: wrote %s", period, path)
            return {"period": period, "path": str(path)}

        @task
        def render_bulletin(written: dict[str, str]) -> dict[str, str]:
            """The bulletin in Word, PDF and HTML (and its charts) from the month's JSON."""
            from pathlib import Path

            from ..config import load_config
            from ..pipeline import read_document
            from ..render import render_bulletin as render
            from ..warehouse import connect

            s = runtime_settings()
            config = load_config(s["config_path"])
            document = read_document(Path(written["path"]))
            engine = connect(s["warehouse_url"])
            try:
                paths = render(engine, config, document, Path(s["output"]))
            finally:
                engine.dispose()
            log.info("%s: rendered %s", written["period"], ", ".join(sorted(paths)))
            return {"period": written["period"], "json": written["path"],
                    **{k: str(v) for k, v in paths.items()}}

        @task
        def deliver_bulletin(rendered: dict[str, str]) -> dict[str, str]:
            """E-mail the bulletin (or write the .eml when no SMTP connection exists); archive it."""
            from pathlib import Path

            from ..config import load_config
            from ..deliver import archive_bulletin, send_bulletin
            from ..pipeline import read_document
            from ..warehouse import connect

            s = runtime_settings()
            config = load_config(s["config_path"])
            document = read_document(Path(rendered["json"]))
            paths = {k: Path(v) for k, v in rendered.items() if k not in ("period", "json")}
            out = Path(s["output"])
            eml = send_bulletin(paths, config, document, smtp_conn_id=s["smtp_conn_id"], outbox=out)
            engine = connect(s["warehouse_url"])
            try:
                manifest = archive_bulletin(paths, document, engine, out / "bulletin-archive", config=config)
            finally:
                engine.dispose()
            sent = "written to " + str(eml) if eml else f"sent through {s['smtp_conn_id']}"
            log.info("%s: bulletin %s; manifest %s", rendered["period"], sent, manifest)
            return {"period": rendered["period"], "eml": str(eml) if eml else "",
                    "manifest": str(manifest)}

        deliver_bulletin(render_bulletin(write_json(compute(wait_for_feeds(resolve_period())))))

    return monthly_indicators()
