-- official_value: a 主要指标 figure as published by the statistics bureau, 累计, at Y-N.
-- T02 (规上工业增加值增速), T09B (制造业投资增速). No row at Y-N -> no_data (e.g. January).

-- name: value
SELECT CAST(s.value AS DOUBLE PRECISION) AS value,
       s.period AS as_of,
       s.unit AS unit
FROM core_stats_county s
WHERE s.indicator_name = :indicator
  AND s.scope = :scope
  AND s.period = :period
