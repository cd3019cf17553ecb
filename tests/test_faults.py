"""Faults and neighbours (issue 14 §4), with real processes on both warehouses: a run killed with
-9 leaves no read-ahead process and no lock behind; a warehouse that does not answer, or whose
lock a neighbour keeps, fails the run in bounded time with one readable line (exit 3); database
errors and a full disk print one line and keep the traceback in the log; a missing inbox is an
error; a month without any data gets no bulletin unless asked for."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from sqlalchemy import text

from mfg_indicators.warehouse import connect, get_engine

from run_support import CLI, PERIOD, env, run_args, run_cli, small_inbox
from test_ingest_support import headers, registry_rows, tax_rows, write_csv


def _one_error_line(r: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("错误 / error:")]
    assert len(lines) == 1, r.stderr[-3000:]
    return lines[0]


def _log_of(line: str) -> Path:
    return Path(line.rsplit("details in ", 1)[1].strip())


# --- missing inbox, month without data -------------------------------------------------------


def test_exit_codes_are_in_the_help():
    r = run_cli([CLI, "run", "--help"])
    assert r.returncode == 0
    for code in ("0 every delivery accepted", "2 a delivery was rejected", "3 the warehouse did not",
                 "4 no accepted data", "5 a fault of the machine"):
        assert code in " ".join(r.stdout.split()), code


def test_missing_inbox_is_an_error(warehouse_url, tmp_path):
    out = tmp_path / "out"
    r = run_cli(run_args(tmp_path / "no-such-inbox", warehouse_url, out, tmp_path))
    assert r.returncode == 1
    line = _one_error_line(r)
    assert "no-such-inbox" in line and "收件箱不存在" in line and "does not exist" in line
    assert not list(out.glob("indicators-*.json")) and not list(out.glob("bulletin-*"))


def test_a_month_without_data_gets_no_bulletin_unless_asked(warehouse_url, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    out = tmp_path / "out"
    r = run_cli(run_args(inbox, warehouse_url, out, tmp_path))
    assert r.returncode == 4, r.stderr[-3000:]
    assert "no bulletin" in r.stderr and "--allow-empty" in r.stderr
    doc = json.loads((out / f"indicators-{PERIOD}.json").read_text(encoding="utf-8"))
    assert {i["status"] for i in doc["indicators"]} == {"no_data"}  # the JSON is still written
    assert not list(out.glob("bulletin-*")), "no bulletin, no e-mail"
    r = run_cli(run_args(inbox, warehouse_url, out, tmp_path, "--allow-empty"))
    assert r.returncode == 0, r.stderr[-3000:]
    assert (out / f"bulletin-{PERIOD}.pdf").stat().st_size > 0 and (out / f"bulletin-{PERIOD}.eml").exists()


# --- kill -9 ---------------------------------------------------------------------------------

N_FIRMS, N_MONTHS = 3000, 10


def _big_inbox(root: Path) -> Path:
    inbox = root / "inbox"
    firms = list(range(1, N_FIRMS + 1))
    write_csv(inbox / "registry" / "名录2023.csv", headers("registry"), registry_rows(2023, firms), mtime=1_700_000_000)
    for m in range(1, N_MONTHS + 1):
        write_csv(inbox / "tax" / f"2023年{m}月.csv", headers("tax"), tax_rows(f"2023-{m:02d}", firms),
                  mtime=1_700_000_000 + m)
    return inbox


def _accepted(url: str) -> int:
    engine = get_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM raw_delivery WHERE status = 'accepted'")).scalar()
    except Exception:  # noqa: BLE001 - not migrated yet
        return 0
    finally:
        engine.dispose()


def _gone(p: psutil.Process) -> bool:
    try:
        return p.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_kill_9_mid_load_leaves_no_process_and_no_lock(warehouse_url, tmp_path):
    inbox = _big_inbox(tmp_path)
    args = run_args(inbox, warehouse_url, tmp_path / "out", tmp_path)
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env(MFG_READ_AHEAD="process"))
    try:
        parent = psutil.Process(proc.pid)
        deadline = time.monotonic() + 600  # a guard against a hang, not a speed check
        children: list[psutil.Process] = []
        while time.monotonic() < deadline and proc.poll() is None:
            children = parent.children(recursive=True)
            if children and _accepted(warehouse_url) >= 2:  # registry and a month in; more coming
                break
            time.sleep(0.2)
        assert proc.poll() is None and children, "the run ended before it could be killed mid-load"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    until = time.monotonic() + 10
    while time.monotonic() < until and not all(_gone(c) for c in children):
        time.sleep(0.1)
    survivors = [c.pid for c in children if not _gone(c)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert not survivors, "the read-ahead process outlived the killed run"
    loaded = _accepted(warehouse_url)
    assert 2 <= loaded < N_MONTHS + 1

    # The next run is not held up by anything the killed one had (with a short lock timeout it
    # would fail with exit 3), and loads exactly what was left.
    r = run_cli(args, MFG_WAREHOUSE_LOCK_TIMEOUT="20", timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"{N_MONTHS + 1 - loaded} accepted, {loaded} duplicate, 0 rejected" in r.stderr
    engine = connect(warehouse_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM core_tax")).scalar() == N_FIRMS * N_MONTHS
            assert conn.execute(text("SELECT count(*) FROM stg_tax")).scalar() == 0
    finally:
        engine.dispose()


# --- a warehouse that does not answer, or whose lock a neighbour keeps -----------------------


@pytest.fixture
def silent_server():
    """A TCP server on 127.0.0.1 that accepts connections and never says a word."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join()
    for c in held:
        c.close()
    srv.close()


def test_a_warehouse_that_never_answers_fails_with_one_line(silent_server, tmp_path):
    inbox = small_inbox(tmp_path)
    url = f"postgresql://mfg:s3cret-pw@127.0.0.1:{silent_server}/warehouse"
    r = run_cli(run_args(inbox, url, tmp_path / "out", tmp_path), MFG_WAREHOUSE_CONNECT_TIMEOUT="2", timeout=120)
    assert r.returncode == 3
    line = _one_error_line(r)
    assert f"127.0.0.1:{silent_server}/warehouse" in line and "s3cret-pw" not in line and "***" in line
    assert "仓库" in line and "did not answer" in line
    log = _log_of(line).read_text(encoding="utf-8")
    assert "Traceback" in log and "s3cret-pw" not in log


def _hold_the_tax_load_lock(url: str):
    """A neighbour that holds what a tax load needs and does not let go: PostgreSQL the tax
    table's advisory lock, SQLite the file's write lock."""
    import sqlite3

    import psycopg

    from mfg_indicators.load import PG_LOCK_NAMESPACE_LOAD, _lock_key

    if url.startswith("sqlite"):
        conn = sqlite3.connect(url[len("sqlite:///"):], isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        return conn
    conn = psycopg.connect(url, autocommit=True)
    conn.execute("SELECT pg_advisory_lock(%s, %s)", (PG_LOCK_NAMESPACE_LOAD, _lock_key("table:tax")))
    return conn


def test_a_lock_kept_by_a_neighbour_fails_the_load_with_one_line(warehouse_url, tmp_path):
    inbox = small_inbox(tmp_path)
    connect(warehouse_url).dispose()  # migrated, so that only the load waits
    holder = _hold_the_tax_load_lock(warehouse_url)
    try:
        r = run_cli(run_args(inbox, warehouse_url, tmp_path / "out", tmp_path),
                    MFG_WAREHOUSE_LOCK_TIMEOUT="3", MFG_SQLITE_BUSY_TIMEOUT="3", timeout=300)
    finally:
        holder.close()
    assert r.returncode == 3, r.stderr[-3000:]
    line = _one_error_line(r)
    assert "another load held the tables" in line and "仓库" in line
    assert "Traceback" in _log_of(line).read_text(encoding="utf-8")
    engine = get_engine(warehouse_url)
    try:  # nothing half-loaded: the tax delivery that waited was rolled back whole
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM core_tax")).scalar() == 0
            assert conn.execute(text("SELECT count(*) FROM raw_delivery WHERE source = 'tax'")).scalar() == 0
    finally:
        engine.dispose()
    r = run_cli(run_args(inbox, warehouse_url, tmp_path / "out", tmp_path))  # the neighbour is gone
    assert r.returncode == 2, r.stderr[-3000:]  # the sample's one bad file


_FROZEN_CLIENT = r"""
import sys
from sqlalchemy import text
from mfg_indicators.warehouse import get_engine

conn = get_engine(sys.argv[1]).connect()
conn.execute(text("LOCK TABLE stg_tax IN ACCESS EXCLUSIVE MODE"))  # what a tax load's TRUNCATE holds
print("locked", flush=True)
sys.stdin.read()  # holds the transaction open until it is stopped or killed
"""


def test_a_frozen_client_does_not_keep_its_lock(pg_server, tmp_path):
    """A warehouse connection whose client froze inside its transaction holding a tax load's lock
    (stopped, not killed: the socket stays open) is ended by the server, and the tax load it
    blocked goes on."""
    url = pg_server("frozen")
    connect(url).dispose()
    inbox = small_inbox(tmp_path)
    client = subprocess.Popen([sys.executable, "-c", _FROZEN_CLIENT, url], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env(MFG_WAREHOUSE_IDLE_TIMEOUT="2"))
    try:
        assert client.stdout.readline().strip() == "locked"
        os.kill(client.pid, signal.SIGSTOP)
        r = run_cli(run_args(inbox, url, tmp_path / "out", tmp_path), MFG_WAREHOUSE_LOCK_TIMEOUT="120", timeout=300)
    finally:
        client.kill()
        client.wait()
    assert r.returncode == 2, r.stderr[-3000:]  # loaded, with the sample's one bad file rejected
    assert "1 rejected" in r.stderr


def test_postgresql_connections_cannot_keep_locks_forever(pg_server):
    engine = get_engine(pg_server("limits"))
    try:
        with engine.connect() as conn:
            got = {k: conn.execute(text(f"SHOW {k}")).scalar()
                   for k in ("lock_timeout", "statement_timeout", "idle_in_transaction_session_timeout")}
        assert all(v not in ("0", "") for v in got.values()), got
    finally:
        engine.dispose()


# --- database errors and a full disk: one line, the traceback in the log ---------------------


def test_a_database_error_prints_one_line(warehouse_url, tmp_path, pg_server):
    if warehouse_url.startswith("sqlite"):
        broken = tmp_path / "not-a-database.sqlite"
        broken.write_bytes(b"this is not an SQLite file " * 100)
        url, name = f"sqlite:///{broken}", broken.name
    else:
        url = pg_server("x").rsplit("/", 1)[0] + "/mfg_no_such_database"
        name = "mfg_no_such_database"
    inbox = small_inbox(tmp_path)
    r = run_cli(run_args(inbox, url, tmp_path / "out", tmp_path))
    assert r.returncode == 3
    line = _one_error_line(r)
    assert name in line and "rerun" in line and "重跑" in line
    assert "Traceback" in _log_of(line).read_text(encoding="utf-8")


def test_a_full_disk_prints_one_line(warehouse_url, tmp_path):
    inbox = small_inbox(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    target = out / f"bulletin-{PERIOD}.html"
    target.symlink_to("/dev/full")  # every write there fails with ENOSPC, as on a full disk
    r = run_cli(run_args(inbox, warehouse_url, out, tmp_path))
    assert r.returncode == 5
    line = _one_error_line(r)
    assert "磁盘已满" in line and "disk full" in line and str(out) in line
    assert "No space left on device" in _log_of(line).read_text(encoding="utf-8")
