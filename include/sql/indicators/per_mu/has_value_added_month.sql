SELECT 1 AS has_rows FROM core_stats_enterprise s WHERE s.period = :month_text LIMIT 1
