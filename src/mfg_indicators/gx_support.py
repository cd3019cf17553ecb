"""Great Expectations plumbing for the data-quality gate: custom expectations and the one
ephemeral context a process uses.

Importing this module imports GX (~3 s); only ``mfg_indicators.validate`` imports it, and only
inside its functions, so DAG files never pay for it at parse time.

Custom expectations (usable in expectations/*.json by their snake_case ``type``):

- ``expect_column_values_to_be_valid_uscc`` — 18-character USCC, GB 32100-2015 check digit.
- ``expect_column_values_to_be_of_feed_type`` — a value of the feed type of feeds.py
  (``number``, ``int``, ``month``, ``date``, ``yesno``, ``text``, ``code``, ``uscc``).
- ``expect_multicolumn_components_to_sum_to_total`` — the last column of ``column_list`` equals
  the sum of the others within ``tolerance`` (rows with any value missing are not checked).
- ``expect_column_pair_values_to_match_mapping`` — column_B is what ``mapping`` gives for
  column_A (unit of an indicator); unknown keys are left to an in-set expectation. (GX 1.24's
  expect_column_pair_values_to_be_in_set ignores row_condition, so it cannot skip unknown keys.)

All three are vectorised for pandas (a province-scale month is ~150,000 rows).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from typing import Any, ClassVar, Literal, Union

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from great_expectations.compatibility import pydantic  # noqa: E402
from great_expectations.execution_engine import PandasExecutionEngine  # noqa: E402
from great_expectations.expectations.expectation import (  # noqa: E402
    ColumnMapExpectation,
    ColumnPairMapExpectation,
    MulticolumnMapExpectation,
)
from great_expectations.expectations.metrics.map_metric_provider import (  # noqa: E402
    ColumnMapMetricProvider,
    ColumnPairMapMetricProvider,
    MulticolumnMapMetricProvider,
    column_condition_partial,
    column_pair_condition_partial,
)
from great_expectations.expectations.metrics.map_metric_provider.multicolumn_condition_partial import (  # noqa: E402,E501
    multicolumn_condition_partial,
)

from . import uscc as _uscc  # noqa: E402

# --- USCC check digit, vectorised -----------------------------------------------------------

_LUT = np.full(256, -1, dtype=np.int64)
for _i, _ch in enumerate(_uscc.CHARSET):
    _LUT[ord(_ch)] = _i
_WEIGHTS = np.array(_uscc.WEIGHTS, dtype=np.int64)


def str_mask(values: pd.Series) -> pd.Series:
    """True where the value is a str (fast path: a column of strings only)."""
    if pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        return pd.Series(True, index=values.index)
    if pd.api.types.infer_dtype(values, skipna=False) == "string":
        return pd.Series(True, index=values.index)
    return values.map(lambda v: isinstance(v, str)).astype(bool)


def _arrow_strings(values: pd.Series):
    """The pyarrow array behind a pyarrow-backed string column whose values are all ASCII (the
    Arrow fast paths below), else None (the object path: Python's regex semantics, e.g. what
    ``\\d`` matches, decide there, as they always have)."""
    dtype = values.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pc.all(pc.string_is_ascii(arr)).as_py() and arr.null_count < len(arr):
        return None
    return arr


def _fullmatch_arrow(arr, pattern: str) -> np.ndarray:
    import pyarrow.compute as pc

    return pc.match_substring_regex(arr, f"^(?:{pattern})$").fill_null(False).to_numpy(zero_copy_only=False)


def _check_digits_ok(codes: np.ndarray) -> np.ndarray:
    """codes: (n, 18) uint8 of format-checked USCCs -> check digit verifies."""
    vals = _LUT[codes]
    total = (vals[:, :17] * _WEIGHTS).sum(axis=1)
    return vals[:, 17] == (31 - total % 31) % 31


def uscc_valid_mask(values: pd.Series) -> pd.Series:
    """True where the value is a USCC whose check digit verifies (same rule as uscc.is_valid)."""
    pattern = _uscc.PATTERN.pattern.strip("^$")
    arr = _arrow_strings(values)
    if arr is not None:  # pyarrow strings: regex and bytes without a Python object per value
        import pyarrow.compute as pc

        fmt = _fullmatch_arrow(arr, pattern)
        out = np.zeros(len(arr), dtype=bool)
        good = pc.filter(arr, fmt)
        if len(good):
            import pyarrow as pa

            width = np.int64 if pa.types.is_large_string(good.type) else np.int32
            offsets = np.frombuffer(good.buffers()[1], dtype=width)[good.offset:good.offset + len(good) + 1]
            data = np.frombuffer(good.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]]
            out[np.flatnonzero(fmt)] = _check_digits_ok(data.reshape(-1, 18))
        return pd.Series(out, index=values.index)
    s = values.astype(object)
    is_str = str_mask(s)
    out = pd.Series(False, index=s.index)
    if not is_str.any():
        return out
    strs = s[is_str].astype(str)
    fmt = strs.str.fullmatch(pattern).fillna(False).astype(bool)
    good = strs[fmt]
    if len(good):
        arr = np.frombuffer("".join(good.tolist()).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
        out.loc[good.index] = _check_digits_ok(arr)
    return out


class ColumnValuesValidUscc(ColumnMapMetricProvider):
    condition_metric_name = "column_values.valid_uscc"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return uscc_valid_mask(column)


class ExpectColumnValuesToBeValidUscc(ColumnMapExpectation):
    """Expect each non-empty value to be an 18-character 统一社会信用代码 (GB 32100-2015) whose
    18th character is the check digit of the first 17."""

    map_metric: ClassVar[str] = "column_values.valid_uscc"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)
    library_metadata: ClassVar[dict[str, Any]] = {"maturity": "production", "tags": ["mfg_indicators"],
                                                  "contributors": ["mfg_indicators"]}


# --- feed value types -----------------------------------------------------------------------

FEED_TYPES = ("text", "uscc", "code", "number", "int", "month", "date", "yesno")
_MONTH_RE = r"\d{4}-(?:0[1-9]|1[0-2])"


def _is_real_number(v: object) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def feed_type_mask(values: pd.Series, feed_type: str) -> pd.Series:
    """True where a (non-null) value has the feed type the reader promises."""
    if feed_type not in FEED_TYPES:
        raise ValueError(f"unknown feed type {feed_type!r}")
    numeric_dtype = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if feed_type == "number":
        if numeric_dtype:
            return pd.Series(np.isfinite(values.to_numpy(dtype=float, na_value=np.nan)), index=values.index)
        return values.map(lambda v: _is_real_number(v) and np.isfinite(float(v))).astype(bool)
    if feed_type in ("int", "yesno"):
        if numeric_dtype:
            num = values.to_numpy(dtype=float, na_value=np.nan)
            ok = np.isfinite(num) & (num == np.floor(np.where(np.isfinite(num), num, 0)))
            if feed_type == "yesno":
                ok &= (num == 0) | (num == 1)
            return pd.Series(ok, index=values.index)
        def check(v: object) -> bool:
            if not _is_real_number(v) or not np.isfinite(float(v)) or float(v) != int(float(v)):
                return False
            return feed_type == "int" or float(v) in (0.0, 1.0)
        return values.map(check).astype(bool)
    if feed_type == "date":
        return values.map(lambda v: isinstance(v, dt.date)).astype(bool)
    if feed_type == "month" and (arr := _arrow_strings(values)) is not None:
        return pd.Series(_fullmatch_arrow(arr, _MONTH_RE), index=values.index)
    is_str = str_mask(values)
    if feed_type == "month":
        fm = values.astype(object).where(is_str, "").astype(str).str.fullmatch(_MONTH_RE)
        return (is_str & fm.fillna(False).astype(bool)).astype(bool)
    return is_str  # text, code, uscc: strings (format rules are separate expectations)


class ColumnValuesOfFeedType(ColumnMapMetricProvider):
    condition_metric_name = "column_values.of_feed_type"
    condition_value_keys = ("feed_type",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, feed_type, **kwargs):
        return feed_type_mask(column, feed_type)


class ExpectColumnValuesToBeOfFeedType(ColumnMapExpectation):
    """Expect each non-empty value to have the value type of the feed contract (feeds.TYPES):
    number = finite int/float, int = whole number, yesno = 0/1, month = 'YYYY-MM' with a real
    month, date = datetime.date, text/code/uscc = str."""

    feed_type: str = pydantic.Field(description="one of feeds.TYPES")

    map_metric: ClassVar[str] = "column_values.of_feed_type"
    success_keys: ClassVar[tuple[str, ...]] = ("feed_type", "mostly")
    args_keys: ClassVar[tuple[str, ...]] = ("column", "feed_type")
    library_metadata: ClassVar[dict[str, Any]] = {"maturity": "production", "tags": ["mfg_indicators"],
                                                  "contributors": ["mfg_indicators"]}


# --- components sum to a total --------------------------------------------------------------


class MulticolumnComponentsSumToTotal(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.components_sum_to_total"
    condition_domain_keys = ("batch_id", "table", "column_list", "row_condition", "condition_parser",
                             "ignore_row_if")
    condition_value_keys = ("tolerance",)

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, tolerance, **kwargs):
        frame = column_list.apply(pd.to_numeric, errors="coerce")
        parts = frame.iloc[:, :-1].sum(axis=1, skipna=False)
        total = frame.iloc[:, -1]
        return ((parts - total).abs() <= float(tolerance) + 1e-9).fillna(False).astype(bool)


class ExpectMulticolumnComponentsToSumToTotal(MulticolumnMapExpectation):
    """Expect the last column of ``column_list`` to equal the sum of the other columns within
    ``tolerance``. Rows where any of the columns is empty (not reported) are not checked."""

    tolerance: float = pydantic.Field(default=0.01, description="absolute tolerance")
    ignore_row_if: Union[Literal["all_values_are_missing", "any_value_is_missing", "never"], dict] = (
        pydantic.Field(default="any_value_is_missing"))

    map_metric: ClassVar[str] = "multicolumn_values.components_sum_to_total"
    success_keys: ClassVar[tuple[str, ...]] = ("tolerance", "mostly")
    args_keys: ClassVar[tuple[str, ...]] = ("column_list", "tolerance")
    library_metadata: ClassVar[dict[str, Any]] = {"maturity": "production", "tags": ["mfg_indicators"],
                                                  "contributors": ["mfg_indicators"]}


# --- one column's value determines another's (indicator -> unit) ---------------------------


class ColumnPairValuesMatchMapping(ColumnPairMapMetricProvider):
    condition_metric_name = "column_pair_values.match_mapping"
    condition_domain_keys = ("batch_id", "table", "column_A", "column_B", "ignore_row_if")
    condition_value_keys = ("mapping",)

    @column_pair_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_A, column_B, mapping, **kwargs):
        table = {str(k): v for k, v in (mapping.items() if isinstance(mapping, dict) else mapping)}
        keys = column_A.astype(object).map(lambda v: table.get(str(v), _UNMAPPED) if v is not None else _UNMAPPED)
        unmapped = keys.map(lambda v: v is _UNMAPPED).astype(bool)
        return (unmapped | (keys.astype(object) == column_B.astype(object))).astype(bool)


_UNMAPPED = object()


class ExpectColumnPairValuesToMatchMapping(ColumnPairMapExpectation):
    """Expect column_B to hold the value ``mapping`` gives for column_A (e.g. the unit of an
    indicator). Rows whose column_A value is not in the mapping are not checked (another
    expectation reports the unknown key); rows with either value empty are skipped."""

    mapping: Union[dict, list] = pydantic.Field(description="{a: b} or [[a, b], ...]")
    ignore_row_if: Union[Literal["both_values_are_missing", "either_value_is_missing", "neither"], dict] = (
        pydantic.Field(default="either_value_is_missing"))

    map_metric: ClassVar[str] = "column_pair_values.match_mapping"
    success_keys: ClassVar[tuple[str, ...]] = ("mapping", "ignore_row_if", "mostly")
    args_keys: ClassVar[tuple[str, ...]] = ("column_A", "column_B", "mapping")
    library_metadata: ClassVar[dict[str, Any]] = {"maturity": "production", "tags": ["mfg_indicators"],
                                                  "contributors": ["mfg_indicators"]}


CUSTOM_TYPES = ("expect_column_values_to_be_valid_uscc", "expect_column_values_to_be_of_feed_type",
                "expect_multicolumn_components_to_sum_to_total", "expect_column_pair_values_to_match_mapping")

# --- batch fingerprint ------------------------------------------------------------------------
# GX stores an md5 of the whole frame (pandas.util.hash_pandas_object of every cell) in each
# batch's markers as "pandas_data_fingerprint" — a label nothing reads back, which costs ~0.23 s
# per 150,000-row delivery (profiled). Our frames are identified by the delivery's sha256
# already; the label here covers the shape, columns, dtypes and the first and last rows.

from great_expectations.execution_engine import pandas_execution_engine as _pandas_engine  # noqa: E402


def frame_fingerprint(df: pd.DataFrame) -> str:
    import hashlib
    import pickle

    head = pd.concat([df.head(50), df.tail(50)]) if len(df) > 100 else df
    try:
        sample = pd.util.hash_pandas_object(head, index=True).values.tobytes()
    except TypeError:
        sample = pickle.dumps(head, pickle.HIGHEST_PROTOCOL)
    meta = repr((df.shape, list(map(str, df.columns)), list(map(str, df.dtypes)))).encode()
    return hashlib.md5(meta + sample, usedforsecurity=False).hexdigest()


_pandas_engine.hash_pandas_dataframe = frame_fingerprint


# --- Expectation.configuration, built once per validation ----------------------------------
# GX 1.x builds an expectation's ExpectationConfiguration afresh (a pydantic .dict() of the
# expectation, then a new object) on every access of the ``configuration`` property, and planning
# a suite's metric graph reads it ~100 times per expectation (_get_domain_kwargs,
# _get_success_kwargs, _get_runtime_kwargs, get_validation_dependencies): profiled on a
# 150,000-row energy delivery, 3,040 builds and ~0.14 s of the ~0.3 s a suite takes, whatever the
# number of rows. Inside ``configuration_memo()`` (validate.validate_frame) the first build of
# each expectation object is reused until the object is assigned to (``__setattr__``) or the
# block ends. GX copies a configuration before changing it (Validator.
# _generate_metric_dependency_subgraphs_for_each_expectation_configuration deep-copies it before
# adding the batch id), so sharing one is safe. tests/test_gx_support_memo.py checks that the
# results are those GX gives without it and that the property is still the one this wraps.

from great_expectations.expectations.expectation import Expectation as _Expectation  # noqa: E402

_MEMO = threading.local()
_GX_CONFIGURATION = _Expectation.configuration  # the property as GX defines it
_GX_SETATTR = _Expectation.__setattr__


def _memo_configuration(self):
    memo = getattr(_MEMO, "configs", None)
    if memo is None:
        return _GX_CONFIGURATION.fget(self)
    hit = memo.get(id(self))
    if hit is not None and hit[0] is self:
        return hit[1]
    cfg = _GX_CONFIGURATION.fget(self)
    memo[id(self)] = (self, cfg)
    return cfg


def _memo_setattr(self, name, value):
    memo = getattr(_MEMO, "configs", None)
    if memo is not None:
        memo.pop(id(self), None)
    _GX_SETATTR(self, name, value)


class configuration_memo:  # noqa: N801 - used as a function: ``with configuration_memo():``
    """Reuse each expectation's configuration within the block (this thread only)."""

    def __enter__(self):
        self._outer = getattr(_MEMO, "configs", None)
        if self._outer is None:
            _MEMO.configs = {}
        return self

    def __exit__(self, *exc):
        if self._outer is None:
            _MEMO.configs = None
        return False


_Expectation.configuration = property(_memo_configuration, doc=_GX_CONFIGURATION.__doc__)
_Expectation.__setattr__ = _memo_setattr


# --- the process-wide ephemeral context ------------------------------------------------------

_LOCK = threading.RLock()
_CTX: Any = None
_BATCH_DEFS: dict[str, Any] = {}


def get_context():
    """The ephemeral GX context of this process: in-memory stores, no progress bars, no usage
    statistics. Created on first use and reused."""
    global _CTX
    with _LOCK:
        if _CTX is None:
            import great_expectations as gx
            from great_expectations.data_context.types.base import (
                DataContextConfig,
                InMemoryStoreBackendDefaults,
                ProgressBarsConfig,
            )

            cfg = DataContextConfig(
                store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
                progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
                analytics_enabled=False,
            )
            _CTX = gx.get_context(mode="ephemeral", project_config=cfg)
        return _CTX


def batch_definition(asset_name: str):
    """A whole-dataframe batch definition on the context's pandas data source, one per table."""
    with _LOCK:
        bd = _BATCH_DEFS.get(asset_name)
        if bd is None:
            ctx = get_context()
            try:
                ds = ctx.data_sources.get("mfg_frames")
            except (KeyError, ValueError, LookupError):
                ds = ctx.data_sources.add_pandas("mfg_frames")
            asset = ds.add_dataframe_asset(asset_name)
            bd = asset.add_batch_definition_whole_dataframe(f"{asset_name}_whole")
            _BATCH_DEFS[asset_name] = bd
        return bd
