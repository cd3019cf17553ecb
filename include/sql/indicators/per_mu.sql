-- per_mu: 亩均 figures over the evaluated set (T03 亩均税收, T04 亩均增加值).
--
-- Evaluated set: enterprises that are 规上 in the registry roster for year Y (名录年份 = Y, else the
-- latest earlier roster), not in an excluded industry group (钢压延, from the configuration), with
-- 用地面积 > 0, and with the numerator reported for the period:
--   tax         : 税收实际贡献 reported for every month 1..N of Y (monthly flows, summed);
--   value_added : 工业增加值 reported at month N (企业月报 is 1-N月累计: the N-th month's value,
--                 never a sum of months).
-- Value = Σ numerator / Σ land (a regional ratio, never an average of enterprise ratios).
-- Candidates left out (no land, numerator missing or incomplete) come back from `left_out` and
-- become warnings; they are never counted as zero.

-- name: _scope
roster AS (
    SELECT MAX(r.roster_year) AS roster_year
    FROM core_registry r
    WHERE r.roster_year <= :year
),
above_scale AS (
    SELECT r.uscc, r.name, r.town, r.industry_code, r.land_mu, r.roster_year,
           {{industry_group(r.industry_code)}} AS industry_group
    FROM core_registry r
    JOIN roster ON r.roster_year = roster.roster_year
    WHERE r.is_above_scale = 1
),
candidates AS (
    SELECT a.*,
           CASE WHEN a.industry_group IN :excluded_groups THEN 1 ELSE 0 END AS excluded
    FROM above_scale a
)

-- name: _assessed
assessed AS (
    SELECT c.uscc, c.name, c.town, c.industry_code, c.industry_group, c.excluded, c.land_mu,
           n.amount,
           COALESCE(n.months_reported, 0) AS months_reported,
           CASE WHEN c.land_mu IS NULL OR c.land_mu <= 0 THEN 0
                WHEN COALESCE(n.months_reported, 0) < :months_needed THEN 0
                ELSE 1 END AS included
    FROM candidates c
    LEFT JOIN numerator n ON n.uscc = c.uscc
)

-- name: _numerator_tax
numerator AS (
    SELECT t.uscc,
           SUM(t.total_tax) AS amount,
           COUNT(t.total_tax) AS months_reported
    FROM core_tax t
    WHERE t.period >= :year_start_month
      AND t.period <= :period
      AND t.uscc IN (SELECT uscc FROM above_scale)
    GROUP BY t.uscc
)

-- name: _numerator_value_added
numerator AS (
    SELECT s.uscc,
           s.value_added AS amount,
           CASE WHEN s.value_added IS NULL THEN 0 ELSE 1 END AS months_reported
    FROM core_stats_enterprise s
    WHERE s.period = :period
      AND s.uscc IN (SELECT uscc FROM above_scale)
)

-- name: value
-- One pass over the evaluated set: a 'total' row (Σ/Σ and counts) followed by one 'left_out' row
-- per candidate left out (they become warnings).
WITH {{_scope}}, {{_numerator}}, {{_assessed}}
SELECT 'total' AS row_kind,
       (SELECT roster_year FROM roster) AS roster_year,
       COUNT(*) AS n_candidates,
       COALESCE(SUM(included), 0) AS n_included,
       SUM(CASE WHEN included = 1 THEN amount END) AS numerator,
       SUM(CASE WHEN included = 1 THEN land_mu END) AS land_mu,
       SUM(CASE WHEN included = 1 THEN amount END)
         / NULLIF(SUM(CASE WHEN included = 1 THEN land_mu END), 0) AS value,
       NULL AS uscc, NULL AS name, NULL AS months_reported
FROM assessed
WHERE excluded = 0
UNION ALL
SELECT 'left_out', NULL, NULL, NULL, NULL, land_mu, NULL, uscc, name, months_reported
FROM assessed
WHERE excluded = 0 AND included = 0

-- name: breakdown
-- The same evaluated set, by industry group and town, excluded groups included (flagged), for
-- the bulletin's 主导产业 / 乡镇 ranking. Σ/Σ per cell.
WITH {{_scope}}, {{_numerator}}, {{_assessed}}
SELECT industry_group, town, excluded,
       COUNT(*) AS n_included,
       SUM(amount) AS numerator,
       SUM(land_mu) AS land_mu,
       SUM(amount) / NULLIF(SUM(land_mu), 0) AS value
FROM assessed
WHERE included = 1
GROUP BY industry_group, town, excluded
ORDER BY industry_group, town

-- name: has_tax_month
-- Does the tax feed hold any row for month :month_text? (one index probe per month of 1..N)
SELECT 1 AS has_rows FROM core_tax t WHERE t.period = :month_text LIMIT 1

-- name: has_value_added_month
SELECT 1 AS has_rows FROM core_stats_enterprise s WHERE s.period = :month_text LIMIT 1
