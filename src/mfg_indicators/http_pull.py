"""HTTP pull: fetch a source's JSON endpoint and drop the body into the inbox as a delivery.

The endpoint is named by an Airflow Connection (default id ``mfg_feed_<source>``): ``schema`` is
the URL scheme (http/https, default http), ``host`` and ``port`` the server (a host given as a full
URL is used as is), extra ``{"endpoint": "/path"}`` the path, ``password`` a bearer token. The body
is ``{"records": [ {column: value, ...}, ... ]}`` with the same Chinese column names as the files.

The body is written unchanged to ``<inbox>/<source>/http-<UTC timestamp>.json`` so it follows the
same archive → read → validate → load path as a dropped file (and the same bytes pulled twice are
a duplicate delivery).

A pull is no way into the machine: the answer is read as a stream and refused past
``max_bytes`` once decompressed (a small gzip answer cannot fill the disk); every pull has an
overall ``deadline`` (all attempts and waits; a server trickling its headers or body byte by byte
has its connection shut at the deadline); a redirect is followed only to the same scheme, host and
port (never to another host, where the token would go); at most MAX_REDIRECTS of them.

Retry policy (the only one for a pull): timeouts, connection errors and 5xx answers are retried
here, ``attempts`` in all with exponential backoff (``backoff`` seconds before the 2nd attempt,
doubling), within the deadline, then fail with a clear message; 4xx answers, refused redirects and
oversized answers fail at once. The scheduler should not retry the pull task on top of this.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from .extract import DEFAULT_LIMITS, load_json
from .feeds import SOURCES

log = logging.getLogger("mfg_indicators.http_pull")

DEFAULT_TIMEOUT = 30.0  # seconds, connect and each read
DEFAULT_ATTEMPTS = 3
DEFAULT_BACKOFF = 2.0  # seconds before the 2nd attempt; doubles each time
DEFAULT_DEADLINE = 300.0  # seconds for the whole pull: every attempt, read and wait
MAX_BODY_BYTES = DEFAULT_LIMITS.max_json_bytes  # decompressed; the readers' limit for a JSON delivery
MAX_REDIRECTS = 5
_CHUNK = 1 << 16


class HttpPullError(RuntimeError):
    """The endpoint could not be pulled (after the retries, where retrying makes sense)."""


class _Transient(Exception):
    """One attempt failed in a way another attempt may not (timeout, connection, 5xx)."""


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


def _origin(url: str) -> tuple[str, str, int | None]:
    u = urlsplit(url)
    scheme = u.scheme.lower()
    return scheme, (u.hostname or "").lower(), u.port or {"http": 80, "https": 443}.get(scheme)


class _Watch:
    """The sockets one pull opened, shut when its deadline passes (a read blocked on a server that
    sends a byte now and then returns at once)."""

    def __init__(self) -> None:
        self.sockets: list[socket.socket] = []
        self.fired = False
        self._lock = threading.Lock()

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self.sockets.append(sock)
            if self.fired:
                self._shut(sock)

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self.sockets:
                self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _watched_adapter(watch: _Watch):
    """A requests adapter whose connections register their sockets with ``watch`` (no retries of
    its own: the one retry policy is fetch's)."""
    import requests.adapters
    import urllib3.connection
    import urllib3.connectionpool

    def watched(base):
        class Connection(base):
            def _new_conn(self):
                sock = super()._new_conn()
                watch.add(sock)
                return sock
        return Connection

    class HTTPPool(urllib3.connectionpool.HTTPConnectionPool):
        ConnectionCls = watched(urllib3.connection.HTTPConnection)

    class HTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
        ConnectionCls = watched(urllib3.connection.HTTPSConnection)

    class Adapter(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": HTTPPool, "https": HTTPSPool}

    return Adapter(max_retries=0)


def fetch(endpoint: Endpoint, *, timeout: float = DEFAULT_TIMEOUT, attempts: int = DEFAULT_ATTEMPTS,
          backoff: float = DEFAULT_BACKOFF, deadline: float = DEFAULT_DEADLINE, max_bytes: int = MAX_BODY_BYTES,
          session=None) -> bytes:
    """GET the endpoint; the raw (decompressed) body on 200. See the module docstring for the
    retry policy and the limits."""
    import requests
    import tenacity

    http = session or requests.Session()
    watch = _Watch()
    adapter = _watched_adapter(watch)
    http.mount("http://", adapter)
    http.mount("https://", adapter)
    headers = {"Accept": "application/json"}
    if endpoint.token:
        headers["Authorization"] = f"Bearer {endpoint.token}"
    ends = time.monotonic() + deadline
    late = f"GET {endpoint.url}: no complete answer within the pull's deadline of {deadline:g} s; refused"

    def attempt() -> bytes:
        if time.monotonic() >= ends:
            raise HttpPullError(late)
        try:
            return _get(http, endpoint.url, headers, timeout, ends, late, max_bytes)
        except _Transient:
            if watch.fired:
                raise HttpPullError(late) from None
            raise

    def before_sleep(state: tenacity.RetryCallState) -> None:
        log.warning("GET %s attempt %d/%d failed: %s", endpoint.url, state.attempt_number, attempts,
                    state.outcome.exception())

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(max(1, attempts)) | tenacity.stop_before_delay(deadline),
        wait=tenacity.wait_exponential(multiplier=backoff, exp_base=2, min=0, max=max(backoff, 0) * 2 ** 10),
        retry=tenacity.retry_if_exception_type(_Transient), before_sleep=before_sleep, reraise=True)
    timer = threading.Timer(deadline, watch.fire)
    timer.daemon = True
    timer.start()
    try:
        return retrying(attempt)
    except _Transient as exc:
        n = retrying.statistics.get("attempt_number", attempts)
        raise HttpPullError(f"GET {endpoint.url} failed after {n} attempt(s): {exc}") from None
    finally:
        timer.cancel()
        adapter.close()


def _get(http, url: str, headers: dict, timeout: float, ends: float, late: str, max_bytes: int) -> bytes:
    """One attempt: the GET, same-origin redirects, and the body read against the limits."""
    import requests

    origin = _origin(url)
    for _ in range(MAX_REDIRECTS + 1):
        try:
            resp = http.get(url, headers=headers, timeout=max(0.001, min(timeout, ends - time.monotonic())),
                            stream=True, allow_redirects=False)
        except requests.Timeout:
            raise _Transient(f"timed out after {timeout:g} s") from None
        except requests.ConnectionError as exc:
            raise _Transient(f"connection failed: {exc.__class__.__name__}") from None
        with resp:
            if resp.is_redirect:
                target = urljoin(url, resp.headers["Location"])
                if _origin(target) != origin:
                    raise HttpPullError(f"GET {url} redirected to another host ({_origin(target)[1] or target}); "
                                        f"refused (a feed answers from its own host)")
                url = target
                continue
            if resp.status_code == 200:
                return _read_body(resp, url, timeout, ends, late, max_bytes)
            if 500 <= resp.status_code < 600:
                raise _Transient(f"HTTP {resp.status_code} {resp.reason}")
            raise HttpPullError(f"GET {url} answered HTTP {resp.status_code} {resp.reason}; "
                                f"not retried (check the connection's URL and token)")
    raise HttpPullError(f"GET {url}: more than {MAX_REDIRECTS} redirects; refused")


def _read_body(resp, url: str, timeout: float, ends: float, late: str, max_bytes: int) -> bytes:
    import requests
    import urllib3.exceptions

    declared = resp.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise HttpPullError(f"GET {url}: answer of {int(declared):,} bytes is over the limit of {max_bytes:,}; refused")
    body = bytearray()
    try:
        while True:
            if time.monotonic() > ends:
                raise HttpPullError(f"{late} ({len(body):,} bytes had arrived)")
            # read1: whatever has arrived (at most _CHUNK bytes once decompressed); a read still
            # blocked at the deadline ends when the watch shuts the socket.
            chunk = resp.raw.read1(_CHUNK, decode_content=True)
            if not chunk:
                if time.monotonic() >= ends:  # the end of a socket shut at the deadline
                    raise HttpPullError(f"{late} ({len(body):,} bytes had arrived)")
                return bytes(body)
            body += chunk
            if len(body) > max_bytes:
                raise HttpPullError(f"GET {url}: answer larger than {max_bytes:,} bytes once decompressed; refused")
    except (urllib3.exceptions.ReadTimeoutError, requests.Timeout):
        raise _Transient(f"timed out after {timeout:g} s") from None
    except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as exc:
        raise _Transient(f"answer broken off: {exc.__class__.__name__}") from None


def _record_count(body: bytes) -> int | None:
    """Number of records, or None when the body is not the expected JSON (the reader reports it)."""
    try:
        doc = load_json(body)
    except (UnicodeDecodeError, LookupError, ValueError):  # JSONDecodeError and JsonLimitError among them
        return None
    recs = doc.get("records") if isinstance(doc, dict) else None
    return len(recs) if isinstance(recs, list) else None


def pull_to_inbox(source: str, inbox: Path | str, *, endpoint: Endpoint | None = None, conn_id: str | None = None,
                  timeout: float = DEFAULT_TIMEOUT, attempts: int = DEFAULT_ATTEMPTS,
                  backoff: float = DEFAULT_BACKOFF, deadline: float = DEFAULT_DEADLINE,
                  max_bytes: int = MAX_BODY_BYTES, now: dt.datetime | None = None, session=None) -> Path | None:
    """Pull one source into ``<inbox>/<source>/http-<UTC timestamp>.json``. Returns the file, or
    None when the endpoint has no records (nothing delivered). A body that is not the expected
    JSON is still written: the reader rejects it with a report, as for a bad file."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    ep = endpoint or endpoint_from_connection(conn_id or conn_id_for(source))
    body = fetch(ep, timeout=timeout, attempts=attempts, backoff=backoff, deadline=deadline, max_bytes=max_bytes,
                 session=session)
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


__all__ = ["DEFAULT_DEADLINE", "MAX_BODY_BYTES", "Endpoint", "HttpPullError", "conn_id_for", "endpoint_from_connection", "endpoint_from_parts", "fetch",
           "pull_to_inbox"]
