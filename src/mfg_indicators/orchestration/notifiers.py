"""The alert e-mails as Airflow notifiers: the SMTP provider's ``SmtpNotifier`` over the texts and
recipients of ``mfg_indicators.alerts``, sent through the Airflow SMTP connection
(``MFG_SMTP_CONN_ID``, default ``smtp_default``). The sender is ``from_email``, else
``MFG_MAIL_FROM``, else the connection's ``from_email`` extra.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.providers.smtp.notifications.smtp import SmtpNotifier

from ..alerts import AlertMail, failure_mail, late_feeds_mail, rejection_mail
from ..settings import settings

if TYPE_CHECKING:
    from ..config import PlanConfig
    from ..deadlines import DeadlineCheck
    from ..findings import Finding


class FreshSmtpNotifier(SmtpNotifier):
    """``SmtpNotifier`` that renders its templates on a copy at each call.

    The stock notifier renders its template fields in place, so one instance shared through
    ``default_args`` would repeat the first failure's subject for every later failure in the same
    process (``dag.test()``, a long-lived worker)."""

    def __call__(self, *args) -> None:
        fresh = copy.copy(self)
        fresh.__dict__.pop("hook", None)
        return SmtpNotifier.__call__(fresh, *args)


def mail_notifier(mail: AlertMail, *, smtp_conn_id: str | None = None,
                  from_email: str | None = None) -> SmtpNotifier:
    """A notifier that sends ``mail`` when called with a task context."""
    s = settings()
    return FreshSmtpNotifier(
        to=mail.to,
        cc=mail.cc or None,
        from_email=from_email or s.mail_from,
        subject=mail.subject,
        html_content=mail.html,
        smtp_conn_id=smtp_conn_id or s.smtp_conn_id,
    )


def failure_notifier(config: PlanConfig | dict | str | Path | None = None, *,
                     smtp_conn_id: str | None = None, from_email: str | None = None) -> SmtpNotifier:
    """``on_failure_callback`` that e-mails the data engineers (config ``alerts.engineers``)."""
    return mail_notifier(failure_mail(config), smtp_conn_id=smtp_conn_id, from_email=from_email)


def late_feeds_notifier(check: DeadlineCheck, config: PlanConfig | dict | str | Path | None = None, *,
                        smtp_conn_id: str | None = None, from_email: str | None = None) -> SmtpNotifier:
    """E-mail to the data engineers naming the overdue feeds of ``check.period``."""
    return mail_notifier(late_feeds_mail(check, config), smtp_conn_id=smtp_conn_id, from_email=from_email)


def notify_rejected_delivery(source: str, file_name: str, findings: Sequence[Finding | dict],
                             config: PlanConfig | dict | str | Path | None = None,
                             context: dict[str, Any] | None = None, *, cc_engineers: bool = True,
                             smtp_conn_id: str | None = None, from_email: str | None = None) -> None:
    """E-mail the department that delivered ``source`` now: its file ``file_name`` was rejected,
    with every error finding (``alerts.rejection_mail``)."""
    mail = rejection_mail(source, file_name, findings, config, cc_engineers=cc_engineers)
    notifier = mail_notifier(mail, smtp_conn_id=smtp_conn_id, from_email=from_email)
    notifier(context if context is not None else {})
