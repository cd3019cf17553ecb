-- 013 (SQLite): staging tables without a primary key — see 013_staging_without_key.postgresql.sql.
-- SQLite cannot drop a primary key: each (empty between deliveries) stg_ table is rebuilt.

CREATE TABLE stg_registry__new (
    delivery_id TEXT NOT NULL,
    row_no INTEGER NOT NULL,
    uscc TEXT,
    name TEXT,
    industry_code TEXT,
    town TEXT,
    land_mu DOUBLE PRECISION,
    is_above_scale INTEGER,
    roster_year INTEGER
);
INSERT INTO stg_registry__new SELECT delivery_id, row_no, uscc, name, industry_code, town, land_mu, is_above_scale, roster_year FROM stg_registry;
DROP TABLE stg_registry;
ALTER TABLE stg_registry__new RENAME TO stg_registry;

CREATE TABLE stg_tax__new (
    delivery_id TEXT NOT NULL,
    row_no INTEGER NOT NULL,
    uscc TEXT,
    name TEXT,
    period TEXT,
    vat DOUBLE PRECISION,
    cit DOUBLE PRECISION,
    other_tax DOUBLE PRECISION,
    total_tax DOUBLE PRECISION
);
INSERT INTO stg_tax__new SELECT delivery_id, row_no, uscc, name, period, vat, cit, other_tax, total_tax FROM stg_tax;
DROP TABLE stg_tax;
ALTER TABLE stg_tax__new RENAME TO stg_tax;

CREATE TABLE stg_energy__new (
    delivery_id TEXT NOT NULL,
    row_no INTEGER NOT NULL,
    uscc TEXT,
    name TEXT,
    period TEXT,
    energy_tce DOUBLE PRECISION,
    electricity DOUBLE PRECISION
);
INSERT INTO stg_energy__new SELECT delivery_id, row_no, uscc, name, period, energy_tce, electricity FROM stg_energy;
DROP TABLE stg_energy;
ALTER TABLE stg_energy__new RENAME TO stg_energy;

CREATE TABLE stg_stats_enterprise__new (
    delivery_id TEXT NOT NULL,
    row_no INTEGER NOT NULL,
    uscc TEXT,
    name TEXT,
    period TEXT,
    gross_output DOUBLE PRECISION,
    value_added DOUBLE PRECISION,
    revenue DOUBLE PRECISION,
    rd_expense DOUBLE PRECISION,
    employees DOUBLE PRECISION
);
INSERT INTO stg_stats_enterprise__new SELECT delivery_id, row_no, uscc, name, period, gross_output, value_added, revenue, rd_expense, employees FROM stg_stats_enterprise;
DROP TABLE stg_stats_enterprise;
ALTER TABLE stg_stats_enterprise__new RENAME TO stg_stats_enterprise;

CREATE TABLE stg_stats_county__new (
    delivery_id TEXT NOT NULL,
    row_no INTEGER NOT NULL,
    indicator_name TEXT,
    period TEXT,
    scope TEXT,
    value DOUBLE PRECISION,
    unit TEXT
);
INSERT INTO stg_stats_county__new SELECT delivery_id, row_no, indicator_name, period, scope, value, unit FROM stg_stats_county;
DROP TABLE stg_stats_county;
ALTER TABLE stg_stats_county__new RENAME TO stg_stats_county;

CREATE TABLE stg_projects__new (
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
    funds_in_place DOUBLE PRECISION
);
INSERT INTO stg_projects__new SELECT delivery_id, row_no, project_code, project_name, owner_name, uscc, industry_code, total_investment, stage, stage_date, is_mountain_sea, funds_in_place FROM stg_projects;
DROP TABLE stg_projects;
ALTER TABLE stg_projects__new RENAME TO stg_projects;

CREATE TABLE stg_rectification__new (
    delivery_id TEXT NOT NULL,
    row_no INTEGER NOT NULL,
    uscc TEXT,
    name TEXT,
    action_type TEXT,
    signoff_date DATE,
    land_freed_mu DOUBLE PRECISION,
    energy_freed_tce DOUBLE PRECISION,
    carbon_reduced_t DOUBLE PRECISION,
    responsible_unit TEXT
);
INSERT INTO stg_rectification__new SELECT delivery_id, row_no, uscc, name, action_type, signoff_date, land_freed_mu, energy_freed_tce, carbon_reduced_t, responsible_unit FROM stg_rectification;
DROP TABLE stg_rectification;
ALTER TABLE stg_rectification__new RENAME TO stg_rectification;

CREATE TABLE stg_task_report__new (
    delivery_id TEXT NOT NULL,
    row_no INTEGER NOT NULL,
    indicator_code TEXT,
    period TEXT,
    value DOUBLE PRECISION,
    unit TEXT,
    reporter TEXT
);
INSERT INTO stg_task_report__new SELECT delivery_id, row_no, indicator_code, period, value, unit, reporter FROM stg_task_report;
DROP TABLE stg_task_report;
ALTER TABLE stg_task_report__new RENAME TO stg_task_report;

-- The month-on-month rules join a staged month with a core month on uscc. SQLite runs a join as
-- nested loops: with the core month outside (a correction arriving after later months), the
-- staged side needs an index or each core row scans the whole delivery (minutes for 150,000 rows,
-- measured). PostgreSQL hash-joins these and needs no index.
CREATE INDEX stg_tax_uscc_period ON stg_tax (uscc, period);
CREATE INDEX stg_energy_uscc_period ON stg_energy (uscc, period);
CREATE INDEX stg_stats_enterprise_uscc_period ON stg_stats_enterprise (uscc, period);
