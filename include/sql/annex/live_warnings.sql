-- Validation warnings that still describe the warehouse for a report on month N of year Y:
-- only deliveries that still own rows in a core table (a corrected month's old delivery drops
-- out), and only rows dated in year Y up to month N, the roster year Y itself, or undated.
-- The placeholder in braces is a UNION of "SELECT DISTINCT delivery_id FROM core_<table>" over
-- the feed tables, filled in from mfg_indicators.feeds. (No colons in comments: SQLAlchemy
-- would read them as bind parameters.)
SELECT w.source, w.table_name, w.uscc, w.period, w.rule, w.message
FROM validation_warning w
WHERE w.delivery_id IN ({live_deliveries})
  AND (w.period IS NULL
       OR w.period = substr(:year_start, 1, 4)
       OR (substr(w.period, 1, 7) >= :year_start AND substr(w.period, 1, 7) <= :period))
ORDER BY w.source, w.table_name, w.period, w.uscc, w.rule, w.delivery_id, w.seq
