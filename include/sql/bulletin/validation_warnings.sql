-- Validation warnings recorded for the deliveries listed in the bulletin's annex.
-- :ids is expanded by the caller (SQLAlchemy expanding bind parameter).
SELECT w.delivery_id, w.seq, w.source, w.table_name, w.uscc, w.period, w.rule, w.message
FROM validation_warning w
WHERE w.delivery_id IN :ids
ORDER BY w.source, w.table_name, w.period, w.uscc, w.delivery_id, w.seq
