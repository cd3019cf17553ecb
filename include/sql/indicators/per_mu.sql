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
--
-- Shape (for both planners, SQLite without statistics included): every candidate is joined to
-- its own numerator rows and aggregated in ONE step (`numerator`, one row per candidate,
-- LEFT JOIN so candidates without rows stay); nothing joins one derived table to another.
-- (Joining the candidates to a separately grouped numerator made SQLite rescan the grouped
-- numerator once per candidate: minutes at province scale.) SQLite reaches a candidate's tax
-- months through the index core_tax_uscc_period (migration 012, SQLite only); PostgreSQL
-- hashes. The industry group is worked out after the aggregation, once per candidate.

-- name: _scope
roster AS (
    SELECT MAX(r.roster_year) AS roster_year
    FROM core_registry r
    WHERE r.roster_year <= :year
),
above_scale AS (
    SELECT r.uscc, r.name, r.town, r.industry_code, r.land_mu
    FROM core_registry r
    JOIN roster ON r.roster_year = roster.roster_year
    WHERE r.is_above_scale = 1
)

-- name: _assessed
assessed AS (
    SELECT g.uscc, g.name, g.town, g.industry_code, g.industry_group, g.land_mu,
           g.amount, g.months_reported,
           CASE WHEN g.industry_group IN :excluded_groups THEN 1 ELSE 0 END AS excluded,
           CASE WHEN g.land_mu IS NULL OR g.land_mu <= 0 THEN 0
                WHEN g.months_reported < :months_needed THEN 0
                ELSE 1 END AS included
    FROM (
        SELECT n.uscc, n.name, n.town, n.industry_code, n.land_mu, n.amount, n.months_reported,
               {{industry_group(n.industry_code)}} AS industry_group
        FROM numerator n
    ) g
)

-- name: _numerator_tax
-- One row per candidate: Σ 税收实际贡献 of months 1..N of Y and the number of months reported
-- (NULL and 0 when none).
numerator AS (
    SELECT a.uscc, a.name, a.town, a.industry_code, a.land_mu,
           SUM(t.total_tax) AS amount,
           COUNT(t.total_tax) AS months_reported
    FROM above_scale a
    LEFT JOIN core_tax t
      ON t.uscc = a.uscc
     AND t.period >= :year_start_month
     AND t.period <= :period
    GROUP BY a.uscc, a.name, a.town, a.industry_code, a.land_mu
)

-- name: _numerator_value_added
-- One row per candidate: 工业增加值 at month N (NULL and 0 when not reported).
numerator AS (
    SELECT a.uscc, a.name, a.town, a.industry_code, a.land_mu,
           s.value_added AS amount,
           CASE WHEN s.value_added IS NULL THEN 0 ELSE 1 END AS months_reported
    FROM above_scale a
    LEFT JOIN core_stats_enterprise s
      ON s.period = :period
     AND s.uscc = a.uscc
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
