{#- Every accepted delivery whose rows the period's indicators and the bulletin read, per table:
    the core rows still carry the id (sha256) of the delivery that last wrote them.
      registry          the roster of year :roster_year
      tax, 企业月报      months :year_start … :period
      主要指标           months :stats_from … :period (earlier years feed 年均增速 and fallbacks)
      projects, 整治台账 events dated up to :period_end (plan-window counts)
      任务月报           months up to :period
    Energy is not read by any indicator and is not listed.
    The three big tables are asked per delivery (does it still carry a row in range?): one index
    probe each on SQLite (indexes led by delivery_id, migration 012_sqlite_read_indexes) instead
    of a year of rows read for their ids; PostgreSQL hashes it (one semi-join per table). -#}
WITH used AS (
    SELECT d.delivery_id, 'registry' AS table_name FROM raw_delivery d
        WHERE EXISTS (SELECT 1 FROM core_registry c
                      WHERE c.delivery_id = d.delivery_id AND c.roster_year = :roster_year)
    UNION
    SELECT d.delivery_id, 'tax' AS table_name FROM raw_delivery d
        WHERE EXISTS (SELECT 1 FROM core_tax c
                      WHERE c.delivery_id = d.delivery_id AND c.period >= :year_start AND c.period <= :period)
    UNION
    SELECT d.delivery_id, 'stats_enterprise' AS table_name FROM raw_delivery d
        WHERE EXISTS (SELECT 1 FROM core_stats_enterprise c
                      WHERE c.delivery_id = d.delivery_id AND c.period >= :year_start AND c.period <= :period)
    UNION
    SELECT DISTINCT delivery_id, 'stats_county' AS table_name FROM core_stats_county
        WHERE period >= :stats_from AND period <= :period
    UNION
    SELECT DISTINCT delivery_id, 'projects' AS table_name FROM core_projects WHERE stage_date <= :period_end
    UNION
    SELECT DISTINCT delivery_id, 'rectification' AS table_name FROM core_rectification WHERE signoff_date <= :period_end
    UNION
    SELECT DISTINCT delivery_id, 'task_report' AS table_name FROM core_task_report WHERE period <= :period
)
SELECT u.table_name, d.delivery_id, d.source, d.file_name, d.received_at, d.file_mtime,
       d.row_count, dt.row_count AS table_rows, dt.periods AS table_periods, d.periods
FROM used u
JOIN raw_delivery d ON d.delivery_id = u.delivery_id
LEFT JOIN delivery_table dt ON dt.delivery_id = u.delivery_id AND dt.table_name = u.table_name
ORDER BY d.source, u.table_name, d.file_mtime, d.file_name, d.delivery_id
