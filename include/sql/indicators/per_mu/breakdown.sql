{#- The same evaluated set, by industry group and town, excluded groups included (flagged), for
    the bulletin's 主导产业 / 乡镇 ranking. Σ/Σ per cell. -#}
WITH {% include "indicators/per_mu/_scope.sql" %}, {% include "indicators/per_mu/_numerator_" ~ measure ~ ".sql" %}, {% include "indicators/per_mu/_assessed.sql" %}
SELECT industry_group, town, excluded,
       COUNT(*) AS n_included,
       SUM(amount) AS numerator,
       SUM(land_mu) AS land_mu,
       SUM(amount) / NULLIF(SUM(land_mu), 0) AS value
FROM assessed
WHERE included = 1
GROUP BY industry_group, town, excluded
ORDER BY industry_group, town
