-- 010: the annual 亩均效益综合评价 (per-enterprise classes A/B/C/D) and the 低效企业清单.
-- Written by mfg_indicators.evaluation; a recompute replaces every row of its (plan_id, year).
-- Portable DDL: runs unchanged on SQLite and PostgreSQL.

-- The evaluation parameters in force for a year (from config/evaluation/YYYY.yaml), one row
-- per size class (scale = above for 规上, below for 规下) and scored item.
CREATE TABLE mart_evaluation_param (
    plan_id          TEXT NOT NULL,
    year             INTEGER NOT NULL,
    scale            TEXT NOT NULL,
    item             TEXT NOT NULL,
    name             TEXT NOT NULL,
    unit             TEXT NOT NULL,
    weight           DOUBLE PRECISION NOT NULL,
    benchmark        DOUBLE PRECISION,             -- NULL when county_average has no data
    benchmark_basis  TEXT NOT NULL,                -- configured or county_average
    cap              DOUBLE PRECISION NOT NULL,    -- max of value / benchmark
    floor_ratio      DOUBLE PRECISION NOT NULL,    -- min of value / benchmark
    missing_rule     TEXT NOT NULL,                -- average_score, reweight, zero, exclude
    config_file      TEXT NOT NULL,
    PRIMARY KEY (plan_id, year, scale, item)
);

-- Every enterprise of the year s roster with its annual figures and indicator values; excluded
-- = 1 with a code and a Chinese reason for those left out (the listed exclusions).
CREATE TABLE mart_evaluation_enterprise (
    plan_id              TEXT NOT NULL,
    year                 INTEGER NOT NULL,
    uscc                 TEXT NOT NULL,
    name                 TEXT,
    industry_code        TEXT NOT NULL,
    industry_group       TEXT NOT NULL,
    town                 TEXT NOT NULL,
    land_mu              DOUBLE PRECISION,
    scale                TEXT NOT NULL,
    roster_year          INTEGER NOT NULL,
    first_roster_year    INTEGER NOT NULL,
    tax_total            DOUBLE PRECISION,
    tax_months           INTEGER NOT NULL,
    energy_tce           DOUBLE PRECISION,
    electricity          DOUBLE PRECISION,
    energy_months        INTEGER NOT NULL,
    value_added          DOUBLE PRECISION,
    revenue              DOUBLE PRECISION,
    rd_expense           DOUBLE PRECISION,
    employees            DOUBLE PRECISION,
    stats_period         TEXT,
    tax_per_mu           DOUBLE PRECISION,
    va_per_mu            DOUBLE PRECISION,
    va_per_energy        DOUBLE PRECISION,
    va_per_emission      DOUBLE PRECISION,
    labour_productivity  DOUBLE PRECISION,
    rd_ratio             DOUBLE PRECISION,
    tax_per_electricity  DOUBLE PRECISION,
    excluded             INTEGER NOT NULL,
    exclusion_code       TEXT,
    exclusion_reason     TEXT,
    PRIMARY KEY (plan_id, year, uscc)
);

-- Each evaluated enterprise s score on each item, and how it was obtained (basis = value,
-- average_item_score, average_score_rate, reweight, missing_zero).
CREATE TABLE mart_evaluation_item (
    plan_id      TEXT NOT NULL,
    year         INTEGER NOT NULL,
    uscc         TEXT NOT NULL,
    scale        TEXT NOT NULL,
    item         TEXT NOT NULL,
    value        DOUBLE PRECISION,
    weight       DOUBLE PRECISION NOT NULL,
    benchmark    DOUBLE PRECISION,
    ratio        DOUBLE PRECISION,
    item_score   DOUBLE PRECISION NOT NULL,
    basis        TEXT NOT NULL,
    PRIMARY KEY (plan_id, year, uscc, item)
);

-- The result: one row per evaluated enterprise, with its class and last year s class.
CREATE TABLE mart_evaluation (
    plan_id              TEXT NOT NULL,
    year                 INTEGER NOT NULL,
    uscc                 TEXT NOT NULL,
    name                 TEXT,
    town                 TEXT NOT NULL,
    industry_code        TEXT NOT NULL,
    industry_group       TEXT NOT NULL,
    land_mu              DOUBLE PRECISION NOT NULL,
    scale                TEXT NOT NULL,
    tax_per_mu           DOUBLE PRECISION,
    va_per_mu            DOUBLE PRECISION,
    va_per_energy        DOUBLE PRECISION,
    va_per_emission      DOUBLE PRECISION,
    labour_productivity  DOUBLE PRECISION,
    rd_ratio             DOUBLE PRECISION,
    tax_per_electricity  DOUBLE PRECISION,
    score                DOUBLE PRECISION NOT NULL,
    rank_in_scale        INTEGER NOT NULL,             -- 1 = best; equal scores share a rank
    n_in_scale           INTEGER NOT NULL,
    imputed_items        INTEGER NOT NULL,             -- items scored without the enterprise s own value
    class                TEXT NOT NULL,                -- A, B, C, D
    class_rule           TEXT NOT NULL,                -- percentile or thresholds
    prev_class           TEXT,                         -- same plan, year - 1; NULL when not evaluated
    computed_at          TIMESTAMP NOT NULL,
    PRIMARY KEY (plan_id, year, uscc)
);

-- The 低效企业清单: the configured classes (D) plus the configured 三低 rules.
CREATE TABLE mart_inefficient_list (
    plan_id              TEXT NOT NULL,
    year                 INTEGER NOT NULL,
    uscc                 TEXT NOT NULL,
    name                 TEXT,
    town                 TEXT NOT NULL,
    industry_code        TEXT NOT NULL,
    industry_group       TEXT NOT NULL,
    land_mu              DOUBLE PRECISION NOT NULL,
    scale                TEXT NOT NULL,
    tax_per_mu           DOUBLE PRECISION,
    va_per_mu            DOUBLE PRECISION,
    va_per_energy        DOUBLE PRECISION,
    va_per_emission      DOUBLE PRECISION,
    labour_productivity  DOUBLE PRECISION,
    rd_ratio             DOUBLE PRECISION,
    tax_per_electricity  DOUBLE PRECISION,
    score                DOUBLE PRECISION NOT NULL,
    rank_in_scale        INTEGER NOT NULL,
    class                TEXT NOT NULL,
    prev_class           TEXT,
    reason_codes         TEXT NOT NULL,                -- JSON list, e.g. class_D, low_tax_above
    reasons              TEXT NOT NULL,                -- Chinese, joined
    computed_at          TIMESTAMP NOT NULL,
    PRIMARY KEY (plan_id, year, uscc)
);
