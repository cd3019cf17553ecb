"""The statisticians' data dictionary: one source for the views' Chinese descriptions.

The views themselves are defined in ``include/sql/migrations/002_indicators.sql``. This module
describes them (column labels of feed columns come from ``feeds.py``) and generates from that:

- ``docs/data-dictionary.md`` — the page statisticians read;
- ``include/sql/migrations/002_indicators_statisticians.postgresql.sql`` — the same texts as
  ``COMMENT ON`` statements, and the read-only role ``mfg_reader`` with SELECT on the views.

Regenerate both after changing a description: ``python -m mfg_indicators.dictionary --write``
(``--check`` exits 1 when a generated file is stale; a test does the same). A change after 002 has
been applied somewhere belongs in a new migration.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from .feeds import TABLES
from .paths import MIGRATIONS_DIR, PROJECT_ROOT
from .status import STATUS_LABELS

READER_ROLE = "mfg_reader"
DOC_PATH = PROJECT_ROOT / "docs" / "data-dictionary.md"
PG_MIGRATION_PATH = MIGRATIONS_DIR / "002_indicators_statisticians.postgresql.sql"


@dataclass(frozen=True)
class ViewColumn:
    name: str
    label: str  # Chinese meaning
    source: str = ""  # where it comes from (table.column or a rule)


@dataclass(frozen=True)
class View:
    name: str
    title: str
    description: str
    columns: tuple[ViewColumn, ...]


def fc(table: str, column: str, name: str | None = None, note: str = "") -> ViewColumn:
    """A view column carried from a feed table: its label is the feed contract's."""
    c = TABLES[table].column(column)
    label = c.label + (f"；{note}" if note else "")
    return ViewColumn(name or column, label, f"core_{table}.{column}")


def vc(name: str, label: str, source: str = "") -> ViewColumn:
    return ViewColumn(name, label, source)


_STATUS_TEXT = "、".join(f"{k}={v}" for k, v in STATUS_LABELS.items())

VIEWS: tuple[View, ...] = (
    View("v_enterprise_month", "企业月度数据",
         "每家企业每月一行：税收（当月）、能耗（当月）、企业月报（1—N月累计），并附该年适用的企业名录信息"
         "（名录年份为当年，无当年名录时取最近的以前年份名录）。有任一来源数据的企业月份都列出，缺报的列为空。",
         (fc("tax", "uscc"), vc("period", "统计月份（YYYY-MM）", "所属期/统计期"),
          vc("year", "年份", "period 的年份"),
          vc("roster_year", "适用的名录年份（该年或以前最近一年）", "core_registry.roster_year"),
          vc("name", "企业名称（以名录为准，名录中没有时取各报表中的名称）", "core_registry.name 等"),
          fc("registry", "industry_code"), fc("registry", "town"), fc("registry", "land_mu"),
          fc("registry", "is_above_scale", note="1=是，0=否，按适用名录"),
          fc("tax", "vat", note="当月"), fc("tax", "cit", note="当月"), fc("tax", "other_tax", note="当月"),
          fc("tax", "total_tax", note="当月"),
          fc("energy", "energy_tce", note="当月"), fc("energy", "electricity", note="当月"),
          fc("stats_enterprise", "gross_output"), fc("stats_enterprise", "value_added"),
          fc("stats_enterprise", "revenue"), fc("stats_enterprise", "rd_expense"),
          fc("stats_enterprise", "employees"))),
    View("v_registry", "企业名录（各年）",
         "各名录年份的企业名录；是否规上按该名录年份确定。",
         (fc("registry", "roster_year"), fc("registry", "uscc"), fc("registry", "name"),
          fc("registry", "industry_code"), fc("registry", "town"), fc("registry", "land_mu"),
          fc("registry", "is_above_scale", note="1=是，0=否"))),
    View("v_county_stats", "主要指标（统计局公布数）",
         "统计局“主要指标”，长表：每个指标每个统计期一行，按公布数使用，不重新计算。季度指标在季末月。",
         (fc("stats_county", "indicator_name"), fc("stats_county", "period"), fc("stats_county", "scope"),
          fc("stats_county", "value"), fc("stats_county", "unit"))),
    View("v_rectification", "整治台账",
         "每家企业每种整治类型一行（以销号日期计入）。",
         (fc("rectification", "uscc"), fc("rectification", "name"), fc("rectification", "action_type"),
          fc("rectification", "signoff_date"), vc("signoff_month", "销号月份（YYYY-MM）", "销号日期"),
          fc("rectification", "land_freed_mu"), fc("rectification", "energy_freed_tce"),
          fc("rectification", "carbon_reduced_t"), fc("rectification", "responsible_unit"))),
    View("v_project_stage", "项目阶段",
         "每个项目每个阶段一行；大项目按最早到达计数阶段（签约）的日期计入一次。",
         (fc("projects", "project_code"), fc("projects", "project_name"), fc("projects", "owner_name"),
          fc("projects", "uscc"), fc("projects", "industry_code"), fc("projects", "total_investment"),
          fc("projects", "stage"), fc("projects", "stage_date"), vc("stage_month", "阶段月份（YYYY-MM）", "阶段日期"),
          fc("projects", "is_mountain_sea", note="1=是，0=否"), fc("projects", "funds_in_place"))),
    View("v_task_report", "任务月报",
         "各责任单位按月填报的任务指标数值（当年累计、现有数或规划期累计，见指标口径）。",
         (fc("task_report", "indicator_code"), fc("task_report", "period"), fc("task_report", "value"),
          fc("task_report", "unit"), fc("task_report", "reporter"))),
    View("v_indicator_results", "指标计算结果",
         "每个方案、每个报告月、每个指标一行；重新计算时整月替换。",
         (vc("plan_id", "方案标识（配置文件 plan.id）"), vc("period", "报告月（YYYY-MM，即1—N月）"),
          vc("code", "指标代码（T01…T11、K01…K19）"), vc("name", "指标名称"), vc("unit", "计量单位"),
          vc("kind", "指标类型：level 水平值、rate 增速、annualized 年化、cumulative 规划期累计、this_year 当年累计"),
          vc("grp", "牵头攻坚组"), vc("value", "完成值（未修约；暂无数据时为空）"),
          vc("annualized", "年化值（年化类指标：完成值×12/N）"), vc("target", "目标值"),
          vc("progress", "完成率（完成值或年化值÷目标值）"),
          vc("time_progress", "序时进度（规划期累计：已过月数÷规划期月数；当年累计与年化：N/12）"),
          vc("status", f"状态代码：{_STATUS_TEXT}"), vc("status_label", "状态（中文）"),
          vc("as_of", "数据所属月份（季度指标为所取季末月，任务月报为所取填报月）"),
          vc("notes", "说明（JSON 列表；暂无数据时第一条为原因）"), vc("computed_at", "计算时间（UTC）"))),
    View("v_indicator_warnings", "指标计算提示",
         "计算时未计入评价范围的企业（如用地面积缺失、当期数据未报送），不作零值处理。",
         (vc("plan_id", "方案标识"), vc("period", "报告月（YYYY-MM）"), vc("seq", "序号"),
          vc("source", "相关数据来源（registry 企业名录、tax 税收、stats 统计）"), vc("rule", "提示规则代码"),
          vc("codes", "涉及的指标代码（JSON 列表）"), vc("uscc", "统一社会信用代码"), vc("message", "提示内容"))),
    View("v_deliveries", "数据报送记录",
         "每次报送（文件或接口）及其包含的表；被拒收的报送也列出。",
         (vc("delivery_id", "报送标识（文件内容的 sha256）"),
          vc("source", "数据来源（registry、tax、energy、stats、projects、ledgers）"),
          vc("table_name", "包含的表"), vc("file_name", "文件名"), vc("received_at", "接收时间"),
          vc("status", "状态：accepted 已接收、rejected 已拒收"), vc("row_count", "行数"),
          vc("periods", "涉及的月份或年份（JSON 列表）"))),
)


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def postgresql_migration() -> str:
    lines = [
        "-- GENERATED by `python -m mfg_indicators.dictionary --write` from mfg_indicators/dictionary.py:",
        "-- do not edit by hand. Chinese comments on the statisticians' views, and the read-only role.",
        "",
    ]
    for v in VIEWS:
        lines.append(f"COMMENT ON VIEW {v.name} IS {_q(v.title + '：' + v.description)};")
        for c in v.columns:
            lines.append(f"COMMENT ON COLUMN {v.name}.{c.name} IS {_q(c.label)};")
        lines.append("")
    lines += [
        f"-- {READER_ROLE}: a cluster-wide group role (NOLOGIN) for statisticians; grant it to a login role",
        f"-- (CREATE ROLE alice LOGIN IN ROLE {READER_ROLE}). Created once per cluster, granted per database.",
        "-- SELECT on the views only: no privilege on any table, so every write is refused.",
        f"DO $$ BEGIN CREATE ROLE {READER_ROLE} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;",
        f"GRANT USAGE ON SCHEMA public TO {READER_ROLE};",
        f"GRANT SELECT ON {', '.join(v.name for v in VIEWS)} TO {READER_ROLE};",
        "",
    ]
    return "\n".join(lines)


def markdown() -> str:
    out = [
        "# 数据字典（统计人员查询用视图）",
        "",
        "<!-- 由 `python -m mfg_indicators.dictionary --write` 根据 src/mfg_indicators/dictionary.py 和",
        "     feeds.py 生成，请勿手工修改。 -->",
        "",
        "数据仓库中的视图供统计人员直接查询（SQLite 与 PostgreSQL 相同）。视图定义见",
        "`include/sql/migrations/002_indicators.sql`；在 PostgreSQL 上每个视图和列都带有下列中文注释"
        "（`\\d+ 视图名` 可见）。",
        "",
        f"PostgreSQL 只读角色：`{READER_ROLE}`（不能登录的组角色，只能查询下列视图，不能写入任何表）。"
        "为统计人员建登录账号并授予该角色，例如：",
        "",
        "```sql",
        f"CREATE ROLE tongji LOGIN PASSWORD '…' IN ROLE {READER_ROLE};",
        "```",
        "",
        "约定：金额单位为万元（另有说明除外）；空值表示“未报送”，不是零；月份写作 `YYYY-MM`。",
        "",
        "## 视图一览",
        "",
        "| 视图 | 名称 | 说明 |",
        "|---|---|---|",
    ]
    for v in VIEWS:
        out.append(f"| `{v.name}` | {v.title} | {v.description} |")
    for v in VIEWS:
        out += ["", f"## `{v.name}` — {v.title}", "", v.description, "",
                "| 列名 | 含义 | 来源 |", "|---|---|---|"]
        for c in v.columns:
            out.append(f"| `{c.name}` | {c.label} | {c.source} |")
    out.append("")
    return "\n".join(out)


def generated_files() -> dict[Path, str]:
    return {DOC_PATH: markdown(), PG_MIGRATION_PATH: postgresql_migration()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Generate the data dictionary and the PostgreSQL comments migration.")
    ap.add_argument("--write", action="store_true", help="write the generated files")
    ap.add_argument("--check", action="store_true", help="exit 1 when a generated file is stale")
    args = ap.parse_args(argv)
    stale = [p for p, text in generated_files().items()
             if not p.exists() or p.read_text(encoding="utf-8") != text]
    if args.write:
        for p, text in generated_files().items():
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")
            print(f"wrote {p}")
        return 0
    for p in stale:
        print(f"stale: {p}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
