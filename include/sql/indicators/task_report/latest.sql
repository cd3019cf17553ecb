{#- task_report: the departments' 任务月报 — for each code, the latest value at or before the
    period. this_year codes are reported as this-year-to-date, so only rows of year Y count
    (:this_year_codes); level codes are the current stock; cumulative codes run from the plan
    window's start (the reported value is already cumulative). -#}
WITH ranked AS (
    SELECT t.indicator_code, t.period, t.value, t.unit,
           ROW_NUMBER() OVER (PARTITION BY t.indicator_code ORDER BY t.period DESC) AS rn
    FROM core_task_report t
    WHERE t.period <= :period
      AND (t.indicator_code NOT IN :this_year_codes OR t.period >= :year_start_month)
)
SELECT indicator_code, period AS as_of, CAST(value AS DOUBLE PRECISION) AS value, unit
FROM ranked
WHERE rn = 1
ORDER BY indicator_code
