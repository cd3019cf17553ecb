-- 001: the warehouse from nothing. Portable DDL: runs unchanged on SQLite and PostgreSQL.

-- Layers: raw (what arrived), stg_ (a delivery being audited), core_ (published, keyed as

-- feeds.md -> Keys), mart_ (computed indicators). Staging columns are nullable on purpose:
-- the data-quality suites, not constraint errors, report what is missing.



CREATE TABLE raw_delivery (
    delivery_id   TEXT NOT NULL PRIMARY KEY,   -- sha256 of the file's bytes
    source        TEXT NOT NULL,               -- registry, tax, energy, stats, projects, ledgers
    file_name     TEXT NOT NULL,
    archive_path  TEXT NOT NULL,               -- the unchanged copy
    size_bytes    BIGINT NOT NULL,
    file_mtime    TIMESTAMP NOT NULL,          -- arrival order: mtime, then name
    received_at   TIMESTAMP NOT NULL,
    status        TEXT NOT NULL,               -- accepted, rejected
    row_count     INTEGER,
    periods       TEXT,                        -- JSON list of months/years the delivery touched
    report        TEXT                         -- JSON: rejection reasons or table summary
);

CREATE TABLE delivery_table (
    delivery_id   TEXT NOT NULL,
    table_name    TEXT NOT NULL,               -- a feeds.TABLES name
    sheet         TEXT,
    row_count     INTEGER NOT NULL,
    periods       TEXT,                        -- JSON list
    PRIMARY KEY (delivery_id, table_name)
);

CREATE TABLE validation_warning (
    delivery_id   TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    source        TEXT NOT NULL,
    table_name    TEXT NOT NULL,
    uscc          TEXT,                        -- or the indicator/project code the warning is about
    period        TEXT,
    rule          TEXT NOT NULL,
    message       TEXT NOT NULL,               -- Chinese, for the bulletin's annex
    PRIMARY KEY (delivery_id, seq)
);

CREATE TABLE stg_registry (
    delivery_id TEXT NOT NULL,
    row_no INTEGER NOT NULL,
    uscc TEXT,
    name TEXT,
    industry_code TEXT,
    town TEXT,
    land_mu DOUBLE PRECISION,
    is_above_scale INTEGER,
    roster_year INTEGER,
    PRIMARY KEY (delivery_id, row_no)
);

CREATE TABLE core_registry (
    uscc TEXT NOT NULL,
    name TEXT,
    industry_code TEXT NOT NULL,
    town TEXT NOT NULL,
    land_mu DOUBLE PRECISION,
    is_above_scale INTEGER NOT NULL,
    roster_year INTEGER NOT NULL,
    delivery_id TEXT NOT NULL,
    PRIMARY KEY (roster_year, uscc)
);

CREATE TABLE stg_tax (
    delivery_id TEXT NOT NULL,
    row_no INTEGER NOT NULL,
    uscc TEXT,
    name TEXT,
    period TEXT,
    vat DOUBLE PRECISION,
    cit DOUBLE PRECISION,
    other_tax DOUBLE PRECISION,
    total_tax DOUBLE PRECISION,
    PRIMARY KEY (delivery_id, row_no)
);

CREATE TABLE core_tax (
    uscc TEXT NOT NULL,
    name TEXT,
    period TEXT NOT NULL,
    vat DOUBLE PRECISION,
    cit DOUBLE PRECISION,
    other_tax DOUBLE PRECISION,
    total_tax DOUBLE PRECISION,
    delivery_id TEXT NOT NULL,
    PRIMARY KEY (period, uscc)
);

CREATE TABLE stg_energy (
    delivery_id TEXT NOT NULL,
    row_no INTEGER NOT NULL,
    uscc TEXT,
    name TEXT,
    period TEXT,
    energy_tce DOUBLE PRECISION,
    electricity DOUBLE PRECISION,
    PRIMARY KEY (delivery_id, row_no)
);

CREATE TABLE core_energy (
    uscc TEXT NOT NULL,
    name TEXT,
    period TEXT NOT NULL,
    energy_tce DOUBLE PRECISION,
    electricity DOUBLE PRECISION,
    delivery_id TEXT NOT NULL,
    PRIMARY KEY (period, uscc)
);

CREATE TABLE stg_stats_enterprise (
    delivery_id TEXT NOT NULL,
    row_no INTEGER NOT NULL,
    uscc TEXT,
    name TEXT,
    period TEXT,
    gross_output DOUBLE PRECISION,
    value_added DOUBLE PRECISION,
    revenue DOUBLE PRECISION,
    rd_expense DOUBLE PRECISION,
    employees DOUBLE PRECISION,
    PRIMARY KEY (delivery_id, row_no)
);

CREATE TABLE core_stats_enterprise (
    uscc TEXT NOT NULL,
    name TEXT,
    period TEXT NOT NULL,
    gross_output DOUBLE PRECISION,
    value_added DOUBLE PRECISION,
    revenue DOUBLE PRECISION,
    rd_expense DOUBLE PRECISION,
    employees DOUBLE PRECISION,
    delivery_id TEXT NOT NULL,
    PRIMARY KEY (period, uscc)
);

CREATE TABLE stg_stats_county (
    delivery_id TEXT NOT NULL,
    row_no INTEGER NOT NULL,
    indicator_name TEXT,
    period TEXT,
    scope TEXT,
    value DOUBLE PRECISION,
    unit TEXT,
    PRIMARY KEY (delivery_id, row_no)
);

CREATE TABLE core_stats_county (
    indicator_name TEXT NOT NULL,
    period TEXT NOT NULL,
    scope TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    unit TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    PRIMARY KEY (indicator_name, period)
);

CREATE TABLE stg_projects (
    delivery_id TEXT NOT NULL,
    row_no INTEGER NOT NULL,
    project_code TEXT,
    project_name TEXT,
    owner_name TEXT,
    uscc TEXT,
    industry_code TEXT,
    total_investment DOUBLE PRECISION,
    stage TEXT,
    stage_date DATE,
    is_mountain_sea INTEGER,
    funds_in_place DOUBLE PRECISION,
    PRIMARY KEY (delivery_id, row_no)
);

CREATE TABLE core_projects (
    project_code TEXT NOT NULL,
    project_name TEXT,
    owner_name TEXT,
    uscc TEXT,
    industry_code TEXT,
    total_investment DOUBLE PRECISION,
    stage TEXT NOT NULL,
    stage_date DATE NOT NULL,
    is_mountain_sea INTEGER,
    funds_in_place DOUBLE PRECISION,
    delivery_id TEXT NOT NULL,
    PRIMARY KEY (project_code, stage)
);

CREATE TABLE stg_rectification (
    delivery_id TEXT NOT NULL,
    row_no INTEGER NOT NULL,
    uscc TEXT,
    name TEXT,
    action_type TEXT,
    signoff_date DATE,
    land_freed_mu DOUBLE PRECISION,
    energy_freed_tce DOUBLE PRECISION,
    carbon_reduced_t DOUBLE PRECISION,
    responsible_unit TEXT,
    PRIMARY KEY (delivery_id, row_no)
);

CREATE TABLE core_rectification (
    uscc TEXT NOT NULL,
    name TEXT,
    action_type TEXT NOT NULL,
    signoff_date DATE NOT NULL,
    land_freed_mu DOUBLE PRECISION,
    energy_freed_tce DOUBLE PRECISION,
    carbon_reduced_t DOUBLE PRECISION,
    responsible_unit TEXT,
    delivery_id TEXT NOT NULL,
    PRIMARY KEY (uscc, action_type)
);

CREATE TABLE stg_task_report (
    delivery_id TEXT NOT NULL,
    row_no INTEGER NOT NULL,
    indicator_code TEXT,
    period TEXT,
    value DOUBLE PRECISION,
    unit TEXT,
    reporter TEXT,
    PRIMARY KEY (delivery_id, row_no)
);

CREATE TABLE core_task_report (
    indicator_code TEXT NOT NULL,
    period TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    unit TEXT NOT NULL,
    reporter TEXT,
    delivery_id TEXT NOT NULL,
    PRIMARY KEY (indicator_code, period)
);

CREATE TABLE mart_indicator (
    plan_id       TEXT NOT NULL,
    period        TEXT NOT NULL,               -- YYYY-MM
    code          TEXT NOT NULL,
    name          TEXT NOT NULL,
    unit          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    grp           TEXT NOT NULL,
    value         DOUBLE PRECISION,            -- unrounded; NULL when status = no_data
    annualized    DOUBLE PRECISION,
    target        DOUBLE PRECISION NOT NULL,
    progress      DOUBLE PRECISION,
    time_progress DOUBLE PRECISION,
    status        TEXT NOT NULL,               -- green, yellow, red, done, no_data
    as_of         TEXT,
    notes         TEXT NOT NULL,               -- JSON list
    computed_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (plan_id, period, code)
);
