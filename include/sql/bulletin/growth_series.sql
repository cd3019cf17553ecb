{#- A county indicator's monthly cumulative series (主要指标, e.g. 规上工业增加值增速) for the chart. -#}
SELECT period, value
FROM core_stats_county
WHERE indicator_name = :indicator AND period >= :from_period AND period <= :period
ORDER BY period
