{#- The evaluated set by industry group and town, excluded groups included (flagged): Σ/Σ per
    cell, over the `assessed` CTE. Shared by breakdown.sql and value.sql (which returns the cells
    with the total, so a computation assesses the set once). -#}
SELECT industry_group, town, excluded,
       COUNT(*) AS n_included,
       SUM(amount) AS numerator,
       SUM(land_mu) AS land_mu,
       SUM(amount) / NULLIF(SUM(land_mu), 0) AS value
FROM assessed
WHERE included = 1
GROUP BY industry_group, town, excluded
