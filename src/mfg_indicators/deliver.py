"""Delivering and archiving the bulletin (shared/spec/bulletin.md → Delivery and archive).

    build_message(paths, config, document) -> EmailMessage
    write_eml(paths, config, document, out_dir) -> Path
    send_bulletin(paths, config, document, *, smtp_conn_id="smtp_default", outbox) -> Path | None
    archive_bulletin(paths, document, engine, archive_dir, *, config=None) -> Path

One message for both ways out: subject from config ``bulletin.subject`` (第N期 per
``first_issue``/``numbering``), the HTML bulletin as body (its charts as ``cid:`` inline parts,
a short plain-text alternative), the DOCX and PDF attached under ASCII names
(``bulletin-2023-06.docx``). ``send_bulletin`` goes through the Airflow SMTP provider's
connection (SmtpHook: host, port, TLS/SSL and login from the connection, sender from its
``from_email`` extra); when no such connection is configured it writes
``bulletin-YYYY-MM.eml`` to the outbox instead.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import re
import shutil
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from . import phrasing as ph
from .extract import sha256_file  # the one file-hash helper (deliveries are archived by it)

log = logging.getLogger(__name__)

DEFAULT_FROM = "mfg-indicators@localhost"
MIME = {
    ".docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".pdf": ("application", "pdf"),
}
_DATA_IMG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def _name(period: str, suffix: str) -> str:
    return f"bulletin-{period}{suffix}"


def subject_for(config, period: str) -> str:
    y, m = ph.parse_period(period)
    bcfg = config["bulletin"]
    return bcfg["subject"].format(year=y, number=ph.issue_number(bcfg, period), month=m, period=period)


class _TextOf(HTMLParser):
    """Headings and paragraphs of the bulletin HTML as plain text (tables left out)."""

    BLOCKS = {"h1", "h2", "h3", "p"}

    def __init__(self):
        super().__init__()
        self.lines: list[str] = []
        self._buf: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "title", "table"):
            self._skip += 1
        elif tag in self.BLOCKS and not self._skip:
            self._buf = []

    def handle_endtag(self, tag):
        if tag in ("style", "script", "title", "table"):
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCKS and self._buf is not None:
            line = "".join(self._buf).strip()
            if line:
                self.lines.append(line)
            self._buf = None

    def handle_data(self, data):
        if self._buf is not None and not self._skip:
            self._buf.append(data)


def html_to_text(html: str) -> str:
    p = _TextOf()
    p.feed(html)
    return "\n\n".join(p.lines) + "\n"


def build_message(paths: Mapping[str, Path], config, document: Mapping[str, Any], *,
                  from_addr: str | None = None, now: dt.datetime | None = None) -> EmailMessage:
    """The bulletin e-mail: HTML body with inline charts, DOCX + PDF attached (ASCII names)."""
    period = document["period"]
    bcfg = config["bulletin"]
    html = Path(paths["html"]).read_text(encoding="utf-8")

    images: list[tuple[str, bytes]] = []

    def to_cid(m: re.Match) -> str:
        cid = f"<chart{len(images) + 1}.{period}@bulletin.local>"
        images.append((cid, base64.b64decode(m.group(1))))
        return f'src="cid:{cid[1:-1]}"'

    html_body = _DATA_IMG.sub(to_cid, html)

    msg = EmailMessage()
    msg["Subject"] = subject_for(config, period)
    msg["From"] = from_addr or DEFAULT_FROM
    msg["To"] = ", ".join(bcfg["recipients"]["to"])
    if bcfg["recipients"].get("cc"):
        msg["Cc"] = ", ".join(bcfg["recipients"]["cc"])
    tz = ZoneInfo(config["plan"].get("timezone") or "Asia/Shanghai")
    msg["Date"] = format_datetime(now or dt.datetime.now(tz))
    msg["Message-ID"] = make_msgid(idstring=f"bulletin-{period}", domain="mfg-indicators.local")
    msg.set_content(html_to_text(html) + "\n（Word 和 PDF 版本见附件。）\n", subtype="plain", charset="utf-8")
    msg.add_alternative(html_body, subtype="html", charset="utf-8")
    html_part = msg.get_payload()[1]
    for cid, data in images:
        html_part.add_related(data, maintype="image", subtype="png", cid=cid,
                              filename=f"chart{cid[6:].split('.')[0]}.png", disposition="inline")
    for key, suffix in (("docx", ".docx"), ("pdf", ".pdf")):
        data = Path(paths[key]).read_bytes()
        maintype, subtype = MIME[suffix]
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=_name(period, suffix))
    return msg


def write_eml(paths: Mapping[str, Path], config, document: Mapping[str, Any], out_dir: Path,
              *, msg: EmailMessage | None = None) -> Path:
    """Write the message as ``bulletin-YYYY-MM.eml`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    msg = msg or build_message(paths, config, document)
    path = out_dir / _name(document["period"], ".eml")
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


def send_bulletin(paths: Mapping[str, Path], config, document: Mapping[str, Any], *,
                  smtp_conn_id: str | None = "smtp_default", outbox: Path) -> Path | None:
    """Send the bulletin through the Airflow SMTP connection ``smtp_conn_id``; returns None when
    sent. With no such connection (or ``smtp_conn_id=None``) write the .eml to ``outbox`` and
    return its path."""
    conn = _smtp_connection(smtp_conn_id) if smtp_conn_id else None
    if conn is None:
        path = write_eml(paths, config, document, outbox)
        log.warning("no SMTP connection %r configured: bulletin written to %s", smtp_conn_id, path)
        return path

    from airflow.providers.smtp.hooks.smtp import SmtpHook

    bcfg = config["bulletin"]
    recipients = list(bcfg["recipients"]["to"]) + list(bcfg["recipients"].get("cc") or [])
    login = conn.login or ""
    sender = (conn.extra_dejson or {}).get("from_email") or (login if "@" in login else DEFAULT_FROM)
    msg = build_message(paths, config, document, from_addr=sender)
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
    log.info("bulletin %s sent to %s", document["period"], ", ".join(recipients))
    return None


# --- archive -------------------------------------------------------------------------------


def document_sha256(document: Mapping[str, Any]) -> str:
    canon = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def archive_bulletin(paths: Mapping[str, Path], document: Mapping[str, Any], engine, archive_dir: Path,
                     *, config=None) -> Path:
    """Copy the outputs into ``archive_dir/YYYY-MM/rN/`` with ``manifest.json``: the sha256 of
    every input delivery the period's figures used (raw_delivery ids, per table), of the
    indicators document, and of every output file. Archiving identical outputs again returns
    the existing manifest; different outputs make a new revision rN+1 (nothing is overwritten).
    Returns the manifest path."""
    from .config import load_config
    from .render.context import deliveries_used

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
    }
    path = target / "manifest.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return path
