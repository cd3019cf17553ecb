{#- Annual figures and indicator values of every enterprise in the roster of :year (名录年份 =
    :year, else the latest earlier roster), one row each. Monthly flows (tax, energy) are summed
    over :p_first..:p_last; the statistics are 1-N month cumulative, so the latest month of the
    year is taken (month 12 when delivered), never a sum of months. Empty cells stay NULL.
    first_roster_year: the first 名录年份 the enterprise appears in (our proxy for registration);
    earliest_roster_year: the first roster in the warehouse (appearing there says nothing about age). -#}
WITH roster_pick AS (
    SELECT {% include "rules/_roster_in_force.sql" %} AS roster_year
),
roster AS (
    SELECT r.uscc, r.name, r.industry_code, r.town, r.land_mu, r.is_above_scale, r.roster_year
    FROM core_registry r
    JOIN roster_pick p ON r.roster_year = p.roster_year
),
first_roster AS (
    SELECT uscc, MIN(roster_year) AS first_roster_year
    FROM core_registry WHERE roster_year <= :year GROUP BY uscc
),
earliest AS (
    SELECT MIN(roster_year) AS earliest_roster_year FROM core_registry
),
tax AS (
    SELECT uscc, SUM(total_tax) AS tax_total, COUNT(total_tax) AS tax_months
    FROM core_tax
    WHERE period >= :p_first AND period <= :p_last
    GROUP BY uscc
),
energy AS (
    SELECT uscc, SUM(energy_tce) AS energy_tce, SUM(electricity) AS electricity,
           COUNT(*) AS energy_months
    FROM core_energy
    WHERE period >= :p_first AND period <= :p_last
    GROUP BY uscc
),
stats_last AS (
    SELECT uscc, MAX(period) AS period
    FROM core_stats_enterprise
    WHERE period >= :p_first AND period <= :p_last
    GROUP BY uscc
),
stats AS (
    SELECT s.uscc, s.period AS stats_period, s.value_added, s.revenue, s.rd_expense, s.employees
    FROM core_stats_enterprise s
    JOIN stats_last l ON l.uscc = s.uscc AND l.period = s.period
)
SELECT
    r.uscc, r.name, r.industry_code, r.town, r.land_mu, r.is_above_scale, r.roster_year,
    f.first_roster_year, x.earliest_roster_year,
    t.tax_total, COALESCE(t.tax_months, 0) AS tax_months,
    e.energy_tce, e.electricity, COALESCE(e.energy_months, 0) AS energy_months,
    s.value_added, s.revenue, s.rd_expense, s.employees, s.stats_period,
    CASE WHEN r.land_mu > 0 THEN t.tax_total / r.land_mu END AS tax_per_mu,
    CASE WHEN r.land_mu > 0 THEN s.value_added / r.land_mu END AS va_per_mu,
    CASE WHEN e.energy_tce > 0 THEN s.value_added / e.energy_tce END AS va_per_energy,
    CAST(NULL AS DOUBLE PRECISION) AS va_per_emission,
    CASE WHEN s.employees > 0 THEN s.value_added / s.employees END AS labour_productivity,
    CASE WHEN s.revenue > 0 THEN s.rd_expense * 100.0 / s.revenue END AS rd_ratio,
    CASE WHEN e.electricity > 0 THEN t.tax_total / e.electricity END AS tax_per_electricity
FROM roster r
JOIN first_roster f ON f.uscc = r.uscc
CROSS JOIN earliest x
LEFT JOIN tax t ON t.uscc = r.uscc
LEFT JOIN energy e ON e.uscc = r.uscc
LEFT JOIN stats s ON s.uscc = r.uscc
ORDER BY r.uscc
