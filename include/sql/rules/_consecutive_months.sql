{#- The consecutive-months rules of one feed's core table (mom_jump, cumulative_decrease) over
    every month pair of the report in ONE statement: rows of one enterprise in a month
    (:cur_<i>) and the month before (:prv_<i>) meeting a check's condition.

    `checks`: (rule, column, within_year, condition) — condition is SQL with {c} for the column
    and cur./prv. for the two months; a within_year check (a 1—N月累计 value) is only made inside
    one calendar year. Each pair is its own join on the primary key (period, uscc) — a hash join
    of two months on PostgreSQL (each branch names its two months, so a table partitioned by
    period prunes to them), index lookups on SQLite — filtered by any check's condition (a
    handful of rows), materialized once, then unpivoted to one row per check it meets. Every
    check of the table shares the one join per pair (was one join per month, column and rule).
    Context: t (feed Table), checks, n_pairs. -#}
{% macro pairs(t, checks, n_pairs) %}
{% set conds = [] %}
{% for rule, c, within_year, condition in checks %}
{% set _ = conds.append("(" ~ (condition | replace("{c}", c)) ~ (" AND substr(cur.period, 1, 4) = substr(prv.period, 1, 4)" if within_year else "") ~ ")") %}
{% endfor %}
WITH hits AS MATERIALIZED (
{% for i in range(n_pairs) %}
{% if not loop.first %}    UNION ALL
{% endif %}
    SELECT cur.uscc AS uscc, cur.period AS cur_period, prv.period AS prv_period
{% for rule, c, within_year, condition in checks %}
         , prv.{{ c }} AS prv_{{ loop.index }}, cur.{{ c }} AS cur_{{ loop.index }}
         , CASE WHEN {{ conds[loop.index0] }} THEN 1 ELSE 0 END AS hit_{{ loop.index }}
{% endfor %}
    FROM {{ t.core }} cur
    JOIN {{ t.core }} prv ON prv.period = :prv_{{ i }} AND prv.uscc = cur.uscc
    WHERE cur.period = :cur_{{ i }}
      AND ({% for cond in conds %}{% if not loop.first %} OR {% endif %}{{ cond }}{% endfor %})
{% endfor %}
)
{% for rule, c, within_year, condition in checks %}
{% if not loop.first %}UNION ALL
{% endif %}
SELECT '{{ rule }}' AS rule, '{{ c }}' AS column_name, uscc, cur_period, prv_period,
       prv_{{ loop.index }} AS prv_value, cur_{{ loop.index }} AS cur_value
FROM hits WHERE hit_{{ loop.index }} = 1
{% endfor %}
{% endmacro %}
