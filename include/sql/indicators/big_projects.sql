-- big_projects: 亿元以上制造业大项目 (T09A plan window, K12 this year).
-- A project (项目代码) counts once, at the earliest date it reached the counting stage
-- (projects.count_stage, 签约); it counts when that date is in [:from_date, :to_date], its
-- 国民经济行业 is manufacturing (two-digit division in [:mfg_from, :mfg_to], from the
-- configuration) and its 总投资 >= :min_investment (万元). Stage rows dated after the period are
-- ignored.

-- name: _first_reached
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

-- name: value
WITH {{_first_reached}}
SELECT CAST(COUNT(*) AS DOUBLE PRECISION) AS value
FROM first_reached f
WHERE f.big_manufacturing = 1
  AND f.first_date >= :from_date
  AND f.first_date <= :to_date

-- name: list
WITH {{_first_reached}}
SELECT f.project_code, f.first_date
FROM first_reached f
WHERE f.big_manufacturing = 1
  AND f.first_date >= :from_date
  AND f.first_date <= :to_date
ORDER BY f.first_date, f.project_code
