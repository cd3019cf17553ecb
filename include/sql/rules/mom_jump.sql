{#- Rule mom_jump — an enterprise's monthly value changes more than :factor times from month :prv
    to month :cur (both positive): usually a unit error (元 for 万元). One equi-join on the
    primary key (period, uscc) of the feed's core table, so a hash join on PostgreSQL and index
    lookups on SQLite. The month before January is December of the year before, except for
    1—N月累计 columns (the caller pairs those within the year only).
    Context: t (feed Table), columns. -#}
{% for c in columns %}
{% if not loop.first %}UNION ALL
{% endif %}
SELECT '{{ c }}' AS column_name, cur.uscc AS uscc, prv.{{ c }} AS prv_value, cur.{{ c }} AS cur_value
FROM {{ t.core }} cur
JOIN {{ t.core }} prv ON prv.period = :prv AND prv.uscc = cur.uscc
WHERE cur.period = :cur
  AND cur.{{ c }} > 0 AND prv.{{ c }} > 0
  AND (cur.{{ c }} > :factor * prv.{{ c }} OR prv.{{ c }} > :factor * cur.{{ c }})
{% endfor %}
