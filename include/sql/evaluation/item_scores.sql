{#- Item scores of the evaluated enterprises of (:plan_id, :year):
      ratio = value / benchmark, clamped to [floor_ratio, cap]; item_score = weight * ratio.
    An item without the enterprise's own value is scored by its missing_rule:
      average_score: the mean score of that item over the enterprises of the same scale that have
                     it (basis average_item_score); when none has it (单位排放增加值: no emission feed),
                     the scale's mean score rate (Σ score / Σ weight over the items with values,
                     averaged over enterprises) times the item's weight (basis average_score_rate);
      reweight:      the enterprise's own score rate times the weight (weights re-spread);
      zero:          0 (basis missing_zero).
    (exclude-rule items never get here: such enterprises are excluded and listed beforehand.) -#}
INSERT INTO mart_evaluation_item
    (plan_id, year, uscc, scale, item, value, weight, benchmark, ratio, item_score, basis)
WITH vals AS (
    SELECT e.plan_id, e.year, e.uscc, e.scale, p.item, p.weight, p.benchmark, p.cap,
           p.floor_ratio, p.missing_rule,
           CASE p.item
               WHEN 'tax_per_mu' THEN e.tax_per_mu
               WHEN 'va_per_mu' THEN e.va_per_mu
               WHEN 'va_per_energy' THEN e.va_per_energy
               WHEN 'va_per_emission' THEN e.va_per_emission
               WHEN 'labour_productivity' THEN e.labour_productivity
               WHEN 'rd_ratio' THEN e.rd_ratio
               WHEN 'tax_per_electricity' THEN e.tax_per_electricity
           END AS value
    FROM mart_evaluation_enterprise e
    JOIN mart_evaluation_param p
      ON p.plan_id = e.plan_id AND p.year = e.year AND p.scale = e.scale
    WHERE e.plan_id = :plan_id AND e.year = :year AND e.excluded = 0
),
scored AS (
    SELECT v.*,
           CASE
               WHEN v.value IS NULL OR v.benchmark IS NULL OR v.benchmark <= 0 THEN NULL
               WHEN v.value / v.benchmark > v.cap THEN v.cap
               WHEN v.value / v.benchmark < v.floor_ratio THEN v.floor_ratio
               ELSE v.value / v.benchmark
           END AS ratio
    FROM vals v
),
item_avg AS (
    SELECT scale, item, AVG(weight * ratio) AS avg_score
    FROM scored WHERE ratio IS NOT NULL
    GROUP BY scale, item
),
own_rate AS (
    SELECT uscc, SUM(weight * ratio) / SUM(weight) AS rate
    FROM scored WHERE ratio IS NOT NULL AND weight > 0
    GROUP BY uscc
),
scale_rate AS (
    SELECT m.scale, AVG(o.rate) AS rate
    FROM own_rate o
    JOIN (SELECT DISTINCT uscc, scale FROM scored) m ON m.uscc = o.uscc
    GROUP BY m.scale
)
SELECT s.plan_id, s.year, s.uscc, s.scale, s.item, s.value, s.weight, s.benchmark, s.ratio,
       COALESCE(CASE
           WHEN s.ratio IS NOT NULL THEN s.weight * s.ratio
           WHEN s.missing_rule = 'average_score' THEN COALESCE(ia.avg_score, s.weight * sr.rate)
           WHEN s.missing_rule = 'reweight' THEN s.weight * o.rate
       END, 0) AS item_score,
       CASE
           WHEN s.ratio IS NOT NULL THEN 'value'
           WHEN s.missing_rule = 'average_score' AND ia.avg_score IS NOT NULL THEN 'average_item_score'
           WHEN s.missing_rule = 'average_score' AND sr.rate IS NOT NULL THEN 'average_score_rate'
           WHEN s.missing_rule = 'reweight' AND o.rate IS NOT NULL THEN 'reweight'
           ELSE 'missing_zero'
       END AS basis
FROM scored s
LEFT JOIN item_avg ia ON ia.scale = s.scale AND ia.item = s.item
LEFT JOIN own_rate o ON o.uscc = s.uscc
LEFT JOIN scale_rate sr ON sr.scale = s.scale
