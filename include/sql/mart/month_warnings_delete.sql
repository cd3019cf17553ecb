{#- A documented month's warnings, removed before the document step writes them again. -#}
DELETE FROM mart_month_warning WHERE plan_id = :plan_id AND period = :period
