{#- Validation warnings recorded for the deliveries listed in the bulletin's annex.
    :ids is a list (an expanding bind parameter). The rules evaluated from the warehouse when a
    month is computed are left out (their ingest-time copies from earlier versions depend on the
    arrival order); the list is rules.WAREHOUSE_RULES, checked by a test. -#}
SELECT w.delivery_id, w.seq, w.source, w.table_name, w.uscc, w.period, w.rule, w.message
FROM validation_warning w
WHERE w.delivery_id IN :ids
  AND w.rule NOT IN ('registry_empty', 'not_in_registry', 'mom_jump', 'cumulative_decrease',
                     'above_scale_no_tax', 'reconciliation')
ORDER BY w.source, w.table_name, COALESCE(w.period, ''), COALESCE(w.uscc, ''), w.delivery_id, w.seq
