"""Alerts: the feeds deadline rule (both warehouses), the failure e-mail received by a real SMTP
server from a failing DAG run, the late-feeds DAG, and the rejected-delivery e-mail."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from mfg_indicators import deadlines
from mfg_indicators.config import load_config
from mfg_indicators.findings import Finding
from mfg_indicators.orchestration import notifiers

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SH = ZoneInfo("Asia/Shanghai")
CONFIG = load_config()
ENGINEERS = CONFIG["alerts"]["engineers"]
DUE_DAY = CONFIG["alerts"]["feeds_due_day"]


# --- a real SMTP server on a loopback port -------------------------------------------------------

class _Inbox:
    def __init__(self):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"

    def wait(self, n: int, timeout: float = 10) -> None:
        end = time.monotonic() + timeout
        while len(self.messages) < n and time.monotonic() < end:
            time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _smtp_uri(port: int) -> str:
    # The same form as AIRFLOW_CONN_SMTP_DEFAULT in .env.example (plain SMTP, no TLS, sender set).
    return (f"smtp://127.0.0.1:{port}?disable_ssl=true&disable_tls=true"
            "&from_email=airflow%40example.gov.cn&retry_limit=0&timeout=10")


@pytest.fixture
def smtp_server(monkeypatch):
    """aiosmtpd on 127.0.0.1:<free port>, exposed to Airflow as connection ``mfg_test_smtp``."""
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("AIRFLOW_CONN_MFG_TEST_SMTP", _smtp_uri(port))
    monkeypatch.setenv("MFG_SMTP_CONN_ID", "mfg_test_smtp")
    monkeypatch.delenv("MFG_MAIL_FROM", raising=False)
    inbox.port = port
    yield inbox
    controller.stop()


def _html(msg: email.message.EmailMessage) -> str:
    part = msg.get_body(preferencelist=("html", "plain"))
    return part.get_content()


# --- deadline date logic -------------------------------------------------------------------------

def test_due_at_is_end_of_due_day_of_next_month_in_shanghai():
    assert deadlines.feeds_due_at("2023-06", 15) == dt.datetime(2023, 7, 16, 0, 0, tzinfo=SH)
    assert deadlines.feeds_due_at("2023-12", 15) == dt.datetime(2024, 1, 16, tzinfo=SH)
    assert deadlines.feeds_due_at("2024-01", 28) == dt.datetime(2024, 2, 29, tzinfo=SH)  # leap year
    # In UTC that is 16:00 on the due day itself: the CLI/UTC trap.
    assert deadlines.feeds_due_at("2023-06", 15).astimezone(dt.timezone.utc) == dt.datetime(
        2023, 7, 15, 16, 0, tzinfo=dt.timezone.utc)
    with pytest.raises(ValueError):
        deadlines.feeds_due_at("2023-06", 31)
    with pytest.raises(ValueError):
        deadlines.feeds_due_at("2023-13", 15)


def test_latest_due_period_switches_after_the_due_day():
    # 2023-07-15 23:59 Shanghai: June not yet due -> the month checked is May
    assert deadlines.latest_due_period(dt.datetime(2023, 7, 15, 23, 59, tzinfo=SH), 15) == "2023-05"
    assert deadlines.latest_due_period(dt.datetime(2023, 7, 16, 0, 0, tzinfo=SH), 15) == "2023-06"
    # 2023-07-15 17:00 UTC is already 07-16 01:00 in Shanghai
    assert deadlines.latest_due_period(dt.datetime(2023, 7, 15, 17, 0, tzinfo=dt.timezone.utc), 15) == "2023-06"
    assert deadlines.latest_due_period(dt.datetime(2024, 1, 20, 9, tzinfo=SH), 15) == "2023-12"
    assert deadlines.latest_due_period(dt.datetime(2024, 1, 10, 9, tzinfo=SH), 15) == "2023-11"


# --- deadline rule against the warehouse (both dialects) -----------------------------------------

_SEQ = iter(range(10**6))


def deliver(conn, source: str, tables: dict[str, list], received_local: dt.datetime,
            status: str = "accepted") -> str:
    """Book one delivery as the ingestion does: raw_delivery + one delivery_table row per table
    (``periods`` a JSON list). ``received_local`` is Shanghai time; stored as naive UTC."""
    did = f"{next(_SEQ):064x}"
    received = received_local.replace(tzinfo=SH).astimezone(dt.timezone.utc).replace(tzinfo=None)
    all_periods = sorted({str(p) for ps in tables.values() for p in ps})
    conn.execute(text(
        "INSERT INTO raw_delivery (delivery_id, source, file_name, archive_path, size_bytes, file_mtime,"
        " received_at, status, row_count, periods, report) VALUES (:id, :src, :fn, :ap, 1, :t, :t, :st, 1, :p, '{}')"),
        {"id": did, "src": source, "fn": f"{source}.xlsx", "ap": f"/archive/{did}", "t": received,
         "st": status, "p": json.dumps(all_periods)})
    for table, periods in tables.items():
        conn.execute(text("INSERT INTO delivery_table (delivery_id, table_name, sheet, row_count, periods)"
                          " VALUES (:id, :t, NULL, 1, :p)"), {"id": did, "t": table, "p": json.dumps(periods)})
    return did


def deliver_all_for(conn, period: str, received_local: dt.datetime, skip: tuple[str, ...] = ()) -> None:
    year = int(period[:4])
    feeds = {
        "registry": {"registry": [year]},
        "tax": {"tax": [period]},
        "energy": {"energy": [period]},
        "stats": {"stats_enterprise": [period], "stats_county": [period]},
        "projects": {"projects": [f"{period}-12"]},
        "ledgers": {"rectification": [f"{period}-03"], "task_report": [period]},
    }
    for source, tables in feeds.items():
        if source not in skip:
            deliver(conn, source, tables, received_local)


def test_before_due_is_not_late_even_with_a_missing_feed(engine):
    with engine.begin() as conn:
        deliver_all_for(conn, "2023-06", dt.datetime(2023, 7, 5, 10), skip=("tax",))
    before = dt.datetime(2023, 7, 15, 23, 59, 59, tzinfo=SH)
    check = deadlines.check_feeds_deadline(engine, "2023-06", DUE_DAY, now=before)
    assert check.missing == ["tax"]
    assert not check.due and not check.late


def test_after_due_with_a_missing_feed_is_late_and_names_it(engine):
    with engine.begin() as conn:
        deliver_all_for(conn, "2023-06", dt.datetime(2023, 7, 5, 10), skip=("tax",))
        # tax delivered, but for May only, and a rejected June file: neither covers June
        deliver(conn, "tax", {"tax": ["2023-05"]}, dt.datetime(2023, 7, 6, 9))
        deliver(conn, "tax", {"tax": ["2023-06"]}, dt.datetime(2023, 7, 6, 9), status="rejected")
    after = dt.datetime(2023, 7, 16, 0, 0, tzinfo=SH)
    check = deadlines.check_feeds_deadline(engine, "2023-06", DUE_DAY, now=after)
    assert check.due and check.late
    assert check.missing == ["tax"]
    assert check.to_dict()["missing"] == ["tax"]


def test_all_landed_is_not_late(engine):
    with engine.begin() as conn:
        deliver_all_for(conn, "2023-06", dt.datetime(2023, 7, 15, 18))  # on the due day: on time
    check = deadlines.check_feeds_deadline(engine, "2023-06", DUE_DAY, now=dt.datetime(2023, 8, 1, tzinfo=SH))
    assert check.due and not check.late and check.missing == []


def test_landing_rules_per_table_kind(engine):
    after = dt.datetime(2023, 7, 20, 9, tzinfo=SH)
    with engine.begin() as conn:
        # stats with only 主要指标: 企业月报 for June missing -> stats not landed
        deliver(conn, "stats", {"stats_county": ["2023-06"]}, dt.datetime(2023, 7, 3))
        # registry roster of 2022 only: not the roster of June 2023's year
        deliver(conn, "registry", {"registry": [2022]}, dt.datetime(2023, 1, 3))
        # projects: an event list delivered after June ended covers June even with no June events
        deliver(conn, "projects", {"projects": ["2023-04-02"]}, dt.datetime(2023, 7, 2))
        # ledgers: rectification events fine, but 任务月报 only up to May -> not landed
        deliver(conn, "ledgers", {"rectification": ["2023-06-30"], "task_report": ["2023-05"]},
                dt.datetime(2023, 7, 4))
        # energy arrives only after the moment checked
        deliver(conn, "energy", {"energy": ["2023-06"]}, dt.datetime(2023, 7, 21))
        deliver(conn, "tax", {"tax": ["2023-05", "2023-06"]}, dt.datetime(2023, 7, 1))
    landed = deadlines.landed_feeds(engine, "2023-06", as_of=after)
    assert landed == {"registry": False, "tax": True, "energy": False, "stats": False,
                      "projects": True, "ledgers": False}
    # July: the projects list came in during July with April events only -> does not cover July
    assert deadlines.landed_feeds(engine, "2023-07", as_of=after)["projects"] is False
    # a later check sees the energy delivery
    later = deadlines.landed_feeds(engine, "2023-06", as_of=dt.datetime(2023, 7, 22, tzinfo=SH))
    assert later["energy"] is True


# --- failure e-mail from a failing DAG run ------------------------------------------------------

_FAILING_DAG = '''
"""Airflow DAG for the failure-alert test: one task that fails after one retry."""
import datetime as dt
from airflow.sdk import dag, task
from mfg_indicators.orchestration.common import dag_kwargs

kw = dag_kwargs(tags=["test"], doc_md="fails on purpose")
kw["default_args"].update(retries=1, retry_delay=dt.timedelta(seconds=1))

@dag(dag_id="mfg_failure_alert_probe", schedule=None, start_date=dt.datetime(2024, 1, 1), **kw)
def probe():
    @task
    def load_tax():
        raise RuntimeError("warehouse refused 税收 load <boom>")
    load_tax()

dag = probe()
'''

_RUNNER = '''
import sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
# logical_date=None: like a manual trigger from the UI/REST API, the run has no data interval
# (the notifier's template must not need one)
dr = bag.dags["mfg_failure_alert_probe"].test(logical_date=None)
print("STATE=" + str(dr.state))
'''


def test_task_failure_emails_engineers_through_smtp_notifier(airflow_db, smtp_server, tmp_path):
    """A DAG using the project's default_args fails for good under dag.test(); the engineers get
    exactly one e-mail (after the retry, not per try) on a real SMTP server."""
    home = tmp_path / "airflow-home"
    dags = tmp_path / "dags"
    home.mkdir()
    dags.mkdir()
    shutil.copy(airflow_db / "airflow.db", home / "airflow.db")  # migrated metadata DB
    (dags / "probe.py").write_text(_FAILING_DAG, encoding="utf-8")
    env = dict(os.environ, AIRFLOW_HOME=str(home), AIRFLOW__CORE__DAGS_FOLDER=str(dags),
               AIRFLOW__CORE__LOAD_EXAMPLES="False")
    proc = subprocess.run([sys.executable, "-c", _RUNNER, str(dags)], env=env, capture_output=True,
                          text=True, timeout=180)
    assert "STATE=failed" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-3000:]
    smtp_server.wait(1)
    time.sleep(0.5)  # a second (wrong) e-mail would arrive by now
    assert len(smtp_server.messages) == 1, [m["Subject"] for _, m in smtp_server.messages]
    rcpt, msg = smtp_server.messages[0]
    assert rcpt == ENGINEERS
    assert msg["From"] == "airflow@example.gov.cn"
    assert "mfg_failure_alert_probe.load_tax" in msg["Subject"]
    assert "任务失败" in msg["Subject"]
    body = _html(msg)
    assert "warehouse refused 税收 load &lt;boom&gt;" in body  # the error, HTML-escaped
    assert "<th align=\"left\">Try</th><td>2</td>" in body  # sent after the retry was used up


def test_failure_notifier_is_the_provider_smtp_notifier_with_engineers():
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    n = notifiers.failure_notifier()
    assert isinstance(n, SmtpNotifier)
    assert n.to == ENGINEERS


# --- the feeds_deadline DAG ----------------------------------------------------------------------

def test_feeds_deadline_dag_alerts_only_when_late(airflow_db, smtp_server, warehouse_url, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    from mfg_indicators.warehouse import connect

    monkeypatch.setenv("MFG_WAREHOUSE_URL", warehouse_url)
    engine = connect(warehouse_url)
    with engine.begin() as conn:
        deliver_all_for(conn, "2023-05", dt.datetime(2023, 6, 10, 10))
        deliver_all_for(conn, "2023-06", dt.datetime(2023, 7, 10, 10), skip=("energy", "ledgers"))
    engine.dispose()
    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags" / "feeds_deadline.py"))
    assert not bag.import_errors
    dag = bag.dags["feeds_deadline"]

    # Scheduled run on 2023-07-16 09:00 Shanghai: June is due and late -> one e-mail.
    dr = dag.test(logical_date=dt.datetime(2023, 7, 16, 9, tzinfo=SH))
    assert dr.state == "success"
    smtp_server.wait(1)
    assert len(smtp_server.messages) == 1
    rcpt, msg = smtp_server.messages[0]
    assert rcpt == ENGINEERS
    assert "2023-06" in msg["Subject"] and "energy" in msg["Subject"] and "ledgers" in msg["Subject"]
    body = _html(msg)
    assert "县发改局" in body and "gyyq@example.gov.cn" in body and "tax" not in msg["Subject"]

    # Run on 2023-07-15 09:00: June not due yet, May (the latest due month) complete -> no e-mail.
    dr = dag.test(logical_date=dt.datetime(2023, 7, 15, 9, tzinfo=SH))
    assert dr.state == "success"
    # Scheduled run after the plan window (2025): nothing is chased, no e-mail.
    dr = dag.test(logical_date=dt.datetime(2025, 3, 20, 9, tzinfo=SH))
    assert dr.state == "success"
    time.sleep(0.5)
    assert len(smtp_server.messages) == 1


# --- rejected delivery -> department contact -----------------------------------------------------

def test_rejected_delivery_emails_the_department_in_chinese(smtp_server):
    findings = [
        Finding(level="error", source="tax", rule="uscc_check_digit", message="统一社会信用代码校验位错误",
                message_en="bad USCC check digit", table="tax", file="2023年6月税收.xlsx", sheet="Sheet1",
                row=7, column="统一社会信用代码"),
        Finding(level="error", source="tax", rule="not_a_number",
                message="数值列含文本：{{ 7*7 }} <script>alert(1)</script>", table="tax",
                file="2023年6月税收.xlsx", sheet="Sheet1", row=9, column="增值税（万元）"),
    ]
    notifiers.notify_rejected_delivery("tax", "inbox/tax/2023年6月税收.xlsx", findings)
    smtp_server.wait(1)
    assert len(smtp_server.messages) == 1
    rcpt, msg = smtp_server.messages[0]
    dept = CONFIG["departments"]["tax"]
    assert rcpt == [dept["contact"], *ENGINEERS]
    assert msg["To"] == dept["contact"]
    assert "数据退回" in msg["Subject"] and "2023年6月税收.xlsx" in msg["Subject"]
    body = _html(msg)
    assert dept["name"] in body and "已整体退回" in body
    assert "<td>Sheet1</td><td>7</td><td>统一社会信用代码</td><td>统一社会信用代码校验位错误</td>" in body
    assert "增值税（万元）" in body
    # hostile text arrives as text: neither executed as Jinja nor as HTML
    assert "49" not in body
    assert "<script>" not in body and "&lt;script&gt;" in body


def test_alert_texts_come_from_the_plan_configuration():
    """The words for each feed and its department are the plan's (config ``departments``): another
    plan's config changes them without code. A warning finding did not reject the file and is
    not listed as a reason."""
    from mfg_indicators.alerts import late_feeds_mail, rejection_mail

    plan = {"alerts": {"engineers": ["eng@example.gov.cn"]},
            "departments": {"tax": {"name": "某县税务局", "contact": "tax@example.gov.cn", "feed": "税费"},
                            "energy": {"name": "某县能源局", "contact": "e@example.gov.cn", "feed": "用能"}}}
    findings = [Finding(level="error", source="tax", rule="negative_tax", message="税额为负", file="t.xlsx",
                        sheet="Sheet1", row=3, column="税额"),
                Finding(level="warning", source="tax", rule="not_in_registry", message="不在名录中",
                        file="t.xlsx", row=4)]
    mail = rejection_mail("tax", "inbox/tax/t.xlsx", findings, plan)
    assert mail.to == ["tax@example.gov.cn"] and mail.cc == ["eng@example.gov.cn"]
    assert mail.subject == "【数据退回】税费数据《t.xlsx》未通过校验，请修改后重报"
    assert "<p>某县税务局：</p>" in mail.html and "贵单位报送的税费数据文件《t.xlsx》" in mail.html
    assert "税额为负" in mail.html and "不在名录中" not in mail.html
    assert rejection_mail("tax", "t.xlsx", findings, plan, cc_engineers=False).cc == []

    check = deadlines.DeadlineCheck(period="2023-06", due_at=deadlines.feeds_due_at("2023-06", 15),
                                    as_of=dt.datetime(2023, 7, 16, 9, tzinfo=SH), missing=["energy"])
    late = late_feeds_mail(check, plan)
    assert late.to == ["eng@example.gov.cn"] and "energy" in late.subject
    assert "<td>energy</td><td>用能</td><td>某县能源局</td><td>e@example.gov.cn</td>" in late.html
    assert "截至 2023-07-16 09:00" in late.html and "报送期限 2023-07-15 当日" in late.html
