{# Does the tax feed hold any row for month :month_text? (one index probe per month of 1..N) #}
SELECT 1 AS has_rows FROM core_tax t WHERE t.period = :month_text LIMIT 1
