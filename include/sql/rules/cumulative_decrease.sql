{#- Rule cumulative_decrease — a 1—N月累计 value of the 企业月报 that is smaller in a month than in
    the month before (same year): a cumulative value cannot fall (a tolerance of 0.000001 absorbs
    rounding). Every month pair of the report from February (:cur_<i>, :prv_<i>) in one statement.
    Context: t (feed Table), columns ((column, within_year) pairs), n_pairs. -#}
{% from "rules/_consecutive_months.sql" import pairs %}
{{ pairs(t, columns, n_pairs, "cur.{c} IS NOT NULL AND prv.{c} IS NOT NULL AND cur.{c} < prv.{c} - 0.000001") }}
