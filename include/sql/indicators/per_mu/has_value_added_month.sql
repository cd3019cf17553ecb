{# Does the 企业月报 hold any row for month :month_text? (an index probe; see has_tax_month.sql) #}
SELECT 1 AS has_rows FROM core_stats_enterprise s WHERE s.period = :month_text ORDER BY s.uscc LIMIT 1
