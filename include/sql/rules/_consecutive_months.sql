{#- Rows of one enterprise in two consecutive months of a feed's core table meeting `condition`
    (SQL with {c} for the column, cur./prv. for the months) for any of `columns`, over every
    month pair of the report in ONE statement: the pairs (:cur_<i>, :prv_<i>) are a VALUES list,
    joined to the table twice on the primary key (period, uscc) — one hash join per table on
    PostgreSQL (the IN lists let a table partitioned by period prune to the window's months),
    index lookups on SQLite. The joined rows are filtered by any column's condition first (a
    handful of rows), then unpivoted to one row per column that meets its own.
    `columns`: (column, within_year) pairs — a within_year column (a 1—N月累计 value) is only
    compared inside one calendar year; n_pairs: the number of month pairs. -#}
{% macro pairs(t, columns, n_pairs, condition) %}
{% set conds = {} %}
{% for c, within_year in columns %}
{% set _ = conds.update({c: "(" ~ (condition | replace("{c}", c)) ~ (" AND substr(cur.period, 1, 4) = substr(prv.period, 1, 4)" if within_year else "") ~ ")"}) %}
{% endfor %}
WITH month_pairs (cur_period, prv_period) AS (
    VALUES {% for i in range(n_pairs) %}{% if not loop.first %}, {% endif %}(:cur_{{ i }}, :prv_{{ i }}){% endfor %}

), hits AS MATERIALIZED (
    SELECT cur.uscc AS uscc, cur.period AS cur_period, prv.period AS prv_period
{% for c, _ in columns %}
         , prv.{{ c }} AS prv_{{ c }}, cur.{{ c }} AS cur_{{ c }}
         , CASE WHEN {{ conds[c] }} THEN 1 ELSE 0 END AS hit_{{ c }}
{% endfor %}
    FROM month_pairs mp
    JOIN {{ t.core }} cur ON cur.period = mp.cur_period
    JOIN {{ t.core }} prv ON prv.period = mp.prv_period AND prv.uscc = cur.uscc
    WHERE cur.period IN :cur_periods AND prv.period IN :prv_periods
      AND ({% for c, _ in columns %}{% if not loop.first %} OR {% endif %}{{ conds[c] }}{% endfor %})
)
{% for c, _ in columns %}
{% if not loop.first %}UNION ALL
{% endif %}
SELECT '{{ c }}' AS column_name, uscc, cur_period, prv_period, prv_{{ c }} AS prv_value, cur_{{ c }} AS cur_value
FROM hits WHERE hit_{{ c }} = 1
{% endfor %}
{% endmacro %}
