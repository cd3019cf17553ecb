"""The ``feeds_deadline`` DAG factory (wired by dags/feeds_deadline.py)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from .common import TIMEZONE, Tag, dag_kwargs, runtime_settings

DAG_ID = "feeds_deadline"

DOC_MD = """\
### feeds_deadline — have month M's six feeds landed by the due day?

Runs **daily at 09:00 Asia/Shanghai**. Each run takes the most recent month **M** whose feeds are
already due — due means the end of day `alerts.feeds_due_day` (plan configuration, 15 for
云和县) of month M+1, local time — and checks that all six sources (registry, tax, energy, stats,
projects, ledgers) have an **accepted** delivery covering M. If any is missing it e-mails the
data engineers (`alerts.engineers`) through `SmtpNotifier`, listing each missing feed with the
responsible department and its contact, and repeats daily until the feeds are in. Months outside
the plan window are not chased.

**Reads** the warehouse's delivery bookkeeping only (`raw_delivery` accepted rows joined to
`delivery_table` periods; `MFG_WAREHOUSE_URL`) and the plan configuration (`MFG_CONFIG`).
**Writes** nothing but an XCom with the check (`period`, `due_at`, `missing`, `late`) and the
e-mail (Airflow connection `MFG_SMTP_CONN_ID`, default `smtp_default`).

**Rerun.** Clearing a past run re-checks that day as it was (only deliveries received by the
run's logical date count); trigger with `{"period": "YYYY-MM"}` to check one month now.

**Why an explicit check task and not a `DeadlineAlert`.** A `DeadlineAlert` measures a *DAG
run* against a reference time. The month's computation (`monthly_indicators`) runs on a month
timetable and its `wait_for_feeds` sensor gives up waiting at the due day, so a deadline on that
run would say the *computation* is late, not which feed is or who delivers it, and it would fire
once per catch-up or backfill run. The due moment ("end of day D of the next month,
Asia/Shanghai") is no fixed `timedelta` from a logical date, so it would need a custom
reference, and deadlines are evaluated only inside a live scheduler. In Airflow 3.3.2 deadlines
are also fragile: `dag.test()` / `airflow dags test` crash on any DAG that sets `deadline`
(apache/airflow#73428), and alerts can silently stop after a DAG is re-serialized
(apache/airflow#72471). A daily check task is explicit, idempotent, re-runnable for any past day
and tested end to end against a real SMTP server. If the check itself fails, the standard
failure e-mail (`default_args`) goes out.
"""


def build_feeds_deadline_dag(dag_id: str = DAG_ID, *, check_hour: int = 9):
    from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task

    @dag(
        dag_id=dag_id,
        schedule=CronTriggerTimetable(f"0 {check_hour} * * *", timezone=TIMEZONE),
        start_date=dt.datetime(2021, 2, 1, tzinfo=ZoneInfo(TIMEZONE)),
        catchup=False,
        params={"period": Param(None, type=["null", "string"], pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                                description="Month to check (YYYY-MM); empty = the latest month already due")},
        **dag_kwargs(tags=[Tag.ALERTS, Tag.FEED], doc_md=DOC_MD),
    )
    def feeds_deadline():
        @task
        def check_feeds() -> dict:
            """Check the latest due month (or the `period` param); e-mail the engineers when late."""
            from ..alerts import engineer_recipients
            from ..deadlines import check_feeds_deadline, latest_due_period
            from .notifiers import late_feeds_notifier
            from ..config import load_config
            from ..warehouse import connect

            ctx = get_current_context()
            cfg = load_config(runtime_settings()["config_path"])
            due_day = int(cfg["alerts"]["feeds_due_day"])
            # The run's own time, so a re-run of a past day answers as that day did.
            now = ctx.get("logical_date") or ctx["dag_run"].run_after
            requested = (ctx.get("params") or {}).get("period")
            period = requested or latest_due_period(now, due_day)
            if not requested and not (cfg.window_start <= period <= cfg.window_end):
                print(f"{period} is outside the plan window {cfg.window_start}..{cfg.window_end}: not chased")
                return {"period": period, "skipped": "outside plan window", "late": False, "missing": []}
            engine = connect(runtime_settings()["warehouse_url"])
            try:
                check = check_feeds_deadline(engine, period, due_day, now=now)
            finally:
                engine.dispose()
            result = check.to_dict()
            if check.late:
                print(f"LATE: feeds for {period} missing at {now.isoformat()}: {', '.join(check.missing)}")
                late_feeds_notifier(check, cfg)(ctx)
                result["alerted"] = engineer_recipients(cfg)
            else:
                print(f"{period}: due {check.due_at.isoformat()}, missing {check.missing or 'none'}: no alert")
                result["alerted"] = []
            return result

        check_feeds()

    return feeds_deadline()

