{#- Rule above_scale_no_land — a 规上 enterprise of a registry delivery without a land area (the
    亩均效益 evaluation leaves it out). Depends on the registry delivery alone, so it runs at
    ingest on the staged rows of delivery :d (stg_registry) and is stored with the delivery. -#}
SELECT uscc, row_no, roster_year, name FROM stg_registry
WHERE delivery_id = :d AND is_above_scale = 1 AND uscc IS NOT NULL AND (land_mu IS NULL OR land_mu <= 0)
ORDER BY row_no
