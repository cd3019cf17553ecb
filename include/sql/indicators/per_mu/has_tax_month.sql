{# Does the tax feed hold any row for month :month_text? (one index probe per month of 1..N: the
   ORDER BY on the key keeps PostgreSQL on the primary key, where a bare LIMIT 1 may pick a
   sequential scan that reads every earlier month's rows first) #}
SELECT 1 AS has_rows FROM core_tax t WHERE t.period = :month_text ORDER BY t.uscc LIMIT 1
