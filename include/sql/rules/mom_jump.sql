{#- Rule mom_jump — an enterprise's monthly value changes more than :factor times from the month
    before to the month (both positive): usually a unit error (元 for 万元). The month before
    January is December of the year before, except for 1—N月累计 columns (within_year: compared
    inside the year only). Run for every month pair of the report together with the table's
    other consecutive-months rules (consecutive_months.sql). -#}
{% macro condition() %}cur.{c} > 0 AND prv.{c} > 0 AND (cur.{c} > :factor * prv.{c} OR prv.{c} > :factor * cur.{c}){% endmacro %}
