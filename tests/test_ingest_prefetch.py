"""Reading ahead (issue 8): ingest_inbox reads and validates the next delivery while the current
one loads — in a thread or, for big inboxes, a second process. The warehouse, the outcomes and the
findings must be exactly those of ingesting the deliveries one by one, on both warehouses,
including a rejected file, a duplicate and a corrected month. Progress: a line per delivery when
stderr is not a terminal."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from mfg_indicators.config import load_config
from mfg_indicators.extract import find_deliveries
from mfg_indicators.ingest import ingest_delivery, ingest_inbox
from mfg_indicators.load import snapshot
from mfg_indicators.stage_log import DeliveryProgress, StageLog
from mfg_indicators.validate import collect_results
from mfg_indicators.warehouse import connect

from test_ingest_support import bad_uscc, headers, registry_rows, tax_rows, write_csv

T0 = 1_700_000_000


@pytest.fixture(scope="module")
def config():
    return load_config()


def _inbox(root: Path) -> Path:
    inbox = root / "inbox"
    write_csv(inbox / "registry" / "名录2023.csv", headers("registry"), registry_rows(2023, [1, 2, 3, 4]), mtime=T0)
    write_csv(inbox / "tax" / "2023年5月.csv", headers("tax"), tax_rows("2023-05", [1, 2, 3, 9]), mtime=T0 + 1)
    write_csv(inbox / "tax" / "2023年6月.csv", headers("tax"), tax_rows("2023-06", [1, 2, 3]), mtime=T0 + 2)
    bad = tax_rows("2023-07", [1, 2])
    bad[1][0] = bad_uscc(2)
    write_csv(inbox / "tax" / "2023年7月.csv", headers("tax"), bad, mtime=T0 + 3)  # rejected
    write_csv(inbox / "tax" / "2023年5月副本.csv", headers("tax"), tax_rows("2023-05", [1, 2, 3, 9]),
              mtime=T0 + 4)  # same bytes as May: duplicate
    fixed = tax_rows("2023-06", [1, 2, 3, 4])
    write_csv(inbox / "tax" / "2023年6月更正.csv", headers("tax"), fixed, mtime=T0 + 5)  # replaces June
    return inbox


def _comparable(engine) -> dict:
    snap = snapshot(engine)
    snap.pop("schema_migrations", None)
    # raw_delivery: drop archive path and received_at (differ by run folder and clock)
    snap["raw_delivery"] = sorted((r[0], r[1], r[2], r[4], r[7], r[8], r[9]) for r in snap["raw_delivery"])
    return snap


def _findings(outcomes) -> list[tuple]:
    return [(o.file, o.status, o.rows, tuple(sorted(o.tables.items())),
             tuple((f.level, f.rule, f.row, f.column, f.uscc, f.message) for f in o.findings)) for o in outcomes]


def _second_url(warehouse_url: str, tmp_path: Path, pg_server) -> str:
    if warehouse_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'second.sqlite'}"
    return pg_server("prefetch")


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_read_ahead_gives_the_same_warehouse_as_one_by_one(mode, engine, warehouse_url, tmp_path, pg_server, config):
    inbox = _inbox(tmp_path)
    # reference: ingest_delivery in arrival order, no reading ahead
    ref_engine = connect(_second_url(warehouse_url, tmp_path, pg_server))
    try:
        with collect_results() as ref_run:
            ref = [ingest_delivery(ref_engine, d, config=config, archive_dir=tmp_path / "a1",
                                   quarantine_dir=tmp_path / "q1", move_rejected=False)
                   for d in find_deliveries(inbox)]
        ref_snap = _comparable(ref_engine)
    finally:
        ref_engine.dispose()
    lines = io.StringIO()
    progress = DeliveryProgress(StageLog(), stream=lines)
    log = StageLog()
    progress._log = log
    said: list[str] = []
    log._say = said.append  # type: ignore[method-assign]
    with collect_results() as run:
        rep = ingest_inbox(inbox, engine, config=config, archive_dir=tmp_path / "a2",
                           quarantine_dir=tmp_path / "q2", move_rejected=False, prefetch=mode, progress=progress)
    assert [o.status for o in rep.outcomes] == ["accepted", "accepted", "accepted", "rejected", "duplicate",
                                                "accepted"]
    assert _findings(rep.outcomes) == _findings(ref)
    assert _comparable(engine) == ref_snap
    # GX results of the same validations reach the collector, in the same order
    assert [(c.table, c.file) for c in run.results] == [(c.table, c.file) for c in ref_run.results]
    # read and validate were timed where they ran, load in the caller
    accepted = [o for o in rep.outcomes if o.status == "accepted"]
    assert all({"read", "validate", "load"} <= set(o.seconds) for o in accepted)
    assert all([s[0] for s in o.spans] == ["read", "validate", "load"] for o in accepted)
    # not a terminal: one plain line per delivery, numbered, no bar
    assert not progress.is_bar and lines.getvalue() == ""
    assert len(said) == 6 and said[0].startswith("  · [1/6] registry/名录2023.csv: accepted")
    assert "rejected" in said[3] and "duplicate" in said[4]


def test_files_already_accepted_are_not_read_again(engine, tmp_path, config, monkeypatch):
    inbox = _inbox(tmp_path)
    first = ingest_inbox(inbox, engine, config=config, archive_dir=tmp_path / "a", quarantine_dir=tmp_path / "q",
                         move_rejected=False)
    assert len(first.accepted) == 4
    import mfg_indicators.ingest as ingest

    reads: list[str] = []
    plain = ingest._read_and_check

    def counting(delivery, *a, **kw):
        reads.append(delivery.name)
        return plain(delivery, *a, **kw)

    monkeypatch.setattr(ingest, "_read_and_check", counting)
    again = ingest_inbox(inbox, engine, config=config, archive_dir=tmp_path / "a", quarantine_dir=tmp_path / "q",
                         move_rejected=False, prefetch="thread")
    assert [o.status for o in again.outcomes] == ["duplicate", "duplicate", "duplicate", "rejected", "duplicate",
                                                  "duplicate"]
    assert reads == ["2023年7月.csv"]  # only the rejected file, which was never accepted


def test_progress_is_a_bar_on_a_terminal_only():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    class Outcome:
        source, file, status, rows, seconds = "tax", "2023年5月.csv", "accepted", 150_000, {"read": 1.0}

    said: list[str] = []
    log = StageLog()
    log._say = said.append  # type: ignore[method-assign]
    tty = Tty()
    bar = DeliveryProgress(log, 2, stream=tty)
    assert bar.is_bar
    bar(Outcome())
    bar.close()
    assert "deliveries" in tty.getvalue() and "1/2" in tty.getvalue()
    assert said == []  # the bar replaces the per-delivery lines on a terminal
    quiet = DeliveryProgress(StageLog(quiet=True), 2, stream=Tty())
    assert not quiet.is_bar  # quiet runs (the benchmark, tests) never draw a bar
