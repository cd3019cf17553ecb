{#- Rule cumulative_decrease — a 1—N月累计 value of the 企业月报 that is smaller in a month than in
    the month before (same year; January restarts the sums): a cumulative value cannot fall (a
    tolerance of 0.000001 absorbs rounding). Run for every month pair of the report together
    with the table's other consecutive-months rules (consecutive_months.sql). -#}
{% macro condition() %}cur.{c} IS NOT NULL AND prv.{c} IS NOT NULL AND cur.{c} < prv.{c} - 0.000001{% endmacro %}
