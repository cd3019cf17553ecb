{#- Rule not_in_registry — an enterprise of an enterprise-level feed (税收, 能耗, 企业月报) in the
    report's months whose USCC is in no roster of the registry (any roster year counts: the
    registry is the list of the county's enterprises, the year decides only 规上/规下). One row per
    (table, enterprise), dated with its first month in the window. Nothing while no registry is
    loaded (rule registry_empty says so instead).

    "s.uscc is in no roster" in the form each engine runs as one hash/index pass: PostgreSQL plans
    NOT EXISTS as a hash anti join, while SQLite would run it as a correlated scan per row
    (core_registry has no index on uscc alone) but builds one ephemeral index for NOT IN (uscc
    is NOT NULL there, so NOT IN has no NULL trap).
    Context: tables, dialect. -#}
{% for t in tables %}
{% if not loop.first %}UNION ALL
{% endif %}
SELECT '{{ t.name }}' AS table_name, s.uscc AS uscc, MIN(s.period) AS period, MIN(s.name) AS name
FROM {{ t.core }} s
WHERE {% with alias = "s" %}{% include "rules/_window.sql" %}{% endwith %}

  AND s.uscc IS NOT NULL
  AND EXISTS (SELECT 1 FROM core_registry)
{% if dialect == "postgresql" %}
  AND NOT EXISTS (SELECT 1 FROM core_registry r WHERE r.uscc = s.uscc)
{% else %}
  AND s.uscc NOT IN (SELECT uscc FROM core_registry)
{% endif %}
GROUP BY s.uscc
{% endfor %}
