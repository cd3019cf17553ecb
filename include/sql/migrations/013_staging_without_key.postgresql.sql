-- 013: staging tables lose their primary key (delivery_id, row_no). A stg_ table holds one
-- delivery at a time, inside its write-audit-publish transaction (emptied before commit), so the
-- key enforced nothing the loader does not already guarantee, while maintaining it cost about as
-- much as the COPY itself (150,000-row month: COPY 0.6–1.0 s with the key, 0.16–0.4 s without;
-- measured for issue 8). Every query on stg_ reads the whole (single-delivery) table anyway.

ALTER TABLE stg_registry DROP CONSTRAINT stg_registry_pkey;
ALTER TABLE stg_tax DROP CONSTRAINT stg_tax_pkey;
ALTER TABLE stg_energy DROP CONSTRAINT stg_energy_pkey;
ALTER TABLE stg_stats_enterprise DROP CONSTRAINT stg_stats_enterprise_pkey;
ALTER TABLE stg_stats_county DROP CONSTRAINT stg_stats_county_pkey;
ALTER TABLE stg_projects DROP CONSTRAINT stg_projects_pkey;
ALTER TABLE stg_rectification DROP CONSTRAINT stg_rectification_pkey;
ALTER TABLE stg_task_report DROP CONSTRAINT stg_task_report_pkey;
