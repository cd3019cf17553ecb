SELECT CAST(COALESCE(SUM(r.{{ column }}), 0) AS DOUBLE PRECISION) / :divisor AS value,
       COUNT(*) AS n_events
FROM core_rectification r
WHERE r.signoff_date >= :from_date
  AND r.signoff_date <= :to_date
  {% if by_action_type %}AND r.action_type IN :action_types{% endif %}
