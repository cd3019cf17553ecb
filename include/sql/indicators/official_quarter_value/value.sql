{#- official_quarter_value: a 主要指标 figure at the latest quarter-end month <= N of year Y that has
    it; none yet in Y -> the full year Y-1 (its December figure). T06 (能耗下降率).
    The candidate months are Y-1's December and Y's quarter ends up to N, latest first. -#}
{% include "indicators/_county_figure.sql" %}
  AND s.period >= :prev_december
  AND s.period <= :period
  AND substr(s.period, 6, 2) IN ('03', '06', '09', '12')
ORDER BY s.period DESC
LIMIT 1
