{#- big_projects: 亿元以上制造业大项目 (T09A plan window, K12 this year).
    A project (项目代码) counts once, at the earliest date it reached the counting stage
    (projects.count_stage, 签约); it counts when that date is in [:from_date, :to_date], its
    国民经济行业 is manufacturing (two-digit division in [:mfg_from, :mfg_to], from the
    configuration) and its 总投资 >= :min_investment (万元). Stage rows dated after the period are
    ignored. -#}
WITH {% include "indicators/big_projects/_first_reached.sql" %}
SELECT CAST(COUNT(*) AS DOUBLE PRECISION) AS value
FROM first_reached f
WHERE f.big_manufacturing = 1
  AND f.first_date >= :from_date
  AND f.first_date <= :to_date
