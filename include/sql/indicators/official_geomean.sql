-- official_geomean: average annual growth over the years from the plan window's first year to Y:
-- the geometric mean of (1 + g/100), g = the December 累计 growth of each completed year and the
-- 1-N月 growth of Y (all as published), minus 1, x 100. T02A, T09BA.
-- compute.py checks that every year has its figure (n_years) and names the missing months.

-- name: _yearly
yearly AS (
    SELECT s.period, CAST(s.value AS DOUBLE PRECISION) AS g
    FROM core_stats_county s
    WHERE s.indicator_name = :indicator
      AND s.scope = :scope
      AND (s.period = :period
           OR (s.period >= :first_december
               AND s.period < :year_start_month
               AND substr(s.period, 6, 2) = '12'))
)

-- name: value
WITH {{_yearly}}
SELECT COUNT(*) AS n_years,
       COUNT(CASE WHEN 1 + g / 100 > 0 THEN 1 END) AS n_valid,
       (EXP(AVG(LN(CASE WHEN 1 + g / 100 > 0 THEN 1 + g / 100 END))) - 1) * 100 AS value,
       MAX(period) AS as_of
FROM yearly

-- name: present
WITH {{_yearly}}
SELECT period FROM yearly ORDER BY period
