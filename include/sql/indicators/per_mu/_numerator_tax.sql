{#- One row per candidate: Σ 税收实际贡献 of months 1..N of Y and the number of months reported
    (NULL and 0 when none). -#}
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
