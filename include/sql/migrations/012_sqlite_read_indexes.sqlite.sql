-- 012 (SQLite only): indexes for one month's indicator and bulletin reads at province scale
-- (issue 8). Nothing runs ANALYZE on SQLite, so its planner has no statistics: a read that
-- needs one enterprise's months, or the deliveries behind a year of rows, must find an index
-- that serves it directly, or it walks the year row by row (per_mu.sql did so once per
-- candidate: minutes for 150,000 enterprises). PostgreSQL hashes these reads and does not need
-- the indexes, so its load stays lean.
-- Cost on SQLite at province scale: about 0.3 GB of file (+30 %), and about 1 s more per 150,000-row tax
-- month loaded (the uscc-led index takes rows in no particular order).
-- No index here leads with period or roster_year, so no read that selects by month or roster
-- year changes its access path (or the order it adds rows up in).

-- per_mu.sql (T03 亩均税收 and the bulletin's 亩均 ranking): each 规上 candidate's tax months of
-- year Y, from the index alone (total_tax included), in period order as through the key.
CREATE INDEX core_tax_uscc_period ON core_tax (uscc, period, total_tax);

-- bulletin/deliveries_used.sql: does a delivery still carry rows of the year (or roster)? One
-- probe per delivery instead of reading a year of rows for their delivery ids.
CREATE INDEX core_tax_delivery ON core_tax (delivery_id, period);
CREATE INDEX core_stats_enterprise_delivery ON core_stats_enterprise (delivery_id, period);
CREATE INDEX core_registry_delivery ON core_registry (delivery_id, roster_year);
