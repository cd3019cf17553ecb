{#- Rule cumulative_decrease — a 1—N月累计 value of the 企业月报 that is smaller in month :cur than
    in the month before (:prv, same year): a cumulative value cannot fall (a tolerance of 0.000001
    absorbs rounding).
    Context: t (feed Table), columns. -#}
{% from "rules/_consecutive_months.sql" import pairs %}
{{ pairs(t, columns, "cur.{c} IS NOT NULL AND prv.{c} IS NOT NULL AND cur.{c} < prv.{c} - 0.000001") }}
