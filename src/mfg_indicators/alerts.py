"""Operational alerts: who is told what, when.

- **Task failures** → the data engineers (config ``alerts.engineers``), through the SMTP provider's
  ``SmtpNotifier`` (:func:`failure_notifier`; every DAG gets it via
  ``orchestration.common.default_args``).
- **Late feeds** → the data engineers: month M's six feeds are due by the end of day
  ``alerts.feeds_due_day`` of month M+1, Asia/Shanghai (:func:`feeds_due_at`,
  :func:`check_feeds_deadline`, :func:`late_feeds_notifier`; run daily by the ``feeds_deadline``
  DAG).
- **Rejected deliveries** → the sending department's contact (config ``departments.<source>``),
  in Chinese, naming file, sheet, row, column and reason (:func:`rejection_notifier`,
  :func:`notify_rejected_delivery`).

When has a feed "landed" for month M? From the warehouse's delivery bookkeeping (``raw_delivery``
status ``accepted`` joined to ``delivery_table`` with the periods each table touched), per table of
the source (feeds.TABLES), by the kind of table:

- monthly tables (a ``month`` period column: tax, energy, stats 企业月报/主要指标, 任务月报): a
  delivery whose periods include M;
- the registry (a snapshot per 名录年份): a delivery containing the roster of M's year;
- event lists dated by a date column (projects, 整治台账): a delivery received after month M ended
  (it covers all of M's events, even when M had none) or carrying rows dated M or later.

A source has landed when every one of its tables has. Only deliveries received at or before the
moment of the check count, so re-running a past check gives the same answer.
``raw_delivery.received_at`` is naive UTC (as every TIMESTAMP the warehouse writes).
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from airflow.providers.smtp.notifications.smtp import SmtpNotifier

from .orchestration.common import TIMEZONE, settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from .config import PlanConfig
    from .findings import DeliveryRejected, Finding

SOURCE_NAMES_ZH = {"registry": "企业名录", "tax": "税收", "energy": "能耗", "stats": "统计",
                   "projects": "项目", "ledgers": "台账"}


# --- plan configuration, cheaply -----------------------------------------------------------------

def _alerts_block(config: PlanConfig | dict | str | Path | None) -> dict[str, Any]:
    """The plan's ``alerts``/``departments``/``plan`` blocks. DAG files call this at parse time,
    so a path is read with plain YAML (no schema validation: that happens in every task that
    loads the plan with config.load_config)."""
    if config is None:
        config = settings().config_path
    if isinstance(config, (str, Path)):
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return yaml.load(Path(config).read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
    if isinstance(config, dict):
        return config
    return config.data


def engineer_recipients(config: PlanConfig | dict | str | Path | None = None) -> list[str]:
    return list(_alerts_block(config)["alerts"]["engineers"])


def department_contact(source: str, config: PlanConfig | dict | str | Path | None = None) -> dict[str, str]:
    """``{"name": ..., "contact": ...}`` of the department delivering ``source``."""
    return dict(_alerts_block(config)["departments"][source])


class FreshSmtpNotifier(SmtpNotifier):
    """``SmtpNotifier`` that renders its templates on a copy at each call.

    The stock notifier renders its template fields in place, so one instance shared through
    ``default_args`` would repeat the first failure's subject for every later failure in the same
    process (``dag.test()``, a long-lived worker)."""

    def __call__(self, *args) -> None:
        fresh = copy.copy(self)
        fresh.__dict__.pop("hook", None)
        return SmtpNotifier.__call__(fresh, *args)


# Airflow renders with StrictUndefined: every context key that a run may lack (a manual run has
# no data interval; ``exception`` only exists on failure) needs a default.
_FAILURE_SUBJECT = ("[制造业指标] 任务失败 Task failed: {{ ti.dag_id }}.{{ ti.task_id }}"
                    " ({{ run_id | default('-') }})")
_FAILURE_HTML = """<html lang="zh-CN"><body>
<p>Airflow 任务失败（已用尽重试）/ A task failed after its retries.</p>
<table>
<tr><th align="left">DAG</th><td>{{ ti.dag_id }}</td></tr>
<tr><th align="left">Task</th><td>{{ ti.task_id }}{% if ti.map_index is defined and ti.map_index >= 0 %}[{{ ti.map_index }}]{% endif %}</td></tr>
<tr><th align="left">Run</th><td>{{ run_id | default('-') }}</td></tr>
<tr><th align="left">Try</th><td>{{ ti.try_number }}</td></tr>
<tr><th align="left">Interval</th><td>{{ data_interval_start | default('-') }} — {{ data_interval_end | default('-') }}</td></tr>
<tr><th align="left">Error</th><td><pre>{{ exception | default('') | string | e }}</pre></td></tr>
<tr><th align="left">Log</th><td>{{ ti.log_url | default('') }}</td></tr>
</table>
<p>处理办法见 docs/operations.md（重跑或补跑某月）。</p>
</body></html>"""


def failure_notifier(config: PlanConfig | dict | str | Path | None = None, *,
                     smtp_conn_id: str | None = None, from_email: str | None = None) -> SmtpNotifier:
    """``on_failure_callback`` that e-mails the data engineers (config ``alerts.engineers``)
    through the Airflow SMTP connection (``MFG_SMTP_CONN_ID``, default ``smtp_default``). The
    sender is ``from_email``, else ``MFG_MAIL_FROM``, else the connection's ``from_email`` extra."""
    s = settings()
    return FreshSmtpNotifier(
        to=engineer_recipients(config),
        from_email=from_email or s.mail_from,
        subject=_FAILURE_SUBJECT,
        html_content=_FAILURE_HTML,
        smtp_conn_id=smtp_conn_id or s.smtp_conn_id,
    )


# --- the feeds deadline --------------------------------------------------------------------------

def _month_start(period: str) -> tuple[int, int]:
    y, m = (int(x) for x in period.split("-"))
    if not 1 <= m <= 12:
        raise ValueError(f"not a month: {period!r}")
    return y, m


def next_month(period: str) -> str:
    y, m = _month_start(period)
    return f"{y + m // 12}-{m % 12 + 1:02d}"


def previous_month(period: str) -> str:
    y, m = _month_start(period)
    return f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}"


def month_end(period: str, tz: str = TIMEZONE) -> dt.datetime:
    """The instant month ``period`` ends (= 00:00 on the 1st of the next month, local time)."""
    y, m = _month_start(next_month(period))
    return dt.datetime(y, m, 1, tzinfo=ZoneInfo(tz))


def feeds_due_at(period: str, due_day: int, tz: str = TIMEZONE) -> dt.datetime:
    """When month ``period``'s feeds are late: the end of day ``due_day`` of the next month in
    ``tz`` (24:00 of that day, i.e. 00:00 of day ``due_day + 1``). Feeds landing *on* the due day
    are on time."""
    if not 1 <= due_day <= 28:
        raise ValueError(f"feeds_due_day must be 1..28, got {due_day}")
    y, m = _month_start(next_month(period))
    return dt.datetime(y, m, due_day, tzinfo=ZoneInfo(tz)) + dt.timedelta(days=1)


def latest_due_period(now: dt.datetime, due_day: int, tz: str = TIMEZONE) -> str:
    """The most recent month whose feeds were already due at ``now``: the previous month once its
    due day is over, otherwise the month before that."""
    local = now.astimezone(ZoneInfo(tz))
    prev = previous_month(f"{local.year}-{local.month:02d}")
    return prev if now >= feeds_due_at(prev, due_day, tz) else previous_month(prev)


def _as_utc_naive(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("pass an aware datetime")
    return moment.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _parse_ts(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else _as_utc_naive(value)
    text = str(value).replace("T", " ")
    parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo is None else _as_utc_naive(parsed)


def _periods(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    items = json.loads(value) if isinstance(value, str) else value
    if not isinstance(items, list):
        items = [items]
    return [str(x) for x in items]


def _table_kind(table) -> str:
    if table.replace_by == "roster_year":
        return "snapshot_year"
    if table.period_column and table.column(table.period_column).type == "month":
        return "monthly"
    return "events"


def _table_landed(kind: str, period: str, deliveries: Iterable[tuple[dt.datetime, list[str]]]) -> bool:
    year = period[:4]
    ended = _as_utc_naive(month_end(period))
    for received_at, periods in deliveries:
        if kind == "monthly" and any(p[:7] == period for p in periods):
            return True
        if kind == "snapshot_year" and any(p[:4] == year for p in periods):
            return True
        if kind == "events" and (received_at >= ended or any(p[:7] >= period for p in periods if len(p) >= 7)):
            return True
    return False


def landed_feeds(conn: Connection | Engine, period: str, *, as_of: dt.datetime) -> dict[str, bool]:
    """For each of the six sources, whether its feed for ``period`` had landed by ``as_of``
    (aware datetime). Reads raw_delivery and delivery_table only."""
    from sqlalchemy import text

    from .feeds import SOURCES, TABLES

    _month_start(period)
    cutoff = _as_utc_naive(as_of)
    sql = text("SELECT d.received_at, t.table_name, t.periods FROM raw_delivery d "
               "JOIN delivery_table t ON t.delivery_id = d.delivery_id WHERE d.status = 'accepted'")
    if hasattr(conn, "connect"):
        with conn.connect() as c:
            rows = c.execute(sql).all()
    else:
        rows = conn.execute(sql).all()
    by_table: dict[str, list[tuple[dt.datetime, list[str]]]] = {}
    for received_at, table_name, periods in rows:
        ts = _parse_ts(received_at)
        if ts <= cutoff:
            by_table.setdefault(table_name, []).append((ts, _periods(periods)))
    landed = {}
    for source in SOURCES:
        tables = [t for t in TABLES.values() if t.source == source]
        landed[source] = all(_table_landed(_table_kind(t), period, by_table.get(t.name, [])) for t in tables)
    return landed


@dataclass(frozen=True)
class DeadlineCheck:
    period: str
    due_at: dt.datetime
    as_of: dt.datetime
    missing: list[str] = field(default_factory=list)

    @property
    def due(self) -> bool:
        return self.as_of >= self.due_at

    @property
    def late(self) -> bool:
        """Due and at least one feed missing: alert."""
        return self.due and bool(self.missing)

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, "due_at": self.due_at.isoformat(), "as_of": self.as_of.isoformat(),
                "due": self.due, "late": self.late, "missing": list(self.missing)}


def check_feeds_deadline(conn: Connection | Engine, period: str, due_day: int, *,
                         now: dt.datetime, tz: str = TIMEZONE) -> DeadlineCheck:
    """The deadline rule: month ``period`` is late at ``now`` when ``now`` is past
    :func:`feeds_due_at` and some feed has not landed (by ``now``)."""
    landed = landed_feeds(conn, period, as_of=now)
    return DeadlineCheck(period=period, due_at=feeds_due_at(period, due_day, tz), as_of=now,
                         missing=[s for s, ok in landed.items() if not ok])


def late_feeds_notifier(check: DeadlineCheck, config: PlanConfig | dict | str | Path | None = None, *,
                        smtp_conn_id: str | None = None, from_email: str | None = None) -> SmtpNotifier:
    """E-mail to the data engineers listing the feeds of ``check.period`` that are overdue, with
    the responsible department and its contact (to chase them)."""
    block = _alerts_block(config)
    s = settings()
    rows = "".join(
        f"<tr><td>{html.escape(src)}</td><td>{SOURCE_NAMES_ZH[src]}</td>"
        f"<td>{html.escape(block['departments'][src]['name'])}</td>"
        f"<td>{html.escape(block['departments'][src]['contact'])}</td></tr>"
        for src in check.missing)
    due_local = check.due_at - dt.timedelta(days=1)
    body = (
        '<html lang="zh-CN"><body>'
        f"<p>{check.period} 数据未按期报送：截至 {check.as_of.astimezone(ZoneInfo(TIMEZONE)):%Y-%m-%d %H:%M}，"
        f"以下 {len(check.missing)} 个数据源未到（报送期限 {due_local:%Y-%m-%d} 当日）。</p>"
        f"<p>Feeds for {check.period} are overdue (due by end of {due_local:%Y-%m-%d} {TIMEZONE}): "
        f"{', '.join(check.missing)}.</p>"
        "<table border=\"1\"><tr><th>source</th><th>数据</th><th>报送单位</th><th>联系人</th></tr>"
        f"{rows}</table></body></html>")
    return FreshSmtpNotifier(
        to=engineer_recipients(block),
        from_email=from_email or s.mail_from,
        subject=f"[制造业指标] {check.period} 数据逾期未报 Late feeds: {', '.join(check.missing)}",
        html_content=body,
        smtp_conn_id=smtp_conn_id or s.smtp_conn_id,
    )


# --- rejected deliveries -------------------------------------------------------------------------

def _finding_rows(findings: Sequence[Finding | dict]) -> list[dict[str, Any]]:
    out = []
    for f in findings:
        d = f if isinstance(f, dict) else f.to_dict()
        out.append({"file": d.get("file"), "sheet": d.get("sheet"), "row": d.get("row"),
                    "column": d.get("column"), "reason": d.get("message") or d.get("reason")})
    return out


def rejection_notifier(source: str, file_name: str, findings: Sequence[Finding | dict],
                       config: PlanConfig | dict | str | Path | None = None, *,
                       smtp_conn_id: str | None = None, from_email: str | None = None,
                       cc_engineers: bool = True) -> SmtpNotifier:
    """E-mail (Chinese) to the department that delivered ``source``: the file was rejected as a
    whole, nothing of it was loaded, and here is every error (file, sheet, row, column, reason).
    Feed-derived text is HTML-escaped and Jinja-escaped (it is rendered as a template)."""
    block = _alerts_block(config)
    dept = block["departments"][source]
    s = settings()

    def cell(v: Any) -> str:
        # escape HTML, then keep Jinja from interpreting hostile text in the template render
        t = html.escape("" if v is None else str(v))
        return t.replace("{", "&#123;").replace("}", "&#125;")

    rows = "".join(f"<tr><td>{cell(r['file'])}</td><td>{cell(r['sheet'])}</td><td>{cell(r['row'])}</td>"
                   f"<td>{cell(r['column'])}</td><td>{cell(r['reason'])}</td></tr>"
                   for r in _finding_rows(findings))
    name = cell(Path(file_name).name)
    body = (
        '<html lang="zh-CN"><body>'
        f"<p>{cell(dept['name'])}：</p>"
        f"<p>贵单位报送的{SOURCE_NAMES_ZH.get(source, source)}数据文件《{name}》未通过校验，已整体退回，"
        "其中任何数据均未入库。请按下表修改后重新报送。</p>"
        "<table border=\"1\"><tr><th>文件</th><th>工作表</th><th>行</th><th>列</th><th>问题</th></tr>"
        f"{rows}</table>"
        "<p>（本邮件由系统自动发送）</p></body></html>")
    subject_name = Path(file_name).name.replace("{", "(").replace("}", ")")
    return FreshSmtpNotifier(
        to=[dept["contact"]],
        cc=engineer_recipients(block) if cc_engineers else None,
        from_email=from_email or s.mail_from,
        subject=f"【数据退回】{SOURCE_NAMES_ZH.get(source, source)}数据《{subject_name}》未通过校验，请修改后重报",
        html_content=body,
        smtp_conn_id=smtp_conn_id or s.smtp_conn_id,
    )


def notify_rejected_delivery(source: str, rejection: DeliveryRejected,
                             config: PlanConfig | dict | str | Path | None = None,
                             context: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """Send :func:`rejection_notifier`'s e-mail now (call it from the ingest task where
    ``DeliveryRejected`` is caught, before re-raising so the task fails visibly)."""
    notifier = rejection_notifier(source, rejection.file, rejection.findings, config, **kwargs)
    notifier(context if context is not None else {})
