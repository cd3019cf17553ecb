{#- One per-mu cell of a computed period (a row of indicators/per_mu/breakdown.sql). -#}
INSERT INTO mart_per_mu (plan_id, period, measure, industry_group, town, excluded, n_included,
                         numerator, land_mu, value)
VALUES (:plan_id, :period, :measure, :industry_group, :town, :excluded, :n_included,
        :numerator, :land_mu, :value)
