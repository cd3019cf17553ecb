{#- enterprise_ratio: Σ numerator / Σ denominator x scale over the 企业月报 rows at month N (1-N月
    累计 values taken at N, never summed over months). All 规上 reporters (企业月报 comes from
    联网直报, which is 规上 only), 钢压延 included. T05 (增加值 / 从业人员), T11 (研发费用 / 营业收入).
    A reporter counts when both figures are reported; the others come back from `left_out`. -#}
SELECT COUNT(*) AS n_reporters,
       COALESCE(SUM(CASE WHEN s.{{ numerator }} IS NOT NULL AND s.{{ denominator }} IS NOT NULL
                         THEN 1 ELSE 0 END), 0) AS n_included,
       SUM(CASE WHEN s.{{ denominator }} IS NOT NULL THEN s.{{ numerator }} END) AS numerator,
       SUM(CASE WHEN s.{{ numerator }} IS NOT NULL THEN s.{{ denominator }} END) AS denominator,
       SUM(CASE WHEN s.{{ denominator }} IS NOT NULL THEN s.{{ numerator }} END) * :scale
         / NULLIF(SUM(CASE WHEN s.{{ numerator }} IS NOT NULL THEN s.{{ denominator }} END), 0) AS value
FROM core_stats_enterprise s
WHERE s.period = :period
