"""Feed DAG factory: one ingestion DAG per source (``feed_registry`` … ``feed_ledgers``).

Each DAG checks daily (Asia/Shanghai) for new deliveries and runs them through the same stage
function as the CLI (mfg_indicators.ingest.ingest_inbox, limited to the DAG's source):

    pull_http ─► find_new_deliveries ─► ingest ─┬─► emit_asset_event   (Asset feed_<source>)
                                               └─► fail_on_rejected   (fails the run visibly)

* ``pull_http`` — only for sources listed in the Variable ``mfg_http_sources`` (or env
  ``MFG_HTTP_SOURCES``, comma separated): pulls the JSON endpoint of Connection
  ``mfg_feed_<source>`` into the inbox. Otherwise the file drop is used.
* ``ingest`` processes every new delivery in arrival order; a rejected one is quarantined and the
  others still load. Two feed DAGs (or a DAG and a CLI run) at once take turns per table inside
  the load (see ingest/load), so neither rejects good data nor loads anything twice.
  ``emit_asset_event`` then emits ``Asset(name="feed_<source>")`` with extra
  ``{"periods": [...], "deliveries": [...]}`` (skipped when nothing new was accepted), and
  ``fail_on_rejected`` raises, naming every rejection, so the run fails where people look.

Settings (Airflow Variable, else environment, else a checkout default; see common.settings):
inbox ``mfg_inbox``/MFG_INBOX, warehouse ``mfg_warehouse_url``/MFG_WAREHOUSE_URL, plan
configuration ``mfg_config``/MFG_CONFIG, ``mfg_archive``/MFG_ARCHIVE, ``mfg_quarantine``/
MFG_QUARANTINE.

Cheap to import (DAG files call it at parse time): Airflow's SDK and the project's path/feed
contract modules only; pandas, SQLAlchemy and the readers are imported inside the tasks.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, Metadata, dag, task

from ..feeds import SOURCES, tables_of_source
from .common import TIMEZONE, dag_kwargs
from .common import runtime_settings

log = logging.getLogger("mfg_indicators.feed_dags")

FEED_CHECK_CRON = "0 7 * * *"  # daily, 07:00 Beijing time: late feeds are the norm
START_DATE = pendulum.datetime(2023, 1, 1, tz=TIMEZONE)


def feed_asset(source: str) -> Asset:
    return Asset(name=f"feed_{source}")


def _doc(source: str) -> str:
    titles = "、".join(f"{t.title}（`{t.core}`）" for t in tables_of_source(source))
    return f"""\
### feed_{source} — {titles}

Daily file-drop check for the **{source}** feed (`shared/spec/feeds.md`).

* **Reads** `<inbox>/{source}/*.xlsx|*.csv|*.json` (inbox: Variable `mfg_inbox` / env `MFG_INBOX`);
  with `{source}` in `mfg_http_sources`, first pulls Connection `mfg_feed_{source}`
  (`{{"records": [...]}}`) into the inbox as `http-<UTC timestamp>.json`.
* **Writes** the archive copy `<archive>/{source}/<sha256[:16]>__<name>`; per delivery, in one
  transaction: `stg_*` → data-quality checks → {titles}, `raw_delivery`, `delivery_table`,
  `validation_warning`. Rejected files move to `<quarantine>/{source}/` with a Chinese report
  (`*.report.txt`) and JSON (`*.report.json`); the warehouse is left unchanged.
* **Emits** `Asset(name="feed_{source}")` with extra `{{"periods": [...], "deliveries": [...]}}`
  when something new was accepted. A rejection fails `fail_on_rejected` (after the other
  deliveries of the run are processed).
* Same file delivered twice: skipped (sha256). Arrival order: file mtime, then name.
"""


def make_feed_dag(source: str):
    """The ingestion DAG of one source."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    asset = feed_asset(source)

    @dag(dag_id=f"feed_{source}",
         schedule=CronDataIntervalTimetable(FEED_CHECK_CRON, timezone=TIMEZONE),
         start_date=START_DATE, catchup=False,
         **dag_kwargs(tags=["feed", source], doc_md=_doc(source)))
    def feed_dag():
        @task
        def pull_http() -> str | None:
            """Pull the HTTP endpoint into the inbox when this source is configured for it."""
            s = runtime_settings()
            if source not in s["http_sources"]:
                log.info("%s: file drop (not in mfg_http_sources); nothing to pull", source)
                return None
            from mfg_indicators.http_pull import pull_to_inbox

            path = pull_to_inbox(source, s["inbox"])
            return str(path) if path else None

        @task
        def find_new_deliveries(pulled: str | None) -> list[str]:
            """Files in the inbox whose bytes were not accepted before, in arrival order."""
            from mfg_indicators.extract import find_deliveries
            from mfg_indicators.ingest import InboxNotFound
            from mfg_indicators.load import accepted_ids
            from mfg_indicators.warehouse import connect

            s = runtime_settings()
            if not Path(s["inbox"]).is_dir():  # an unmounted inbox is not "nothing new"
                from airflow.sdk.exceptions import AirflowFailException

                # a setting or mount to fix, not a blip to retry; the next daily run checks again
                raise AirflowFailException(str(InboxNotFound(s["inbox"])))
            found = find_deliveries(s["inbox"], source)
            engine = connect(s["warehouse_url"])
            try:
                done = accepted_ids(engine, [d.sha256 for d in found])
            finally:
                engine.dispose()
            new = [str(d.path) for d in found if d.sha256 not in done]
            log.info("%s: %d file(s) in the inbox, %d new", source, len(found), len(new))
            return new

        @task
        def ingest(paths: list[str]) -> dict[str, Any]:
            """Archive → read → validate → load the source's deliveries in arrival order: the CLI's
            stage function (ingest_inbox, read-ahead included), for this source only."""
            from airflow.sdk import get_current_context

            from mfg_indicators.config import load_config
            from mfg_indicators.ingest import ingest_inbox
            from mfg_indicators.validate import collect_results, write_data_docs
            from mfg_indicators.warehouse import connect

            out: dict[str, Any] = {"accepted": [], "duplicate": [], "rejected": []}
            if not paths:
                log.info("%s: nothing new", source)
                return out
            s = runtime_settings()
            config = load_config(s["config_path"])
            engine = connect(s["warehouse_url"])
            validation = None
            try:
                with collect_results() as validation:
                    # Files found new by find_new_deliveries and accepted by a neighbouring run
                    # meanwhile come back as duplicates; files moved to quarantine by an earlier
                    # try of this task are no longer in the inbox.
                    report = ingest_inbox(s["inbox"], engine, config=config, archive_dir=s["archive"],
                                          quarantine_dir=s["quarantine"], sources=[source])
                new = set(paths)
                for outcome in report.outcomes:
                    if outcome.status == "duplicate" and str(outcome.delivery.path) not in new:
                        continue  # accepted on an earlier day and still in the inbox: not news
                    item = outcome.summary()
                    if outcome.status == "rejected":
                        item["rejections"] = [f.as_rejection() for f in outcome.errors]
                        item["errors_en"] = [f.log_line() for f in outcome.errors]
                    out[outcome.status].append(item)
            finally:
                engine.dispose()
                if validation is not None and len(validation):
                    # GX Data Docs of this run, so an engineer can open them after a failed run
                    run = get_current_context()["run_id"]
                    docs = write_data_docs(validation, Path(s["output"]) / "data-docs" / f"feed_{source}",
                                           run_name=f"feed_{source}-{run}")
                    log.info("%s: Data Docs %s", source, docs)
                    out["data_docs"] = str(docs)
            log.info("%s: %d accepted, %d duplicate, %d rejected", source, len(out["accepted"]),
                     len(out["duplicate"]), len(out["rejected"]))
            return out

        @task(outlets=[asset])
        def emit_asset_event(summary: dict[str, Any]):
            """Asset event with the periods the accepted deliveries touched."""
            from airflow.sdk.exceptions import AirflowSkipException

            accepted = summary["accepted"]
            if not accepted:
                raise AirflowSkipException("nothing new accepted: no asset event")
            periods = sorted({p for d in accepted for p in d["periods"]})
            deliveries = [{"file": d["file"], "sha256": d["sha256"], "tables": d["tables"],
                           "periods": d["periods"], "rows": d["rows"]} for d in accepted]
            log.info("%s: asset event, periods %s", source, ",".join(periods))
            yield Metadata(asset, {"source": source, "periods": periods, "deliveries": deliveries})

        @task  # raises AirflowFailException: a rejection is final, never retried
        def fail_on_rejected(summary: dict[str, Any]) -> int:
            """Fail visibly when any delivery was rejected (after e-mailing the department)."""
            from airflow.sdk.exceptions import AirflowFailException

            rejected = summary["rejected"]
            if not rejected:
                return 0
            for r in rejected:
                _notify_department(r)
            lines = []
            for r in rejected:
                lines.append(f"{r['file']} → {r['quarantine_path']}")
                lines.extend(f"  {e}" for e in r.get("errors_en", [])[:20])
                lines.extend(f"  {x['sheet'] or '-'} 第{x['row']}行 {x['column'] or '-'}: {x['reason']}"
                             for x in r.get("rejections", [])[:20])
            raise AirflowFailException(f"{source}: {len(rejected)} delivery(ies) rejected and quarantined:\n"
                                       + "\n".join(lines))

        summary = ingest(find_new_deliveries(pull_http()))
        emit_asset_event(summary)
        fail_on_rejected(summary)

    def _notify_department(rejected: dict[str, Any]) -> None:
        """E-mail the sending department (notifiers.notify_rejected_delivery) when SMTP is set up."""
        try:
            from airflow.sdk import Connection

            from mfg_indicators.orchestration.common import settings as _s

            Connection.get(_s().smtp_conn_id)
        except Exception:  # noqa: BLE001 - no SMTP connection configured: the task log must do
            log.warning("no SMTP connection: rejection of %s not e-mailed", rejected["file"])
            return
        try:
            from mfg_indicators.findings import Finding
            from mfg_indicators.orchestration.notifiers import notify_rejected_delivery

            findings = [Finding(level="error", source=source, rule="rejected", message=x["reason"],
                                file=x["file"], sheet=x["sheet"], row=x["row"], column=x["column"])
                        for x in rejected.get("rejections", [])]
            notify_rejected_delivery(source, rejected["file"], findings)
        except Exception as exc:  # noqa: BLE001 - the failure below is the alert of record
            log.warning("e-mail about rejected %s failed: %s", rejected["file"], exc)

    return feed_dag()


__all__ = ["FEED_CHECK_CRON", "feed_asset", "make_feed_dag", "runtime_settings"]
