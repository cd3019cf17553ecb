SELECT 1 AS has_rows FROM {{ core_table }} LIMIT 1
