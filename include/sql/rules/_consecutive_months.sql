{#- Rows of one enterprise in two consecutive months (:prv, then :cur) of a feed's core table
    meeting `condition` (SQL with {c} for the column, cur./prv. for the months), one SELECT per
    column. An equi-join on the primary key (period, uscc): a hash join on PostgreSQL, index
    lookups on SQLite. -#}
{% macro pairs(t, columns, condition) %}
{% for c in columns %}
{% if not loop.first %}UNION ALL
{% endif %}
SELECT '{{ c }}' AS column_name, cur.uscc AS uscc, prv.{{ c }} AS prv_value, cur.{{ c }} AS cur_value
FROM {{ t.core }} cur
JOIN {{ t.core }} prv ON prv.period = :prv AND prv.uscc = cur.uscc
WHERE cur.period = :cur
  AND {{ condition | replace("{c}", c) }}
{% endfor %}
{% endmacro %}
