"""The ``annual_evaluation`` DAG factory (wired by dags/annual_evaluation.py)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from .common import TIMEZONE, Tag, dag_kwargs, runtime_settings

DAG_ID = "annual_evaluation"
# Emitted when a year's evaluation has been (re)written; extra = {"year", "evaluated", "classes", …}.
EVALUATION_ASSET = "mfg_evaluation"
SCHEDULE_CRON = "0 8 20 3 *"  # 20 March, 08:00 Asia/Shanghai: the previous year

DOC_MD = """\
### annual_evaluation — 亩均效益综合评价 and the 低效企业清单 (plan task （一）1 and 3)

Evaluates every enterprise of year **Y**'s roster with at least 3 亩 of land (浙政发〔2018〕5号
method, parameters in `config/evaluation/Y.yaml`): per-item scores, classes A/B/C/D within 规上
and 规下, the listed exclusions, and the 低效企业清单 (D class plus the configured "三低" rules).

**When.** Scheduled **once a year, 20 March 08:00 Asia/Shanghai, for the previous year** (Y =
the run's local year − 1). The evaluation needs the *final* figures of the whole year: the
December 企业月报 (1–12月累计) arrives in mid-January and is still revised after the 统计年报
(联网直报 年报 closes in February–March), tax refunds for December are settled in January, and the
year's 名录 (规上 roster) is fixed early in the new year. Triggering on the stats feed's month-12
Asset would evaluate provisional figures and re-run on every correction, re-shuffling published
classes; a fixed date after the 年报 closes gives one stable result, which is what the 低效整治攻坚组
and the 亩均 policy (差别化要素配置) act on. Re-run any year on demand with
`{"year": 2022}` (the CLI does the same: `mfg-indicators evaluate --year 2022`); a re-run
replaces that year's rows.

**Reads** the warehouse core tables (`core_registry`, `core_tax`, `core_energy`,
`core_stats_enterprise`; `MFG_WAREHOUSE_URL`), the plan configuration (`MFG_CONFIG`) and the
year's evaluation configuration. **Writes** `mart_evaluation_param`,
`mart_evaluation_enterprise` (with the excluded enterprises and their reasons),
`mart_evaluation_item`, `mart_evaluation`, `mart_inefficient_list` for (plan_id, Y), and the
restricted xlsx `MFG_OUTPUT/evaluation/inefficient-list-Y.xlsx` (Chinese headers) for the
低效整治攻坚组. Emits the Asset `mfg_evaluation` (extra: year and class counts) so the bulletin
can pick the counts up (`evaluation.evaluation_summary`). Last year's class is joined from Y−1's
evaluation: evaluate years in order.
"""


def _evaluation_year(ctx) -> int:
    requested = (ctx.get("params") or {}).get("year")
    if requested:
        return int(requested)
    when = ctx.get("logical_date") or ctx["dag_run"].run_after
    return when.astimezone(ZoneInfo(TIMEZONE)).year - 1


def build_annual_evaluation_dag(dag_id: str = DAG_ID):
    from airflow.sdk import Asset, CronTriggerTimetable, Metadata, Param, dag, get_current_context, task

    asset = Asset(name=EVALUATION_ASSET)

    @dag(
        dag_id=dag_id,
        schedule=CronTriggerTimetable(SCHEDULE_CRON, timezone=TIMEZONE),
        start_date=dt.datetime(2022, 1, 1, tzinfo=ZoneInfo(TIMEZONE)),
        catchup=False,
        params={"year": Param(None, type=["null", "integer"], minimum=2000, maximum=2100,
                              description="Year to evaluate; empty = the run's local year − 1")},
        **dag_kwargs(tags=[Tag.EVALUATION, Tag.ANNUAL], doc_md=DOC_MD),
    )
    def annual_evaluation():
        @task(outlets=[asset])
        def evaluate():
            """Evaluate year Y into the mart_evaluation* tables; emits the Asset with the class counts."""
            from ..config import load_config
            from ..evaluation import evaluate_year
            from ..warehouse import connect

            ctx = get_current_context()
            year = _evaluation_year(ctx)
            s = runtime_settings()
            engine = connect(s["warehouse_url"])
            try:
                result = evaluate_year(engine, load_config(s["config_path"]), year)
            finally:
                engine.dispose()
            counts = result.class_counts()
            info = {"year": year, "evaluated": len(result.evaluated),
                    "excluded": len(result.excluded), "inefficient": len(result.inefficient),
                    "classes": counts, "notes": result.notes}
            yield Metadata(asset, {k: info[k] for k in ("year", "evaluated", "inefficient", "classes")})
            print(f"{year}: {info['evaluated']} evaluated, {info['excluded']} excluded, "
                  f"{info['inefficient']} on the 低效企业清单; classes {counts}")
            return info

        @task
        def write_inefficient_list(info: dict) -> str:
            """The restricted 低效企业清单 of year Y as xlsx in the output folder; returns its path."""
            from ..config import load_config
            from ..evaluation import write_inefficient_list_xlsx
            from ..warehouse import connect

            s = runtime_settings()
            engine = connect(s["warehouse_url"])
            try:
                path = write_inefficient_list_xlsx(
                    engine, s["output"] / "evaluation" / f"inefficient-list-{info['year']}.xlsx",
                    config=load_config(s["config_path"]), year=info["year"])
            finally:
                engine.dispose()
            return str(path)

        write_inefficient_list(evaluate())

    return annual_evaluation()
