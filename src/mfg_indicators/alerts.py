"""Operational alerts: who is told what, in which words. The e-mails are sent by
``orchestration.notifiers`` (the SMTP provider's ``SmtpNotifier``); this module holds what they
say and to whom, and needs no Airflow.

- **Task failures** → the data engineers (config ``alerts.engineers``): :func:`failure_mail`
  (Jinja templates over the failed task's context; every DAG gets the notifier through
  ``orchestration.common.default_args``).
- **Late feeds** → the data engineers, naming each missing feed with its department and contact
  (config ``departments``): :func:`late_feeds_mail`, for a ``deadlines.DeadlineCheck``; sent by the
  ``feeds_deadline`` DAG.
- **Rejected deliveries** → the sending department's contact (config ``departments.<source>``),
  in Chinese, naming file, sheet, row, column and reason: :func:`rejection_mail`.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from .findings import ERROR
from .settings import TIMEZONE, settings

if TYPE_CHECKING:
    from .config import PlanConfig
    from .deadlines import DeadlineCheck
    from .findings import Finding

@dataclass(frozen=True)
class AlertMail:
    """One alert e-mail: recipients, subject and HTML body. Subject and body are rendered as
    Jinja templates by the notifier, so feed-derived text in them is escaped for both."""

    to: list[str]
    subject: str
    html: str
    cc: list[str] = field(default_factory=list)


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


def _escape(value: Any) -> str:
    """HTML-escape, then keep Jinja from interpreting hostile text in the template render."""
    t = html.escape("" if value is None else str(value))
    return t.replace("{", "&#123;").replace("}", "&#125;")


# --- task failures -------------------------------------------------------------------------------

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


def failure_mail(config: PlanConfig | dict | str | Path | None = None) -> AlertMail:
    """The failure e-mail to the data engineers, as templates over the failed task's context."""
    return AlertMail(to=engineer_recipients(config), subject=_FAILURE_SUBJECT, html=_FAILURE_HTML)


# --- late feeds ----------------------------------------------------------------------------------

def late_feeds_mail(check: DeadlineCheck, config: PlanConfig | dict | str | Path | None = None) -> AlertMail:
    """E-mail to the data engineers listing the feeds of ``check.period`` that are overdue, with
    the responsible department and its contact (to chase them)."""
    block = _alerts_block(config)
    depts = block["departments"]
    rows = "".join(
        f"<tr><td>{_escape(src)}</td><td>{_escape(depts[src]['feed'])}</td>"
        f"<td>{_escape(depts[src]['name'])}</td>"
        f"<td>{_escape(depts[src]['contact'])}</td></tr>"
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
    return AlertMail(
        to=engineer_recipients(block),
        subject=f"[制造业指标] {check.period} 数据逾期未报 Late feeds: {', '.join(check.missing)}",
        html=body)


# --- rejected deliveries -------------------------------------------------------------------------

def _finding_rows(findings: Sequence[Finding | dict]) -> list[dict[str, Any]]:
    out = []
    for f in findings:
        d = f if isinstance(f, dict) else f.to_dict()
        if d.get("level", ERROR) != ERROR:  # warnings did not reject the file
            continue
        out.append({"file": d.get("file"), "sheet": d.get("sheet"), "row": d.get("row"),
                    "column": d.get("column"), "reason": d.get("message") or d.get("reason")})
    return out


def rejection_mail(source: str, file_name: str, findings: Sequence[Finding | dict],
                   config: PlanConfig | dict | str | Path | None = None, *,
                   cc_engineers: bool = True) -> AlertMail:
    """E-mail (Chinese) to the department that delivered ``source``: the file was rejected as a
    whole, nothing of it was loaded, and here is every error (file, sheet, row, column, reason).
    Feed-derived text is HTML-escaped and Jinja-escaped (it is rendered as a template)."""
    block = _alerts_block(config)
    dept = block["departments"][source]
    rows = "".join(f"<tr><td>{_escape(r['file'])}</td><td>{_escape(r['sheet'])}</td><td>{_escape(r['row'])}</td>"
                   f"<td>{_escape(r['column'])}</td><td>{_escape(r['reason'])}</td></tr>"
                   for r in _finding_rows(findings))
    name = _escape(Path(file_name).name)
    feed = _escape(dept["feed"])
    body = (
        '<html lang="zh-CN"><body>'
        f"<p>{_escape(dept['name'])}：</p>"
        f"<p>贵单位报送的{feed}数据文件《{name}》未通过校验，已整体退回，"
        "其中任何数据均未入库。请按下表修改后重新报送。</p>"
        "<table border=\"1\"><tr><th>文件</th><th>工作表</th><th>行</th><th>列</th><th>问题</th></tr>"
        f"{rows}</table>"
        "<p>（本邮件由系统自动发送）</p></body></html>")
    subject_name = Path(file_name).name.replace("{", "(").replace("}", ")")
    return AlertMail(
        to=[dept["contact"]],
        cc=engineer_recipients(block) if cc_engineers else [],
        subject=f"【数据退回】{feed}数据《{subject_name}》未通过校验，请修改后重报",
        html=body)
