{#- Total scores and classes of the evaluated enterprises of one scale (:scale) of (:plan_id, :year).
    score = Σ item_score, rounded to {{ score_decimals }} decimals (as published) BEFORE ranking, so
    equal published scores are equal here.
    rank_in_scale: RANK() by score descending (equal scores share the better rank).
    Class rule :rule
      thresholds: A if score >= :t_a, B if >= :t_b, C if >= :t_c, else D;
      percentile: position p = the rank the enterprise is counted at; A if p <= n * :p_a,
                  B if p <= n * :p_b, C if p <= n * :p_c, else D (the bounds are cumulative
                  shares, e.g. 0.20 / 0.60 / 0.95). Ties (:ties): better = every enterprise
                  of a tie is counted at the tie's best position (RANK), so a tie straddling a
                  boundary gets the better class; worse = at its last position (count of
                  enterprises scoring at least as much).
    prev_class: the class of the same plan's evaluation of :prev_year. -#}
INSERT INTO mart_evaluation
    (plan_id, year, uscc, name, town, industry_code, industry_group, land_mu, scale,
     tax_per_mu, va_per_mu, va_per_energy, va_per_emission, labour_productivity, rd_ratio,
     tax_per_electricity, score, rank_in_scale, n_in_scale, imputed_items, class, class_rule,
     prev_class, computed_at)
WITH totals AS (
    SELECT uscc,
           ROUND(CAST(SUM(item_score) AS NUMERIC), {{ score_decimals }}) AS score,
           SUM(CASE WHEN basis = 'value' THEN 0 ELSE 1 END) AS imputed_items
    FROM mart_evaluation_item
    WHERE plan_id = :plan_id AND year = :year AND scale = :scale
    GROUP BY uscc
),
ranked AS (
    SELECT e.*, t.score, t.imputed_items,
           RANK() OVER (ORDER BY t.score DESC) AS rank_best,
           COUNT(*) OVER (ORDER BY t.score DESC) AS rank_worst,
           COUNT(*) OVER () AS n
    FROM mart_evaluation_enterprise e
    JOIN totals t ON t.uscc = e.uscc
    WHERE e.plan_id = :plan_id AND e.year = :year AND e.scale = :scale AND e.excluded = 0
),
positioned AS (
    SELECT r.*, CASE WHEN CAST(:ties AS TEXT) = 'worse' THEN r.rank_worst ELSE r.rank_best END AS pos
    FROM ranked r
)
SELECT p.plan_id, p.year, p.uscc, p.name, p.town, p.industry_code, p.industry_group, p.land_mu,
       p.scale, p.tax_per_mu, p.va_per_mu, p.va_per_energy, p.va_per_emission,
       p.labour_productivity, p.rd_ratio, p.tax_per_electricity,
       p.score, p.rank_best, p.n, p.imputed_items,
       CASE
           WHEN CAST(:rule AS TEXT) = 'thresholds' THEN
               CASE WHEN p.score >= :t_a THEN 'A' WHEN p.score >= :t_b THEN 'B'
                    WHEN p.score >= :t_c THEN 'C' ELSE 'D' END
           ELSE
               CASE WHEN p.pos <= p.n * :p_a + 0.000001 THEN 'A'
                    WHEN p.pos <= p.n * :p_b + 0.000001 THEN 'B'
                    WHEN p.pos <= p.n * :p_c + 0.000001 THEN 'C' ELSE 'D' END
       END,
       CAST(:rule AS TEXT), prev.class, :computed_at
FROM positioned p
LEFT JOIN mart_evaluation prev
  ON prev.plan_id = p.plan_id AND prev.year = :prev_year AND prev.uscc = p.uscc
