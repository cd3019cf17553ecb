"""The shortcuts validate_frame takes must not change what GX reports: the two-pass run (BASIC,
then COMPLETE for the failing expectations) gives the findings and Data Docs result of one
COMPLETE run; the configuration memo gives GX's own results; the Arrow paths of the custom
metrics agree with the object paths. If a GX upgrade changes what these rely on (result order,
the ``configuration`` property), these tests fail."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

from mfg_indicators import feeds, gx_support, uscc, validate
from mfg_indicators.config import load_config

from test_validate import tax_frame

CONFIG = load_config()


def _dirty_tax(n: int = 400) -> pd.DataFrame:
    df = tax_frame(n)
    df.loc[3, "uscc"] = df.loc[3, "uscc"][:17] + ("0" if df.loc[3, "uscc"][17] != "0" else "1")
    df.loc[7, "uscc"] = None
    df.loc[11, "total_tax"] += 5
    df.loc[20, ["vat", "cit", "other_tax", "total_tax"]] = [-3.0, 0.0, 0.0, -3.0]
    df.loc[30, "period"] = "2023-13"
    df.loc[40, "name"] = 12345  # a wrongly typed value: the column stays object
    df.loc[50, ["period", "uscc"]] = df.loc[51, ["period", "uscc"]].to_list()
    return df


def _single_complete(table, df):
    """What validate_frame did before: the suite once, COMPLETE, on the frame as given."""
    entry = validate._suite_entry(table, CONFIG)
    present = set(df.columns)
    index_cols = [validate.ROW_COLUMN, "uscc", table.period_column]
    batch = gx_support.batch_definition(table.name).get_batch(
        batch_parameters={"dataframe": df.reset_index(drop=True)})
    result = batch.validate(entry.suite, result_format=validate._complete_format(index_cols))
    return result, validate.findings_from_result(table, result, source="tax", file="t.csv", sheet=None,
                                                 present=present)


def _comparable(doc: dict) -> list:
    return [(r["success"], r["expectation_config"]["type"], r["expectation_config"]["kwargs"].get("column"),
             r["result"], r["exception_info"]) for r in doc["results"]]


def _same_for_docs(doc: dict, ref: dict) -> None:
    """A failing expectation's result is the COMPLETE one; a passing one's is BASIC: the same
    counts and percentages (what its Data Docs row shows), without the empty lists of COMPLETE."""
    assert len(doc["results"]) == len(ref["results"])
    for r, q in zip(doc["results"], ref["results"]):
        assert (r["success"], r["expectation_config"], r["exception_info"]) == (
            q["success"], q["expectation_config"], q["exception_info"])
        if not r["success"]:
            assert r["result"] == q["result"]
        else:
            assert r["result"] == {k: v for k, v in q["result"].items() if k in r["result"]}
            # COMPLETE also echoes the index column names it was asked for (not on the page)
            assert not any(v for k, v in q["result"].items()
                           if k not in r["result"] and k != "unexpected_index_column_names")


@pytest.mark.parametrize("frame", ["clean", "dirty", "dirty_strings"])
def test_two_pass_equals_one_complete_run(frame):
    df = tax_frame(300) if frame == "clean" else _dirty_tax()
    if frame == "dirty_strings":
        df.loc[40, "name"] = "文本"  # every text column holds strings only: Arrow-backed
    run = validate.ValidationRun()
    found = validate.validate_frame(feeds.TAX, df, source="tax", file="t.csv", sheet=None, config=CONFIG,
                                    collector=run)
    ref_result, ref_found = _single_complete(feeds.TAX, df)
    assert found == ref_found
    assert (frame == "clean") == (not found)
    ref_doc = validate._result_for_docs(ref_result)
    _same_for_docs(run.results[0].result, ref_doc)
    assert run.results[0].result["statistics"] == ref_doc["statistics"]


def test_expectation_that_raises_falls_back_to_one_complete_run(monkeypatch):
    df = _dirty_tax()

    def boom(values, feed_type):
        raise RuntimeError("broken metric")

    monkeypatch.setattr(gx_support, "feed_type_mask", boom)
    run = validate.ValidationRun()
    found = validate.validate_frame(feeds.TAX, df, source="tax", file="t.csv", sheet=None, config=CONFIG,
                                    collector=run)
    ref_result, ref_found = _single_complete(feeds.TAX, df)
    assert found == ref_found
    raised = [er for er in ref_result.results if validate._raised(er)]
    assert raised and all(er.expectation_config.type == validate.TYPE_EXPECTATION for er in raised)
    assert _comparable(run.results[0].result) == _comparable(validate._result_for_docs(ref_result))


def test_configuration_memo_wraps_gx_property_and_changes_no_result():
    from great_expectations.expectations.expectation import Expectation

    # the property this wraps still builds a configuration from the model's fields
    src = inspect.getsource(gx_support._GX_CONFIGURATION.fget)
    assert "self.dict(exclude_defaults=True)" in src and "ExpectationConfiguration(" in src
    assert Expectation.configuration.fget is gx_support._memo_configuration
    exp = validate.get_suite(feeds.TAX, CONFIG).expectations[2]
    assert exp.configuration is not exp.configuration  # outside the memo: GX's behaviour
    with gx_support.configuration_memo():
        first = exp.configuration
        assert exp.configuration is first
        exp.meta = dict(exp.meta)  # an assignment drops the memo
        assert exp.configuration is not first
    assert exp.configuration == first

    df = _dirty_tax()
    suite = validate.get_suite(feeds.TAX, CONFIG)
    fmt = validate._complete_format(["_row", "uscc", "period"])
    bd = gx_support.batch_definition("tax")
    plain = bd.get_batch(batch_parameters={"dataframe": df}).validate(suite, result_format=fmt)
    with gx_support.configuration_memo():
        memo = bd.get_batch(batch_parameters={"dataframe": df}).validate(suite, result_format=fmt)
    assert _comparable(memo.to_json_dict()) == _comparable(plain.to_json_dict())
    # nothing of one validation leaks into the suite's own expectations
    assert all("batch_id" not in e.configuration.kwargs for e in suite.expectations)


def test_arrow_paths_agree_with_object_paths():
    codes = [uscc.make(f"9133{i:013d}") for i in range(300)]
    values = codes + [c[:17] + ("0" if c[17] != "0" else "1") for c in codes[:40]] + [
        None, "", "abc", "91330000MA2XXXXXX1", "2023-01", "2023-13", "2023-1", " 2023-01", "2023-01 "]
    obj = pd.Series(values, dtype=object)
    arrow = obj.astype("string[pyarrow]")
    assert gx_support.uscc_valid_mask(arrow).tolist() == gx_support.uscc_valid_mask(obj).tolist()
    assert gx_support.uscc_valid_mask(arrow).sum() == 300
    part = arrow[arrow.notna()].iloc[5:]  # a slice: the Arrow array has an offset
    assert gx_support.uscc_valid_mask(part).tolist() == gx_support.uscc_valid_mask(part.astype(object)).tolist()
    notna = obj.notna()
    assert (gx_support.feed_type_mask(arrow, "month")[notna].tolist()
            == gx_support.feed_type_mask(obj, "month")[notna].tolist())
    # non-ASCII text (e.g. a full-width or Arabic-Indic digit) takes the object path: the same
    # Python regex semantics as before
    odd = pd.Series(["2023-0٣", "9133000072365123٣4", None], dtype="string[pyarrow]")
    assert gx_support._arrow_strings(odd) is None
    assert gx_support.feed_type_mask(odd, "month")[:2].tolist() == \
        gx_support.feed_type_mask(odd.astype(object), "month")[:2].tolist()


def test_string_columns_become_arrow_and_mixed_ones_stay_object():
    df = _dirty_tax(60)
    out = validate._cheap_nulls(df)
    assert str(out["uscc"].dtype) == "string" and out["uscc"].dtype.storage == "pyarrow"
    assert out["name"].dtype == object  # holds an int: left for the type rule
    assert out["vat"].dtype == np.float64 and out["_row"].dtype == np.int64
    assert df["uscc"].dtype == object  # the caller's frame is not changed
