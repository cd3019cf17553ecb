{#- A 主要指标 figure (:indicator, 口径 :scope) with its month and unit; the including query adds
    the months it may come from. -#}
SELECT CAST(s.value AS DOUBLE PRECISION) AS value,
       s.period AS as_of,
       s.unit AS unit
FROM core_stats_county s
WHERE s.indicator_name = :indicator
  AND s.scope = :scope
