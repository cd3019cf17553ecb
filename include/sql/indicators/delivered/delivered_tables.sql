{#- delivered: which feed tables have ever been delivered (an accepted delivery that carried the
    table, or rows in its core table). Decides between `no_data` (never delivered) and 0 (an event
    list delivered with no event in the window). -#}
SELECT DISTINCT dt.table_name
FROM delivery_table dt
JOIN raw_delivery rd ON rd.delivery_id = dt.delivery_id
WHERE rd.status = 'accepted'
