"""The ``monthly_indicators`` DAG factory (wired by dags/monthly_indicators.py).

Each task calls one of the month's stage functions (mfg_indicators.month), the ones the CLI
``run`` calls in sequence; what the DAG does, when and how to rerun it is its ``DOC_MD``, shown
in the Airflow UI.

The run's logical date is its data interval's START (checked live in Airflow 3.3; the stack notes
say otherwise), and a manual trigger gets the interval that ENDS at its logical date.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from airflow.sdk import Asset, CronDataIntervalTimetable, Param, dag, get_current_context, task

from ..deadlines import feeds_check
from ..feeds import SOURCES
from .common import TIMEZONE, Tag, dag_kwargs, runtime_settings

log = logging.getLogger("mfg_indicators.monthly_dag")

DAG_ID = "monthly_indicators"
MONTHLY_CRON = "0 0 1 * *"
# First run covers the plan window's first month (2021-01).
START_DATE = dt.datetime(2021, 2, 1, tzinfo=ZoneInfo(TIMEZONE))
FEED_ASSETS = [Asset(name=f"feed_{s}") for s in SOURCES]
POKE_INTERVAL = dt.timedelta(hours=1)
SENSOR_TIMEOUT = dt.timedelta(days=45)

DOC_MD = """\
### monthly_indicators — month M's 37 indicators, `indicators-M.json` and the 进展情况通报

`resolve_period` → `wait_for_feeds` → `compute` → `write_json` → `render_bulletin` → `deliver_bulletin`

**When.** A month-interval timetable (`0 0 1 * *`, Asia/Shanghai): the run for month **M** has
the data interval [1st of M, 1st of M+1) local time and is created at 00:00 on the 1st of M+1.
Its logical date is the interval's *start* (the run computing 2024-01 has logical date
2024-01-01T00:00+08:00). Months outside the plan window (`plan.window` in the plan
configuration) are skipped: the plan has no targets for them.

**Waiting for the feeds.** `wait_for_feeds` is a sensor in reschedule mode (one poke an hour, no
worker slot held in between; inlets: the six Assets `feed_<source>`). It passes once every feed
has landed for M in the warehouse's delivery bookkeeping (the rule the `feeds_deadline` DAG
alerts on), or once the feeds' due day (`alerts.feeds_due_day` of M+1) is over: the month is
then computed with what has landed, and a missing feed shows as `no_data` with its reason.

**Writes.** `compute` replaces M's rows of `mart_indicator`, `mart_indicator_warning` and
`mart_per_mu` (one transaction); `write_json` writes `<output>/indicators-M.json` from the
marts; `render_bulletin` writes `bulletin-M.docx|pdf|html` and its charts; `deliver_bulletin` e-mails the bulletin to
`bulletin.recipients` through the Airflow SMTP connection (`mfg_smtp_conn_id` /
`MFG_SMTP_CONN_ID`, default `smtp_default`) — without that connection it writes
`bulletin-M.eml` instead — and archives it with a manifest (sha256 of every input delivery and
output) under `<output>/bulletin-archive/M/rN/`. Only periods, counts and paths travel through
XCom. No Asset is emitted.

**Settings** (Airflow Variable, else environment): warehouse `mfg_warehouse_url` /
`MFG_WAREHOUSE_URL`, plan configuration `mfg_config` / `MFG_CONFIG`, output folder `mfg_output`
/ `MFG_OUTPUT`.

**Rerun one month** (e.g. after a corrected delivery): *Trigger DAG* with params
`{"period": "2023-06"}`, or clear the month's run. A rerun replaces the month's rows (it never
double-counts) and archives a new revision `rN+1` only when the outputs differ.

**Backfill** the plan window (dates are logical dates = interval starts; give the offset, the
CLI reads dates as UTC otherwise):

    airflow backfill create --dag-id monthly_indicators \\
        --from-date 2021-01-01T00:00:00+08:00 --to-date 2023-12-01T00:00:00+08:00

runs the 36 months 2021-01 … 2023-12. For past months the due day is over, so the sensor does not
hold a backfill up. The same month without the scheduler:
`mfg-indicators run --period 2023-06 --inbox DIR --out DIR`.
"""


def month_timetable(tz: str = TIMEZONE) -> CronDataIntervalTimetable:
    return CronDataIntervalTimetable(MONTHLY_CRON, timezone=tz)


def period_of_interval(data_interval_start: dt.datetime, tz: str = TIMEZONE) -> str:
    """The report month of a run: the month of its data interval's start, in local time."""
    local = data_interval_start.astimezone(ZoneInfo(tz))
    return f"{local.year:04d}-{local.month:02d}"


@contextlib.contextmanager
def _warehouse() -> Iterator[tuple[Any, Any, dict[str, Any]]]:
    """(engine, plan configuration, runtime settings) of a task; the engine disposed after."""
    from ..config import load_config
    from ..warehouse import connect

    s = runtime_settings()
    config = load_config(s["config_path"])
    engine = connect(s["warehouse_url"])
    try:
        yield engine, config, s
    finally:
        engine.dispose()


def build_monthly_dag(dag_id: str = DAG_ID, *, tz: str = TIMEZONE):
    @dag(
        dag_id=dag_id,
        schedule=month_timetable(tz),
        start_date=START_DATE,
        catchup=False,
        params={"period": Param(None, type=["null", "string"], pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                                description="Month to compute (YYYY-MM); empty = the run's data interval")},
        **dag_kwargs(tags=[Tag.INDICATORS], doc_md=DOC_MD),
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

            with _warehouse() as (engine, config, _s):
                check = feeds_check(engine, config, period, now=dt.datetime.now(dt.timezone.utc), tz=tz)
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
            from ..month import compute_month

            with _warehouse() as (engine, config, _s):
                result = compute_month(engine, config, feeds["period"])
            counts: dict[str, int] = {}
            for ind in result:
                counts[ind["status"]] = counts.get(ind["status"], 0) + 1
            log.info("%s: %s", feeds["period"], counts)
            return {"period": result.period, "indicators": len(result), "status_counts": counts,
                    "warnings": len(result.warnings), "feeds_missing": feeds["missing"]}

        @task
        def write_json(computed: dict[str, Any]) -> dict[str, str]:
            """indicators-YYYY-MM.json from the mart; returns the period and the file's path."""
            from ..month import document_month

            period = computed["period"]
            # Rejected deliveries are not in the warehouse (they stay in quarantine with their
            # reports, and fail their feed DAG's run); the CLI lists the ones of its own run.
            with _warehouse() as (engine, config, s):
                _doc, path = document_month(engine, config, period, Path(s["output"]))
            log.info("%s: wrote %s", period, path)
            return {"period": period, "path": str(path)}

        @task
        def render_bulletin(written: dict[str, str]) -> dict[str, str]:
            """The bulletin in Word, PDF and HTML (and its charts) from the month's JSON."""
            from ..document import read_document
            from ..month import render_month

            document = read_document(Path(written["path"]))
            with _warehouse() as (engine, config, s):
                paths = render_month(engine, config, document, Path(s["output"]))
            log.info("%s: rendered %s", written["period"], ", ".join(sorted(paths)))
            return {"period": written["period"], "json": written["path"],
                    **{k: str(v) for k, v in paths.items()}}

        @task
        def deliver_bulletin(rendered: dict[str, str]) -> dict[str, str]:
            """E-mail the bulletin (or write the .eml when no SMTP connection exists); archive it."""
            from ..document import read_document
            from ..month import deliver_month

            document = read_document(Path(rendered["json"]))
            paths = {k: Path(v) for k, v in rendered.items() if k not in ("period", "json")}
            with _warehouse() as (engine, config, s):  # a failed send is archived before the task fails
                delivery = deliver_month(engine, config, document, paths, Path(s["output"]),
                                         smtp_conn_id=s["smtp_conn_id"])
            sent = f"sent through {s['smtp_conn_id']}" if delivery.result == "sent" else "written"
            log.info("%s: bulletin %s (%s); manifest %s", rendered["period"], sent, delivery.eml,
                     delivery.manifest)
            return {"period": rendered["period"], "eml": str(delivery.eml),
                    "manifest": str(delivery.manifest)}

        deliver_bulletin(render_bulletin(write_json(compute(wait_for_feeds(resolve_period())))))

    return monthly_indicators()
