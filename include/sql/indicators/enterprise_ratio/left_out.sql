SELECT s.uscc, s.name,
       CASE WHEN s.{{ numerator }} IS NULL THEN 1 ELSE 0 END AS numerator_missing,
       CASE WHEN s.{{ denominator }} IS NULL THEN 1 ELSE 0 END AS denominator_missing
FROM core_stats_enterprise s
WHERE s.period = :period
  AND (s.{{ numerator }} IS NULL OR s.{{ denominator }} IS NULL)
ORDER BY s.uscc
