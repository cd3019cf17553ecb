{#- The same evaluated set, by industry group and town, excluded groups included (flagged), for
    the bulletin's 主导产业 / 乡镇 ranking. Σ/Σ per cell. (compute_indicators takes the same
    cells from value.sql's 'cell' rows; this file serves per_mu_breakdown.) -#}
WITH {% include "indicators/per_mu/_scope.sql" %}, {% include "indicators/per_mu/_numerator_" ~ measure ~ ".sql" %}, {% include "indicators/per_mu/_assessed.sql" %}
{% include "indicators/per_mu/_cells.sql" %}

ORDER BY industry_group, town
