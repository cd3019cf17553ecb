"""Shared by the concurrency and fault tests: a small multi-source inbox, the CLI as a real
process, and a warehouse snapshot that two runs must agree on. No tests here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mfg_indicators.load import snapshot

from test_ingest_support import bad_uscc, headers, registry_rows, tax_rows, uscc, write_csv

CLI = str(Path(sys.executable).parent / "mfg-indicators")
T0 = 1_700_000_000
PERIOD = "2023-06"


def energy_rows(period: str, enterprises: list[int]) -> list[list]:
    return [[uscc(n), f"云和县企业{n}有限公司", period, 100.0 + n, 20.0 + n] for n in enterprises]


def small_inbox(root: Path, months: int = 6) -> Path:
    """Registry, tax and energy for 2023-01…``months``: a duplicate, a corrected month and one
    bad file."""
    inbox = root / "inbox"
    firms = [1, 2, 3, 4, 5]
    write_csv(inbox / "registry" / "名录2023.csv", headers("registry"), registry_rows(2023, firms), mtime=T0)
    t = T0 + 10
    for m in range(1, months + 1):
        write_csv(inbox / "tax" / f"2023年{m}月.csv", headers("tax"), tax_rows(f"2023-{m:02d}", firms, base=10 + m),
                  mtime=t)
        write_csv(inbox / "energy" / f"2023年{m}月能耗.csv", headers("energy"), energy_rows(f"2023-{m:02d}", firms),
                  mtime=t + 1)
        t += 2
    write_csv(inbox / "tax" / "2023年3月副本.csv", headers("tax"), tax_rows("2023-03", firms, base=13), mtime=t)
    write_csv(inbox / "tax" / "2023年5月更正.csv", headers("tax"), tax_rows("2023-05", firms, base=30), mtime=t + 1)
    bad = tax_rows("2023-06", firms, base=16)
    bad[2][0] = bad_uscc(3)
    write_csv(inbox / "tax" / "2023年6月补报.csv", headers("tax"), bad, mtime=t + 2)  # rejected
    return inbox


def run_args(inbox: Path, url: str, out: Path, work: Path, *extra: str) -> list[str]:
    return [CLI, "run", "--period", PERIOD, "--inbox", str(inbox), "--warehouse", url, "--out", str(out),
            "--archive", str(work / "archive"), "--quarantine", str(work / "quarantine"), *extra]


def env(**overrides: str) -> dict[str, str]:
    e = os.environ.copy()
    e.update(overrides)
    return e


def run_cli(args: list[str], *, timeout: float = 600, **env_overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env(**env_overrides))


def comparable(engine) -> dict:
    """Every warehouse row, without what differs by run folder and clock."""
    snap = snapshot(engine)
    snap.pop("schema_migrations", None)  # applied_at
    # raw_delivery: drop archive path and received_at
    snap["raw_delivery"] = sorted((r[0], r[1], r[2], r[4], r[7], r[8], r[9]) for r in snap["raw_delivery"])
    for name in list(snap):
        if name.startswith("mart_"):  # computed_at and the like: compared through the JSON instead
            snap.pop(name)
    return snap
