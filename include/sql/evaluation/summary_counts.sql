{#- Counts of evaluated enterprises by (year, industry group, town, scale, class, last year's class)
    for :year and :prev_year: the bulletin's figures. Counts only, never an enterprise's own figures. -#}
SELECT year, industry_group, town, scale, class, prev_class, COUNT(*) AS n
FROM mart_evaluation
WHERE plan_id = :plan_id AND year IN (:year, :prev_year)
GROUP BY year, industry_group, town, scale, class, prev_class
