{#- Enterprises of the year's roster left out of the evaluation, by reason. -#}
SELECT exclusion_code, exclusion_reason, COUNT(*) AS n
FROM mart_evaluation_enterprise
WHERE plan_id = :plan_id AND year = :year AND excluded = 1
GROUP BY exclusion_code, exclusion_reason
