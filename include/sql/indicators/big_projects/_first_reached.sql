first_reached AS (
    SELECT p.project_code,
           MIN(p.stage_date) AS first_date,
           MAX(CASE WHEN length(p.industry_code) = 4
                     AND substr(p.industry_code, 1, 2) >= :mfg_from
                     AND substr(p.industry_code, 1, 2) <= :mfg_to
                     AND p.total_investment >= :min_investment
                    THEN 1 ELSE 0 END) AS big_manufacturing
    FROM core_projects p
    WHERE p.stage = :count_stage
      AND p.stage_date <= :period_end
    GROUP BY p.project_code
)
