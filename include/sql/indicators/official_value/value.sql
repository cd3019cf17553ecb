{#- official_value: a 主要指标 figure as published by the statistics bureau, 累计, at Y-N.
    T02 (规上工业增加值增速), T09B (制造业投资增速). No row at Y-N -> no_data (e.g. January). -#}
{% include "indicators/_county_figure.sql" %}
  AND s.period = :period
