{#- Rule above_scale_no_tax — a 规上 enterprise of the roster in force for year :year with no tax
    reported (no row, or a row with every amount empty; zero is reported) in a month of the
    report for which the tax bureau has delivered. Months without any tax delivery are the
    deliveries-late alert's business, not a warning per enterprise.
    :month_0 … :month_11 are the report's months, NULL past the report's month. -#}
WITH window_months (period) AS (
    VALUES {% for i in range(12) %}{% if not loop.first %}, {% endif %}(:month_{{ i }}){% endfor %}

), months AS (
    -- a month has a tax delivery when core_tax has a row of it: one index probe per month
    -- (not a DISTINCT over the window's rows)
    SELECT w.period FROM window_months w
    WHERE EXISTS (SELECT 1 FROM core_tax m WHERE m.period = w.period)
), roster AS (
    SELECT r.uscc, r.name, r.roster_year FROM core_registry r
    WHERE r.roster_year = {% include "rules/_roster_in_force.sql" %}

      AND r.is_above_scale = 1
)
SELECT m.period AS period, r.uscc AS uscc, r.name AS name, r.roster_year AS roster_year
FROM months m CROSS JOIN roster r
WHERE NOT EXISTS (
    SELECT 1 FROM core_tax t
    WHERE t.period = m.period AND t.uscc = r.uscc
      AND (t.total_tax IS NOT NULL OR t.vat IS NOT NULL OR t.cit IS NOT NULL OR t.other_tax IS NOT NULL))
