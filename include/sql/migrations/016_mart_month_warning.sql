-- mart_month_warning: the warnings of each computed month exactly as indicators-YYYY-MM.json and
-- the bulletin's annex give them (the warehouse rules evaluated when the month was documented,
-- the ingest-time warnings of the deliveries still in core, the computation's own), so a
-- statistician or the dashboard reads the same list the office was sent. Written by the
-- document step (mfg_indicators.document.store_warnings), the month's rows replaced.

CREATE TABLE mart_month_warning (
    plan_id         TEXT NOT NULL,
    period          TEXT NOT NULL,               -- the report month, YYYY-MM
    seq             INTEGER NOT NULL,            -- order of the document's warnings list
    source          TEXT NOT NULL,               -- feed the warning is about: registry, tax, stats ...
    table_name      TEXT,                        -- feeds table
    rule            TEXT,                        -- rule code
    uscc            TEXT,                        -- enterprise (or indicator / project code)
    warning_period  TEXT,                        -- the month (YYYY-MM) or roster year (YYYY) it is about
    message         TEXT NOT NULL,               -- Chinese, as in the bulletin
    PRIMARY KEY (plan_id, period, seq)
);

CREATE VIEW v_month_warnings AS
SELECT w.plan_id AS plan_id,
       w.period AS period,
       date(w.period || '-01') AS period_date,
       CASE WHEN w.period = (SELECT MAX(m.period) FROM mart_month_warning m WHERE m.plan_id = w.plan_id)
            THEN 1 ELSE 0 END AS latest_period,
       w.seq AS seq,
       w.source AS source,
       w.table_name AS table_name,
       w.rule AS rule,
       w.uscc AS uscc,
       w.warning_period AS warning_period,
       w.message AS message
FROM mart_month_warning w;
