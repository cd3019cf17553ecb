{#- Rule mom_jump — an enterprise's monthly value changes more than :factor times from month :prv
    to month :cur (both positive): usually a unit error (元 for 万元). The month before January is
    December of the year before, except for 1—N月累计 columns (the caller pairs those within the
    year only).
    Context: t (feed Table), columns. -#}
{% from "rules/_consecutive_months.sql" import pairs %}
{{ pairs(t, columns, "cur.{c} > 0 AND prv.{c} > 0 AND (cur.{c} > :factor * prv.{c} OR prv.{c} > :factor * cur.{c})") }}
