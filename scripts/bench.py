#!/usr/bin/env python3
"""make bench: province scale on this machine, measured against the physical limit.

In ONE run and on the SAME files (a province-scale sample inbox: ~150,000 enterprises, 2023):

  1. PostgreSQL end to end, as the CLI runs it, in two fresh processes on one throwaway database:
       a. ingest the first 11 months (every delivery that arrived before 2024-01-01);
       b. `run_month` for 2023-12 with the month-12 deliveries: ingest → compute → render →
          deliver (the single new month, incremental);
     end to end = a + b. Per-stage figures (read, validate, load) are the per-delivery timings of
     these runs; compute and render come from run_month's stage log; peak RSS per stage is
     sampled (psutil, every 50 ms) while that stage runs.
  2. The same on SQLite (a throwaway file).
  3. Indicator SQL for one month on PostgreSQL (compute_indicators 2023-06, warehouse warm).
  4. Baselines: PostgreSQL COPY of the same CSV files into bare tables (no keys, no checks; the
     one GBK file re-encoded to UTF-8 before the clock starts), and a newcomer's
     pandas.read_csv + DataFrame.to_sql of one feed (tax, one month: 2023-03).
  5. The county month: the county sample (the demo's inbox) loaded up to 2023-11, then `run`
     2023-12 in a fresh process, on SQLite and on PostgreSQL.
  6. Parse time of every dags/*.py (Airflow's own import excluded, as tests/test_dagbag.py does).

Writes docs/performance.md (machine, command, date, load average, the table, targets) and prints
the table. Throwaway databases are dropped at the end (also on error).

    python scripts/bench.py [--work var/bench] [--out docs/performance.md]
                            [--pg postgresql://root@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

SPLIT = dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp()
PERIOD = "2023-12"
ONE_MONTH_SQL = "2023-06"
NAIVE_FILE = ("tax", "2023年3月企业税收.csv")
SQLITE_RUN_LIMIT_S = 180.0
# issue 17's targets: ratios against baselines of the same run where a busy machine could decide
# an absolute figure; the year's goal is 2x COPY, the issue is met at 5x.
TARGETS = {
    "pg_vs_copy_goal": 2.0, "pg_vs_copy": 5.0, "load_vs_copy": 2.0, "month_s": 8.0, "county_month_s": 5.0,
    "naive_vs_ours": 5.0, "rss_mb": 3072.0, "sql_month_s": 5.0, "sqlite_vs_pg": 3.0, "dag_parse_s": 0.3,
}


# --------------------------------------------------------------------------------------------
# child processes: each measures itself and prints one JSON line


class Sampler:
    """RSS of this process every ``interval`` s; peak overall and peak inside given time spans."""

    def __init__(self, interval: float = 0.05):
        import psutil

        self._proc = psutil.Process()
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._interval = interval
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            rss = self._proc.memory_info().rss
            for child in self._proc.children(recursive=True):  # the read-ahead process, if any
                try:
                    rss += child.memory_info().rss
                except psutil.Error:
                    pass
            self.samples.append((time.perf_counter(), rss))
            self._stop.wait(self._interval)

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def peak_in(self, spans: list[tuple[float, float]]) -> int:
        spans = sorted(spans)
        best, i = 0, 0
        for t, rss in self.samples:
            while i < len(spans) and spans[i][1] < t:
                i += 1
            if i < len(spans) and spans[i][0] <= t <= spans[i][1]:
                best = max(best, rss)
        return best


def _maxrss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _outcome_dict(o) -> dict:
    return {"source": o.source, "file": o.file, "status": o.status, "rows": o.rows,
            "seconds": dict(o.seconds), "spans": [list(s) for s in o.spans]}


def _stage_peaks(sampler: Sampler, outcomes: list, extra: dict[str, list[tuple[float, float]]]) -> dict:
    spans: dict[str, list[tuple[float, float]]] = {k: list(v) for k, v in extra.items()}
    for o in outcomes:
        for name, a, b in o.spans:
            spans.setdefault(name, []).append((a, b))
    return {k: sampler.peak_in(v) / 2**20 for k, v in spans.items()}


def child_ingest(args: dict) -> dict:
    """Ingest an inbox (the first 11 months) into a warehouse: what the CLI does before compute."""
    from mfg_indicators.config import load_config
    from mfg_indicators.ingest import ingest_inbox
    from mfg_indicators.warehouse import connect

    t0 = time.perf_counter()
    with Sampler() as s:
        engine = connect(args["url"])
        report = ingest_inbox(Path(args["inbox"]), engine, config=load_config(None),
                              archive_dir=Path(args["work"]) / "archive",
                              quarantine_dir=Path(args["work"]) / "quarantine", move_rejected=False)
        engine.dispose()
    wall = time.perf_counter() - t0
    return {"wall": wall, "outcomes": [_outcome_dict(o) for o in report.outcomes],
            "peak_mb": max(_maxrss_mb(), max((r for _, r in s.samples), default=0) / 2**20),
            "stage_peak_mb": _stage_peaks(s, report.outcomes, {})}


def child_run(args: dict) -> dict:
    """`mfg-indicators run` for the new month (pipeline.run_month), then the indicator SQL of one
    earlier month on the now complete warehouse."""
    from mfg_indicators import ingest
    from mfg_indicators.compute import compute_indicators
    from mfg_indicators.config import load_config
    from mfg_indicators.pipeline import run_month
    from mfg_indicators.warehouse import connect

    outcomes = []
    plain = ingest.ingest_delivery

    def recording(*a, **kw):  # ingest_inbox calls the module's ingest_delivery: record outcomes
        o = plain(*a, **kw)
        outcomes.append(o)
        return o

    ingest.ingest_delivery = recording
    work = Path(args["work"])
    t0 = time.perf_counter()
    with Sampler() as s:
        result = run_month(period=args["period"], inbox=Path(args["inbox"]), warehouse_url=args["url"],
                           out_dir=work / "out", archive_dir=work / "archive",
                           quarantine_dir=work / "quarantine", quiet=True)
        wall = time.perf_counter() - t0
        # stage spans for the RSS attribution: StageLog gives durations; rebuild ends from order
        stage_spans: dict[str, list[tuple[float, float]]] = {}
        t = t0
        for st in result.stages.stages:
            stage_spans[st.name] = [(t, t + st.seconds)]
            t += st.seconds
        engine = connect(args["url"])
        t1 = time.perf_counter()
        comp = compute_indicators(engine, load_config(None), args["sql_period"])
        sql_s = time.perf_counter() - t1
        engine.dispose()
    peaks = _stage_peaks(s, outcomes, stage_spans)
    return {"wall": wall, "outcomes": [_outcome_dict(o) for o in outcomes],
            "stages": [{"name": st.name, "seconds": st.seconds, "rows": st.rows} for st in result.stages.stages],
            "exit_code": result.exit_code, "statuses": [i["status"] for i in result.document.get("indicators", [])],
            "sql_month_s": sql_s, "sql_month_n": len(comp.indicators),
            "peak_mb": max(_maxrss_mb(), max((r for _, r in s.samples), default=0) / 2**20),
            "stage_peak_mb": peaks}


def child_naive(args: dict) -> dict:
    """What a newcomer writes: pandas.read_csv + DataFrame.to_sql into PostgreSQL."""
    import pandas as pd
    from sqlalchemy import create_engine

    engine = create_engine(args["url"])
    t0 = time.perf_counter()
    with Sampler() as s:
        df = pd.read_csv(args["file"], encoding="utf-8")
        t1 = time.perf_counter()
        df.to_sql("naive_tax", engine, index=False, if_exists="replace")
    wall = time.perf_counter() - t0
    engine.dispose()
    return {"wall": wall, "read_s": t1 - t0, "rows": len(df),
            "peak_mb": max(_maxrss_mb(), max((r for _, r in s.samples), default=0) / 2**20)}


_DAG_PROBE = r"""
import json, sys, time, importlib.util
import airflow.sdk
from airflow.sdk import DAG, Asset, Param, dag, task  # noqa: F401
import airflow.sdk.definitions.timetables.interval, airflow.sdk.definitions.timetables.trigger  # noqa
spec = importlib.util.spec_from_file_location("dag_file_under_test", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
t0 = time.perf_counter()
spec.loader.exec_module(mod)
print(json.dumps({"seconds": time.perf_counter() - t0}))
"""

CHILDREN = {"ingest": child_ingest, "run": child_run, "naive": child_naive}


def run_child(kind: str, args: dict, env: dict | None = None, timeout: float | None = None) -> dict | None:
    """The child's JSON; None when it ran out of ``timeout`` seconds (it is killed)."""
    try:
        proc = subprocess.run([sys.executable, __file__, "--child", kind, json.dumps(args)],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if proc.returncode != 0:
        raise RuntimeError(f"child {kind} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------
# the parent: sample, split, databases, baselines, report


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def ensure_sample(inbox: Path) -> dict:
    marker = inbox / ".bench-sample.json"
    if marker.exists():
        return json.loads(marker.read_text(encoding="utf-8"))
    from mfg_indicators.sample import generate

    say(f"writing the province-scale sample to {inbox} …")
    t0 = time.perf_counter()
    summary = generate(inbox, scale="province", seed=0)
    info = {"rows": summary["rows"], "files": summary["files"], "enterprises": summary["enterprises"],
            "seconds": time.perf_counter() - t0}
    marker.write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    return info


def ensure_county_sample(inbox: Path) -> dict:
    """The county sample (`mfg-indicators sample`, the demo's inbox: 2021–2023)."""
    marker = inbox / ".bench-sample.json"
    if marker.exists():
        return json.loads(marker.read_text(encoding="utf-8"))
    from mfg_indicators.sample import generate

    summary = generate(inbox, scale="county", seed=0)
    info = {"rows": summary["rows"], "files": summary["files"], "enterprises": summary["enterprises"]}
    marker.write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    return info


def split_inbox(inbox: Path, work: Path, prefix: str = "") -> tuple[Path, Path, list[Path]]:
    """Two inboxes: deliveries that arrived before 2024-01-01 (months 1–11) and the rest
    (month 12 and the annual 主要指标). Copies, modification times kept (arrival order): the inbox
    refuses links, so a farm of links would be refused whole. Returns (first, second, all files)."""
    from mfg_indicators.extract import find_deliveries

    first, second = work / f"{prefix}inbox-11-months", work / f"{prefix}inbox-month-12"
    for d in (first, second):
        shutil.rmtree(d, ignore_errors=True)
    files = []
    for d in find_deliveries(inbox):
        target = (first if d.mtime < SPLIT else second) / d.source / d.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(d.path, target)
        files.append(d.path)
    return first, second, files


def fresh_dir(path: Path) -> Path:
    """``path``, emptied (a run's archive, quarantine and outputs)."""
    shutil.rmtree(path, ignore_errors=True)
    return path


class Databases:
    def __init__(self, admin_url: str):
        import psycopg

        self.admin_url = admin_url
        self._conn = psycopg.connect(admin_url, autocommit=True)
        self.names: list[str] = []

    def create(self, name: str) -> str:
        self._conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        self._conn.execute(f'CREATE DATABASE "{name}"')
        self.names.append(name)
        base = self.admin_url.rsplit("/", 1)[0]
        return f"{base}/{name}"

    def warehouse(self, kind: str, pg_name: str, sqlite_file: Path) -> str:
        """A new empty warehouse: a throwaway PostgreSQL database, or a fresh SQLite file."""
        if kind == "pg":
            return self.create(pg_name)
        sqlite_file.unlink(missing_ok=True)
        return f"sqlite:///{sqlite_file}"

    def drop_all(self) -> None:
        for name in self.names:
            try:
                self._conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception as exc:  # noqa: BLE001 - report and go on dropping the others
                say(f"could not drop {name}: {exc}")
        self._conn.close()


def raw_copy(url: str, files: list[Path], work: Path) -> dict:
    """COPY every delivered CSV into bare tables (one per feed table, columns as in the file,
    number -> float8, int -> int8, anything else text; no keys, no indexes)."""
    import csv
    import io

    import psycopg

    from mfg_indicators.extract import decode_text
    from mfg_indicators.feeds import match_table, normalize_header

    plain = work / "copy-utf8"
    shutil.rmtree(plain, ignore_errors=True)
    plain.mkdir(parents=True)
    jobs = []
    for p in files:  # re-encode to UTF-8 where needed: before the clock starts
        text, enc = decode_text(p.read_bytes())
        src = p
        if enc not in ("utf-8", "utf-8-sig"):
            src = plain / f"{p.parent.name}-{p.name}"
            src.write_text(text, encoding="utf-8")
        header = next(csv.reader(io.StringIO(text.split("\n", 1)[0])))
        table = match_table(header)
        if table is None:
            raise RuntimeError(f"{p}: no feed table for header {header}")
        by_header = {c.header: c for c in table.columns}
        cols = [by_header[normalize_header(h)] for h in header]
        jobs.append((src, table, cols))
    pg_type = {"number": "float8", "int": "int8"}
    created: set[str] = set()
    rows = 0
    with psycopg.connect(url, autocommit=True) as conn:
        for _, table, cols in jobs:
            if table.name not in created:
                ddl = ", ".join(f"{c.name} {pg_type.get(c.type, 'text')}" for c in cols)
                conn.execute(f"CREATE TABLE bare_{table.name} ({ddl})")
                created.add(table.name)
        t0 = time.perf_counter()
        for src, table, cols in jobs:
            with conn.cursor() as cur:
                with open(src, "rb") as fh:
                    with cur.copy(f"COPY bare_{table.name} ({', '.join(c.name for c in cols)}) "
                                  "FROM STDIN (FORMAT csv, HEADER true)") as copy:
                        while block := fh.read(1 << 20):
                            copy.write(block)
                rows += cur.rowcount
        seconds = time.perf_counter() - t0
    return {"seconds": seconds, "rows": rows, "files": len(jobs)}


def dag_parse_times() -> dict[str, float]:
    env = dict(os.environ, AIRFLOW__CORE__LOAD_EXAMPLES="False")
    out = {}
    for path in sorted((ROOT / "dags").glob("*.py")):
        proc = subprocess.run([sys.executable, "-c", _DAG_PROBE, str(path)], capture_output=True, text=True,
                              env=env, cwd=ROOT, timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(f"{path.name} does not parse:\n{proc.stderr[-2000:]}")
        out[path.name] = json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]
    return out


def machine() -> dict:
    import psutil

    model = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import psycopg

    return {"cores": os.cpu_count(), "memory_gb": psutil.virtual_memory().total / 2**30, "cpu": model,
            "python": platform.python_version(), "os": platform.platform(terse=True),
            "psycopg": psycopg.__version__}


def sum_stage(outcomes: list[dict], stage: str) -> tuple[float, int]:
    secs = sum(o["seconds"].get(stage, 0.0) for o in outcomes)
    rows = sum(o["rows"] for o in outcomes if stage in o["seconds"] and o["status"] == "accepted")
    return secs, rows


def fmt_rate(rows: int | None, secs: float) -> str:
    return f"{rows / secs:,.0f}" if rows and secs > 0 else "—"


def build_report(r: dict) -> tuple[str, list[tuple[str, bool, str]]]:
    m = r["machine"]
    pg_a, pg_b = r["pg"]["a"], r["pg"]["b"]
    sl_a, sl_b, sl_c = r["sqlite"]["a"], r["sqlite"]["b"], r["sqlite"]["c"]
    sl_done = sl_c is not None
    pg_e2e = pg_a["wall"] + pg_b["wall"]
    sl_c_wall = sl_c["wall"] if sl_done else r["sqlite"]["c_limit"]
    sl_e2e = sl_a["wall"] + sl_b["wall"] + sl_c_wall  # a lower bound when sl_c did not finish
    gt = "" if sl_done else "> "
    outcomes = pg_a["outcomes"] + pg_b["outcomes"]
    total_rows = sum(o["rows"] for o in outcomes if o["status"] == "accepted")
    peaks = {**pg_a["stage_peak_mb"]}
    for k, v in pg_b["stage_peak_mb"].items():
        peaks[k] = max(peaks.get(k, 0.0), v)
    stage_b = {s["name"]: s for s in pg_b["stages"]}
    comp = next(s for n, s in stage_b.items() if n.startswith("compute indicators"))
    rend = stage_b["render bulletin"]
    copy = r["copy"]
    naive = r["naive"]
    ours_file = next(o for o in outcomes if (o["source"], o["file"]) == NAIVE_FILE)
    ours_file_total = sum(ours_file["seconds"].get(k, 0.0) for k in ("read", "validate", "load"))
    ours_file_load = ours_file["seconds"]["load"]
    dags = r["dags"]
    peak_all = max(pg_a["peak_mb"], pg_b["peak_mb"], sl_a["peak_mb"], sl_b["peak_mb"],
                   sl_c["peak_mb"] if sl_done else 0.0)

    lines = ["| measurement | seconds | rows | rows/s | peak RSS (MB) |", "|---|---:|---:|---:|---:|"]

    def row(name, secs, rows=None, peak=None, prefix=""):
        if secs is None:
            lines.append(f"| {name} | — | — | — | — |")
            return
        rate = fmt_rate(rows, secs)
        rate = "< " + rate if prefix and rate != "—" else rate
        lines.append(f"| {name} | {prefix}{secs:,.2f} | {f'{rows:,}' if rows else '—'} | {rate} | "
                     f"{f'{peak:,.0f}' if peak else '—'} |")

    for stage, label in (("read", "stage: read (CSV → typed columns), all deliveries"),
                         ("validate", "stage: validate (GX suites), all deliveries"),
                         ("load", "stage: load (stage → in-warehouse checks → publish), PG")):
        secs, rows = sum_stage(outcomes, stage)
        row(label, secs, rows, peaks.get(stage))
    row(f"stage: compute indicators {PERIOD} (+ JSON), PG", comp["seconds"], None, peaks.get(comp["name"]))
    row("stage: render bulletin (docx, pdf, html, charts), PG", rend["seconds"], None, peaks.get("render bulletin"))
    row("**end to end, PostgreSQL** (year: 11 months + run 2023-12)", pg_e2e, total_rows,
        max(pg_a["peak_mb"], pg_b["peak_mb"]))
    row("  of which: ingest months 1–11 (process a)", pg_a["wall"],
        sum(o["rows"] for o in pg_a["outcomes"] if o["status"] == "accepted"), pg_a["peak_mb"])
    row("**single new month**, PG: `run` 2023-12 on 11 months (process b)", pg_b["wall"],
        sum(o["rows"] for o in pg_b["outcomes"] if o["status"] == "accepted"), pg_b["peak_mb"])
    sl_rows = sum(o["rows"] for o in sl_a["outcomes"] + sl_b["outcomes"] if o["status"] == "accepted")
    row("**end to end, SQLite** (same split; ingest 1–11, ingest 12, run 2023-12)", sl_e2e, sl_rows,
        max(sl_a["peak_mb"], sl_b["peak_mb"], sl_c["peak_mb"] if sl_done else 0.0), prefix=gt)
    row("  of which: ingest the whole year, SQLite", sl_a["wall"] + sl_b["wall"], sl_rows,
        max(sl_a["peak_mb"], sl_b["peak_mb"]))
    row("  of which: compute + render + deliver 2023-12, SQLite" + ("" if sl_done else
        f" (stopped after {sl_c_wall:.0f} s)"), sl_c_wall, None, sl_c["peak_mb"] if sl_done else None, prefix=gt)
    county = r["county"]
    for kind, label in (("sqlite", "SQLite (embedded default)"), ("pg", "PG")):
        c = county[kind]
        row(f"**county month**, {label}: `run` {PERIOD} of the county sample on 2021–2023-11", c["wall"],
            c["rows"], c["peak_mb"])
    row(f"indicator SQL, one month ({ONE_MONTH_SQL}), PG", pg_b["sql_month_s"])
    row(f"indicator SQL, one month ({ONE_MONTH_SQL}), SQLite", sl_c["sql_month_s"] if sl_done else None)
    row(f"**baseline: raw COPY** of the same {copy['files']} CSV files into bare PG tables", copy["seconds"],
        copy["rows"])
    row(f"baseline: naive pandas.read_csv + to_sql, {NAIVE_FILE[0]}/{NAIVE_FILE[1]}", naive["wall"],
        naive["rows"], naive["peak_mb"])
    row("  ours, same file: read + validate + load (PG)", ours_file_total, ours_file["rows"])
    row("  ours, same file: load stage only (PG)", ours_file_load, ours_file["rows"])

    ratio_copy = pg_e2e / copy["seconds"]
    load_sum, _ = sum_stage(outcomes, "load")
    ratio_load = load_sum / copy["seconds"]
    county_month = max(county["sqlite"]["wall"], county["pg"]["wall"])
    ratio_sqlite = sl_e2e / pg_e2e
    ratio_naive_full = naive["wall"] / ours_file_total
    ratio_naive_load = naive["wall"] / ours_file_load
    lines += ["", "| ratio | value |", "|---|---:|",
              f"| our end to end (PG) ÷ raw COPY | {ratio_copy:.1f}× |",
              f"| our load stage, summed over the year (PG) ÷ raw COPY | {ratio_load:.1f}× |",
              f"| SQLite end to end ÷ PostgreSQL end to end | {gt}{ratio_sqlite:.2f}× |",
              f"| SQLite ingest ÷ PostgreSQL ingest (whole year) | "
              f"{(sl_a['wall'] + sl_b['wall']) / (pg_a['wall'] + sum(s['seconds'] for s in pg_b['stages'] if s['name'].startswith('extract'))):.2f}× |",
              f"| naive load ÷ ours, same file, our read+validate+load | {ratio_naive_full:.1f}× |",
              f"| naive load ÷ ours, same file, our load stage only | {ratio_naive_load:.1f}× |"]
    lines += ["", "| DAG file | parse seconds (Airflow import excluded) |", "|---|---:|"]
    lines += [f"| dags/{n} | {s:.3f} |" for n, s in dags.items()]

    targets = [
        ("Province year end to end on PostgreSQL ≤ 5× the raw COPY of the same rows", ratio_copy <= TARGETS["pg_vs_copy"],
         f"{ratio_copy:.1f}× ({pg_e2e:.1f} s vs COPY {copy['seconds']:.1f} s)"),
        ("… the goal: ≤ 2× the raw COPY", ratio_copy <= TARGETS["pg_vs_copy_goal"], f"{ratio_copy:.1f}×"),
        ("Load stage (stage → checks → publish), summed over the year, ≤ 2× raw COPY",
         ratio_load <= TARGETS["load_vs_copy"], f"{ratio_load:.1f}× ({load_sum:.1f} s)"),
        ("Single new month at province scale < 8 s", pg_b["wall"] < TARGETS["month_s"], f"{pg_b['wall']:.1f} s"),
        ("County month (`run` on the county sample) < 5 s, both warehouses",
         county_month < TARGETS["county_month_s"],
         f"SQLite {county['sqlite']['wall']:.1f} s, PG {county['pg']['wall']:.1f} s"),
        ("Our read + validate + load of one file ≥ 5× faster than naive to_sql", ratio_naive_full >= TARGETS["naive_vs_ours"],
         f"{ratio_naive_full:.1f}× (naive {naive['wall']:.2f} s, ours {ours_file_total:.2f} s; "
         f"load stage alone {ratio_naive_load:.1f}×)"),
        ("Peak RSS < 3 GB", peak_all < TARGETS["rss_mb"], f"{peak_all:,.0f} MB (max over all runs)"),
        ("Indicator SQL one month < 5 s on PG", pg_b["sql_month_s"] < TARGETS["sql_month_s"],
         f"{pg_b['sql_month_s']:.2f} s"),
        ("SQLite end to end within 3× of PG", sl_done and ratio_sqlite <= TARGETS["sqlite_vs_pg"],
         f"{gt}{ratio_sqlite:.2f}× ({gt}{sl_e2e:.1f} s vs {pg_e2e:.1f} s)"
         + ("" if sl_done else f"; SQLite compute+render stopped after {sl_c_wall:.0f} s")),
        ("Every DAG file parses < 0.3 s", max(dags.values()) < TARGETS["dag_parse_s"],
         f"slowest {max(dags, key=dags.get)} {max(dags.values()):.3f} s"),
    ]
    return "\n".join(lines), targets


NARRATIVE = """\
## Round three (issue 17): what each change bought

Before (the previous `make bench` on this machine, quiet, same files): year on PostgreSQL 54.5 s
= 13.9× a raw COPY of 3.9 s; stage sums read 6.3 s, validate 20.0 s, load 21.8 s; compute 9.0 s;
single new month 18.3 s; one tax file read + validate + load 1.3 s against a naive `to_sql` of
2.2 s (1.7×). Each change was measured on its own by alternating old and new code in the same
minutes (the machine was shared, so the ratios count, not the seconds); the table above is the
run after all of them.

| change | where | measured on its own (old → new) |
|---|---|---|
| core_tax / core_energy / core_stats_enterprise partitioned by month (017); a one-month delivery is COPYed once into a fresh table, its key built after the COPY, a CHECK matching the bound, swapped in with ATTACH PARTITION (the replaced month detached and dropped in the same transaction); no staging copy for these tables on either dialect | `load.publish_direct` | load stage, year, PG 62–75 s → 32–35 s (contended); tax month 2.1–2.4 s → 1.0–1.2 s; SQLite year 91 s → 31 s. Of a tax month now ~0.4 s COPY, ~0.3 s key build, the swap milliseconds |
| ANALYZE after a batch: the new months' partitions only (the parent while it has no statistics): ANALYZE of a partitioned parent re-reads every partition on PostgreSQL 15 | `load.analyze` | +6 s per ingest with the parent analysed after every batch; the first batch analyses the parent once, not its partitions and then the parent again: process a 35.1 s → 30.5 s between the last two bench runs |
| Reader: values as Arrow arrays typed by pyarrow.compute; a plain UTF-8 CSV goes to pyarrow without decoding the text in Python; COPY data written from the arrays; pickling to the loader from buffers | `extract/`, `load.copy_csv` | read stage, year 6.2–6.6 s → 2.3–2.4 s CPU; tax file 0.22 s → 0.06 s; read + frame + COPY data + pickle, year 14–16 s → 6.7 s |
| GX: the suite in BASIC, only failing expectations again in COMPLETE; string columns as Arrow strings; `Expectation.configuration` built once per validation; results as JSON (the loader's process never imports GX) | `validate.py`, `gx_support.py` | validate, year (one process) 19–23 s → 11–14 s; a suite where every rule fails everywhere 31 s → 36 s (the second pass) |
| GX's SQL execution engine on the staged table, instead of pandas (spike, not adopted) | — | tax suite's ten built-in expectations 2.0–2.4 s on PostgreSQL vs 0.2–0.7 s in pandas; our nine custom ones have no SQL implementation |
| Warning rules: one statement per table over every month pair of the report (was one per month and column: 46 statements); delivered months by index probes; the rules in one transaction with compute's settings (work_mem, no JIT) | `rules.py`, `include/sql/rules/` | compute + document 2023-12, PG 22 s → 15 s (contended; 9.0 s → 6.5–8.3 s in the last two bench runs); SQLite 150 s → 76–95 s |
| Data Docs written by a side process while the month is computed and rendered | `pipeline.run_month` | the stage's ~0.5 s plus the GX import the parent no longer pays leave the month's path |
| Set-up installs Liberation Serif (Times New Roman's metrics) for LibreOffice | `scripts/ensure-system-packages.sh` | correctness of the office layout test, not speed |

## Where the floor is, and why the targets that miss do

* **Year ≤ 5× (goal 2×) COPY.** On 2 cores the read-ahead process (read + GX + COPY data) and
  the loader plus its PostgreSQL backend share the machine. A 150,000-row tax month now costs
  ~0.06 s to read, ~0.26 s of GX and ~0.55 s to load (COPY plus key build); GX's own fixed
  cost per suite (0.155 s for tax before this round: the metric graph it builds for every
  expectation; less now, not measured apart) is paid 73 times,
  and compute (6.5–8.3 s in the last two runs, mostly the warning rules' self-joins of 1.8 M-row
  tables per month pair) and render (3.3–4.1 s) come on top of a year whose rows are already in. The process that ingests
  months 1–11 takes longer than either side's sum (loader ~14 s, read-ahead ~22 s): the one-
  ahead pipeline, the fork and GX import before the first delivery, archiving and hashing the
  347 MB are in that difference and not yet broken down. A second read-ahead process (the
  spans showed the loader waiting ~9 s for the one) was tried and not kept: months 1–11 took
  28.8–30.2 s with one and 30.5–30.9 s with two, alternated on a quiet machine — both cores are
  busy either way. A raw COPY checks nothing, keys
  nothing and computes nothing; with a GX suite per delivery, a primary key per month and the
  rules, this design's floor on 2 cores is several times a COPY.
* **Load stage ≤ 2× COPY.** Publishing is now COPY + key build per month; the key build (~0.3 s
  per 150,000 rows) is the part a bare COPY does not do. Dropping the key would lose the
  duplicate check that rejects a delivery whole.
* **Single new month < 8 s.** Three province-size deliveries (6.0–7.5 s of ingest with the fork
  and GX import), compute 6.5–8.3 s (the rules evaluate January to December on every run),
  render 3.3–4.1 s. What
  would pay next: keeping each month pair's rule result keyed by the deliveries of the two
  months (a month computed once is not re-evaluated).
* **County month < 5 s.** The demo's month is six small deliveries: ~4 s of ingest, most of it
  the GX import (~3 s) in a fresh process, and render ~3 s. Below 5 s needs the GX import off
  the path (a long-lived worker, as the Airflow workers are) or a cheaper render.
* **Read + validate + load ≥ 5× naive `to_sql`.** 4.2–4.6× in the last two runs (0.73–0.83 s
  against 3.3–3.5 s); the load stage alone 6.4–7.2×. GX's ~0.26 s per file is the rest.

## Earlier rounds (issue 8), in short

Year on PostgreSQL 216 s (one delivery at a time) → 147 s (in-warehouse checks without
per-delivery ANALYZE, UNLOGGED staging, reading ahead on the second core, a cheap GX batch
fingerprint) → 137 s (columnar CSV reader, staging without a key, registry anti-join, SQLite
read indexes) → 120 s (COPY data built ahead, render path) → 54.5 s (the previous run above,
with the warning rules moved to compute time).
"""


def write_markdown(path: Path, r: dict, table: str, targets: list[tuple[str, bool, str]], command: str) -> str:
    m = r["machine"]
    held = [t for t in targets if t[1]]
    text = [
        "# Performance at province scale",
        "",
        f"Generated by `scripts/bench.py` (run by `make bench`); this run: `{command}`, {r['date']}.",
        "the numbers below are this machine's, from one run on one set of files.",
        "",
        "## Machine",
        "",
        f"* CPU: {m['cpu']}, {m['cores']} cores; memory {m['memory_gb']:.1f} GB; {m['os']}",
        f"* Python {m['python']}, PostgreSQL {r['pg_version']} on 127.0.0.1 (same machine), psycopg {m['psycopg']}",
        f"* load average (1/5/15 min) before: {r['load_before']}, after: {r['load_after']} — other "
        "sessions share this machine, so figures carry that noise",
        "",
        "## Data",
        "",
        f"`mfg-indicators sample --scale province`: {r['sample']['enterprises']:,} enterprises, year 2023, "
        f"{r['sample']['files']} files, {sum(r['sample']['rows'].values()):,} rows "
        f"({', '.join(f'{k} {v:,}' for k, v in sorted(r['sample']['rows'].items()))}); "
        f"{r['inbox_mb']:.0f} MB of CSV (UTF-8, one month in GBK).",
        "",
        "## Results",
        "",
        table,
        "",
        "Stage rows are sums over the deliveries of the PostgreSQL run (rows/s per stage). Read and",
        "validate of the next delivery overlap the current load (read-ahead process or thread), so the stage seconds",
        "add up to more than the wall time. Peak RSS per stage is the largest sample (psutil, 50 ms)",
        "taken while that stage ran. End to end = process a (ingest deliveries that arrived before",
        "2024-01-01) + process b (`run_month` 2023-12: ingest the month-12 deliveries, compute,",
        "render, deliver) — two fresh processes, so imports are paid twice.",
        "",
        "## Targets",
        "",
        "| target | holds | measured |",
        "|---|---|---|",
    ]
    text += [f"| {name} | {'yes' if ok else '**no**'} | {fig} |" for name, ok, fig in targets]
    text += ["", f"{len(held)} of {len(targets)} targets hold on this run.", ""]
    text += [NARRATIVE]
    body = "\n".join(text) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return body


_RESULT_JSON: Path | None = None


def save(r: dict) -> None:
    """Raw figures so far (bench-result.json in the work folder): a failed run keeps them."""
    if _RESULT_JSON is not None:
        _RESULT_JSON.write_text(json.dumps(r, ensure_ascii=False, indent=1), encoding="utf-8")


def main() -> int:
    global _RESULT_JSON
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=ROOT / "var" / "bench")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    ap.add_argument("--pg", default=os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://root@127.0.0.1:5432/postgres"))
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("child_args", nargs="?", help=argparse.SUPPRESS)
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite --out from <work>/bench-result.json without measuring again")
    a = ap.parse_args()
    if a.report_only:
        r = json.loads((a.work / "bench-result.json").read_text(encoding="utf-8"))
        table, targets = build_report(r)
        write_markdown(a.out, r, table, targets, r.get("command", "python scripts/bench.py"))
        print(table)
        return 0
    if a.child:
        print(json.dumps(CHILDREN[a.child](json.loads(a.child_args))))
        return 0

    command = "python scripts/bench.py " + " ".join(sys.argv[1:])
    work = a.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    inbox = work / "inbox"
    _RESULT_JSON = work / "bench-result.json"
    r: dict = {"command": command, "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
               "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()), "machine": machine()}
    r["sample"] = ensure_sample(inbox)
    first, second, files = split_inbox(inbox, work)
    r["inbox_mb"] = sum(p.stat().st_size for p in files) / 2**20
    dbs = Databases(a.pg)
    tag = f"mfg_bench_{os.getpid()}"
    try:
        r["pg_version"] = dbs._conn.execute("SHOW server_version").fetchone()[0]
        for kind in ("pg", "sqlite"):
            db = work / "bench-warehouse.sqlite"
            url = dbs.warehouse(kind, f"{tag}_wh", db)
            run_dir = fresh_dir(work / f"run-{kind}")
            say(f"[{kind}] ingest months 1–11 …")
            a_res = run_child("ingest", {"url": url, "inbox": str(first), "work": str(run_dir)})
            say(f"[{kind}]   {a_res['wall']:.1f} s, peak {a_res['peak_mb']:.0f} MB")
            if kind == "sqlite":
                # SQLite: the month-12 ingest, then compute + render under a time limit (the
                # per-mu indicator query is known to be slow on SQLite at this scale)
                say(f"[{kind}] ingest the month-12 deliveries …")
                b_ing = run_child("ingest", {"url": url, "inbox": str(second), "work": str(run_dir)})
                say(f"[{kind}]   {b_ing['wall']:.1f} s")
                say(f"[{kind}] run {PERIOD} (nothing new to ingest: compute, render, deliver), "
                    f"at most {SQLITE_RUN_LIMIT_S:.0f} s …")
                c_res = run_child("run", {"url": url, "inbox": str(second), "work": str(run_dir), "period": PERIOD,
                                          "sql_period": ONE_MONTH_SQL}, timeout=SQLITE_RUN_LIMIT_S)
                say(f"[{kind}]   " + (f"{c_res['wall']:.1f} s" if c_res else "did not finish: stopped"))
                r[kind] = {"a": a_res, "b": b_ing, "c": c_res, "c_limit": SQLITE_RUN_LIMIT_S}
                db.unlink(missing_ok=True)
                save(r)
                continue
            say(f"[{kind}] run {PERIOD} with the month-12 deliveries …")
            b_res = run_child("run", {"url": url, "inbox": str(second), "work": str(run_dir), "period": PERIOD,
                                      "sql_period": ONE_MONTH_SQL})
            say(f"[{kind}]   {b_res['wall']:.1f} s, peak {b_res['peak_mb']:.0f} MB; "
                f"indicator SQL {ONE_MONTH_SQL}: {b_res['sql_month_s']:.2f} s")
            r[kind] = {"a": a_res, "b": b_res}
            for st in b_res["stages"]:
                say(f"[{kind}]     {st['name']}: {st['seconds']:.1f} s")
            save(r)
        # The county month: the demo's inbox (county sample, 2021–2023) loaded up to 2023-11,
        # then `run` 2023-12 with the month-12 deliveries in a fresh process, on both warehouses.
        county_inbox = work / "county-inbox"
        r["county_sample"] = ensure_county_sample(county_inbox)
        c_first, c_second, _ = split_inbox(county_inbox, work, prefix="county-")
        r["county"] = {}
        for kind in ("sqlite", "pg"):
            db = work / "bench-county.sqlite"
            url = dbs.warehouse(kind, f"{tag}_county", db)
            run_dir = fresh_dir(work / f"run-county-{kind}")
            say(f"[county {kind}] ingest up to 2023-11, then run {PERIOD} …")
            pre = run_child("ingest", {"url": url, "inbox": str(c_first), "work": str(run_dir)})
            res = run_child("run", {"url": url, "inbox": str(c_second), "work": str(run_dir), "period": PERIOD,
                                    "sql_period": ONE_MONTH_SQL})
            r["county"][kind] = {"ingest_wall": pre["wall"], "wall": res["wall"], "stages": res["stages"],
                                 "peak_mb": max(pre["peak_mb"], res["peak_mb"]),
                                 "rows": sum(o["rows"] for o in res["outcomes"] if o["status"] == "accepted")}
            say(f"[county {kind}]   ingest {pre['wall']:.1f} s; run {PERIOD} {res['wall']:.1f} s")
            if kind == "sqlite":
                db.unlink(missing_ok=True)
            save(r)
        say("baseline: raw COPY …")
        r["copy"] = raw_copy(dbs.create(f"{tag}_copy"), files, work)
        say(f"  {r['copy']['seconds']:.1f} s for {r['copy']['rows']:,} rows")
        say("baseline: naive read_csv + to_sql …")
        naive_url = dbs.create(f"{tag}_naive").replace("postgresql://", "postgresql+psycopg://", 1)
        r["naive"] = run_child("naive", {"url": naive_url, "file": str(inbox / NAIVE_FILE[0] / NAIVE_FILE[1])})
        say(f"  {r['naive']['wall']:.1f} s")
    finally:
        dbs.drop_all()
    say("DAG parse times …")
    r["dags"] = dag_parse_times()
    r["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    table, targets = build_report(r)
    save(r)
    write_markdown(a.out, r, table, targets, command)
    print(table)
    print()
    for name, ok, fig in targets:
        print(f"{'HOLDS' if ok else 'MISSES'}  {name}: {fig}")
    print(f"\nwritten: {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
