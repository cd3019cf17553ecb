"""Delivering the bulletin: the e-mail (read back with the ``email`` package), sending through a
real SMTP server (aiosmtpd on loopback) via an Airflow connection from AIRFLOW_CONN_<ID>, the
.eml fallback, a send the server refuses, and the archive manifest."""

from __future__ import annotations

import contextlib
import email
import json
import socket
import uuid
from email import policy

import pytest

from mfg_indicators.config import load_config
from mfg_indicators.deliver import (BulletinNotSent, archive_bulletin, build_message, deliver_and_archive,
                                    send_bulletin, sha256_file, write_eml)
from mfg_indicators.sample.bulletin import render_sample

PERIOD = "2023-06"
SUBJECT = "【进展通报】云和县制造业“腾笼换鸟、凤凰涅槃”攻坚行动（2023年第6期）"
TITLE = "云和县制造业“腾笼换鸟、凤凰涅槃”攻坚行动进展情况通报（2023年第6期）"


@pytest.fixture(scope="module")
def config():
    return load_config()


@pytest.fixture(scope="module")
def bulletin(tmp_path_factory, config):
    out = render_sample(config, PERIOD, tmp_path_factory.mktemp("deliver"))
    yield out
    out["engine"].dispose()


def _check_message(msg, paths, *, sender: str | None = None):
    assert msg["Subject"] == SUBJECT
    assert msg["To"] == "zhxtz@example.gov.cn"
    if sender:
        assert msg["From"] == sender
    # attached under the Chinese title (RFC 2231), the ASCII name as the Content-Type fallback
    attachments = {p.get_filename(): p for p in msg.iter_attachments()}
    assert set(attachments) == {f"{TITLE}.docx", f"{TITLE}.pdf"}
    pdf, docx = attachments[f"{TITLE}.pdf"], attachments[f"{TITLE}.docx"]
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_content() == paths["pdf"].read_bytes()
    assert docx.get_content() == paths["docx"].read_bytes()
    assert (pdf.get_param("name"), docx.get_param("name")) == ("bulletin-2023-06.pdf", "bulletin-2023-06.docx")
    assert "filename*0*=utf-8''" in str(pdf.as_bytes(policy=policy.SMTP), "ascii")
    html_part = msg.get_body(("html",))
    html = html_part.get_content()
    assert '<html lang="zh-CN">' in html and "一、总体情况" in html and "第6期" in html
    assert "data:image/png" not in html
    # every cid: image of the body is a related part
    cids = {c for c in __import__("re").findall(r'src="cid:([^"]+)"', html)}
    assert len(cids) == 3
    related = {p["Content-ID"].strip("<>") for p in msg.walk() if p.get_content_type() == "image/png"}
    assert cids == related
    plain = msg.get_body(("plain",)).get_content()
    assert "2023年1—6月，攻坚行动纳入监测的主要指标共37项" in plain


def test_message_subject_body_attachments(bulletin, config):
    msg = build_message(bulletin["paths"], config, bulletin["doc"])
    parsed = email.message_from_bytes(msg.as_bytes(policy=policy.SMTP), policy=policy.default)
    _check_message(parsed, bulletin["paths"])


def test_eml_written_when_no_connection(bulletin, config, tmp_path, monkeypatch):
    conn_id = f"no_such_smtp_{uuid.uuid4().hex[:6]}"
    monkeypatch.delenv(f"AIRFLOW_CONN_{conn_id.upper()}", raising=False)
    out = send_bulletin(bulletin["paths"], config, bulletin["doc"], smtp_conn_id=conn_id, outbox=tmp_path / "outbox")
    assert out == tmp_path / "outbox" / "bulletin-2023-06.eml"
    parsed = email.message_from_bytes(out.read_bytes(), policy=policy.default)
    _check_message(parsed, bulletin["paths"])
    # and smtp_conn_id=None always writes the .eml (CLI `run`)
    assert write_eml(bulletin["paths"], config, bulletin["doc"], tmp_path / "cli").name == "bulletin-2023-06.eml"


class _Collector:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


class _Refuser(_Collector):
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        self.envelopes.append(envelope)
        return "554 5.7.1 Message refused by policy"


@contextlib.contextmanager
def _serve(handler):
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


@pytest.fixture
def smtp_server():
    with _serve(_Collector()) as served:
        yield served


def _smtp_connection_env(monkeypatch, conn_id: str, port: int) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(
        {"conn_type": "smtp", "host": "127.0.0.1", "port": port,
         "extra": {"disable_ssl": True, "disable_tls": True, "retry_limit": 0,
                   "from_email": "bulletin@yunhe.example.gov.cn"}}))


@pytest.mark.parametrize("form", ["json", "uri"])
def test_send_through_airflow_smtp_connection(bulletin, config, smtp_server, tmp_path, monkeypatch, form):
    port, handler = smtp_server
    conn_id = f"bulletin_smtp_{form}"
    if form == "json":
        value = json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": port,
                            "extra": {"disable_ssl": True, "disable_tls": True, "retry_limit": 0,
                                      "from_email": "bulletin@yunhe.example.gov.cn"}})
    else:
        value = (f"smtp://127.0.0.1:{port}/?disable_ssl=true&disable_tls=true&retry_limit=0"
                 "&from_email=bulletin%40yunhe.example.gov.cn")
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", value)
    result = send_bulletin(bulletin["paths"], config, bulletin["doc"], smtp_conn_id=conn_id,
                           outbox=tmp_path / "outbox")
    assert result is None
    assert not (tmp_path / "outbox").exists()
    assert len(handler.envelopes) == 1
    env = handler.envelopes[0]
    assert env.mail_from == "bulletin@yunhe.example.gov.cn"
    assert env.rcpt_tos == ["zhxtz@example.gov.cn"]
    received = email.message_from_bytes(env.original_content or env.content, policy=policy.default)
    _check_message(received, bulletin["paths"], sender="bulletin@yunhe.example.gov.cn")


def test_archive_manifest(bulletin, config, tmp_path):
    paths = dict(bulletin["paths"])
    paths["eml"] = write_eml(paths, config, bulletin["doc"], tmp_path / "eml")
    manifest_path = archive_bulletin(paths, bulletin["doc"], bulletin["engine"], tmp_path / "archive", config=config)
    assert manifest_path == tmp_path / "archive" / PERIOD / "r1" / "manifest.json"
    m = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert m["period"] == PERIOD and m["issue_number"] == 6 and m["issue_date"] == "2023-07-10"
    assert {d["sha256"] for d in m["inputs"]["deliveries"]} == set(bulletin["totals"]["deliveries"])
    assert len(m["inputs"]["indicators_document_sha256"]) == 64
    outputs = {o["name"]: o["sha256"] for o in m["outputs"]}
    assert set(outputs) >= {"bulletin-2023-06.docx", "bulletin-2023-06.pdf", "bulletin-2023-06.html",
                            "bulletin-2023-06.eml", "bulletin-2023-06-growth.png"}
    for name, sha in outputs.items():
        archived = manifest_path.parent / name
        assert sha256_file(archived) == sha
    # archiving the same outputs again: no new revision
    assert archive_bulletin(paths, bulletin["doc"], bulletin["engine"], tmp_path / "archive", config=config) == manifest_path
    # a changed output: a new revision, the old one kept
    changed = tmp_path / "bulletin-2023-06.html"
    changed.write_text(paths["html"].read_text(encoding="utf-8") + "<!-- 修订 -->", encoding="utf-8")
    second = archive_bulletin({**paths, "html": changed}, bulletin["doc"], bulletin["engine"],
                              tmp_path / "archive", config=config)
    assert second.parent.name == "r2" and manifest_path.exists()


def test_archive_takes_the_deliveries_the_bulletin_read(bulletin, config, tmp_path, monkeypatch):
    """render_bulletin hands its deliveries_used rows to the archive: no second scan of the core
    tables, the same manifest inputs; any other mapping (or another period) reads them anew."""
    import mfg_indicators.provenance as provenance_mod

    paths = bulletin["paths"]
    assert paths.period == PERIOD and paths.deliveries_used
    reference = archive_bulletin(dict(paths), bulletin["doc"], bulletin["engine"], tmp_path / "a", config=config)

    def no_scan(*_a, **_k):
        raise AssertionError("deliveries_used read again")

    monkeypatch.setattr(provenance_mod, "deliveries_used", no_scan)
    taken = archive_bulletin(paths, bulletin["doc"], bulletin["engine"], tmp_path / "b", config=config)
    ref, got = (json.loads(p.read_text(encoding="utf-8")) for p in (reference, taken))
    assert got["inputs"] == ref["inputs"]
    assert {d["sha256"] for d in got["inputs"]["deliveries"]} == set(bulletin["totals"]["deliveries"])
    assert got["outputs"] == ref["outputs"]

    with pytest.raises(AssertionError, match="read again"):
        archive_bulletin(dict(paths), bulletin["doc"], bulletin["engine"], tmp_path / "c", config=config)
    other = type(paths)(paths, period="2023-05", deliveries_used=paths.deliveries_used)
    with pytest.raises(AssertionError, match="read again"):
        archive_bulletin(other, bulletin["doc"], bulletin["engine"], tmp_path / "d", config=config)


def test_failed_send_is_archived_and_raised(bulletin, config, tmp_path, monkeypatch):
    """The server refuses the message: the bulletin is archived with the failed send recorded and
    the message kept (issued or not is never lost), then the task fails; the retry that goes
    through is recorded in the same revision (the bulletin did not change)."""
    conn_id = "bulletin_smtp_refusing"
    outbox, archive = tmp_path / "outbox", tmp_path / "archive"
    with _serve(_Refuser()) as (port, handler):
        _smtp_connection_env(monkeypatch, conn_id, port)
        with pytest.raises(BulletinNotSent, match="554"):
            deliver_and_archive(bulletin["paths"], config, bulletin["doc"], bulletin["engine"], archive,
                                smtp_conn_id=conn_id, outbox=outbox)
    assert len(handler.envelopes) == 1  # it was tried
    eml = outbox / "bulletin-2023-06.eml"
    kept = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    _check_message(kept, bulletin["paths"], sender="bulletin@yunhe.example.gov.cn")
    manifest = archive / PERIOD / "r1" / "manifest.json"
    m = json.loads(manifest.read_text(encoding="utf-8"))
    assert {o["name"] for o in m["outputs"]} >= {"bulletin-2023-06.docx", "bulletin-2023-06.pdf",
                                                  "bulletin-2023-06.html"}
    [attempt] = m["sending"]
    assert attempt["result"] == "failed" and attempt["via"] == f"smtp:{conn_id}"
    assert "554" in attempt["error"] and "refused" in attempt["error"]
    assert attempt["message_id"] == kept["Message-ID"].strip() and attempt["to"] == ["zhxtz@example.gov.cn"]
    assert attempt["subject"] == SUBJECT
    assert attempt["message"] == {"name": "sending/01-failed.eml", "sha256": sha256_file(eml)}
    assert sha256_file(manifest.parent / "sending" / "01-failed.eml") == sha256_file(eml)

    # send_bulletin alone: the same failure raised, the message kept in the outbox
    eml.unlink()
    with _serve(_Refuser()) as (port, _):
        _smtp_connection_env(monkeypatch, conn_id, port)
        with pytest.raises(BulletinNotSent, match="554"):
            send_bulletin(bulletin["paths"], config, bulletin["doc"], smtp_conn_id=conn_id, outbox=outbox)
    assert eml.exists()

    # the retry goes through: recorded after the failure, the failed message kept as it was
    with _serve(_Collector()) as (port, handler):
        _smtp_connection_env(monkeypatch, conn_id, port)
        delivery = deliver_and_archive(bulletin["paths"], config, bulletin["doc"], bulletin["engine"],
                                       archive, smtp_conn_id=conn_id, outbox=outbox)
    assert delivery.result == "sent" and delivery.manifest == manifest
    [envelope] = handler.envelopes
    received = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
    m2 = json.loads(manifest.read_text(encoding="utf-8"))
    assert [a["result"] for a in m2["sending"]] == ["failed", "sent"]
    assert m2["sending"][0] == attempt and m2["outputs"] == m["outputs"]
    assert m2["sending"][1]["message_id"] == received["Message-ID"].strip()  # (parsed: folded)
    # the .eml in the outbox and in the archive is the message the server received
    assert m2["sending"][1]["message"]["sha256"] == sha256_file(delivery.eml)
    assert email.message_from_bytes(delivery.eml.read_bytes(), policy=policy.default)["Message-ID"] \
        == received["Message-ID"]
    assert sha256_file(manifest.parent / "sending" / "01-failed.eml") == attempt["message"]["sha256"]


def test_deliver_without_connection_archives_the_written_message(bulletin, config, tmp_path):
    delivery = deliver_and_archive(bulletin["paths"], config, bulletin["doc"], bulletin["engine"],
                                   tmp_path / "archive", smtp_conn_id=None, outbox=tmp_path / "outbox")
    assert delivery.result == "written" and delivery.eml == tmp_path / "outbox" / "bulletin-2023-06.eml"
    m = json.loads(delivery.manifest.read_text(encoding="utf-8"))
    assert [(a["result"], a["via"]) for a in m["sending"]] == [("written", "eml")]
    assert m["sending"][0]["message"]["name"] == "sending/01-written.eml"
    # the same bulletin written again: the same revision, a second record
    again = deliver_and_archive(bulletin["paths"], config, bulletin["doc"], bulletin["engine"],
                                tmp_path / "archive", smtp_conn_id=None, outbox=tmp_path / "outbox")
    assert again.manifest == delivery.manifest
    assert len(json.loads(again.manifest.read_text(encoding="utf-8"))["sending"]) == 2
