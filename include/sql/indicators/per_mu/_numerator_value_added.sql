{# One row per candidate: 工业增加值 at month N (NULL and 0 when not reported). #}
numerator AS (
    SELECT a.uscc, a.name, a.town, a.industry_code, a.land_mu,
           s.value_added AS amount,
           CASE WHEN s.value_added IS NULL THEN 0 ELSE 1 END AS months_reported
    FROM above_scale a
    LEFT JOIN core_stats_enterprise s
      ON s.period = :period
     AND s.uscc = a.uscc
)
