{#- Ingest-time validation warnings that still describe the warehouse for a report on month N of
    year Y: only deliveries that still own rows in a core table (a corrected month's old delivery
    drops out), only rows dated in year Y up to month N (:year_start .. :period), the roster year
    Y itself, or undated — and none of the rules evaluated from the warehouse when the month is
    computed (:warehouse_rules; copies stored by earlier versions are history, not the warehouse).
    Context: tables (the feed tables). The final order of a month's warnings is
    rules.warning_sort_key; this ORDER BY places NULLs explicitly so both engines agree. -#}
SELECT w.source, w.table_name, w.uscc, w.period, w.rule, w.message
FROM validation_warning w
WHERE w.delivery_id IN (
{% for t in tables %}
    {% if not loop.first %}UNION {% endif %}SELECT DISTINCT delivery_id FROM {{ t.core }}
{% endfor %}
)
  AND w.rule NOT IN :warehouse_rules
  AND (w.period IS NULL
       OR w.period = substr(:year_start, 1, 4)
       OR (substr(w.period, 1, 7) >= :year_start AND substr(w.period, 1, 7) <= :period))
ORDER BY w.source, w.table_name, COALESCE(w.period, ''), COALESCE(w.uscc, ''), w.rule, w.delivery_id, w.seq
