"""The bulletin's context: everything the Word and HTML templates print, already phrased.

``build_context(engine, config, document)`` reads the indicators document (indicators.md →
Output contract), the plan configuration, and the warehouse (rankings, the growth series, the
deliveries used) and returns plain dicts/lists/strings. The templates only place these strings;
every number is worded by :mod:`mfg_indicators.phrasing`. Numeric data for the charts is under
``chart_data``.

The package is split by concern: :mod:`.indicator` (one indicator and its phrases),
:mod:`.sections` (one function per section), :mod:`.reads` (the warehouse reads); this module
starts the reads and assembles the sections.

Nothing in the context depends on the clock: the 印发 date is the 10th of the month after the
report month (phrasing.issue_date), so the same period rendered twice from the same warehouse
gives the same text.

The warehouse reads (the deliveries used, the stored per-mu cells, the growth series, the
evaluation counts) and the font lookup are independent: on a pooled engine (PostgreSQL, a SQLite
file) they run at once, each on its own connection (:class:`_Reads`), and the context is then
assembled from their results exactly as in a sequential build.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from sqlalchemy.engine import Engine

from .. import phrasing as ph
from .fonts import office_fonts, resolve_fonts
from .indicator import KIND_TIME, VALID_STATUS, Ind, indicators_of  # noqa: F401 - re-exported
from ..provenance import roster_and_deliveries
from .reads import (  # noqa: F401 - re-exported
    GROWTH_INDICATOR, MAX_CONCURRENT_READS, _growth_series, _per_mu_cells, _query, _Reads,
    concurrent_reads_ok)
from .sections import (  # noqa: F401 - re-exported
    FIGURE_ORDER, HEADINGS, MAX_ANNEX_WARNINGS, MIN_ENTERPRISES_PER_CELL, SHA_PREFIX, _annex,
    _per_mu_rankings, captions, distribution_section, evaluation_section, group_sections,
    masthead, next_steps_section, overview_section, per_mu_chart, problems_section, status_chart,
    table_section)


def build_context(engine: Engine, config, document: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the templates need, already phrased (see module docstring)."""
    return build_context_and_inputs(engine, config, document)[0]


ChartHook = Callable[[str, Mapping[str, Any], Mapping[str, str]], None]


def build_context_and_inputs(engine: Engine, config, document: Mapping[str, Any], *,
                             on_chart: ChartHook | None = None
                             ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The context and the deliveries_used rows it was built from (for the archive manifest:
    one read per run, and the manifest lists exactly what the bulletin read). The 亩均 rankings
    read the cells the period's computation stored (``compute.load_per_mu_cells``).

    ``on_chart(key, data, fonts)`` is called (in this thread) with each entry of
    ``chart_data`` as soon as it is final — growth and status before the per-mu rankings have
    been read, per_mu last — so a caller can draw charts while the warehouse works. ``data`` is
    the very object placed in ``context["chart_data"][key]``."""
    with _Reads(concurrent_reads_ok(engine)) as reads:
        return _build_context(engine, config, document, reads, on_chart)


def _build_context(engine: Engine, config, document: Mapping[str, Any], reads: _Reads,
                   on_chart: ChartHook | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    period = document["period"]
    year, month = ph.parse_period(period)
    inds = indicators_of(document, config)
    growth_ind = next((i for i in inds if i.cfg.get("method") == "official_value"
                       and (i.cfg.get("params") or {}).get("indicator") == GROWTH_INDICATOR), None)
    # the warehouse reads and the font lookup, longest first (see _Reads); the modules they use
    # are imported here (light) rather than by two read threads at the same time
    from .. import compute, evaluation  # noqa: F401

    pending_deliveries = reads.submit(roster_and_deliveries, engine, config, period)
    pending_cells = reads.submit(_per_mu_cells, engine, config, period)
    pending_fonts = reads.submit(resolve_fonts, config["fonts"])
    pending_growth = reads.submit(_growth_series, engine, config, period,
                                  growth_ind.target if growth_ind else None)
    pending_evaluation = reads.submit(evaluation_section, engine, config, period)

    # the sections that need no warehouse read
    groups = group_sections(config, inds)
    context: dict[str, Any] = {
        "county": config.county,
        "plan_document": config.document,
        **masthead(config, period),
        "year": year,
        "period": period,
        "period_label": ph.period_label(period),
        "month_range": ph.month_range(month),
        "office_fonts": office_fonts(config["fonts"]),
        "h": HEADINGS,
        "overview": overview_section(inds, year, month, config["bulletin"]["headline_codes"]),
        "table": table_section(inds, month),
        "groups": groups,
        **problems_section(inds),
        **next_steps_section(config, inds),
        "distribution": distribution_section(config),
        "captions": captions(year, month, growth_ind),
        "counts": {s: sum(1 for i in inds if i.status == s) for s in ph.STATUS_ORDER},
    }

    # charts that need no ranking: ready now (drawn by the caller while the rankings are read)
    fonts = context["fonts"] = pending_fonts.result()
    chart_data: dict[str, Any] = {"growth": pending_growth.result(),
                                  "status": status_chart(inds, groups, year, month)}
    if on_chart is not None:
        for key in ("growth", "status"):
            on_chart(key, chart_data[key], fonts)

    # 四、主导产业与乡镇（街道）
    rankings = _per_mu_rankings(engine, config, period, {i.code: i for i in inds},
                                cells=pending_cells.result())
    chart_data = {"growth": chart_data["growth"],
                  "per_mu": per_mu_chart(rankings.pop("chart"), inds, year, month),
                  "status": chart_data["status"]}
    if on_chart is not None:
        on_chart("per_mu", chart_data["per_mu"], fonts)
    context["rankings"] = rankings
    context["evaluation"] = pending_evaluation.result()

    # 附件
    deliveries = pending_deliveries.result()
    context["annex"] = _annex(engine, config, document, inds, deliveries=deliveries)
    context["chart_data"] = chart_data
    return context, deliveries[1]
