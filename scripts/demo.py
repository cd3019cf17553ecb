"""`make demo`: the main job on the embedded default, through Airflow itself.

1. writes the sample inbox to inbox/ if it is missing;
2. migrates a SQLite Airflow metadata DB under the project-local .airflow/;
3. runs the six feed DAGs, then the monthly DAG for --period, with dag.test();
4. prints where the outputs are and a short status table.

Airflow's own log lines go to var/logs/demo-airflow.log; this script prints one line per DAG run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def demo_env() -> dict[str, str]:
    env = os.environ.copy()
    env.update({
        "AIRFLOW_HOME": str(ROOT / ".airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "MFG_INBOX": env.get("MFG_INBOX", str(ROOT / "inbox")),
        "MFG_OUTPUT": env.get("MFG_OUTPUT", str(ROOT / "output")),
        "MFG_VAR_DIR": env.get("MFG_VAR_DIR", str(ROOT / "var")),
    })
    env.setdefault("MFG_WAREHOUSE_URL", f"sqlite:///{Path(env['MFG_VAR_DIR']) / 'warehouse.sqlite'}")
    env.setdefault("MFG_ARCHIVE", str(Path(env["MFG_VAR_DIR"]) / "archive"))
    env.setdefault("MFG_QUARANTINE", str(Path(env["MFG_VAR_DIR"]) / "quarantine"))
    return env


def logical_date_for(period: str) -> dt.datetime:
    """The monthly DAG's logical date for report month `period`: its data interval is the month,
    so the logical date is the 1st of the month after, 00:00 Asia/Shanghai."""
    from zoneinfo import ZoneInfo

    y, m = map(int, period.split("-"))
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return dt.datetime(y, m, 1, tzinfo=ZoneInfo("Asia/Shanghai"))


def run_dags(period: str) -> int:
    """In the child process (env already set): parse dags/ and dag.test() each DAG in order."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        for path, err in bag.import_errors.items():
            print(f"DAG import error in {path}:\n{err}", file=sys.__stderr__)
        return 1
    # The registry first: the other feeds' checks ask whether an enterprise is registered.
    order = {"feed_registry": 0}
    feed_ids = sorted((d for d in bag.dags if d.startswith("feed_")), key=lambda d: (order.get(d, 1), d))
    monthly = [d for d in bag.dags if d == "monthly_indicators"]
    if not feed_ids or not monthly:
        print(f"expected feed_* and monthly_indicators DAGs, found {sorted(bag.dags)}", file=sys.__stderr__)
        return 1
    runs: list[tuple[str, dict]] = [(d, {}) for d in feed_ids]
    year, month = map(int, period.split("-"))
    if month == 12 and "annual_evaluation" in bag.dags:
        # The December bulletin reports the 亩均效益综合评价: evaluate the year and the one before
        # (for the change). In production the annual DAG runs in March, after the year is final.
        runs += [("annual_evaluation", {"run_conf": {"year": y}}) for y in (year - 1, year)]
    runs.append((monthly[0], {"logical_date": logical_date_for(period)}))
    failed = 0
    for dag_id, kwargs in runs:
        dr = bag.dags[dag_id].test(**kwargs)
        state = str(getattr(dr, "state", "unknown"))
        label = dag_id + (f" {kwargs['run_conf']['year']}" if "run_conf" in kwargs else "")
        print(f"  DAG {label:<24} {state}", file=sys.__stderr__, flush=True)
        failed += state != "success"
    return 1 if failed else 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--period", default="2023-12")
    ap.add_argument("--run-dags", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run_dags:
        return run_dags(args.period)

    env = demo_env()
    inbox = Path(env["MFG_INBOX"])
    if not inbox.exists():
        print(f"writing the sample inbox to {inbox} …")
        subprocess.run([str(BIN / "mfg-indicators"), "sample", "--out", str(inbox)], check=True, env=env)
    logs = Path(env["MFG_VAR_DIR"]) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / "demo-airflow.log"
    with open(log_path, "w", encoding="utf-8") as log:
        print("migrating the Airflow metadata DB (.airflow/airflow.db) …")
        subprocess.run([str(BIN / "airflow"), "db", "migrate"], check=True, env=env, stdout=log,
                       stderr=subprocess.STDOUT)
        print(f"running the DAGs for {args.period} through Airflow (log: {log_path}) …")
        rc = subprocess.run([sys.executable, __file__, "--run-dags", "--period", args.period],
                            env=env, stdout=log, stderr=None).returncode
    out_dir = Path(env["MFG_OUTPUT"])
    doc_path = out_dir / f"indicators-{args.period}.json"
    if rc != 0 or not doc_path.exists():
        print(f"demo FAILED (exit {rc}); see {log_path}", file=sys.stderr)
        return rc or 1
    sys.path.insert(0, str(ROOT / "src"))
    from mfg_indicators.document import read_document
    from mfg_indicators.pipeline import format_summary

    document = read_document(doc_path)
    outputs = {"json": doc_path}
    outputs.update({p.suffix.lstrip("."): p for p in sorted(out_dir.glob(f"bulletin-{args.period}.*"))})
    manifests = sorted((out_dir / "bulletin-archive" / args.period).glob("r*/manifest.json"))
    if manifests:
        outputs["manifest"] = manifests[-1]
    outputs.update({f"data docs {p.parent.parent.name}": p
                    for p in sorted((out_dir / "data-docs").glob("*/data-docs/index.html"))})
    outputs.update({f"evaluation {p.stem[-4:]}": p for p in sorted((out_dir / "evaluation").glob("*.xlsx"))})
    print(format_summary(document, outputs, document.get("rejected", [])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
