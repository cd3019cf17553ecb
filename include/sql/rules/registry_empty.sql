{#- Rule registry_empty — no enterprise registry (企业名录) is loaded at all, so the enterprises of
    the month's enterprise-level feeds cannot be checked against it. One row per feed table that
    has enterprises in the report's months. Evaluated on the warehouse when the month is computed,
    so it disappears as soon as any roster is loaded, whatever the arrival order.
    Context: tables (feed Table objects with a uscc column). -#}
{% for t in tables %}
{% if not loop.first %}UNION ALL
{% endif %}
SELECT table_name, n FROM (
SELECT '{{ t.name }}' AS table_name, COUNT(DISTINCT s.uscc) AS n
FROM {{ t.core }} s
WHERE {% with alias = "s" %}{% include "rules/_window.sql" %}{% endwith %}

  AND s.uscc IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM core_registry)
) counted_{{ loop.index }} WHERE n > 0
{% endfor %}
