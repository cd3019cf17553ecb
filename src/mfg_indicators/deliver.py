"""Delivering and archiving the bulletin (shared/spec/bulletin.md → Delivery and archive).

    build_message(paths, config, document) -> EmailMessage
    write_eml(paths, config, document, out_dir) -> Path
    send_bulletin(paths, config, document, *, smtp_conn_id="smtp_default", outbox) -> Path | None
    deliver_and_archive(paths, config, document, engine, archive_dir, *, smtp_conn_id, outbox)
        -> Delivery
    archive_bulletin(paths, document, engine, archive_dir, *, config=None, sending=None) -> Path

One message for both ways out, made from the rendered HTML bulletin alone: its
``<meta name="subject">`` is the subject and its ``<title>`` the attachments' Chinese name
(both written by the render from config ``bulletin.subject`` / ``title``, 第N期 per
``first_issue``/``numbering`` — formatted in one place). The body is that HTML with its CSS
inlined (css-inline: webmail strips ``<style>``, so table borders and status colours must
sit on the elements; the phone rules stay in a ``<style>`` for the clients that keep it) and
its charts as ``cid:`` inline parts; the plain-text alternative is the same HTML through
inscriptis, which lays the tables out as text, every row. DOCX and PDF are attached under the
Chinese title (``…进展情况通报（2023年第6期）.docx``, RFC 2231) with the ASCII name
(``bulletin-2023-06.docx``) as the fallback in ``Content-Type: …; name=``.

``send_bulletin`` goes through the Airflow SMTP provider's connection (SmtpHook: host, port,
TLS/SSL and login from the connection, sender from its ``from_email`` extra); when no such
connection is configured it writes ``bulletin-YYYY-MM.eml`` to the outbox instead.
``deliver_and_archive`` (what the CLI and the monthly DAG call) sends or writes, keeps the
message as ``.eml`` in the outbox either way, and archives the bulletin with the outcome in the
manifest — a failed send too (then it raises :class:`BulletinNotSent`): whether an issue went
out is never lost.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import re
import shutil
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses, make_msgid
from pathlib import Path
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from . import phrasing as ph
from .extract import sha256_file  # the one file-hash helper (deliveries are archived by it)
from .render import output_name

log = logging.getLogger(__name__)

DEFAULT_FROM = "mfg-indicators@localhost"
MIME = {
    ".docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".pdf": ("application", "pdf"),
}
_DATA_IMG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


@dataclasses.dataclass(frozen=True)
class BulletinHtml:
    """What the e-mail takes from the rendered HTML bulletin."""

    subject: str
    title: str  # 《…进展情况通报（2023年第6期）》 without the brackets: the attachments' name
    text: str  # the plain-text rendering, tables included


def read_bulletin_html(html: str) -> BulletinHtml:
    """Subject (``<meta name="subject">``), title (``<title>``) and plain text of the bulletin."""
    import lxml.html
    from inscriptis import Inscriptis

    tree = lxml.html.document_fromstring(html)
    subject = tree.xpath('string(/html/head/meta[@name="subject"]/@content)').strip()
    title = (tree.findtext("head/title") or "").strip()
    if not subject or not title:
        raise ValueError('the bulletin HTML has no <title> or no <meta name="subject">')
    return BulletinHtml(subject=subject, title=title, text=Inscriptis(tree).get_text().strip("\n"))


def inline_css(html: str) -> str:
    """The HTML with every CSS rule that can be written on its elements written there; at-rules
    (``@media`` for phones, ``@page``) are kept in a ``<style>``."""
    import css_inline

    return css_inline.inline(html, keep_at_rules=True, load_remote_stylesheets=False)


def _attachment_name(title: str, suffix: str) -> str:
    # a file name may not hold a path separator; the title holds none today, but it is config
    return re.sub(r'[\\/:*?"<>|]', "_", title) + suffix


def build_message(paths: Mapping[str, Path], config, document: Mapping[str, Any], *,
                  from_addr: str | None = None, now: dt.datetime | None = None) -> EmailMessage:
    """The bulletin e-mail: inline-styled HTML body with inline charts, the text alternative
    with every table, DOCX + PDF attached under the Chinese title (ASCII fallback)."""
    period = document["period"]
    bcfg = config["bulletin"]
    html = Path(paths["html"]).read_text(encoding="utf-8")
    head = read_bulletin_html(html)

    images: list[tuple[str, bytes]] = []

    def to_cid(m: re.Match) -> str:
        cid = f"<chart{len(images) + 1}.{period}@bulletin.local>"
        images.append((cid, base64.b64decode(m.group(1))))
        return f'src="cid:{cid[1:-1]}"'

    html_body = inline_css(_DATA_IMG.sub(to_cid, html))

    msg = EmailMessage()
    msg["Subject"] = head.subject
    msg["From"] = from_addr or DEFAULT_FROM
    msg["To"] = ", ".join(bcfg["recipients"]["to"])
    if bcfg["recipients"].get("cc"):
        msg["Cc"] = ", ".join(bcfg["recipients"]["cc"])
    tz = ZoneInfo(config["plan"].get("timezone") or "Asia/Shanghai")
    msg["Date"] = format_datetime(now or dt.datetime.now(tz))
    msg["Message-ID"] = make_msgid(idstring=f"bulletin-{period}", domain="mfg-indicators.local")
    msg.set_content(head.text + "\n\n（Word 和 PDF 版本见附件。）\n", subtype="plain", charset="utf-8")
    msg.add_alternative(html_body, subtype="html", charset="utf-8")
    html_part = msg.get_payload()[1]
    for cid, data in images:
        html_part.add_related(data, maintype="image", subtype="png", cid=cid,
                              filename=f"chart{cid[6:].split('.')[0]}.png", disposition="inline")
    for key, suffix in (("docx", ".docx"), ("pdf", ".pdf")):
        data = Path(paths[key]).read_bytes()
        maintype, subtype = MIME[suffix]
        # email encodes a non-ASCII filename per RFC 2231 (filename*0*=utf-8''…); the ASCII name
        # in Content-Type is what a client without RFC 2231 shows
        msg.add_attachment(data, maintype=maintype, subtype=subtype,
                           filename=_attachment_name(head.title, suffix))
        msg.get_payload()[-1].set_param("name", output_name(period, suffix))
    return msg


def write_eml(paths: Mapping[str, Path], config, document: Mapping[str, Any], out_dir: Path,
              *, msg: EmailMessage | None = None) -> Path:
    """Write the message as ``bulletin-YYYY-MM.eml`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    msg = msg or build_message(paths, config, document)
    path = out_dir / output_name(document["period"], ".eml")
    path.write_bytes(msg.as_bytes(policy=SMTP))
    return path


def _smtp_connection(conn_id: str):
    """The Airflow connection, or None when it is not configured."""
    from airflow.providers.common.compat.sdk import AirflowNotFoundException
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    try:
        return SmtpHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None


@dataclasses.dataclass
class Delivery:
    """What became of one bulletin e-mail. ``result``: ``sent``; ``written`` (no SMTP connection:
    the .eml is the message); ``failed`` (the server refused it or could not be reached:
    ``error``). ``manifest``: the archive manifest, once archived."""

    message: EmailMessage
    result: str
    via: str
    at: str
    eml: Path | None = None
    error: BaseException | None = None
    manifest: Path | None = None

    def record(self) -> dict[str, Any]:
        """The manifest's entry for this attempt."""
        rec: dict[str, Any] = {
            "result": self.result, "via": self.via, "at": self.at,
            "message_id": self.message["Message-ID"], "subject": str(self.message["Subject"]),
            "to": [a for _, a in getaddresses([str(v) for v in self.message.get_all("To", [])])],
            "cc": [a for _, a in getaddresses([str(v) for v in self.message.get_all("Cc", [])])],
        }
        if self.error is not None:
            rec["error"] = f"{type(self.error).__name__}: {self.error}"
        return rec

    def not_sent(self, period: str) -> "BulletinNotSent":
        where = f"archived in {self.manifest.parent}, " if self.manifest else ""
        return BulletinNotSent(f"bulletin {period} not sent through {self.via}: {self.record()['error']}; "
                               f"{where}the message is kept at {self.eml}")


class BulletinNotSent(RuntimeError):
    """The SMTP send failed; the bulletin and the message were archived all the same."""


def _now_utc() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _attempt(paths: Mapping[str, Path], config, document: Mapping[str, Any], *,
             smtp_conn_id: str | None, outbox: Path) -> Delivery:
    """Send through ``smtp_conn_id`` (or write the .eml when there is no such connection). A
    failed send is returned, not raised: its message is written to the outbox."""
    conn = _smtp_connection(smtp_conn_id) if smtp_conn_id else None
    if conn is None:
        msg = build_message(paths, config, document)
        path = write_eml(paths, config, document, outbox, msg=msg)
        log.warning("no SMTP connection %r configured: bulletin written to %s", smtp_conn_id, path)
        return Delivery(msg, "written", "eml", _now_utc(), eml=path)

    from airflow.providers.smtp.hooks.smtp import SmtpHook

    bcfg = config["bulletin"]
    recipients = list(bcfg["recipients"]["to"]) + list(bcfg["recipients"].get("cc") or [])
    login = conn.login or ""
    sender = (conn.extra_dejson or {}).get("from_email") or (login if "@" in login else DEFAULT_FROM)
    msg = build_message(paths, config, document, from_addr=sender)
    via = f"smtp:{smtp_conn_id}"
    try:
        with SmtpHook(smtp_conn_id=smtp_conn_id) as hook:
            # the hook has opened and authenticated the client (TLS/SSL per the connection)
            client = hook._smtp_client
            for attempt in range(hook.smtp_retry_limit + 1):
                try:
                    client.send_message(msg, from_addr=sender, to_addrs=recipients)
                    break
                except Exception:  # noqa: BLE001 - retried like SmtpHook.send_email_smtp
                    if attempt == hook.smtp_retry_limit:
                        raise
    except Exception as exc:  # noqa: BLE001 - any failure to hand the message over is a failed send
        path = write_eml(paths, config, document, outbox, msg=msg)
        log.error("bulletin %s NOT sent through %s (%s: %s); the message is kept at %s",
                  document["period"], smtp_conn_id, type(exc).__name__, exc, path)
        return Delivery(msg, "failed", via, _now_utc(), eml=path, error=exc)
    log.info("bulletin %s sent to %s", document["period"], ", ".join(recipients))
    return Delivery(msg, "sent", via, _now_utc())


def send_bulletin(paths: Mapping[str, Path], config, document: Mapping[str, Any], *,
                  smtp_conn_id: str | None = "smtp_default", outbox: Path) -> Path | None:
    """Send the bulletin through the Airflow SMTP connection ``smtp_conn_id``; returns None when
    sent. With no such connection (or ``smtp_conn_id=None``) write the .eml to ``outbox`` and
    return its path. A failed send writes the message to ``outbox`` and raises
    :class:`BulletinNotSent` (chained to the SMTP error)."""
    d = _attempt(paths, config, document, smtp_conn_id=smtp_conn_id, outbox=outbox)
    if d.error is not None:
        raise d.not_sent(document["period"]) from d.error
    return d.eml


def deliver_and_archive(paths: Mapping[str, Path], config, document: Mapping[str, Any], engine,
                        archive_dir: Path, *, smtp_conn_id: str | None, outbox: Path) -> Delivery:
    """Send the bulletin (or write it, with no SMTP connection), keep the message as
    ``bulletin-YYYY-MM.eml`` in ``outbox`` and archive the bulletin; the manifest's ``sending``
    records the attempt (sent / written / failed, when, to whom, Message-ID, the error) with a
    copy of the message. A failed send is archived first and then raised as
    :class:`BulletinNotSent`."""
    d = _attempt(paths, config, document, smtp_conn_id=smtp_conn_id, outbox=outbox)
    if d.eml is None:  # sent: keep the message as it went out
        d.eml = write_eml(paths, config, document, outbox, msg=d.message)
    d.manifest = archive_bulletin(paths, document, engine, archive_dir, config=config,
                                  sending=d.record(), message=d.eml)
    if d.error is not None:
        raise d.not_sent(document["period"]) from d.error
    return d


# --- archive -------------------------------------------------------------------------------


def document_sha256(document: Mapping[str, Any]) -> str:
    canon = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def archive_bulletin(paths: Mapping[str, Path], document: Mapping[str, Any], engine, archive_dir: Path,
                     *, config=None, sending: Mapping[str, Any] | None = None,
                     message: Path | None = None) -> Path:
    """Copy the outputs into ``archive_dir/YYYY-MM/rN/`` with ``manifest.json``: the sha256 of
    every input delivery the period's figures used (raw_delivery ids, per table), of the
    indicators document, and of every output file. Archiving identical outputs again returns
    the existing manifest; different outputs make a new revision rN+1 (nothing is overwritten).
    ``sending`` (a :meth:`Delivery.record`) is appended to the revision's ``"sending"`` list, with
    the e-mail ``message`` (.eml) copied to ``rN/sending/`` beside it: the messages are a record
    of each attempt, not outputs, so sending the same bulletin again makes no new revision.
    Returns the manifest path."""
    from .config import load_config
    from .provenance import deliveries_used

    config = config or load_config()
    period = document["period"]
    outputs = {k: Path(p) for k, p in paths.items() if p is not None and Path(p).exists()}
    out_hashes = {p.name: sha256_file(p) for p in outputs.values()}

    base = Path(archive_dir) / period
    revisions = sorted((int(d.name[1:]), d) for d in base.glob("r*") if d.is_dir() and d.name[1:].isdigit())
    if revisions:
        last = revisions[-1][1] / "manifest.json"
        if last.exists():
            prev = json.loads(last.read_text(encoding="utf-8"))
            if {o["name"]: o["sha256"] for o in prev.get("outputs", [])} == out_hashes:
                if sending is not None:
                    _record_sending(prev, last, sending, message)
                return last
    rev = (revisions[-1][0] + 1) if revisions else 1
    target = base / f"r{rev}"
    target.mkdir(parents=True, exist_ok=False)

    used = getattr(paths, "deliveries_used", None)
    if used is None or getattr(paths, "period", None) != period:
        used = deliveries_used(engine, config, period)
    by_id: dict[str, dict[str, Any]] = {}
    for r in used:
        d = by_id.setdefault(r["delivery_id"], {
            "sha256": r["delivery_id"], "source": r["source"], "file_name": r["file_name"],
            "received_at": str(r["received_at"]), "tables": []})
        d["tables"].append(r["table_name"])

    files = []
    for key, p in sorted(outputs.items()):
        shutil.copy2(p, target / p.name)
        files.append({"key": key, "name": p.name, "sha256": out_hashes[p.name], "bytes": p.stat().st_size})
    manifest = {
        "county": document.get("county"),
        "plan": document.get("plan"),
        "period": period,
        "issue_number": ph.issue_number(config["bulletin"], period),
        "issue_date": ph.issue_date(period).isoformat(),
        "revision": rev,
        "archived_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "inputs": {
            "indicators_document_sha256": document_sha256(document),
            "deliveries": sorted(by_id.values(), key=lambda d: (d["source"], d["received_at"], d["sha256"])),
        },
        "outputs": files,
        "sending": [],
    }
    path = target / "manifest.json"
    if sending is not None:
        _record_sending(manifest, path, sending, message)
    else:
        path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def _record_sending(manifest: dict[str, Any], path: Path, sending: Mapping[str, Any],
                    message: Path | None) -> None:
    """Append one attempt to ``manifest["sending"]`` (its message copied to ``sending/NN-result.eml``)
    and write the manifest to ``path``."""
    record = dict(sending)
    if message is not None:
        n = len(manifest.get("sending", [])) + 1
        kept = path.parent / "sending" / f"{n:02d}-{record.get('result', 'message')}.eml"
        kept.parent.mkdir(exist_ok=True)
        shutil.copy2(message, kept)
        record["message"] = {"name": kept.relative_to(path.parent).as_posix(), "sha256": sha256_file(kept)}
    manifest["sending"] = [*manifest.get("sending", []), record]
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
