"""The data-quality gate between a delivery and the warehouse's core tables (issue 4).

Two stages, both returning ``findings.Finding`` lists (``error`` rejects the delivery, ``warning``
lets it through):

1. ``validate_frame`` — the table's Great Expectations suite (``expectations/<table>.json``) on
   the frame the reader produced, before anything is written. Structural and per-row rules:
   required columns and types, USCC check digit, ranges, allowed categories, key uniqueness
   within the delivery, components summing to the total.
2. ``validate_in_warehouse`` — after the delivery sits in ``stg_<table>`` (same transaction, before
   publishing to core): the warehouse rules that depend on the delivery alone (规上 enterprise
   without land area), in ``include/sql/rules/``. The cross-table rules (not in the registry,
   month-on-month jumps, decreasing cumulative values, 规上 without tax, reconciliation with the
   bureau's 规上工业增加值) are evaluated when a month is computed, from the warehouse as it is
   then: ``mfg_indicators.rules``.

``write_data_docs`` renders the run's GX validation results as static HTML (GX Data Docs).
Results are collected by a ``ValidationRun`` — passed to ``validate_frame(collector=...)`` or made
current for a block with ``with collect_results() as run:``.

Suites are JSON with placeholders filled in at load time from the plan configuration and the
feed contract (a kwarg value that is exactly one of these strings):

    $config.towns               config towns
    $config.task_report_codes   codes of config indicators whose method is task_report
    $config.task_report_units   {code: unit} of those indicators
    $feeds.county_indicators    feeds.COUNTY_INDICATOR_UNITS names
    $feeds.county_indicator_units  {name: unit}
    $feeds.project_stages       feeds.PROJECT_STAGES
    $feeds.action_types         feeds.ACTION_TYPES
    $table.columns              the table's warehouse columns + "_row"

Each expectation's ``meta`` carries ``level`` (error|warning), ``rule``, ``message`` (Chinese) and
``message_en``; messages may use ``{header}``, ``{column}`` and ``{value}``.

GX and pandas are imported inside functions only: importing this module is cheap.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import json
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from . import feeds
from .findings import ERROR, WARNING, Finding
from .paths import EXPECTATIONS_DIR

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from sqlalchemy import Connection

    from .config import PlanConfig
    from .feeds import Table

ROW_COLUMN = "_row"
TYPE_EXPECTATION = "expect_column_values_to_be_of_feed_type"
LEVELS = (ERROR, WARNING)
# At most this many row findings per failing expectation; the rest is summed up in one more
# finding (a broken province-scale file must not produce 150,000 report lines).
MAX_ROW_FINDINGS = 1000

# The identifier a finding names (Finding.uscc): the USCC, or the code for tables without one.
ID_COLUMN = {"stats_county": "indicator_name", "projects": "project_code", "task_report": "indicator_code"}


# --- suites ---------------------------------------------------------------------------------

_RAW_SUITES: dict[str, dict[str, Any]] = {}
_SUITES: dict[tuple, Any] = {}
_LOCK = threading.RLock()


def suite_path(table_name: str) -> Path:
    return EXPECTATIONS_DIR / f"{table_name}.json"


def load_suite_json(table_name: str) -> dict[str, Any]:
    """The suite file as written (placeholders unresolved), read once per process."""
    with _LOCK:
        if table_name not in _RAW_SUITES:
            _RAW_SUITES[table_name] = json.loads(suite_path(table_name).read_text(encoding="utf-8"))
        return _RAW_SUITES[table_name]


def placeholders(table: Table, config: PlanConfig) -> dict[str, Any]:
    """Values of the suite placeholders for one table under one plan configuration."""
    task = [ind for ind in config.indicators if ind.get("method") == "task_report"]
    return {
        "$config.towns": list(config["towns"]),
        "$config.task_report_codes": [ind["code"] for ind in task],
        "$config.task_report_units": {ind["code"]: ind["unit"] for ind in task},
        "$feeds.county_indicators": list(feeds.COUNTY_INDICATOR_UNITS),
        "$feeds.county_indicator_units": dict(feeds.COUNTY_INDICATOR_UNITS),
        "$feeds.project_stages": list(feeds.PROJECT_STAGES),
        "$feeds.action_types": list(feeds.ACTION_TYPES),
        "$table.columns": [*table.column_names, ROW_COLUMN],
    }


def resolve_placeholders(obj: Any, values: dict[str, Any]) -> Any:
    """``obj`` with every string that is exactly a placeholder replaced by its value."""
    if isinstance(obj, str) and obj.startswith("$"):
        if obj not in values:
            raise KeyError(f"unknown suite placeholder {obj!r}")
        return copy.deepcopy(values[obj])
    if isinstance(obj, dict):
        return {k: resolve_placeholders(v, values) for k, v in obj.items()}
    if isinstance(obj, list):
        return [resolve_placeholders(v, values) for v in obj]
    return obj


def resolved_suite_dict(table: Table, config: PlanConfig) -> dict[str, Any]:
    doc = load_suite_json(table.name)
    for i, exp in enumerate(doc["expectations"]):
        level = exp.get("meta", {}).get("level")
        if level not in LEVELS:
            raise ValueError(f"{suite_path(table.name)}: expectation {i} ({exp.get('type')}) has no valid "
                             f"meta.level (got {level!r})")
    return resolve_placeholders(doc, placeholders(table, config))


def get_suite(table: Table, config: PlanConfig):
    """The table's ExpectationSuite with placeholders filled in; built once per configuration."""
    return _suite_entry(table, config).suite


@dataclass
class _SuiteEntry:
    suite: Any  # great_expectations ExpectationSuite
    expectations: list[dict[str, Any]]  # the resolved expectation dicts, in suite order
    keys: dict[str, int] = field(default_factory=dict)  # _result_key -> position in the suite
    parts: dict[tuple[int, ...], Any] = field(default_factory=dict)  # sub-suites by positions
    _doc: dict[str, Any] | None = None

    def doc(self) -> dict[str, Any]:
        """The suite in JSON form without GX's ids (for Data Docs)."""
        if self._doc is None:
            doc = self.suite.to_json_dict()
            doc.pop("id", None)
            for e in doc.get("expectations", []):
                e.pop("id", None)
            self._doc = doc
        return copy.deepcopy(self._doc)

    def part(self, positions: tuple[int, ...]):
        """The suite of the expectations at ``positions`` (kept in suite order)."""
        with _LOCK:
            sub = self.parts.get(positions)
            if sub is None:
                import great_expectations as gx

                if len(self.parts) >= _MAX_PARTS:
                    self.parts.clear()
                sub = gx.ExpectationSuite(name=self.suite.name,
                                          expectations=[copy.deepcopy(self.expectations[i]) for i in positions],
                                          meta=copy.deepcopy(self.suite.meta))
                self.parts[positions] = sub
            return sub


_MAX_PARTS = 64  # sub-suites of failing expectations kept per suite


def _suite_entry(table: Table, config: PlanConfig) -> _SuiteEntry:
    values = placeholders(table, config)
    key = (table.name, json.dumps(values, ensure_ascii=False, sort_keys=True))
    with _LOCK:
        entry = _SUITES.get(key)
        if entry is None:
            from . import gx_support  # noqa: F401 - registers the custom expectations
            import great_expectations as gx

            doc = resolved_suite_dict(table, config)
            suite = gx.ExpectationSuite(name=doc["name"], expectations=copy.deepcopy(doc["expectations"]),
                                        meta=doc.get("meta") or {})
            keys = {_result_key(e.configuration): i for i, e in enumerate(suite.expectations)}
            if len(keys) != len(suite.expectations):
                raise ValueError(f"{suite_path(table.name)}: two expectations are the same")
            entry = _SUITES[key] = _SuiteEntry(suite, doc["expectations"], keys)
        return entry


# --- collecting results for Data Docs -------------------------------------------------------


@dataclass
class CollectedResult:
    """One validation for Data Docs, in JSON form (plain dicts, lists, str, numbers): it travels
    pickled from a read-ahead process to its parent, and unpickling it must not import GX there
    (~3 s) — GX objects are rebuilt from it only when Data Docs are written."""

    table: str
    source: str
    file: str
    sheet: str | None
    result: dict[str, Any]  # ExpectationSuiteValidationResult.to_json_dict(), trimmed for Data Docs
    suite: dict[str, Any] | None = None  # the ExpectationSuite it ran, to_json_dict() without ids

    @property
    def success(self) -> bool:
        return bool(self.result.get("success"))

    @property
    def statistics(self) -> dict[str, Any]:
        return dict(self.result.get("statistics") or {})

    @property
    def suite_name(self) -> str:
        return self.result.get("suite_name") or self.table


@dataclass
class ValidationRun:
    """The GX validation results of one run, for Data Docs."""

    results: list[CollectedResult] = field(default_factory=list)

    def add(self, item: CollectedResult) -> None:
        self.results.append(item)

    def __len__(self) -> int:
        return len(self.results)


_CURRENT_RUN: contextvars.ContextVar[ValidationRun | None] = contextvars.ContextVar("mfg_validation_run",
                                                                                   default=None)


def current_run() -> ValidationRun | None:
    """The ``collect_results()`` run in effect, if any."""
    return _CURRENT_RUN.get()


@contextlib.contextmanager
def collect_results(run: ValidationRun | None = None) -> Iterator[ValidationRun]:
    """Make ``run`` (or a new one) the collector every ``validate_frame`` in the block reports to."""
    run = run if run is not None else ValidationRun()
    token = _CURRENT_RUN.set(run)
    try:
        yield run
    finally:
        _CURRENT_RUN.reset(token)


# --- validate_frame -------------------------------------------------------------------------


def _clean(v: Any) -> Any:
    """Plain Python value (no numpy scalars, NaN -> None)."""
    if v is None:
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        try:
            v = v.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(v, float) and math.isnan(v):
        return None
    try:
        import pandas as pd

        if v is pd.NaT or (not isinstance(v, (str, list, tuple, dict)) and pd.isna(v)):
            return None
    except (TypeError, ValueError):
        pass
    return v


def _fmt_value(v: Any) -> str:
    v = _clean(v)
    if v is None:
        return "（空）"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v)


class _SafeDict(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _format(template: str, **values: Any) -> str:
    try:
        return template.format_map(_SafeDict(values))
    except (ValueError, IndexError, KeyError):
        return template


def _condition_columns(cond: Any) -> list[str]:
    """Columns a row_condition (Condition object or its dict form) refers to."""
    if cond is None or isinstance(cond, str):
        return []
    if hasattr(cond, "dict") and not isinstance(cond, dict):
        cond = cond.dict()
    out: list[str] = []
    if isinstance(cond, dict):
        col = cond.get("column")
        if isinstance(col, dict) and col.get("name"):
            out.append(col["name"])
        for sub in cond.get("conditions") or []:
            out.extend(_condition_columns(sub))
    return out


def _expectation_columns(exp_type: str, kwargs: dict[str, Any]) -> list[str]:
    """The columns an expectation looks at (incl. its row_condition)."""
    if "column" in kwargs:
        cols = [kwargs["column"]]
    elif "column_A" in kwargs:
        cols = [kwargs["column_A"], kwargs["column_B"]]
    else:
        cols = list(kwargs.get("column_list") or [])
    return cols + [c for c in _condition_columns(kwargs.get("row_condition")) if c not in cols]


def _report_columns(kwargs: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    """The columns a finding names: meta.report_column, else the expectation's column(s); for a
    column pair the second column (e.g. the unit of (指标代码, 单位))."""
    if meta.get("report_column"):
        return [meta["report_column"]]
    if "column" in kwargs:
        return [kwargs["column"]]
    if "column_B" in kwargs:
        return [kwargs["column_B"]]
    return list(kwargs.get("column_list") or [])


def _header(table: Table, names: list[str]) -> str | None:
    heads = []
    for n in names:
        try:
            heads.append(table.column(n).header)
        except KeyError:
            heads.append(n)
    return "、".join(heads) or None


def _ident(value: Any) -> str | None:
    value = _clean(value)
    return None if value is None else str(value)


def _period_of(table: Table, value: Any) -> str | None:
    value = _clean(value)
    if value is None or table.period_column is None:
        return None
    return str(value)[:7]


def validate_frame(table: Table, df: pd.DataFrame, *, source: str, file: str, sheet: str | None,
                   config: PlanConfig, collector: ValidationRun | None = None) -> list[Finding]:
    """Run ``table``'s suite on a delivery's frame; return the findings (errors reject it).

    ``df`` has the table's warehouse columns plus ``_row`` (1-based row number in the sender's
    file), values coerced by the reader. The GX result goes to ``collector`` (or the
    ``collect_results()`` run in effect) for Data Docs.
    """
    from . import gx_support

    if ROW_COLUMN not in df.columns:
        raise ValueError(f"validate_frame: the frame has no {ROW_COLUMN!r} column (row numbers of the file)")
    entry = _suite_entry(table, config)
    suite = entry.suite
    present = set(df.columns)
    id_col = ID_COLUMN.get(table.name, "uscc")
    index_cols = [ROW_COLUMN] + [c for c in (id_col, table.period_column) if c and c in present]
    # One positional index so GX's own index never collides with anything the reader did.
    frame = _cheap_nulls(df.reset_index(drop=True))
    batch = gx_support.batch_definition(table.name).get_batch(batch_parameters={"dataframe": frame})
    result = _validate_two_pass(batch, entry, index_cols)
    found = findings_from_result(table, result, source=source, file=file, sheet=sheet, present=present)
    run = collector if collector is not None else _CURRENT_RUN.get()
    if run is not None:
        run.add(CollectedResult(table=table.name, source=source, file=file, sheet=sheet,
                                result=_result_for_docs(result), suite=entry.doc()))
    return found


# The full result (COMPLETE: every unexpected value with its row) is what the findings need, but
# only for the expectations that fail, and most deliveries fail none. COMPLETE makes GX plan and
# compute several more metrics per expectation (unexpected values, their index, counts) even when
# nothing is unexpected: profiled on a 150,000-row energy delivery, 0.54 s COMPLETE against
# 0.37 s BASIC. So the suite runs with BASIC (which still has the counts and percentages the Data
# Docs show for a passing expectation) and the failing expectations run again with COMPLETE; their
# results take the places of the BASIC ones. GX orders the results of expectations that raised
# before the others, so when anything raised, the suite runs again as a whole with COMPLETE
# (a broken delivery, rare) and that result is the one kept: findings and pages are those of a
# single COMPLETE run either way.
FIRST_PASS_FORMAT = "BASIC"


def _complete_format(index_cols: list[str]) -> dict[str, Any]:
    return {"result_format": "COMPLETE", "unexpected_index_column_names": index_cols,
            "return_unexpected_index_query": False}


def _raised(er: Any) -> bool:
    """The expectation raised (GX gives one exception_info, or one per failed metric)."""
    info = er.exception_info or {}
    if info.get("raised_exception"):
        return True
    return any(isinstance(v, dict) and v.get("raised_exception") for v in info.values())


def _result_key(cfg: Any) -> str:
    """An expectation's identity within its suite: type, kwargs (without the batch GX adds) and meta."""
    kwargs = {k: v for k, v in cfg.kwargs.items() if k != "batch_id"}
    return json.dumps([cfg.type, kwargs, cfg.meta], sort_keys=True, default=str, ensure_ascii=False)


def _validate_two_pass(batch: Any, entry: _SuiteEntry, index_cols: list[str]) -> Any:
    from . import gx_support

    with gx_support.configuration_memo():
        first = batch.validate(entry.suite, result_format={"result_format": FIRST_PASS_FORMAT})
        failing = [i for i, er in enumerate(first.results) if not er.success]
        if not failing:
            return first
        complete = _complete_format(index_cols)
        if any(_raised(er) for er in first.results) or len(first.results) != len(entry.keys):
            return batch.validate(entry.suite, result_format=complete)
        # GX orders results by column, not as the suite lists them: match them by content.
        positions = [entry.keys.get(_result_key(first.results[i].expectation_config)) for i in failing]
        if None in positions:
            return batch.validate(entry.suite, result_format=complete)
        again = batch.validate(entry.part(tuple(sorted(positions))), result_format=complete)
        by_key = {_result_key(er.expectation_config): er for er in again.results}
        if len(by_key) != len(failing) or any(_raised(er) or er.success for er in again.results):
            return batch.validate(entry.suite, result_format=complete)
        for i in failing:
            er = by_key.get(_result_key(first.results[i].expectation_config))
            if er is None:
                return batch.validate(entry.suite, result_format=complete)
            first.results[i] = er
        return first


def _cheap_nulls(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each object column that holds only strings (and nulls) as a pyarrow-backed
    string column: GX asks for the null mask of a column once per expectation on it, which on an
    object column is a Python-level scan of every value (~4.5 ms per call at 150,000 rows, the
    largest row-dependent cost of a suite) and on an Arrow column reads the validity bitmap.
    A column with any other value (a wrongly typed one) stays as it is, for the type rules."""
    import pandas as pd

    converted = {}
    for name in frame.columns:
        col = frame[name]
        if col.dtype == object and pd.api.types.infer_dtype(col, skipna=True) in ("string", "empty"):
            converted[name] = col.astype(_STRING_DTYPE)
    return frame.assign(**converted) if converted else frame


_STRING_DTYPE = "string[pyarrow]"


DOCS_MAX_ROWS = 200  # rows of unexpected values kept per expectation for Data Docs


def _result_for_docs(result: Any) -> dict[str, Any]:
    """A result in JSON form, prepared for Data Docs: at most DOCS_MAX_ROWS unexpected rows per
    expectation (the findings, computed before, have them all; counts and percentages stay
    exact), and every delivered value in it HTML-escaped (``data_docs.neutralise``: GX writes
    some of them into the page as HTML)."""
    from .data_docs import neutralise

    for er in result.results:
        res = er.result or {}
        for k in ("unexpected_list", "unexpected_index_list", "partial_unexpected_list",
                  "partial_unexpected_index_list"):
            if isinstance(res.get(k), list) and len(res[k]) > DOCS_MAX_ROWS:
                res[k] = res[k][:DOCS_MAX_ROWS]
    doc = result.to_json_dict()
    for er in doc.get("results") or []:
        er["result"] = neutralise(er.get("result") or {})
        if er.get("exception_info"):
            er["exception_info"] = neutralise(er["exception_info"])
    return doc


def findings_from_result(table: Table, result: Any, *, source: str, file: str, sheet: str | None,
                         present: set[str]) -> list[Finding]:
    """Turn a GX suite validation result into findings."""
    id_col = ID_COLUMN.get(table.name, "uscc")
    out: list[Finding] = []
    # Rows whose value has the wrong type are reported once, by the type rule; other rules on the
    # same column cannot judge them (and a range check on text fails without row detail).
    bad_type_rows: dict[str, set[int]] = {}
    for er in result.results:
        if not er.success and er.expectation_config.type == TYPE_EXPECTATION:
            col = er.expectation_config.kwargs["column"]
            bad_type_rows[col] = {_clean(i.get(ROW_COLUMN)) for i in (er.result or {}).get("unexpected_index_list") or []}
    for er in result.results:
        if er.success:
            continue
        cfg = er.expectation_config
        meta = dict(cfg.meta or {})
        kwargs = dict(cfg.kwargs)
        level = meta.get("level", ERROR)
        rule = meta.get("rule", cfg.type)
        base = dict(source=source, table=table.name, file=file, sheet=sheet, rule=rule)
        cols = _expectation_columns(cfg.type, kwargs)
        if any(c not in present for c in cols):
            continue  # the missing column is reported by the columns expectation
        skip_rows: set[int] = set()
        if cfg.type != TYPE_EXPECTATION:
            for c in cols:
                skip_rows |= bad_type_rows.get(c, set())
        if skip_rows and not (er.result or {}).get("unexpected_index_list"):
            continue  # failed as a whole because of the wrongly typed values
        exc = er.exception_info or {}
        if exc.get("raised_exception"):
            out.append(Finding(level=ERROR, message=f"校验规则“{rule}”无法执行：{exc.get('exception_message')}",
                               message_en=f"expectation {cfg.type} raised: {exc.get('exception_message')}",
                               column=_header(table, cols), **base))
            continue
        res = er.result or {}
        if cfg.type == "expect_table_columns_to_match_set":
            mism = (res.get("details") or {}).get("mismatched") or {}
            missing = [c for c in mism.get("missing") or [] if c != ROW_COLUMN]
            unexpected = list(mism.get("unexpected") or [])
            parts, parts_en = [], []
            if missing:
                parts.append("缺少列：" + "、".join(_header(table, [c]) or c for c in missing))
                parts_en.append("missing: " + ", ".join(missing))
            if unexpected:
                parts.append("多出列：" + "、".join(str(c) for c in unexpected))
                parts_en.append("unexpected: " + ", ".join(str(c) for c in unexpected))
            if ROW_COLUMN in (mism.get("missing") or []):
                parts_en.append("no _row column")
            out.append(Finding(level=level, message=meta.get("message", "") + ("（" + "；".join(parts) + "）" if parts else ""),
                               message_en=meta.get("message_en", "") + (f" ({'; '.join(parts_en)})" if parts_en else ""),
                               column=_header(table, missing + unexpected) if (missing or unexpected) else None,
                               **base))
            continue
        index_list = res.get("unexpected_index_list")
        if not index_list:
            # table-level expectation (row count) or a map expectation without row detail
            obs = res.get("observed_value")
            out.append(Finding(level=level, message=_format(meta.get("message", rule), header="", column="", value=_fmt_value(obs)),
                               message_en=_format(meta.get("message_en", rule), header="", column="", value=_fmt_value(obs)),
                               column=_header(table, _report_columns(kwargs, meta)), **base))
            continue
        exp_cols = [c for c in cols if c not in _condition_columns(kwargs.get("row_condition"))]
        rep_cols = _report_columns(kwargs, meta)
        header = _header(table, rep_cols)
        if skip_rows:
            index_list = [i for i in index_list if _clean(i.get(ROW_COLUMN)) not in skip_rows]
            if not index_list:
                continue
        for item in index_list[:MAX_ROW_FINDINGS]:
            if len(exp_cols) == 1:
                value = _fmt_value(item.get(exp_cols[0]))
            else:
                value = "、".join(f"{_header(table, [c])}={_fmt_value(item.get(c))}" for c in exp_cols)
            row = _clean(item.get(ROW_COLUMN))
            out.append(Finding(
                level=level,
                message=_format(meta.get("message", rule), header=header, column=",".join(rep_cols), value=value),
                message_en=_format(meta.get("message_en", rule), header=header, column=",".join(rep_cols), value=value),
                row=int(row) if row is not None else None, column=header,
                uscc=_ident(item.get(id_col)) if id_col in present else None,
                period=_period_of(table, item.get(table.period_column)) if table.period_column else None,
                **base))
        if len(index_list) > MAX_ROW_FINDINGS:
            more = len(index_list) - MAX_ROW_FINDINGS
            what = _format(meta.get("message", rule), header=header, column=",".join(rep_cols), value="…")
            out.append(Finding(level=level, message=f"另有{more}行同类问题（{what}）未逐行列出",
                               message_en=f"{more} more rows fail rule {rule}", column=header, **base))
    return out


# --- Data Docs ------------------------------------------------------------------------------


def _safe_name(text: str) -> str:
    import re

    return re.sub(r"[^0-9A-Za-z\u4e00-\u9fff._-]+", "_", text).strip("._")[:80] or "x"


def write_data_docs(results: ValidationRun | list[CollectedResult], out_dir: Path | str, *,
                    run_name: str = "validation") -> Path:
    """Render the run's GX validation results as GX Data Docs (static HTML) in
    ``out_dir/data-docs/``, readable offline and with delivered values shown as text
    (:mod:`mfg_indicators.data_docs`); then (re)write the entry page and return it.

    The entry page is ``data-docs/index.html`` of the output folder, listing the validations of
    every site under it: the CLI writes its site there (``out/data-docs/``), each feed DAG below it
    (``output/data-docs/feed_<source>/data-docs/``) — a site whose folder sits one level below a
    ``data-docs`` folder is listed by that folder's entry page. The suites that ran are rendered
    too (``expectations/<suite>.html``). Uses a throwaway context of its own, so nothing of
    earlier runs leaks in."""
    import datetime as dt

    from . import gx_support  # noqa: F401 - registers the custom expectations (suites render them)
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import expectationSuiteValidationResultSchema
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    from . import data_docs

    items = list(results.results if isinstance(results, ValidationRun) else results)
    site_dir = Path(out_dir).resolve() / "data-docs"  # GX refuses a relative base_directory
    root = site_dir.parent.parent if site_dir.parent.parent.name == "data-docs" else site_dir
    site_dir.mkdir(parents=True, exist_ok=True)
    cfg = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        analytics_enabled=False,
        data_docs_sites={"run": {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }},
    )
    ctx = gx.get_context(mode="ephemeral", project_config=cfg)
    added: set[str] = set()
    for item in items:
        if item.suite is not None and item.suite["name"] not in added:
            ctx.suites.add(gx.ExpectationSuite(**copy.deepcopy(item.suite)))
            added.add(item.suite["name"])
    run_id = RunIdentifier(run_name=_safe_name(run_name), run_time=dt.datetime.now(dt.timezone.utc))
    batches = []
    for i, item in enumerate(items):
        suite_name = item.suite_name
        batch = f"{i:03d}_{_safe_name(item.file)}_{_safe_name(item.sheet or '')}"
        key = ValidationResultIdentifier(ExpectationSuiteIdentifier(name=suite_name), run_id, batch)
        # the store keeps results as their JSON form anyway (ValidationResultsStore.serialize)
        ctx.validation_results_store.set(key, expectationSuiteValidationResultSchema.load(
            copy.deepcopy(item.result)))
        batches.append((suite_name, batch))
    ctx.build_data_docs(site_names=["run"])
    if not (site_dir / "index.html").exists():  # pragma: no cover - GX always writes it
        raise RuntimeError(f"GX Data Docs did not write {site_dir / 'index.html'}")
    data_docs.make_offline(site_dir, [p for p in site_dir.rglob("*.html") if _in_site(p, site_dir)])
    _write_site_manifest(site_dir, items, batches, run_id)
    if site_dir != root:
        data_docs.write_index(site_dir)
    return data_docs.write_index(root)


def _in_site(page: Path, site_dir: Path) -> bool:
    """A page GX wrote for this site (not one of a site nested below it)."""
    parts = page.relative_to(site_dir).parts
    return parts == ("index.html",) or parts[0] in ("validations", "expectations")


def _write_site_manifest(site_dir: Path, items: list[CollectedResult], batches: list[tuple[str, str]],
                         run_id: Any) -> None:
    """The site's validations.json: this run's validations (GX removes an earlier run's pages
    from a site it rebuilds)."""
    from . import data_docs

    stamp = run_id.to_tuple()[1]  # the run-time folder GX names the pages by
    entries = []
    for item, (suite, batch) in zip(items, batches):
        pages = sorted(site_dir.glob(f"validations/{suite}/{_safe_name(run_id.run_name)}/{stamp}/{batch}*.html"))
        if not pages:  # pragma: no cover - GX writes one page per result
            continue
        stats = item.statistics
        entries.append({"suite": suite, "source": item.source, "table": item.table, "file": item.file,
                        "sheet": item.sheet, "success": item.success,
                        "evaluated": stats.get("evaluated_expectations"),
                        "successful": stats.get("successful_expectations"),
                        "run_name": run_id.run_name, "run_time": run_id.run_time.strftime("%Y-%m-%d %H:%M:%S UTC"),
                        "page": pages[0].relative_to(site_dir).as_posix(),
                        "suite_page": f"expectations/{suite}.html"})
    data_docs.write_manifest(site_dir, entries)


# --- in-warehouse rules at ingest ---------------------------------------------------------


def validate_in_warehouse(conn: Connection, table: Table, delivery_id: str, *, source: str,
                          config: PlanConfig) -> list[Finding]:
    """Warning rules on the delivery staged in ``stg_<table>`` (same transaction, before
    publishing) that depend on the delivery alone, so they can be stored with it: a 规上 enterprise
    of a registry delivery without land area. Rules that compare with other tables are evaluated
    when a month is computed (:func:`mfg_indicators.rules.month_warnings`), so that the warnings
    do not depend on the order deliveries arrived in."""
    from sqlalchemy import text

    from . import sql

    if table.name != "registry":
        return []
    file = conn.execute(text("SELECT file_name FROM raw_delivery WHERE delivery_id = :d"),
                        {"d": delivery_id}).scalar()
    head = table.column("land_mu").header
    return [Finding(level=WARNING, source=source, rule="above_scale_no_land",
                    message=f"{r['roster_year']}年规上企业{r['uscc']}（{r['name'] or '名称未填'}）未填报用地面积，"
                            "亩均效益评价将不含该企业",
                    message_en=f"above-scale enterprise {r['uscc']} (roster {r['roster_year']}) has no land area",
                    table=table.name, file=file, row=int(r["row_no"]) if r["row_no"] is not None else None,
                    column=head, uscc=str(r["uscc"]), period=str(r["roster_year"]))
            for r in sql.query(conn, "rules/above_scale_no_land", {"d": delivery_id})]
