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
