{#- official_quarter_ratio: numerator / denominator x 100 of two 主要指标 figures (both 累计), at the
    latest quarter-end month <= N of year Y for which both exist; none yet in Y -> the full year
    Y-1 (December). T01 (工业增加值 / 地区生产总值). -#}
SELECT CAST(n.value AS DOUBLE PRECISION) * 100 / d.value AS value,
       n.period AS as_of,
       CAST(n.value AS DOUBLE PRECISION) AS numerator,
       CAST(d.value AS DOUBLE PRECISION) AS denominator
FROM core_stats_county n
JOIN core_stats_county d
  ON d.period = n.period
 AND d.indicator_name = :denominator
 AND d.scope = :scope
WHERE n.indicator_name = :numerator
  AND n.scope = :scope
  AND n.period >= :prev_december
  AND n.period <= :period
  AND substr(n.period, 6, 2) IN ('03', '06', '09', '12')
  AND d.value <> 0
ORDER BY n.period DESC
LIMIT 1
