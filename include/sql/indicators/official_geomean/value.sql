{#- official_geomean: average annual growth over the years from the plan window's first year to Y:
    the geometric mean of (1 + g/100), g = the December 累计 growth of each completed year and the
    1-N月 growth of Y (all as published), minus 1, x 100. T02A, T09BA.
    compute.py checks that every year has its figure (n_years) and names the missing months. -#}
WITH {% include "indicators/official_geomean/_yearly.sql" %}
SELECT COUNT(*) AS n_years,
       COUNT(CASE WHEN 1 + g / 100 > 0 THEN 1 END) AS n_valid,
       (EXP(AVG(LN(CASE WHEN 1 + g / 100 > 0 THEN 1 + g / 100 END))) - 1) * 100 AS value,
       MAX(period) AS as_of
FROM yearly
