#!/usr/bin/env python3
"""make superset-check: Apache Superset on top of the statisticians' views, live on this machine.

Starts, against throwaway state, and stops and drops everything afterwards (also on failure):
  a county sample warehouse on a fresh PostgreSQL database, filled by the project's own CLI
  (`mfg-indicators sample`, `run` for 2023-01..SUPERSET_CHECK_MONTHS, `evaluate` for 2022);
  a login role in mfg_reader for Superset's warehouse connection (never the owner);
  Superset from its own virtualenv (.superset-venv, superset/requirements.lock) with its metadata
  in a second fresh database: `superset db upgrade`, `fab create-admin`, `init`, the dashboards/
  bundle imported by superset/provision.py, gunicorn on a free 127.0.0.1 port.
Then checks, as a user would:
  headless Chromium (Debian's chromium, driven over the DevTools protocol) types the admin login
  into the login form, opens 攻坚行动指标看板 and every chart must render with data (no error and
  no "no results" panel); a full-page screenshot goes to output/superset-check/dashboard.png;
  SQL Lab through the REST API: a SELECT on a view returns rows, an INSERT into a core table is
  refused by PostgreSQL, and the connection's role is a member of mfg_reader, not a superuser.
Prints `superset check: N passed, M failed`; exits 0 only when nothing failed.

Environment: PG_ADMIN_URL (default postgresql://127.0.0.1:5432/postgres), SUPERSET_CHECK_MONTHS
(default 6), SUPERSET_VENV (default .superset-venv), SUPERSET_CHECK_TIMEOUT (s, default 600),
SMOKE_KEEP=1 keeps the temp folder (logs) for inspection.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from smoke import PG_ADMIN_URL, Stack, free_port, pg_url, tail  # noqa: E402  (the smoke run's throwaway-state tools)

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
MFG = str(VENV_BIN / "mfg-indicators")
SUPERSET_VENV = Path(os.environ.get("SUPERSET_VENV") or ROOT / ".superset-venv")
MONTHS = int(os.environ.get("SUPERSET_CHECK_MONTHS", "6"))
TIMEOUT = int(os.environ.get("SUPERSET_CHECK_TIMEOUT", "600"))
OUT_DIR = ROOT / "output" / "superset-check"
DASHBOARD_SLUG = "mfg-indicators"
READER_ROLE = "mfg_reader"
T0 = time.monotonic()
RESULTS: list[tuple[bool, str]] = []


def log(msg: str) -> None:
    print(f"[superset-check {time.monotonic() - T0:6.1f}s] {msg}", flush=True)


def check(cond: bool, what: str, detail: str = "") -> bool:
    RESULTS.append((bool(cond), what))
    log(("OK    " if cond else "FAIL  ") + what + ("" if cond or not detail else f": {detail}"))
    return bool(cond)


class CheckFailed(Exception):
    pass


class SupersetStack(Stack):
    """The smoke run's throwaway-state bookkeeping and cleanup (processes, databases, temp folder,
    SMOKE_KEEP), plus the reader role. No SMTP server and no Redis here."""

    def __init__(self):
        super().__init__()
        self.roles: list[str] = []

    def create_database(self, label: str) -> str:
        import psycopg

        name = f"mfg_superset_{self.tag}_{label}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        self.databases.append(name)
        return name

    def create_reader_login(self, database: str) -> tuple[str, str]:
        import psycopg

        role, password = f"mfg_superset_{self.tag}_reader", secrets.token_urlsafe(18)
        with psycopg.connect(pg_url(database), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}' IN ROLE {READER_ROLE}")
        self.roles.append(role)
        return role, password

    def drop_databases(self) -> None:
        """The databases (the smoke run's way), then the reader login that had privileges there."""
        super().drop_databases()
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            for role in self.roles:
                admin.execute(f"DROP ROLE IF EXISTS {role}")
                log(f"dropped role {role}")
        self.roles.clear()

    def clean_redis(self) -> None:
        """No Redis here: nothing to clean (the smoke run's cleanup calls this)."""


def run(args: list[str], env: dict[str, str], logfile: Path, timeout: float = 300) -> None:
    logfile.parent.mkdir(parents=True, exist_ok=True)
    with open(logfile, "ab") as fh:
        rc = subprocess.run(args, env=env, stdout=fh, stderr=subprocess.STDOUT, timeout=timeout,
                            cwd=logfile.parent).returncode
    if rc != 0:
        raise CheckFailed(f"{' '.join(args[:3])} exited {rc}; log tail:\n{tail(logfile)}")


# --- the warehouse ---------------------------------------------------------------------------------

def build_warehouse(stack: SupersetStack) -> tuple[str, str]:
    name = stack.create_database("warehouse")
    url = pg_url(name)
    env = {**os.environ, "MFG_VAR_DIR": str(stack.tmp / "var")}
    inbox, out, logs = stack.tmp / "inbox", stack.tmp / "out", stack.tmp / "logs"
    run([MFG, "sample", "--out", str(inbox)], env, logs / "pipeline.log")
    for m in range(1, MONTHS + 1):
        run([MFG, "run", "--period", f"2023-{m:02d}", "--inbox", str(inbox), "--out", str(out),
             "--warehouse", url], env, logs / "pipeline.log")
    run([MFG, "evaluate", "--year", "2022", "--warehouse", url, "--out", str(out)], env, logs / "pipeline.log")
    log(f"warehouse {name}: sample county, 2023-01..2023-{MONTHS:02d} computed, 2022 evaluated")
    return name, url


# --- Superset ----------------------------------------------------------------------------------------

def start_superset(stack: SupersetStack, warehouse_db: str) -> tuple[str, str]:
    meta = stack.create_database("superset_meta")
    role, role_password = stack.create_reader_login(warehouse_db)
    admin_password = secrets.token_urlsafe(12)
    port = free_port()
    env = {
        **os.environ,
        "SUPERSET_CONFIG_PATH": str(ROOT / "superset" / "superset_config.py"),
        "SUPERSET_SECRET_KEY": secrets.token_urlsafe(42),
        "SUPERSET_METADATA_DB_URI": pg_url(meta, "postgresql+psycopg2"),
        "SUPERSET_WAREHOUSE_URI": reader_uri(warehouse_db, role, role_password),
        "FLASK_APP": "superset",
        "PYTHONUNBUFFERED": "1",
    }
    bin_ = SUPERSET_VENV / "bin"
    logs = stack.tmp / "logs"
    run([str(bin_ / "superset"), "db", "upgrade"], env, logs / "superset-init.log")
    run([str(bin_ / "superset"), "fab", "create-admin", "--username", "admin", "--firstname", "管理员",
         "--lastname", "系统", "--email", "admin@example.gov.cn", "--password", admin_password],
        env, logs / "superset-init.log")
    run([str(bin_ / "superset"), "init"], env, logs / "superset-init.log")
    run([str(bin_ / "python"), str(ROOT / "superset" / "provision.py"), "--admin", "admin"],
        env, logs / "superset-init.log")
    log("superset: metadata migrated, admin created, bundle imported")
    stack.start("superset", [str(bin_ / "gunicorn"), "-w", "2", "--threads", "4", "--timeout", "120",
                             "-b", f"127.0.0.1:{port}", "superset.app:create_app()"], env)
    base = f"http://127.0.0.1:{port}"
    _wait_http(stack, base + "/health", 90)
    log(f"superset serving on {base}")
    return base, admin_password


def reader_uri(database: str, role: str, password: str) -> str:
    """The warehouse as Superset's connection sees it: the reader login on PG_ADMIN_URL's server."""
    from urllib.parse import urlsplit

    parts = urlsplit(PG_ADMIN_URL)
    return (f"postgresql+psycopg2://{role}:{password}@{parts.hostname or '127.0.0.1'}:{parts.port or 5432}"
            f"/{database}")


def _wait_http(stack: SupersetStack, url: str, seconds: float) -> None:
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        stack.assert_running()
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise CheckFailed(f"{url} did not answer within {seconds:.0f} s")


# --- the browser -------------------------------------------------------------------------------------

class Browser:
    """Headless Chromium over the DevTools protocol (one page; websockets' sync client)."""

    def __init__(self, stack: SupersetStack):
        self.profile = stack.tmp / "chromium-profile"
        self.profile.mkdir()
        args = ["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", f"--user-data-dir={self.profile}", "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0", "--window-size=1600,2000", "--lang=zh-CN", "about:blank"]
        stack.start("chromium", args, os.environ.copy())
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline:
                raise CheckFailed("chromium did not open its DevTools port")
            time.sleep(0.2)
        port = int(port_file.read_text().splitlines()[0])
        import requests
        from websockets.sync.client import connect

        pages = [t for t in requests.get(f"http://127.0.0.1:{port}/json/list", timeout=5).json()
                 if t["type"] == "page"]
        self.ws = connect(pages[0]["webSocketDebuggerUrl"], max_size=None, open_timeout=10).__enter__()
        self.seq = 0
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Emulation.setDeviceMetricsOverride", width=1600, height=2000, deviceScaleFactor=1, mobile=False)

    def send(self, method: str, **params):
        self.seq += 1
        self.ws.send(json.dumps({"id": self.seq, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=60))
            if msg.get("id") == self.seq:
                if "error" in msg:
                    raise CheckFailed(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def js(self, expression: str):
        res = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise CheckFailed(f"javascript failed: {res['exceptionDetails'].get('text')}")
        return res["result"].get("value")

    def goto(self, url: str) -> None:
        self.js("window.__leaving = true")  # gone once the new document is there
        self.send("Page.navigate", url=url)
        if not self.wait_for("!window.__leaving && document.readyState === 'complete'", 60):
            raise CheckFailed(f"{url} did not load")

    def wait_for(self, expression: str, seconds: float):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.5)
        return None

    def type_into(self, selector: str, text: str) -> None:
        self.js(f"document.querySelector({json.dumps(selector)}).focus()")
        self.send("Input.insertText", text=text)

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001 - the process is stopped by the stack anyway
            pass


# What a chart holder shows when its query failed or came back empty (English and Chinese UI).
_CHART_STATE_JS = r"""
(() => {
  const holders = [...document.querySelectorAll('.dashboard-component-chart-holder')];
  return holders.map(h => {
    const title = (h.querySelector('[data-test="editable-title"], .header-title, .editable-title') || {}).innerText || '';
    const text = h.innerText || '';
    const error = !!h.querySelector('.alert-danger, .ant-alert-error, [data-test="chart-error"], .error-alert')
                  || /Data error|Unexpected error|数据错误|意外错误|错误：/.test(text);
    const empty = /No results|No data|没有结果|无结果|没有数据返回|未返回任何结果/.test(text)
                  && !h.querySelector('canvas, table tbody tr');
    const loading = !!h.querySelector('.loading, [data-test="loading-indicator"], [aria-label="Loading"]');
    const drawn = !!h.querySelector('canvas, svg.superset-legacy-chart, table tbody tr');
    const rows = h.querySelectorAll('table tbody tr').length;
    return {title: title.trim(), error, empty, loading, drawn, rows, text: text.slice(0, 200)};
  });
})()
"""


def check_dashboard(stack: SupersetStack, base: str, password: str, expected_charts: int) -> None:
    browser = Browser(stack)
    try:
        browser.goto(base + "/login/")
        if not browser.wait_for("!!document.querySelector('[data-test=\"login-button\"]')", 60):
            raise CheckFailed("login form not shown")
        browser.type_into("#username", "admin")
        browser.type_into("#password", password)
        browser.js("document.querySelector('[data-test=\"login-button\"]').click()")
        logged_in = browser.wait_for("!location.pathname.startsWith('/login')", 60)
        check(bool(logged_in), "chromium logged in through the login form")
        browser.goto(f"{base}/superset/dashboard/{DASHBOARD_SLUG}/")
        title = browser.wait_for("(document.querySelector('[data-test=\"editable-title\"] , .dashboard-header "
                                 "[data-test=\"editable-title-input\"], title') || {}).innerText || document.title", 30)
        settled = browser.wait_for(
            f"(() => {{ const s = {_CHART_STATE_JS}; return s.length >= {expected_charts} && "
            "s.every(c => !c.loading && (c.drawn || c.error || c.empty)); })()", 120)
        time.sleep(2)  # let the ECharts animations end before the screenshot
        states = browser.js(_CHART_STATE_JS) or []
        shot = OUT_DIR / "dashboard.png"
        browser.screenshot(shot)
        log(f"screenshot: {shot.relative_to(ROOT)}")
        check("攻坚行动指标看板" in (browser.js("document.body.innerText") or ""),
              "dashboard 攻坚行动指标看板 opened", str(title))
        check(bool(settled), f"all {expected_charts} charts finished loading",
              json.dumps(states, ensure_ascii=False)[:600])
        check(len(states) == expected_charts, f"{expected_charts} charts on the dashboard", f"found {len(states)}")
        for s in states:
            check(s["drawn"] and not s["error"] and not s["empty"],
                  f"chart rendered with data: {s['title'] or '?'}", s["text"])
    finally:
        browser.close()


# --- SQL Lab through the REST API ------------------------------------------------------------------

def check_sql_lab(base: str, password: str, warehouse_db: str) -> None:
    import requests

    s = requests.Session()
    token = s.post(base + "/api/v1/security/login", timeout=30,
                   json={"username": "admin", "password": password, "provider": "db", "refresh": False}
                   ).json()["access_token"]
    s.headers.update({"Authorization": f"Bearer {token}", "Referer": base})
    s.headers["X-CSRFToken"] = s.get(base + "/api/v1/security/csrf_token/", timeout=30).json()["result"]
    dbs = s.get(base + "/api/v1/database/", timeout=30).json()["result"]
    wh = [d for d in dbs if d["database_name"] == "攻坚行动数据仓库"]
    if not check(len(wh) == 1 and wh[0].get("expose_in_sqllab"), "warehouse connection available in SQL Lab"):
        return

    def execute(sql: str) -> tuple[int, dict]:
        r = s.post(base + "/api/v1/sqllab/execute/", timeout=120,
                   json={"database_id": wh[0]["id"], "sql": sql, "runAsync": False, "schema": "public",
                         "client_id": secrets.token_hex(5)})
        return r.status_code, r.json()

    code, body = execute("SELECT town, SUM(tax) / SUM(land_mu) AS tax_per_mu FROM v_per_mu_evaluated_set"
                         " WHERE tax_in = 1 AND period = (SELECT MAX(period) FROM v_per_mu_evaluated_set)"
                         " GROUP BY town")
    check(code == 200 and len(body.get("data") or []) > 0, "SQL Lab: SELECT on v_per_mu_evaluated_set returns rows",
          f"{code} {json.dumps(body, ensure_ascii=False)[:300]}")
    # (SQL Lab itself refuses current_user and friends: ask Superset which login its connection
    # uses, and PostgreSQL what that role may do.)
    uri = s.get(f"{base}/api/v1/database/{wh[0]['id']}/connection", timeout=30).json()["result"].get(
        "sqlalchemy_uri", "")
    login = re.match(r"^[^:]+://([^:@/]+)", uri)
    role = login.group(1) if login else ""
    import psycopg

    with psycopg.connect(pg_url(warehouse_db), autocommit=True, connect_timeout=5) as conn:
        member, superuser, owner = conn.execute(
            "SELECT pg_has_role(%s, 'mfg_reader', 'MEMBER'), r.rolsuper,"
            " (SELECT tableowner FROM pg_tables WHERE tablename = 'core_tax')"
            " FROM pg_roles r WHERE r.rolname = %s", (role, role)).fetchone() or (False, True, role)
    check(bool(role) and member and not superuser and owner != role,
          f"SQL Lab's connection logs in as {role or '?'}: a member of mfg_reader, not the owner",
          f"uri={uri} member={member} superuser={superuser} owner={owner}")
    code, body = execute("INSERT INTO core_tax (uscc, period, total_tax, delivery_id)"
                         " VALUES ('X', '2023-01', 1, 'superset-check')")
    text = json.dumps(body, ensure_ascii=False)
    check(code != 200 and "permission denied for table core_tax" in text,
          "SQL Lab: INSERT into core_tax refused by PostgreSQL", f"{code} {text[:300]}")


def expected_chart_count() -> int:
    return len(list((ROOT / "dashboards" / "charts").glob("*.yaml")))


def main() -> int:
    if not (SUPERSET_VENV / "bin" / "superset").exists():
        print(f"no Superset in {SUPERSET_VENV}: run `make superset-check` (it creates the virtualenv)",
              file=sys.stderr)
        return 2
    stack = SupersetStack()

    def on_alarm(signum, frame):  # noqa: ARG001
        raise CheckFailed(f"timed out after {TIMEOUT} s")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TIMEOUT)
    try:
        warehouse_db, _ = build_warehouse(stack)
        base, password = start_superset(stack, warehouse_db)
        check_dashboard(stack, base, password, expected_chart_count())
        check_sql_lab(base, password, warehouse_db)
    except (CheckFailed, subprocess.TimeoutExpired) as exc:
        check(False, "superset check ran to the end", str(exc))
    except Exception as exc:  # noqa: BLE001 - counted as a failure, and everything is still cleaned up
        check(False, "superset check ran to the end", repr(exc))
    except KeyboardInterrupt:
        check(False, "superset check ran to the end", "interrupted")
    finally:
        signal.alarm(0)
        stack.cleanup()
    passed = sum(ok for ok, _ in RESULTS)
    failed = len(RESULTS) - passed
    print(f"superset check: {passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
