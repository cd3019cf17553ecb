#!/usr/bin/env python3
"""make smoke: the compose deployment's shape, live on this machine, without Docker.

Starts, as background processes against throwaway state:
  PostgreSQL (local server, 127.0.0.1:5432, trust auth): a fresh Airflow metadata DB and a fresh
  warehouse DB;  Redis (127.0.0.1:6379) as Celery broker on a private queue, result backend = the
  metadata DB;  an SMTP server (aiosmtpd on loopback);  airflow api-server, scheduler,
  dag-processor, triggerer and a Celery worker (CeleryExecutor), with SimpleAuthManager.
Then: drops the sample inbox in, unpauses the DAGs, triggers the feed DAGs and the month through
the REST API (JWT from /auth/token), awaits success, checks the outputs, the warehouse and the
e-mails received; checks the late-feeds alert and a rejected delivery (department e-mail +
failure e-mail from the Celery worker); dry-runs and runs `airflow backfill create`. Everything is
stopped and dropped on exit (also on error, timeout or Ctrl-C). Exit 0 only when every check held.

Environment: SMOKE_TIMEOUT (s, default 1500), PG_ADMIN_URL (default
postgresql://127.0.0.1:5432/postgres), SMOKE_REDIS_URL (default redis://127.0.0.1:6379/15),
SMOKE_PERIOD (default 2023-12), SMOKE_KEEP=1 keeps the temp folder (logs) for inspection.
"""

from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
AIRFLOW = str(VENV_BIN / "airflow")
TIMEOUT = int(os.environ.get("SMOKE_TIMEOUT", "1500"))
PG_ADMIN_URL = os.environ.get("PG_ADMIN_URL", "postgresql://127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("SMOKE_REDIS_URL", "redis://127.0.0.1:6379/15")
PERIOD = os.environ.get("SMOKE_PERIOD", "2023-12")
SH = ZoneInfo("Asia/Shanghai")
T0 = time.monotonic()


class SmokeFailed(Exception):
    pass


class Timeout(BaseException):
    pass


def log(msg: str) -> None:
    print(f"[smoke {time.monotonic() - T0:7.1f}s] {msg}", flush=True)


def check(cond: bool, what: str) -> None:
    if not cond:
        raise SmokeFailed(what)
    log(f"OK  {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_url(dbname: str, driver: str = "postgresql") -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(PG_ADMIN_URL)
    user = parts.username or os.environ.get("PGUSER") or os.environ.get("USER") or "root"
    cred = user + (f":{parts.password}" if parts.password else "")
    return f"{driver}://{cred}@{parts.hostname or '127.0.0.1'}:{parts.port or 5432}/{dbname}"


# --- the pieces, each with its own cleanup ---------------------------------------------------------

class Stack:
    def __init__(self):
        self.tag = uuid.uuid4().hex[:8]
        self.tmp = Path(tempfile.mkdtemp(prefix=f"mfg-smoke-{self.tag}-"))
        self.procs: list[tuple[str, subprocess.Popen, Path]] = []
        self.databases: list[str] = []
        self.smtp = None
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.queue = f"mfg_smoke_{self.tag}"
        self.redis_before: set[str] = set()
        self.ok = False

    # PostgreSQL
    def create_databases(self) -> tuple[str, str]:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            names = []
            for label in ("airflow", "warehouse"):
                name = f"mfg_smoke_{self.tag}_{label}"
                admin.execute(f'CREATE DATABASE "{name}"')
                self.databases.append(name)
                names.append(name)
        return names[0], names[1]

    def drop_databases(self) -> None:
        if not self.databases:
            return
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            for name in self.databases:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                log(f"dropped database {name}")
        self.databases.clear()

    # SMTP
    def start_smtp(self) -> int:
        from aiosmtpd.controller import Controller

        stack = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                               policy=email.policy.default)
                stack.messages.append((list(envelope.rcpt_tos), msg))
                return "250 OK"

        port = free_port()
        self.smtp = Controller(Handler(), hostname="127.0.0.1", port=port)
        self.smtp.start()
        return port

    # processes
    def start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        logfile = self.tmp / "logs" / f"{name}.log"
        logfile.parent.mkdir(parents=True, exist_ok=True)
        fh = open(logfile, "wb")
        proc = subprocess.Popen(args, env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=self.tmp,
                                start_new_session=True)
        self.procs.append((name, proc, logfile))
        log(f"started {name} (pid {proc.pid})")

    def assert_running(self) -> None:
        for name, proc, logfile in self.procs:
            if proc.poll() is not None:
                raise SmokeFailed(f"{name} exited with {proc.returncode}; log tail:\n{tail(logfile)}")

    def stop_processes(self) -> None:
        for name, proc, _ in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)  # the group we created for this child
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 30
        for name, proc, _ in reversed(self.procs):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=10)
            log(f"stopped {name}")
        self.procs.clear()

    def cleanup(self) -> None:
        for step in (self.stop_processes, self.stop_smtp, self.drop_databases, self.clean_redis):
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - keep cleaning up
                print(f"[smoke] cleanup step {step.__name__} failed: {exc}", file=sys.stderr)
        if os.environ.get("SMOKE_KEEP") == "1":
            log(f"kept {self.tmp} (SMOKE_KEEP=1)")
            return
        shutil.rmtree(self.tmp, ignore_errors=True)

    def stop_smtp(self) -> None:
        if self.smtp is not None:
            self.smtp.stop()
            self.smtp = None

    def clean_redis(self) -> None:
        import redis

        r = redis.Redis.from_url(REDIS_URL)
        # our queue's keys, and kombu bindings this run created (e.g. Airflow's deadlines queue)
        keys = {self.queue, f"_kombu.binding.{self.queue}"} | {k.decode() for k in r.scan_iter(f"*{self.queue}*")}
        keys |= {k.decode() for k in r.scan_iter("_kombu.binding*")} - self.redis_before
        if keys:
            r.delete(*keys)


def tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


# --- REST API -------------------------------------------------------------------------------------

class Api:
    def __init__(self, base: str, password: str):
        import requests

        self.base = base
        self.password = password
        self.s = requests.Session()
        self.token_at = 0.0

    def login(self) -> None:
        r = self.s.post(f"{self.base}/auth/token", json={"username": "admin", "password": self.password}, timeout=30)
        if r.status_code not in (200, 201):
            raise SmokeFailed(f"/auth/token: {r.status_code} {r.text[:300]}")
        self.s.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        self.token_at = time.monotonic()

    def call(self, method: str, path: str, **kw):
        if time.monotonic() - self.token_at > 600:
            self.login()
        r = self.s.request(method, f"{self.base}/api/v2{path}", timeout=60, **kw)
        if r.status_code >= 400:
            raise SmokeFailed(f"{method} {path}: {r.status_code} {r.text[:500]}")
        return r.json() if r.content else None

    def trigger(self, dag_id: str, logical_date: str | None = None, conf: dict | None = None) -> str:
        body = {"logical_date": logical_date, "conf": conf or {}}
        run = self.call("POST", f"/dags/{dag_id}/dagRuns", json=body)
        log(f"triggered {dag_id} run {run['dag_run_id']} (logical_date {logical_date})")
        return run["dag_run_id"]

    def wait_runs(self, runs: list[tuple[str, str]], stack: Stack, expect: str = "success") -> dict:
        pending = dict.fromkeys(runs)
        states = {}
        while pending:
            stack.assert_running()
            for dag_id, run_id in list(pending):
                st = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]
                if st in ("success", "failed"):
                    states[(dag_id, run_id)] = st
                    pending.pop((dag_id, run_id))
                    log(f"{dag_id} {run_id}: {st}")
            if pending:
                time.sleep(3)
        bad = {k: v for k, v in states.items() if v != expect}
        if bad:
            details = []
            for (dag_id, run_id), st in bad.items():
                tis = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
                details.append(f"{dag_id}/{run_id}: {st}: " + ", ".join(f"{t['task_id']}={t['state']}" for t in tis))
            raise SmokeFailed(f"runs not {expect}:\n" + "\n".join(details))
        return states


# --- the run ---------------------------------------------------------------------------------------

def write_bad_tax_file(path: Path) -> None:
    """A tax delivery with an invalid USCC check digit: must be rejected whole."""
    sys.path.insert(0, str(ROOT / "src"))
    from mfg_indicators.feeds import TABLES

    headers = TABLES["tax"].headers
    row = {h: "" for h in headers}
    values = ["91331125MA28XXXXX1", "坏数据示例有限公司", "2023-12", "1.0", "0.5", "0.1", "1.6"]
    for h, v in zip(headers, values):
        row[h] = v
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(headers)
        w.writerow([row[h] for h in headers])


def main() -> int:
    stack = Stack()

    def on_signal(signum, _frame):
        raise Timeout(f"signal {signum}") if signum == signal.SIGALRM else KeyboardInterrupt()

    signal.signal(signal.SIGALRM, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.alarm(TIMEOUT)
    try:
        run(stack)
        stack.ok = True
        return 0
    except SmokeFailed as exc:
        print(f"\nSMOKE FAILED: {exc}", file=sys.stderr)
    except Timeout:
        print(f"\nSMOKE FAILED: hard timeout of {TIMEOUT}s reached", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nSMOKE INTERRUPTED", file=sys.stderr)
    finally:
        signal.alarm(0)
        if not stack.ok:
            for name, _, logfile in stack.procs:
                print(f"\n--- {name} log tail ---\n{tail(logfile, 25)}", file=sys.stderr)
        stack.cleanup()
        log(f"wall time {time.monotonic() - T0:.1f}s ({'passed' if stack.ok else 'FAILED'})")
    return 1


def run(stack: Stack) -> None:
    home = stack.tmp / "airflow-home"
    inbox, output, var = stack.tmp / "inbox", stack.tmp / "output", stack.tmp / "var"
    for p in (home, inbox, output, var / "archive", var / "quarantine"):
        p.mkdir(parents=True, exist_ok=True)

    import redis

    stack.redis_before = {k.decode() for k in redis.Redis.from_url(REDIS_URL).scan_iter("_kombu.binding*")}
    meta_db, wh_db = stack.create_databases()
    log(f"created databases {meta_db}, {wh_db}")
    smtp_port = stack.start_smtp()
    log(f"SMTP server on 127.0.0.1:{smtp_port}")
    api_port = free_port()
    password = secrets.token_urlsafe(12)
    (home / "passwords.json").write_text(json.dumps({"admin": password}))
    from cryptography.fernet import Fernet

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "MFG_"))}
    env.update({
        "PATH": f"{VENV_BIN}:{env.get('PATH', '')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": pg_url(meta_db, "postgresql+psycopg2"),
        "AIRFLOW__CELERY__BROKER_URL": REDIS_URL,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + pg_url(meta_db),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": stack.queue,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port()),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW_CONN_SMTP_DEFAULT": (f"smtp://127.0.0.1:{smtp_port}?disable_ssl=true&disable_tls=true"
                                      "&from_email=mfg-indicators%40example.gov.cn&timeout=30&retry_limit=2"),
        "MFG_WAREHOUSE_URL": pg_url(wh_db),
        "MFG_INBOX": str(inbox),
        "MFG_OUTPUT": str(output),
        "MFG_VAR_DIR": str(var),
        "MFG_ARCHIVE": str(var / "archive"),
        "MFG_QUARANTINE": str(var / "quarantine"),
        "MFG_SMTP_CONN_ID": "smtp_default",
        "MFG_CONFIG": str(ROOT / "config" / "yunhe-2022.yaml"),
    })

    log("airflow db migrate (PostgreSQL metadata DB)")
    proc = subprocess.run([AIRFLOW, "db", "migrate"], env=env, capture_output=True, text=True, cwd=stack.tmp)
    if proc.returncode != 0:
        raise SmokeFailed(f"airflow db migrate failed:\n{proc.stderr[-3000:]}")
    proc = subprocess.run([str(VENV_BIN / "mfg-indicators"), "migrate", "--warehouse", env["MFG_WAREHOUSE_URL"]],
                          env=env, capture_output=True, text=True, cwd=stack.tmp)
    if proc.returncode != 0:
        raise SmokeFailed(f"warehouse migrate failed:\n{proc.stderr[-3000:]}")
    log("warehouse migrated: " + proc.stdout.strip())

    stack.start("api-server", [AIRFLOW, "api-server", "--host", "127.0.0.1", "--port", str(api_port)], env)
    stack.start("scheduler", [AIRFLOW, "scheduler"], env)
    stack.start("dag-processor", [AIRFLOW, "dag-processor"], env)
    stack.start("triggerer", [AIRFLOW, "triggerer"], env)
    stack.start("celery-worker", [AIRFLOW, "celery", "worker", "--queues", stack.queue, "--concurrency", "4",
                                  "--celery-hostname", f"smoke-{stack.tag}@%h"], env)

    import requests

    base = f"http://127.0.0.1:{api_port}"
    while True:
        stack.assert_running()
        try:
            if requests.get(f"{base}/api/v2/monitor/health", timeout=5).status_code == 200:
                break
        except requests.RequestException:
            pass
        time.sleep(1)
    log("api-server is up")
    api = Api(base, password)
    api.login()
    check(True, "JWT from /auth/token")

    # Wait for the DAGs to be parsed and serialized.
    expected = {f"feed_{s}" for s in ("registry", "tax", "energy", "stats", "projects", "ledgers")}
    expected |= {"feeds_deadline", "monthly_indicators"}
    dag_files = sorted(p.name for p in (ROOT / "dags").glob("*.py"))
    while True:
        stack.assert_running()
        dags = {d["dag_id"]: d for d in api.call("GET", "/dags", params={"limit": 100})["dags"]}
        errors = api.call("GET", "/importErrors")["import_errors"]
        if errors:
            raise SmokeFailed("DAG import errors:\n" + "\n".join(f"{e['filename']}: {e['stack_trace'][-800:]}" for e in errors))
        present = {d for d in expected if d in dags}
        if present == expected or (time.monotonic() - T0 > 240 and present):
            break
        time.sleep(2)
    missing = expected - set(dags)
    if missing:
        log(f"NOTE: DAGs not in this tree yet, skipped: {sorted(missing)}")
    check(bool(dags), f"DAGs parsed by the dag-processor from {len(dag_files)} files: {sorted(dags)}")
    # Unpause what the smoke drives. Unpausing makes the scheduler create each DAG's latest
    # scheduled run at once (catchup is off); let those find an empty inbox and finish first, so
    # the runs triggered below are the ones that ingest, in a known order.
    driven = sorted(d for d in dags if d in expected)
    others = sorted(set(dags) - set(driven))
    for dag_id in driven:
        api.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
    check(all(not d["is_paused"] for d in api.call("GET", "/dags", params={"limit": 100})["dags"]
              if d["dag_id"] in driven), f"DAGs unpaused: {driven}")
    settle(api, stack, driven)

    # Sample inbox, dropped in the way departments do: written elsewhere, then moved in.
    staging = stack.tmp / "staging"
    cli = VENV_BIN / "mfg-indicators"
    proc = subprocess.run([str(cli), "sample", "--out", str(staging)], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SmokeFailed(f"mfg-indicators sample failed:\n{proc.stderr[-2000:]}")
    src = staging / "inbox" if (staging / "inbox").is_dir() else staging
    for sub in sorted(src.iterdir()):
        shutil.move(str(sub), inbox / sub.name)
    dropped = [p for p in inbox.rglob("*") if p.is_file()]
    n_files = len(dropped)
    n_distinct = len({hashlib.sha256(p.read_bytes()).hexdigest() for p in dropped})
    check(n_files > 0, f"sample inbox dropped in ({n_files} files, {n_distinct} distinct contents)")

    feeds = sorted(d for d in dags if d.startswith("feed_"))
    if feeds:
        # registry first (the others' checks look enterprises up in it), then the other five at once
        first = [d for d in feeds if d == "feed_registry"]
        for group in (first, [d for d in feeds if d not in first]):
            runs = [(d, api.trigger(d)) for d in group]
            api.wait_runs(runs, stack)
        check(True, f"feed DAGs succeeded: {feeds}")
        rows = wh_query(env, "SELECT source, count(*) FROM raw_delivery WHERE status = 'accepted' GROUP BY source")
        check({r[0] for r in rows} >= {d[len('feed_'):] for d in feeds},
              f"accepted deliveries per source in the warehouse: {dict(rows)}")
        check(sum(r[1] for r in rows) == n_distinct,
              f"every distinct delivery accepted exactly once ({n_distinct}; a re-sent identical file is not loaded twice)")
        events = api.call("GET", "/assets/events", params={"limit": 100})
        names = {e.get("asset_name") or e.get("name") or e.get("uri") for e in events.get("asset_events", [])}
        check({f"feed_{d[len('feed_'):]}" for d in feeds} <= names, f"Asset events emitted: {sorted(n for n in names if n)}")
        tis = api.call("GET", f"/dags/{feeds[0]}/dagRuns/~/taskInstances", params={"limit": 100})["task_instances"]
        queues = {t["queue"] for t in tis if t["state"] == "success"}
        check(queues == {stack.queue}, f"tasks ran through Celery on queue {stack.queue} (hostnames "
              f"{sorted({t['hostname'] for t in tis if t['state'] == 'success'})})")

    if "monthly_indicators" in dags:
        y, m = map(int, PERIOD.split("-"))
        # A manual run's data interval is the month that *ends* at its logical date (Airflow infers
        # [logical - 1 month, logical)), so month M is triggered at 00:00 on the 1st of M+1,
        # +08:00. (Scheduled and backfill runs of M have logical date = the 1st of M: see the
        # backfill below and docs/operations.md.)
        logical = dt.datetime(y + m // 12, m % 12 + 1, 1, tzinfo=SH).isoformat()
        run_id = api.trigger("monthly_indicators", logical_date=logical)
        api.wait_runs([("monthly_indicators", run_id)], stack)
        out = output / f"indicators-{PERIOD}.json"
        check(out.is_file(), f"{out.name} written by the monthly run for logical date {logical}")
        doc = json.loads(out.read_text(encoding="utf-8"))
        sys.path.insert(0, str(ROOT / "src"))
        from mfg_indicators.config import load_config

        cfg = load_config(ROOT / "config" / "yunhe-2022.yaml")
        codes = [i["code"] for i in doc.get("indicators", [])]
        want = [i["code"] for i in cfg.indicators]
        check(sorted(codes) == sorted(want), f"every indicator code once in the JSON ({len(want)})")
        statuses = {i["status"] for i in doc["indicators"]}
        check(len(statuses - {"no_data"}) >= 2, f"statuses mixed: {sorted(statuses)}")
        mart = wh_query(env, f"SELECT count(*) FROM mart_indicator WHERE period = '{PERIOD}'")
        check(mart[0][0] == len(want), f"mart_indicator holds {PERIOD} ({mart[0][0]} rows)")
        bulletin_tasks = [t["task_id"] for t in api.call("GET", "/dags/monthly_indicators/tasks")["tasks"]
                          if any(k in t["task_id"] for k in ("email", "send", "deliver", "mail"))]
        if bulletin_tasks:
            def is_bulletin(rcpt, msg):
                # attachments carry the Chinese title (RFC 2231) and the ASCII name as the fallback
                return any(f"bulletin-{PERIOD}" in (p.get_param("name") or "") for p in msg.iter_attachments())

            got = wait_mail(stack, is_bulletin, 60)
            check(got is not None, f"bulletin e-mail received via task {bulletin_tasks}")
            rcpt, msg = got
            check(set(cfg["bulletin"]["recipients"]["to"]) <= set(rcpt), f"bulletin sent to {rcpt}")
            names = [p.get_filename() for p in msg.iter_attachments()]
            from mfg_indicators.phrasing import issue_number

            number = f"{PERIOD[:4]}年第{issue_number(cfg['bulletin'], PERIOD)}期"
            titled = [n for n in names if n and "通报" in n and number in n]
            check(any(n.endswith(".pdf") for n in titled) and any(n.endswith(".docx") for n in titled),
                  f"bulletin attachments under the Chinese title {names}")
            for suffix in ("docx", "pdf", "html"):
                f = output / f"bulletin-{PERIOD}.{suffix}"
                check(f.is_file() and f.stat().st_size > 0, f"{f.name} written")
        else:
            log("NOTE: monthly_indicators has no e-mail task yet (bulletin delivery not wired): bulletin e-mail not checked")

        # backfill: the documented command, dry run over the plan window, then two months for real
        frm, to = f"{cfg.window_start}-01T00:00:00+08:00", f"{cfg.window_end}-01T00:00:00+08:00"
        proc = subprocess.run([AIRFLOW, "backfill", "create", "--dag-id", "monthly_indicators",
                               "--from-date", frm, "--to-date", to, "--dry-run"],
                              env=env, capture_output=True, text=True, cwd=stack.tmp)
        months = _dry_run_months(proc.stdout)
        check(proc.returncode == 0 and months[:1] == [cfg.window_start] and months[-1:] == [cfg.window_end]
              and len(months) == cfg.window_months,
              f"backfill dry run over the plan window lists {len(months)} months {months[:1]}..{months[-1:]}")
        b_from, b_to = "2023-10-01T00:00:00+08:00", "2023-11-01T00:00:00+08:00"
        proc = subprocess.run([AIRFLOW, "backfill", "create", "--dag-id", "monthly_indicators",
                               "--from-date", b_from, "--to-date", b_to, "--reprocess-behavior", "completed"],
                              env=env, capture_output=True, text=True, cwd=stack.tmp)
        check(proc.returncode == 0, f"airflow backfill create {b_from}..{b_to}: {proc.stdout.strip()[-200:]}{proc.stderr[-500:]}")
        runs = []
        end = time.monotonic() + 120
        while len(runs) < 2 and time.monotonic() < end:
            runs = [r for r in api.call("GET", "/dags/monthly_indicators/dagRuns", params={"limit": 100})["dag_runs"]
                    if r["run_type"] == "backfill"]
            time.sleep(2)
        check(len(runs) == 2, f"backfill created {len(runs)} runs")
        api.wait_runs([("monthly_indicators", r["dag_run_id"]) for r in runs], stack)
        for p in ("2023-10", "2023-11"):
            check((output / f"indicators-{p}.json").is_file(), f"backfill wrote indicators-{p}.json")

    if "feeds_deadline" in dags:
        # a month whose feeds all landed: no alert; a month after the sample: late, e-mail
        before = len(stack.messages)
        run_ok = api.trigger("feeds_deadline", conf={"period": PERIOD})
        api.wait_runs([("feeds_deadline", run_ok)], stack)
        xcom = api.call("GET", f"/dags/feeds_deadline/dagRuns/{run_ok}/taskInstances/check_feeds/xcomEntries/return_value",
                        params={"deserialize": True})
        value = xcom["value"] if isinstance(xcom["value"], dict) else json.loads(xcom["value"])
        check(value["missing"] == [] and not value["late"], f"feeds_deadline {PERIOD}: all feeds landed, no alert")
        y, m = map(int, PERIOD.split("-"))
        later = f"{y + m // 12}-{m % 12 + 1:02d}"
        run_late = api.trigger("feeds_deadline", conf={"period": later})
        api.wait_runs([("feeds_deadline", run_late)], stack)
        got = wait_mail(stack, lambda r, msg: f"{later} 数据逾期未报" in (msg["Subject"] or ""), 60)
        check(got is not None and len(stack.messages) > before,
              f"late-feeds e-mail for {later} received: {got[1]['Subject'] if got else None}")
        check(got[0] == cfg["alerts"]["engineers"], f"late-feeds e-mail to the engineers {got[0]}")

    if "feed_tax" in dags:
        # a rejected delivery: department e-mailed, run fails visibly, engineers get the failure
        # e-mail from the SmtpNotifier callback on the Celery worker, warehouse unchanged
        before_rows = wh_query(env, "SELECT count(*) FROM core_tax")[0][0]
        bad = inbox / "tax" / "2023年12月税收（坏数据）.csv"
        write_bad_tax_file(bad)
        run_id = api.trigger("feed_tax")
        api.wait_runs([("feed_tax", run_id)], stack, expect="failed")
        dept = cfg["departments"]["tax"]
        got = wait_mail(stack, lambda r, msg: dept["contact"] in r and "数据退回" in (msg["Subject"] or ""), 60)
        check(got is not None, f"rejection e-mail to {dept['name']} <{dept['contact']}>")
        got = wait_mail(stack, lambda r, msg: "feed_tax" in (msg["Subject"] or "") and "任务失败" in (msg["Subject"] or ""), 60)
        check(got is not None and got[0] == cfg["alerts"]["engineers"],
              f"failure e-mail to the engineers: {got[1]['Subject'] if got else None}")
        check(wh_query(env, "SELECT count(*) FROM core_tax")[0][0] == before_rows, "warehouse unchanged by the rejection")
        check(any((var / "quarantine").rglob("*坏数据*")), "bad file moved to quarantine")

    # the remaining DAGs (not driven above), unpaused now that the data is in: their scheduled
    # runs must succeed too
    if others:
        for dag_id in others:
            api.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
        settle(api, stack, others)
        check(True, f"other DAGs' scheduled runs finished: {others}")

    # nothing else went wrong anywhere (scheduled runs created by unpausing included)
    failed = []
    for dag_id in dags:
        for r in api.call("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100, "state": "failed"})["dag_runs"]:
            failed.append(f"{dag_id}/{r['dag_run_id']}")
    expected_failed = [f for f in failed if f.startswith("feed_tax/") and f.endswith(run_id)] if "feed_tax" in dags else []
    unexpected = sorted(set(failed) - set(expected_failed))
    check(not unexpected, f"no other failed runs ({unexpected or 'none'})")
    log(f"e-mails received: {len(stack.messages)}: " + "; ".join(m['Subject'] for _, m in stack.messages))


def settle(api: Api, stack: Stack, dag_ids: list[str], timeout: float = 300) -> None:
    """Wait until no run of these DAGs is queued or running (giving the scheduler 20 s to create
    the runs that unpausing implies)."""
    began = time.monotonic()
    end = began + timeout
    while time.monotonic() < end:
        stack.assert_running()
        busy = []
        for dag_id in dag_ids:
            runs = api.call("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100})["dag_runs"]
            if (not runs and time.monotonic() - began < 20) or any(r["state"] in ("queued", "running") for r in runs):
                busy.append(dag_id)
        if not busy:
            log(f"settled: {dag_ids}")
            return
        time.sleep(3)
    raise SmokeFailed(f"runs did not settle within {timeout}s: {busy}")


def _dry_run_months(stdout: str) -> list[str]:
    """Months (YYYY-MM, Asia/Shanghai) of the logical dates a backfill dry run lists."""
    import re

    months = []
    for m in re.finditer(r"(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:?\d{2}|Z)?)", stdout):
        text = m.group(1).replace(" ", "T").replace("Z", "+00:00")
        try:
            t = dt.datetime.fromisoformat(text)
        except ValueError:
            continue
        if t.tzinfo is None:
            t = t.replace(tzinfo=dt.timezone.utc)
        local = t.astimezone(SH)
        months.append(f"{local.year}-{local.month:02d}")
    return sorted(set(months))


def wait_mail(stack: Stack, pred, timeout: float):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for rcpt, msg in list(stack.messages):
            if pred(rcpt, msg):
                return rcpt, msg
        time.sleep(0.5)
    return None


def wh_query(env: dict[str, str], sql: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(env["MFG_WAREHOUSE_URL"]) as conn:
        return [tuple(r) for r in conn.execute(sql).fetchall()]


if __name__ == "__main__":
    sys.exit(main())
