"""Ingestion end to end on both warehouses: write–audit–publish, keys and replacement, duplicates,
arrival order, quarantine with reports, and every bad-input kind leaving the warehouse unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mfg_indicators.config import load_config
from mfg_indicators.extract import find_deliveries
from mfg_indicators.ingest import ingest_delivery, ingest_inbox
from mfg_indicators.load import snapshot

from test_ingest_support import (H, bad_uscc, core_rows, count, headers, registry_rows, tax_rows, uscc, write_csv,
                                 write_json, write_xlsx)

T0 = 1_700_000_000  # mtimes: arrival order is explicit in every test


@pytest.fixture(scope="module")
def config():
    return load_config()


@pytest.fixture
def dirs(tmp_path):
    d = {"inbox": tmp_path / "inbox", "archive": tmp_path / "archive", "quarantine": tmp_path / "quarantine"}
    for p in d.values():
        p.mkdir()
    return d


def run(engine, dirs, config, **kw):
    return ingest_inbox(dirs["inbox"], engine, config=config, archive_dir=dirs["archive"],
                        quarantine_dir=dirs["quarantine"], **kw)


def seed(engine, dirs, config):
    """A non-trivial warehouse: a registry roster and two tax months."""
    write_csv(dirs["inbox"] / "registry" / "名录2023.csv", headers("registry"), registry_rows(2023, [1, 2, 3]),
              mtime=T0)
    write_csv(dirs["inbox"] / "tax" / "2023年5月.csv", headers("tax"), tax_rows("2023-05", [1, 2, 3]), mtime=T0 + 1)
    write_csv(dirs["inbox"] / "tax" / "2023年6月.csv", headers("tax"), tax_rows("2023-06", [1, 2, 3]), mtime=T0 + 2)
    rep = run(engine, dirs, config)
    assert [o.status for o in rep.outcomes] == ["accepted"] * 3, [f.message for f in rep.rejected]
    return rep


# --- accepted path ----------------------------------------------------------------------------


def test_accepted_delivery_is_published_and_recorded(engine, dirs, config):
    rep = seed(engine, dirs, config)
    tax = core_rows(engine, "tax")
    assert len(tax) == 6 and {r["period"] for r in tax} == {"2023-05", "2023-06"}
    jun = rep.outcomes[2]
    assert jun.tables == {"tax": 3} and jun.periods == ["2023-06"] and jun.rows == 3
    assert all(r["delivery_id"] == jun.delivery_id for r in tax if r["period"] == "2023-06")
    raw = count(engine, "SELECT periods FROM raw_delivery WHERE delivery_id = :d AND status = 'accepted'",
                d=jun.delivery_id)
    assert json.loads(raw) == ["2023-06"]
    assert count(engine, "SELECT row_count FROM delivery_table WHERE delivery_id = :d AND table_name = 'tax'",
                 d=jun.delivery_id) == 3
    assert count(engine, "SELECT COUNT(*) FROM stg_tax") == 0  # staging cleared
    assert jun.archive_path.read_bytes() == (dirs["inbox"] / "tax" / "2023年6月.csv").read_bytes()
    assert rep.periods_by_source() == {"registry": ["2023"], "tax": ["2023-05", "2023-06"]}
    assert rep.exit_code == 0 and rep.rows_loaded == 9


def test_empty_cells_stay_null(engine, dirs, config):
    rows = tax_rows("2023-06", [1])
    rows[0][5] = None  # 其他税费 not reported
    rows[0][6] = rows[0][3] + rows[0][4]
    write_csv(dirs["inbox"] / "tax" / "t.csv", headers("tax"), rows, mtime=T0)
    rep = run(engine, dirs, config)
    assert rep.outcomes[0].status == "accepted", [f.message for f in rep.rejected]
    assert core_rows(engine, "tax")[0]["other_tax"] is None


def test_same_file_twice_changes_nothing(engine, dirs, config):
    seed(engine, dirs, config)
    before = snapshot(engine)
    rep = run(engine, dirs, config)  # the same inbox again: every file is a duplicate
    assert [o.status for o in rep.outcomes] == ["duplicate"] * 3
    copy = dirs["inbox"] / "tax" / "6月税收（重发）.csv"  # same bytes, other name, later
    copy.write_bytes((dirs["inbox"] / "tax" / "2023年6月.csv").read_bytes())
    rep2 = run(engine, dirs, config, sources=["tax"])
    assert rep2.outcomes[-1].status == "duplicate" and rep2.rows_loaded == 0
    assert snapshot(engine) == before


def test_corrected_month_replaces_the_month_whole(engine, dirs, config):
    seed(engine, dirs, config)
    # Correction of June: enterprise 3 is gone, enterprise 4 is new, enterprise 1 changes.
    rows = tax_rows("202306", [1, 2, 4], base=50)
    write_csv(dirs["inbox"] / "tax" / "2023年6月（更正）.csv", headers("tax"), rows, mtime=T0 + 10)
    rep = run(engine, dirs, config, sources=["tax"])
    assert rep.outcomes[-1].status == "accepted"
    jun = [r for r in core_rows(engine, "tax") if r["period"] == "2023-06"]
    assert [r["uscc"] for r in jun] == sorted([uscc(1), uscc(2), uscc(4)])
    assert {r["uscc"]: r["vat"] for r in jun}[uscc(1)] == 50.0
    may = [r for r in core_rows(engine, "tax") if r["period"] == "2023-05"]
    assert len(may) == 3  # other months untouched


def test_registry_roster_replaced_per_year(engine, dirs, config):
    write_csv(dirs["inbox"] / "registry" / "a.csv", headers("registry"),
              registry_rows(2022, [1, 2]) + registry_rows(2023, [1, 2, 3]), mtime=T0)
    write_csv(dirs["inbox"] / "registry" / "b.csv", headers("registry"), registry_rows(2023, [2, 5]), mtime=T0 + 1)
    rep = run(engine, dirs, config)
    assert [o.status for o in rep.outcomes] == ["accepted", "accepted"], [f.message for f in rep.rejected]
    got = {(r["roster_year"], r["uscc"]) for r in core_rows(engine, "registry")}
    assert got == {(2022, uscc(1)), (2022, uscc(2)), (2023, uscc(2)), (2023, uscc(5))}


def test_event_rows_upsert_by_key(engine, dirs, config):
    hs = headers("projects")
    code = "2306-331125-04-01-512345"
    first = [[code, "木玩项目", "甲", uscc(1), "2459", 12000, "签约", "2023-06-05", "是", 100],
             ["2306-331125-04-01-512346", "阀门项目", "乙", None, "3443", 5000, "签约", "2023/6/8", "否", None]]
    second = [[code, "木玩项目", "甲", uscc(1), "2459", 12000, "签约", "2023-06-05", "是", 300],
              [code, "木玩项目", "甲", uscc(1), "2459", 12000, "开工", "2023-07-01", "是", 300]]
    write_csv(dirs["inbox"] / "projects" / "6月.csv", hs, first, mtime=T0)
    write_xlsx(dirs["inbox"] / "projects" / "7月.xlsx", [("项目台账", [["7月项目"], hs, *second])], mtime=T0 + 1)
    rep = run(engine, dirs, config)
    assert [o.status for o in rep.outcomes] == ["accepted", "accepted"], [f.message for f in rep.rejected]
    rows = {(r["project_code"], r["stage"]): r for r in core_rows(engine, "projects")}
    assert set(rows) == {(code, "签约"), (code, "开工"), ("2306-331125-04-01-512346", "签约")}
    assert rows[(code, "签约")]["funds_in_place"] == 300  # updated
    assert str(rows[("2306-331125-04-01-512346", "签约")]["stage_date"]) == "2023-06-08"  # kept
    assert rep.outcomes[1].periods == ["2023-06", "2023-07"]


def test_arrival_order_mtime_then_name(engine, dirs, config):
    # "z" arrived first (older mtime) although its name sorts last; "a" and "b" share an mtime.
    write_csv(dirs["inbox"] / "tax" / "z.csv", headers("tax"), tax_rows("2023-06", [1], base=1), mtime=T0)
    write_csv(dirs["inbox"] / "tax" / "b.csv", headers("tax"), tax_rows("2023-06", [1], base=3), mtime=T0 + 5)
    write_csv(dirs["inbox"] / "tax" / "a.csv", headers("tax"), tax_rows("2023-06", [1], base=2), mtime=T0 + 5)
    rep = run(engine, dirs, config)
    assert [o.file for o in rep.outcomes] == ["z.csv", "a.csv", "b.csv"]
    assert core_rows(engine, "tax")[0]["vat"] == 3.0  # b applied last


def test_stats_workbook_two_tables_in_one_transaction(engine, dirs, config):
    county = [headers("stats_county"), ["地区生产总值", "2023-06", "累计", 55.5, "亿元"],
              ["规上工业增加值增速", "2023-06", "累计", 12.3, "%"]]
    ent = [["企业月报（1—6月）"], headers("stats_enterprise"), [uscc(1), "甲", "2023年6月", 1000, 200, 1100, 30, 50]]
    write_xlsx(dirs["inbox"] / "stats" / "统计.xlsx", [("企业月报", ent), ("主要指标", county)], mtime=T0)
    rep = run(engine, dirs, config)
    o = rep.outcomes[0]
    assert o.status == "accepted", [f.message for f in o.findings]
    assert o.tables == {"stats_enterprise": 1, "stats_county": 2}
    assert count(engine, "SELECT COUNT(*) FROM delivery_table WHERE delivery_id = :d", d=o.delivery_id) == 2
    assert core_rows(engine, "stats_county")[0]["value"] == 55.5


def test_hostile_text_is_stored_verbatim(engine, dirs, config):
    hostile = ["'); DROP TABLE core_tax; --", "<script>alert('x')</script>", "Robert\"); DELETE FROM raw_delivery;"]
    rows = tax_rows("2023-06", [1, 2, 3])
    for r, h in zip(rows, hostile):
        r[1] = h
    write_csv(dirs["inbox"] / "tax" / "t.csv", headers("tax"), rows, mtime=T0)
    rep = run(engine, dirs, config)
    assert rep.outcomes[0].status == "accepted", [f.message for f in rep.rejected]
    assert [r["name"] for r in core_rows(engine, "tax", "uscc")] == hostile
    assert count(engine, "SELECT COUNT(*) FROM raw_delivery") == 1


def test_http_json_delivery_loads(engine, dirs, config):
    write_json(dirs["inbox"] / "energy" / "http-20230701T000000Z.json", "energy",
               [[uscc(1), "甲", "2023年6月", "1,200.5", 33], [uscc(2), "乙", "202306", None, 5]], mtime=T0)
    rep = run(engine, dirs, config)
    assert rep.outcomes[0].status == "accepted", [f.message for f in rep.rejected]
    assert [r["energy_tce"] for r in core_rows(engine, "energy")] == [1200.5, None]


def test_warning_is_recorded_and_delivery_accepted(engine, dirs, config):
    rows = tax_rows("2023-06", [1, 2])
    rows[1][3:7] = [-5.0, 0.0, 0.0, -5.0]  # a refund month: legal, but worth a warning
    write_csv(dirs["inbox"] / "tax" / "t.csv", headers("tax"), rows, mtime=T0)
    rep = run(engine, dirs, config)
    assert rep.outcomes[0].status == "accepted", [f.message for f in rep.rejected]
    neg = [w for w in rep.warnings if w.uscc == uscc(2) and w.row == 3]
    assert neg, [(w.rule, w.uscc, w.row, w.message) for w in rep.warnings]
    stored = count(engine, "SELECT COUNT(*) FROM validation_warning WHERE uscc = :u AND rule = :r",
                   u=uscc(2), r=neg[0].rule)
    assert stored >= 1


# --- bad input: each kind rejects the whole delivery, warehouse unchanged ---------------------

def _tax_csv(dirs, rows, name="2023年7月税收.csv", hs=None, encoding="utf-8"):
    return write_csv(dirs["inbox"] / "tax" / name, hs or headers("tax"), rows, mtime=T0 + 100, encoding=encoding)


def _bad_empty(dirs):
    p = dirs["inbox"] / "tax" / "空文件.csv"
    p.write_bytes(b"")
    return p, {"row": None}


def _bad_unreadable(dirs):
    p = dirs["inbox"] / "tax" / "乱码.csv"
    p.write_bytes(bytes(range(256)) * 40)
    return p, {"row": None}


def _bad_truncated_xlsx(dirs):
    good = write_xlsx(dirs["inbox"].parent / "whole.xlsx",
                      [("税收", [headers("tax"), *tax_rows("2023-07", list(range(1, 300)))])])
    p = dirs["inbox"] / "tax" / "2023年7月税收.xlsx"
    data = good.read_bytes()
    p.write_bytes(data[: len(data) * 2 // 3])
    return p, {"row": None}


def _bad_missing_column(dirs):
    hs = headers("tax")
    return _tax_csv(dirs, [r[:6] for r in tax_rows("2023-07", [1, 2])], hs=hs[:6]), \
        {"row": 1, "column": H("tax", "total_tax")}


def _bad_unknown_column(dirs):
    rows = [r + ["备注"] for r in tax_rows("2023-07", [1, 2])]
    p = write_xlsx(dirs["inbox"] / "tax" / "7月.xlsx", [("七月", [["2023年7月税收"], headers("tax") + ["说明"], *rows])],
                   mtime=T0 + 100)
    return p, {"sheet": "七月", "row": 2, "column": "说明"}


def _bad_text_in_number(dirs):
    rows = tax_rows("2023-07", [1, 2, 3])
    rows[1][4] = "见附件"
    return _tax_csv(dirs, rows, encoding="gbk"), {"row": 3, "column": H("tax", "cit")}


def _bad_uscc(dirs):
    rows = tax_rows("2023-07", [1, 2, 3])
    rows[2][0] = bad_uscc(3)
    return _tax_csv(dirs, rows), {"row": 4, "column": H("tax", "uscc")}


def _bad_month(dirs):
    rows = tax_rows("2023-07", [1, 2])
    rows[0][2] = "2023年13月"
    return _tax_csv(dirs, rows), {"row": 2, "column": H("tax", "period")}


def _bad_date(dirs):
    rows = [["2306-331125-04-01-512345", "项目", "甲", uscc(1), "2459", 100, "签约", "2023-02-29", "否", None]]
    return write_csv(dirs["inbox"] / "projects" / "p.csv", headers("projects"), rows, mtime=T0 + 100), \
        {"row": 2, "column": H("projects", "stage_date")}


def _bad_tax_sum(dirs):
    rows = tax_rows("2023-07", [1, 2, 3])
    rows[1][6] = rows[1][6] + 1.0
    return _tax_csv(dirs, rows), {"row": 3, "column": H("tax", "total_tax")}


def _bad_unit(dirs):
    rows = [["K05", "2023-07", 28, "家", "县科技局"], ["K06", "2023-07", 130, "个", "县科技局"]]
    p = write_xlsx(dirs["inbox"] / "ledgers" / "7月任务月报.xlsx",
                   [("任务月报", [["2023年7月任务月报"], headers("task_report"), *rows])], mtime=T0 + 100)
    return p, {"sheet": "任务月报", "row": 4, "column": H("task_report", "unit")}


def _bad_indicator_code(dirs):
    rows = [["K05", "2023-07", 28, "家", "县科技局"], ["K99", "2023-07", 1, "家", "县科技局"]]
    return write_csv(dirs["inbox"] / "ledgers" / "t.csv", headers("task_report"), rows, mtime=T0 + 100), \
        {"row": 3, "column": H("task_report", "indicator_code")}


def _bad_duplicate_key(dirs):
    rows = tax_rows("2023-07", [1, 2, 3])
    rows.append(list(rows[1]))
    return _tax_csv(dirs, rows), {"row": {3, 5}}


BAD_INPUTS = {
    "empty_file": _bad_empty, "unreadable_file": _bad_unreadable, "truncated_xlsx": _bad_truncated_xlsx,
    "missing_column": _bad_missing_column, "unknown_column": _bad_unknown_column,
    "text_in_number_column": _bad_text_in_number, "invalid_uscc": _bad_uscc, "impossible_month": _bad_month,
    "impossible_date": _bad_date, "taxes_not_summing": _bad_tax_sum, "unit_mismatch": _bad_unit,
    "unknown_indicator_code": _bad_indicator_code, "duplicate_key": _bad_duplicate_key,
}


@pytest.mark.parametrize("kind", list(BAD_INPUTS))
def test_bad_input_rejects_whole_delivery(engine, dirs, config, kind):
    seed(engine, dirs, config)
    before = snapshot(engine)
    bad, where = BAD_INPUTS[kind](dirs)
    rep = run(engine, dirs, config)
    o = rep.outcomes[-1]
    assert o.file == bad.name and [x.status for x in rep.outcomes[:-1]] == ["duplicate"] * 3
    assert o.status == "rejected", [(f.rule, f.message) for f in o.findings]
    assert rep.exit_code == 2 and rep.rows_loaded == 0

    # every row of every warehouse table is exactly as it was
    assert snapshot(engine) == before

    # the file moved to quarantine, with both reports naming file, sheet, row, column, reason
    assert not bad.exists()
    q = dirs["quarantine"] / o.source / bad.name
    assert q.exists() and o.quarantine_path == q
    assert (dirs["archive"] / o.source / f"{o.delivery_id[:16]}__{bad.name}").exists()
    doc = json.loads(Path(f"{q}.report.json").read_text(encoding="utf-8"))
    assert doc["sha256"] == o.delivery_id and doc["rejected"]
    items = doc["rejected"]
    assert all(set(i) == {"file", "sheet", "row", "column", "reason"} and i["file"] == bad.name and i["reason"]
               for i in items)
    if "row" in where:
        rows = [i["row"] for i in items]
        want = where["row"]
        assert any((r in want) if isinstance(want, set) else r == want for r in rows), items
    for key in ("sheet", "column"):
        if key in where:
            assert any(i[key] == where[key] for i in items), items
    text = Path(f"{q}.report.txt").read_text(encoding="utf-8")
    assert bad.name in text and "未入库" in text and items[0]["reason"] in text
    if items[0]["row"]:
        assert f"第 {items[0]['row']} 行" in text
    # and the run's "rejected" items come from the same findings
    assert [f.as_rejection() for f in rep.rejected] == items


def test_rejection_does_not_stop_the_rest_of_the_run(engine, dirs, config):
    seed(engine, dirs, config)
    before = snapshot(engine)
    bad, _ = _bad_uscc(dirs)
    good = write_csv(dirs["inbox"] / "energy" / "ok.csv", headers("energy"), [[uscc(1), "甲", "2023-07", 5, 6]],
                     mtime=T0 + 200)
    rep = run(engine, dirs, config)
    status = {o.file: o.status for o in rep.outcomes}
    assert status[bad.name] == "rejected" and status[good.name] == "accepted"
    good_id = rep.accepted[0].delivery_id
    after = snapshot(engine)
    for table, rows in after.items():  # only the good delivery's rows are new
        assert [r for r in rows if good_id not in r] == before[table], table
    assert [r["period"] for r in core_rows(engine, "energy")] == ["2023-07"]


def test_reject_keeps_file_in_inbox_when_asked(engine, dirs, config):
    bad, _ = _bad_month(dirs)
    rep = run(engine, dirs, config, move_rejected=False)
    assert rep.outcomes[0].status == "rejected" and bad.exists()
    assert (dirs["quarantine"] / "tax" / bad.name).exists()


def test_required_value_missing_is_rejected_not_crashing(engine, dirs, config):
    seed(engine, dirs, config)
    before = snapshot(engine)
    rows = tax_rows("2023-07", [1, 2])
    rows[1][2] = None  # no 所属期
    _tax_csv(dirs, rows)
    rep = run(engine, dirs, config)
    assert rep.outcomes[-1].status == "rejected"
    assert snapshot(engine) == before


def test_find_then_ingest_one_by_one_matches_inbox(engine, dirs, config):
    write_csv(dirs["inbox"] / "tax" / "a.csv", headers("tax"), tax_rows("2023-06", [1, 2]), mtime=T0)
    [d] = find_deliveries(dirs["inbox"], "tax")
    o = ingest_delivery(engine, d, config=config, archive_dir=dirs["archive"], quarantine_dir=dirs["quarantine"])
    assert o.status == "accepted" and o.rows == 2
    o2 = ingest_delivery(engine, d, config=config, archive_dir=dirs["archive"], quarantine_dir=dirs["quarantine"])
    assert o2.status == "duplicate"
