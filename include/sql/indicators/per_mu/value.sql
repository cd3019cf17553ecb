{#- per_mu: 亩均 figures over the evaluated set (T03 亩均税收, T04 亩均增加值).

    Evaluated set: enterprises that are 规上 in the registry roster for year Y (名录年份 = Y, else the
    latest earlier roster), not in an excluded industry group (钢压延, from the configuration), with
    用地面积 > 0, and with the numerator reported for the period:
      tax         : 税收实际贡献 reported for every month 1..N of Y (monthly flows, summed);
      value_added : 工业增加值 reported at month N (企业月报 is 1-N月累计: the N-th month's value,
                    never a sum of months).
    Value = Σ numerator / Σ land (a regional ratio, never an average of enterprise ratios).
    Candidates left out (no land, numerator missing or incomplete) come back from `left_out` and
    become warnings; they are never counted as zero.

    Shape (for both planners, SQLite without statistics included): every candidate is joined to
    its own numerator rows and aggregated in ONE step (`numerator`, one row per candidate,
    LEFT JOIN so candidates without rows stay); nothing joins one derived table to another.
    (Joining the candidates to a separately grouped numerator made SQLite rescan the grouped
    numerator once per candidate: minutes at province scale.) SQLite reaches a candidate's tax
    months through the index core_tax_uscc_period (migration 012, SQLite only); PostgreSQL
    hashes. The industry group is worked out after the aggregation, once per candidate. -#}
{#- One pass over the evaluated set: a 'total' row (Σ/Σ and counts), one 'left_out' row per
    candidate left out (they become warnings), and one 'cell' row per (industry group, town,
    excluded) of breakdown.sql (stored in mart_per_mu) — one assessment of the set for all three. -#}
WITH {% include "indicators/per_mu/_scope.sql" %}, {% include "indicators/per_mu/_numerator_" ~ measure ~ ".sql" %}, {% include "indicators/per_mu/_assessed.sql" %}
SELECT 'total' AS row_kind,
       (SELECT roster_year FROM roster) AS roster_year,
       COUNT(*) AS n_candidates,
       COALESCE(SUM(included), 0) AS n_included,
       SUM(CASE WHEN included = 1 THEN amount END) AS numerator,
       SUM(CASE WHEN included = 1 THEN land_mu END) AS land_mu,
       SUM(CASE WHEN included = 1 THEN amount END)
         / NULLIF(SUM(CASE WHEN included = 1 THEN land_mu END), 0) AS value,
       NULL AS uscc, NULL AS name, NULL AS months_reported,
       NULL AS industry_group, NULL AS town, CAST(NULL AS INTEGER) AS excluded
FROM assessed
WHERE excluded = 0
UNION ALL
SELECT 'left_out', NULL, NULL, NULL, NULL, land_mu, NULL, uscc, name, months_reported, NULL, NULL, NULL
FROM assessed
WHERE excluded = 0 AND included = 0
UNION ALL
SELECT 'cell', NULL, NULL, c.n_included, c.numerator, c.land_mu, c.value, NULL, NULL, NULL,
       c.industry_group, c.town, c.excluded
FROM (
{% include "indicators/per_mu/_cells.sql" %}
) c
