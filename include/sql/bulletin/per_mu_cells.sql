-- 亩均税收 / 亩均增加值 for the bulletin's rankings (主导产业, 乡镇街道), aggregated per
-- (industry class, town) cell; the caller maps classes to industry groups from configuration
-- and sums cells (Σ numerator ÷ Σ land, never an average of ratios). No enterprise-level row
-- leaves this query.
--
-- Evaluated set (as T03/T04, indicators.md): enterprises 规上 in the registry roster of year
-- :year (else the latest earlier roster), with 用地面积 > 0, and with the numerator reported:
--   tax          Σ 税收实际贡献 of months :year_start … :period, reported for every one of
--                the :months_needed months (as compute.py / include/sql/indicators/per_mu.sql:
--                an enterprise with a missing month is left out, never counted as zero);
--   value_added  工业增加值 1–N月累计 at :period (left out when empty).
-- 钢压延 is NOT excluded here: the bulletin shows it apart, the caller decides.
-- measure 'roster' counts the enterprises and land of the roster part of the set.
WITH roster AS (
    SELECT r.uscc, r.industry_code, r.town, r.land_mu
    FROM core_registry r
    WHERE r.roster_year = (SELECT MAX(y.roster_year) FROM core_registry y WHERE y.roster_year <= :year)
      AND r.is_above_scale = 1
      AND r.land_mu > 0
),
tax AS (
    SELECT t.uscc, SUM(t.total_tax) AS amount
    FROM core_tax t
    WHERE t.period >= :year_start AND t.period <= :period AND t.total_tax IS NOT NULL
    GROUP BY t.uscc
    HAVING COUNT(t.total_tax) >= :months_needed
),
va AS (
    SELECT s.uscc, s.value_added AS amount
    FROM core_stats_enterprise s
    WHERE s.period = :period AND s.value_added IS NOT NULL
)
SELECT 'roster' AS measure, r.industry_code, r.town, COUNT(*) AS enterprises,
       SUM(r.land_mu) AS land_mu, CAST(NULL AS DOUBLE PRECISION) AS amount
FROM roster r
GROUP BY r.industry_code, r.town
UNION ALL
SELECT 'tax' AS measure, r.industry_code, r.town, COUNT(*) AS enterprises,
       SUM(r.land_mu) AS land_mu, SUM(t.amount) AS amount
FROM roster r JOIN tax t ON t.uscc = r.uscc
GROUP BY r.industry_code, r.town
UNION ALL
SELECT 'value_added' AS measure, r.industry_code, r.town, COUNT(*) AS enterprises,
       SUM(r.land_mu) AS land_mu, SUM(v.amount) AS amount
FROM roster r JOIN va v ON v.uscc = r.uscc
GROUP BY r.industry_code, r.town
ORDER BY measure, industry_code, town
