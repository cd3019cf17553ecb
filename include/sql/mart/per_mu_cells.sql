{#- The per-mu cells of a computed period and measure, in the order the computation made them
    (industry group, town). -#}
SELECT industry_group, town, excluded, n_included, numerator, land_mu, value
FROM mart_per_mu
WHERE plan_id = :plan_id AND period = :period AND measure = :measure
ORDER BY industry_group, town
