{#- rectification: counts and sums over the 整治台账 (an event list), 销号日期 in the window
    [:from_date, :to_date] (plan window start, or 1 January of Y, to the end of the period).
    T07, T08A-D (plan window), K01 (this year). No event in the window -> 0 (the caller has
    checked that the ledger was delivered). Sums skip empty cells. -#}
SELECT CAST(COUNT(DISTINCT r.uscc) AS DOUBLE PRECISION) AS value,
       COUNT(*) AS n_events
FROM core_rectification r
WHERE r.signoff_date >= :from_date
  AND r.signoff_date <= :to_date
  {% if by_action_type %}AND r.action_type IN :action_types{% endif %}
