{#- A period's per-mu cells, removed before the computation writes them again. -#}
DELETE FROM mart_per_mu WHERE plan_id = :plan_id AND period = :period
