"""HTTP pull against a real local HTTP server (pytest-httpserver): success with a bearer token
(then loaded through the normal ingest path), a 500 (retried, then a clear failure), recovery
after a 503, a timeout, a 401 that is not retried, and the Airflow Connection → URL mapping."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from werkzeug import Response

from mfg_indicators import feeds
from mfg_indicators.config import load_config
from mfg_indicators.extract import find_deliveries
from mfg_indicators.http_pull import (Endpoint, HttpPullError, endpoint_from_connection, endpoint_from_parts,
                                      pull_to_inbox)
from mfg_indicators.ingest import ingest_delivery

from test_ingest_support import core_rows, tax_rows, uscc

NOW = dt.datetime(2023, 7, 2, 1, 2, 3, tzinfo=dt.timezone.utc)


def _body(rows) -> dict:
    hs = list(feeds.TAX.headers)
    return {"records": [dict(zip(hs, r)) for r in rows]}


def test_pull_success_writes_delivery_and_loads(httpserver, tmp_path, engine):
    body = _body(tax_rows("2023-06", [1, 2]))
    httpserver.expect_request("/feeds/tax", headers={"Authorization": "Bearer s3cret"}).respond_with_json(body)
    ep = Endpoint(httpserver.url_for("/feeds/tax"), "s3cret")
    path = pull_to_inbox("tax", tmp_path / "inbox", endpoint=ep, now=NOW, backoff=0)
    assert path == tmp_path / "inbox" / "tax" / "http-20230702T010203Z.json"
    assert json.loads(path.read_text(encoding="utf-8")) == body
    # the pulled file follows the same path as a dropped one
    [d] = find_deliveries(tmp_path / "inbox", "tax")
    o = ingest_delivery(engine, d, config=load_config(), archive_dir=tmp_path / "archive",
                        quarantine_dir=tmp_path / "quarantine")
    assert o.status == "accepted", [f.message for f in o.findings]
    assert [r["period"] for r in core_rows(engine, "tax")] == ["2023-06", "2023-06"]
    # a second pull in the same second does not overwrite the first file
    again = pull_to_inbox("tax", tmp_path / "inbox", endpoint=ep, now=NOW, backoff=0)
    assert again.name == "http-20230702T010203Z-2.json" and path.exists()


def test_pull_500_is_retried_then_fails_clearly(httpserver, tmp_path):
    httpserver.expect_request("/tax").respond_with_data("boom", status=500)
    ep = Endpoint(httpserver.url_for("/tax"))
    with pytest.raises(HttpPullError) as exc:
        pull_to_inbox("tax", tmp_path, endpoint=ep, attempts=3, backoff=0.01)
    msg = str(exc.value)
    assert "HTTP 500" in msg and "3 attempt" in msg and ep.url in msg
    assert len(httpserver.log) == 3
    assert not (tmp_path / "tax").exists() or not any((tmp_path / "tax").iterdir())


def test_pull_recovers_after_a_503(httpserver, tmp_path):
    httpserver.expect_ordered_request("/tax").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/tax").respond_with_json(_body(tax_rows("2023-06", [1])))
    path = pull_to_inbox("tax", tmp_path, endpoint=Endpoint(httpserver.url_for("/tax")), backoff=0.01, now=NOW)
    assert path is not None and len(httpserver.log) == 2


def test_pull_timeout_is_retried_then_fails(httpserver, tmp_path):
    def slow(_request):
        time.sleep(0.6)
        return Response(json.dumps(_body([])), content_type="application/json")

    httpserver.expect_request("/tax").respond_with_handler(slow)
    t0 = time.perf_counter()
    with pytest.raises(HttpPullError, match=r"timed out after 0.2 s"):
        pull_to_inbox("tax", tmp_path, endpoint=Endpoint(httpserver.url_for("/tax")), timeout=0.2, attempts=2,
                      backoff=0.01)
    assert time.perf_counter() - t0 < 5  # bounded
    # let the server finish the abandoned requests so they do not leak into the next test's log
    deadline = time.monotonic() + 5
    while len(httpserver.log) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(httpserver.log) == 2  # both attempts reached the server


def test_pull_401_is_not_retried(httpserver, tmp_path):
    httpserver.expect_request("/tax").respond_with_data("no", status=401)
    with pytest.raises(HttpPullError, match="HTTP 401"):
        pull_to_inbox("tax", tmp_path, endpoint=Endpoint(httpserver.url_for("/tax")), attempts=3, backoff=0.01)
    assert len(httpserver.log) == 1


def test_pull_with_no_records_delivers_nothing(httpserver, tmp_path):
    httpserver.expect_request("/tax").respond_with_json({"records": []})
    assert pull_to_inbox("tax", tmp_path, endpoint=Endpoint(httpserver.url_for("/tax"))) is None
    assert find_deliveries(tmp_path, "tax") == []


def test_endpoint_from_airflow_connection(httpserver, tmp_path, monkeypatch):
    conn = {"conn_type": "http", "host": httpserver.host, "port": httpserver.port, "schema": "http",
            "password": "tok-123", "extra": {"endpoint": "/api/energy"}}
    monkeypatch.setenv("AIRFLOW_CONN_MFG_FEED_ENERGY", json.dumps(conn))
    ep = endpoint_from_connection("mfg_feed_energy")
    assert ep == Endpoint(f"http://{httpserver.host}:{httpserver.port}/api/energy", "tok-123")
    rows = [dict(zip(feeds.ENERGY.headers, [uscc(1), "甲", "2023-06", 1.5, 2]))]
    httpserver.expect_request("/api/energy", headers={"Authorization": "Bearer tok-123"}).respond_with_json(
        {"records": rows})
    path = pull_to_inbox("energy", tmp_path, now=NOW)  # conn id defaults to mfg_feed_energy
    assert path.parent == tmp_path / "energy" and json.loads(path.read_text(encoding="utf-8"))["records"] == rows


def test_endpoint_parts():
    assert endpoint_from_parts("feeds.example.gov.cn", schema="https", path="tax").url == \
        "https://feeds.example.gov.cn/tax"
    assert endpoint_from_parts("http://10.0.0.5:8080/", port=9999).url == "http://10.0.0.5:8080"
    with pytest.raises(HttpPullError):
        endpoint_from_parts("")


# --------------------------------------------------------------------------------------------
# A pull is no way into the machine: size after decompression, overall deadline, redirects


def test_gzip_answer_is_capped_once_decompressed(httpserver, tmp_path):
    import gzip

    bomb = gzip.compress(b" " * (16 * 2**20), 9)  # 16 MiB of spaces in a few KiB
    httpserver.expect_request("/tax").respond_with_data(
        bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
    with pytest.raises(HttpPullError, match="larger than 1,048,576 bytes once decompressed"):
        pull_to_inbox("tax", tmp_path, endpoint=Endpoint(httpserver.url_for("/tax")), max_bytes=2**20, backoff=0)
    assert len(httpserver.log) == 1  # refused, not retried
    assert not (tmp_path / "tax").exists() or not any((tmp_path / "tax").iterdir())


def test_declared_length_over_the_cap_is_refused_before_reading(httpserver, tmp_path):
    httpserver.expect_request("/tax").respond_with_data(b"x" * 5000)
    with pytest.raises(HttpPullError, match="5,000 bytes is over the limit of 1,000"):
        pull_to_inbox("tax", tmp_path, endpoint=Endpoint(httpserver.url_for("/tax")), max_bytes=1000)


def test_trickling_server_meets_the_overall_deadline(httpserver, tmp_path):
    def trickle(_request):
        def body():
            for _ in range(30):  # 30 bytes over ~3 s: each read is quick, the whole is not
                time.sleep(0.1)
                yield b" "
        return Response(body(), content_type="application/json")

    httpserver.expect_request("/tax").respond_with_handler(trickle)
    t0 = time.perf_counter()
    with pytest.raises(HttpPullError, match="within the pull's deadline of 1 s"):
        pull_to_inbox("tax", tmp_path, endpoint=Endpoint(httpserver.url_for("/tax")), timeout=2, deadline=1,
                      backoff=0)
    assert time.perf_counter() - t0 < 2.9  # the 3 s answer was cut (deadline plus at most one read)
    assert len(httpserver.log) <= 1  # not retried past the deadline (logged when the handler ends)


def test_redirect_to_another_host_is_refused(httpserver, tmp_path):
    other = httpserver.url_for("/stolen").replace("localhost", "127.0.0.1")
    assert other != httpserver.url_for("/stolen")
    httpserver.expect_request("/tax").respond_with_data("", status=302, headers={"Location": other})
    httpserver.expect_request("/stolen").respond_with_json(_body(tax_rows("2023-06", [1])))
    with pytest.raises(HttpPullError, match="redirected to another host"):
        pull_to_inbox("tax", tmp_path, endpoint=Endpoint(httpserver.url_for("/tax"), "s3cret"), backoff=0)
    assert [r.path for r, _ in httpserver.log] == ["/tax"]  # the token never went to the other host


def test_redirect_on_the_same_host_is_followed(httpserver, tmp_path):
    httpserver.expect_request("/tax").respond_with_data("", status=307, headers={"Location": "/v2/tax"})
    httpserver.expect_request("/v2/tax").respond_with_json(_body(tax_rows("2023-06", [1])))
    path = pull_to_inbox("tax", tmp_path, endpoint=Endpoint(httpserver.url_for("/tax")), now=NOW)
    assert path is not None and [r.path for r, _ in httpserver.log] == ["/tax", "/v2/tax"]


def test_hostile_json_answer_is_delivered_for_the_reader_to_reject(httpserver, tmp_path, engine):
    deep = "[" * 50_000 + "]" * 50_000
    httpserver.expect_request("/tax").respond_with_data(deep, content_type="application/json")
    path = pull_to_inbox("tax", tmp_path / "inbox", endpoint=Endpoint(httpserver.url_for("/tax")), now=NOW)
    [d] = find_deliveries(tmp_path / "inbox", "tax")
    o = ingest_delivery(engine, d, config=load_config(), archive_dir=tmp_path / "a", quarantine_dir=tmp_path / "q")
    assert path.name == d.name and o.status == "rejected" and [f.rule for f in o.errors] == ["json_too_deep"]


def test_server_trickling_its_headers_meets_the_deadline(tmp_path):
    """A raw server on loopback that sends its status line and headers a byte at a time."""
    import socket
    import threading

    srv = socket.create_server(("127.0.0.1", 0))
    port = srv.getsockname()[1]
    stop = threading.Event()

    def serve():
        conn, _ = srv.accept()
        with conn:
            conn.recv(4096)
            for b in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200:
                if stop.wait(0.05):
                    return
                try:
                    conn.sendall(bytes([b]))
                except OSError:  # the client shut its side
                    return

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(HttpPullError, match="deadline of 1 s"):
            pull_to_inbox("tax", tmp_path, endpoint=Endpoint(f"http://127.0.0.1:{port}/tax"), timeout=2, deadline=1,
                          backoff=0)
        assert time.perf_counter() - t0 < 2.9  # the ~10 s of headers were cut at the deadline
    finally:
        stop.set()
        t.join(5)
        srv.close()
