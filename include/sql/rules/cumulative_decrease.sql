{#- Rule cumulative_decrease — a 1—N月累计 value of the 企业月报 that is smaller in month :cur than
    in the month before (:prv, same year): a cumulative value cannot fall (a tolerance of 0.000001
    absorbs rounding). Same join as mom_jump.
    Context: t (feed Table), columns. -#}
{% for c in columns %}
{% if not loop.first %}UNION ALL
{% endif %}
SELECT '{{ c }}' AS column_name, cur.uscc AS uscc, prv.{{ c }} AS prv_value, cur.{{ c }} AS cur_value
FROM {{ t.core }} cur
JOIN {{ t.core }} prv ON prv.period = :prv AND prv.uscc = cur.uscc
WHERE cur.period = :cur
  AND cur.{{ c }} IS NOT NULL AND prv.{{ c }} IS NOT NULL
  AND cur.{{ c }} < prv.{{ c }} - 0.000001
{% endfor %}
