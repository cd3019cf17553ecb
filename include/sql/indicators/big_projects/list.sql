WITH {% include "indicators/big_projects/_first_reached.sql" %}
SELECT f.project_code, f.first_date
FROM first_reached f
WHERE f.big_manufacturing = 1
  AND f.first_date >= :from_date
  AND f.first_date <= :to_date
ORDER BY f.first_date, f.project_code
