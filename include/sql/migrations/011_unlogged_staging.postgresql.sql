-- 011: staging tables are scratch space inside one write-audit-publish transaction (rows are
-- deleted before it commits), so they need no write-ahead log. UNLOGGED halves the I/O of
-- staging a province-scale month (COPY in, DELETE out); after a crash PostgreSQL empties them,
-- which is exactly their state between deliveries. Core and mart tables stay logged.
ALTER TABLE stg_registry SET UNLOGGED;
ALTER TABLE stg_tax SET UNLOGGED;
ALTER TABLE stg_energy SET UNLOGGED;
ALTER TABLE stg_stats_enterprise SET UNLOGGED;
ALTER TABLE stg_stats_county SET UNLOGGED;
ALTER TABLE stg_projects SET UNLOGGED;
ALTER TABLE stg_rectification SET UNLOGGED;
ALTER TABLE stg_task_report SET UNLOGGED;
