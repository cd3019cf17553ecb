{#- Rule reconciliation — per month of the report: the sum of the enterprises' 工业增加值 in the
    企业月报 (万元) against the bureau's own 规上工业增加值 (:indicator, 亿元 × :yi_to_wan) in its
    主要指标; a difference above :tolerance_pct percent of the bureau's figure is a warning. Both
    sides are the warehouse's current rows, so a late or corrected delivery of either side is
    judged against the other as it is now. -#}
WITH es AS (
    SELECT e.period, SUM(e.value_added) AS total, COUNT(e.value_added) AS n
    FROM core_stats_enterprise e
    WHERE {% with alias = "e" %}{% include "rules/_window.sql" %}{% endwith %}

    GROUP BY e.period
), cv AS (
    SELECT c.period, c.value FROM core_stats_county c
    WHERE c.indicator_name = :indicator
      AND {% with alias = "c" %}{% include "rules/_window.sql" %}{% endwith %}

)
SELECT es.period AS period, es.total AS total, es.n AS n, cv.value AS value
FROM es JOIN cv ON cv.period = es.period
WHERE es.n > 0 AND cv.value > 0
  AND ABS(es.total - cv.value * :yi_to_wan) > :tolerance_pct / 100.0 * cv.value * :yi_to_wan
