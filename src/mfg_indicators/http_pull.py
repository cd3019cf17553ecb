"""HTTP pull: fetch a source's JSON endpoint and drop the body into the inbox as a delivery.

The endpoint is named by an Airflow Connection (default id ``mfg_feed_<source>``): ``schema`` is
the URL scheme (http/https, default http), ``host`` and ``port`` the server (a host given as a full
URL is used as is), extra ``{"endpoint": "/path"}`` the path, ``password`` a bearer token. The body
is ``{"records": [ {column: value, ...}, ... ]}`` with the same Chinese column names as the files.

The body is written unchanged to ``<inbox>/<source>/http-<UTC timestamp>.json`` so it follows the
same archive → read → validate → load path as a dropped file (and the same bytes pulled twice are
a duplicate delivery). Timeouts, connection errors and 5xx answers are retried a bounded number
of times with exponential backoff, then fail with a clear message; 4xx answers fail at once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from .feeds import SOURCES

log = logging.getLogger("mfg_indicators.http_pull")

DEFAULT_TIMEOUT = 30.0  # seconds, connect and read
DEFAULT_ATTEMPTS = 3
DEFAULT_BACKOFF = 2.0  # seconds before the 2nd attempt; doubles each time


class HttpPullError(RuntimeError):
    """The endpoint could not be pulled (after the retries, where retrying makes sense)."""


@dataclass(frozen=True)
class Endpoint:
    url: str
    token: str | None = None


def conn_id_for(source: str) -> str:
    return f"mfg_feed_{source}"


def endpoint_from_parts(host: str, *, schema: str | None = None, port: int | None = None,
                        path: str | None = None, token: str | None = None) -> Endpoint:
    host = (host or "").strip()
    if not host:
        raise HttpPullError("HTTP feed connection has no host")
    if "://" in host:
        base = host.rstrip("/")
    else:
        scheme = (schema or "http").strip() or "http"
        base = f"{scheme}://{host.rstrip('/')}"
        if port and ":" not in host:
            base += f":{int(port)}"
    if path:
        base += "/" + path.lstrip("/")
    return Endpoint(base, token or None)


def endpoint_from_connection(conn_id: str) -> Endpoint:
    """Resolve an Airflow Connection (metadata DB, secrets backend or AIRFLOW_CONN_* env)."""
    from airflow.sdk import Connection

    c = Connection.get(conn_id)
    extra = c.extra_dejson or {}
    return endpoint_from_parts(c.host or "", schema=c.schema, port=c.port,
                               path=extra.get("endpoint") or extra.get("path"), token=c.password)


def fetch(endpoint: Endpoint, *, timeout: float = DEFAULT_TIMEOUT, attempts: int = DEFAULT_ATTEMPTS,
          backoff: float = DEFAULT_BACKOFF, session=None) -> bytes:
    """GET the endpoint; the raw body on 200. Retries timeouts, connection errors and 5xx."""
    import requests

    http = session or requests.Session()
    headers = {"Accept": "application/json"}
    if endpoint.token:
        headers["Authorization"] = f"Bearer {endpoint.token}"
    last = ""
    for attempt in range(1, max(1, attempts) + 1):
        try:
            resp = http.get(endpoint.url, headers=headers, timeout=timeout)
        except requests.Timeout:
            last = f"timed out after {timeout:g} s"
        except requests.ConnectionError as exc:
            last = f"connection failed: {exc.__class__.__name__}"
        else:
            if resp.status_code == 200:
                return resp.content
            if 500 <= resp.status_code < 600:
                last = f"HTTP {resp.status_code} {resp.reason}"
            else:
                raise HttpPullError(f"GET {endpoint.url} answered HTTP {resp.status_code} {resp.reason}; "
                                    f"not retried (check the connection's URL and token)")
        log.warning("GET %s attempt %d/%d failed: %s", endpoint.url, attempt, attempts, last)
        if attempt < attempts:
            time.sleep(backoff * 2 ** (attempt - 1))
    raise HttpPullError(f"GET {endpoint.url} failed after {attempts} attempt(s): {last}")


def _record_count(body: bytes) -> int | None:
    """Number of records, or None when the body is not the expected JSON (the reader reports it)."""
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    recs = doc.get("records") if isinstance(doc, dict) else None
    return len(recs) if isinstance(recs, list) else None


def pull_to_inbox(source: str, inbox: Path | str, *, endpoint: Endpoint | None = None, conn_id: str | None = None,
                  timeout: float = DEFAULT_TIMEOUT, attempts: int = DEFAULT_ATTEMPTS,
                  backoff: float = DEFAULT_BACKOFF, now: dt.datetime | None = None, session=None) -> Path | None:
    """Pull one source into ``<inbox>/<source>/http-<UTC timestamp>.json``. Returns the file, or
    None when the endpoint has no records (nothing delivered). A body that is not the expected
    JSON is still written: the reader rejects it with a report, as for a bad file."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    ep = endpoint or endpoint_from_connection(conn_id or conn_id_for(source))
    body = fetch(ep, timeout=timeout, attempts=attempts, backoff=backoff, session=session)
    if _record_count(body) == 0:
        log.info("%s: %s has no records; nothing delivered", source, ep.url)
        return None
    folder = Path(inbox) / source
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = folder / f"http-{stamp}.json"
    n = 1
    while target.exists():
        n += 1
        target = folder / f"http-{stamp}-{n}.json"
    tmp = folder / f".{target.name}.tmp"  # hidden: find_deliveries ignores it until renamed
    tmp.write_bytes(body)
    os.replace(tmp, target)
    log.info("%s: pulled %d bytes from %s into %s", source, len(body), ep.url, target)
    return target


__all__ = ["Endpoint", "HttpPullError", "conn_id_for", "endpoint_from_connection", "endpoint_from_parts", "fetch",
           "pull_to_inbox"]
