-- delivered: which feed tables have ever been delivered (an accepted delivery that carried the
-- table, or rows in its core table). Decides between `no_data` (never delivered) and 0 (an event
-- list delivered with no event in the window).

-- name: delivered_tables
SELECT DISTINCT dt.table_name
FROM delivery_table dt
JOIN raw_delivery rd ON rd.delivery_id = dt.delivery_id
WHERE rd.status = 'accepted'

-- name: core_has_rows
SELECT 1 AS has_rows FROM {{core_table}} LIMIT 1

-- name: validation_warnings
-- Warnings the data-quality gate raised on accepted deliveries for rows of this month (for the
-- JSON's "warnings" when the document is written from the warehouse, e.g. by the monthly DAG).
SELECT w.source, w.table_name, w.uscc, w.period, w.rule, w.message
FROM validation_warning w
JOIN raw_delivery d ON d.delivery_id = w.delivery_id
WHERE d.status = 'accepted'
  AND w.period = :period
ORDER BY d.received_at, w.delivery_id, w.seq
