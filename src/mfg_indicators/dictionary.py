"""The statisticians' data dictionary: one source for the views' Chinese descriptions.

The views themselves are defined in ``include/sql/migrations/002_indicators.sql`` and
``014_statisticians_views.sql`` (new views; the 002 views re-created with ``period_date``). This
module describes them (column labels of feed columns come from ``feeds.py``; each indicator's 口径
from the plan configuration and the families below) and generates from that:

- ``docs/data-dictionary.md`` — the page statisticians read;
- ``include/sql/migrations/002_indicators_statisticians.postgresql.sql`` — the 002 texts as
  ``COMMENT ON`` statements, and the read-only role ``mfg_reader`` with SELECT on the views;
- ``include/sql/migrations/014_statisticians_views_grants.postgresql.sql`` — the same for the
  views 014 creates or re-creates (a dropped view loses its comments and grants).

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
PG_MIGRATION_014_PATH = MIGRATIONS_DIR / "014_statisticians_views_grants.postgresql.sql"
PG_MIGRATION_016_PATH = MIGRATIONS_DIR / "016_mart_month_warning_grants.postgresql.sql"


@dataclass(frozen=True)
class ViewColumn:
    name: str
    label: str  # Chinese meaning
    source: str = ""  # where it comes from (table.column or a rule)
    since: str = "002"  # the migration that added the column


@dataclass(frozen=True)
class View:
    name: str
    title: str
    description: str
    columns: tuple[ViewColumn, ...]
    created: str = "002"  # the migration that first created the view
    defined: str = "002"  # the migration whose definition is in force (014 re-creates some)


def fc(table: str, column: str, name: str | None = None, note: str = "") -> ViewColumn:
    """A view column carried from a feed table: its label is the feed contract's."""
    c = TABLES[table].column(column)
    label = c.label + (f"；{note}" if note else "")
    return ViewColumn(name or column, label, f"core_{table}.{column}")


def vc(name: str, label: str, source: str = "", since: str = "002") -> ViewColumn:
    return ViewColumn(name, label, source, since)


def period_date(of: str = "period") -> ViewColumn:
    return vc("period_date", f"{of} 所在月份的第一天（日期型，便于按月作图、筛选）", f"{of} || '-01'", since="014")


# The columns the two warning views (per delivery, per month) share, labelled once.
_W_SOURCE = vc("source", "数据来源（registry、tax、energy、stats、projects、ledgers）")
_W_TABLE = vc("table_name", "相关的表")
_W_RULE = vc("rule", "提示规则代码")
_W_USCC = vc("uscc", "相关企业的统一社会信用代码（或指标代码、项目代码）")
_W_MESSAGE = vc("message", "提示内容")

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
          fc("stats_enterprise", "employees"), period_date()), defined="014"),
    View("v_registry", "企业名录（各年）",
         "各名录年份的企业名录；是否规上按该名录年份确定。",
         (fc("registry", "roster_year"), fc("registry", "uscc"), fc("registry", "name"),
          fc("registry", "industry_code"), fc("registry", "town"), fc("registry", "land_mu"),
          fc("registry", "is_above_scale", note="1=是，0=否"))),
    View("v_county_stats", "主要指标（统计局公布数）",
         "统计局“主要指标”，长表：每个指标每个统计期一行，按公布数使用，不重新计算。季度指标在季末月。",
         (fc("stats_county", "indicator_name"), fc("stats_county", "period"), fc("stats_county", "scope"),
          fc("stats_county", "value"), fc("stats_county", "unit"), period_date()), defined="014"),
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
          fc("task_report", "unit"), fc("task_report", "reporter"), period_date()), defined="014"),
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
          vc("notes", "说明（JSON 列表；暂无数据时第一条为原因）"), vc("computed_at", "计算时间（UTC）"),
          period_date()), defined="014"),
    View("v_indicator_warnings", "指标计算提示",
         "计算时未计入评价范围的企业（如用地面积缺失、当期数据未报送），不作零值处理。",
         (vc("plan_id", "方案标识"), vc("period", "报告月（YYYY-MM）"), vc("seq", "序号"),
          vc("source", "相关数据来源（registry 企业名录、tax 税收、stats 统计）"), _W_RULE,
          vc("codes", "涉及的指标代码（JSON 列表）"), vc("uscc", "统一社会信用代码"), _W_MESSAGE,
          period_date()), defined="014"),
    View("v_deliveries", "数据报送记录",
         "每次报送（文件或接口）及其包含的表；被拒收的报送也列出。",
         (vc("delivery_id", "报送标识（文件内容的 sha256）"),
          vc("source", "数据来源（registry、tax、energy、stats、projects、ledgers）"),
          vc("table_name", "包含的表"), vc("file_name", "文件名"), vc("received_at", "接收时间"),
          vc("status", "状态：accepted 已接收、rejected 已拒收"), vc("row_count", "行数"),
          vc("periods", "涉及的月份或年份（JSON 列表）"))),
    View("v_industry_group", "主导产业（行业代码对照）",
         "每个方案、企业名录中出现的每个行业代码一行：按方案配置（industry_groups，行业代码前缀，先列先配）"
         "归入的主导产业，未配上的归入默认组（industry_default_group）。每次计算指标时由方案配置写入，"
         "SQL 中不写死任何行业代码。",
         (vc("plan_id", "方案标识"), fc("registry", "industry_code"),
          vc("industry_group", "主导产业", "方案配置 industry_groups"),
          vc("matched_prefix", "配上的行业代码前缀（默认组为空）", "方案配置 industry_groups.prefixes"),
          vc("per_mu_excluded", "是否不计入亩均目标（T03/T04）：1=是（如钢压延），0=否",
             "方案配置 per_mu_excluded_groups")),
         created="014", defined="014"),
    View("v_per_mu_evaluated_set", "亩均评价范围（T03 亩均税收、T04 亩均增加值）",
         "每个方案、每个已计算的报告月、该年适用名录（当年名录，无则最近的以前年份名录）中的每家规上企业一行，"
         "与指标计算（include/sql/indicators/per_mu.sql）同一口径：计入（tax_in / value_added_in = 1）须"
         "不属于不计入亩均目标的产业组（钢压延）、用地面积大于0，且亩均税收要求1—N月每月都报送税收实际贡献、"
         "亩均增加值要求第N月企业月报报送工业增加值。对计入的企业 Σ分子 ÷ Σ用地面积 即通报中的亩均数"
         "（按乡镇分组即乡镇排名；按主导产业分组用 tax_measured / value_added_measured = 1，钢压延单列）。"
         "未计入的企业列出原因，不作零值处理。",
         (vc("plan_id", "方案标识"), vc("period", "报告月（YYYY-MM，即1—N月）"), period_date(),
          vc("roster_year", "适用的名录年份", "core_registry.roster_year"),
          fc("registry", "uscc"), fc("registry", "name"), fc("registry", "town"), fc("registry", "industry_code"),
          vc("industry_group", "主导产业", "v_industry_group"),
          vc("per_mu_excluded", "所属产业组是否不计入亩均目标：1=是，0=否", "方案配置 per_mu_excluded_groups"),
          fc("registry", "land_mu"),
          vc("tax", "1—N月税收实际贡献合计（万元；只合计已报送的月份）", "core_tax.total_tax"),
          vc("tax_months", "1—N月中报送了税收实际贡献的月数", "core_tax.total_tax"),
          vc("tax_measured", "可计算亩均税收：1=用地面积大于0且1—N月税收全部报送（不论产业组）"),
          vc("tax_in", "计入亩均税收（T03）评价范围：1=是，0=否"),
          vc("tax_out_reason", "未计入亩均税收的原因代码：excluded_group 产业组不计入、no_land 用地面积缺失或为0、"
             "tax_incomplete 税收未按月报全；计入时为空"),
          vc("value_added", "第N月企业月报工业增加值（万元，1—N月累计，不跨月相加）", "core_stats_enterprise.value_added"),
          vc("value_added_measured", "可计算亩均增加值：1=用地面积大于0且第N月工业增加值已报送（不论产业组）"),
          vc("value_added_in", "计入亩均增加值（T04）评价范围：1=是，0=否"),
          vc("value_added_out_reason", "未计入亩均增加值的原因代码：excluded_group、no_land、"
             "value_added_missing 当月工业增加值未报送；计入时为空"),
          vc("tax_out_reason_label", "未计入亩均税收的原因（中文）"),
          vc("value_added_out_reason_label", "未计入亩均增加值的原因（中文）")),
         created="014", defined="014"),
    View("v_validation_warnings", "数据质量提示（已接收报送）",
         "入库校验对已接收报送提出的提示（不拒收，但需核实）：每条提示一行，附报送文件名和接收时间。"
         "被拒收的报送见 v_deliveries 和隔离区的中文报告。",
         (vc("delivery_id", "报送标识（文件内容的 sha256）"),
          vc("seq", "序号（同一报送内）"),
          _W_SOURCE,
          _W_TABLE, vc("file_name", "文件名"), vc("received_at", "接收时间"),
          _W_RULE,
          _W_USCC,
          vc("period", "相关月份（YYYY-MM）或名录年份（YYYY）；可为空"),
          vc("period_date", "period 为月份时该月第一天（日期型），否则为空", "period || '-01'", since="014"),
          _W_MESSAGE),
         created="014", defined="014"),
    View("v_month_warnings", "月度数据质量提示（与通报一致）",
         "每个已计算报告月的全部数据质量提示，与该月 indicators-YYYY-MM.json 和通报附件中的列表完全一致："
         "跨表规则（不在企业名录中、名录未入库、环比异常、累计值下降、规上企业无税收、与统计局增加值核对）"
         "在生成该月文档时按仓库现状评估，不受报送先后影响；另含入库时的提示和指标计算提示。"
         "看最新一期用 latest_period = 1。按报送文件查看入库提示见 v_validation_warnings。",
         (vc("plan_id", "方案标识"), vc("period", "报告月（YYYY-MM）"), period_date(),
          vc("latest_period", "是否为该方案已计算的最新报告月（1 是，0 否）", "", since="016"),
          vc("seq", "序号（与文档中的顺序一致）"),
          _W_SOURCE,
          _W_TABLE, _W_RULE,
          _W_USCC,
          vc("warning_period", "提示所涉月份（YYYY-MM）或名录年份（YYYY）；可为空"),
          _W_MESSAGE),
         created="016", defined="016"),
    View("v_evaluation_class", "亩均效益综合评价分类（企业）",
         "每个方案、每个评价年度、每家参评企业一行：分类（A/B/C/D）、上年分类和名次。"
         "不含企业的税收、增加值等数值（这些只在限内部使用的低效企业清单中）。",
         (vc("plan_id", "方案标识"), vc("year", "评价年度"), fc("registry", "uscc"), fc("registry", "name"),
          fc("registry", "town"), fc("registry", "industry_code"), vc("industry_group", "主导产业"),
          vc("scale", "规模：above 规上、below 规下"), vc("class", "分类：A、B、C、D"),
          vc("prev_class", "上年分类（上年未参评为空）"), vc("rank_in_scale", "同规模内名次（1=最好，同分同名次）"),
          vc("n_in_scale", "同规模参评企业数"), vc("computed_at", "计算时间（UTC）")),
         created="014", defined="014"),
    View("v_evaluation_counts", "亩均效益综合评价分类（汇总）",
         "每个方案、每个评价年度按乡镇、主导产业、规模、分类汇总的企业数和用地面积。",
         (vc("plan_id", "方案标识"), vc("year", "评价年度"), fc("registry", "town"),
          vc("industry_group", "主导产业"), vc("scale", "规模：above 规上、below 规下"),
          vc("class", "分类：A、B、C、D"), vc("enterprises", "企业数"), vc("land_mu", "用地面积合计（亩）")),
         created="014", defined="014"),
)


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _comments(views: list[View], columns_since: str | None) -> list[str]:
    lines = []
    for v in views:
        lines.append(f"COMMENT ON VIEW {v.name} IS {_q(v.title + '：' + v.description)};")
        for c in v.columns:
            if columns_since is None or c.since == columns_since:
                lines.append(f"COMMENT ON COLUMN {v.name}.{c.name} IS {_q(c.label)};")
        lines.append("")
    return lines


def _grant(views: list[View]) -> str:
    return f"GRANT SELECT ON {', '.join(v.name for v in views)} TO {READER_ROLE};"


def postgresql_migration() -> str:
    """002: the comments on the views as 002 created them, the role and its grants."""
    lines = [
        "-- GENERATED by `python -m mfg_indicators.dictionary --write` from mfg_indicators/dictionary.py:",
        "-- do not edit by hand. Chinese comments on the statisticians' views, and the read-only role.",
        "",
    ]
    lines += _comments([v for v in VIEWS if v.created == "002"], columns_since="002")
    lines += [
        f"-- {READER_ROLE}: a cluster-wide group role (NOLOGIN) for statisticians; grant it to a login role",
        f"-- (CREATE ROLE alice LOGIN IN ROLE {READER_ROLE}). Created once per cluster, granted per database.",
        "-- SELECT on the views only: no privilege on any table, so every write is refused.",
        f"DO $$ BEGIN CREATE ROLE {READER_ROLE} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;",
        f"GRANT USAGE ON SCHEMA public TO {READER_ROLE};",
        _grant([v for v in VIEWS if v.created == "002"]),
        "",
    ]
    return "\n".join(lines)


def postgresql_migration_014() -> str:
    """014: comments on every view 014 creates or re-creates, and SELECT on all the views."""
    lines = [
        "-- GENERATED by `python -m mfg_indicators.dictionary --write` from mfg_indicators/dictionary.py:",
        "-- do not edit by hand. Comments on the views 014_statisticians_views.sql creates or re-creates",
        f"-- (a re-created view has lost its comments and grants), and SELECT on every view for {READER_ROLE}.",
        "-- plan_industry_group is a table: like every table, not readable by the role (v_industry_group is).",
        "",
    ]
    lines += _comments([v for v in VIEWS if v.defined == "014"], columns_since=None)
    lines += [_grant([v for v in VIEWS if v.created <= "014"]), ""]
    return "\n".join(lines)


def postgresql_migration_016() -> str:
    """016: comments on the views 016 creates, and SELECT on them."""
    views = [v for v in VIEWS if v.created == "016"]
    lines = [
        "-- GENERATED by `python -m mfg_indicators.dictionary --write` from mfg_indicators/dictionary.py:",
        f"-- do not edit by hand. Comments on the views 016_mart_month_warning.sql creates, and SELECT for {READER_ROLE}.",
        "",
    ]
    lines += _comments(views, columns_since=None)
    lines += [_grant(views), ""]
    return "\n".join(lines)


# --- 口径: each indicator in words, and a worked query per family -----------------------------

@dataclass(frozen=True)
class Family:
    title: str
    rule: str  # the family's rule in words
    query: str  # a worked query on the views (2023-06 as the example month)


FAMILIES: dict[str, Family] = {
    "official_value": Family(
        "统计局公布数",
        "取 `v_county_stats` 中该指标、口径“累计”、报告月 N 的公布数，不重新计算；报告月没有公布数（如1月）为暂无数据。",
        "SELECT period, value FROM v_county_stats\n"
        "WHERE indicator_name = '规上工业增加值增速' AND scope = '累计'\n"
        "ORDER BY period;  -- 每月一行即 T02 逐月完成值"),
    "official_geomean": Family(
        "年均增速（几何平均）",
        "规划期首年起每个已完成年份12月的累计增速 g 与当年1—N月累计增速，按 (1+g/100) 求几何平均后减1再×100；"
        "缺任一年份为暂无数据。",
        "SELECT 100 * (EXP(AVG(LN(1 + value / 100))) - 1) AS avg_growth, COUNT(*) AS n_years\n"
        "FROM v_county_stats\n"
        "WHERE indicator_name = '规上工业增加值增速' AND scope = '累计'\n"
        "  AND (period = '2023-06' OR (period >= '2021-12' AND period < '2023-01' AND substr(period, 6, 2) = '12'));"),
    "official_quarter_value": Family(
        "季度公布数",
        "取当年报告月 N 及以前最近一个季末月（3、6、9、12月）的公布数；当年尚无季度数时取上年12月（全年）数。",
        "SELECT period, value FROM v_county_stats\n"
        "WHERE indicator_name = '规上工业单位增加值能耗下降率' AND scope = '累计'\n"
        "  AND period BETWEEN '2022-12' AND '2023-06' AND substr(period, 6, 2) IN ('03', '06', '09', '12')\n"
        "ORDER BY period DESC LIMIT 1;"),
    "official_quarter_ratio": Family(
        "两项公布数之比",
        "分子公布数 ÷ 分母公布数 × 100，两者取同一季末月（N 及以前最近一个两项都有的季末月；当年尚无时取上年12月）。",
        "SELECT n.period, n.value * 100 / d.value AS ratio\n"
        "FROM v_county_stats n JOIN v_county_stats d ON d.period = n.period AND d.indicator_name = '地区生产总值'\n"
        "WHERE n.indicator_name = '工业增加值' AND n.scope = '累计' AND d.scope = '累计'\n"
        "  AND n.period BETWEEN '2022-12' AND '2023-06' AND substr(n.period, 6, 2) IN ('03', '06', '09', '12')\n"
        "ORDER BY n.period DESC LIMIT 1;"),
    "per_mu": Family(
        "亩均（评价范围内 Σ分子 ÷ Σ用地面积）",
        "评价范围见 `v_per_mu_evaluated_set`：适用名录中的规上企业，不含不计入亩均目标的产业组（钢压延，"
        "见 `v_industry_group.per_mu_excluded`），用地面积大于0；亩均税收要求1—N月每月都报送税收实际贡献，"
        "分子为1—N月合计；亩均增加值要求第N月报送工业增加值，分子为第N月的1—N月累计值。"
        "完成值 = Σ分子 ÷ Σ用地面积（区域比值，不是企业比值的平均）；与年度目标比较的是年化值 = 完成值 × 12 ÷ N。",
        "SELECT SUM(tax) / SUM(land_mu) AS tax_per_mu,\n"
        "       SUM(tax) / SUM(land_mu) * 12 / 6 AS annualized, COUNT(*) AS enterprises\n"
        "FROM v_per_mu_evaluated_set\n"
        "WHERE plan_id = 'yunhe-2022' AND period = '2023-06' AND tax_in = 1;"),
    "enterprise_ratio": Family(
        "企业月报比值",
        "第N月企业月报（1—N月累计值）中两项都报送的企业：Σ分子 ÷ Σ分母 × 系数；含钢压延；只报一项的企业不计入。",
        "SELECT SUM(rd_expense) * 100 / SUM(revenue) AS rd_ratio, COUNT(*) AS enterprises\n"
        "FROM v_enterprise_month\n"
        "WHERE period = '2023-06' AND rd_expense IS NOT NULL AND revenue IS NOT NULL;"),
    "rectification": Family(
        "整治台账",
        "`v_rectification` 中销号日期在统计区间内（规划期累计：规划期首月1日起；当年累计：当年1月1日起；"
        "至报告月末）的记录：计企业数（按统一社会信用代码去重，可限整治类型）或对某列求和后除以换算系数"
        "（如吨→万吨为10000）；没有记录为0。",
        "SELECT COUNT(DISTINCT uscc) AS enterprises, SUM(land_freed_mu) AS land_mu\n"
        "FROM v_rectification\n"
        "WHERE signoff_date >= '2021-01-01' AND signoff_date <= '2023-06-30';"),
    "big_projects": Family(
        "亿元以上制造业大项目",
        "`v_project_stage` 中每个项目按最早到达计数阶段（签约）的日期计入一次：日期在统计区间内、国民经济行业为"
        "制造业（两位大类13—43）、总投资不低于10000万元的项目个数。",
        "SELECT COUNT(*) AS projects FROM (\n"
        "  SELECT project_code, MIN(stage_date) AS first_date,\n"
        "         MAX(CASE WHEN length(industry_code) = 4 AND substr(industry_code, 1, 2) BETWEEN '13' AND '43'\n"
        "                   AND total_investment >= 10000 THEN 1 ELSE 0 END) AS big\n"
        "  FROM v_project_stage WHERE stage = '签约' AND stage_date <= '2023-06-30'\n"
        "  GROUP BY project_code) f\n"
        "WHERE big = 1 AND first_date >= '2021-01-01';"),
    "task_report": Family(
        "任务月报",
        "`v_task_report` 中该指标代码在报告月及以前最近一次的填报值（当年累计类只取当年的填报；现有数、现值类和"
        "规划期累计类取最近一次，填报值本身已是现有数或累计数）。",
        "SELECT period, value FROM v_task_report\n"
        "WHERE indicator_code = 'K05' AND period <= '2023-06'\n"
        "ORDER BY period DESC LIMIT 1;"),
}

_WINDOW = {"plan": "规划期累计（规划期首月起）", "this_year": "当年累计（1月起）"}


def indicator_rule(ind: dict) -> str:
    """One indicator's 口径 in words, from its method and parameters in the plan configuration."""
    m, prm = ind["method"], ind.get("params", {})
    if m in ("official_value", "official_geomean", "official_quarter_value"):
        return f"主要指标“{prm['indicator']}”（累计）；{FAMILIES[m].title}"
    if m == "official_quarter_ratio":
        return f"“{prm['numerator']}”÷“{prm['denominator']}”×100，同一季末月"
    if m == "per_mu":
        what = "1—N月税收实际贡献合计" if prm["measure"] == "tax" else "第N月工业增加值（1—N月累计）"
        flag = "tax_in" if prm["measure"] == "tax" else "value_added_in"
        return f"{what} ÷ 用地面积，`v_per_mu_evaluated_set.{flag} = 1` 的企业；年化 ×12/N"
    if m == "enterprise_ratio":
        return f"Σ{prm['numerator']} ÷ Σ{prm['denominator']} × {prm['scale']}，第N月两项都报送的企业"
    if m == "rectification":
        types = f"整治类型为{'、'.join(prm['action_types'])}，" if prm.get("action_types") else ""
        if prm["aggregate"] == "distinct_uscc":
            return f"{types}销号企业数（去重），{_WINDOW[prm['window']]}"
        return f"{types}Σ{prm['column']} ÷ {prm['divisor']}，{_WINDOW[prm['window']]}"
    if m == "big_projects":
        return f"签约的亿元以上制造业项目个数，{_WINDOW[prm['window']]}"
    if m == "task_report":
        return f"任务月报“{ind['code']}”最近一次填报值（{ind.get('caliber', '任务月报')}）"
    raise KeyError(m)


@dataclass(frozen=True)
class Question:
    title: str
    sql: str
    answer: str  # how the result compares with the pipeline's own output


# The questions statisticians ask most, answered from this page alone (tests run each as mfg_reader).
QUESTIONS: tuple[Question, ...] = (
    Question(
        "某月各乡镇的亩均税收（通报的乡镇排名）",
        "SELECT town, SUM(tax) / SUM(land_mu) AS tax_per_mu, COUNT(*) AS enterprises\n"
        "FROM v_per_mu_evaluated_set\n"
        "WHERE plan_id = 'yunhe-2022' AND period = '2023-06' AND tax_in = 1\n"
        "GROUP BY town\n"
        "ORDER BY tax_per_mu DESC;",
        "与通报“亩均效益乡镇排名”的亩均税收相同（通报中少于规定家数的乡镇不列示）；年化乘以 12/N。"),
    Question(
        "哪些规上企业缺用地面积（未计入亩均评价）",
        "SELECT uscc, name, town, industry_code, industry_group\n"
        "FROM v_per_mu_evaluated_set\n"
        "WHERE plan_id = 'yunhe-2022' AND period = '2023-06' AND tax_out_reason = 'no_land'\n"
        "ORDER BY uscc;",
        "与该月指标计算提示（`v_indicator_warnings` 规则 evaluated_set_no_land）的企业相同；"
        "钢压延企业原因为 excluded_group，查它们是否缺地用 `land_mu IS NULL OR land_mu <= 0`。"),
    Question(
        "T02 规上工业增加值增速逐月",
        "SELECT period, period_date, value\n"
        "FROM v_county_stats\n"
        "WHERE indicator_name = '规上工业增加值增速' AND scope = '累计'\n"
        "ORDER BY period;",
        "与 `v_indicator_results` 中 code = 'T02' 各月的完成值相同（公布数，不重新计算）。"),
)


def _indicator_section() -> list[str]:
    from .config import load_config

    config = load_config()
    out = ["", "## 指标口径", "",
           f"方案 `{config.plan_id}` 的 {len(config.indicators)} 项指标。N 为报告月的月份数（1—N月）；"
           "计算结果在 `v_indicator_results`，未计入的企业在 `v_indicator_warnings`。", "",
           "| 代码 | 指标 | 单位 | 类型 | 目标 | 口径 | 算法族 |", "|---|---|---|---|---|---|---|"]
    for ind in config.indicators:
        out.append(f"| {ind['code']} | {ind['name']} | {ind['unit']} | {ind['kind']} | {ind['target']} | "
                   f"{indicator_rule(ind)} | {FAMILIES[ind['method']].title} |")
    out += ["", "### 各算法族的口径和示例查询", ""]
    for key, fam in FAMILIES.items():
        codes = "、".join(i["code"] for i in config.indicators if i["method"] == key)
        out += [f"#### {fam.title}（{codes}）", "", fam.rule, "", "```sql", fam.query, "```", ""]
    out += ["## 常见问题的查询", ""]
    for n, q in enumerate(QUESTIONS, 1):
        out += [f"### {n}. {q.title}", "", "```sql", q.sql, "```", "", q.answer, ""]
    return out


def markdown() -> str:
    out = [
        "# 数据字典（统计人员查询用视图）",
        "",
        "<!-- 由 `python -m mfg_indicators.dictionary --write` 根据 src/mfg_indicators/dictionary.py、",
        "     feeds.py 和方案配置生成，请勿手工修改。 -->",
        "",
        "数据仓库中的视图供统计人员直接查询（SQLite 与 PostgreSQL 相同）。视图定义见",
        "`include/sql/migrations/002_indicators.sql` 和 `014_statisticians_views.sql`；在 PostgreSQL 上每个视图"
        "和列都带有下列中文注释（`\\d+ 视图名` 可见）。浏览器中的查询和看板见 Apache Superset（README）。",
        "",
        f"PostgreSQL 只读角色：`{READER_ROLE}`（不能登录的组角色，只能查询下列视图，不能写入任何表）。"
        "为统计人员建登录账号并授予该角色，例如：",
        "",
        "```sql",
        f"CREATE ROLE tongji LOGIN PASSWORD '…' IN ROLE {READER_ROLE};",
        "```",
        "",
        "谁能看到什么：",
        "",
        f"- `{READER_ROLE}`（统计人员、Superset 看板和 SQL Lab）：下列视图。含企业当月税收（`v_enterprise_month`）、"
        "亩均评价范围内的企业税收合计（`v_per_mu_evaluated_set`）和企业的评价分类（`v_evaluation_class`）；"
        "不含评价的企业得分明细和各项亩均数值。",
        "- 仓库所有者（数据工程师）：全部表，含 `mart_evaluation*` 的企业得分、各项亩均数值和"
        "低效企业清单 `mart_inefficient_list`。低效企业清单（`mfg-indicators evaluate` 生成的 xlsx）限内部使用，"
        "按清单的发放范围提供，不授予只读角色。",
        "",
        "约定：金额单位为万元（另有说明除外）；空值表示“未报送”，不是零；月份写作 `YYYY-MM`，"
        "旁边的 `period_date` 是该月第一天（日期型）。",
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
    out += _indicator_section()
    return "\n".join(out).rstrip("\n") + "\n"


def generated_files() -> dict[Path, str]:
    return {DOC_PATH: markdown(), PG_MIGRATION_PATH: postgresql_migration(),
            PG_MIGRATION_014_PATH: postgresql_migration_014(), PG_MIGRATION_016_PATH: postgresql_migration_016()}


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
