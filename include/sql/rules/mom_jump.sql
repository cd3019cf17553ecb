{#- Rule mom_jump — an enterprise's monthly value changes more than :factor times from the month
    before to the month (both positive): usually a unit error (元 for 万元). The month before
    January is December of the year before, except for 1—N月累计 columns (within_year: compared
    inside the year only). Every month pair of the report (:cur_<i>, :prv_<i>) in one statement.
    Context: t (feed Table), columns ((column, within_year) pairs), n_pairs. -#}
{% from "rules/_consecutive_months.sql" import pairs %}
{{ pairs(t, columns, n_pairs, "cur.{c} > 0 AND prv.{c} > 0 AND (cur.{c} > :factor * prv.{c} OR prv.{c} > :factor * cur.{c})") }}
