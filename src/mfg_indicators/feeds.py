"""The feed contract of ``shared/spec/feeds.md`` as data.

One place says which tables the departments deliver, their Chinese headers, the warehouse column
each header lands in, the value type, and how a later delivery replaces an earlier one. The sample
generator, the readers, the loaders, the data-quality suites and the migrations all follow this
module; nothing else spells out a header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Column value types. The reader coerces cells into these; the warehouse stores them as:
#   text/uscc/code -> TEXT, number -> DOUBLE PRECISION, int -> INTEGER, month -> TEXT 'YYYY-MM',
#   date -> DATE ('YYYY-MM-DD'), yesno -> INTEGER 1/0.
TYPES = ("text", "uscc", "code", "number", "int", "month", "date", "yesno")

SOURCES = ("registry", "tax", "energy", "stats", "projects", "ledgers")


@dataclass(frozen=True)
class Column:
    header: str  # canonical Chinese header (normalised form, full-width parentheses)
    name: str  # warehouse column name
    type: str  # one of TYPES
    nullable: bool = True  # may a cell be empty ("not reported")?
    comment: str = ""  # Chinese description for the data dictionary (defaults to the header)

    @property
    def label(self) -> str:
        return self.comment or self.header


@dataclass(frozen=True)
class Table:
    name: str  # table id, also the suffix of stg_/core_ tables
    source: str  # inbox sub-folder / department feed
    title: str  # Chinese table name as departments call it
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # unique within one delivery, and the core primary key
    # How a later delivery replaces an earlier one (feeds.md -> Keys):
    #   a column name: every value of that column present in the delivery is replaced whole
    #   None: rows upsert by ``key``
    replace_by: str | None
    period_column: str | None = None  # month or date column that dates a row
    extra: dict = field(default_factory=dict)

    @property
    def stg(self) -> str:
        return f"stg_{self.name}"

    @property
    def core(self) -> str:
        return f"core_{self.name}"

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(c.header for c in self.columns)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _uscc(nullable: bool = False) -> Column:
    return Column("统一社会信用代码", "uscc", "uscc", nullable=nullable)


REGISTRY = Table(
    name="registry",
    source="registry",
    title="企业名录",
    columns=(
        _uscc(),
        Column("企业名称", "name", "text"),
        Column("行业代码", "industry_code", "code", nullable=False),
        Column("乡镇街道", "town", "text", nullable=False),
        Column("用地面积（亩）", "land_mu", "number"),
        Column("是否规上", "is_above_scale", "yesno", nullable=False),
        Column("名录年份", "roster_year", "int", nullable=False),
    ),
    key=("roster_year", "uscc"),
    replace_by="roster_year",
)

TAX = Table(
    name="tax",
    source="tax",
    title="税收",
    columns=(
        _uscc(),
        Column("纳税人名称", "name", "text"),
        Column("所属期", "period", "month", nullable=False),
        Column("增值税（万元）", "vat", "number"),
        Column("企业所得税（万元）", "cit", "number"),
        Column("其他税费（万元）", "other_tax", "number"),
        Column("税收实际贡献（万元）", "total_tax", "number"),
    ),
    key=("period", "uscc"),
    replace_by="period",
    period_column="period",
)

ENERGY = Table(
    name="energy",
    source="energy",
    title="能耗",
    columns=(
        _uscc(),
        Column("企业名称", "name", "text"),
        Column("统计期", "period", "month", nullable=False),
        Column("综合能源消费量（吨标准煤）", "energy_tce", "number"),
        Column("用电量（万千瓦时）", "electricity", "number"),
    ),
    key=("period", "uscc"),
    replace_by="period",
    period_column="period",
)

STATS_ENTERPRISE = Table(
    name="stats_enterprise",
    source="stats",
    title="企业月报",
    columns=(
        _uscc(),
        Column("企业名称", "name", "text"),
        Column("统计期", "period", "month", nullable=False),
        Column("工业总产值（万元）", "gross_output", "number", comment="工业总产值（万元，1—N月累计）"),
        Column("工业增加值（万元）", "value_added", "number", comment="工业增加值（万元，1—N月累计）"),
        Column("营业收入（万元）", "revenue", "number", comment="营业收入（万元，1—N月累计）"),
        Column("研发费用（万元）", "rd_expense", "number", comment="研发费用（万元，1—N月累计）"),
        Column("从业人员平均人数（人）", "employees", "number", comment="从业人员平均人数（人，1—N月）"),
    ),
    key=("period", "uscc"),
    replace_by="period",
    period_column="period",
)

STATS_COUNTY = Table(
    name="stats_county",
    source="stats",
    title="主要指标",
    columns=(
        Column("指标名称", "indicator_name", "text", nullable=False),
        Column("统计期", "period", "month", nullable=False),
        Column("口径", "scope", "text", nullable=False),
        Column("数值", "value", "number", nullable=False),
        Column("单位", "unit", "text", nullable=False),
    ),
    key=("indicator_name", "period"),
    replace_by=None,
    period_column="period",
)

PROJECTS = Table(
    name="projects",
    source="projects",
    title="项目",
    columns=(
        Column("项目代码", "project_code", "text", nullable=False),
        Column("项目名称", "project_name", "text"),
        Column("项目单位", "owner_name", "text"),
        _uscc(nullable=True),
        Column("国民经济行业", "industry_code", "code"),
        Column("总投资（万元）", "total_investment", "number"),
        Column("项目阶段", "stage", "text", nullable=False),
        Column("阶段日期", "stage_date", "date", nullable=False),
        Column("是否山海协作", "is_mountain_sea", "yesno"),
        Column("到位资金（万元）", "funds_in_place", "number"),
    ),
    key=("project_code", "stage"),
    replace_by=None,
    period_column="stage_date",
)

RECTIFICATION = Table(
    name="rectification",
    source="ledgers",
    title="整治台账",
    columns=(
        _uscc(),
        Column("企业名称", "name", "text"),
        Column("整治类型", "action_type", "text", nullable=False),
        Column("销号日期", "signoff_date", "date", nullable=False),
        Column("腾出用地（亩）", "land_freed_mu", "number"),
        Column("腾出用能（吨标准煤）", "energy_freed_tce", "number"),
        Column("减碳（吨）", "carbon_reduced_t", "number"),
        Column("责任单位", "responsible_unit", "text"),
    ),
    key=("uscc", "action_type"),
    replace_by=None,
    period_column="signoff_date",
)

TASK_REPORT = Table(
    name="task_report",
    source="ledgers",
    title="任务月报",
    columns=(
        Column("指标代码", "indicator_code", "text", nullable=False),
        Column("统计期", "period", "month", nullable=False),
        Column("数值", "value", "number", nullable=False),
        Column("单位", "unit", "text", nullable=False),
        Column("填报单位", "reporter", "text"),
    ),
    key=("indicator_code", "period"),
    replace_by=None,
    period_column="period",
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (REGISTRY, TAX, ENERGY, STATS_ENTERPRISE, STATS_COUNTY, PROJECTS, RECTIFICATION, TASK_REPORT)
}


def tables_of_source(source: str) -> list[Table]:
    return [t for t in TABLES.values() if t.source == source]


# Allowed categories (feeds.md). Towns come from the plan configuration (another county has other
# towns); these are properties of the feeds themselves.
PROJECT_STAGES = ("签约", "备案", "开工", "投产")
ACTION_TYPES = ("淘汰落后产能", "整治提升", "兼并重组", "整体腾退")
COUNTY_INDICATOR_UNITS = {
    "地区生产总值": "亿元",
    "工业增加值": "亿元",
    "规上工业增加值": "亿元",
    "规上工业增加值增速": "%",
    "规上工业单位增加值能耗下降率": "%",
    "制造业投资增速": "%",
}
YES_NO = {"是": 1, "否": 0}

_WS = re.compile(r"\s+")


def normalize_header(text: object) -> str:
    """Canonical form of a header cell: no whitespace (incl. full-width), full-width parentheses."""
    s = "" if text is None else str(text)
    s = s.replace("\u3000", " ").replace("\ufeff", "")
    s = _WS.sub("", s)
    return s.replace("(", "（").replace(")", "）")


def match_table(headers: list[object], candidates: list[Table] | None = None) -> Table | None:
    """The table whose required headers are all present in ``headers`` (recognised by header row).

    The table with the largest overlap wins, so 企业月报 (which shares 统计期/企业名称 with 能耗) is
    told apart by its own columns.
    """
    norm = {normalize_header(h) for h in headers if h is not None and str(h).strip()}
    best, best_score = None, 0
    for t in candidates or list(TABLES.values()):
        own = set(t.headers)
        hit = len(own & norm)
        # A table is recognised when most of its own headers are there; missing/unknown columns are
        # then reported against that table instead of "unrecognised file".
        if hit >= max(2, (len(own) + 1) // 2) and hit > best_score:
            best, best_score = t, hit
    return best
